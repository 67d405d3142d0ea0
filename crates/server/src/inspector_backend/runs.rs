//! Assessment runs: start, stop, delete, describe (state changes, finding
//! counts, notifications) and list.
//!
//! Why runs are only created here, never moved: the fleet's scheduler
//! (`crate::scheduler`) drives every run from CREATED on, whoever started it,
//! so a run started through the Inspector API lives exactly as one started
//! through `/v1/runs`. What this file adds is Inspector's contract around
//! that: an agent is in at most one run at a time
//! (`AgentsAlreadyRunningAssessmentException`, checked and created in one
//! store transaction), Inspector's shapes, and `ListAssessmentRuns` paged
//! newest first with a keyset in SQL (runs grow without bound).

use std::collections::BTreeMap;

use warden_inspector::paging::Cursor;
use warden_store::{RunPageKey, RunQuery, RunStart, RunState, StopAction as StoreStopAction, TimeRange};

use super::templates::known_package_ids;
use super::*;

/// Most `agents` an `AgentsAlreadyRunningAssessmentException` lists.
const MAX_BUSY_AGENTS: usize = 10;

impl StoreBackend {
    pub(crate) async fn start_assessment_run(
        &self,
        _ctx: &RequestContext,
        request: StartAssessmentRunRequest,
    ) -> Result<StartAssessmentRunResponse, ApiError> {
        let template = self.stored_template(&request.assessment_template_arn)?;
        if template.packages.is_empty() {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidNumberOfRulesPackageArns,
                "assessmentTemplateArn: the template has no rules packages; a run needs 1 to 50",
            ));
        }
        // The agents the target selects now; an empty selection still makes a
        // run, which the scheduler ends FAILED ("the target selects no enrolled agent").
        let agents = crate::scheduler::selected_agents(self.store.as_ref(), &template.target_id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist))?;
        let started = self
            .store
            .start_exclusive_run(&template.id, request.assessment_run_name.as_deref(), &agents, crate::now_ms())
            .map_err(|e| match e {
                // The model has no code for a taken run name; no code is better than a wrong one.
                StoreError::Conflict(m) => {
                    ApiError::InvalidInput { code: None, message: format!("assessmentRunName: {m}") }
                }
                other => store_error(other, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist),
            })?;
        match started {
            RunStart::Started(run) => {
                self.wake_scheduler();
                Ok(StartAssessmentRunResponse { assessment_run_arn: self.run_arn(&template, &run.id)? })
            }
            RunStart::AgentsBusy(busy) => {
                let total = busy.len();
                let agents = busy
                    .into_iter()
                    .take(MAX_BUSY_AGENTS)
                    .map(|b| {
                        Ok(AgentAlreadyRunningAssessment {
                            assessment_run_arn: self.run_arn_of(&b.target_id, &b.template_id, &b.run_id)?,
                            agent_id: b.agent_id,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Err(ApiError::AgentsAlreadyRunningAssessment {
                    agents,
                    truncated: total > MAX_BUSY_AGENTS,
                    message: format!(
                        "{total} agent(s) of the target are already in an assessment run that has not ended"
                    ),
                })
            }
        }
    }

    pub(crate) async fn stop_assessment_run(
        &self,
        _ctx: &RequestContext,
        request: StopAssessmentRunRequest,
    ) -> Result<(), ApiError> {
        let run = self.stored_run(&request.assessment_run_arn)?;
        // Stopping a run that has already ended changes nothing (as stopping a stopped instance).
        if run.state.is_terminal() {
            return Ok(());
        }
        let action = match request.stop_action.unwrap_or(StopAction::StartEvaluation) {
            StopAction::StartEvaluation => StoreStopAction::StartEvaluation,
            StopAction::SkipEvaluation => StoreStopAction::SkipEvaluation,
        };
        let now = crate::now_ms();
        match self.store.request_stop(&run.id, action, now) {
            Ok(_) => {}
            // It ended between the read and the request.
            Err(StoreError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist)),
        }
        if action == StoreStopAction::SkipEvaluation {
            self.cancel_now(&run.id, now)?;
        }
        // START_EVALUATION: the scheduler ends collection on the pass this wakes.
        self.wake_scheduler();
        Ok(())
    }

    pub(crate) async fn delete_assessment_run(
        &self,
        _ctx: &RequestContext,
        request: DeleteAssessmentRunRequest,
    ) -> Result<(), ApiError> {
        let run = self.stored_run(&request.assessment_run_arn)?;
        self.store.delete_run(&run.id).map_err(|e| {
            self.delete_error(e, "the assessment run has not ended", NoSuchEntityErrorCode::AssessmentRunDoesNotExist)
        })
    }

    pub(crate) async fn describe_assessment_runs(
        &self,
        _ctx: &RequestContext,
        request: DescribeAssessmentRunsRequest,
    ) -> Result<DescribeAssessmentRunsResponse, ApiError> {
        let batch = BatchRequest::new(&request.assessment_run_arns, ArnKind::Run);
        let (assessment_runs, failed_items) = batch.try_finish(|arn, _| {
            let Some(Resource::Run { target, template, run }) = self.owned(arn) else { return Ok(None) };
            match self.store.get_run(run.as_str()) {
                Ok(stored) if stored.template_id == template.as_str() && stored.target_id == target.as_str() => {
                    self.describe_run(&stored).map(Some)
                }
                _ => Ok(None),
            }
        })?;
        Ok(DescribeAssessmentRunsResponse { assessment_runs, failed_items })
    }

    pub(crate) async fn list_assessment_runs(
        &self,
        _ctx: &RequestContext,
        request: ListAssessmentRunsRequest,
    ) -> Result<ListAssessmentRunsResponse, ApiError> {
        let mut query = RunQuery::default();
        for arn in request.assessment_template_arns.iter().flatten() {
            let template = self.stored_template(arn)?;
            if !query.template_ids.contains(&template.id) {
                query.template_ids.push(template.id);
            }
        }
        if let Some(f) = &request.filter {
            query.name_pattern = f.name_pattern.clone();
            query.states = f.states.iter().flatten().map(|s| store_state(*s)).collect();
            if let Some(d) = &f.duration_range {
                query.min_duration_seconds = d.min_seconds.map(|s| s.max(0) as u64);
                query.max_duration_seconds = d.max_seconds.map(|s| s.max(0) as u64);
            }
            if let Some(arns) = &f.rules_package_arns {
                query.packages = Some(known_package_ids(arns)?);
            }
            query.started = time_range(f.start_time_range.as_ref());
            query.completed = time_range(f.completion_time_range.as_ref());
            query.state_changed = time_range(f.state_change_time_range.as_ref());
        }
        let page = self.pager.start(
            "ListAssessmentRuns",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            ARN_PAGE,
        )?;
        let after = match &page.cursor {
            Cursor::Start => None,
            Cursor::After(key) => Some(decode_run_key(key)?),
            Cursor::Offset(_) => return Err(bad_token()),
        };
        // One row more than the page tells whether another page follows.
        let mut rows = self
            .store
            .page_runs(&query, after.as_ref(), page.limit + 1)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let next_token = if rows.len() > page.limit {
            rows.truncate(page.limit);
            let last = rows.last().map(|r| r.page_key()).ok_or_else(|| ApiError::internal("empty page"))?;
            Some(self.pager.token(&page, &Cursor::After(encode_run_key(&last)))?)
        } else {
            None
        };
        let assessment_run_arns =
            rows.iter().map(|r| self.run_arn_of(&r.target_id, &r.template_id, &r.id)).collect::<Result<Vec<_>, _>>()?;
        Ok(ListAssessmentRunsResponse { assessment_run_arns, next_token })
    }

    /// The stored run a run ARN of this server names; the ARN's target and
    /// template must be the run's own, else it names nothing.
    fn stored_run(&self, arn: &str) -> Result<warden_store::Run, ApiError> {
        let id = self.run_id(arn)?;
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Run)?;
        let run =
            self.store.get_run(&id).map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist))?;
        match &parsed.resource {
            Resource::Run { target, template, .. }
                if target.as_str() == run.target_id && template.as_str() == run.template_id =>
            {
                Ok(run)
            }
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentRunDoesNotExist, arn)),
        }
    }

    fn run_arn_of(&self, target_id: &str, template_id: &str, run_id: &str) -> Result<String, ApiError> {
        Ok(self
            .arns
            .arn(Resource::Run {
                target: resource_id(target_id)?,
                template: resource_id(template_id)?,
                run: resource_id(run_id)?,
            })
            .to_string())
    }

    /// SKIP_EVALUATION: CANCELED now, from whatever state the run is in when
    /// the transition lands (the scheduler may move it meanwhile).
    fn cancel_now(&self, run_id: &str, now: warden_store::UnixMillis) -> Result<(), ApiError> {
        let internal = |e: StoreError| ApiError::internal(e.to_string());
        for _ in 0..RunState::ALL.len() {
            let current = self.store.get_run(run_id).map_err(internal)?.state;
            if current.is_terminal() {
                return Ok(());
            }
            match self.store.transition_run(run_id, current, RunState::Canceled, &Default::default(), now) {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(internal(e)),
            }
        }
        // Every retry lost to a scheduler step: the recorded stop action makes
        // the scheduler cancel it on its next pass.
        Ok(())
    }

    fn describe_run(&self, run: &warden_store::Run) -> Result<AssessmentRun, ApiError> {
        let internal = |e: StoreError| ApiError::internal(e.to_string());
        let template = self.store.get_template(&run.template_id).map_err(internal)?;
        let mut finding_counts: BTreeMap<Severity, i32> =
            [Severity::High, Severity::Medium, Severity::Low, Severity::Informational, Severity::Undefined]
                .into_iter()
                .map(|s| (s, 0))
                .collect();
        for (severity, count) in self.store.finding_counts(&run.id).map_err(internal)? {
            let slot = finding_counts.entry(Self::inspector_severity(severity)).or_insert(0);
            *slot = slot.saturating_add(i32::try_from(count).unwrap_or(i32::MAX));
        }
        Ok(AssessmentRun {
            arn: self.run_arn(&template, &run.id)?,
            name: run.name.clone(),
            assessment_template_arn: self.template_arn(&template)?,
            state: inspector_state(run.state),
            duration_in_seconds: i32::try_from(run.duration_seconds).unwrap_or(i32::MAX),
            rules_package_arns: self.template_package_arns(&template)?,
            user_attributes_for_findings: run
                .user_attributes
                .iter()
                .map(|a| warden_inspector::types::Attribute { key: a.key.clone(), value: a.value.clone() })
                .collect(),
            created_at: timestamp(run.created_at),
            started_at: run.started_at.map(timestamp),
            completed_at: run.completed_at.map(timestamp),
            state_changed_at: timestamp(run.state_changed_at),
            data_collected: run.data_collected,
            state_changes: run
                .state_changes
                .iter()
                .map(|c| AssessmentRunStateChange {
                    state_changed_at: timestamp(c.changed_at),
                    state: inspector_state(c.state),
                })
                .collect(),
            notifications: self.run_notifications(&run.id)?,
            finding_counts,
        })
    }
}

/// Inspector's spelling of a store run state (the same thirteen states).
fn inspector_state(state: RunState) -> AssessmentRunState {
    match state {
        RunState::Created => AssessmentRunState::Created,
        RunState::StartDataCollectionPending => AssessmentRunState::StartDataCollectionPending,
        RunState::StartDataCollectionInProgress => AssessmentRunState::StartDataCollectionInProgress,
        RunState::CollectingData => AssessmentRunState::CollectingData,
        RunState::StopDataCollectionPending => AssessmentRunState::StopDataCollectionPending,
        RunState::DataCollected => AssessmentRunState::DataCollected,
        RunState::StartEvaluatingRulesPending => AssessmentRunState::StartEvaluatingRulesPending,
        RunState::EvaluatingRules => AssessmentRunState::EvaluatingRules,
        RunState::Failed => AssessmentRunState::Failed,
        RunState::Error => AssessmentRunState::Error,
        RunState::Completed => AssessmentRunState::Completed,
        RunState::CompletedWithErrors => AssessmentRunState::CompletedWithErrors,
        RunState::Canceled => AssessmentRunState::Canceled,
    }
}

/// The store's run state for an Inspector state.
fn store_state(state: AssessmentRunState) -> RunState {
    match state {
        AssessmentRunState::Created => RunState::Created,
        AssessmentRunState::StartDataCollectionPending => RunState::StartDataCollectionPending,
        AssessmentRunState::StartDataCollectionInProgress => RunState::StartDataCollectionInProgress,
        AssessmentRunState::CollectingData => RunState::CollectingData,
        AssessmentRunState::StopDataCollectionPending => RunState::StopDataCollectionPending,
        AssessmentRunState::DataCollected => RunState::DataCollected,
        AssessmentRunState::StartEvaluatingRulesPending => RunState::StartEvaluatingRulesPending,
        AssessmentRunState::EvaluatingRules => RunState::EvaluatingRules,
        AssessmentRunState::Failed => RunState::Failed,
        AssessmentRunState::Error => RunState::Error,
        AssessmentRunState::Completed => RunState::Completed,
        AssessmentRunState::CompletedWithErrors => RunState::CompletedWithErrors,
        AssessmentRunState::Canceled => RunState::Canceled,
    }
}

/// An inclusive `TimestampRange` in whole milliseconds: the first
/// millisecond at or after `beginDate`, the last at or before `endDate`.
fn time_range(range: Option<&TimestampRange>) -> TimeRange {
    let Some(range) = range else { return TimeRange::default() };
    TimeRange {
        from: range.begin_date.map(|t| (t.0 * 1000.0).ceil() as i64),
        to: range.end_date.map(|t| (t.0 * 1000.0).floor() as i64),
    }
}

/// The keyset cursor in a token: `created_at` and run id.
fn encode_run_key(key: &RunPageKey) -> String {
    format!("{}:{}", key.created_at, key.id)
}

fn decode_run_key(text: &str) -> Result<RunPageKey, ApiError> {
    let (created_at, id) = text.split_once(':').ok_or_else(bad_token)?;
    let created_at = created_at.parse().map_err(|_| bad_token())?;
    Ok(RunPageKey { created_at, id: id.to_string() })
}

fn bad_token() -> ApiError {
    ApiError::invalid_input(
        InvalidInputErrorCode::InvalidPaginationToken,
        "nextToken is not a ListAssessmentRuns token",
    )
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
