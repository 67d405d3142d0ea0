//! The operators' JSON API under `/v1` (what `warden target|template|run|
//! findings|agents|token` call), documented in `docs/fleet/openapi.yaml`.
//!
//! Why a JSON API of Warden's own beside the Inspector-compatible one
//! (`inspector_mount.rs`): the CLI needs agents, tokens and evidence in
//! Warden's terms; the Inspector API maps onto the same store.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use warden_model::Severity;
use warden_store::{
    Agent, AgentHealth, AgentHealthCode, Attribute, Exclusion, Finding, FindingQuery, HealthThresholds, NewTemplate,
    Run, RunAgent, RunState, StopAction, Target, Template, UnixMillis, token_hash,
};

use crate::auth::{new_secret, require_admin};
use crate::error::parse_json;
use crate::evaluate::PACKAGES;
use crate::scheduler::selected_agents;
use crate::{ApiError, AppState, now_ms};

/// The `/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/enroll-tokens", post(create_enroll_token).get(list_enroll_tokens))
        .route("/v1/api-tokens", post(create_api_token))
        .route("/v1/agents", get(list_agents))
        .route("/v1/agents/{id}", get(get_agent))
        .route("/v1/agents/{id}/retire", post(retire_agent))
        .route("/v1/targets", post(create_target).get(list_targets))
        .route("/v1/targets/{id}", get(get_target).delete(delete_target))
        .route("/v1/templates", post(create_template).get(list_templates))
        .route("/v1/templates/{id}", get(get_template).delete(delete_template))
        .route("/v1/runs", post(start_run).get(list_runs))
        .route("/v1/runs/{id}", get(get_run).delete(delete_run))
        .route("/v1/runs/{id}/stop", post(stop_run))
        .route("/v1/findings", get(list_findings))
}

/// `GET /readyz`: the database answers and the schema is current.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db(|s| s.ready()).await {
        Ok(()) => (StatusCode::OK, "ready\n".to_string()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", e.message)),
    }
}

fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 140 {
        return Err(ApiError::bad_request(format!("{field}: 1 to 140 characters")));
    }
    Ok(())
}

fn check_attributes(field: &str, attrs: &[Attribute], max: usize) -> Result<(), ApiError> {
    if attrs.len() > max {
        return Err(ApiError::bad_request(format!("{field}: at most {max}")));
    }
    let mut keys = std::collections::BTreeSet::new();
    for a in attrs {
        if a.key.is_empty() || a.key.len() > 128 || a.value.as_ref().is_some_and(|v| v.is_empty() || v.len() > 256) {
            return Err(ApiError::bad_request(format!("{field}: keys 1-128 characters, values 1-256")));
        }
        if !keys.insert(&a.key) && field == "user_attributes" {
            return Err(ApiError::bad_request(format!("{field}: duplicate key {:?}", a.key)));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEnrollToken {
    #[serde(default)]
    uses: Option<u32>,
    #[serde(default)]
    expires_in_seconds: Option<u64>,
}

#[derive(Serialize)]
struct CreatedToken {
    id: String,
    /// Shown once; only its hash is stored.
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uses_left: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<UnixMillis>,
}

async fn create_enroll_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    require_admin(&state, &headers).await?;
    let req: CreateEnrollToken =
        if body.is_empty() { CreateEnrollToken { uses: None, expires_in_seconds: None } } else { parse_json(&body)? };
    let uses = req.uses.unwrap_or(1);
    if uses == 0 {
        return Err(ApiError::bad_request("uses: at least 1"));
    }
    let now = now_ms();
    let expires_at = req.expires_in_seconds.map(|s| now.saturating_add((s as i64).saturating_mul(1000)));
    let token = new_secret("wdn_enr_");
    let hash = token_hash(&token);
    let t = state.db(move |s| s.insert_enroll_token(&hash, uses, expires_at, now)).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id: t.id, token, uses_left: Some(uses), expires_at })))
}

async fn list_enroll_tokens(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db(|s| s.list_enroll_tokens()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateApiToken {
    name: String,
}

async fn create_api_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    require_admin(&state, &headers).await?;
    let req: CreateApiToken = parse_json(&body)?;
    check_name("name", &req.name)?;
    let token = new_secret("wdn_adm_");
    let (hash, now) = (token_hash(&token), now_ms());
    let t = state.db(move |s| s.insert_api_token(&req.name, &hash, now)).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id: t.id, token, uses_left: None, expires_at: None })))
}

/// An agent with its health now.
#[derive(Serialize)]
pub struct AgentView {
    /// The agent.
    #[serde(flatten)]
    pub agent: Agent,
    /// Inspector's health.
    pub health: AgentHealth,
    /// Inspector's health code.
    pub health_code: AgentHealthCode,
    /// Why.
    pub health_details: String,
}

fn agent_view(state: &AppState, agent: Agent) -> AgentView {
    let (health, health_code, health_details) =
        agent.health(now_ms(), HealthThresholds::for_heartbeat(state.config.heartbeat_seconds));
    AgentView { agent, health, health_code, health_details }
}

async fn list_agents(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<AgentView>>, ApiError> {
    require_admin(&state, &headers).await?;
    let agents = state.db(|s| s.list_agents()).await?;
    Ok(Json(agents.into_iter().map(|a| agent_view(&state, a)).collect()))
}

async fn get_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    require_admin(&state, &headers).await?;
    let agent = state.db(move |s| s.get_agent(&id)).await?;
    Ok(Json(agent_view(&state, agent)))
}

async fn retire_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    require_admin(&state, &headers).await?;
    let now = now_ms();
    let agent = state.db(move |s| s.retire_agent(&id, now)).await?;
    Ok(Json(agent_view(&state, agent)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTarget {
    name: String,
    #[serde(default)]
    tags: Vec<Attribute>,
    #[serde(default)]
    agent_ids: Vec<String>,
}

/// A target with its tag selection and the agents it selects now.
#[derive(Serialize)]
pub struct TargetView {
    /// The target.
    #[serde(flatten)]
    pub target: Target,
    /// The resource group's tag pairs.
    pub tags: Vec<Attribute>,
    /// Enrolled agents selected now (Inspector's PreviewAgents).
    pub selected_agents: Vec<String>,
}

async fn target_view(state: &AppState, target: Target) -> Result<TargetView, ApiError> {
    let t = target.clone();
    let (tags, selected_agents) = state
        .db(move |s| {
            let tags = match &t.resource_group_id {
                Some(g) => s.get_resource_group(g)?.tags,
                None => vec![],
            };
            Ok((tags, selected_agents(s, &t.id)?))
        })
        .await?;
    Ok(TargetView { target, tags, selected_agents })
}

async fn create_target(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<TargetView>), ApiError> {
    require_admin(&state, &headers).await?;
    let req: CreateTarget = parse_json(&body)?;
    check_name("name", &req.name)?;
    check_attributes("tags", &req.tags, 10)?;
    if req.agent_ids.len() > 500 {
        return Err(ApiError::bad_request("agent_ids: at most 500"));
    }
    let now = now_ms();
    let target = state.db(move |s| s.create_target_with_tags(&req.name, &req.tags, &req.agent_ids, now)).await?;
    Ok((StatusCode::CREATED, Json(target_view(&state, target).await?)))
}

async fn list_targets(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<TargetView>>, ApiError> {
    require_admin(&state, &headers).await?;
    let mut out = Vec::new();
    for t in state.db(|s| s.list_targets()).await? {
        out.push(target_view(&state, t).await?);
    }
    Ok(Json(out))
}

async fn get_target(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TargetView>, ApiError> {
    require_admin(&state, &headers).await?;
    let t = state.db(move |s| s.get_target(&id)).await?;
    Ok(Json(target_view(&state, t).await?))
}

async fn delete_target(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers).await?;
    state.db(move |s| s.delete_target(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTemplate {
    target_id: String,
    name: String,
    duration_seconds: u64,
    packages: Vec<String>,
    #[serde(default)]
    user_attributes: Vec<Attribute>,
    #[serde(default)]
    sampling_interval_seconds: Option<u64>,
}

/// Longest run: a week.
pub const MAX_DURATION_SECONDS: u64 = 7 * 86_400;
/// Default runtime sampling interval.
pub const DEFAULT_SAMPLING_SECONDS: u64 = 10;

async fn create_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    require_admin(&state, &headers).await?;
    let req: CreateTemplate = parse_json(&body)?;
    check_name("name", &req.name)?;
    if !(1..=MAX_DURATION_SECONDS).contains(&req.duration_seconds) {
        return Err(ApiError::bad_request(format!("duration_seconds: 1 to {MAX_DURATION_SECONDS}")));
    }
    let interval = req.sampling_interval_seconds.unwrap_or(DEFAULT_SAMPLING_SECONDS);
    if !(1..=3600).contains(&interval) {
        return Err(ApiError::bad_request("sampling_interval_seconds: 1 to 3600"));
    }
    if req.packages.is_empty() || req.packages.len() > 50 {
        return Err(ApiError::bad_request("packages: 1 to 50 package ids"));
    }
    for p in &req.packages {
        if !PACKAGES.iter().any(|k| k.0 == p) {
            let known: Vec<&str> = PACKAGES.iter().map(|k| k.0).collect();
            return Err(ApiError::bad_request(format!(
                "packages: unknown package {p:?} (known: {})",
                known.join(", ")
            )));
        }
    }
    check_attributes("user_attributes", &req.user_attributes, 10)?;
    let new = NewTemplate {
        target_id: req.target_id,
        name: req.name,
        duration_seconds: req.duration_seconds,
        sampling_interval_seconds: interval,
        packages: req.packages,
        user_attributes: req.user_attributes,
    };
    let now = now_ms();
    let t = state.db(move |s| s.create_template(&new, now)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[derive(Deserialize)]
struct TemplateFilter {
    target_id: Option<String>,
}

async fn list_templates(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<TemplateFilter>,
) -> Result<Json<Vec<Template>>, ApiError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db(move |s| s.list_templates(f.target_id.as_deref())).await?))
}

async fn get_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Template>, ApiError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db(move |s| s.get_template(&id)).await?))
}

async fn delete_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers).await?;
    state.db(move |s| s.delete_template(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRun {
    template_id: String,
    #[serde(default)]
    name: Option<String>,
}

/// An agent of a run, with its health now.
#[derive(Serialize)]
pub struct RunAgentView {
    /// The run agent.
    #[serde(flatten)]
    pub agent: RunAgent,
    /// Health.
    pub health: AgentHealth,
    /// Health code.
    pub health_code: AgentHealthCode,
    /// Why.
    pub health_details: String,
}

/// A run with its agents, finding counts and exclusions.
#[derive(Serialize)]
pub struct RunView {
    /// The run.
    #[serde(flatten)]
    pub run: Run,
    /// Agents and their collection status.
    pub agents: Vec<RunAgentView>,
    /// Findings per severity (every severity present).
    pub finding_counts: BTreeMap<Severity, u64>,
    /// Packages not evaluated, per agent, and why.
    pub exclusions: Vec<Exclusion>,
}

async fn run_view(state: &AppState, id: String) -> Result<RunView, ApiError> {
    let thresholds = HealthThresholds::for_heartbeat(state.config.heartbeat_seconds);
    state
        .db(move |s| {
            let run = s.get_run(&id)?;
            let now = now_ms();
            let mut agents = Vec::new();
            for ra in s.list_run_agents(&id)? {
                let (health, health_code, health_details) = match s.get_agent(&ra.agent_id) {
                    Ok(a) => a.health(now, thresholds),
                    Err(_) => (AgentHealth::Unknown, AgentHealthCode::Unknown, "agent record missing".into()),
                };
                agents.push(RunAgentView { agent: ra, health, health_code, health_details });
            }
            Ok(RunView { agents, finding_counts: s.finding_counts(&id)?, exclusions: s.list_exclusions(&id)?, run })
        })
        .await
}

async fn start_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    require_admin(&state, &headers).await?;
    let req: StartRun = parse_json(&body)?;
    if let Some(n) = &req.name {
        check_name("name", n)?;
    }
    let now = now_ms();
    let run = state.db(move |s| s.create_run(&req.template_id, req.name.as_deref(), now)).await?;
    state.notify_change();
    Ok((StatusCode::CREATED, Json(run_view(&state, run.id).await?)))
}

#[derive(Deserialize)]
struct RunFilter {
    template_id: Option<String>,
}

async fn list_runs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<RunFilter>,
) -> Result<Json<Vec<Run>>, ApiError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db(move |s| s.list_runs(f.template_id.as_deref())).await?))
}

async fn get_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    require_admin(&state, &headers).await?;
    Ok(Json(run_view(&state, id).await?))
}

async fn delete_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers).await?;
    state.db(move |s| s.delete_run(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopRun {
    #[serde(default)]
    action: Option<StopAction>,
}

/// `POST /v1/runs/{id}/stop`: START_EVALUATION (default) ends collection
/// and evaluates what was collected; SKIP_EVALUATION cancels at once.
async fn stop_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RunView>, ApiError> {
    require_admin(&state, &headers).await?;
    let req: StopRun = if body.is_empty() { StopRun { action: None } } else { parse_json(&body)? };
    let action = req.action.unwrap_or(StopAction::StartEvaluation);
    let run_id = id.clone();
    state
        .db(move |s| {
            let now = now_ms();
            let run = s.request_stop(&run_id, action, now)?;
            if action == StopAction::SkipEvaluation {
                // Cancel now; if the scheduler moved the run meanwhile, try from its new state.
                let mut current = run.state;
                for _ in 0..10 {
                    match s.transition_run(&run_id, current, RunState::Canceled, &Default::default(), now) {
                        Ok(_) => break,
                        Err(_) => {
                            current = s.get_run(&run_id)?.state;
                            if current.is_terminal() {
                                break;
                            }
                        }
                    }
                }
            }
            Ok(())
        })
        .await?;
    state.notify_change();
    Ok(Json(run_view(&state, id).await?))
}

#[derive(Deserialize)]
struct FindingFilter {
    run_id: Option<String>,
    agent_id: Option<String>,
    package: Option<String>,
    rule_id: Option<String>,
    severity: Option<String>,
}

async fn list_findings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<FindingFilter>,
) -> Result<Json<Vec<Finding>>, ApiError> {
    require_admin(&state, &headers).await?;
    let severities = match &f.severity {
        Some(s) => vec![s.parse::<Severity>().map_err(|e| ApiError::bad_request(format!("severity: {e}")))?],
        None => vec![],
    };
    let query = FindingQuery {
        run_ids: f.run_id.into_iter().collect(),
        agent_ids: f.agent_id.into_iter().collect(),
        packages: f.package.into_iter().collect(),
        rule_ids: f.rule_id.into_iter().collect(),
        severities,
    };
    Ok(Json(state.db(move |s| s.list_findings(&query)).await?))
}

#[cfg(test)]
#[path = "admin_api_tests.rs"]
mod tests;
