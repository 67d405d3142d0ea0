//! Event delivery end to end: a real HTTP receiver on loopback (axum) that
//! fails the first delivery with HTTP 500 and accepts the retry. The worker
//! runs with an injected clock, so the backoff is checked without waiting.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::{Received, webhook_receiver, write_topic_map};
use warden_inspector::events::{DeliveryWorker, Event, Events, TopicMap, signature_header};
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::{AssessmentRunNotificationSnsStatusCode, InspectorEvent, SubscribeToEventRequest};

const TEMPLATE: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb";
const RUN: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb/run/0-cccccccc";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:inspector-events";
const SECRET: &str = "webhook-secret-0123456789";

#[test]
fn a_failed_delivery_is_retried_after_backoff_and_logged() {
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    // The first delivery fails with 500, the retry is accepted.
    let addr = webhook_receiver(received.clone(), |n| {
        if n == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
    });
    let dir = tempfile::tempdir().unwrap();
    let map_path = write_topic_map(dir.path(), TOPIC, &format!("http://{addr}/hook"), SECRET);
    let events = Arc::new(Events::open(&dir.path().join("warden.db"), TopicMap::load(&map_path).unwrap()).unwrap());
    events
        .subscribe(
            &SubscribeToEventRequest {
                resource_arn: TEMPLATE.into(),
                event: InspectorEvent::AssessmentRunCompleted,
                topic_arn: TOPIC.into(),
            },
            Timestamp(1.0),
        )
        .unwrap();

    let now = 1_700_000_000;
    let event = Event {
        event: InspectorEvent::AssessmentRunCompleted,
        template_arn: TEMPLATE.into(),
        run_arn: RUN.into(),
        target_arn: "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa".into(),
        finding_arn: None,
        new_state: None,
        time: Timestamp(now as f64),
    };
    let notifications = events.publish(&event, now).unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].sns_publish_status_code, Some(AssessmentRunNotificationSnsStatusCode::Success));
    assert_eq!(notifications[0].sns_topic_arn.as_deref(), Some(TOPIC));
    assert!(!notifications[0].error);
    // An event nobody subscribed to produces no record and no delivery.
    let started = Event { event: InspectorEvent::AssessmentRunStarted, ..event.clone() };
    assert!(events.publish(&started, now).unwrap().is_empty());

    let worker = DeliveryWorker::new(events.clone());
    assert_eq!(worker.run_once(now).unwrap(), 1);
    let log = events.deliveries(10).unwrap();
    assert_eq!((log[0].state.as_str(), log[0].attempts, log[0].last_status), ("pending", 1, Some(500)));
    assert_eq!(log[0].next_attempt_at, now + 2);
    // Not due yet: nothing is sent.
    assert_eq!(worker.run_once(now + 1).unwrap(), 0);
    assert_eq!(worker.run_once(now + 2).unwrap(), 1);
    let log = events.deliveries(10).unwrap();
    assert_eq!(
        (log[0].state.as_str(), log[0].attempts, log[0].last_status, log[0].last_error.as_deref()),
        ("delivered", 2, Some(204), None)
    );
    assert_eq!(worker.run_once(now + 100).unwrap(), 0);

    let got = received.lock().unwrap();
    assert_eq!(got.len(), 2);
    for (i, (headers, body)) in got.iter().enumerate() {
        let sent_at = if i == 0 { now } else { now + 2 };
        assert_eq!(headers["x-warden-signature"], signature_header(SECRET, sent_at, body).as_str());
        assert_eq!(headers["x-warden-topic-arn"], TOPIC);
        let envelope: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(envelope["TopicArn"], TOPIC);
        let message: serde_json::Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        assert_eq!(message["event"], "ASSESSMENT_RUN_COMPLETED");
        assert_eq!(message["run"], RUN);
    }
    assert_eq!(got[0].1, got[1].1, "a retry sends the same notification");
}
