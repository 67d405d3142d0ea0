//! Evaluation at the end of a run: every package of the run, for every agent
//! that delivered a snapshot.
//!
//! Why one function ([`evaluate_agent`]): the host snapshot, the runtime
//! samples and the package list are all it needs, so the same evaluation
//! serves the server, tests and (later) `warden assess --duration`. Runtime
//! telemetry reaches it as opaque JSON bodies; the Runtime Behavior package
//! plugs in at the marked place. Network Reachability needs the AWS network
//! description: the one uploaded for the run's target, else `warden serve
//! --aws DIR`; loaded once per run ([`NetworkDescription::for_target`]) and
//! matched to each agent's instance.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use warden_model::{Finding as RuleFinding, Outcome, RuleOutcome, Severity, Snapshot};
use warden_rules::{Package, best_practices, cis, cve};
use warden_store::{
    AssetAttributes, Attribute, Exclusion, FleetStore, NewFinding, Run, RunAgentStatus, RunRuleOutcome, RunState,
    RunUpdate,
};

use crate::exclusion_checks::{Blocker, ExclusionKind, package_blocker};
use crate::{AppState, now_ms};

/// Package id of the Runtime Behavior Analysis package.
pub const RUNTIME_PACKAGE_ID: &str = warden_rules::runtime::PACKAGE_ID;
/// Its name, as Inspector named it.
pub const RUNTIME_PACKAGE_NAME: &str = "Runtime Behavior Analysis";

/// Every package a template may name: (id, name).
pub const PACKAGES: [(&str, &str); 5] = [
    (best_practices::PACKAGE.id, best_practices::PACKAGE_NAME),
    (cve::PACKAGE_ID, cve::PACKAGE_NAME),
    (cis::PACKAGE_ID, cis::PACKAGE_NAME),
    (RUNTIME_PACKAGE_ID, RUNTIME_PACKAGE_NAME),
    (warden_netreach::findings::PACKAGE_ID, warden_netreach::findings::PACKAGE_NAME),
];

/// The name of a package id.
pub fn package_name(id: &str) -> &str {
    PACKAGES.iter().find(|p| p.0 == id).map(|p| p.1).unwrap_or(id)
}

/// What evaluation may use besides the agent's data.
#[derive(Clone, Debug, Default)]
pub struct EvaluationContext {
    /// The vulnerability database (`warden serve --vulndb`); the CVE package is not evaluated without one.
    pub vulndb: Option<PathBuf>,
    /// Today (`YYYY-MM-DD`), for support-status checks.
    pub today: String,
    /// The AWS network description for the Network Reachability package.
    pub network: NetworkDescription,
}

/// The AWS network description a run's evaluation uses. `source` says
/// which one, for exclusions and evidence: `uploaded for target T (sha256
/// ..., at ...)` or `--aws DIR`.
#[derive(Clone, Debug, Default)]
pub enum NetworkDescription {
    /// Nothing uploaded for the target and `warden serve` was started without `--aws DIR`.
    #[default]
    NotConfigured,
    /// The description could not be read.
    Unreadable {
        /// Which description.
        source: String,
        /// Why.
        error: String,
    },
    /// Loaded and analysed for this run.
    Loaded {
        /// Which description.
        source: String,
        /// Its analysis.
        analysis: Arc<warden_netreach::hosts::Analysis>,
    },
}

impl NetworkDescription {
    /// Reads `dir` (a folder of describe-* JSON, the `warden net load`
    /// format) afresh. Called once per run evaluation that includes the
    /// package, so the description in force when the run is evaluated is the
    /// one on disk then: no restart or reload signal is needed after the
    /// folder is refreshed (e.g. by `warden net collect`).
    pub fn for_run(dir: Option<&Path>) -> NetworkDescription {
        let Some(dir) = dir else { return NetworkDescription::NotConfigured };
        let source = format!("--aws {}", dir.display());
        match warden_netreach::hosts::Analysis::load(dir) {
            Ok(a) => NetworkDescription::Loaded { source, analysis: Arc::new(a) },
            Err(error) => NetworkDescription::Unreadable { source, error },
        }
    }

    /// The description for a run of `target_id`: the one uploaded for the
    /// target (`PUT /v1/targets/{id}/network`) when there is one, else
    /// [`NetworkDescription::for_run`] of `dir`. Read once per run evaluation
    /// (or exclusions preview) that includes the package.
    pub fn for_target(store: &dyn FleetStore, target_id: &str, dir: Option<&Path>) -> NetworkDescription {
        crate::target_network::uploaded_description(store, target_id).unwrap_or_else(|| Self::for_run(dir))
    }
}

/// What evaluation knows about one agent besides its telemetry.
#[derive(Clone, Copy, Debug, Default)]
pub struct AgentIdentity<'a> {
    /// The non-loopback IPv4 addresses the agent last reported.
    pub ipv4_addresses: &'a [String],
}

/// One package's result for one agent.
#[derive(Clone, Debug, PartialEq)]
pub enum PackageResult {
    /// Evaluated: its findings (possibly none) and how many rules ran.
    Evaluated {
        /// Findings.
        findings: Vec<RuleFinding>,
        /// Rules that passed, failed or did not apply.
        rules_evaluated: usize,
        /// Every rule checked, passed ones included (stored for FULL reports).
        rules: Vec<RuleOutcome>,
    },
    /// Not evaluated, and why (recorded as an exclusion).
    NotEvaluated(Blocker),
}

/// Evaluates the packages for one agent's data: its host snapshot, its
/// runtime telemetry bodies and its reported addresses. Returns one result
/// per package id, in order.
pub fn evaluate_agent(
    snapshot: &Snapshot,
    runtime: &[serde_json::Value],
    identity: AgentIdentity,
    packages: &[String],
    ctx: &EvaluationContext,
) -> Vec<(String, PackageResult)> {
    packages
        .iter()
        .map(|id| {
            // What keeps a package from running is decided in one place,
            // shared with the exclusions preview.
            if let Some(blocker) = package_blocker(id, Some(snapshot), ctx) {
                return (id.clone(), PackageResult::NotEvaluated(blocker));
            }
            let result = match id.as_str() {
                id if id == best_practices::PACKAGE.id => {
                    from_assessment(warden_rules::assess_with(snapshot, &[best_practices::PACKAGE], None, None))
                }
                cve::PACKAGE_ID => match &ctx.vulndb {
                    Some(db) => {
                        let options =
                            warden_vulndb::matcher::MatchOptions { ignore_unfixed: false, today: ctx.today.clone() };
                        let scan = warden_vulndb::matcher::scan_snapshot(snapshot, db, options);
                        from_assessment(warden_rules::assess_with(snapshot, &[] as &[Package], Some(&scan), None))
                    }
                    None => unreachable_blocker(id),
                },
                cis::PACKAGE_ID => from_assessment(warden_rules::assess_with(
                    snapshot,
                    &[] as &[Package],
                    None,
                    Some(&cis::CisOptions::default()),
                )),
                RUNTIME_PACKAGE_ID => runtime_result(snapshot, runtime),
                id if id == warden_netreach::findings::PACKAGE_ID => network_result(snapshot, identity, &ctx.network),
                other => unreachable_blocker(other),
            };
            (id.clone(), result)
        })
        .collect()
}

/// A package [`package_blocker`] lets through but that has no evaluation
/// here: reported, never a panic.
fn unreachable_blocker(id: &str) -> PackageResult {
    PackageResult::NotEvaluated(Blocker::new(ExclusionKind::Other, format!("rules package {id:?} has no evaluation")))
}

/// The Runtime Behavior Analysis package over the run's runtime deltas,
/// merged in the order they were received (the merge ignores resent deltas
/// and counts gaps, so a lost or repeated sample is visible, not fatal).
fn runtime_result(snapshot: &Snapshot, runtime: &[serde_json::Value]) -> PackageResult {
    let mut observations = warden_model::runtime::RuntimeObservations::default();
    let mut unreadable = 0usize;
    let mut other_versions = std::collections::BTreeSet::new();
    for body in runtime {
        // The version first: a delta of another schema version may not
        // parse as this one, and must be reported as such, not as garbage.
        let version = body.get("schema_version").and_then(serde_json::Value::as_u64);
        if let Some(v) = version.filter(|v| *v != u64::from(warden_model::runtime::RUNTIME_SCHEMA_VERSION)) {
            other_versions.insert(v);
            continue;
        }
        // Deserialised from the borrowed value: a delta can be large, and
        // `from_value` would need an owned copy of each.
        match <warden_model::runtime::RuntimeDelta as serde::Deserialize>::deserialize(body) {
            Ok(delta) => {
                observations.merge(&delta);
            }
            Err(_) => unreadable += 1,
        }
    }
    if observations.samples == 0 {
        return PackageResult::NotEvaluated(if !other_versions.is_empty() {
            Blocker::new(
                ExclusionKind::UnreadableData,
                format!(
                    "the runtime samples have schema version {other_versions:?}; this server reads version {}: upgrade the agent",
                    warden_model::runtime::RUNTIME_SCHEMA_VERSION
                ),
            )
        } else if unreadable > 0 {
            Blocker::new(
                ExclusionKind::UnreadableData,
                format!("none of the {unreadable} runtime samples could be read"),
            )
        } else {
            Blocker::new(ExclusionKind::NoRuntimeData, "no runtime samples were collected during the run")
        });
    }
    let asset = warden_rules::asset_name(snapshot);
    let (outcomes, findings, _partial) = warden_rules::runtime::evaluate(&observations, &asset);
    let rules_evaluated = outcomes.iter().filter(|r| r.outcome != Outcome::CouldNotEvaluate).count();
    PackageResult::Evaluated { findings, rules_evaluated, rules: outcomes }
}

/// The Network Reachability package for the agent's own EC2 instance, with
/// its snapshot's listening sockets as listener knowledge. An agent matched
/// to no instance (or to several) is not evaluated, and the reason says so.
fn network_result(snapshot: &Snapshot, identity: AgentIdentity, network: &NetworkDescription) -> PackageResult {
    use warden_netreach::hosts::InstanceMatch;
    let (analysis, source) = match network {
        NetworkDescription::Loaded { analysis, source } => (analysis, source),
        // `package_blocker` excludes the package before evaluation without a loaded description.
        NetworkDescription::NotConfigured | NetworkDescription::Unreadable { .. } => {
            return unreachable_blocker(warden_netreach::findings::PACKAGE_ID);
        }
    };
    let (instance_id, by) =
        match analysis.match_instance(snapshot.host.ec2_instance_id.as_deref(), identity.ipv4_addresses) {
            InstanceMatch::Matched { instance_id, by } => (instance_id, by),
            InstanceMatch::Unmatched(reason) => {
                let reason = format!("{reason} (network description: {source})");
                return PackageResult::NotEvaluated(Blocker::new(ExclusionKind::NoInstanceMatch, reason));
            }
        };
    let (outcomes, mut findings) = analysis.instance_package(&instance_id, snapshot);
    // Which instance the agent was taken for, and why, is part of each finding's evidence.
    for f in &mut findings {
        f.evidence.push(warden_rules::message_only(format!("agent matched to EC2 instance {instance_id} by {by}")));
        f.evidence.push(warden_rules::message_only(format!("network description: {source}")));
    }
    let blocked: Vec<&str> =
        outcomes.iter().filter(|o| o.outcome == Outcome::CouldNotEvaluate).map(|o| o.reason.as_str()).collect();
    if findings.is_empty() && !blocked.is_empty() {
        return PackageResult::NotEvaluated(Blocker::new(
            ExclusionKind::RulesNotEvaluable,
            format!("instance {instance_id}: {}", blocked.join("; ")),
        ));
    }
    let rules_evaluated = outcomes.len() - blocked.len();
    PackageResult::Evaluated { findings, rules_evaluated, rules: outcomes }
}

/// A package evaluated with nothing found but rules that could not be
/// evaluated is reported as not evaluated, never as "no issues".
fn from_assessment(a: warden_model::Assessment) -> PackageResult {
    let blocked: Vec<String> = a
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::CouldNotEvaluate)
        .map(|r| format!("{}: {}", r.rule_id, r.reason))
        .collect();
    if a.findings.is_empty() && !blocked.is_empty() {
        return PackageResult::NotEvaluated(Blocker::new(
            ExclusionKind::RulesNotEvaluable,
            format!("could not evaluate: {}", blocked.join("; ")),
        ));
    }
    let rules_evaluated = a.rules.iter().filter(|r| r.outcome != Outcome::CouldNotEvaluate).count();
    PackageResult::Evaluated { findings: a.findings, rules_evaluated, rules: a.rules }
}

/// Inspector's finding for a package that found nothing.
pub fn no_issues_finding(package_id: &str, rules_evaluated: usize, hostname: &str) -> RuleFinding {
    let name = package_name(package_id);
    RuleFinding {
        rule_id: "no-potential-security-issues".into(),
        package: name.to_string(),
        title: "No potential security issues found".into(),
        severity: Severity::Informational,
        numeric_severity: 0.0,
        asset: hostname.to_string(),
        description: format!(
            "The rules in the {name} package did not find any potential security issues during this assessment."
        ),
        recommendation: "No remediation needed.".into(),
        evidence: vec![warden_rules::message_only(format!(
            "{rules_evaluated} rules of {name} evaluated on {hostname}; none failed"
        ))],
        attributes: Default::default(),
    }
}

/// Evaluates a run in EVALUATING_RULES: clears earlier partial results (so a
/// restarted server may evaluate again), stores findings and exclusions,
/// and ends the run COMPLETED, or COMPLETED_WITH_ERRORS when an agent did not
/// deliver or its data could not be read.
pub fn evaluate_run(state: &AppState, run: &Run) -> Result<(), String> {
    let store = state.store.as_ref();
    let wants_network = run.packages.iter().any(|p| p == warden_netreach::findings::PACKAGE_ID);
    let network = if wants_network {
        NetworkDescription::for_target(store, &run.target_id, state.config.aws.as_deref())
    } else {
        Default::default()
    };
    let ctx = EvaluationContext { vulndb: state.config.vulndb.clone(), today: warden_collect::today(), network };
    store.clear_run_results(&run.id).map_err(|e| e.to_string())?;
    let mut errors = Vec::new();
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    let now = now_ms();
    for ra in store.list_run_agents(&run.id).map_err(|e| e.to_string())? {
        if ra.status != RunAgentStatus::Collected {
            errors.push(format!("agent {} {}", ra.agent_id, ra.status.as_str()));
        }
        let agent = store.get_agent(&ra.agent_id).map_err(|e| e.to_string())?;
        let asset = AssetAttributes {
            agent_id: agent.id.clone(),
            hostname: agent.host.hostname.clone(),
            ipv4_addresses: agent.host.ipv4_addresses.clone(),
            tags: agent.tags.iter().map(|(k, v)| Attribute::new(k, v)).collect(),
        };
        let exclude = |package: &str, blocker: Blocker| Exclusion {
            run_id: run.id.clone(),
            agent_id: agent.id.clone(),
            package: package.to_string(),
            reason: blocker.reason,
            created_at: now,
            kind: blocker.kind.code().to_string(),
        };
        let docs = store.telemetry_documents(&run.id, &agent.id).map_err(|e| e.to_string())?;
        let mut snapshot = None;
        let mut runtime = Vec::new();
        let mut unreadable = None;
        for d in &docs {
            match d.kind.as_str() {
                "snapshot" => match serde_json::from_str::<Snapshot>(&d.body) {
                    Ok(s) => snapshot = Some(s),
                    Err(e) => unreadable = Some(format!("snapshot (seq {}) unreadable: {e}", d.seq)),
                },
                _ => match serde_json::from_str(&d.body) {
                    Ok(v) => runtime.push(v),
                    Err(e) => unreadable = Some(format!("runtime sample (seq {}) unreadable: {e}", d.seq)),
                },
            }
        }
        let Some(snapshot) = snapshot else {
            let blocker = match unreadable {
                Some(reason) => Blocker::new(ExclusionKind::UnreadableData, reason),
                None => Blocker::new(ExclusionKind::NoSnapshot, "no host snapshot was received from this agent"),
            };
            errors.push(format!("agent {}: {}", agent.id, blocker.reason));
            for p in &run.packages {
                store.add_exclusion(&exclude(p, blocker.clone())).map_err(|e| e.to_string())?;
            }
            continue;
        };
        let host = agent.host.hostname.clone().unwrap_or_else(|| agent.id.clone());
        let identity = AgentIdentity { ipv4_addresses: &agent.host.ipv4_addresses };
        for (package, result) in evaluate_agent(&snapshot, &runtime, identity, &run.packages, &ctx) {
            match result {
                PackageResult::NotEvaluated(blocker) => {
                    store.add_exclusion(&exclude(&package, blocker)).map_err(|e| e.to_string())?
                }
                PackageResult::Evaluated { findings: found, rules_evaluated, rules } => {
                    outcomes.extend(rules.into_iter().map(|outcome| RunRuleOutcome {
                        agent_id: agent.id.clone(),
                        package_id: package.clone(),
                        outcome,
                    }));
                    let found = if found.is_empty() {
                        vec![no_issues_finding(&package, rules_evaluated, &host)]
                    } else {
                        found
                    };
                    findings.extend(found.into_iter().map(|f| NewFinding {
                        agent_id: agent.id.clone(),
                        package: package.clone(),
                        rule_id: f.rule_id,
                        title: f.title,
                        severity: f.severity,
                        numeric_severity: f.numeric_severity,
                        description: f.description,
                        recommendation: f.recommendation,
                        evidence: f.evidence,
                        attributes: f.attributes.into_iter().map(|(k, v)| Attribute::new(k, v)).collect(),
                        user_attributes: run.user_attributes.clone(),
                        asset: asset.clone(),
                    }));
                }
            }
        }
    }
    store.insert_findings(&run.id, &findings, now).map_err(|e| e.to_string())?;
    store.replace_rule_outcomes(&run.id, &outcomes).map_err(|e| e.to_string())?;
    let (to, failure) = if errors.is_empty() {
        (RunState::Completed, None)
    } else {
        (RunState::CompletedWithErrors, Some(errors.join("; ")))
    };
    store
        .transition_run(&run.id, RunState::EvaluatingRules, to, &RunUpdate { failure, ..Default::default() }, now_ms())
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A snapshot collected from a fixture root under `tests/fixtures/roots`.
    pub(crate) fn fixture(name: &str) -> Snapshot {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roots").join(name).join("root");
        warden_collect::collect(&root, &warden_collect::Options::default()).unwrap()
    }

    /// The runtime package merges real deltas of this host's sampler (sent
    /// twice, as an agent resending after an outage would) and evaluates them.
    #[test]
    fn runtime_package_merges_real_samples() {
        let mut sampler = warden_collect::runtime::Sampler::new(Default::default());
        let first = serde_json::to_value(sampler.sample(warden_collect::runtime::unix_now())).unwrap();
        let second = serde_json::to_value(sampler.sample(warden_collect::runtime::unix_now() + 1)).unwrap();
        let runtime = [first.clone(), first, second, serde_json::json!({"not": "a delta"})];
        let packages = vec![RUNTIME_PACKAGE_ID.to_string()];
        let results = evaluate_agent(
            &fixture("debian-weak"),
            &runtime,
            AgentIdentity::default(),
            &packages,
            &EvaluationContext::default(),
        );
        let PackageResult::Evaluated { rules_evaluated, findings, rules } = &results[0].1 else {
            panic!("{:?}", results[0])
        };
        assert_eq!(rules.iter().filter(|r| r.outcome != Outcome::CouldNotEvaluate).count(), *rules_evaluated);
        assert!(*rules_evaluated > 0 && *rules_evaluated <= warden_rules::runtime::rules().len(), "{rules_evaluated}");
        assert!(findings.iter().all(|f| f.package == RUNTIME_PACKAGE_NAME));
        let garbage = [serde_json::json!({"not": "a delta"})];
        let results = evaluate_agent(
            &fixture("debian-weak"),
            &garbage,
            AgentIdentity::default(),
            &packages,
            &EvaluationContext::default(),
        );
        assert!(
            matches!(&results[0].1, PackageResult::NotEvaluated(r) if r.reason.contains("could be read")),
            "{results:?}"
        );
        // A version 1 delta (chain entries as objects) from an old agent: refused by version, said so.
        let old_agent = [
            serde_json::json!({"schema_version": 1, "sampler": "s", "seq": 1, "at": 1, "interval_secs": 10,
            "shared_objects": {"upserts": [{"path": "/l.so", "loaded_by": "/b", "chain": [{"mode": 33261, "uid": 0, "gid": 0}], "pid": 1}]}}),
        ];
        let results = evaluate_agent(
            &fixture("debian-weak"),
            &old_agent,
            AgentIdentity::default(),
            &packages,
            &EvaluationContext::default(),
        );
        assert!(
            matches!(&results[0].1, PackageResult::NotEvaluated(r) if r.reason.contains("schema version {1}") && r.reason.contains("upgrade the agent")),
            "{results:?}"
        );
    }

    #[test]
    fn every_package_evaluates_or_says_why_not() {
        let packages: Vec<String> = PACKAGES.iter().map(|p| p.0.to_string()).collect();
        let results = evaluate_agent(
            &fixture("debian-weak"),
            &[],
            AgentIdentity::default(),
            &packages,
            &EvaluationContext::default(),
        );
        assert_eq!(results.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), packages);
        let PackageResult::Evaluated { findings, rules_evaluated, rules } = &results[0].1 else {
            panic!("{:?}", results[0])
        };
        assert!(rules_evaluated > &0);
        assert!(rules.iter().any(|r| r.outcome == Outcome::Pass), "passed rules are kept for FULL reports");
        assert!(rules.iter().any(|r| r.rule_id == "sbp-ssh-root-login" && r.outcome == Outcome::Fail));
        assert!(findings.iter().any(|f| f.rule_id == "sbp-ssh-root-login"), "the weak root permits root login");
        assert!(findings.iter().all(|f| !f.evidence.is_empty()));
        assert!(matches!(&results[1].1, PackageResult::NotEvaluated(r) if r.reason.contains("--vulndb")));
        assert!(matches!(&results[3].1, PackageResult::NotEvaluated(r) if r.reason.contains("no runtime samples")));
        assert!(matches!(&results[4].1, PackageResult::NotEvaluated(r) if r.reason.contains("AWS")));
    }

    /// Network Reachability on the moto world fixture: an agent at web-1's
    /// address gets web-1's findings with its own listeners; an agent at no
    /// instance's address, or with no description loaded, is excluded with the reason.
    #[test]
    fn network_reachability_matches_the_agent_to_its_instance() {
        let aws = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws/moto-world");
        let ctx = EvaluationContext { network: NetworkDescription::for_run(Some(&aws)), ..Default::default() };
        let packages = vec![warden_netreach::findings::PACKAGE_ID.to_string()];
        let mut snapshot = fixture("debian-weak");
        snapshot.listening = warden_model::Fact::collected(vec![warden_model::ListeningSocket {
            transport: warden_model::Transport::Tcp,
            address: "0.0.0.0".into(),
            port: 22,
            inode: 7,
            uid: 0,
            user: Some("root".into()),
            pid: Some(1),
            process: Some("sshd".into()),
            exe: Some("/usr/sbin/sshd".into()),
        }]);
        let web1 = ["192.0.2.9".to_string(), "10.0.1.10".to_string()];
        let results = evaluate_agent(&snapshot, &[], AgentIdentity { ipv4_addresses: &web1 }, &packages, &ctx);
        let PackageResult::Evaluated { findings, rules_evaluated, rules } = &results[0].1 else {
            panic!("{results:?}")
        };
        assert_eq!(*rules_evaluated, 1);
        assert_eq!(rules.len(), 1, "the package's one rule is stored for FULL reports");
        assert!(findings.iter().all(|f| f.attributes["INSTANCE_ID"] == "i-9ff9ec716ae40311d"), "{findings:#?}");
        let ssh = findings.iter().find(|f| f.attributes.get("PORT").is_some_and(|p| p == "22")).unwrap();
        assert_eq!(ssh.attributes["RULE_TYPE"], "RecognizedPortWithListener");
        assert_eq!(ssh.attributes["PROCESS"], "/usr/sbin/sshd");
        assert!(
            ssh.evidence.iter().any(|e| e
                .message
                .contains("matched to EC2 instance i-9ff9ec716ae40311d by private address 10.0.1.10")),
            "{:?}",
            ssh.evidence
        );

        let elsewhere = ["192.0.2.9".to_string()];
        let results = evaluate_agent(&snapshot, &[], AgentIdentity { ipv4_addresses: &elsewhere }, &packages, &ctx);
        assert!(
            matches!(&results[0].1, PackageResult::NotEvaluated(r)
                if r.kind == ExclusionKind::NoInstanceMatch && r.reason.contains("192.0.2.9")),
            "{results:?}"
        );
        // The snapshot's instance id is used before addresses.
        snapshot.host.ec2_instance_id = Some("i-3cee96c180a4e387d".into());
        let results = evaluate_agent(&snapshot, &[], AgentIdentity { ipv4_addresses: &web1 }, &packages, &ctx);
        let PackageResult::Evaluated { findings, .. } = &results[0].1 else { panic!("{results:?}") };
        assert!(findings.iter().all(|f| f.attributes["INSTANCE_ID"] == "i-3cee96c180a4e387d"), "{findings:#?}");

        let missing = std::path::Path::new("/nonexistent/warden-aws");
        let ctx = EvaluationContext { network: NetworkDescription::for_run(Some(missing)), ..Default::default() };
        let results = evaluate_agent(&snapshot, &[], AgentIdentity { ipv4_addresses: &web1 }, &packages, &ctx);
        assert!(
            matches!(&results[0].1, PackageResult::NotEvaluated(r) if r.kind == ExclusionKind::NoNetworkData
                && r.reason.contains("could not be read") && r.reason.contains("/nonexistent/warden-aws")),
            "{results:?}"
        );
    }

    #[test]
    fn nothing_found_with_rules_blocked_is_not_reported_as_no_issues() {
        // A root that is not the running system has no live kernel facts (DEP,
        // ASLR): with nothing failed, the package must say it could not tell.
        let results = evaluate_agent(
            &fixture("debian-hardened"),
            &[],
            AgentIdentity::default(),
            &["best-practices".to_string()],
            &EvaluationContext::default(),
        );
        let PackageResult::NotEvaluated(Blocker { reason, .. }) = &results[0].1 else { panic!("{:?}", results[0]) };
        assert!(reason.contains("sbp-dep") && reason.contains("live"), "{reason}");
    }

    #[test]
    fn no_issues_finding_has_evidence_and_is_informational() {
        let f = no_issues_finding("best-practices", 9, "web-1");
        assert_eq!(f.severity, Severity::Informational);
        assert_eq!(f.title, "No potential security issues found");
        assert!(f.evidence[0].message.contains("9 rules"));
    }
}
