//! The agents of a run (`ListAssessmentRunAgents`), the agents a target
//! would select (`PreviewAgents`) and telemetry metadata
//! (`GetTelemetryMetadata`).
//!
//! Why here: these read the fleet's own records (enrolled agents, per-run
//! agent rows, stored telemetry) and only translate them to Inspector's
//! shapes; agent health is the one the fleet API shows
//! (`Agent::health`), except that an agent that failed or timed out in the
//! run is UNHEALTHY for that run whatever it does now.

use warden_store::{Agent, HealthThresholds, RunAgent, RunAgentStatus, TelemetryCount};

use super::*;
use warden_inspector::paging::AGENT_PAGE;

/// The tag EC2 puts on Auto Scaling instances; an agent enrolled with it
/// reports its group as Inspector did.
const AUTO_SCALING_GROUP_TAG: &str = "aws:autoscaling:groupName";

impl StoreBackend {
    pub(crate) async fn get_telemetry_metadata(
        &self,
        _ctx: &RequestContext,
        request: GetTelemetryMetadataRequest,
    ) -> Result<GetTelemetryMetadataResponse, ApiError> {
        let (run, _) = self.run_for_arn(&request.assessment_run_arn)?;
        let counts = self.store.run_telemetry(&run.id).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(GetTelemetryMetadataResponse { telemetry_metadata: counts.iter().map(telemetry_metadata).collect() })
    }

    pub(crate) async fn list_assessment_run_agents(
        &self,
        _ctx: &RequestContext,
        request: ListAssessmentRunAgentsRequest,
    ) -> Result<ListAssessmentRunAgentsResponse, ApiError> {
        let (run, run_arn) = self.run_for_arn(&request.assessment_run_arn)?;
        let run_agents = self.store.list_run_agents(&run.id).map_err(|e| ApiError::internal(e.to_string()))?;
        let now = crate::now_ms();
        let mut agents = Vec::with_capacity(run_agents.len());
        for ra in run_agents {
            let agent = self.store.get_agent(&ra.agent_id).map_err(|e| ApiError::internal(e.to_string()))?;
            let (health, code, details) = run_agent_health(&ra, &agent, now, self.health_thresholds());
            if let Some(filter) = &request.filter {
                let health_ok = filter.agent_healths.is_empty() || filter.agent_healths.contains(&health);
                let code_ok = filter.agent_health_codes.is_empty() || filter.agent_health_codes.contains(&code);
                if !(health_ok && code_ok) {
                    continue;
                }
            }
            agents.push(AssessmentRunAgent {
                agent_id: ra.agent_id.clone(),
                assessment_run_arn: run_arn.clone(),
                agent_health: health,
                agent_health_code: code,
                agent_health_details: (!details.is_empty()).then_some(details),
                auto_scaling_group: agent.tags.get(AUTO_SCALING_GROUP_TAG).cloned(),
                telemetry_metadata: ra.telemetry.iter().map(telemetry_metadata).collect(),
            });
        }
        let (assessment_run_agents, next_token) = self.pager.page(
            "ListAssessmentRunAgents",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            AGENT_PAGE,
            &agents,
        )?;
        Ok(ListAssessmentRunAgentsResponse { assessment_run_agents, next_token })
    }

    pub(crate) async fn preview_agents(
        &self,
        _ctx: &RequestContext,
        request: PreviewAgentsRequest,
    ) -> Result<PreviewAgentsResponse, ApiError> {
        let target_id = self.target_id(&request.preview_agents_arn)?;
        let agents = self.agents_selected_by(&target_id)?;
        let now = crate::now_ms();
        let previews: Vec<AgentPreview> = agents
            .iter()
            .map(|agent| {
                let (health, _, _) = agent.health(now, self.health_thresholds());
                AgentPreview {
                    hostname: agent.host.hostname.clone(),
                    agent_id: agent.id.clone(),
                    auto_scaling_group: agent.tags.get(AUTO_SCALING_GROUP_TAG).cloned(),
                    agent_health: Some(wire_health(health)),
                    agent_version: agent.host.agent_version.clone(),
                    operating_system: agent.host.operating_system.clone(),
                    kernel_version: agent.host.kernel_version.clone(),
                    ipv4_address: agent.host.ipv4_addresses.first().cloned(),
                }
            })
            .collect();
        let (agent_previews, next_token) = self.pager.page(
            "PreviewAgents",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            ARN_PAGE,
            &previews,
        )?;
        Ok(PreviewAgentsResponse { agent_previews, next_token })
    }

    /// The stored run an ARN names and its canonical ARN. An ARN whose target
    /// or template segment is not the run's, or of another account or
    /// region, names nothing (`ASSESSMENT_RUN_DOES_NOT_EXIST`).
    pub(super) fn run_for_arn(&self, arn: &str) -> Result<(warden_store::Run, String), ApiError> {
        let id = self.run_id(arn)?;
        let not_found = || missing(NoSuchEntityErrorCode::AssessmentRunDoesNotExist, arn);
        let run = self.store.get_run(&id).map_err(|e| match e {
            StoreError::NotFound(..) => not_found(),
            other => ApiError::internal(other.to_string()),
        })?;
        let template = self.store.get_template(&run.template_id).map_err(|e| match e {
            StoreError::NotFound(..) => not_found(),
            other => ApiError::internal(other.to_string()),
        })?;
        let canonical = self.run_arn(&template, &run.id)?;
        if canonical != arn {
            return Err(not_found());
        }
        Ok((run, canonical))
    }

    /// The agents a target selects now (retired ones never), by id.
    pub(super) fn agents_selected_by(&self, target_id: &str) -> Result<Vec<Agent>, ApiError> {
        let target = self
            .store
            .get_target(target_id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist))?;
        let group = match &target.resource_group_id {
            Some(g) => Some(self.store.get_resource_group(g).map_err(|e| ApiError::internal(e.to_string()))?),
            None => None,
        };
        let mut agents = self.store.list_agents().map_err(|e| ApiError::internal(e.to_string()))?;
        agents.retain(|a| target.selects(group.as_ref(), a));
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(agents)
    }

    /// Health thresholds from the configured heartbeat interval.
    pub(super) fn health_thresholds(&self) -> HealthThresholds {
        HealthThresholds::for_heartbeat(self.fleet.heartbeat_seconds)
    }
}

/// An agent's health in a run: failed or timed out there is UNHEALTHY with
/// the reason; otherwise its health now.
fn run_agent_health(
    ra: &RunAgent,
    agent: &Agent,
    now: warden_store::UnixMillis,
    thresholds: HealthThresholds,
) -> (AgentHealth, AgentHealthCode, String) {
    let failed = match ra.status {
        RunAgentStatus::Failed => Some("the agent reported a failure in this run"),
        RunAgentStatus::TimedOut => Some("the agent stopped reporting in this run"),
        _ => None,
    };
    if let Some(default) = failed {
        let details = ra.status_details.clone().unwrap_or_else(|| default.to_string());
        return (AgentHealth::Unhealthy, AgentHealthCode::Unhealthy, details);
    }
    let (health, code, details) = agent.health(now, thresholds);
    (wire_health(health), wire_health_code(code), details)
}

fn wire_health(h: warden_store::AgentHealth) -> AgentHealth {
    match h {
        warden_store::AgentHealth::Healthy => AgentHealth::Healthy,
        warden_store::AgentHealth::Unhealthy => AgentHealth::Unhealthy,
        warden_store::AgentHealth::Unknown => AgentHealth::Unknown,
    }
}

fn wire_health_code(c: warden_store::AgentHealthCode) -> AgentHealthCode {
    match c {
        warden_store::AgentHealthCode::Idle => AgentHealthCode::Idle,
        warden_store::AgentHealthCode::Running => AgentHealthCode::Running,
        warden_store::AgentHealthCode::Shutdown => AgentHealthCode::Shutdown,
        warden_store::AgentHealthCode::Unhealthy => AgentHealthCode::Unhealthy,
        warden_store::AgentHealthCode::Throttled => AgentHealthCode::Throttled,
        warden_store::AgentHealthCode::Unknown => AgentHealthCode::Unknown,
    }
}

fn telemetry_metadata(c: &TelemetryCount) -> TelemetryMetadata {
    TelemetryMetadata {
        message_type: c.kind.clone(),
        count: i64::try_from(c.count).unwrap_or(i64::MAX),
        data_size: Some(i64::try_from(c.bytes).unwrap_or(i64::MAX)),
    }
}

#[cfg(test)]
#[path = "agents_tests.rs"]
pub(super) mod tests;
