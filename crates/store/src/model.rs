//! The fleet's entities as plain values: agents, targets, templates, runs,
//! per-run agents, telemetry counts, findings; the run state machine and the
//! agent health derivation.
//!
//! Why they are plain values apart from the backends: the server, the CLI's
//! JSON output and (later) the Inspector Classic API all read the same
//! records, whichever database holds them. Every field Inspector exposes has
//! a home here (see `/work/shared/spec/inspector-classic.md` §2-7 and
//! `docs/fleet/README.md`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
pub use warden_model::fleet::AgentHostInfo;
use warden_model::{Evidence, Severity};

/// Unix time in milliseconds.
pub type UnixMillis = i64;

/// Inspector's assessment run states, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunState {
    /// Created by a start request.
    Created,
    /// Agents resolved; waiting to tell them.
    StartDataCollectionPending,
    /// Agents are being told (their heartbeats carry the assignment).
    StartDataCollectionInProgress,
    /// Agents collect until the deadline; `started_at` is set.
    CollectingData,
    /// Deadline reached or stop requested; waiting for agents to finish.
    StopDataCollectionPending,
    /// Every agent finished, failed or timed out.
    DataCollected,
    /// Queued for evaluation.
    StartEvaluatingRulesPending,
    /// Rules packages being evaluated.
    EvaluatingRules,
    /// Terminal: could not run (e.g. no agent matched, or none delivered data).
    Failed,
    /// Terminal: internal error.
    Error,
    /// Terminal: evaluated, every agent delivered.
    Completed,
    /// Terminal: evaluated, but some agent failed or timed out.
    CompletedWithErrors,
    /// Terminal: stopped without evaluation.
    Canceled,
}

impl RunState {
    /// Every state, in lifecycle order.
    pub const ALL: [RunState; 13] = [
        RunState::Created,
        RunState::StartDataCollectionPending,
        RunState::StartDataCollectionInProgress,
        RunState::CollectingData,
        RunState::StopDataCollectionPending,
        RunState::DataCollected,
        RunState::StartEvaluatingRulesPending,
        RunState::EvaluatingRules,
        RunState::Failed,
        RunState::Error,
        RunState::Completed,
        RunState::CompletedWithErrors,
        RunState::Canceled,
    ];

    /// Inspector's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Created => "CREATED",
            RunState::StartDataCollectionPending => "START_DATA_COLLECTION_PENDING",
            RunState::StartDataCollectionInProgress => "START_DATA_COLLECTION_IN_PROGRESS",
            RunState::CollectingData => "COLLECTING_DATA",
            RunState::StopDataCollectionPending => "STOP_DATA_COLLECTION_PENDING",
            RunState::DataCollected => "DATA_COLLECTED",
            RunState::StartEvaluatingRulesPending => "START_EVALUATING_RULES_PENDING",
            RunState::EvaluatingRules => "EVALUATING_RULES",
            RunState::Failed => "FAILED",
            RunState::Error => "ERROR",
            RunState::Completed => "COMPLETED",
            RunState::CompletedWithErrors => "COMPLETED_WITH_ERRORS",
            RunState::Canceled => "CANCELED",
        }
    }

    /// No transition leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunState::Failed
                | RunState::Error
                | RunState::Completed
                | RunState::CompletedWithErrors
                | RunState::Canceled
        )
    }

    /// States in which agents may deliver telemetry.
    pub fn accepts_telemetry(self) -> bool {
        matches!(
            self,
            RunState::StartDataCollectionInProgress | RunState::CollectingData | RunState::StopDataCollectionPending
        )
    }

    /// The one forward step of a successful run from this state, if any.
    pub fn next(self) -> Option<RunState> {
        Some(match self {
            RunState::Created => RunState::StartDataCollectionPending,
            RunState::StartDataCollectionPending => RunState::StartDataCollectionInProgress,
            RunState::StartDataCollectionInProgress => RunState::CollectingData,
            RunState::CollectingData => RunState::StopDataCollectionPending,
            RunState::StopDataCollectionPending => RunState::DataCollected,
            RunState::DataCollected => RunState::StartEvaluatingRulesPending,
            RunState::StartEvaluatingRulesPending => RunState::EvaluatingRules,
            RunState::EvaluatingRules => RunState::Completed,
            _ => return None,
        })
    }
}

/// Whether `from → to` is a legal run transition: the forward chain
/// CREATED → … → EVALUATING_RULES → COMPLETED | COMPLETED_WITH_ERRORS, and
/// from any non-terminal state to CANCELED, FAILED or ERROR. Nothing leaves a
/// terminal state; no state is skipped or revisited.
pub fn can_transition(from: RunState, to: RunState) -> bool {
    if from.is_terminal() {
        return false;
    }
    if matches!(to, RunState::Canceled | RunState::Failed | RunState::Error) {
        return true;
    }
    if from == RunState::EvaluatingRules && to == RunState::CompletedWithErrors {
        return true;
    }
    from.next() == Some(to)
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunState::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown run state {s:?}"))
    }
}

/// How a run is stopped early (Inspector's `StopAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StopAction {
    /// Stop collecting and evaluate what was collected.
    StartEvaluation,
    /// Cancel: no evaluation, state CANCELED.
    SkipEvaluation,
}

impl StopAction {
    /// Inspector's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StopAction::StartEvaluation => "START_EVALUATION",
            StopAction::SkipEvaluation => "SKIP_EVALUATION",
        }
    }
}

impl FromStr for StopAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "START_EVALUATION" => Ok(StopAction::StartEvaluation),
            "SKIP_EVALUATION" => Ok(StopAction::SkipEvaluation),
            _ => Err(format!("unknown stop action {s:?}")),
        }
    }
}

/// One recorded state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// The state entered.
    pub state: RunState,
    /// When.
    pub changed_at: UnixMillis,
}

/// A key with an optional value: template user attributes, finding
/// attributes (Inspector's `Attribute`), resource-group tags.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attribute {
    /// Key.
    pub key: String,
    /// Value; a resource-group tag without one matches any value of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Attribute {
    /// A key with a value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute { key: key.into(), value: Some(value.into()) }
    }
}

/// A stored API bearer token (its hash only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// When it was made.
    pub created_at: UnixMillis,
}

/// A stored enroll token (its hash is never returned).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollToken {
    /// Id.
    pub id: String,
    /// Enrollments still allowed.
    pub uses_left: u32,
    /// Enrollments done.
    pub uses: u32,
    /// Expiry, if any.
    pub expires_at: Option<UnixMillis>,
    /// When it was made.
    pub created_at: UnixMillis,
}

/// An enrolled agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Agent id (`i-` + 17 hex, EC2 instance-id shaped, as Inspector's agent ids were).
    pub id: String,
    /// Ed25519 public key, 32 bytes.
    #[serde(skip)]
    pub public_key: Vec<u8>,
    /// Tags targets select on.
    pub tags: BTreeMap<String, String>,
    /// The host.
    pub host: AgentHostInfo,
    /// Enrollment time.
    pub enrolled_at: UnixMillis,
    /// Last heartbeat.
    pub last_heartbeat_at: Option<UnixMillis>,
    /// Last reported activity (`idle`, `running`, `throttled`, `shutdown`, `unhealthy`).
    pub activity: Option<String>,
    /// Free text with the activity.
    pub activity_details: Option<String>,
    /// When retired; a retired agent is refused and selected by no target.
    pub retired_at: Option<UnixMillis>,
}

/// Inspector's agent health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentHealth {
    /// Heartbeats arrive and the agent reports no problem.
    Healthy,
    /// Heartbeats stopped, or the agent reports a problem or shut down.
    Unhealthy,
    /// Nothing known (never heard from, or silent for a day).
    Unknown,
}

/// Inspector's agent health code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentHealthCode {
    /// Healthy, not in a run.
    Idle,
    /// Healthy, collecting for a run.
    Running,
    /// The agent said it is stopping.
    Shutdown,
    /// Silent too long, or reporting errors.
    Unhealthy,
    /// The agent is holding back its own telemetry.
    Throttled,
    /// Nothing known.
    Unknown,
}

impl AgentHealth {
    /// Inspector's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentHealth::Healthy => "HEALTHY",
            AgentHealth::Unhealthy => "UNHEALTHY",
            AgentHealth::Unknown => "UNKNOWN",
        }
    }
}

impl AgentHealthCode {
    /// Inspector's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentHealthCode::Idle => "IDLE",
            AgentHealthCode::Running => "RUNNING",
            AgentHealthCode::Shutdown => "SHUTDOWN",
            AgentHealthCode::Unhealthy => "UNHEALTHY",
            AgentHealthCode::Throttled => "THROTTLED",
            AgentHealthCode::Unknown => "UNKNOWN",
        }
    }
}

/// Heartbeat ages that change an agent's health (documented in
/// `docs/fleet/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthThresholds {
    /// Silent longer than this (ms): UNHEALTHY / UNHEALTHY.
    pub unhealthy_after: i64,
    /// Silent longer than this (ms): UNKNOWN / UNKNOWN.
    pub unknown_after: i64,
}

impl HealthThresholds {
    /// Three missed heartbeats (and at least 10 s, so a busy host's
    /// scheduling jitter is not silence) make an agent unhealthy; a silent day
    /// makes it unknown.
    pub fn for_heartbeat(heartbeat_seconds: u64) -> Self {
        let unhealthy_after = (3 * heartbeat_seconds as i64 * 1000).max(10_000);
        HealthThresholds { unhealthy_after, unknown_after: 24 * 3600 * 1000 }
    }
}

impl Agent {
    /// Health and health code at `now`, from heartbeat freshness and the
    /// reported activity, with a one-line reason.
    pub fn health(&self, now: UnixMillis, t: HealthThresholds) -> (AgentHealth, AgentHealthCode, String) {
        let Some(last) = self.last_heartbeat_at else {
            return (AgentHealth::Unknown, AgentHealthCode::Unknown, "no heartbeat received yet".into());
        };
        let age = now.saturating_sub(last);
        if self.retired_at.is_some() {
            return (AgentHealth::Unknown, AgentHealthCode::Unknown, "retired".into());
        }
        if age > t.unknown_after {
            return (AgentHealth::Unknown, AgentHealthCode::Unknown, format!("no heartbeat for {} s", age / 1000));
        }
        if self.activity.as_deref() == Some("shutdown") {
            return (AgentHealth::Unhealthy, AgentHealthCode::Shutdown, "the agent reported it stopped".into());
        }
        if age > t.unhealthy_after {
            return (AgentHealth::Unhealthy, AgentHealthCode::Unhealthy, format!("no heartbeat for {} s", age / 1000));
        }
        let details = self.activity_details.clone().unwrap_or_default();
        match self.activity.as_deref() {
            Some("running") => (AgentHealth::Healthy, AgentHealthCode::Running, details),
            Some("throttled") => (AgentHealth::Healthy, AgentHealthCode::Throttled, details),
            Some("unhealthy") => (AgentHealth::Unhealthy, AgentHealthCode::Unhealthy, details),
            _ => (AgentHealth::Healthy, AgentHealthCode::Idle, details),
        }
    }
}

/// A resource group: tag pairs an agent may match (Inspector's `ResourceGroup`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Id.
    pub id: String,
    /// Tag pairs; an agent matching any one pair is selected.
    pub tags: Vec<Attribute>,
    /// When made.
    pub created_at: UnixMillis,
}

impl ResourceGroup {
    /// Whether the agent's tags match any pair (a pair without a value
    /// matches any value of its key).
    pub fn matches(&self, agent_tags: &BTreeMap<String, String>) -> bool {
        self.tags.iter().any(|t| match agent_tags.get(&t.key) {
            Some(v) => t.value.as_ref().is_none_or(|want| want == v),
            None => false,
        })
    }
}

/// An assessment target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The resource group selecting by tags, if any.
    pub resource_group_id: Option<String>,
    /// Agents selected by id.
    pub agent_ids: Vec<String>,
    /// When made.
    pub created_at: UnixMillis,
    /// When last changed.
    pub updated_at: UnixMillis,
}

impl Target {
    /// Whether the target selects the agent (semantics in
    /// `docs/fleet/README.md`): never a retired agent; every agent when the
    /// target has neither a resource group nor agent ids (Inspector's "all
    /// instances"); otherwise an agent named by id or matching the group.
    pub fn selects(&self, group: Option<&ResourceGroup>, agent: &Agent) -> bool {
        if agent.retired_at.is_some() {
            return false;
        }
        if group.is_none() && self.agent_ids.is_empty() {
            return true;
        }
        self.agent_ids.iter().any(|id| id == &agent.id) || group.is_some_and(|g| g.matches(&agent.tags))
    }
}

/// An assessment template; immutable once made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Id.
    pub id: String,
    /// The target.
    pub target_id: String,
    /// Name, unique per target.
    pub name: String,
    /// Collection duration, seconds.
    pub duration_seconds: u64,
    /// Runtime sampling interval, seconds.
    pub sampling_interval_seconds: u64,
    /// Rules package ids.
    pub packages: Vec<String>,
    /// Attributes added to every finding.
    pub user_attributes: Vec<Attribute>,
    /// When made.
    pub created_at: UnixMillis,
}

/// What a template is made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTemplate {
    /// The target.
    pub target_id: String,
    /// Name.
    pub name: String,
    /// Duration, seconds.
    pub duration_seconds: u64,
    /// Sampling interval, seconds.
    pub sampling_interval_seconds: u64,
    /// Package ids.
    pub packages: Vec<String>,
    /// User attributes for findings.
    pub user_attributes: Vec<Attribute>,
}

/// An assessment run. Duration, packages and user attributes are copies of
/// the template's, as Inspector's runs carry them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Id.
    pub id: String,
    /// The template.
    pub template_id: String,
    /// The template's target.
    pub target_id: String,
    /// Name, unique per template.
    pub name: String,
    /// Current state.
    pub state: RunState,
    /// Collection duration, seconds.
    pub duration_seconds: u64,
    /// Sampling interval, seconds.
    pub sampling_interval_seconds: u64,
    /// Package ids.
    pub packages: Vec<String>,
    /// User attributes for findings.
    pub user_attributes: Vec<Attribute>,
    /// Created.
    pub created_at: UnixMillis,
    /// Entered COLLECTING_DATA.
    pub started_at: Option<UnixMillis>,
    /// Collection deadline (`started_at` + duration).
    pub collect_until: Option<UnixMillis>,
    /// When a stop was requested.
    pub stop_requested_at: Option<UnixMillis>,
    /// The stop requested, if any.
    pub stop_action: Option<StopAction>,
    /// Reached a terminal state.
    pub completed_at: Option<UnixMillis>,
    /// Last state change.
    pub state_changed_at: UnixMillis,
    /// Some telemetry was collected.
    pub data_collected: bool,
    /// Why the run failed or ended with errors.
    pub failure: Option<String>,
    /// Every state entered, in order, with its time.
    pub state_changes: Vec<StateChange>,
}

/// Fields set together with a state change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunUpdate {
    /// Set `started_at`.
    pub started_at: Option<UnixMillis>,
    /// Set `collect_until`.
    pub collect_until: Option<UnixMillis>,
    /// Set `data_collected`.
    pub data_collected: Option<bool>,
    /// Set `failure`.
    pub failure: Option<String>,
}

/// An agent's collection status in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunAgentStatus {
    /// Assigned; nothing received yet.
    Pending,
    /// Telemetry arriving.
    Collecting,
    /// Finished and every document received.
    Collected,
    /// The agent reported a failure.
    Failed,
    /// The agent stopped reporting.
    TimedOut,
}

impl RunAgentStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunAgentStatus::Pending => "pending",
            RunAgentStatus::Collecting => "collecting",
            RunAgentStatus::Collected => "collected",
            RunAgentStatus::Failed => "failed",
            RunAgentStatus::TimedOut => "timed_out",
        }
    }
    /// Collected, failed or timed out.
    pub fn is_final(self) -> bool {
        matches!(self, RunAgentStatus::Collected | RunAgentStatus::Failed | RunAgentStatus::TimedOut)
    }
}

impl FromStr for RunAgentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => RunAgentStatus::Pending,
            "collecting" => RunAgentStatus::Collecting,
            "collected" => RunAgentStatus::Collected,
            "failed" => RunAgentStatus::Failed,
            "timed_out" => RunAgentStatus::TimedOut,
            _ => return Err(format!("unknown run agent status {s:?}")),
        })
    }
}

/// Telemetry received from one agent, per message kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryCount {
    /// Kind (`snapshot`, `runtime`); Inspector's `messageType`.
    pub kind: String,
    /// Documents.
    pub count: u64,
    /// Bytes of JSON.
    pub bytes: u64,
}

/// One agent in one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAgent {
    /// The run.
    pub run_id: String,
    /// The agent.
    pub agent_id: String,
    /// Collection status.
    pub status: RunAgentStatus,
    /// Why it failed or timed out.
    pub status_details: Option<String>,
    /// What the agent last reported (`collecting`, `finished`, `failed`).
    pub reported_phase: Option<String>,
    /// The highest sequence number the agent said it produced.
    pub reported_last_seq: Option<u64>,
    /// Assigned.
    pub assigned_at: UnixMillis,
    /// Last heartbeat or telemetry about this run.
    pub last_contact_at: Option<UnixMillis>,
    /// First document.
    pub first_telemetry_at: Option<UnixMillis>,
    /// Last document.
    pub last_telemetry_at: Option<UnixMillis>,
    /// Documents received per kind.
    pub telemetry: Vec<TelemetryCount>,
}

/// One stored telemetry document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryRecord {
    /// Sequence number.
    pub seq: u64,
    /// Kind.
    pub kind: String,
    /// The JSON text as received.
    pub body: String,
}

/// What was known of the asset when a finding was made (Inspector's `AssetAttributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetAttributes {
    /// Agent id.
    pub agent_id: String,
    /// Host name.
    pub hostname: Option<String>,
    /// IPv4 addresses.
    pub ipv4_addresses: Vec<String>,
    /// Agent tags.
    pub tags: Vec<Attribute>,
}

/// A finding to store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewFinding {
    /// The agent.
    pub agent_id: String,
    /// Package id (`best-practices`, `cve`, `cis`, `runtime`, ...).
    pub package: String,
    /// Rule id (Inspector's finding `id`).
    pub rule_id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Numeric severity (0-10).
    pub numeric_severity: f64,
    /// Description.
    pub description: String,
    /// Recommendation.
    pub recommendation: String,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// System attributes.
    pub attributes: Vec<Attribute>,
    /// User attributes (the run's, then edits).
    pub user_attributes: Vec<Attribute>,
    /// The asset.
    pub asset: AssetAttributes,
}

/// A stored finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Id.
    pub id: String,
    /// The run.
    pub run_id: String,
    /// Everything else.
    #[serde(flatten)]
    pub finding: NewFinding,
    /// Created.
    pub created_at: UnixMillis,
    /// Last changed (user attributes).
    pub updated_at: UnixMillis,
}

/// Which findings to list; empty lists do not constrain, fields are AND-ed,
/// values in one list OR-ed (as Inspector's `FindingFilter`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingQuery {
    /// Runs.
    pub run_ids: Vec<String>,
    /// Agents.
    pub agent_ids: Vec<String>,
    /// Package ids.
    pub packages: Vec<String>,
    /// Rule ids.
    pub rule_ids: Vec<String>,
    /// Severities.
    pub severities: Vec<Severity>,
}

/// The EC2 tag naming an instance's Auto Scaling group: Inspector's
/// `autoScalingGroup` of a finding's asset.
pub const AUTO_SCALING_GROUP_TAG: &str = "aws:autoscaling:groupName";

/// One page of the Inspector API's `ListFindings`: every field is AND-ed,
/// the values of one list OR-ed; `None` does not constrain, `Some(empty)`
/// matches nothing (a filter whose values all named nothing Warden has).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPageQuery {
    /// Runs.
    pub run_ids: Option<Vec<String>>,
    /// Agents.
    pub agent_ids: Option<Vec<String>>,
    /// Auto Scaling groups (the asset's `aws:autoscaling:groupName` tag).
    pub auto_scaling_groups: Option<Vec<String>>,
    /// Rule ids (Inspector's rule names).
    pub rule_ids: Option<Vec<String>>,
    /// Severities.
    pub severities: Option<Vec<Severity>>,
    /// Package ids.
    pub packages: Option<Vec<String>>,
    /// System attributes that must all be present; one without a value
    /// matches the key with any value.
    pub attributes: Vec<Attribute>,
    /// User attributes that must all be present (same rule).
    pub user_attributes: Vec<Attribute>,
    /// Created at or after.
    pub created_from: Option<UnixMillis>,
    /// Created at or before.
    pub created_until: Option<UnixMillis>,
    /// Only findings whose id sorts after this one (keyset paging).
    pub after: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// A listed finding and the ids its Inspector ARN is made of.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    /// The finding.
    pub id: String,
    /// Its run.
    pub run_id: String,
    /// The run's template.
    pub template_id: String,
    /// The template's target.
    pub target_id: String,
}

/// A finding as the Inspector API describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingDetail {
    /// Its ids.
    pub key: FindingKey,
    /// The record.
    pub finding: Finding,
    /// The system attributes in order: the finding's own, then its evidence
    /// (`EVIDENCE_<n>`, `_FILE`, `_LINE`, `_TEXT`, `_DEFAULT`), as
    /// `ListFindings` filters on them.
    pub system_attributes: Vec<Attribute>,
}

/// What an edit of user attributes did to one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserAttributeEdit {
    /// Changed (and `updated_at` set).
    Updated,
    /// No such finding.
    NotFound,
    /// The result would have more attributes than allowed; nothing changed.
    LimitExceeded,
}

/// Why a package was not evaluated for an agent in a run (Inspector's exclusions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// The run.
    pub run_id: String,
    /// The agent.
    pub agent_id: String,
    /// The package id.
    pub package: String,
    /// Why.
    pub reason: String,
    /// When recorded.
    pub created_at: UnixMillis,
    /// What kind of obstacle (a short code such as `no-vulnerability-database`;
    /// the server maps it to Inspector's title and recommendation). Empty or
    /// `other` when not classified.
    #[serde(default)]
    pub kind: String,
}

/// A stored exclusion with its Inspector-shaped id (`0-` + 8 characters),
/// the last segment of its ARN `.../run/R/exclusion/E`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionRecord {
    /// Id, unique within the run.
    pub id: String,
    /// The exclusion.
    #[serde(flatten)]
    pub exclusion: Exclusion,
}

/// An exclusions preview job (`CreateExclusionsPreview`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionPreviewJob {
    /// The preview token (a UUID).
    pub token: String,
    /// The template previewed.
    pub template_id: String,
    /// Whether the items are all stored.
    pub completed: bool,
    /// Requested.
    pub created_at: UnixMillis,
    /// Finished.
    pub completed_at: Option<UnixMillis>,
}

/// One exclusion a preview found: a package that could not run on an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewItem {
    /// The agent.
    pub agent_id: String,
    /// The package id.
    pub package: String,
    /// Kind code (as [`Exclusion::kind`]).
    pub kind: String,
    /// Why.
    pub reason: String,
}

/// How far the event publisher got with one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEventProgress {
    /// `ASSESSMENT_RUN_STARTED` published.
    pub started_published: bool,
    /// Entries of the run's state history covered by `ASSESSMENT_RUN_STATE_CHANGED`
    /// (entry 0, the initial CREATED, is never an event, so at least 1).
    pub state_changes_published: u64,
    /// The last finding id covered by `FINDING_REPORTED` (findings go in id order).
    pub findings_after: Option<String>,
    /// Every finding of the run published.
    pub findings_done: bool,
    /// `ASSESSMENT_RUN_COMPLETED` published: nothing more to do for the run.
    pub completed_published: bool,
}

/// One step of the event publisher, recorded with the notifications it produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishedStep {
    /// `ASSESSMENT_RUN_STARTED`.
    Started,
    /// `ASSESSMENT_RUN_STATE_CHANGED` for this entry of the state history.
    StateChange(u64),
    /// `FINDING_REPORTED` for this finding id.
    Finding(String),
    /// No finding is left to publish.
    FindingsDone,
    /// `ASSESSMENT_RUN_COMPLETED`.
    Completed,
}

/// One entry of a run's `notifications[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNotification {
    /// When the event happened.
    pub date: UnixMillis,
    /// Event name (`ASSESSMENT_RUN_STARTED`, ...).
    pub event: String,
    /// The message sent.
    pub message: Option<String>,
    /// Whether publication failed.
    pub error: bool,
    /// The topic.
    pub sns_topic_arn: Option<String>,
    /// `SUCCESS`, `TOPIC_DOES_NOT_EXIST`, `ACCESS_DENIED`, `INTERNAL_ERROR`.
    pub sns_status: Option<String>,
}

/// The registered cross-account access role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossAccountRole {
    /// IAM role ARN as given.
    pub role_arn: String,
    /// When registered.
    pub registered_at: UnixMillis,
}

// The Inspector API's run listing and start values (migration 0002), in a file of their own.
#[path = "run_query.rs"]
mod run_query;
pub use run_query::*;

/// Per-severity finding counts for a run; every severity present, zeros included.
pub fn empty_counts() -> BTreeMap<Severity, u64> {
    Severity::ALL.into_iter().map(|s| (s, 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_forward_chain_is_legal_and_skips_are_not() {
        let mut s = RunState::Created;
        while let Some(n) = s.next() {
            assert!(can_transition(s, n), "{s} -> {n}");
            s = n;
        }
        assert_eq!(s, RunState::Completed);
        assert!(!can_transition(RunState::Created, RunState::CollectingData));
        assert!(!can_transition(RunState::Completed, RunState::Canceled));
        assert!(can_transition(RunState::CollectingData, RunState::Canceled));
        assert!(!can_transition(RunState::CollectingData, RunState::CompletedWithErrors));
    }

    #[test]
    fn state_names_round_trip() {
        for s in RunState::ALL {
            assert_eq!(s.as_str().parse::<RunState>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    fn agent(tags: &[(&str, &str)]) -> Agent {
        Agent {
            id: "i-0".into(),
            public_key: vec![],
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            host: AgentHostInfo::default(),
            enrolled_at: 0,
            last_heartbeat_at: None,
            activity: None,
            activity_details: None,
            retired_at: None,
        }
    }

    #[test]
    fn target_selection_semantics() {
        let t = |ids: &[&str]| Target {
            id: "0-t".into(),
            name: "t".into(),
            resource_group_id: None,
            agent_ids: ids.iter().map(|s| s.to_string()).collect(),
            created_at: 0,
            updated_at: 0,
        };
        let web = agent(&[("role", "web"), ("env", "prod")]);
        let group = |tags: Vec<Attribute>| ResourceGroup { id: "0-g".into(), tags, created_at: 0 };
        assert!(t(&[]).selects(None, &web), "no selector: every agent");
        assert!(t(&[]).selects(Some(&group(vec![Attribute::new("role", "web")])), &web));
        assert!(!t(&[]).selects(Some(&group(vec![Attribute::new("role", "db")])), &web));
        let any_env = Attribute { key: "env".into(), value: None };
        assert!(t(&[]).selects(Some(&group(vec![Attribute::new("role", "db"), any_env])), &web), "pairs are OR-ed");
        assert!(t(&["i-0"]).selects(Some(&group(vec![Attribute::new("role", "db")])), &web), "ids OR tags");
        assert!(!t(&["i-9"]).selects(None, &web));
        let mut retired = web.clone();
        retired.retired_at = Some(1);
        assert!(!t(&[]).selects(None, &retired));
    }

    #[test]
    fn health_follows_heartbeat_age_and_activity() {
        let th = HealthThresholds::for_heartbeat(10);
        let mut a = agent(&[]);
        assert_eq!(a.health(0, th).1, AgentHealthCode::Unknown);
        a.last_heartbeat_at = Some(1_000);
        a.activity = Some("running".into());
        assert_eq!(a.health(5_000, th).0, AgentHealth::Healthy);
        assert_eq!(a.health(5_000, th).1, AgentHealthCode::Running);
        assert_eq!(a.health(1_000 + 31_000, th).1, AgentHealthCode::Unhealthy);
        let fast = HealthThresholds::for_heartbeat(1);
        assert_eq!(a.health(1_000 + 5_000, fast).1, AgentHealthCode::Running, "at least 10 s of grace");
        assert_eq!(a.health(1_000 + 25 * 3600 * 1000, th).0, AgentHealth::Unknown);
        a.activity = Some("shutdown".into());
        assert_eq!(a.health(5_000, th).1, AgentHealthCode::Shutdown);
    }

    proptest! {
        /// From any start, any sequence of attempted transitions keeps only the
        /// legal ones, and the path taken never leaves a terminal state.
        #[test]
        fn only_legal_transitions_compose(tries in proptest::collection::vec(0usize..13, 0..40)) {
            let mut s = RunState::Created;
            for i in tries {
                let to = RunState::ALL[i];
                if can_transition(s, to) {
                    prop_assert!(!s.is_terminal());
                    prop_assert!(to.next() != Some(s), "no step backwards");
                    s = to;
                }
            }
        }
    }
}
