//! Warden's fleet server (`warden serve`): the agent protocol, the admin JSON
//! API the CLI uses, the run scheduler and the evaluation of collected data.
//!
//! Why it is built this way:
//! - All state is in the [`FleetStore`]; the scheduler ([`scheduler`]) drives
//!   runs from what the store says, so a server killed with SIGKILL resumes
//!   every run on restart, deadlines recomputed from stored times.
//! - Agents authenticate every request with an Ed25519 signature
//!   ([`auth`]); the server stores only their public keys. Operators use
//!   bearer tokens stored as SHA-256 hashes.
//! - Telemetry is opaque JSON to transport and store; only [`evaluate`]
//!   reads it, through one function.
//!
//! The protocol is in `docs/fleet/protocol.md`, the JSON API in
//! `docs/fleet/openapi.yaml`, states, health and durability in
//! `docs/fleet/README.md`.

pub mod admin_api;
pub mod agent_api;
pub mod auth;
mod error;
pub mod evaluate;
pub mod exclusion_checks;
pub mod inspector_backend;
pub mod inspector_events;
pub mod inspector_mount;
pub mod metrics;
pub mod reports;
pub mod scheduler;
pub mod target_network;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
pub use error::ApiError;
use tokio::sync::watch;
use warden_store::prelude::*;
use warden_store::{SqliteStore, StoreError, UnixMillis};

/// Largest telemetry body accepted (a host snapshot with big package inventories).
pub const TELEMETRY_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Largest body accepted anywhere else (but `PUT /v1/targets/{id}/network`,
/// [`target_network::NETWORK_BODY_LIMIT`]).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The SQLite database file.
    pub db_path: PathBuf,
    /// Where the first admin token is written (`admin.token`).
    pub data_dir: PathBuf,
    /// TLS certificate chain and key (PEM); plain HTTP without them.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Vulnerability database for the CVE package (`warden db` format).
    pub vulndb: Option<PathBuf>,
    /// Folder of AWS describe-* JSON for the Network Reachability package
    /// (`warden net load` format), read at each run's evaluation.
    pub aws: Option<PathBuf>,
    /// Heartbeat interval told to agents, seconds.
    pub heartbeat_seconds: u64,
    /// How long a run waits for agents to report after collection ends, seconds.
    pub stop_grace_seconds: u64,
    /// Scheduler period.
    pub tick: Duration,
    /// The Inspector Classic API on `POST /` (region, account, report links, event topics).
    pub inspector: inspector_mount::InspectorConfig,
    /// Per-account resource limits, checked by the store for both APIs
    /// (`--limit-*`; event subscriptions are `inspector.subscription_limit`).
    pub limits: warden_store::Limits,
}

impl ServerConfig {
    /// Defaults for a database path and listen address.
    pub fn new(listen: SocketAddr, db_path: PathBuf) -> Self {
        let data_dir = db_path.parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        ServerConfig {
            listen,
            db_path,
            data_dir,
            tls: None,
            vulndb: None,
            aws: None,
            heartbeat_seconds: 30,
            stop_grace_seconds: 120,
            tick: Duration::from_millis(500),
            inspector: inspector_mount::InspectorConfig::default(),
            limits: warden_store::Limits::default(),
        }
    }
}

/// Shared by every handler and the scheduler.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn FleetStore>,
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// Request metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Bumped whenever a run changes state: wakes long-polling heartbeats and the scheduler.
    pub changes: Arc<watch::Sender<u64>>,
    /// When this process started (unix ms): agent silence is counted from no earlier than this.
    pub started_at: UnixMillis,
    /// The Inspector API's key store, events and ARN context.
    pub inspector: inspector_mount::InspectorMount,
}

impl AppState {
    /// Runs a store call on a blocking thread.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn FleetStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(r) => r.map_err(ApiError::from),
            Err(e) => Err(ApiError::internal(format!("store task failed: {e}"))),
        }
    }

    /// Signals a run state change.
    pub fn notify_change(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Now, unix milliseconds.
pub fn now_ms() -> UnixMillis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The HTTP routes: the agent protocol, the admin JSON API, and the
/// Inspector API on `POST /` (its own 256 KiB limit, SigV4 and error shapes).
pub fn router(state: AppState) -> Router {
    let agent = Router::new()
        .route("/agent/v1/enroll", post(agent_api::enroll))
        .route("/agent/v1/heartbeat", post(agent_api::heartbeat))
        .route(
            "/agent/v1/runs/{run}/telemetry",
            post(agent_api::telemetry).layer(DefaultBodyLimit::max(TELEMETRY_BODY_LIMIT)),
        );
    let fleet: Router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(admin_api::readyz))
        .route("/metrics", get(metrics::render))
        .merge(agent)
        .merge(admin_api::routes())
        .merge(target_network::routes())
        .merge(reports::routes(&state.config))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .with_state(state.clone());
    fleet
        .merge(state.inspector.router(
            state.store.clone(),
            inspector_backend::FleetSettings {
                vulndb: state.config.vulndb.clone(),
                heartbeat_seconds: state.config.heartbeat_seconds,
                aws: state.config.aws.clone(),
            },
            &state.config.data_dir,
            state.changes.clone(),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
}

/// Answers 413 before reading a body whose declared length is over the
/// route's limit, so the client gets a clear answer instead of a connection
/// closed in mid-upload (bodies without a length are cut at the limit by
/// `DefaultBodyLimit`).
async fn refuse_declared_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let limit = if path.starts_with("/agent/v1/runs/") {
        TELEMETRY_BODY_LIMIT
    } else if target_network::is_upload_path(path) {
        target_network::NETWORK_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let message = format!("body of {} bytes is over the limit of {limit} bytes", declared.unwrap_or(0));
        let mut response =
            ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).into_response();
        response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        return response;
    }
    next.run(req).await
}

/// Opens the store, makes the first admin token if there is none, and
/// returns the state (the server is not listening yet).
pub fn prepare(config: ServerConfig) -> Result<AppState, String> {
    let store = SqliteStore::open(&config.db_path)
        .map_err(|e| format!("{}: {e}", config.db_path.display()))?
        .with_limits(config.limits);
    ensure_admin_token(&store, &config)?;
    let inspector = inspector_mount::InspectorMount::open(config.inspector.clone(), &config.db_path)?;
    let (changes, _) = watch::channel(0);
    Ok(AppState {
        store: Arc::new(store),
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics::default()),
        changes: Arc::new(changes),
        started_at: now_ms(),
        inspector,
    })
}

/// Where the first admin token is written.
pub fn admin_token_path(config: &ServerConfig) -> PathBuf {
    config.data_dir.join("admin.token")
}

fn ensure_admin_token(store: &SqliteStore, config: &ServerConfig) -> Result<(), String> {
    if store.api_token_count().map_err(|e| e.to_string())? > 0 {
        return Ok(());
    }
    let token = auth::new_secret("wdn_adm_");
    let path = admin_token_path(config);
    write_secret_file(&path, &format!("{token}\n"))?;
    store
        .insert_api_token("admin (first start)", &warden_store::token_hash(&token), now_ms())
        .map_err(|e| e.to_string())?;
    eprintln!("warden serve: first start: admin API token written to {}", path.display());
    Ok(())
}

/// Writes a file readable by its owner only (created 0600, never widened).
pub fn write_secret_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Serves until SIGTERM or SIGINT, then drains connections. `on_listening`
/// receives the bound address (the port may have been 0).
pub async fn serve(mut state: AppState, on_listening: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", state.config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls = match &state.config.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    state.inspector = state.inspector.clone().listening_on(scheme, addr);
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = tokio::spawn(scheduler::run(state.clone(), stop_rx.clone()));
    let publisher = state.inspector.start_event_delivery(state.store.clone(), stop_rx.clone());
    let app = router(state.clone());
    on_listening(addr);
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(|e| e.to_string())?,
        Some(acceptor) => tls::serve(listener, acceptor, app, shutdown).await,
    }
    let _ = scheduler.await;
    if let Some(publisher) = publisher {
        let _ = publisher.await;
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
