//! The fleet agent protocol: the messages a `warden agent` and a `warden
//! serve` exchange, and the canonical text an agent signs.
//!
//! Why it lives in the model crate: the agent is a small blocking program and
//! the server an async one; neither may depend on the other, yet both must
//! agree byte for byte on these shapes and on the signed text. The wire
//! protocol is documented in `docs/fleet/protocol.md`.
//!
//! The server never sends commands: an [`Assignment`] is a closed enum (start
//! collecting for a run until a time at an interval; stop a run), so an agent
//! can only ever do the collection it was built to do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Header naming the agent id.
pub const AGENT_HEADER: &str = "x-warden-agent";
/// Header carrying the request time, unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-warden-timestamp";
/// Header carrying a random 128-bit nonce, hex.
pub const NONCE_HEADER: &str = "x-warden-nonce";
/// Header carrying the Ed25519 signature of [`signing_message`], hex.
pub const SIGNATURE_HEADER: &str = "x-warden-signature";
/// Requests whose timestamp differs from the server clock by more than this
/// are refused; nonces are remembered for at least this long.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The text an agent signs: `METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(sha256(body))`.
/// `path` is the request target as sent (path and query).
pub fn signing_message(method: &str, path: &str, timestamp: i64, nonce: &str, body_sha256_hex: &str) -> String {
    format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body_sha256_hex}")
}

/// What an agent says about its host when it enrolls and in each heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentHostInfo {
    /// Host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// OS pretty name from os-release.
    #[serde(default)]
    pub operating_system: Option<String>,
    /// Kernel release (`uname -r`).
    #[serde(default)]
    pub kernel_version: Option<String>,
    /// The agent's Warden version.
    #[serde(default)]
    pub agent_version: Option<String>,
    /// Non-loopback IPv4 addresses.
    #[serde(default)]
    pub ipv4_addresses: Vec<String>,
}

/// `POST /agent/v1/enroll`: a one-time enroll token exchanged for an identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The enroll token (`warden token create`).
    pub token: String,
    /// The agent's Ed25519 public key, 32 bytes, hex.
    pub public_key: String,
    /// Tags the agent carries (`--tags k=v,...`): what targets select on.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The host.
    #[serde(default)]
    pub host: AgentHostInfo,
}

/// The answer to an enrollment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The agent id the server assigned; sent in [`AGENT_HEADER`] from now on.
    pub agent_id: String,
    /// How often the server expects a heartbeat, seconds.
    pub heartbeat_seconds: u64,
}

/// What the agent is doing, as it reports it; the server derives Inspector's
/// health and health code from this and from heartbeat freshness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentActivity {
    /// Not in any run.
    Idle,
    /// Collecting for at least one run.
    Running,
    /// Holding back its own telemetry (spool full, resource guard).
    Throttled,
    /// Stopping (the last heartbeat before it exits).
    Shutdown,
    /// Collection or delivery is failing; `details` says why.
    Unhealthy,
}

/// Where the agent is in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    /// Collecting; more telemetry will follow.
    Collecting,
    /// Done: every telemetry document up to `last_seq` has been produced.
    Finished,
    /// Collection failed; `error` says why.
    Failed,
}

/// One run's progress, as the agent reports it in a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    /// The run id.
    pub run: String,
    /// The phase.
    pub phase: RunPhase,
    /// Highest telemetry sequence number produced so far (`None`: none yet).
    #[serde(default)]
    pub last_seq: Option<u64>,
    /// Why collection failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /agent/v1/heartbeat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    /// What the agent is doing.
    pub activity: AgentActivity,
    /// Free text behind the activity (e.g. why it is unhealthy).
    #[serde(default)]
    pub details: Option<String>,
    /// The host, refreshed.
    #[serde(default)]
    pub host: AgentHostInfo,
    /// Progress of every run the agent knows about and has not yet seen stopped.
    #[serde(default)]
    pub runs: Vec<RunProgress>,
}

/// The answer to a heartbeat: the agent's assignments, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// Server clock, unix seconds (lets the agent see its own skew).
    pub server_time: i64,
    /// How often to send the next heartbeats, seconds.
    pub heartbeat_seconds: u64,
    /// What the agent should be doing now.
    pub assignments: Vec<Assignment>,
}

/// The only instructions a server can give. Closed on purpose: no commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Assignment {
    /// Send the host snapshot now, then a runtime sample every
    /// `interval_seconds` until `until` (unix seconds).
    Collect {
        /// The run id.
        run: String,
        /// End of collection, unix seconds (server clock).
        until: i64,
        /// Sampling interval, seconds.
        interval_seconds: u64,
    },
    /// Stop collecting for the run and report it finished.
    Stop {
        /// The run id.
        run: String,
    },
}

/// What a telemetry document holds. The transport and the store treat the
/// body as opaque JSON; only evaluation reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelemetryKind {
    /// The full host snapshot (`warden collect`), sent once at the start of a run.
    Snapshot,
    /// One runtime sample.
    Runtime,
}

impl TelemetryKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TelemetryKind::Snapshot => "snapshot",
            TelemetryKind::Runtime => "runtime",
        }
    }
}

/// `POST /agent/v1/runs/{run}/telemetry`: one document, idempotent on
/// (run, agent, `seq`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TelemetryDocument {
    /// Sequence number per (run, agent), from 0, no gaps.
    pub seq: u64,
    /// What the body is.
    pub kind: TelemetryKind,
    /// The document.
    pub body: serde_json::Value,
}

/// The answer to a telemetry document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryAck {
    /// The sequence number stored.
    pub seq: u64,
    /// True when this `seq` had already been stored (a resend).
    pub duplicate: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_wire_shape_is_tagged() {
        let a = Assignment::Collect { run: "0-abcdEFGH".into(), until: 10, interval_seconds: 5 };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["type"], "collect");
        assert_eq!(json["interval_seconds"], 5);
        let unknown = serde_json::from_str::<Assignment>(r#"{"type":"exec","cmd":"rm -rf /"}"#);
        assert!(unknown.is_err(), "an unknown assignment must not parse");
    }

    #[test]
    fn signing_message_is_line_separated() {
        assert_eq!(
            signing_message("POST", "/agent/v1/heartbeat", 7, "ab", "cd"),
            "POST\n/agent/v1/heartbeat\n7\nab\ncd"
        );
    }
}
