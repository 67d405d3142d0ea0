//! Exclusions: the checks that could not run, listed per run
//! (`ListExclusions`, `DescribeExclusions`) and previewed per template
//! (`CreateExclusionsPreview`, `GetExclusionsPreview`).
//!
//! Why it is shaped this way: a run's exclusions are what evaluation
//! recorded (`evaluate::evaluate_run`); a preview asks the same question —
//! [`crate::exclusion_checks`] decides both — of the agents the template's
//! target selects now, with each agent's newest host snapshot standing in
//! for the one a run would collect. A preview is computed on a blocking
//! thread after `CreateExclusionsPreview` answers (`WORK_IN_PROGRESS` until
//! its items are stored, `COMPLETED` after); a preview left unfinished by a
//! restart is computed again by the first `GetExclusionsPreview` that finds
//! no worker on it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use warden_inspector::paging::{Cursor, EXCLUSION_PAGE};
use warden_store::{Exclusion as StoredExclusion, ExclusionRecord, PreviewItem, Template};

use super::*;
use crate::evaluate::{EvaluationContext, package_name};
use crate::exclusion_checks::{ExclusionKind, agent_blocker, package_blocker};
use warden_inspector::types::Attribute as WireAttribute;

/// Previews being computed in this process: token → template id. A second
/// preview of a template while one is in this map is
/// `PreviewGenerationInProgressException`.
static IN_FLIGHT: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

fn in_flight() -> std::sync::MutexGuard<'static, BTreeMap<String, String>> {
    // Inserts and removes only: a poisoned map is still consistent.
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes a preview from [`IN_FLIGHT`] when its worker ends.
struct FlightGuard(String);

impl Drop for FlightGuard {
    fn drop(&mut self) {
        in_flight().remove(&self.0);
    }
}

impl StoreBackend {
    pub(crate) async fn create_exclusions_preview(
        &self,
        _ctx: &RequestContext,
        request: CreateExclusionsPreviewRequest,
    ) -> Result<CreateExclusionsPreviewResponse, ApiError> {
        let template = self.template_for_arn(&request.assessment_template_arn)?;
        let token = uuid_v4();
        {
            let mut flights = in_flight();
            if flights.values().any(|t| *t == template.id) {
                return Err(ApiError::PreviewGenerationInProgress {
                    message: format!("an exclusions preview of {} is being generated", request.assessment_template_arn),
                });
            }
            flights.insert(token.clone(), template.id.clone());
        }
        if let Err(e) = self.store.create_exclusion_preview(&token, &template.id, crate::now_ms()) {
            in_flight().remove(&token);
            return Err(store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist));
        }
        self.spawn_preview(token.clone(), template);
        Ok(CreateExclusionsPreviewResponse { preview_token: token })
    }

    pub(crate) async fn get_exclusions_preview(
        &self,
        _ctx: &RequestContext,
        request: GetExclusionsPreviewRequest,
    ) -> Result<GetExclusionsPreviewResponse, ApiError> {
        let template = self.template_for_arn(&request.assessment_template_arn)?;
        let unknown = || {
            ApiError::no_such_entity(
                NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist,
                format!(
                    "exclusions preview {} of {} does not exist",
                    request.preview_token, request.assessment_template_arn
                ),
            )
        };
        let job = self.store.get_exclusion_preview(&request.preview_token).map_err(|e| match e {
            StoreError::NotFound(..) => unknown(),
            other => ApiError::internal(other.to_string()),
        })?;
        if job.template_id != template.id {
            return Err(unknown());
        }
        if !job.completed {
            let orphaned = {
                let mut flights = in_flight();
                let orphaned = !flights.contains_key(&job.token);
                if orphaned {
                    flights.insert(job.token.clone(), template.id.clone());
                }
                orphaned
            };
            if orphaned {
                self.spawn_preview(job.token.clone(), template);
            }
            return Ok(GetExclusionsPreviewResponse {
                preview_status: PreviewStatus::WorkInProgress,
                exclusion_previews: None,
                next_token: None,
            });
        }
        let page = self.pager.start(
            "GetExclusionsPreview",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            EXCLUSION_PAGE,
        )?;
        let offset = match page.cursor {
            Cursor::Start => 0,
            Cursor::Offset(n) => n,
            Cursor::After(_) => return Err(token_of_another_kind()),
        };
        let mut items = self
            .store
            .exclusion_preview_items(&job.token, offset, page.limit + 1)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let next_token = if items.len() > page.limit {
            items.truncate(page.limit);
            Some(self.pager.token(&page, &Cursor::Offset(offset + page.limit as u64))?)
        } else {
            None
        };
        let exclusion_previews = items
            .iter()
            .map(|item| {
                let text = self.exclusion_text(&item.agent_id, &item.package, &item.kind, &item.reason);
                ExclusionPreview {
                    title: text.title,
                    description: text.description,
                    recommendation: text.recommendation,
                    scopes: text.scopes,
                    attributes: Some(text.attributes),
                }
            })
            .collect();
        Ok(GetExclusionsPreviewResponse {
            preview_status: PreviewStatus::Completed,
            exclusion_previews: Some(exclusion_previews),
            next_token,
        })
    }

    pub(crate) async fn list_exclusions(
        &self,
        _ctx: &RequestContext,
        request: ListExclusionsRequest,
    ) -> Result<ListExclusionsResponse, ApiError> {
        let (run, run_arn) = self.run_for_arn(&request.assessment_run_arn)?;
        let page = self.pager.start(
            "ListExclusions",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            EXCLUSION_PAGE,
        )?;
        let after = match &page.cursor {
            Cursor::Start => None,
            Cursor::After(id) => Some(id.as_str()),
            Cursor::Offset(_) => return Err(token_of_another_kind()),
        };
        let mut rows = self
            .store
            .exclusions_page(&run.id, after, page.limit + 1)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let next_token = if rows.len() > page.limit {
            rows.truncate(page.limit);
            let last = rows.last().map(|r| r.id.clone()).unwrap_or_default();
            Some(self.pager.token(&page, &Cursor::After(last))?)
        } else {
            None
        };
        let exclusion_arns = rows
            .iter()
            .map(|r| Ok(format!("{run_arn}/exclusion/{}", resource_id(&r.id)?)))
            .collect::<Result<_, _>>()?;
        Ok(ListExclusionsResponse { exclusion_arns, next_token })
    }

    pub(crate) async fn describe_exclusions(
        &self,
        _ctx: &RequestContext,
        request: DescribeExclusionsRequest,
    ) -> Result<DescribeExclusionsResponse, ApiError> {
        let batch = BatchRequest::new(&request.exclusion_arns, ArnKind::Exclusion);
        let (found, failed_items) = batch.try_finish(|arn, text| {
            let Some(Resource::Exclusion { run, exclusion, .. }) = self.owned(arn) else { return Ok(None) };
            // The ARN must be the run's own (right target and template segments).
            let Some(run_arn) = arn.run_arn() else { return Ok(None) };
            if self.run_for_arn(&run_arn.to_string()).is_err() {
                return Ok(None);
            }
            match self.store.get_exclusion(run.as_str(), exclusion.as_str()) {
                Ok(record) => Ok(Some((text.to_string(), self.describe_exclusion(text, &record)))),
                Err(StoreError::NotFound(..)) => Ok(None),
                Err(e) => Err(ApiError::internal(e.to_string())),
            }
        })?;
        Ok(DescribeExclusionsResponse { exclusions: found.into_iter().collect(), failed_items })
    }

    /// The stored template a template ARN names.
    pub(super) fn template_for_arn(&self, arn: &str) -> Result<Template, ApiError> {
        let id = self.template_id(arn)?;
        let template = self
            .store
            .get_template(&id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist))?;
        if self.template_arn(&template)? != arn {
            return Err(missing(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, arn));
        }
        Ok(template)
    }

    /// Computes a preview on a blocking thread and stores it.
    fn spawn_preview(&self, token: String, template: Template) {
        let store = self.store.clone();
        let fleet = self.fleet.clone();
        let thresholds = self.health_thresholds();
        tokio::task::spawn_blocking(move || {
            // Out of the in-flight map however this ends (a panic included),
            // so that the next GetExclusionsPreview can try again.
            let _flight = FlightGuard(token.clone());
            let now = crate::now_ms();
            let result = preview_items(store.as_ref(), &template, &fleet, thresholds, now)
                .and_then(|items| store.complete_exclusion_preview(&token, &items, crate::now_ms()));
            if let Err(e) = result {
                // Left WORK_IN_PROGRESS: the next GetExclusionsPreview tries again.
                eprintln!("warden: exclusions preview {token}: {e}");
            }
        });
    }

    fn describe_exclusion(&self, arn: &str, record: &ExclusionRecord) -> Exclusion {
        let StoredExclusion { agent_id, package, kind, reason, .. } = &record.exclusion;
        let text = self.exclusion_text(agent_id, package, kind, reason);
        Exclusion {
            arn: arn.to_string(),
            title: text.title,
            description: text.description,
            recommendation: text.recommendation,
            scopes: text.scopes,
            attributes: Some(text.attributes),
        }
    }

    /// Inspector's text and scopes for one (agent, package) exclusion.
    fn exclusion_text(&self, agent_id: &str, package: &str, kind: &str, reason: &str) -> ExclusionText {
        let kind = ExclusionKind::from_code(kind);
        let package_arn = self.catalogue.arn_of(package);
        let mut scopes = vec![Scope { key: Some(ScopeType::InstanceId), value: Some(agent_id.to_string()) }];
        if let Some(arn) = package_arn {
            scopes.push(Scope { key: Some(ScopeType::RulesPackageArn), value: Some(arn.to_string()) });
        }
        ExclusionText {
            title: kind.title().to_string(),
            description: format!(
                "The {} rules package was not evaluated on {agent_id}: {reason}.",
                package_name(package)
            ),
            recommendation: kind.recommendation().to_string(),
            scopes,
            attributes: vec![
                WireAttribute { key: "RULES_PACKAGE".into(), value: Some(package.to_string()) },
                WireAttribute { key: "EXCLUSION_KIND".into(), value: Some(kind.code().to_string()) },
            ],
        }
    }
}

struct ExclusionText {
    title: String,
    description: String,
    recommendation: String,
    scopes: Vec<Scope>,
    attributes: Vec<WireAttribute>,
}

/// What a run of `template` started now could not evaluate: for each agent
/// the target selects, every package if the agent is not healthy, else the
/// packages [`package_blocker`] refuses given the agent's newest snapshot.
fn preview_items(
    store: &dyn FleetStore,
    template: &Template,
    fleet: &FleetSettings,
    thresholds: warden_store::HealthThresholds,
    now: UnixMillis,
) -> Result<Vec<PreviewItem>, StoreError> {
    let target = store.get_target(&template.target_id)?;
    let group = target.resource_group_id.as_deref().map(|g| store.get_resource_group(g)).transpose()?;
    let mut agents = store.list_agents()?;
    agents.retain(|a| target.selects(group.as_ref(), a));
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    // The network description is read only when the template asks for the package (it can be large).
    let network = if template.packages.iter().any(|p| p == warden_netreach::findings::PACKAGE_ID) {
        crate::evaluate::NetworkDescription::for_target(store, &template.target_id, fleet.aws.as_deref())
    } else {
        crate::evaluate::NetworkDescription::NotConfigured
    };
    let ctx = EvaluationContext { vulndb: fleet.vulndb.clone(), today: warden_collect::today(), network };
    let mut items = Vec::new();
    for agent in &agents {
        let item = |package: &str, blocker: crate::exclusion_checks::Blocker| PreviewItem {
            agent_id: agent.id.clone(),
            package: package.to_string(),
            kind: blocker.kind.code().to_string(),
            reason: blocker.reason,
        };
        if let Some(blocker) = agent_blocker(agent, now, thresholds) {
            items.extend(template.packages.iter().map(|p| item(p, blocker.clone())));
            continue;
        }
        // An unreadable stored snapshot is as good as none: the run will collect a new one.
        let snapshot = store
            .latest_snapshot(&agent.id)?
            .and_then(|doc| serde_json::from_str::<warden_model::Snapshot>(&doc.body).ok());
        for package in &template.packages {
            if let Some(blocker) = package_blocker(package, snapshot.as_ref(), &ctx) {
                items.push(item(package, blocker));
            }
        }
    }
    Ok(items)
}

/// A valid token whose cursor is not this list's kind (cannot come from
/// this server for this operation, but is refused rather than trusted).
fn token_of_another_kind() -> ApiError {
    ApiError::invalid_input(InvalidInputErrorCode::InvalidPaginationToken, "nextToken is of another kind")
}

/// A random (version 4) UUID, the shape of Inspector's preview tokens.
fn uuid_v4() -> String {
    let mut b = warden_store::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = warden_store::hex_encode(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(test)]
#[path = "exclusions_tests.rs"]
mod tests;
