//! The set-up the Inspector backend's area tests share: a backend over a real
//! in-memory SQLite store, a request context, a runtime, real rules package
//! ARNs and enrolled stub agents (nothing mocked: agents are rows an enroll
//! would have written, without a running agent).
//!
//! Why it exists: every area test file had grown its own copy of these; one
//! place keeps the region, account and paging secret the ARN assertions rely
//! on the same everywhere. The report tests use [`stub_agent`] too.

use std::collections::BTreeMap;

use warden_store::prelude::*;
use warden_store::{Agent, AgentHostInfo, SqliteStore};

use super::*;

// The template request the end-to-end tests (`tests/common`) start from too.
#[path = "../../tests/support/templates.rs"]
mod templates;
pub(crate) use templates::nightly;

// The topic map writer of the Inspector crate's end-to-end test pieces.
#[path = "../../../inspector/tests/support/e2e_support.rs"]
mod e2e_support;
pub(crate) use e2e_support::write_topic_map;

/// The test server's region and account (every ARN it hands out has them).
pub(crate) const REGION: &str = "us-west-2";
pub(crate) const ACCOUNT: &str = "123456789012";
/// CVE in us-east-1 and CIS in us-west-2: real AWS rules package ARNs.
pub(crate) const CVE_US_EAST_1: &str = "arn:aws:inspector:us-east-1:316112463485:rulespackage/0-gEjTy7T7";
pub(crate) const CIS_US_WEST_2: &str = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-H5hpSawc";
/// CVE in us-west-2 (the test server's own region).
pub(crate) const CVE_US_WEST_2: &str = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-9hgA516p";

/// A backend over `store` in [`REGION`] and [`ACCOUNT`].
pub(crate) fn backend_over(store: Arc<dyn FleetStore>) -> StoreBackend {
    StoreBackend::new(store, ArnContext::new(REGION, ACCOUNT), b"test paging secret")
}

/// A backend over a fresh in-memory store.
pub(crate) fn backend() -> StoreBackend {
    backend_over(Arc::new(SqliteStore::open_in_memory().unwrap()))
}

/// A backend and direct access to its store (to set up agents, runs and telemetry).
pub(crate) struct Fixture {
    pub store: Arc<SqliteStore>,
    pub backend: StoreBackend,
}

pub(crate) fn fixture() -> Fixture {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let backend = backend_over(store.clone());
    Fixture { store, backend }
}

pub(crate) fn ctx() -> RequestContext {
    RequestContext { access_key_id: "AKIATEST".into(), request_id: "r".into() }
}

/// Runs `f` on a current-thread runtime (the operations need no timers).
pub(crate) fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

/// An enrolled agent never heard from, known only by its host name.
pub(crate) fn stub_agent(id: &str, hostname: &str) -> Agent {
    Agent {
        id: id.into(),
        public_key: vec![7; 32],
        tags: BTreeMap::new(),
        host: AgentHostInfo { hostname: Some(hostname.into()), ..Default::default() },
        enrolled_at: 1,
        last_heartbeat_at: None,
        activity: None,
        activity_details: None,
        retired_at: None,
    }
}

/// Enrolls a Debian 12 agent `host-{id}` with `tags`; `heartbeat` is its last
/// heartbeat time (none: never heard from; some: idle).
pub(crate) fn enroll(store: &SqliteStore, id: &str, tags: &[(&str, &str)], heartbeat: Option<UnixMillis>) {
    let mut agent = stub_agent(id, &format!("host-{id}"));
    agent.tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    agent.host = AgentHostInfo {
        operating_system: Some("Debian GNU/Linux 12 (bookworm)".into()),
        kernel_version: Some("6.1.0-18-amd64".into()),
        agent_version: Some("0.9.0".into()),
        ipv4_addresses: vec!["10.0.0.5".into(), "172.17.0.1".into()],
        ..agent.host
    };
    agent.last_heartbeat_at = heartbeat;
    agent.activity = heartbeat.map(|_| "idle".to_string());
    store.insert_agent(&agent).unwrap();
}
