//! Event subscriptions and run notifications over a real in-memory SQLite
//! store and real `Events` tables (SQLite in a temporary directory).

use super::*;
use crate::inspector_backend::agents::tests::{run_with_agents, template};
use crate::inspector_backend::test_support::{Fixture, backend_over, block_on, ctx, fixture, write_topic_map};
use warden_inspector::events::{Events, TopicMap};
use warden_store::prelude::*;
use warden_store::{PublishedStep, RunState};

const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:inspector-events";

/// A fixture whose backend serves events through a real topic map file.
fn with_events(dir: &std::path::Path) -> (Fixture, Arc<Events>) {
    let map = write_topic_map(dir, TOPIC, "http://127.0.0.1:9/hook", "0123456789abcdef");
    let events = Arc::new(Events::open(&dir.join("events.db"), TopicMap::load(&map).unwrap()).unwrap());
    let f = fixture();
    let backend = backend_over(f.store.clone()).with_events(events.clone());
    (Fixture { store: f.store, backend }, events)
}

fn subscribe(arn: &str, event: InspectorEvent, topic: &str) -> SubscribeToEventRequest {
    SubscribeToEventRequest { resource_arn: arn.into(), event, topic_arn: topic.into() }
}

#[test]
fn subscriptions_need_an_existing_template_and_a_mapped_topic() {
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = with_events(dir.path());
    let tpl = template(&f.store, None, &["cve"]);
    let arn = f.backend.template_arn(&tpl).unwrap();
    block_on(async {
        for event in [InspectorEvent::AssessmentRunCompleted, InspectorEvent::FindingReported] {
            f.backend.subscribe_to_event(&ctx(), subscribe(&arn, event, TOPIC)).await.unwrap();
        }
        let listed = f
            .backend
            .list_event_subscriptions(
                &ctx(),
                ListEventSubscriptionsRequest { resource_arn: Some(arn.clone()), next_token: None, max_results: None },
            )
            .await
            .unwrap();
        assert_eq!(listed.subscriptions.len(), 1);
        assert_eq!(
            (listed.subscriptions[0].resource_arn.as_str(), listed.subscriptions[0].topic_arn.as_str()),
            (arn.as_str(), TOPIC)
        );
        assert_eq!(listed.subscriptions[0].event_subscriptions.len(), 2);

        let unknown = arn.replace(&tpl.id, "0-zzzzzzzz");
        let e = f.backend.subscribe_to_event(&ctx(), subscribe(&unknown, InspectorEvent::FindingReported, TOPIC)).await;
        assert!(
            matches!(
                e,
                Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, .. })
            ),
            "{e:?}"
        );
        let e = f
            .backend
            .list_event_subscriptions(
                &ctx(),
                ListEventSubscriptionsRequest { resource_arn: Some(unknown), next_token: None, max_results: None },
            )
            .await;
        assert!(matches!(e, Err(ApiError::NoSuchEntity { .. })), "{e:?}");
        let unmapped = "arn:aws:sns:us-west-2:123456789012:not-in-the-map";
        let e = f.backend.subscribe_to_event(&ctx(), subscribe(&arn, InspectorEvent::FindingReported, unmapped)).await;
        assert!(
            matches!(e, Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::SnsTopicDoesNotExist, .. })),
            "{e:?}"
        );

        let unsubscribe =
            |event| UnsubscribeFromEventRequest { resource_arn: arn.clone(), event, topic_arn: TOPIC.into() };
        f.backend.unsubscribe_from_event(&ctx(), unsubscribe(InspectorEvent::FindingReported)).await.unwrap();
        let e = f.backend.unsubscribe_from_event(&ctx(), unsubscribe(InspectorEvent::FindingReported)).await;
        assert!(matches!(e, Err(ApiError::NoSuchEntity { .. })), "{e:?}");
        let listed = f
            .backend
            .list_event_subscriptions(
                &ctx(),
                ListEventSubscriptionsRequest { resource_arn: None, next_token: None, max_results: None },
            )
            .await
            .unwrap();
        assert_eq!(listed.subscriptions[0].event_subscriptions[0].event, InspectorEvent::AssessmentRunCompleted);
    });
}

#[test]
fn without_a_topic_map_subscriptions_are_refused_clearly() {
    let f = fixture();
    let tpl = template(&f.store, None, &["cve"]);
    let arn = f.backend.template_arn(&tpl).unwrap();
    block_on(async {
        let e = f.backend.subscribe_to_event(&ctx(), subscribe(&arn, InspectorEvent::FindingReported, TOPIC)).await;
        let Err(ApiError::UnsupportedFeature { message }) = e else { panic!("{e:?}") };
        assert!(message.contains("topic map"), "{message}");
        let e = f
            .backend
            .list_event_subscriptions(
                &ctx(),
                ListEventSubscriptionsRequest { resource_arn: None, next_token: None, max_results: None },
            )
            .await;
        assert!(matches!(e, Err(ApiError::UnsupportedFeature { .. })), "{e:?}");
    });
}

#[test]
fn run_notifications_are_what_the_publisher_recorded() {
    let f = fixture();
    let tpl = template(&f.store, None, &["cve"]);
    let (run, _) = run_with_agents(&f, &tpl, &[]);
    assert!(f.backend.run_notifications(&run.id).unwrap().is_empty());
    let note = |event: &str, status: &str, error: bool| warden_store::RunNotification {
        date: 1_700_000_000_500,
        event: event.into(),
        message: Some("{\"event\":\"x\"}".into()),
        error,
        sns_topic_arn: Some(TOPIC.into()),
        sns_status: Some(status.into()),
    };
    f.store
        .record_published_event(&run.id, &PublishedStep::Started, &[note("ASSESSMENT_RUN_STARTED", "SUCCESS", false)])
        .unwrap();
    for i in 0..60 {
        f.store
            .record_published_event(
                &run.id,
                &PublishedStep::Finding(format!("0-{i:08}")),
                &[note("FINDING_REPORTED", "TOPIC_DOES_NOT_EXIST", true)],
            )
            .unwrap();
    }
    let notes = f.backend.run_notifications(&run.id).unwrap();
    assert_eq!(notes.len(), 50, "the model's bound");
    assert_eq!(notes[0].event, InspectorEvent::AssessmentRunStarted);
    assert_eq!(notes[0].date.0, 1_700_000_000.5);
    assert_eq!(notes[0].sns_publish_status_code, Some(AssessmentRunNotificationSnsStatusCode::Success));
    assert!(notes[1].error);
    assert_eq!(notes[1].sns_publish_status_code, Some(AssessmentRunNotificationSnsStatusCode::TopicDoesNotExist));
    let progress = f.store.run_event_progress(&run.id).unwrap();
    assert!(progress.started_published);
    assert_eq!(progress.findings_after.as_deref(), Some("0-00000059"));
}

#[test]
fn runs_waiting_in_a_state_do_not_crowd_out_runs_with_events() {
    let f = fixture();
    for _ in 0..120 {
        let tpl = template(&f.store, None, &["cve"]);
        f.store.create_run(&tpl.id, None, 1).unwrap();
    }
    assert!(f.store.runs_with_unpublished_events(100).unwrap().is_empty(), "CREATED is not an event");
    let tpl = template(&f.store, None, &["cve"]);
    let run = f.store.create_run(&tpl.id, None, 2).unwrap();
    let update = warden_store::RunUpdate::default();
    f.store.transition_run(&run.id, RunState::Created, RunState::StartDataCollectionPending, &update, 3).unwrap();
    assert_eq!(f.store.runs_with_unpublished_events(100).unwrap(), vec![run.id.clone()]);
    f.store.record_published_event(&run.id, &PublishedStep::StateChange(1), &[]).unwrap();
    assert!(f.store.runs_with_unpublished_events(100).unwrap().is_empty(), "published up to date");
    f.store.transition_run(&run.id, RunState::StartDataCollectionPending, RunState::Canceled, &update, 4).unwrap();
    assert_eq!(f.store.runs_with_unpublished_events(100).unwrap(), vec![run.id.clone()]);
    f.store.record_published_event(&run.id, &PublishedStep::StateChange(2), &[]).unwrap();
    assert_eq!(f.store.runs_with_unpublished_events(100).unwrap(), vec![run.id.clone()], "COMPLETED still due");
    f.store.record_published_event(&run.id, &PublishedStep::Completed, &[]).unwrap();
    assert!(f.store.runs_with_unpublished_events(100).unwrap().is_empty());
}
