//! boto3 against a real `warden serve`: paginators (targets here; findings,
//! run agents, exclusions, runs, templates and subscriptions once the other
//! areas are merged), waiters (botocore defines none for Inspector Classic,
//! checked), wrong credentials, and a real run with 1,000+ findings.
//!
//! The agents collect this host, which yields far fewer than 1,000 findings,
//! so after a real run completes the test inserts 1,100 more findings into
//! that completed run THROUGH THE STORE API (`FindingStore::insert_findings`
//! on the server's own database file), copies of a real finding of the run
//! with new rule ids, and then pages them with boto3's paginators.
//!
//! The script is `tests/inspector/boto3_e2e.py`; needs python3 with boto3.

mod fleet;
mod inspector;

use inspector::{Inspector, Options, Ran, text};
use serde_json::Value;
use warden_model::Severity;
use warden_store::prelude::*;
use warden_store::{FindingQuery, SqliteStore};

fn json_of(h: &Inspector, ran: &Ran) -> Value {
    if !ran.ok() {
        h.fail("boto3_e2e.py failed", ran);
    }
    serde_json::from_str(ran.stdout.trim()).unwrap_or_else(|e| h.fail(&format!("output is not JSON: {e}"), ran))
}

/// 130 targets created with boto3 and paged with its paginator at page sizes
/// 40 and 500 (the server never returns more than 100 ARNs a page); the
/// rules packages paginator; no waiters; wrong credentials refused. The
/// server's target limit is raised from Inspector's 50 to make room.
#[test]
fn boto3_paginates_targets_and_is_refused_with_wrong_credentials() {
    let h =
        Inspector::start(Options { serve_args: vec!["--limit-targets".into(), "200".into()], ..Options::default() });
    let out = json_of(&h, &h.python("boto3_e2e.py", &["targets", "130"]));
    assert_eq!(out["targets"], 130, "{out}");
    assert_eq!(out["pageSizes"], serde_json::json!([40, 40, 40, 10]), "{out}");
    assert_eq!(out["pageSizesAt500"], serde_json::json!([100, 30]), "{out}");
    assert_eq!(out["rulesPackages"], 5);
    assert_eq!(out["waiters"], serde_json::json!([]), "botocore defines no inspector waiters");

    let out = json_of(&h, &h.python("boto3_e2e.py", &["auth"]));
    assert_eq!(out["badsecret"], serde_json::json!(["InvalidSignatureException", 400]), "{out}");
    assert_eq!(out["unknown"], serde_json::json!(["UnrecognizedClientException", 400]), "{out}");
}

/// The same over HTTPS with the `--init-tls` CA as `AWS_CA_BUNDLE`.
#[test]
fn boto3_works_over_https_with_the_init_tls_ca() {
    let h = Inspector::start(Options { tls: true, ..Options::default() });
    let out = json_of(&h, &h.python("boto3_e2e.py", &["targets", "3"]));
    assert_eq!(out["targets"], 3, "{out}");
}

/// A real run by boto3 over two real agents, 1,100 findings added to it
/// through the store (see the module comment), then every paginator.
#[test]
fn boto3_paginators_over_more_than_a_thousand_findings_of_a_real_run() {
    let mut h = Inspector::start(Options::default());
    let a = h.add_agent("boto3-a", "boto3");
    let b = h.add_agent("boto3-b", "boto3");
    let assessed = json_of(&h, &h.python("boto3_e2e.py", &["assess", "boto3"]));
    let run_arn = text(&assessed, "/runArn");
    let run_id = run_arn.rsplit('/').next().unwrap().to_string();

    // Insert through the store API into the completed run (the host alone yields too few).
    let store = SqliteStore::open(&h.db()).unwrap();
    let real = store.list_findings(&FindingQuery { run_ids: vec![run_id.clone()], ..FindingQuery::default() }).unwrap();
    assert!(!real.is_empty(), "the real run reported findings");
    let severities = [Severity::High, Severity::Medium, Severity::Low, Severity::Informational];
    let added: Vec<_> = (0..1100)
        .map(|i| {
            let mut f = real[i % real.len()].finding.clone();
            f.rule_id = format!("{}-copy-{i:04}", f.rule_id);
            f.severity = severities[i % severities.len()];
            f
        })
        .collect();
    store.insert_findings(&run_id, &added, warden_server::now_ms()).unwrap();
    let expected = real.len() + added.len();

    let out = json_of(&h, &h.python("boto3_e2e.py", &["findings", &run_arn, &expected.to_string()]));
    assert_eq!(out["findings"], expected, "{out}");
    assert_eq!(out["described"], expected, "{out}");
    let sizes: Vec<u64> = out["pageSizes"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    assert_eq!(sizes.len(), expected.div_ceil(100), "pages of 100: {sizes:?}");
    assert!(out["defaultPages"].as_u64().unwrap() >= (expected / 10) as u64, "default page is 10: {out}");
    let mut agents = vec![a, b];
    agents.sort();
    assert_eq!(out["agents"], serde_json::json!(agents), "{out}");
    assert_eq!(out["runs"], serde_json::json!([run_arn]), "{out}");
    assert_eq!(out["templates"], 1, "{out}");
    let counted: u64 = out["bySeverity"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(counted as usize, expected);
}
