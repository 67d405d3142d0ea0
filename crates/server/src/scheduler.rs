//! The run scheduler: moves every non-terminal run one state at a time,
//! deciding only from what the store holds.
//!
//! Why it is a loop over stored state rather than timers: a server killed
//! with SIGKILL keeps no timers. On restart the loop finds each run where it
//! was, recomputes deadlines from `started_at`/`collect_until` and goes on.
//! Agent silence is counted from no earlier than this process's start, so
//! agents are not blamed for the server's own downtime.
//!
//! Lifecycle (`docs/fleet/README.md`):
//! CREATED → START_DATA_COLLECTION_PENDING (agents resolved) →
//! START_DATA_COLLECTION_IN_PROGRESS → COLLECTING_DATA (deadline set) →
//! STOP_DATA_COLLECTION_PENDING (deadline or stop) → DATA_COLLECTED (every
//! agent collected, failed or timed out) → START_EVALUATING_RULES_PENDING →
//! EVALUATING_RULES → COMPLETED | COMPLETED_WITH_ERRORS; FAILED when no agent
//! is selected or none delivered data; CANCELED on a stop without evaluation.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use warden_store::{
    FleetStore, HealthThresholds, Run, RunAgentStatus, RunState, RunUpdate, StopAction, StoreError, UnixMillis,
};

use crate::{AppState, now_ms};

/// Drives runs until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let evaluating: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut changes = state.changes.subscribe();
    let mut last_prune = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let st = state.clone();
        let busy = evaluating.clone();
        let result = tokio::task::spawn_blocking(move || tick(&st, &busy)).await;
        match result {
            Ok(Ok(to_evaluate)) => {
                for run in to_evaluate {
                    spawn_evaluation(&state, &evaluating, run);
                }
            }
            Ok(Err(e)) => eprintln!("warden serve: scheduler: {e}"),
            Err(e) => eprintln!("warden serve: scheduler task failed: {e}"),
        }
        let now = now_ms();
        if now - last_prune > 60_000 {
            last_prune = now;
            let cutoff = now - 2 * warden_model::fleet::MAX_CLOCK_SKEW_SECS * 1000;
            let _ = state.db(move |s| s.prune_nonces(cutoff)).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.tick) => {}
            _ = changes.changed() => {}
            _ = stop.changed() => {}
        }
    }
}

fn spawn_evaluation(state: &AppState, evaluating: &Arc<Mutex<HashSet<String>>>, run: Run) {
    if !evaluating.lock().unwrap_or_else(|p| p.into_inner()).insert(run.id.clone()) {
        return;
    }
    let (st, busy) = (state.clone(), evaluating.clone());
    tokio::task::spawn_blocking(move || {
        let id = run.id.clone();
        if let Err(e) = crate::evaluate::evaluate_run(&st, &run) {
            eprintln!("warden serve: run {id}: evaluation failed: {e}");
            let update = RunUpdate { failure: Some(format!("evaluation failed: {e}")), ..Default::default() };
            let _ = st.store.transition_run(&id, RunState::EvaluatingRules, RunState::Error, &update, now_ms());
        }
        busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        st.notify_change();
    });
}

/// One pass over the active runs; returns runs ready to evaluate.
fn tick(state: &AppState, evaluating: &Mutex<HashSet<String>>) -> Result<Vec<Run>, StoreError> {
    let store = state.store.as_ref();
    let mut to_evaluate = Vec::new();
    for id in store.active_run_ids()? {
        let mut changed = false;
        // Several steps may happen in one pass (e.g. CREATED to COLLECTING_DATA).
        for _ in 0..8 {
            let run = store.get_run(&id)?;
            if run.state == RunState::EvaluatingRules {
                if !evaluating.lock().unwrap_or_else(|p| p.into_inner()).contains(&id) {
                    to_evaluate.push(run);
                }
                break;
            }
            match step(state, &run) {
                Ok(true) => changed = true,
                Ok(false) => break,
                // Another writer (a stop request) moved the run: look again next pass.
                Err(StoreError::Conflict(_)) => break,
                Err(e) => return Err(e),
            }
        }
        if changed {
            state.notify_change();
        }
    }
    Ok(to_evaluate)
}

/// Takes at most one transition of `run`; true when it moved.
fn step(state: &AppState, run: &Run) -> Result<bool, StoreError> {
    let store = state.store.as_ref();
    let now = now_ms();
    let go = |to: RunState, update: RunUpdate| store.transition_run(&run.id, run.state, to, &update, now).map(|_| true);
    if run.stop_action == Some(StopAction::SkipEvaluation) {
        return go(RunState::Canceled, RunUpdate::default());
    }
    match run.state {
        RunState::Created => {
            let agents = selected_agents(store, &run.target_id)?;
            if agents.is_empty() {
                let failure = Some("the target selects no enrolled agent".to_string());
                return go(RunState::Failed, RunUpdate { failure, ..Default::default() });
            }
            match store.assign_run_agents(&run.id, &agents, now) {
                Ok(()) => {}
                // A run started through /v1 meets its agents only here: over
                // the agents-in-runs limit it fails, saying which limit.
                Err(e @ StoreError::LimitExceeded(..)) => {
                    return go(RunState::Failed, RunUpdate { failure: Some(e.to_string()), ..Default::default() });
                }
                Err(e) => return Err(e),
            }
            go(RunState::StartDataCollectionPending, RunUpdate::default())
        }
        RunState::StartDataCollectionPending => go(RunState::StartDataCollectionInProgress, RunUpdate::default()),
        RunState::StartDataCollectionInProgress => {
            let until = now + run.duration_seconds as i64 * 1000;
            go(
                RunState::CollectingData,
                RunUpdate { started_at: Some(now), collect_until: Some(until), ..Default::default() },
            )
        }
        RunState::CollectingData => {
            let deadline = run.collect_until.unwrap_or(now);
            if now >= deadline || run.stop_action == Some(StopAction::StartEvaluation) {
                go(RunState::StopDataCollectionPending, RunUpdate::default())
            } else {
                Ok(false)
            }
        }
        RunState::StopDataCollectionPending => settle_agents(state, run, now),
        RunState::DataCollected => go(RunState::StartEvaluatingRulesPending, RunUpdate::default()),
        RunState::StartEvaluatingRulesPending => go(RunState::EvaluatingRules, RunUpdate::default()),
        _ => Ok(false),
    }
}

/// The ids of the enrolled agents a target selects now.
pub fn selected_agents(store: &dyn FleetStore, target_id: &str) -> Result<Vec<String>, StoreError> {
    let target = store.get_target(target_id)?;
    let group = target.resource_group_id.as_deref().map(|g| store.get_resource_group(g)).transpose()?;
    Ok(store.list_agents()?.into_iter().filter(|a| target.selects(group.as_ref(), a)).map(|a| a.id).collect())
}

/// In STOP_DATA_COLLECTION_PENDING: decides each agent's status; when all
/// are final, moves to DATA_COLLECTED (or FAILED when nobody delivered).
fn settle_agents(state: &AppState, run: &Run, now: UnixMillis) -> Result<bool, StoreError> {
    let store = state.store.as_ref();
    let thresholds = HealthThresholds::for_heartbeat(state.config.heartbeat_seconds);
    let stop_entered = run
        .state_changes
        .iter()
        .rev()
        .find(|c| c.state == RunState::StopDataCollectionPending)
        .map(|c| c.changed_at)
        .unwrap_or(now);
    // Silence and grace both count from no earlier than this process's start.
    let grace_from = stop_entered.max(state.started_at);
    let grace_over = now - grace_from > state.config.stop_grace_seconds as i64 * 1000;
    let mut all_final = true;
    for ra in store.list_run_agents(&run.id)? {
        if ra.status.is_final() {
            continue;
        }
        let (received, _) = store.telemetry_progress(&run.id, &ra.agent_id)?;
        let agent = store.get_agent(&ra.agent_id)?;
        let last_heard = agent.last_heartbeat_at.unwrap_or(ra.assigned_at).max(state.started_at);
        let silent = now - last_heard > thresholds.unhealthy_after;
        let decided = match ra.reported_phase.as_deref() {
            Some("finished") if ra.reported_last_seq.is_none_or(|last| received > last) => {
                Some((RunAgentStatus::Collected, None))
            }
            Some("failed") => Some((RunAgentStatus::Failed, ra.status_details.clone())),
            _ if agent.retired_at.is_some() => {
                Some((RunAgentStatus::Failed, Some("agent retired during the run".into())))
            }
            _ if silent => Some((
                RunAgentStatus::TimedOut,
                Some(format!("agent stopped reporting: no heartbeat for {} s", (now - last_heard) / 1000)),
            )),
            _ if grace_over => Some((
                RunAgentStatus::TimedOut,
                Some(format!(
                    "agent did not finish within {} s after collection ended ({received} documents received)",
                    state.config.stop_grace_seconds
                )),
            )),
            _ => None,
        };
        match decided {
            Some((status, details)) => store.set_run_agent_status(&run.id, &ra.agent_id, status, details.as_deref())?,
            None => all_final = false,
        }
    }
    if !all_final {
        return Ok(false);
    }
    let agents = store.list_run_agents(&run.id)?;
    let delivered = agents.iter().filter(|a| a.telemetry.iter().any(|t| t.kind == "snapshot")).count();
    if delivered == 0 {
        let failure = Some("no agent delivered a host snapshot".to_string());
        store.transition_run(
            &run.id,
            run.state,
            RunState::Failed,
            &RunUpdate { failure, ..Default::default() },
            now,
        )?;
        return Ok(true);
    }
    let update = RunUpdate { data_collected: Some(true), ..Default::default() };
    store.transition_run(&run.id, run.state, RunState::DataCollected, &update, now)?;
    Ok(true)
}
