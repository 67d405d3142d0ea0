//! The agent protocol's three endpoints: enroll, heartbeat, telemetry.
//!
//! Why the server only answers: agents initiate every connection, so agents
//! behind NAT or egress-only firewalls work, and the heartbeat answer is the
//! only channel for instructions: a list of typed [`Assignment`]s, never a
//! command. Bodies are taken as bytes because the signature covers them.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use warden_model::fleet::{
    AgentActivity, Assignment, EnrollRequest, EnrollResponse, HeartbeatRequest, HeartbeatResponse, RunPhase,
    TelemetryAck, TelemetryDocument,
};
use warden_store::{Agent, PutOutcome, RunState, new_agent_id, token_hash};

use crate::auth::{hex_decode, verify_agent};
use crate::error::parse_json;
use crate::{ApiError, AppState, now_ms};

/// Longest a heartbeat may wait for a new assignment.
const MAX_LONG_POLL: Duration = Duration::from_secs(30);

/// `POST /agent/v1/enroll`: exchange an enroll token for an agent identity.
pub async fn enroll(State(state): State<AppState>, body: Bytes) -> Result<Json<EnrollResponse>, ApiError> {
    let req: EnrollRequest = parse_json(&body)?;
    let public_key = hex_decode(&req.public_key)
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ApiError::bad_request("public_key: expected 64 hex digits (an Ed25519 public key)"))?;
    if req.tags.len() > 50 || req.tags.iter().any(|(k, v)| k.is_empty() || k.len() > 128 || v.len() > 256) {
        return Err(ApiError::bad_request("tags: at most 50, keys 1-128 and values 0-256 characters"));
    }
    let hash = token_hash(&req.token);
    let now = now_ms();
    state
        .db(move |s| s.consume_enroll_token(&hash, now))
        .await
        .map_err(|e| ApiError::unauthorized(format!("enrollment refused: {}", e.message)))?;
    let agent = Agent {
        id: new_agent_id(),
        public_key,
        tags: req.tags,
        host: req.host,
        enrolled_at: now,
        last_heartbeat_at: None,
        activity: None,
        activity_details: None,
        retired_at: None,
    };
    let id = agent.id.clone();
    state.db(move |s| s.insert_agent(&agent)).await?;
    Ok(Json(EnrollResponse { agent_id: id, heartbeat_seconds: state.config.heartbeat_seconds }))
}

/// Query of a heartbeat: `?wait=SECONDS` long-polls for a new assignment.
#[derive(serde::Deserialize, Default)]
pub struct HeartbeatQuery {
    /// Seconds to wait for a change when there is nothing new to say.
    #[serde(default)]
    pub wait: Option<u64>,
}

/// `POST /agent/v1/heartbeat[?wait=N]`: record health and run progress;
/// answer with the assignments.
pub async fn heartbeat(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    let agent = verify_agent(&state, &method, &uri, &headers, &body).await?;
    let query: HeartbeatQuery =
        uri.query().map(serde_urlencoded_wait).transpose().map_err(ApiError::bad_request)?.unwrap_or_default();
    let req: HeartbeatRequest = parse_json(&body)?;
    let now = now_ms();
    let activity =
        serde_json::to_value(req.activity).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    {
        let (id, details, host, runs) = (agent.id.clone(), req.details.clone(), req.host.clone(), req.runs.clone());
        state
            .db(move |s| {
                s.record_heartbeat(&id, &activity, details.as_deref(), &host, now)?;
                for p in &runs {
                    let phase = match p.phase {
                        RunPhase::Collecting => "collecting",
                        RunPhase::Finished => "finished",
                        RunPhase::Failed => "failed",
                    };
                    // A run the agent is not part of is ignored here; the answer tells it to stop.
                    let _ = s.record_run_progress(&p.run, &id, phase, p.last_seq, p.error.as_deref(), now);
                }
                Ok(())
            })
            .await?;
    }
    let mut watcher = state.changes.subscribe();
    let mut assignments = assignments_for(&state, &agent.id, &req).await?;
    // Never past the heartbeat interval: the wait must not make the agent look silent.
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(state.config.heartbeat_seconds)).min(MAX_LONG_POLL);
    if assignments.is_empty() && req.activity != AgentActivity::Shutdown && !wait.is_zero() {
        let deadline = tokio::time::Instant::now() + wait;
        while assignments.is_empty() {
            match tokio::time::timeout_at(deadline, watcher.changed()).await {
                Ok(Ok(())) => assignments = assignments_for(&state, &agent.id, &req).await?,
                _ => break,
            }
        }
    }
    Ok(Json(HeartbeatResponse {
        server_time: now_ms() / 1000,
        heartbeat_seconds: state.config.heartbeat_seconds,
        assignments,
    }))
}

fn serde_urlencoded_wait(query: &str) -> Result<HeartbeatQuery, String> {
    let mut out = HeartbeatQuery::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("wait", v)) => {
                out.wait = Some(v.parse().map_err(|_| format!("wait: not a number of seconds: {v:?}"))?)
            }
            _ => return Err(format!("unknown query parameter {pair:?}")),
        }
    }
    Ok(out)
}

/// What an agent should be doing: collect for runs starting or collecting
/// whose agent row is not final; stop runs that are stopping, and any run
/// the agent still reports that is no longer active for it.
async fn assignments_for(
    state: &AppState,
    agent_id: &str,
    req: &HeartbeatRequest,
) -> Result<Vec<Assignment>, ApiError> {
    let id = agent_id.to_string();
    let active = state.db(move |s| s.agent_active_runs(&id)).await?;
    let mut out = Vec::new();
    let mut listed = BTreeSet::new();
    for (run, ra) in active {
        if ra.status.is_final() {
            continue;
        }
        listed.insert(run.id.clone());
        match run.state {
            RunState::StartDataCollectionInProgress | RunState::CollectingData => {
                let until = run.collect_until.unwrap_or_else(|| now_ms() + run.duration_seconds as i64 * 1000);
                out.push(Assignment::Collect {
                    run: run.id,
                    until: until / 1000,
                    interval_seconds: run.sampling_interval_seconds,
                })
            }
            _ => out.push(Assignment::Stop { run: run.id }),
        }
    }
    for p in &req.runs {
        if !listed.contains(&p.run) && p.phase == RunPhase::Collecting {
            out.push(Assignment::Stop { run: p.run.clone() });
        }
    }
    Ok(out)
}

/// `POST /agent/v1/runs/{run}/telemetry`: one document, idempotent on seq.
pub async fn telemetry(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TelemetryAck>, ApiError> {
    let agent = verify_agent(&state, &method, &uri, &headers, &body).await?;
    let doc: TelemetryDocument = parse_json(&body)?;
    let (run, agent_id) = (run_id.clone(), agent.id.clone());
    let run_state = state
        .db(move |s| {
            let run = s.get_run(&run)?;
            s.get_run_agent(&run.id, &agent_id)?;
            Ok(run.state)
        })
        .await
        .map_err(|e| match e.status {
            axum::http::StatusCode::NOT_FOUND => {
                ApiError::forbidden(format!("agent {} is not part of run {run_id}", agent.id))
            }
            _ => e,
        })?;
    if !run_state.accepts_telemetry() {
        return Err(ApiError::conflict(format!("run {run_id} is {run_state} and accepts no more telemetry")));
    }
    let text = serde_json::to_string(&doc.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (seq, kind, now) = (doc.seq, doc.kind.as_str(), now_ms());
    let outcome = state.db(move |s| s.put_telemetry(&run_id, &agent.id, seq, kind, &text, now)).await?;
    Ok(Json(TelemetryAck { seq, duplicate: outcome == PutOutcome::Duplicate }))
}
