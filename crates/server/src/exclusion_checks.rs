//! Which rules packages cannot run on an agent, and why.
//!
//! Why it exists: Inspector's exclusions are the checks that could not run.
//! Warden shows them twice — recorded per run when a run is evaluated
//! ([`crate::evaluate`]) and predicted per template by
//! `CreateExclusionsPreview` before any run — and the two must agree. So
//! this module is the one place that decides: [`package_blocker`] for what a
//! package needs (a vulnerability database, a package inventory, a CIS
//! benchmark for the OS, AWS network data), [`agent_blocker`] for an agent
//! that cannot take part at all. Each obstacle has an [`ExclusionKind`],
//! stored with the exclusion, that gives the API its title and
//! recommendation.

use warden_model::Snapshot;
use warden_rules::{best_practices, cis, cve};
use warden_store::{Agent, AgentHealth, HealthThresholds, UnixMillis};

use crate::evaluate::{EvaluationContext, RUNTIME_PACKAGE_ID};

/// What kind of obstacle kept a package from running (stored as [`ExclusionKind::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExclusionKind {
    /// The agent is unhealthy, shut down or silent.
    AgentUnhealthy,
    /// The run received no host snapshot from the agent.
    NoSnapshot,
    /// The agent's data could not be read.
    UnreadableData,
    /// The server has no vulnerability database (CVE package).
    NoVulnerabilityDatabase,
    /// The host has no package inventory (CVE package).
    NoPackageInventory,
    /// No CIS benchmark covers the host's OS.
    UnsupportedOs,
    /// The host's OS is not known.
    UnknownOs,
    /// No AWS network description is loaded (Network Reachability).
    NoNetworkData,
    /// The network description holds no single instance for this agent (Network Reachability).
    NoInstanceMatch,
    /// No runtime samples were collected (Runtime Behavior Analysis).
    NoRuntimeData,
    /// Rules needed facts the collection could not provide.
    RulesNotEvaluable,
    /// The template names a package this server does not have.
    UnknownPackage,
    /// Anything else (and exclusions recorded before kinds were stored).
    Other,
}

impl ExclusionKind {
    /// Every kind.
    pub const ALL: [ExclusionKind; 13] = [
        ExclusionKind::AgentUnhealthy,
        ExclusionKind::NoSnapshot,
        ExclusionKind::UnreadableData,
        ExclusionKind::NoVulnerabilityDatabase,
        ExclusionKind::NoPackageInventory,
        ExclusionKind::UnsupportedOs,
        ExclusionKind::UnknownOs,
        ExclusionKind::NoNetworkData,
        ExclusionKind::NoInstanceMatch,
        ExclusionKind::NoRuntimeData,
        ExclusionKind::RulesNotEvaluable,
        ExclusionKind::UnknownPackage,
        ExclusionKind::Other,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ExclusionKind::AgentUnhealthy => "agent-unhealthy",
            ExclusionKind::NoSnapshot => "no-snapshot",
            ExclusionKind::UnreadableData => "unreadable-data",
            ExclusionKind::NoVulnerabilityDatabase => "no-vulnerability-database",
            ExclusionKind::NoPackageInventory => "no-package-inventory",
            ExclusionKind::UnsupportedOs => "unsupported-os",
            ExclusionKind::UnknownOs => "unknown-os",
            ExclusionKind::NoNetworkData => "no-network-data",
            ExclusionKind::NoInstanceMatch => "no-instance-match",
            ExclusionKind::NoRuntimeData => "no-runtime-data",
            ExclusionKind::RulesNotEvaluable => "rules-not-evaluable",
            ExclusionKind::UnknownPackage => "unknown-package",
            ExclusionKind::Other => "other",
        }
    }

    /// The kind of a stored code (`Other` for an unknown or empty one).
    pub fn from_code(code: &str) -> ExclusionKind {
        ExclusionKind::ALL.into_iter().find(|k| k.code() == code).unwrap_or(ExclusionKind::Other)
    }

    /// The exclusion's title, as Inspector's short ones.
    pub fn title(self) -> &'static str {
        match self {
            ExclusionKind::AgentUnhealthy => "Agent is not healthy",
            ExclusionKind::NoSnapshot => "No host data received from the agent",
            ExclusionKind::UnreadableData => "Host data from the agent could not be read",
            ExclusionKind::NoVulnerabilityDatabase => "No vulnerability database loaded",
            ExclusionKind::NoPackageInventory => "No package inventory on the host",
            ExclusionKind::UnsupportedOs => "Unsupported operating system",
            ExclusionKind::UnknownOs => "Unknown operating system",
            ExclusionKind::NoNetworkData => "No AWS network data",
            ExclusionKind::NoInstanceMatch => "Agent not matched to an EC2 instance",
            ExclusionKind::NoRuntimeData => "No runtime behavior data",
            ExclusionKind::RulesNotEvaluable => "Rules could not be evaluated",
            ExclusionKind::UnknownPackage => "Unknown rules package",
            ExclusionKind::Other => "Rules package not evaluated",
        }
    }

    /// What to do about it.
    pub fn recommendation(self) -> &'static str {
        match self {
            ExclusionKind::AgentUnhealthy => {
                "Make sure the Warden agent runs on the host and can reach the server (check its heartbeats with `warden fleet agents`)."
            }
            ExclusionKind::NoSnapshot => {
                "Make sure the agent stays running and connected for the whole assessment duration, then start a new run."
            }
            ExclusionKind::UnreadableData => "Upgrade the Warden agent to the server's version, then start a new run.",
            ExclusionKind::NoVulnerabilityDatabase => {
                "Build a vulnerability database with `warden db` and start the server with `--vulndb PATH`."
            }
            ExclusionKind::NoPackageInventory => {
                "Make sure the host's package database (dpkg, rpm or apk) is readable by the agent."
            }
            ExclusionKind::UnsupportedOs => {
                "Remove the CIS rules package from the template for this host, or run it on an operating system with CIS content."
            }
            ExclusionKind::UnknownOs => "Make sure /etc/os-release is present and readable by the agent.",
            ExclusionKind::NoNetworkData => {
                "Collect the AWS network description with `warden net collect`, then upload it for the target with `warden target network-load TARGET --aws DIR` (or start the server with `warden serve --aws DIR` for every target)."
            }
            ExclusionKind::NoInstanceMatch => {
                "Make sure the network description holds this host's instance: its instance id (DMI asset tag) or private IPv4 addresses must identify exactly one instance."
            }
            ExclusionKind::NoRuntimeData => {
                "Use an assessment duration long enough for the agent to take runtime samples."
            }
            ExclusionKind::RulesNotEvaluable => {
                "Run the agent on the live host (root `/`) so that kernel facts can be read."
            }
            ExclusionKind::UnknownPackage => "Use the rules packages listed by ListRulesPackages.",
            ExclusionKind::Other => "See the description.",
        }
    }
}

/// Why a package (or an agent) is excluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    /// What kind of obstacle.
    pub kind: ExclusionKind,
    /// The specific reason, one line.
    pub reason: String,
}

impl Blocker {
    /// A blocker of `kind` for `reason`.
    pub fn new(kind: ExclusionKind, reason: impl Into<String>) -> Blocker {
        Blocker { kind, reason: reason.into() }
    }
}

/// What keeps `package` from running, from what the server has and what is
/// known of the host: `snapshot` is the host snapshot (the run's when
/// evaluating, the agent's newest when previewing; `None` when none was ever
/// received, so only the server-side conditions are checked). `None` when
/// nothing known keeps it from running.
pub fn package_blocker(package: &str, snapshot: Option<&Snapshot>, ctx: &EvaluationContext) -> Option<Blocker> {
    match package {
        p if p == best_practices::PACKAGE.id || p == RUNTIME_PACKAGE_ID => None,
        cve::PACKAGE_ID => {
            if ctx.vulndb.is_none() {
                return Some(Blocker::new(
                    ExclusionKind::NoVulnerabilityDatabase,
                    "no vulnerability database is configured (warden serve --vulndb PATH)",
                ));
            }
            let reason = snapshot?.packages.reason()?;
            Some(Blocker::new(ExclusionKind::NoPackageInventory, format!("no package inventory: {reason}")))
        }
        cis::PACKAGE_ID => {
            let benchmarks = match cis::embedded() {
                Ok(b) => b,
                Err(e) => return Some(Blocker::new(ExclusionKind::Other, format!("CIS content unavailable: {e}"))),
            };
            match snapshot?.host.os.value() {
                Some(os) if cis::for_os(benchmarks, os).is_some() => None,
                Some(os) => Some(Blocker::new(
                    ExclusionKind::UnsupportedOs,
                    format!("no CIS benchmark content for {}", os.pretty_name.clone().unwrap_or_else(|| os.id.clone())),
                )),
                None => Some(Blocker::new(ExclusionKind::UnknownOs, "the OS is unknown, so no CIS benchmark applies")),
            }
        }
        p if p == warden_netreach::findings::PACKAGE_ID => match &ctx.network {
            crate::evaluate::NetworkDescription::NotConfigured => Some(Blocker::new(
                ExclusionKind::NoNetworkData,
                "no AWS network description: none uploaded for the target (warden target network-load) \
                 and the server runs without --aws DIR",
            )),
            crate::evaluate::NetworkDescription::Unreadable { source, error } => Some(Blocker::new(
                ExclusionKind::NoNetworkData,
                format!("the AWS network description ({source}) could not be read: {error}"),
            )),
            // Which instance the agent is, is decided when evaluating (`evaluate::network_result`).
            crate::evaluate::NetworkDescription::Loaded { .. } => None,
        },
        other => Some(Blocker::new(ExclusionKind::UnknownPackage, format!("unknown rules package {other:?}"))),
    }
}

/// What keeps an agent from taking part in a run started now: not
/// healthy (silent, shut down, reporting a problem, never heard from, or
/// retired). A run would get no host snapshot from it, which evaluation
/// records as [`ExclusionKind::NoSnapshot`] for every package.
pub fn agent_blocker(agent: &Agent, now: UnixMillis, thresholds: HealthThresholds) -> Option<Blocker> {
    let (health, code, details) = agent.health(now, thresholds);
    if health == AgentHealth::Healthy {
        return None;
    }
    let details = if details.is_empty() { String::new() } else { format!(": {details}") };
    Some(Blocker::new(
        ExclusionKind::AgentUnhealthy,
        format!("agent {} is {} ({}){details}", agent.id, health.as_str(), code.as_str()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::tests::fixture;
    use std::collections::BTreeMap;
    use warden_model::Fact;

    #[test]
    fn kinds_round_trip_through_their_codes() {
        for k in ExclusionKind::ALL {
            assert_eq!(ExclusionKind::from_code(k.code()), k);
            assert!(!k.title().is_empty() && !k.recommendation().is_empty());
        }
        assert_eq!(ExclusionKind::from_code(""), ExclusionKind::Other);
        assert_eq!(ExclusionKind::from_code("no-such-kind"), ExclusionKind::Other);
    }

    #[test]
    fn server_side_conditions_block_without_host_data() {
        let ctx = EvaluationContext::default();
        assert_eq!(package_blocker("cve", None, &ctx).unwrap().kind, ExclusionKind::NoVulnerabilityDatabase);
        assert_eq!(
            package_blocker(warden_netreach::findings::PACKAGE_ID, None, &ctx).unwrap().kind,
            ExclusionKind::NoNetworkData
        );
        assert_eq!(package_blocker("nope", None, &ctx).unwrap().kind, ExclusionKind::UnknownPackage);
        assert_eq!(package_blocker("best-practices", None, &ctx), None);
        assert_eq!(package_blocker("cis", None, &ctx), None, "the OS is not known before a snapshot");
        let with_db = EvaluationContext { vulndb: Some("/var/lib/warden/vuln.db".into()), ..Default::default() };
        assert_eq!(package_blocker("cve", None, &with_db), None);
    }

    #[test]
    fn host_data_decides_inventory_and_os() {
        let with_db = EvaluationContext { vulndb: Some("/var/lib/warden/vuln.db".into()), ..Default::default() };
        let mut snapshot = fixture("debian12-old-packages");
        assert!(snapshot.packages.value().is_some(), "the fixture has a dpkg database");
        assert_eq!(package_blocker("cve", Some(&snapshot), &with_db), None);
        assert_eq!(package_blocker("cis", Some(&snapshot), &with_db), None, "Debian has CIS content");
        snapshot.packages = Fact::Absent { reason: "no package database found".into() };
        let b = package_blocker("cve", Some(&snapshot), &with_db).unwrap();
        assert_eq!(b.kind, ExclusionKind::NoPackageInventory);
        assert!(b.reason.contains("no package database found"), "{}", b.reason);
        let alpine = fixture("alpine-3.20-packages");
        let b = package_blocker("cis", Some(&alpine), &with_db).unwrap();
        assert_eq!(b.kind, ExclusionKind::UnsupportedOs);
        assert!(b.reason.contains("Alpine"), "{}", b.reason);
        snapshot.host.os = Fact::Absent { reason: "no os-release".into() };
        assert_eq!(package_blocker("cis", Some(&snapshot), &with_db).unwrap().kind, ExclusionKind::UnknownOs);
    }

    #[test]
    fn unhealthy_agents_are_blocked() {
        let th = HealthThresholds::for_heartbeat(30);
        let mut agent = Agent {
            id: "i-0123456789abcdef0".into(),
            public_key: vec![],
            tags: BTreeMap::new(),
            host: Default::default(),
            enrolled_at: 0,
            last_heartbeat_at: Some(1_000),
            activity: Some("idle".into()),
            activity_details: None,
            retired_at: None,
        };
        assert_eq!(agent_blocker(&agent, 2_000, th), None);
        let b = agent_blocker(&agent, 1_000 + 3_600_000, th).unwrap();
        assert_eq!(b.kind, ExclusionKind::AgentUnhealthy);
        assert!(b.reason.contains("UNHEALTHY") && b.reason.contains("no heartbeat"), "{}", b.reason);
        agent.last_heartbeat_at = None;
        assert!(agent_blocker(&agent, 2_000, th).unwrap().reason.contains("UNKNOWN"));
    }
}
