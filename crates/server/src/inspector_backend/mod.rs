//! The Inspector Classic API served from the fleet store.
//!
//! Why it exists: `warden-inspector` is only the protocol layer; this module
//! is where its typed requests meet the [`FleetStore`]. One file per area
//! (`targets`, `templates`, `runs`, `findings`, `agents`, `exclusions`,
//! `events`, `account`, `reports`) holds that area's operations as inherent
//! methods of [`StoreBackend`]; the [`InspectorBackend`] impl at the bottom
//! only forwards to them, generated from the one operation list, so no
//! operation can be forgotten. The ARN helpers every area needs (store id ↔
//! ARN for each resource kind) live here, once.

mod account;
mod agents;
mod events;
mod exclusions;
mod findings;
pub mod reports;
mod runs;
mod targets;
mod templates;

use std::sync::Arc;

use warden_inspector::arn::{ArnContext, ArnKind, InspectorArn, Resource, ResourceId};
use warden_inspector::backend::{InspectorBackend, RequestContext};
use warden_inspector::batch::BatchRequest;
use warden_inspector::error::ApiError;
use warden_inspector::paging::{ARN_PAGE, Pager};
use warden_inspector::rules_packages::Catalogue;
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::*;
use warden_store::{Attribute, FleetStore, StoreError, UnixMillis};

/// The fleet store seen through the Inspector API.
pub struct StoreBackend {
    store: Arc<dyn FleetStore>,
    arns: ArnContext,
    pager: Pager,
    catalogue: Catalogue,
    /// Event subscriptions and deliveries (`None`: no topic map configured).
    events: Option<Arc<warden_inspector::events::Events>>,
    /// Where `GetAssessmentReport` links point (`None`: reports not served).
    report_links: Option<reports::ReportLinks>,
    /// What the server evaluates with and how agent health is judged
    /// (exclusions previews, agent health).
    fleet: FleetSettings,
    /// The server's run-change signal (`AppState::changes`): bumped when a
    /// run is started or stopped here so the scheduler moves it at once
    /// instead of at its next tick (`None`: no scheduler to wake).
    run_changes: Option<Arc<tokio::sync::watch::Sender<u64>>>,
}

/// The parts of the server configuration the Inspector API needs to answer
/// as a run would: the vulnerability database (the CVE package is excluded
/// without one) and the heartbeat interval (agent health).
#[derive(Clone, Debug)]
pub struct FleetSettings {
    /// `warden serve --vulndb`.
    pub vulndb: Option<std::path::PathBuf>,
    /// Heartbeat interval told to agents, seconds.
    pub heartbeat_seconds: u64,
    /// `warden serve --aws`: the AWS network description folder.
    pub aws: Option<std::path::PathBuf>,
}

impl Default for FleetSettings {
    fn default() -> Self {
        FleetSettings { vulndb: None, heartbeat_seconds: 30, aws: None }
    }
}

impl StoreBackend {
    /// A backend over `store`, naming resources under `arns` (region and
    /// account), paging tokens keyed by `paging_secret`.
    pub fn new(store: Arc<dyn FleetStore>, arns: ArnContext, paging_secret: &[u8]) -> StoreBackend {
        let catalogue = Catalogue::new(&arns);
        StoreBackend {
            store,
            arns,
            pager: Pager::new(paging_secret),
            catalogue,
            events: None,
            report_links: None,
            fleet: FleetSettings::default(),
            run_changes: None,
        }
    }

    /// Wakes the scheduler through `changes` whenever a run is started or stopped.
    pub fn with_run_changes(mut self, changes: Arc<tokio::sync::watch::Sender<u64>>) -> StoreBackend {
        self.run_changes = Some(changes);
        self
    }

    /// Tells the scheduler (and long-polling agents) that a run changed.
    fn wake_scheduler(&self) {
        if let Some(changes) = &self.run_changes {
            changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Serves event subscriptions and run notifications from `events`.
    pub fn with_events(mut self, events: Arc<warden_inspector::events::Events>) -> StoreBackend {
        self.events = Some(events);
        self
    }

    /// Answers with the server's vulnerability database and heartbeat interval.
    pub fn with_fleet_settings(mut self, fleet: FleetSettings) -> StoreBackend {
        self.fleet = fleet;
        self
    }

    /// Serves `GetAssessmentReport` with links under `links`.
    pub fn with_report_links(mut self, links: reports::ReportLinks) -> StoreBackend {
        self.report_links = Some(links);
        self
    }

    /// The ARN of a stored template.
    fn template_arn(&self, template: &warden_store::Template) -> Result<String, ApiError> {
        Ok(self
            .arns
            .arn(Resource::Template { target: resource_id(&template.target_id)?, template: resource_id(&template.id)? })
            .to_string())
    }

    /// The ARN of a stored run (`template` is the run's own template).
    fn run_arn(&self, template: &warden_store::Template, run_id: &str) -> Result<String, ApiError> {
        Ok(self
            .arns
            .arn(Resource::Run {
                target: resource_id(&template.target_id)?,
                template: resource_id(&template.id)?,
                run: resource_id(run_id)?,
            })
            .to_string())
    }

    /// The store id of a template ARN of this server (`NoSuchEntity` for another account's).
    fn template_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Template)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::Template { template, .. }, true) => Ok(template.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, arn)),
        }
    }

    /// The store id of a run ARN of this server (`NoSuchEntity` for another account's).
    fn run_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Run)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::Run { run, .. }, true) => Ok(run.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentRunDoesNotExist, arn)),
        }
    }

    fn target_arn(&self, id: &str) -> Result<String, ApiError> {
        Ok(self.arns.arn(Resource::Target(resource_id(id)?)).to_string())
    }

    fn group_arn(&self, id: &str) -> Result<String, ApiError> {
        Ok(self.arns.arn(Resource::ResourceGroup(resource_id(id)?)).to_string())
    }

    /// The store id of a resource group ARN of this server (`NoSuchEntity` for another account's).
    fn group_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::ResourceGroup)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::ResourceGroup(id), true) => Ok(id.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::ResourceGroupDoesNotExist, arn)),
        }
    }

    fn target_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Target)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::Target(id), true) => Ok(id.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentTargetDoesNotExist, arn)),
        }
    }

    fn owns(&self, arn: &InspectorArn) -> bool {
        arn.partition == self.arns.partition && arn.region == self.arns.region && arn.account == self.arns.account
    }

    /// What `arn` names, when it is this server's (partition, region and
    /// account); `None` makes a batch describe report the item missing.
    fn owned<'a>(&self, arn: &'a InspectorArn) -> Option<&'a Resource> {
        self.owns(arn).then_some(&arn.resource)
    }

    fn describe_target(&self, target: &warden_store::Target) -> Result<AssessmentTarget, ApiError> {
        Ok(AssessmentTarget {
            arn: self.target_arn(&target.id)?,
            name: target.name.clone(),
            resource_group_arn: target.resource_group_id.as_deref().map(|g| self.group_arn(g)).transpose()?,
            created_at: timestamp(target.created_at),
            updated_at: timestamp(target.updated_at),
        })
    }

    /// Resolves an optional resource group ARN to a stored group's id.
    fn existing_group(&self, arn: Option<&str>) -> Result<Option<String>, ApiError> {
        let Some(arn) = arn else { return Ok(None) };
        let id = self.group_id(arn)?;
        self.store
            .get_resource_group(&id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::ResourceGroupDoesNotExist))?;
        Ok(Some(id))
    }

    fn run_arns_in_progress(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .filter_map(|id| {
                let run = self.store.get_run(id).ok()?;
                let template = self.store.get_template(&run.template_id).ok()?;
                let arn = self.arns.arn(Resource::Run {
                    target: ResourceId::parse(&template.target_id)?,
                    template: ResourceId::parse(&template.id)?,
                    run: ResourceId::parse(&run.id)?,
                });
                Some(arn.to_string())
            })
            .collect()
    }

    /// `AssessmentRunInProgressException` for the store's `InProgress(run ids)`:
    /// at most 10 run ARNs, `assessmentRunArnsTruncated` when there were more.
    fn runs_in_progress_error(&self, run_ids: &[String], message: &str) -> ApiError {
        let arns = self.run_arns_in_progress(run_ids);
        let truncated = arns.len() > 10;
        ApiError::AssessmentRunInProgress {
            assessment_run_arns: arns.into_iter().take(10).collect(),
            truncated,
            message: message.to_string(),
        }
    }

    /// The error of a refused delete: runs still in progress are
    /// `AssessmentRunInProgressException` saying `busy`, a missing item is
    /// `NoSuchEntity` with `not_found`, anything else internal.
    fn delete_error(&self, e: StoreError, busy: &str, not_found: NoSuchEntityErrorCode) -> ApiError {
        match e {
            StoreError::InProgress(runs) => self.runs_in_progress_error(&runs, busy),
            other => store_error(other, not_found),
        }
    }

    /// Inspector's severity for a Warden severity. Inspector Classic has no
    /// Critical: it is reported as High, Inspector's most severe value
    /// (`docs/inspector-api.md`); Undefined is never produced.
    pub(crate) fn inspector_severity(severity: warden_model::Severity) -> Severity {
        match severity {
            warden_model::Severity::Critical | warden_model::Severity::High => Severity::High,
            warden_model::Severity::Medium => Severity::Medium,
            warden_model::Severity::Low => Severity::Low,
            warden_model::Severity::Informational => Severity::Informational,
        }
    }

    /// The ARN of a stored finding (`…/run/R/finding/F`).
    fn finding_arn(&self, key: &warden_store::FindingKey) -> Result<String, ApiError> {
        Ok(self
            .arns
            .arn(Resource::Finding {
                target: resource_id(&key.target_id)?,
                template: resource_id(&key.template_id)?,
                run: resource_id(&key.run_id)?,
                finding: resource_id(&key.id)?,
            })
            .to_string())
    }

    /// The store ids a finding ARN names; `None` for another account's or
    /// region's ARN, or one that is not a finding's. The caller still checks
    /// that the stored finding has these parents.
    fn finding_key(&self, arn: &InspectorArn) -> Option<warden_store::FindingKey> {
        match (&arn.resource, self.owns(arn)) {
            (Resource::Finding { target, template, run, finding }, true) => Some(warden_store::FindingKey {
                id: finding.as_str().to_string(),
                run_id: run.as_str().to_string(),
                template_id: template.as_str().to_string(),
                target_id: target.as_str().to_string(),
            }),
            _ => None,
        }
    }
}

fn resource_id(id: &str) -> Result<ResourceId, ApiError> {
    ResourceId::parse(id).ok_or_else(|| ApiError::internal(format!("stored id {id:?} is not an Inspector id")))
}

fn missing(code: NoSuchEntityErrorCode, arn: &str) -> ApiError {
    ApiError::no_such_entity(code, format!("{arn} does not exist"))
}

/// Epoch milliseconds to the wire's epoch seconds.
fn timestamp(ms: UnixMillis) -> Timestamp {
    Timestamp(ms as f64 / 1000.0)
}

fn store_error(e: StoreError, not_found: NoSuchEntityErrorCode) -> ApiError {
    match e {
        StoreError::NotFound(what, id) => ApiError::no_such_entity(not_found, format!("{what} {id} does not exist")),
        StoreError::LimitExceeded(kind, _) => {
            ApiError::LimitExceeded { code: limit_code(kind), message: e.to_string() }
        }
        other => ApiError::internal(other.to_string()),
    }
}

/// The `LimitExceededErrorCode` of a store limit. The model has no code for
/// agents in running assessments; the guide names that limit beside the run
/// limit, and `StartAssessmentRun` is the only operation it refuses, so it is
/// `ASSESSMENT_RUN_LIMIT_EXCEEDED` (`docs/inspector-api.md`).
fn limit_code(kind: warden_store::LimitKind) -> LimitExceededErrorCode {
    use warden_store::LimitKind;
    match kind {
        LimitKind::Targets => LimitExceededErrorCode::AssessmentTargetLimitExceeded,
        LimitKind::Templates => LimitExceededErrorCode::AssessmentTemplateLimitExceeded,
        LimitKind::Runs | LimitKind::AgentsInRuns => LimitExceededErrorCode::AssessmentRunLimitExceeded,
        LimitKind::ResourceGroups => LimitExceededErrorCode::ResourceGroupLimitExceeded,
    }
}

/// Inspector's name patterns: `*` matches any run of characters, everything else itself.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Forwards every operation to the inherent method of the same name (in the
/// area files); the path `StoreBackend::$method` resolves to the inherent one.
macro_rules! forward_to_areas {
    ($(($op:ident, $method:ident, $req:ty, $resp:ty)),* $(,)?) => {
        impl InspectorBackend for StoreBackend {
            $(
                async fn $method(&self, ctx: &RequestContext, request: $req) -> Result<$resp, ApiError> {
                    StoreBackend::$method(self, ctx, request).await
                }
            )*
        }
    };
}

warden_inspector::for_each_operation!(forward_to_areas);

#[cfg(test)]
#[path = "limits_tests.rs"]
mod limits_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod test_support;
