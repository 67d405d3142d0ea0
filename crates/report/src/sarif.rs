//! The run's findings as SARIF 2.1.0, for code-scanning dashboards.
//!
//! Why it exists: CI systems and security dashboards ingest SARIF. Each rule
//! that produced a finding becomes a `reportingDescriptor` and each finding a
//! `result`. Severities map to SARIF levels (Critical and High: `error`;
//! Medium: `warning`; Low and Informational: `note`) and to the
//! `security-severity` property that code-scanning tools rank by (Critical
//! 9.5, High 8.0, Medium 5.5, Low 2.0, Informational 0.0); the table is in
//! `docs/reports.md`. Evidence paths are locations relative to the `HOSTROOT`
//! base (the assessed root, `file:///`); the host is in each result's
//! properties and logical location. Results are streamed one at a time.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use warden_model::{Finding, Severity};

use crate::run::{HostReport, RunReport};

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

/// `security-severity` (0.0-10.0, as a string) of a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Informational => "0.0",
    }
}

/// Percent-encodes a path for a URI reference (RFC 3986 `pchar` and `/` kept).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_descriptor(f: &Finding) -> Value {
    json!({
        "id": f.rule_id,
        "shortDescription": { "text": f.title },
        "fullDescription": { "text": f.description },
        "help": { "text": f.recommendation },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "security-severity": security_severity(f.severity),
            "severity": f.severity.as_str(),
            "package": f.package,
            "tags": ["security", f.package],
        }
    })
}

fn result(host: &HostReport, f: &Finding, rule_index: usize) -> Value {
    let mut locations: Vec<Value> = f
        .evidence
        .iter()
        .filter_map(|e| {
            let path = e.path.as_ref()?;
            let mut physical = json!({ "artifactLocation": { "uri": uri_path(path), "uriBaseId": "HOSTROOT" } });
            if let Some(line) = e.line.filter(|l| *l > 0) {
                physical["region"] = json!({ "startLine": line });
                if let Some(text) = &e.text {
                    physical["region"]["snippet"] = json!({ "text": text });
                }
            }
            Some(json!({
                "physicalLocation": physical,
                "message": { "text": e.message },
                "logicalLocations": [{ "name": host.asset, "kind": "host" }],
            }))
        })
        .collect();
    if locations.is_empty() {
        locations.push(json!({ "logicalLocations": [{ "name": host.asset, "kind": "host" }] }));
    }
    let evidence: Vec<String> = f.evidence.iter().map(crate::evidence_line).collect();
    let mut properties = json!({
        "asset": host.asset,
        "severity": f.severity.as_str(),
        "numericSeverity": f.numeric_severity,
        "package": f.package,
        "evidence": evidence,
    });
    if let Some(agent) = &host.agent_id {
        properties["agentId"] = json!(agent);
    }
    if !f.attributes.is_empty() {
        properties["attributes"] = json!(f.attributes);
    }
    json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": format!("{} ({}): {}", f.title, host.asset, f.recommendation) },
        "locations": locations,
        "partialFingerprints": { "wardenFinding/v1": format!("{}|{}", f.rule_id, host.asset) },
        "properties": properties,
    })
}

/// Writes the SARIF log. Rules are collected in a first pass (there are few);
/// results are then written one by one.
pub fn write_sarif<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    // Rule id → index, in first-seen order; the descriptor comes from the first finding of the rule.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for (_, f) in report.findings() {
        if !index.contains_key(f.rule_id.as_str()) {
            index.insert(&f.rule_id, rules.len());
            rules.push(rule_descriptor(f));
        }
    }
    let run = &report.run;
    let head = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
    });
    let driver = json!({
        "name": "Warden",
        "version": run.warden_version,
        "semanticVersion": run.warden_version,
        "rules": rules,
    });
    let invocation = json!({
        "executionSuccessful": !report.partial(),
        "startTimeUtc": run.started_at,
        "endTimeUtc": run.completed_at,
    });
    let properties = json!({
        "runName": run.run_name,
        "template": run.template,
        "target": run.target,
        "rulesPackages": run.rules_packages,
        "agents": run.agents,
        "reportType": report.report_type,
        "partial": report.partial(),
    });
    // `head` is an object: write it without its closing brace, then the run.
    let head = serde_json::to_string(&head)?;
    out.write_all(&head.as_bytes()[..head.len() - 1])?;
    out.write_all(b",\"runs\":[{\"tool\":{\"driver\":")?;
    serde_json::to_writer(&mut *out, &driver)?;
    out.write_all(b"},\"automationDetails\":")?;
    serde_json::to_writer(&mut *out, &json!({ "id": format!("{}/", run.run_name) }))?;
    out.write_all(b",\"originalUriBaseIds\":{\"HOSTROOT\":{\"uri\":\"file:///\"}},\"invocations\":[")?;
    // RFC 3339 times that do not parse would make the log invalid: leave them out.
    let mut invocation = invocation;
    for key in ["startTimeUtc", "endTimeUtc"] {
        if invocation[key].as_str().and_then(crate::time::parse_rfc3339).is_none() {
            invocation.as_object_mut().map(|o| o.remove(key));
        }
    }
    serde_json::to_writer(&mut *out, &invocation)?;
    out.write_all(b"],\"properties\":")?;
    serde_json::to_writer(&mut *out, &properties)?;
    out.write_all(b",\"results\":[")?;
    for (n, (host, f)) in report.findings().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &result(host, f, index[f.rule_id.as_str()]))?;
    }
    out.write_all(b"]}]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ReportType;
    use crate::run::tests::sample;

    #[test]
    fn results_reference_their_rules() {
        let report = sample(ReportType::Finding);
        let mut buf = Vec::new();
        write_sarif(&report, &mut buf).unwrap();
        let log: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert_eq!(results[0]["level"], "error", "Critical is an error");
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "etc/ssh/sshd_config");
        assert_eq!(loc["region"]["startLine"], 33);
    }

    #[test]
    fn levels_and_uris() {
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Informational), "note");
        assert_eq!(uri_path("/etc/a b/%x#y"), "etc/a%20b/%25x%23y");
    }
}
