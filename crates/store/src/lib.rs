//! Warden's fleet store: enrolled agents, tokens, targets, templates, runs,
//! per-run agents, telemetry, findings and exclusions.
//!
//! Why a crate of its own: the server, its scheduler and (later) the Inspector
//! Classic API all read and write these records, and the database is a
//! deployment choice. [`FleetStore`] is the one interface; [`SqliteStore`] is
//! the embedded backend (WAL, numbered migrations in
//! `migrations/sqlite/NNNN_name.sql` tracked by `PRAGMA user_version`). A
//! PostgreSQL backend implements the same trait beside it: nothing in the
//! trait names a SQLite type, times are plain unix milliseconds and JSON
//! columns are text.
//!
//! Secrets are never stored: API and enroll tokens as SHA-256 hashes
//! ([`token_hash`]), agents by their Ed25519 public key only.
#![deny(missing_docs)]

mod limits;
pub mod model;
mod report_jobs;
mod sqlite;
mod target_network;

use std::collections::BTreeMap;

pub use limits::*;
pub use model::*;
pub use report_jobs::*;
pub use sqlite::SqliteStore;
pub use target_network::*;
use warden_model::Severity;

/// Every store trait, for `use warden_store::prelude::*`: a method of a
/// [`FleetStore`] supertrait is callable (on `dyn FleetStore` too) only with
/// its trait in scope.
pub mod prelude {
    pub use crate::{
        AgentStore, FindingStore, FleetStore, InspectorAgentStore, InspectorFindingStore, InspectorRunStore,
        ReportStore, RunStore, TargetNetworkStore, TargetStore,
    };
}

/// Every store error. The variants say what the caller can do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// No such record (`what`, `id`).
    #[error("{0} {1} does not exist")]
    NotFound(&'static str, String),
    /// The request conflicts with the stored state (a taken name, an illegal
    /// run transition, an exhausted token).
    #[error("{0}")]
    Conflict(String),
    /// Runs still in progress block the change (their ids).
    #[error("runs in progress: {}", .0.join(", "))]
    InProgress(Vec<String>),
    /// One more would go over a configured limit ([`Limits`]); deleting
    /// something (or a run ending, for agents in runs) makes room again.
    #[error("the limit of {1} {0} is reached (warden serve {flag} sets it)", flag = .0.flag())]
    LimitExceeded(LimitKind, u64),
    /// The database failed.
    #[error("database: {0}")]
    Backend(String),
}

/// Result of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Whether a telemetry document was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored now.
    Inserted,
    /// Already stored (a resend); nothing changed.
    Duplicate,
}

/// The fleet store: the union of its domains' traits, so `Arc<dyn FleetStore>`
/// reaches every method. Implementations are internally synchronised; callers
/// in async code run these on a blocking thread.
///
/// Why sub-traits: each domain's SQLite implementation lives in a file of its
/// own (`sqlite_<domain>.rs`) instead of one impl block; callers bring the
/// methods into scope with `use warden_store::prelude::*`.
pub trait FleetStore:
    AgentStore
    + TargetStore
    + RunStore
    + FindingStore
    + InspectorRunStore
    + InspectorFindingStore
    + InspectorAgentStore
    + ReportStore
    + TargetNetworkStore
    + Send
    + Sync
{
    /// The database answers and every migration is applied.
    fn ready(&self) -> Result<()>;
    /// Bytes of database on disk (for benchmarks); 0 when not known.
    fn size_bytes(&self) -> u64;
}

/// API tokens, enroll tokens, agents and their request nonces.
pub trait AgentStore {
    /// Stores an API token hash.
    fn insert_api_token(&self, name: &str, token_hash: &[u8], now: UnixMillis) -> Result<ApiToken>;
    /// Whether an API token hash is known.
    fn api_token_valid(&self, token_hash: &[u8]) -> Result<bool>;
    /// Number of API tokens.
    fn api_token_count(&self) -> Result<u64>;

    /// Stores an enroll token hash.
    fn insert_enroll_token(
        &self,
        token_hash: &[u8],
        uses: u32,
        expires_at: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Result<EnrollToken>;
    /// Uses an enroll token once: `Conflict` when unknown, expired or used up.
    fn consume_enroll_token(&self, token_hash: &[u8], now: UnixMillis) -> Result<()>;
    /// Every enroll token.
    fn list_enroll_tokens(&self) -> Result<Vec<EnrollToken>>;

    /// Stores a new agent.
    fn insert_agent(&self, agent: &Agent) -> Result<()>;
    /// One agent.
    fn get_agent(&self, id: &str) -> Result<Agent>;
    /// Every agent, retired ones included.
    fn list_agents(&self) -> Result<Vec<Agent>>;
    /// Records a heartbeat.
    fn record_heartbeat(
        &self,
        id: &str,
        activity: &str,
        details: Option<&str>,
        host: &AgentHostInfo,
        now: UnixMillis,
    ) -> Result<()>;
    /// Retires an agent: its credentials stop working.
    fn retire_agent(&self, id: &str, now: UnixMillis) -> Result<Agent>;
    /// Remembers a request nonce; false when it was already seen (a replay).
    fn remember_nonce(&self, agent_id: &str, nonce: &str, now: UnixMillis) -> Result<bool>;
    /// Forgets nonces seen before `before`.
    fn prune_nonces(&self, before: UnixMillis) -> Result<u64>;
}

/// Resource groups, targets and (fleet API) templates.
pub trait TargetStore {
    /// Makes a resource group.
    fn create_resource_group(&self, tags: &[Attribute], now: UnixMillis) -> Result<ResourceGroup>;
    /// One resource group.
    fn get_resource_group(&self, id: &str) -> Result<ResourceGroup>;

    /// Makes a target (`Conflict` when the name is taken).
    fn create_target(
        &self,
        name: &str,
        resource_group_id: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target>;
    /// Makes a target whose agents are also selected by `tags` (through a new
    /// resource group; none when `tags` is empty), group and target in one
    /// transaction: when the target is refused (`LimitExceeded`, a taken
    /// name) no group is left behind to count toward the group limit.
    fn create_target_with_tags(
        &self,
        name: &str,
        tags: &[Attribute],
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target>;
    /// One target.
    fn get_target(&self, id: &str) -> Result<Target>;
    /// Every target.
    fn list_targets(&self) -> Result<Vec<Target>>;
    /// Replaces a target's name and selection.
    fn update_target(
        &self,
        id: &str,
        name: &str,
        resource_group_id: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target>;
    /// Deletes a target with its templates, runs and findings (`InProgress` while a run of it is).
    fn delete_target(&self, id: &str) -> Result<()>;

    /// Makes a template (`Conflict` when the name is taken for the target).
    fn create_template(&self, template: &NewTemplate, now: UnixMillis) -> Result<Template>;
    /// One template.
    fn get_template(&self, id: &str) -> Result<Template>;
    /// Templates, of one target or all.
    fn list_templates(&self, target_id: Option<&str>) -> Result<Vec<Template>>;
    /// Deletes a template with its runs and findings (`InProgress` while a run of it is).
    fn delete_template(&self, id: &str) -> Result<()>;
}

/// Runs, the agents of each run and the telemetry they send.
pub trait RunStore {
    /// Makes a run of a template in state CREATED (name default: "Run N for TEMPLATE").
    fn create_run(&self, template_id: &str, name: Option<&str>, now: UnixMillis) -> Result<Run>;
    /// One run with its state history.
    fn get_run(&self, id: &str) -> Result<Run>;
    /// Runs, of one template or all, newest first.
    fn list_runs(&self, template_id: Option<&str>) -> Result<Vec<Run>>;
    /// Ids of runs not in a terminal state (what the scheduler drives).
    fn active_run_ids(&self) -> Result<Vec<String>>;
    /// Moves a run from `from` to `to` (both checked: current state and
    /// [`can_transition`]), records the change and applies `update`, atomically.
    fn transition_run(
        &self,
        id: &str,
        from: RunState,
        to: RunState,
        update: &RunUpdate,
        now: UnixMillis,
    ) -> Result<Run>;
    /// Records a stop request on a non-terminal run (`Conflict` on a terminal one).
    fn request_stop(&self, id: &str, action: StopAction, now: UnixMillis) -> Result<Run>;
    /// Deletes a run and its findings (`InProgress` unless terminal).
    fn delete_run(&self, id: &str) -> Result<()>;
    /// Runs per state.
    fn run_state_counts(&self) -> Result<BTreeMap<RunState, u64>>;

    /// Assigns agents to a run (status pending).
    fn assign_run_agents(&self, run_id: &str, agent_ids: &[String], now: UnixMillis) -> Result<()>;
    /// The agents of a run, with telemetry counts.
    fn list_run_agents(&self, run_id: &str) -> Result<Vec<RunAgent>>;
    /// One agent of a run.
    fn get_run_agent(&self, run_id: &str, agent_id: &str) -> Result<RunAgent>;
    /// The runs (with this agent's row) an agent takes part in whose state accepts telemetry.
    fn agent_active_runs(&self, agent_id: &str) -> Result<Vec<(Run, RunAgent)>>;
    /// Records what an agent reported about a run.
    fn record_run_progress(
        &self,
        run_id: &str,
        agent_id: &str,
        phase: &str,
        last_seq: Option<u64>,
        error: Option<&str>,
        now: UnixMillis,
    ) -> Result<()>;
    /// Sets an agent's collection status in a run.
    fn set_run_agent_status(
        &self,
        run_id: &str,
        agent_id: &str,
        status: RunAgentStatus,
        details: Option<&str>,
    ) -> Result<()>;

    /// Stores a telemetry document, idempotent on (run, agent, seq).
    fn put_telemetry(
        &self,
        run_id: &str,
        agent_id: &str,
        seq: u64,
        kind: &str,
        body: &str,
        now: UnixMillis,
    ) -> Result<PutOutcome>;
    /// Number of documents and highest seq received from an agent for a run.
    fn telemetry_progress(&self, run_id: &str, agent_id: &str) -> Result<(u64, Option<u64>)>;
    /// Every document from an agent for a run, in seq order.
    fn telemetry_documents(&self, run_id: &str, agent_id: &str) -> Result<Vec<TelemetryRecord>>;
}

/// Findings and exclusions of runs.
pub trait FindingStore {
    /// Stores findings for a run.
    fn insert_findings(&self, run_id: &str, findings: &[NewFinding], now: UnixMillis) -> Result<Vec<String>>;
    /// Findings matching the query, most severe first.
    fn list_findings(&self, query: &FindingQuery) -> Result<Vec<Finding>>;
    /// One finding.
    fn get_finding(&self, id: &str) -> Result<Finding>;
    /// Replaces a finding's user attributes.
    fn set_finding_user_attributes(&self, id: &str, attributes: &[Attribute], now: UnixMillis) -> Result<Finding>;
    /// Per-severity counts for a run, every severity present.
    fn finding_counts(&self, run_id: &str) -> Result<BTreeMap<Severity, u64>>;
    /// Deletes a run's findings and exclusions (before evaluating it again).
    fn clear_run_results(&self, run_id: &str) -> Result<()>;
    /// Records that a package was not evaluated for an agent.
    fn add_exclusion(&self, exclusion: &Exclusion) -> Result<()>;
    /// A run's exclusions.
    fn list_exclusions(&self, run_id: &str) -> Result<Vec<Exclusion>>;
}

/// Inspector API: templates, tags and runs (migration 0002).
pub trait InspectorRunStore {
    /// Makes a template for the Inspector API, keeping the rules package ARNs
    /// as the caller gave them (`Conflict` when the name is taken for the target).
    fn create_inspector_template(
        &self,
        template: &NewTemplate,
        rules_package_arns: &[String],
        now: UnixMillis,
    ) -> Result<Template>;
    /// The rules package ARNs a template was created with (`None`: made by the fleet API).
    fn template_rules_package_arns(&self, template_id: &str) -> Result<Option<Vec<String>>>;
    /// How many runs a template has and its newest run.
    fn template_run_summary(&self, template_id: &str) -> Result<TemplateRunSummary>;
    /// A template's tags, in the order they were set.
    fn template_tags(&self, template_id: &str) -> Result<Vec<Attribute>>;
    /// Replaces a template's tags with `tags` (empty: none).
    fn set_template_tags(&self, template_id: &str, tags: &[Attribute]) -> Result<()>;
    /// Atomically: unless one of `agent_ids` is in a run not yet ended
    /// ([`RunStart::AgentsBusy`], nothing created), makes a run of the
    /// template in state CREATED (name as [`RunStore::create_run`]) with
    /// those agents assigned.
    fn start_exclusive_run(
        &self,
        template_id: &str,
        name: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<RunStart>;
    /// At most `limit` runs matching `query`, newest first, strictly after `after`.
    fn page_runs(&self, query: &RunQuery, after: Option<&RunPageKey>, limit: usize) -> Result<Vec<RunRef>>;
}

/// Inspector API: findings (migration 0003).
pub trait InspectorFindingStore {
    /// One page of findings in id order with the ids of their ARNs
    /// (`ListFindings`); SQL over indexes, never every finding.
    fn list_finding_keys(&self, query: &FindingPageQuery) -> Result<Vec<FindingKey>>;
    /// The findings of `ids` that exist, with their ARN ids and system
    /// attributes, in no particular order (`DescribeFindings`).
    fn describe_findings(&self, ids: &[String]) -> Result<Vec<FindingDetail>>;
    /// Adds `add` (a key already present gets the new value) and removes the
    /// keys `remove` from each finding's user attributes, in one transaction;
    /// a finding whose result would hold more than `max` attributes is left
    /// as it was. One outcome per id, in order; `updated_at` = `now` where updated.
    fn edit_finding_user_attributes(
        &self,
        ids: &[String],
        add: &[Attribute],
        remove: &[String],
        max: usize,
        now: UnixMillis,
    ) -> Result<Vec<UserAttributeEdit>>;
}

/// Inspector API: agents, exclusions, event notifications, account (migration 0004).
pub trait InspectorAgentStore {
    /// A run's exclusions in id order, after the id `after`, at most `limit`.
    fn exclusions_page(&self, run_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<ExclusionRecord>>;
    /// One exclusion of a run by id.
    fn get_exclusion(&self, run_id: &str, exclusion_id: &str) -> Result<ExclusionRecord>;
    /// Telemetry received for a run from all its agents, per kind.
    fn run_telemetry(&self, run_id: &str) -> Result<Vec<TelemetryCount>>;
    /// The newest host snapshot an agent sent, in any run.
    fn latest_snapshot(&self, agent_id: &str) -> Result<Option<TelemetryRecord>>;
    /// Starts an exclusions preview job (work in progress).
    fn create_exclusion_preview(&self, token: &str, template_id: &str, now: UnixMillis) -> Result<ExclusionPreviewJob>;
    /// Stores a preview's items and marks it completed, atomically.
    fn complete_exclusion_preview(&self, token: &str, items: &[PreviewItem], now: UnixMillis) -> Result<()>;
    /// One preview job.
    fn get_exclusion_preview(&self, token: &str) -> Result<ExclusionPreviewJob>;
    /// A preview's items from `offset`, at most `limit`, in the order stored.
    fn exclusion_preview_items(&self, token: &str, offset: u64, limit: usize) -> Result<Vec<PreviewItem>>;
    /// Ids of runs whose events are not all published yet (oldest first, at most `limit`).
    fn runs_with_unpublished_events(&self, limit: usize) -> Result<Vec<String>>;
    /// How far the event publisher got with a run.
    fn run_event_progress(&self, run_id: &str) -> Result<RunEventProgress>;
    /// Records one publisher step and appends its notifications to the run, atomically.
    fn record_published_event(
        &self,
        run_id: &str,
        step: &PublishedStep,
        notifications: &[RunNotification],
    ) -> Result<()>;
    /// A run's finding ids in id order, after `after`, at most `limit`.
    fn finding_ids_after(&self, run_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    /// A run's notifications, oldest first, at most `limit`.
    fn run_notifications(&self, run_id: &str, limit: usize) -> Result<Vec<RunNotification>>;
    /// Registers the cross-account role (replacing any earlier one).
    fn set_cross_account_role(&self, role_arn: &str, now: UnixMillis) -> Result<CrossAccountRole>;
    /// The registered cross-account role, if any.
    fn cross_account_role(&self) -> Result<Option<CrossAccountRole>>;
}

/// Inspector API: reports (migration 0005).
pub trait ReportStore {
    /// Replaces every rule outcome stored for a run (after evaluating it).
    fn replace_rule_outcomes(&self, run_id: &str, outcomes: &[RunRuleOutcome]) -> Result<()>;
    /// A run's rule outcomes, agent by agent, in evaluation order.
    fn list_rule_outcomes(&self, run_id: &str) -> Result<Vec<RunRuleOutcome>>;
    /// A text that changes whenever what a report of the run shows may have
    /// changed: the run's state and state time, its number of findings and
    /// rule outcomes, and a counter of updates to its findings.
    fn report_source_revision(&self, run_id: &str) -> Result<String>;
    /// The report job of (run, format, type), if any.
    fn find_report_job(&self, run_id: &str, file_format: &str, report_type: &str) -> Result<Option<ReportJob>>;
    /// One report job.
    fn get_report_job(&self, id: &str) -> Result<ReportJob>;
    /// Puts the job of (run, format, type) in WORK_IN_PROGRESS for
    /// `source_revision`, creating it if needed (its id is kept across regenerations).
    fn start_report_job(
        &self,
        run_id: &str,
        file_format: &str,
        report_type: &str,
        source_revision: &str,
        now: UnixMillis,
    ) -> Result<ReportJob>;
    /// Records how a job ended.
    fn finish_report_job(&self, id: &str, result: &ReportJobResult, now: UnixMillis) -> Result<ReportJob>;
}

// (migration 0006) per-target network data: [`TargetNetworkStore`] in
// `target_network.rs`. A new domain gets a trait of its own here, added to
// [`FleetStore`]'s supertraits and to [`prelude`].

/// SHA-256 of a token: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Random bytes from the system generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).expect("the system random generator failed");
    out
}

/// An Inspector-shaped id: `0-` and 8 characters of `[A-Za-z0-9]`, so ARNs
/// like `arn:aws:inspector:REGION:ACCOUNT:target/0-abcdEFGH` derive from it.
pub fn new_id() -> String {
    // 62 does not divide 256: rejection sampling keeps the characters uniform.
    let mut id = String::from("0-");
    while id.len() < 10 {
        for b in random_bytes::<16>() {
            if (b as usize) < 248 && id.len() < 10 {
                id.push(ID_ALPHABET[b as usize % 62] as char);
            }
        }
    }
    id
}

/// An agent id: `i-` and 17 lowercase hex digits, the shape of the EC2
/// instance ids that were Inspector's agent ids.
pub fn new_agent_id() -> String {
    let hex = hex_encode(&random_bytes::<9>());
    format!("i-{}", &hex[..17])
}

/// Lowercase hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a string is an id of [`new_id`]'s shape.
pub fn is_inspector_id(s: &str) -> bool {
    s.len() == 10 && s.starts_with("0-") && s[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_inspector_shape() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let id = new_id();
            assert!(is_inspector_id(&id), "{id}");
            assert!(seen.insert(id));
        }
        let a = new_agent_id();
        assert_eq!(a.len(), 19);
        assert!(a.starts_with("i-") && a[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn token_hash_is_sha256() {
        assert_eq!(hex_encode(&token_hash("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
