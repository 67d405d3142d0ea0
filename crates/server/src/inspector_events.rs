//! The Inspector event publisher: turns what happens to runs in the fleet
//! store into `ASSESSMENT_RUN_STARTED`, `ASSESSMENT_RUN_STATE_CHANGED`,
//! `FINDING_REPORTED` and `ASSESSMENT_RUN_COMPLETED` events, once each.
//!
//! Why it is a store watcher and not a hook in the scheduler: runs change
//! state in several places (scheduler, evaluation, the APIs) and a server
//! may be killed at any moment; reading the store's state history and
//! remembering, in the store (`inspector_run_event_progress`), how far each
//! run was published makes the publisher independent of who changed what
//! and lets a restart resume where it stopped. Each step is recorded with
//! the run's `notifications[]` entries it produced in one transaction, after
//! `Events::publish` queued the deliveries (in the events tables, which
//! `DeliveryWorker` sends). A clean stop (the `stop` channel) never loses or
//! repeats an event; only a crash in the instant between queueing one
//! event's deliveries and recording the step would queue that one event
//! again on restart (the events tables are a separate connection, so the two
//! writes cannot share a transaction).
//!
//! Order per run: STARTED (when the run first leaves CREATED for a
//! collecting state), one STATE_CHANGED per entry of the state history after
//! CREATED, then for a COMPLETED or COMPLETED_WITH_ERRORS run one
//! FINDING_REPORTED per finding (in id order), and last COMPLETED for every
//! terminal state.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use warden_inspector::arn::{ArnContext, Resource, ResourceId};
use warden_inspector::events::{Event, Events};
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::{AssessmentRunNotification, InspectorEvent};
use warden_store::{FleetStore, PublishedStep, Run, RunNotification, RunState, StoreError, UnixMillis};

/// How often the store is checked for new run events.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Runs looked at per pass.
const RUNS_PER_PASS: usize = 100;
/// Finding ids read per query.
const FINDINGS_PER_QUERY: usize = 100;

/// Publishes run events until `stop` turns true (or its sender is dropped).
/// Errors are logged and the pass is retried at the next interval.
pub async fn run_event_publisher(
    store: Arc<dyn FleetStore>,
    events: Arc<Events>,
    arns: ArnContext,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let (s, e, a) = (store.clone(), events.clone(), arns.clone());
        match tokio::task::spawn_blocking(move || publish_pending(s.as_ref(), &e, &a)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("warden: inspector events: {e}"),
            Err(e) => eprintln!("warden: inspector events: publisher task failed: {e}"),
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

/// One pass: publishes every event not yet published, returns how many.
pub fn publish_pending(store: &dyn FleetStore, events: &Events, arns: &ArnContext) -> Result<usize, String> {
    let mut published = 0;
    for run_id in store.runs_with_unpublished_events(RUNS_PER_PASS).map_err(|e| e.to_string())? {
        match publish_run(store, events, arns, &run_id) {
            Ok(n) => published += n,
            // Deleted between the listing and now: nothing left to say about it.
            Err(PublishError::Store(StoreError::NotFound(..))) => {}
            Err(e) => return Err(format!("run {run_id}: {e}")),
        }
    }
    Ok(published)
}

#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// The ARNs an event of a run names.
struct RunArns {
    target: String,
    template: String,
    run: String,
}

fn run_arns(arns: &ArnContext, run: &Run, target_id: &str) -> Result<RunArns, PublishError> {
    let id = |s: &str| {
        ResourceId::parse(s).ok_or_else(|| PublishError::Other(format!("stored id {s:?} is not an Inspector id")))
    };
    let (target, template, run_id) = (id(target_id)?, id(&run.template_id)?, id(&run.id)?);
    Ok(RunArns {
        target: arns.arn(Resource::Target(target.clone())).to_string(),
        template: arns.arn(Resource::Template { target: target.clone(), template: template.clone() }).to_string(),
        run: arns.arn(Resource::Run { target, template, run: run_id }).to_string(),
    })
}

fn publish_run(
    store: &dyn FleetStore,
    events: &Events,
    arns: &ArnContext,
    run_id: &str,
) -> Result<usize, PublishError> {
    let run = store.get_run(run_id)?;
    let template = store.get_template(&run.template_id)?;
    let names = run_arns(arns, &run, &template.target_id)?;
    let mut progress = store.run_event_progress(run_id)?;
    let mut published = 0;
    let mut publish = |event: InspectorEvent,
                       at: UnixMillis,
                       finding_arn: Option<String>,
                       new_state: Option<String>,
                       step: PublishedStep|
     -> Result<(), PublishError> {
        let event = Event {
            event,
            template_arn: names.template.clone(),
            run_arn: names.run.clone(),
            target_arn: names.target.clone(),
            finding_arn,
            new_state,
            time: Timestamp(at as f64 / 1000.0),
        };
        let notifications =
            events.publish(&event, crate::now_ms() / 1000).map_err(|e| PublishError::Other(e.to_string()))?;
        let stored: Vec<RunNotification> = notifications.iter().map(|n| stored_notification(n, at)).collect();
        store.record_published_event(run_id, &step, &stored)?;
        published += 1;
        Ok(())
    };

    if !progress.started_published {
        let started = run.state_changes.iter().find(|c| c.state != RunState::Created && !c.state.is_terminal());
        if let Some(change) = started {
            publish(InspectorEvent::AssessmentRunStarted, change.changed_at, None, None, PublishedStep::Started)?;
            progress.started_published = true;
        }
    }
    let from = usize::try_from(progress.state_changes_published).unwrap_or(usize::MAX).max(1);
    for (position, change) in run.state_changes.iter().enumerate().skip(from) {
        publish(
            InspectorEvent::AssessmentRunStateChanged,
            change.changed_at,
            None,
            Some(change.state.as_str().to_string()),
            PublishedStep::StateChange(position as u64),
        )?;
    }
    let completed_at = run.completed_at.unwrap_or(run.state_changed_at);
    if matches!(run.state, RunState::Completed | RunState::CompletedWithErrors) && !progress.findings_done {
        let mut after = progress.findings_after.clone();
        loop {
            let ids = store.finding_ids_after(run_id, after.as_deref(), FINDINGS_PER_QUERY)?;
            if ids.is_empty() {
                store.record_published_event(run_id, &PublishedStep::FindingsDone, &[])?;
                break;
            }
            for id in ids {
                let finding = ResourceId::parse(&id)
                    .ok_or_else(|| PublishError::Other(format!("stored finding id {id:?} is not an Inspector id")))?;
                let finding_arn = format!("{}/finding/{finding}", names.run);
                publish(
                    InspectorEvent::FindingReported,
                    completed_at,
                    Some(finding_arn),
                    None,
                    PublishedStep::Finding(id.clone()),
                )?;
                after = Some(id);
            }
        }
    }
    if run.state.is_terminal() && !progress.completed_published {
        publish(InspectorEvent::AssessmentRunCompleted, completed_at, None, None, PublishedStep::Completed)?;
    }
    Ok(published)
}

/// What `Events::publish` returned, as the run keeps it.
fn stored_notification(n: &AssessmentRunNotification, at: UnixMillis) -> RunNotification {
    RunNotification {
        date: at,
        event: n.event.as_str().to_string(),
        message: n.message.clone(),
        error: n.error,
        sns_topic_arn: n.sns_topic_arn.clone(),
        sns_status: n
            .sns_publish_status_code
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
    }
}
