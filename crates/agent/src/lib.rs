//! Warden's agent (`warden agent`): enrolls once, then heartbeats, collects
//! for the runs it is assigned and delivers telemetry to the server.
//!
//! Why it is a small blocking program: it runs on every assessed host, so it
//! must cost little (no async runtime; target under 20 MB RSS and 1% of a
//! core). It initiates every connection, accepts only the closed set of
//! [`Assignment`]s (never a command), and queues every document on disk
//! ([`spool`]) before sending it, resending with exponential backoff and
//! jitter while the server is unreachable. The protocol is in
//! `docs/fleet/protocol.md`.

pub mod collector;
pub mod http;
pub mod spool;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use warden_model::fleet::{
    AgentActivity, AgentHostInfo, Assignment, EnrollRequest, EnrollResponse, HeartbeatRequest, HeartbeatResponse,
    RunPhase, RunProgress, TelemetryKind,
};

pub use collector::{HostCollector, RunCollector};
use http::{Signer, TransportError, send, unix_now};
use spool::Spool;

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Server base URL (`https://host:port`).
    pub server: String,
    /// One-time enroll token (needed only until credentials exist).
    pub enroll_token: Option<String>,
    /// Tags sent at enrollment.
    pub tags: BTreeMap<String, String>,
    /// The CA to trust (PEM); the Mozilla roots without it.
    pub ca: Option<PathBuf>,
    /// Where credentials, run state and the spool live.
    pub state_dir: PathBuf,
    /// Largest spool, bytes.
    pub spool_max_bytes: u64,
}

/// The credentials file: written once at enrollment, mode 0600.
#[derive(Serialize, Deserialize)]
struct Credentials {
    server: String,
    agent_id: String,
    /// PKCS#8 Ed25519 private key, hex. Never leaves this file.
    private_key_pkcs8: String,
}

/// A run the agent collects for; persisted so a restarted agent resumes its seqs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct RunRecord {
    /// End of collection, local unix seconds.
    until: i64,
    interval_seconds: u64,
    next_seq: u64,
    phase: RunPhase,
    error: Option<String>,
    /// Set once a heartbeat carrying the final phase was accepted.
    final_reported: bool,
    #[serde(skip)]
    next_sample: Option<Instant>,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// SIGTERM and SIGINT ask the loop to stop; installed without SA_RESTART so
/// a long-poll in progress is interrupted.
fn install_signal_handlers() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe);
        // the sigaction struct is zeroed and then fully set.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = 0;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Exponential backoff with jitter: 1 s doubling up to the heartbeat
/// interval (60 s before the first answer), so an agent still tries at least
/// once per heartbeat interval and reappears within one after a server outage,
/// before the server would count it silent.
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

impl Backoff {
    fn fail(&mut self, heartbeat_seconds: u64) {
        self.failures = self.failures.saturating_add(1);
        let max = if heartbeat_seconds == 0 { 60 } else { heartbeat_seconds.clamp(1, 60) };
        let cap = Duration::from_secs(max).min(Duration::from_secs(1) * 2u32.saturating_pow(self.failures.min(6)));
        let mut r = [0u8; 4];
        aws_lc_rs::rand::fill(&mut r).expect("the system random generator failed");
        let jitter = u32::from_le_bytes(r) as f64 / u32::MAX as f64;
        self.until = Some(Instant::now() + cap.mul_f64(0.5 + 0.5 * jitter));
    }
    fn succeed(&mut self) {
        self.failures = 0;
        self.until = None;
    }
    fn waiting(&self) -> bool {
        self.until.is_some_and(|u| Instant::now() < u)
    }
}

/// The running agent.
pub struct Agent<C: RunCollector> {
    config: AgentConfig,
    http: ureq::Agent,
    signer: Signer,
    spool: Spool,
    collector: C,
    runs: BTreeMap<String, RunRecord>,
    done: BTreeSet<String>,
    heartbeat_seconds: u64,
    /// server clock − local clock, seconds.
    skew: i64,
    backoff: Backoff,
    throttled: bool,
    last_error: Option<String>,
}

/// Enrolls if needed, then runs until SIGTERM/SIGINT.
pub fn run(config: AgentConfig) -> Result<(), String> {
    install_signal_handlers();
    let collector = HostCollector::new(PathBuf::from("/"));
    let mut agent = Agent::start(config, collector)?;
    agent.run_loop();
    Ok(())
}

fn credentials_path(state_dir: &Path) -> PathBuf {
    state_dir.join("credentials.json")
}

/// What the agent says about this host.
pub fn host_info() -> AgentHostInfo {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    AgentHostInfo {
        hostname: read("/proc/sys/kernel/hostname"),
        operating_system: os,
        kernel_version: read("/proc/sys/kernel/osrelease"),
        agent_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        ipv4_addresses: ipv4_addresses(),
    }
}

/// Non-loopback IPv4 addresses (getifaddrs).
fn ipv4_addresses() -> Vec<String> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a list we free with freeifaddrs; each entry is
    // read only while the list is alive, and ifa_addr is checked for null
    // and AF_INET before it is read as a sockaddr_in.
    unsafe {
        if libc::getifaddrs(&mut ifap) != 0 {
            return out;
        }
        let mut cur = ifap;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() && (*addr).sa_family as i32 == libc::AF_INET {
                let sin = &*(addr as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() && !out.contains(&ip.to_string()) {
                    out.push(ip.to_string());
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(ifap);
    }
    out
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let io = |e: std::io::Error| format!("{}: {e}", tmp.display());
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

impl<C: RunCollector> Agent<C> {
    /// Loads credentials (enrolling with the token when there are none) and the saved runs.
    pub fn start(config: AgentConfig, collector: C) -> Result<Agent<C>, String> {
        std::fs::create_dir_all(&config.state_dir).map_err(|e| format!("{}: {e}", config.state_dir.display()))?;
        let http = http::client(config.ca.as_deref(), Duration::from_secs(90))?;
        let creds_path = credentials_path(&config.state_dir);
        let creds = if creds_path.exists() {
            let text = std::fs::read_to_string(&creds_path).map_err(|e| format!("{}: {e}", creds_path.display()))?;
            serde_json::from_str::<Credentials>(&text).map_err(|e| format!("{}: {e}", creds_path.display()))?
        } else {
            let token = config
                .enroll_token
                .clone()
                .ok_or_else(|| format!("not enrolled yet ({} missing): pass --enroll-token", creds_path.display()))?;
            enroll(&http, &config, &token, &creds_path)?
        };
        let pkcs8 = hex_decode(&creds.private_key_pkcs8).ok_or("credentials: private key is not hex")?;
        let signer = Signer::new(creds.agent_id, &pkcs8)?;
        let spool = Spool::open(&config.state_dir.join("spool"), config.spool_max_bytes)?;
        let runs = std::fs::read_to_string(config.state_dir.join("runs.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Ok(Agent {
            config,
            http,
            signer,
            spool,
            collector,
            runs,
            done: BTreeSet::new(),
            // Unknown until the first answer: the first heartbeat does not long-poll.
            heartbeat_seconds: 0,
            skew: 0,
            backoff: Backoff { failures: 0, until: None },
            throttled: false,
            last_error: None,
        })
    }

    /// The agent id.
    pub fn id(&self) -> &str {
        &self.signer.agent_id
    }

    fn save_runs(&self) {
        if let Ok(json) = serde_json::to_vec(&self.runs) {
            let _ = write_private(&self.config.state_dir.join("runs.json"), &json);
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.server.trim_end_matches('/'))
    }

    fn signed_post(&self, path: &str, body: &[u8]) -> Result<http::Response, TransportError> {
        let headers = self.signer.headers("POST", path, body, unix_now());
        send(&self.http, "POST", &self.url(path), &headers, Some(body))
    }

    /// The main loop: due collection work, spool delivery, heartbeat, sleep.
    pub fn run_loop(&mut self) {
        let mut next_heartbeat = Instant::now();
        while !STOP.load(Ordering::SeqCst) {
            self.collect_due();
            if !self.backoff.waiting() {
                self.flush_spool();
            }
            if Instant::now() >= next_heartbeat && !self.backoff.waiting() {
                match self.heartbeat(AgentActivity::Idle) {
                    Ok(()) => {
                        self.backoff.succeed();
                        next_heartbeat = Instant::now() + Duration::from_secs(self.heartbeat_seconds.max(1));
                        // With nothing to collect the heartbeat long-polled: go again at once.
                        if !self.has_collecting() {
                            next_heartbeat = Instant::now();
                        }
                    }
                    Err(e) => {
                        self.last_error = Some(e);
                        self.backoff.fail(self.heartbeat_seconds);
                    }
                }
            }
            let mut wake = next_heartbeat;
            if let Some(u) = self.backoff.until {
                wake = wake.max(u);
            }
            for r in self.runs.values() {
                if let Some(n) = r.next_sample.filter(|_| r.phase == RunPhase::Collecting) {
                    wake = wake.min(n);
                }
            }
            while Instant::now() < wake && !STOP.load(Ordering::SeqCst) {
                std::thread::sleep((wake - Instant::now()).min(Duration::from_millis(200)));
            }
        }
        // Best effort: tell the server this agent is stopping.
        let _ = self.heartbeat(AgentActivity::Shutdown);
        self.save_runs();
    }

    fn has_collecting(&self) -> bool {
        self.runs.values().any(|r| r.phase == RunPhase::Collecting)
    }

    /// Finishes runs past their end; takes the samples that are due.
    fn collect_due(&mut self) {
        let now = unix_now();
        let ids: Vec<String> = self.runs.keys().cloned().collect();
        let mut changed = false;
        for id in ids {
            let Some(r) = self.runs.get(&id).cloned() else { continue };
            if r.phase != RunPhase::Collecting {
                continue;
            }
            if now >= r.until {
                self.finish(&id, RunPhase::Finished, None);
                changed = true;
                continue;
            }
            if r.next_sample.is_none_or(|n| Instant::now() >= n) {
                if let Some(body) = self.collector.sample(&id) {
                    self.queue(&id, TelemetryKind::Runtime, &body);
                }
                if let Some(r) = self.runs.get_mut(&id) {
                    r.next_sample = Some(Instant::now() + Duration::from_secs(r.interval_seconds.max(1)));
                }
                changed = true;
            }
        }
        if changed {
            self.save_runs();
        }
    }

    fn finish(&mut self, id: &str, phase: RunPhase, error: Option<String>) {
        if let Some(r) = self.runs.get_mut(id) {
            r.phase = phase;
            r.error = error;
            r.final_reported = false;
        }
        self.collector.end_run(id);
    }

    /// Queues a document under the run's next seq.
    fn queue(&mut self, run: &str, kind: TelemetryKind, body: &RawValue) {
        let Some(r) = self.runs.get_mut(run) else { return };
        let seq = r.next_seq;
        let Ok(bytes) = serde_json::to_vec(&OutgoingDocument { seq, kind, body }) else { return };
        match self.spool.push(run, seq, &bytes, kind == TelemetryKind::Snapshot) {
            Ok(true) => {
                r.next_seq += 1;
                self.throttled = false;
            }
            Ok(false) => self.throttled = true,
            Err(e) => self.last_error = Some(format!("spool: {e}")),
        }
    }

    /// Sends queued documents in order; stops at the first transport failure.
    fn flush_spool(&mut self) {
        for entry in self.spool.entries() {
            let Ok(body) = std::fs::read(&entry.path) else {
                self.spool.remove(&entry);
                continue;
            };
            let path = format!("/agent/v1/runs/{}/telemetry", entry.run);
            match self.signed_post(&path, &body) {
                Ok(resp) if resp.ok() => self.spool.remove(&entry),
                // Retryable: the server is busy, or our clock or the server's moved.
                Ok(resp) if matches!(resp.status, 401 | 408 | 429) || resp.status >= 500 => {
                    self.last_error = Some(format!("telemetry refused ({}): {}", resp.status, resp.error_message()));
                    self.backoff.fail(self.heartbeat_seconds);
                    return;
                }
                // Permanent: the run is over, not ours, or the document is malformed.
                Ok(resp) => {
                    self.last_error = Some(format!("telemetry dropped ({}): {}", resp.status, resp.error_message()));
                    self.spool.remove(&entry);
                }
                Err(e) => {
                    self.last_error = Some(e.to_string());
                    self.backoff.fail(self.heartbeat_seconds);
                    return;
                }
            }
        }
    }

    fn heartbeat(&mut self, activity: AgentActivity) -> Result<(), String> {
        let activity = match activity {
            AgentActivity::Shutdown => AgentActivity::Shutdown,
            _ if self.throttled => AgentActivity::Throttled,
            _ if self.has_collecting() => AgentActivity::Running,
            _ => AgentActivity::Idle,
        };
        let runs: Vec<RunProgress> = self
            .runs
            .iter()
            .map(|(id, r)| RunProgress {
                run: id.clone(),
                phase: r.phase,
                last_seq: r.next_seq.checked_sub(1),
                error: r.error.clone(),
            })
            .collect();
        let reported_final: Vec<String> =
            self.runs.iter().filter(|(_, r)| r.phase != RunPhase::Collecting).map(|(id, _)| id.clone()).collect();
        let req = HeartbeatRequest { activity, details: self.last_error.take(), host: host_info(), runs };
        let body = serde_json::to_vec(&req).map_err(|e| e.to_string())?;
        let path = if activity == AgentActivity::Shutdown
            || self.heartbeat_seconds == 0
            || self.has_collecting()
            || !self.spool.entries().is_empty()
        {
            "/agent/v1/heartbeat".to_string()
        } else {
            format!("/agent/v1/heartbeat?wait={}", self.heartbeat_seconds)
        };
        let resp = self.signed_post(&path, &body).map_err(|e| e.to_string())?;
        if !resp.ok() {
            return Err(format!("heartbeat refused ({}): {}", resp.status, resp.error_message()));
        }
        let answer: HeartbeatResponse =
            serde_json::from_slice(&resp.body).map_err(|e| format!("heartbeat answer unreadable: {e}"))?;
        self.heartbeat_seconds = answer.heartbeat_seconds.clamp(1, 3600);
        self.skew = answer.server_time - unix_now();
        for id in reported_final {
            if let Some(r) = self.runs.get_mut(&id) {
                r.final_reported = true;
            }
        }
        self.apply(&answer.assignments);
        Ok(())
    }

    fn apply(&mut self, assignments: &[Assignment]) {
        let mut mentioned = BTreeSet::new();
        for a in assignments {
            match a {
                Assignment::Collect { run, until, interval_seconds } => {
                    mentioned.insert(run.clone());
                    if self.done.contains(run) {
                        continue;
                    }
                    let local_until = until - self.skew;
                    match self.runs.get_mut(run) {
                        Some(r) => {
                            if r.phase == RunPhase::Collecting {
                                r.until = local_until;
                                r.interval_seconds = *interval_seconds;
                            }
                        }
                        None => self.begin(run, local_until, *interval_seconds),
                    }
                }
                Assignment::Stop { run } => {
                    mentioned.insert(run.clone());
                    if self.runs.get(run).is_some_and(|r| r.phase == RunPhase::Collecting) {
                        self.finish(run, RunPhase::Finished, None);
                    }
                }
            }
        }
        // A finished run the server no longer mentions, whose final report
        // was accepted and whose documents are all delivered, is done.
        let finished: Vec<String> = self
            .runs
            .iter()
            .filter(|(id, r)| r.phase != RunPhase::Collecting && r.final_reported && !mentioned.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in finished {
            if !self.spool.has_run(&id) {
                self.runs.remove(&id);
                self.done.insert(id);
            }
        }
        self.save_runs();
    }

    /// A new run: the host snapshot first (seq 0), then samples.
    fn begin(&mut self, run: &str, until: i64, interval_seconds: u64) {
        if !run.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return;
        }
        let record = RunRecord {
            until,
            interval_seconds,
            next_seq: 0,
            phase: RunPhase::Collecting,
            error: None,
            final_reported: false,
            next_sample: Some(Instant::now() + Duration::from_secs(interval_seconds.max(1))),
        };
        self.runs.insert(run.to_string(), record);
        match self.collector.snapshot() {
            Ok(body) => self.queue(run, TelemetryKind::Snapshot, &body),
            Err(e) => self.finish(run, RunPhase::Failed, Some(format!("host snapshot failed: {e}"))),
        }
        release_free_memory();
        self.save_runs();
    }
}

/// A [`warden_model::fleet::TelemetryDocument`] as the agent sends it: the same JSON, with the
/// body already serialized (see [`RunCollector::snapshot`]).
#[derive(Serialize)]
struct OutgoingDocument<'a> {
    seq: u64,
    kind: TelemetryKind,
    body: &'a RawValue,
}

/// Gives the heap's free pages back to the kernel.
///
/// Why: the host snapshot allocates a few MB once per run and frees them;
/// glibc keeps freed memory for reuse (and raises its trim threshold after
/// large frees), so without this the agent's RSS stays at the snapshot's
/// peak for the whole run, on every host it runs on.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn enroll(http: &ureq::Agent, config: &AgentConfig, token: &str, creds_path: &Path) -> Result<Credentials, String> {
    let (pkcs8, public) = Signer::generate()?;
    let req = EnrollRequest {
        token: token.to_string(),
        public_key: http::hex(&public),
        tags: config.tags.clone(),
        host: host_info(),
    };
    let body = serde_json::to_vec(&req).map_err(|e| e.to_string())?;
    let url = format!("{}/agent/v1/enroll", config.server.trim_end_matches('/'));
    let resp = send(http, "POST", &url, &[], Some(&body)).map_err(|e| e.to_string())?;
    if !resp.ok() {
        return Err(format!("enrollment refused ({}): {}", resp.status, resp.error_message()));
    }
    let answer: EnrollResponse =
        serde_json::from_slice(&resp.body).map_err(|e| format!("enrollment answer unreadable: {e}"))?;
    let creds =
        Credentials { server: config.server.clone(), agent_id: answer.agent_id, private_key_pkcs8: http::hex(&pkcs8) };
    let json = serde_json::to_vec_pretty(&creds).map_err(|e| e.to_string())?;
    write_private(creds_path, &json)?;
    eprintln!("warden agent: enrolled as {}", creds.agent_id);
    Ok(creds)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_resets() {
        let mut b = Backoff { failures: 0, until: None };
        b.fail(0);
        let first = b.until.unwrap() - Instant::now();
        for _ in 0..10 {
            b.fail(0);
        }
        let later = b.until.unwrap() - Instant::now();
        assert!(first <= Duration::from_secs(2), "{first:?}");
        assert!(later >= Duration::from_secs(30) && later <= Duration::from_secs(60), "{later:?}");
        b.fail(5);
        assert!(b.until.unwrap() - Instant::now() <= Duration::from_secs(5), "never longer than a heartbeat");
        assert!(b.waiting());
        b.succeed();
        assert!(!b.waiting());
    }

    /// The server reads what the agent sends as the model's
    /// `TelemetryDocument`: the two must stay the same JSON.
    #[test]
    fn outgoing_documents_parse_as_the_servers_telemetry_document() {
        let body =
            serde_json::value::to_raw_value(&serde_json::json!({"host": {"hostname": "h"}, "n": [1, 2]})).unwrap();
        for kind in [TelemetryKind::Snapshot, TelemetryKind::Runtime] {
            let bytes = serde_json::to_vec(&OutgoingDocument { seq: 7, kind, body: &body }).unwrap();
            let doc: warden_model::fleet::TelemetryDocument = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(doc.seq, 7);
            assert_eq!(doc.kind, kind);
            assert_eq!(doc.body, serde_json::json!({"host": {"hostname": "h"}, "n": [1, 2]}));
        }
    }

    #[test]
    fn host_info_names_this_host() {
        let h = host_info();
        assert!(h.hostname.is_some());
        assert!(h.ipv4_addresses.iter().all(|a| a.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !ip.is_loopback())));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex_decode(&http::hex(&[0, 1, 254])).unwrap(), vec![0, 1, 254]);
        assert!(hex_decode("abc").is_none());
    }
}
