//! A stored run as a [`RunReport`]: what every report format renders.
//!
//! Why here: the run, its template and target, its agents, findings, rule
//! outcomes and exclusions are in the fleet store; the renderers know only
//! `RunReport`. This is the one place that maps the first to the second, for
//! `GetAssessmentReport` and `warden report RUN` alike.

use std::collections::BTreeMap;

use warden_model::{Finding as ReportFinding, Outcome, Problem, RuleOutcome, Severity};
use warden_report::{HostReport, ReportType, RunMetadata, RunReport};
use warden_store::{Agent, FindingQuery, FleetStore, RunAgentStatus, StoreError, UnixMillis};

use crate::evaluate::package_name;

/// Attribute keys of user attributes in a report's findings (`user:KEY`), so
/// they show beside the system attributes without shadowing them.
pub const USER_ATTRIBUTE_PREFIX: &str = "user:";

/// Builds the report of run `run_id`. FULL keeps every rule outcome stored
/// for the run; FINDING keeps only those that could not be evaluated.
pub fn build_run_report(
    store: &dyn FleetStore,
    run_id: &str,
    report_type: ReportType,
    now: UnixMillis,
) -> Result<RunReport, StoreError> {
    let run = store.get_run(run_id)?;
    let template = store.get_template(&run.template_id)?;
    let target = store.get_target(&run.target_id)?;
    let run_agents = store.list_run_agents(run_id)?;

    let mut findings: BTreeMap<String, Vec<ReportFinding>> = BTreeMap::new();
    for f in store.list_findings(&FindingQuery { run_ids: vec![run_id.to_string()], ..Default::default() })? {
        let n = f.finding;
        let host = n.asset.hostname.clone().unwrap_or_else(|| n.agent_id.clone());
        let mut attributes: BTreeMap<String, String> =
            n.attributes.into_iter().map(|a| (a.key, a.value.unwrap_or_default())).collect();
        for a in n.user_attributes {
            attributes.insert(format!("{USER_ATTRIBUTE_PREFIX}{}", a.key), a.value.unwrap_or_default());
        }
        findings.entry(n.agent_id).or_default().push(ReportFinding {
            rule_id: n.rule_id,
            package: package_name(&n.package).to_string(),
            title: n.title,
            severity: n.severity,
            numeric_severity: n.numeric_severity,
            asset: host,
            description: n.description,
            recommendation: n.recommendation,
            evidence: n.evidence,
            attributes,
        });
    }
    let mut rules: BTreeMap<String, Vec<RuleOutcome>> = BTreeMap::new();
    for o in store.list_rule_outcomes(run_id)? {
        rules.entry(o.agent_id).or_default().push(o.outcome);
    }
    // A package not evaluated for an agent (an exclusion) is a rule outcome
    // that could not be evaluated: every format lists it, and it marks the host partial.
    for e in store.list_exclusions(run_id)? {
        let name = package_name(&e.package);
        rules.entry(e.agent_id).or_default().push(RuleOutcome {
            rule_id: format!("package:{}", e.package),
            package: name.to_string(),
            title: format!("{name} was not evaluated"),
            severity: Severity::Informational,
            outcome: Outcome::CouldNotEvaluate,
            reason: e.reason,
            evidence: vec![],
        });
    }

    // Hosts in the run's agent order, then any agent known only from stored results.
    let mut agent_ids: Vec<String> = run_agents.iter().map(|a| a.agent_id.clone()).collect();
    for id in findings.keys().chain(rules.keys()) {
        if !agent_ids.contains(id) {
            agent_ids.push(id.clone());
        }
    }
    let mut hosts = Vec::with_capacity(agent_ids.len());
    for id in &agent_ids {
        let agent: Option<Agent> = store.get_agent(id).ok();
        let run_agent = run_agents.iter().find(|a| &a.agent_id == id);
        let mut problems = Vec::new();
        if let Some(ra) = run_agent.filter(|ra| ra.status != RunAgentStatus::Collected) {
            let details = ra.status_details.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            problems.push(Problem {
                path: format!("agent {id}"),
                line: None,
                message: format!("collection {}{details}", ra.status.as_str()),
            });
        }
        let host_rules = rules.remove(id).unwrap_or_default();
        let partial = !problems.is_empty() || host_rules.iter().any(|r| r.outcome == Outcome::CouldNotEvaluate);
        let collected = run_agent.and_then(|ra| ra.last_telemetry_at.or(ra.last_contact_at));
        hosts.push(HostReport {
            asset: agent.as_ref().and_then(|a| a.host.hostname.clone()).unwrap_or_else(|| id.clone()),
            os: agent.as_ref().and_then(|a| a.host.operating_system.clone()),
            agent_id: Some(id.clone()),
            collected_at: collected.map(rfc3339_ms).unwrap_or_default(),
            partial,
            findings: findings.remove(id).unwrap_or_default(),
            rules: host_rules,
            problems,
        });
    }

    let state = match &run.failure {
        Some(why) => format!("{} ({why})", run.state.as_str()),
        None => run.state.as_str().to_string(),
    };
    let metadata = RunMetadata {
        run_name: run.name.clone(),
        template: template.name,
        target: target.name,
        started_at: rfc3339_ms(run.started_at.unwrap_or(run.created_at)),
        completed_at: run.completed_at.map(rfc3339_ms).unwrap_or_default(),
        rules_packages: run.packages.iter().map(|p| package_name(p).to_string()).collect(),
        agents: agent_ids,
        state: Some(state),
        warden_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: rfc3339_ms(now),
    };
    Ok(RunReport::new(report_type, metadata, hosts))
}

/// Unix milliseconds as RFC 3339 (whole seconds, UTC).
pub fn rfc3339_ms(ms: UnixMillis) -> String {
    warden_model::runtime::rfc3339(ms.div_euclid(1000))
}
