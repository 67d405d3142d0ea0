//! `warden report RUN` against a real `warden serve` on loopback: a real
//! agent collects this host, the run is evaluated by the server, and the CLI
//! fetches its report by run id and by run ARN. No mocks; every wait polls
//! for an outcome.

mod fleet;

use std::process::Command;

use fleet::{Fleet, WARDEN};
use serde_json::json;
use warden_report::RunReport;

fn report(f: &Fleet, args: &[&str]) -> std::process::Output {
    Command::new(WARDEN)
        .arg("report")
        .args(args)
        .args(["--server", &f.url, "--token", &f.token])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

#[test]
fn report_of_a_stored_run_by_id_and_by_arn() {
    let mut f = Fleet::start();
    let agent = f.add_agent("web", "role=web");
    let run = f.start_run("web", json!([{"key": "role", "value": "web"}]), 3600, &["best-practices", "cve"]);
    f.wait_collecting(&run);

    // Not finished yet: refused, with the state named.
    let early = report(&f, &[&run, "--format", "html"]);
    assert_eq!(early.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert!(stderr.contains("409") && stderr.contains("once it has finished"), "{stderr}");

    f.ok("POST", &format!("/v1/runs/{run}/stop"), Some(json!({"action": "START_EVALUATION"})));
    let r = f.wait_run(&run);
    assert_eq!(r["state"], "COMPLETED", "{r:#}");
    let findings = f.findings(&run);
    assert!(!findings.is_empty());

    // JSON, FULL: the run report the server built, every finding and passed rules.
    let out_dir = tempfile::tempdir().unwrap();
    let json_path = out_dir.path().join("run.json");
    let out = report(&f, &[&run, "--type", "full", "--format", "json", "-o", json_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parsed: RunReport = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(parsed.run.template, "web");
    assert_eq!(parsed.run.agents, vec![agent]);
    assert_eq!(parsed.run.state.as_deref(), Some("COMPLETED"));
    assert_eq!(parsed.finding_count(), findings.len());
    let mut titles: Vec<&str> = parsed.findings().map(|(_, f)| f.title.as_str()).collect();
    let mut api_titles: Vec<&str> = findings.iter().map(|x| x["title"].as_str().unwrap()).collect();
    titles.sort();
    api_titles.sort();
    assert_eq!(titles, api_titles);
    let host = &parsed.hosts[0];
    assert!(host.rules.iter().any(|r| r.outcome == warden_model::Outcome::Pass), "FULL lists passed rules");
    assert!(host.rules.iter().any(|r| r.rule_id == "package:cve"), "cve was not evaluated (no --vulndb): listed");

    // HTML by ARN, to standard output.
    let arn = format!(
        "arn:aws:inspector:us-west-2:123456789012:target/{}/template/{}/run/{run}",
        r["target_id"].as_str().unwrap(),
        r["template_id"].as_str().unwrap()
    );
    let out = report(&f, &[&arn, "--format", "html"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40.min(html.len())]);
    assert!(html.contains(r["name"].as_str().unwrap()));

    // CSV, FINDING: one row per finding after the header.
    let out = report(&f, &[&run, "--format", "csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("Severity,Date,Finding,"));
    assert!(csv.lines().count() > findings.len(), "a row per finding (rows may span lines)");

    // Bad RUN values and unknown runs are named.
    let out = report(&f, &["../../etc", "--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUN: \"../../etc\""));
    let out = report(&f, &["0-ZZZZZZZZ", "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(WARDEN).args(["report", &run, "--format", "html", "--input", "x.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "RUN and --input exclude each other");
    let wrong = Command::new(WARDEN)
        .args(["report", &run, "--format", "html", "--server", &f.url, "--token", "wdn_adm_wrong"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"));
}
