//! Mounts the Inspector Classic API (`POST /`, `X-Amz-Target`) on `warden serve`.
//!
//! Why it exists: `warden-inspector` is the protocol layer and
//! [`crate::inspector_backend::StoreBackend`] answers from the fleet store;
//! this module opens what they need beside the fleet database (the SigV4 key
//! store `warden apikey` writes, its master key, the optional event topic
//! map), checks the operator's `--region`/`--account`/`--public-url`, and
//! builds the route and the background event delivery. Everything that can
//! be wrong in the settings is reported at start, naming the flag or file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use warden_inspector::arn::ArnContext;
use warden_inspector::credentials::{MasterKey, SqliteCredentialStore};
use warden_inspector::events::{DeliveryWorker, Events, TopicMap};
use warden_inspector::router::{DEFAULT_BODY_LIMIT, InspectorService};
use warden_inspector::sigv4::SigV4Config;
use warden_store::FleetStore;

use crate::inspector_backend::{FleetSettings, StoreBackend, reports::ReportLinks};

/// The region ARNs and SigV4 scopes use when `--region` is not given.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account ARNs name when `--account` is not given: AWS's documentation
/// example account, so that nobody mistakes it for a real one.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// How often queued event deliveries are attempted.
pub const DELIVERY_INTERVAL: Duration = Duration::from_secs(1);

/// The operator's Inspector settings (`warden serve --region/--account/--public-url/--inspector-topics`).
#[derive(Clone, Debug)]
pub struct InspectorConfig {
    /// The region of every ARN and the only SigV4 scope region accepted.
    pub region: String,
    /// Twelve digits: the account of every ARN.
    pub account: String,
    /// The external base URL report links use (default: the address the server listens on).
    pub public_url: Option<String>,
    /// The event topic map (TOML; `None`: event subscriptions are not served).
    pub topics: Option<PathBuf>,
    /// The master key file (default: `inspector-master.key` beside the database).
    pub master_key: Option<PathBuf>,
    /// Most event subscriptions kept (`--limit-subscriptions`). The other
    /// limits are the store's (`ServerConfig::limits`), which checks them.
    pub subscription_limit: u64,
}

impl Default for InspectorConfig {
    fn default() -> Self {
        InspectorConfig {
            region: DEFAULT_REGION.into(),
            account: DEFAULT_ACCOUNT.into(),
            public_url: None,
            topics: None,
            master_key: None,
            subscription_limit: warden_inspector::events::DEFAULT_SUBSCRIPTION_LIMIT,
        }
    }
}

/// A region name as AWS spells them: lower-case letters, digits and dashes,
/// at least two dash-separated parts (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn check_region(region: &str) -> Result<(), String> {
    let ok = (4..=32).contains(&region.len())
        && region.split('-').count() >= 2
        && region.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if ok { Ok(()) } else { Err(format!("--region {region:?}: expected a region name such as us-east-1")) }
}

/// An AWS account id: exactly twelve digits.
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("--account {account:?}: an account id is exactly 12 digits"))
    }
}

/// An `http://` or `https://` URL with a host and nothing after the path
/// (no query or fragment: links are built by appending to it).
pub fn check_public_url(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(format!("--public-url {url:?}: must start with https:// or http://"));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("--public-url {url:?}: names no host"));
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("--public-url {url:?}: must not contain a query, a fragment or spaces"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl InspectorConfig {
    /// Checks every setting, naming the flag that is wrong.
    pub fn check(&self) -> Result<(), String> {
        check_region(&self.region)?;
        check_account(&self.account)?;
        if let Some(url) = &self.public_url {
            check_public_url(url)?;
        }
        Ok(())
    }
}

/// What the Inspector route needs, opened at start.
#[derive(Clone)]
pub struct InspectorMount {
    config: InspectorConfig,
    arns: ArnContext,
    credentials: Arc<SqliteCredentialStore>,
    events: Option<Arc<Events>>,
    /// Where report links point: `--public-url`, else set from the bound address.
    base_url: Option<String>,
    /// The master key report links are signed with (a key derived from it).
    master: Arc<MasterKey>,
}

impl InspectorMount {
    /// Opens the key store (and the master key, created 0600 if absent),
    /// the event tables (with the topic map, or none), all in the fleet database `db`.
    pub fn open(config: InspectorConfig, db: &Path) -> Result<InspectorMount, String> {
        config.check()?;
        let key_path = config.master_key.clone().unwrap_or_else(|| MasterKey::default_path(db));
        let credentials = Arc::new(SqliteCredentialStore::open(db, &key_path)?);
        let master = Arc::new(MasterKey::load_or_create(&key_path)?);
        // Without a topic map the event tables still answer: no topic exists,
        // so SubscribeToEvent says SNS_TOPIC_DOES_NOT_EXIST and the lists are empty.
        let topics = match &config.topics {
            Some(path) => TopicMap::load(path).map_err(|e| format!("--inspector-topics {e}"))?,
            None => TopicMap::default(),
        };
        let events = Some(Arc::new(Events::open(db, topics)?.with_subscription_limit(config.subscription_limit)));
        let base_url = config.public_url.as_deref().map(check_public_url).transpose()?;
        let arns = ArnContext::new(&config.region, &config.account);
        Ok(InspectorMount { config, arns, credentials, events, base_url, master })
    }

    /// The settings it was opened with.
    pub fn config(&self) -> &InspectorConfig {
        &self.config
    }

    /// The ARN context (partition, region, account).
    pub fn arns(&self) -> &ArnContext {
        &self.arns
    }

    /// The event store, when a topic map is configured.
    pub fn events(&self) -> Option<&Arc<Events>> {
        self.events.as_ref()
    }

    /// Report links point at the listening address unless `--public-url` said otherwise.
    pub fn listening_on(mut self, scheme: &str, addr: SocketAddr) -> InspectorMount {
        if self.base_url.is_none() {
            self.base_url = Some(format!("{scheme}://{addr}"));
        }
        self
    }

    /// The base URL of report links, once known.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// The store-backed Inspector API over `store`; report files go under
    /// `data_dir/reports`; runs started or stopped bump `run_changes`.
    pub fn backend(
        &self,
        store: Arc<dyn FleetStore>,
        fleet: FleetSettings,
        data_dir: &Path,
        run_changes: Arc<watch::Sender<u64>>,
    ) -> StoreBackend {
        let mut backend = StoreBackend::new(store.clone(), self.arns.clone(), &self.credentials.paging_secret())
            .with_fleet_settings(fleet)
            .with_run_changes(run_changes);
        if let Some(events) = &self.events {
            backend = backend.with_events(events.clone());
        }
        if let Some(base_url) = &self.base_url {
            backend = backend.with_report_links(ReportLinks::new(base_url, &self.master, store, data_dir));
        }
        backend
    }

    /// `POST /`: SigV4 (scope region = `--region`), the 256 KiB body limit,
    /// then the operation named by `X-Amz-Target`.
    pub fn router(
        &self,
        store: Arc<dyn FleetStore>,
        fleet: FleetSettings,
        data_dir: &Path,
        run_changes: Arc<watch::Sender<u64>>,
    ) -> Router {
        let service = InspectorService {
            backend: self.backend(store, fleet, data_dir, run_changes),
            credentials: self.credentials.clone(),
            sigv4: SigV4Config { region: Some(self.config.region.clone()) },
            body_limit: DEFAULT_BODY_LIMIT,
        };
        warden_inspector::router::router(Arc::new(service))
    }

    /// Starts event delivery (webhook POSTs on a thread of its own) and the
    /// publisher that turns run state changes and findings into events; both
    /// always (with no topic map nothing is subscribed, so nothing is sent). The publisher stops when `stop`
    /// turns true; the delivery thread ends with the process (every delivery
    /// is recorded before the next is attempted, so nothing is lost).
    pub fn start_event_delivery(
        &self,
        store: Arc<dyn FleetStore>,
        stop: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let events = self.events.clone()?;
        DeliveryWorker::new(events.clone()).spawn(DELIVERY_INTERVAL);
        Some(tokio::spawn(crate::inspector_events::run_event_publisher(store, events, self.arns.clone(), stop)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_naming_the_flag() {
        assert!(check_region("us-east-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        for bad in ["", "useast1", "US-EAST-1", "us-east-1 ", "us--east", "-us-east-1", "us-east-1/x"] {
            let e = check_region(bad).expect_err(bad);
            assert!(e.starts_with("--region"), "{e}");
        }
        assert!(check_account("123456789012").is_ok());
        for bad in ["", "12345678901", "1234567890123", "12345678901a", "１23456789012"] {
            let e = check_account(bad).expect_err(bad);
            assert!(e.starts_with("--account"), "{e}");
        }
        assert_eq!(check_public_url("https://warden.example:8443/").unwrap(), "https://warden.example:8443");
        assert_eq!(check_public_url("http://127.0.0.1:7443/base").unwrap(), "http://127.0.0.1:7443/base");
        for bad in ["ftp://x", "https://", "https://:443", "https://x/?a=b", "https://x/#f", "https://x y", "x"] {
            let e = check_public_url(bad).expect_err(bad);
            assert!(e.starts_with("--public-url"), "{e}");
        }
    }

    #[test]
    fn opens_the_key_store_beside_the_database_and_refuses_a_bad_topic_map() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("warden.db");
        let mount = InspectorMount::open(InspectorConfig::default(), &db).unwrap();
        assert!(dir.path().join("inspector-master.key").exists(), "master key created beside the database");
        // Without a topic map the event tables are open, but no topic exists.
        let events = mount.events().expect("event tables open without a topic map");
        let subscribe = warden_inspector::types::SubscribeToEventRequest {
            resource_arn: "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb".into(),
            event: warden_inspector::types::InspectorEvent::AssessmentRunCompleted,
            topic_arn: "arn:aws:sns:us-east-1:123456789012:anything".into(),
        };
        let e = events.subscribe(&subscribe, warden_inspector::timestamp::Timestamp(1.0)).unwrap_err();
        assert!(format!("{e:?}").contains("SnsTopicDoesNotExist"), "{e:?}");
        assert_eq!(mount.base_url(), None);
        let mount = mount.listening_on("https", "127.0.0.1:7443".parse().unwrap());
        assert_eq!(mount.base_url(), Some("https://127.0.0.1:7443"));
        assert_eq!(mount.arns().account, DEFAULT_ACCOUNT);

        let topics = dir.path().join("topics.toml");
        std::fs::write(
            &topics,
            "[[topic]]\narn = \"not-an-arn\"\nurl = \"http://127.0.0.1:1/\"\nsecret = \"0123456789abcdef\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&topics, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let config = InspectorConfig { topics: Some(topics), ..InspectorConfig::default() };
        let e = InspectorMount::open(config, &db).err().expect("bad topic map refused");
        assert!(e.starts_with("--inspector-topics") && e.contains("topics.toml") && e.contains("arn"), "{e}");

        let config = InspectorConfig { account: "42".into(), ..InspectorConfig::default() };
        assert!(InspectorMount::open(config, &db).err().unwrap().contains("--account"));
    }
}
