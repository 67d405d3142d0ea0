//! Inspector events delivered as signed webhooks: subscriptions, the
//! topic-to-webhook map, the delivery queue and log, and the worker.
//!
//! Why it exists: Inspector published `ASSESSMENT_RUN_STARTED`,
//! `ASSESSMENT_RUN_COMPLETED`, `ASSESSMENT_RUN_STATE_CHANGED` and
//! `FINDING_REPORTED` to SNS topics; a self-hosted server has no SNS, so each
//! topic ARN a script subscribes is mapped, in a configuration file, to an
//! HTTPS (or HTTP) endpoint and an HMAC key. Warden POSTs an SNS-style
//! notification there, signed `X-Warden-Signature: t=<unix>,v1=<hex
//! HMAC-SHA256(key, "<unix>.<body>")>`, retries with exponential backoff,
//! and keeps every attempt in `inspector_event_deliveries`. The run keeps
//! Inspector's `notifications[]` record of each publication
//! (`docs/inspector-api.md`).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::paging::{Cursor, Pager, SUBSCRIPTION_PAGE};
use crate::timestamp::Timestamp;
use crate::types::{
    AssessmentRunNotification, AssessmentRunNotificationSnsStatusCode, EventSubscription, InspectorEvent,
    InvalidInputErrorCode, LimitExceededErrorCode, ListEventSubscriptionsRequest, ListEventSubscriptionsResponse,
    NoSuchEntityErrorCode, SubscribeToEventRequest, Subscription, UnsubscribeFromEventRequest,
};

/// Where one topic's notifications go.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// The SNS topic ARN scripts subscribe.
    pub arn: String,
    /// `https://...` (or `http://` for a receiver on the same host).
    pub url: String,
    /// HMAC-SHA256 key the receiver checks the signature with.
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("arn", &self.arn).field("url", &self.url).finish_non_exhaustive()
    }
}

/// The topic map file: `[[topic]]` tables of `arn`, `url`, `secret`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicMap {
    topics: BTreeMap<String, Webhook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    #[serde(default)]
    topic: Vec<Webhook>,
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME` (any partition).
fn is_sns_topic_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    matches!(parts.as_slice(), ["arn", p, "sns", r, a, name]
        if p.starts_with("aws") && !r.is_empty() && a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty() && name.len() <= 256 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

impl TopicMap {
    /// Reads the map; the file holds HMAC keys, so it must not be readable
    /// by group or others. Errors name the file, and the line where TOML has one.
    pub fn load(path: &Path) -> Result<TopicMap, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!("{shown}: holds webhook keys but has mode {mode:04o}; chmod 600 {shown}"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        TopicMap::parse(&text).map_err(|e| format!("{shown}: {e}"))
    }

    /// Parses the TOML text.
    pub fn parse(text: &str) -> Result<TopicMap, String> {
        let file: TopicFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        let mut topics = BTreeMap::new();
        for (i, t) in file.topic.into_iter().enumerate() {
            let which = format!("topic #{} ({})", i + 1, t.arn);
            if !is_sns_topic_arn(&t.arn) {
                return Err(format!("{which}: arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"));
            }
            if !(t.url.starts_with("https://") || t.url.starts_with("http://")) {
                return Err(format!("{which}: url must start with https:// or http://"));
            }
            if t.secret.len() < 16 {
                return Err(format!("{which}: secret must be at least 16 characters"));
            }
            if topics.insert(t.arn.clone(), t).is_some() {
                return Err(format!("{which}: topic listed twice"));
            }
        }
        Ok(TopicMap { topics })
    }

    /// The webhook of a topic.
    pub fn get(&self, topic_arn: &str) -> Option<&Webhook> {
        self.topics.get(topic_arn)
    }
}

/// The event kinds Warden delivers (`OTHER` is refused on subscribe).
pub const DELIVERED_EVENTS: [InspectorEvent; 4] = [
    InspectorEvent::AssessmentRunStarted,
    InspectorEvent::AssessmentRunCompleted,
    InspectorEvent::AssessmentRunStateChanged,
    InspectorEvent::FindingReported,
];

/// One event to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Which event.
    pub event: InspectorEvent,
    /// The template whose subscriptions receive it.
    pub template_arn: String,
    /// The run.
    pub run_arn: String,
    /// The run's target.
    pub target_arn: String,
    /// For `FINDING_REPORTED`.
    pub finding_arn: Option<String>,
    /// For `ASSESSMENT_RUN_STATE_CHANGED`: the new state (wire name).
    pub new_state: Option<String>,
    /// When it happened.
    pub time: Timestamp,
}

impl Event {
    /// The SNS `Message` Inspector sent (confirmed keys `event`, `run`,
    /// `finding`; `template`, `target`, `time`, `newstate` as seen in the wild).
    pub fn message(&self) -> String {
        let mut m = json!({
            "event": self.event.as_str(),
            "run": self.run_arn,
            "template": self.template_arn,
            "target": self.target_arn,
            "time": warden_collect::time::rfc3339(self.time.0 as i64),
        });
        if let Some(f) = &self.finding_arn {
            m["finding"] = json!(f);
        }
        if let Some(s) = &self.new_state {
            m["newstate"] = json!(s);
        }
        m.to_string()
    }
}

const MIGRATIONS: &[&str] = &["CREATE TABLE inspector_event_subscriptions (
        resource_arn TEXT NOT NULL, topic_arn TEXT NOT NULL, event TEXT NOT NULL, subscribed_at REAL NOT NULL,
        PRIMARY KEY (resource_arn, topic_arn, event));
     CREATE TABLE inspector_event_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic_arn TEXT NOT NULL, url TEXT NOT NULL, event TEXT NOT NULL, run_arn TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
        last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER);
     CREATE INDEX inspector_event_deliveries_due ON inspector_event_deliveries (state, next_attempt_at);"];

/// Retry schedule: the first retry after 2 s, doubling, at most an hour
/// apart; a delivery is given up after this many attempts.
pub const MAX_ATTEMPTS: i64 = 8;

/// Seconds to wait after the `attempts`-th failed attempt.
pub fn backoff_seconds(attempts: i64) -> i64 {
    (2i64 << (attempts.clamp(1, 20) - 1)).min(3600)
}

/// The most event subscriptions (rows of (template, event, topic)) kept
/// when not configured. AWS documents that the limit exists
/// (`EVENT_SUBSCRIPTION_LIMIT_EXCEEDED`) but not its value: a generous default.
pub const DEFAULT_SUBSCRIPTION_LIMIT: u64 = 1_000;

/// Subscriptions and the delivery queue, in the server's database.
pub struct Events {
    conn: Mutex<Connection>,
    topics: TopicMap,
    /// Most subscriptions kept (`warden serve --limit-subscriptions`).
    subscription_limit: u64,
}

/// One row of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// Topic.
    pub topic_arn: String,
    /// `pending`, `delivered`, `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// Epoch seconds of the next attempt (pending only).
    pub next_attempt_at: i64,
    /// The POSTed body.
    pub body: String,
}

/// A pending delivery whose time has come.
struct DueDelivery {
    id: i64,
    topic: String,
    url: String,
    body: String,
    attempts: i64,
}

fn sql_err(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format!("event store: {e}"))
}

impl Events {
    /// Opens the tables in `db` with the topic map.
    pub fn open(db: &Path, topics: TopicMap) -> Result<Events, String> {
        let mut conn = crate::db::open(db)?;
        crate::db::migrate(&mut conn, "events", MIGRATIONS)?;
        Ok(Events { conn: Mutex::new(conn), topics, subscription_limit: DEFAULT_SUBSCRIPTION_LIMIT })
    }

    /// The same tables, keeping at most `limit` subscriptions.
    pub fn with_subscription_limit(mut self, limit: u64) -> Events {
        self.subscription_limit = limit;
        self
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Every write is one statement or one transaction: a poisoned lock leaves nothing half-done.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves `SubscribeToEvent` (the backend first checks that the template exists).
    pub fn subscribe(&self, req: &SubscribeToEventRequest, now: Timestamp) -> Result<(), ApiError> {
        if !DELIVERED_EVENTS.contains(&req.event) {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidEvent,
                "event OTHER cannot be subscribed to",
            ));
        }
        if !is_sns_topic_arn(&req.topic_arn) {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidSnsTopicArn,
                format!("{:?} is not an SNS topic ARN", req.topic_arn),
            ));
        }
        if self.topics.get(&req.topic_arn).is_none() {
            return Err(ApiError::no_such_entity(
                NoSuchEntityErrorCode::SnsTopicDoesNotExist,
                format!("topic {} is not in this server's topic map", req.topic_arn),
            ));
        }
        let mut conn = self.conn();
        // IMMEDIATE: the count and the insert hold the write lock together,
        // so concurrent subscribes cannot both see room for one more.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql_err)?;
        let (exists, count): (bool, u64) = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM inspector_event_subscriptions \
                   WHERE resource_arn = ?1 AND topic_arn = ?2 AND event = ?3), \
                 (SELECT COUNT(*) FROM inspector_event_subscriptions)",
                params![req.resource_arn, req.topic_arn, req.event.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err)?;
        // Subscribing again to what is already subscribed changes nothing, so it is never refused.
        if !exists && count >= self.subscription_limit {
            return Err(ApiError::LimitExceeded {
                code: LimitExceededErrorCode::EventSubscriptionLimitExceeded,
                message: format!(
                    "the limit of {} event subscriptions is reached (warden serve --limit-subscriptions sets it)",
                    self.subscription_limit
                ),
            });
        }
        tx.execute(
            "INSERT OR IGNORE INTO inspector_event_subscriptions (resource_arn, topic_arn, event, subscribed_at) VALUES (?1, ?2, ?3, ?4)",
            params![req.resource_arn, req.topic_arn, req.event.as_str(), now.0],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)
    }

    /// Serves `UnsubscribeFromEvent`; an absent subscription is `NoSuchEntityException`.
    pub fn unsubscribe(&self, req: &UnsubscribeFromEventRequest) -> Result<(), ApiError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM inspector_event_subscriptions WHERE resource_arn = ?1 AND topic_arn = ?2 AND event = ?3",
                params![req.resource_arn, req.topic_arn, req.event.as_str()],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(ApiError::no_such_entity(
                NoSuchEntityErrorCode::SnsTopicDoesNotExist,
                format!("{} has no {} subscription to {}", req.resource_arn, req.event.as_str(), req.topic_arn),
            ));
        }
        Ok(())
    }

    /// Serves `ListEventSubscriptions`: one `Subscription` per (template,
    /// topic), every template when `resourceArn` is absent; keyset paging.
    pub fn list(
        &self,
        pager: &Pager,
        req: &ListEventSubscriptionsRequest,
    ) -> Result<ListEventSubscriptionsResponse, ApiError> {
        let page = pager.start(
            "ListEventSubscriptions",
            req,
            req.next_token.as_deref(),
            req.max_results,
            SUBSCRIPTION_PAGE,
        )?;
        let after = match &page.cursor {
            Cursor::After(k) => k.clone(),
            _ => String::new(),
        };
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT resource_arn, topic_arn, event, subscribed_at FROM inspector_event_subscriptions
                 WHERE (?1 IS NULL OR resource_arn = ?1) AND resource_arn || char(10) || topic_arn > ?2
                 ORDER BY resource_arn, topic_arn, event",
            )
            .map_err(sql_err)?;
        let rows = stmt
            .query_map(params![req.resource_arn, after], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, f64>(3)?))
            })
            .map_err(sql_err)?;
        let mut subscriptions: Vec<Subscription> = Vec::new();
        let mut more = false;
        for row in rows {
            let (resource_arn, topic_arn, event, at) = row.map_err(sql_err)?;
            let event: InspectorEvent =
                serde_json::from_value(json!(event)).map_err(|e| ApiError::internal(e.to_string()))?;
            let es = EventSubscription { event, subscribed_at: Timestamp(at) };
            if let Some(s) =
                subscriptions.last_mut().filter(|s| s.resource_arn == resource_arn && s.topic_arn == topic_arn)
            {
                s.event_subscriptions.push(es);
            } else if subscriptions.len() == page.limit {
                more = true;
                break;
            } else {
                subscriptions.push(Subscription { resource_arn, topic_arn, event_subscriptions: vec![es] });
            }
        }
        let next_token = match subscriptions.last() {
            Some(last) if more => {
                Some(pager.token(&page, &Cursor::After(format!("{}\n{}", last.resource_arn, last.topic_arn)))?)
            }
            _ => None,
        };
        Ok(ListEventSubscriptionsResponse { subscriptions, next_token })
    }

    /// Queues the event for every topic subscribed to it on its template and
    /// returns the `notifications[]` records to append to the run: `SUCCESS`
    /// when queued for delivery, `TOPIC_DOES_NOT_EXIST` (with `error: true`)
    /// when a subscribed topic has left the topic map.
    pub fn publish(&self, event: &Event, now: i64) -> Result<Vec<AssessmentRunNotification>, ApiError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(sql_err)?;
        let topics: Vec<String> = {
            let mut stmt = tx
                .prepare_cached("SELECT topic_arn FROM inspector_event_subscriptions WHERE resource_arn = ?1 AND event = ?2 ORDER BY topic_arn")
                .map_err(sql_err)?;
            let rows =
                stmt.query_map(params![event.template_arn, event.event.as_str()], |r| r.get(0)).map_err(sql_err)?;
            rows.collect::<Result<_, _>>().map_err(sql_err)?
        };
        let message = event.message();
        let mut notifications = Vec::new();
        for topic in topics {
            let mut record = AssessmentRunNotification {
                date: event.time,
                event: event.event,
                message: Some(message.clone()),
                error: false,
                sns_topic_arn: Some(topic.clone()),
                sns_publish_status_code: Some(AssessmentRunNotificationSnsStatusCode::Success),
            };
            match self.topics.get(&topic) {
                Some(hook) => {
                    let body = json!({
                        "Type": "Notification",
                        "MessageId": crate::router::request_id(),
                        "TopicArn": topic,
                        "Subject": format!("Amazon Inspector {}", event.event.as_str()),
                        "Message": message,
                        "Timestamp": warden_collect::time::rfc3339(now),
                    })
                    .to_string();
                    tx.execute(
                        "INSERT INTO inspector_event_deliveries (topic_arn, url, event, run_arn, body, state, next_attempt_at, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
                        params![topic, hook.url, event.event.as_str(), event.run_arn, body, now],
                    )
                    .map_err(sql_err)?;
                }
                None => {
                    record.error = true;
                    record.sns_publish_status_code = Some(AssessmentRunNotificationSnsStatusCode::TopicDoesNotExist);
                }
            }
            notifications.push(record);
        }
        tx.commit().map_err(sql_err)?;
        Ok(notifications)
    }

    /// The delivery log, newest first.
    pub fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, ApiError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, topic_arn, state, attempts, last_status, last_error, next_attempt_at, body FROM inspector_event_deliveries ORDER BY id DESC LIMIT ?1")
            .map_err(sql_err)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    topic_arn: r.get(1)?,
                    state: r.get(2)?,
                    attempts: r.get(3)?,
                    last_status: r.get(4)?,
                    last_error: r.get(5)?,
                    next_attempt_at: r.get(6)?,
                    body: r.get(7)?,
                })
            })
            .map_err(sql_err)?;
        rows.collect::<Result<_, _>>().map_err(sql_err)
    }

    fn next_due(&self, now: i64) -> Result<Option<DueDelivery>, ApiError> {
        self.conn()
            .query_row(
                "SELECT id, topic_arn, url, body, attempts FROM inspector_event_deliveries
                 WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1",
                [now],
                |r| {
                    Ok(DueDelivery {
                        id: r.get(0)?,
                        topic: r.get(1)?,
                        url: r.get(2)?,
                        body: r.get(3)?,
                        attempts: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(sql_err)
    }

    fn record_attempt(&self, id: i64, attempts: i64, outcome: Result<u16, String>, now: i64) -> Result<(), ApiError> {
        let (status, error) = match &outcome {
            Ok(s) => (Some(i64::from(*s)), (!(200..300).contains(s)).then(|| format!("HTTP {s}"))),
            Err(e) => (None, Some(e.clone())),
        };
        let (state, next) = match (&error, attempts >= MAX_ATTEMPTS) {
            (None, _) => ("delivered", now),
            (Some(_), true) => ("failed", now),
            (Some(_), false) => ("pending", now + backoff_seconds(attempts)),
        };
        self.conn()
            .execute(
                "UPDATE inspector_event_deliveries SET attempts = ?2, last_status = ?3, last_error = ?4, state = ?5, next_attempt_at = ?6,
                 delivered_at = CASE WHEN ?5 = 'delivered' THEN ?7 ELSE NULL END WHERE id = ?1",
                params![id, attempts, status, error, state, next, now],
            )
            .map_err(sql_err)?;
        Ok(())
    }
}

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>`: what a receiver
/// recomputes to check a delivery (and that it is fresh).
pub fn signature_header(secret: &str, unix: i64, body: &str) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), format!("{unix}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix},v1={hex}")
}

/// POSTs due deliveries.
pub struct DeliveryWorker {
    events: Arc<Events>,
    agent: ureq::Agent,
}

impl DeliveryWorker {
    /// A worker with a 10 s connect and 30 s overall timeout, rustls with
    /// the aws-lc-rs provider and the Mozilla roots.
    pub fn new(events: Arc<Events>) -> DeliveryWorker {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("warden-inspector-events/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        DeliveryWorker { events, agent }
    }

    /// Attempts every delivery due at `now` once; returns how many were attempted.
    pub fn run_once(&self, now: i64) -> Result<usize, ApiError> {
        let mut attempted = 0;
        // A delivery retried in this pass is due later, so the loop ends.
        while let Some(DueDelivery { id, topic, url, body, attempts }) = self.events.next_due(now)? {
            let secret = self.events.topics.get(&topic).map(|w| w.secret.clone());
            let outcome = match secret {
                Some(secret) => self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Warden-Topic-Arn", &topic)
                    .header("X-Warden-Signature", &signature_header(&secret, now, &body))
                    .send(body.as_bytes())
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string()),
                None => Err(format!("topic {topic} is no longer in the topic map")),
            };
            self.events.record_attempt(id, attempts + 1, outcome, now)?;
            attempted += 1;
        }
        Ok(attempted)
    }

    /// Runs forever on a thread of its own, waking every `interval`.
    pub fn spawn(self, interval: Duration) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            loop {
                if let Err(e) = self.run_once(crate::timestamp::unix_now()) {
                    eprintln!("warden: event delivery: {e}");
                }
                std::thread::sleep(interval);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = r#"
[[topic]]
arn = "arn:aws:sns:us-east-1:123456789012:inspector-events"
url = "https://hooks.example.invalid/warden"
secret = "0123456789abcdef0123"
"#;

    fn events() -> (tempfile::TempDir, Events) {
        let dir = tempfile::tempdir().unwrap();
        let e = Events::open(&dir.path().join("w.db"), TopicMap::parse(MAP).unwrap()).unwrap();
        (dir, e)
    }

    const TEMPLATE: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:inspector-events";

    fn sub(event: InspectorEvent, topic: &str) -> SubscribeToEventRequest {
        SubscribeToEventRequest { resource_arn: TEMPLATE.into(), event, topic_arn: topic.into() }
    }

    #[test]
    fn topic_map_errors_name_the_topic_or_line() {
        assert!(TopicMap::parse("[[topic]]\narn = 1\n").unwrap_err().starts_with("line 2"));
        let bad_url = MAP.replace("https://", "ftp://");
        assert!(TopicMap::parse(&bad_url).unwrap_err().contains("topic #1"));
        let short = MAP.replace("0123456789abcdef0123", "short");
        assert!(TopicMap::parse(&short).unwrap_err().contains("at least 16"));
    }

    #[test]
    fn subscriptions_are_grouped_per_template_and_topic_and_paged() {
        let (_d, e) = events();
        let pager = Pager::new(b"k");
        e.subscribe(&sub(InspectorEvent::AssessmentRunCompleted, TOPIC), Timestamp(1.0)).unwrap();
        e.subscribe(&sub(InspectorEvent::FindingReported, TOPIC), Timestamp(2.0)).unwrap();
        e.subscribe(&sub(InspectorEvent::FindingReported, TOPIC), Timestamp(3.0)).unwrap();
        let other = sub(InspectorEvent::AssessmentRunStarted, "arn:aws:sns:us-east-1:123456789012:unmapped");
        assert_eq!(e.subscribe(&other, Timestamp(1.0)).unwrap_err().error_code(), Some("SNS_TOPIC_DOES_NOT_EXIST"));
        assert_eq!(
            e.subscribe(&sub(InspectorEvent::Other, TOPIC), Timestamp(1.0)).unwrap_err().error_code(),
            Some("INVALID_EVENT")
        );
        let all = e
            .list(&pager, &ListEventSubscriptionsRequest { resource_arn: None, next_token: None, max_results: None })
            .unwrap();
        assert_eq!(all.subscriptions.len(), 1);
        assert_eq!(all.subscriptions[0].event_subscriptions.len(), 2);
        assert_eq!(all.next_token, None);
        e.unsubscribe(&UnsubscribeFromEventRequest {
            resource_arn: TEMPLATE.into(),
            event: InspectorEvent::FindingReported,
            topic_arn: TOPIC.into(),
        })
        .unwrap();
        let again = UnsubscribeFromEventRequest {
            resource_arn: TEMPLATE.into(),
            event: InspectorEvent::FindingReported,
            topic_arn: TOPIC.into(),
        };
        assert!(e.unsubscribe(&again).is_err());
    }

    #[test]
    fn paging_over_many_templates() {
        let (_d, e) = events();
        let pager = Pager::new(b"k");
        for i in 0..7 {
            let req = SubscribeToEventRequest {
                resource_arn: format!("{TEMPLATE}{i}"),
                event: InspectorEvent::AssessmentRunStarted,
                topic_arn: TOPIC.into(),
            };
            e.subscribe(&req, Timestamp(1.0)).unwrap();
        }
        let mut token = None;
        let mut seen = Vec::new();
        loop {
            let req =
                ListEventSubscriptionsRequest { resource_arn: None, next_token: token.clone(), max_results: Some(3) };
            let page = e.list(&pager, &req).unwrap();
            seen.extend(page.subscriptions.into_iter().map(|s| s.resource_arn));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(seen, (0..7).map(|i| format!("{TEMPLATE}{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!((1..=4).map(backoff_seconds).collect::<Vec<_>>(), vec![2, 4, 8, 16]);
        assert_eq!(backoff_seconds(30), 3600);
    }

    #[test]
    fn signature_is_hmac_over_time_and_body() {
        // HMAC-SHA256("key", "1.{}") computed with Python's hmac module.
        assert_eq!(
            signature_header("key", 1, "{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
