//! Event delivery end to end: a real HTTP receiver on loopback (axum) that
//! fails the first delivery with HTTP 500 and accepts the retry. The worker
//! runs with an injected clock, so the backoff is checked without waiting.

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use warden_inspector::events::{DeliveryWorker, Event, Events, TopicMap, signature_header};
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::{AssessmentRunNotificationSnsStatusCode, InspectorEvent, SubscribeToEventRequest};

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// Starts the receiver; the first request gets 500, later ones 204.
fn receiver(received: Received) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new().route(
                "/hook",
                post(move |headers: HeaderMap, body: String| {
                    let received = received.clone();
                    async move {
                        let mut r = received.lock().unwrap();
                        r.push((headers, body));
                        if r.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

const TEMPLATE: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb";
const RUN: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb/run/0-cccccccc";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:inspector-events";
const SECRET: &str = "webhook-secret-0123456789";

#[test]
fn a_failed_delivery_is_retried_after_backoff_and_logged() {
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let addr = receiver(received.clone());
    let dir = tempfile::tempdir().unwrap();
    let map_path = dir.path().join("topics.toml");
    std::fs::write(
        &map_path,
        format!("[[topic]]\narn = \"{TOPIC}\"\nurl = \"http://{addr}/hook\"\nsecret = \"{SECRET}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&map_path, std::fs::Permissions::from_mode(0o600)).unwrap();
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
