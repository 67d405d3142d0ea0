//! The real AWS CLI and boto3 against the router on loopback: right
//! credentials succeed (paging included), and a wrong secret, an unknown or
//! revoked key, a missing or expired session token and a skewed clock fail
//! with the error the CLI prints. Keys come from the real SQLite credential
//! store; the backend is the TEST DOUBLE of `common` (rules packages and a
//! list of template ARNs; the store-backed backend comes with the fleet
//! store). Every request the CLI sent is re-verified by the independent
//! Python verifier `fixtures/verify_sigv4.py`.
//!
//! Needs `aws` (AWS CLI v1) and `python3` with boto3 on PATH (both in the CI image).

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use warden_inspector::credentials::{MasterKey, NewApiKey, SqliteCredentialStore};
use warden_inspector::timestamp::unix_now;

struct Harness {
    endpoint: String,
    store: Arc<SqliteCredentialStore>,
    backend: Arc<common::DoubleBackend>,
    capture: common::Capture,
    dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warden.db");
    let store = Arc::new(SqliteCredentialStore::open(&db, &MasterKey::default_path(&db)).unwrap());
    let backend = Arc::new(common::DoubleBackend::new(25));
    let capture: common::Capture = Arc::new(Mutex::new(Vec::new()));
    let addr = common::serve(backend.clone(), store.clone(), capture.clone());
    Harness { endpoint: format!("http://{addr}"), store, backend, capture, dir }
}

/// Runs `aws inspector ARGS...`: (success, stdout, stderr).
fn cli(h: &Harness, key: (&str, &str, Option<&str>), args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("aws");
    common::aws_cli_env(&mut cmd, h.dir.path(), key.0, key.1, key.2);
    cmd.args(["inspector"]).args(args).args([
        "--endpoint-url",
        &h.endpoint,
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]);
    let out = cmd.output().expect("the AWS CLI (`aws`) must be installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn boto3(h: &Harness, key: &NewApiKey, op: &str, params: &str, extra: &[&str]) -> Value {
    let mut cmd = Command::new("python3");
    common::aws_cli_env(
        &mut cmd,
        h.dir.path(),
        &key.access_key_id,
        &key.secret_access_key,
        key.session_token.as_deref(),
    );
    cmd.arg(common::fixture("boto3_client.py")).args([&h.endpoint, op, params]).args(extra);
    let out = cmd.output().expect("python3 with boto3 must be installed");
    assert!(out.status.success(), "boto3_client.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn long_term(key: &NewApiKey) -> (&str, &str, Option<&str>) {
    (&key.access_key_id, &key.secret_access_key, key.session_token.as_deref())
}

#[test]
fn the_aws_cli_and_boto3_work_with_the_right_credentials_and_fail_clearly_otherwise() {
    let h = harness();
    let now = unix_now();
    let key = h.store.create(None, "cli test", now).unwrap();

    // Right credentials: the static catalogue, with us-east-1's real ARNs.
    let (ok, out, err) = cli(&h, long_term(&key), &["list-rules-packages"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let arns = listed["rulesPackageArns"].as_array().unwrap();
    assert_eq!(arns.len(), 5);
    assert!(arns.contains(&Value::from("arn:aws:inspector:us-east-1:316112463485:rulespackage/0-gEjTy7T7")));

    // A script with us-west-2's hard-coded CIS ARN still gets the CIS package.
    let west_cis = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-H5hpSawc";
    let (ok, out, err) = cli(
        &h,
        long_term(&key),
        &[
            "describe-rules-packages",
            "--rules-package-arns",
            west_cis,
            "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-zzzzzzzz",
        ],
    );
    assert!(ok, "{err}");
    let described: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(described["rulesPackages"][0]["name"], "CIS Operating System Security Configuration Benchmarks");
    assert_eq!(
        described["failedItems"]["arn:aws:inspector:us-west-2:758058086616:rulespackage/0-zzzzzzzz"]["failureCode"],
        "ITEM_DOES_NOT_EXIST"
    );

    // The CLI follows nextToken by itself: 25 templates in pages of 7.
    let before = h.backend.calls().len();
    let (ok, out, err) = cli(&h, long_term(&key), &["list-assessment-templates", "--page-size", "7"]);
    assert!(ok, "{err}");
    let templates: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(templates["assessmentTemplateArns"].as_array().unwrap().len(), 25);
    let pages: Vec<Value> = h.backend.calls()[before..].iter().map(|(_, req)| req["maxResults"].clone()).collect();
    assert_eq!(pages, vec![Value::from(7); 4]);

    // A validation error reaches the CLI user with its code.
    let (ok, _, err) =
        cli(&h, long_term(&key), &["list-assessment-templates", "--max-results", "501", "--no-paginate"]);
    assert!(!ok);
    assert!(err.contains("(InvalidInputException)") && err.contains("maxResults"), "{err}");

    // Wrong secret.
    let (ok, _, err) = cli(&h, (&key.access_key_id, "not-the-secret", None), &["list-rules-packages"]);
    assert!(!ok);
    assert!(err.contains("An error occurred (InvalidSignatureException) when calling the ListRulesPackages operation: The request signature we calculated does not match"), "{err}");

    // Unknown key.
    let (ok, _, err) = cli(&h, ("AKIANOSUCHKEY0000000", "x", None), &["list-rules-packages"]);
    assert!(!ok);
    assert!(err.contains("(UnrecognizedClientException) when calling the ListRulesPackages operation: The security token included in the request is invalid."), "{err}");

    // Revoked key.
    let revoked = h.store.create(None, "", now).unwrap();
    assert!(h.store.revoke(&revoked.access_key_id, now).unwrap());
    let (ok, _, err) = cli(&h, long_term(&revoked), &["list-rules-packages"]);
    assert!(!ok && err.contains("UnrecognizedClientException"), "{err}");

    // Session credentials: with the token they work, without it they do not.
    let session = h.store.create(Some(3600), "", now).unwrap();
    let (ok, _, err) = cli(&h, long_term(&session), &["list-rules-packages"]);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&h, (&session.access_key_id, &session.secret_access_key, None), &["list-rules-packages"]);
    assert!(!ok && err.contains("(UnrecognizedClientException)"), "{err}");
    let (ok, _, err) =
        cli(&h, (&session.access_key_id, &session.secret_access_key, Some("forged")), &["list-rules-packages"]);
    assert!(!ok && err.contains("(UnrecognizedClientException)"), "{err}");
    let expired = h.store.create(Some(60), "", now - 3600).unwrap();
    let (ok, _, err) = cli(&h, long_term(&expired), &["list-rules-packages"]);
    assert!(!ok);
    assert!(err.contains("(ExpiredTokenException) when calling the ListRulesPackages operation: The security token included in the request is expired"), "{err}");

    // boto3: a call, a paginator, and a client clock 20 minutes off either way.
    let r = boto3(&h, &key, "list_rules_packages", "{}", &[]);
    assert_eq!(r["ok"]["rulesPackageArns"].as_array().map(Vec::len), Some(5), "{r}");
    let r =
        boto3(&h, &key, "list_assessment_templates", r#"{"PaginationConfig": {"PageSize": 10}}"#, &["0", "--paginate"]);
    assert_eq!((r["ok"]["pages"].as_u64(), r["ok"]["items"].as_array().map(Vec::len)), (Some(3), Some(25)), "{r}");
    let r = boto3(&h, &session, "list_rules_packages", "{}", &["-1200"]);
    assert_eq!(r["error"], "InvalidSignatureException", "{r}");
    assert!(r["message"].as_str().unwrap().starts_with("Signature expired: "), "{r}");
    let r = boto3(&h, &key, "list_rules_packages", "{}", &["1200"]);
    assert_eq!(r["error"], "InvalidSignatureException", "{r}");
    assert!(r["message"].as_str().unwrap().starts_with("Signature not yet current: "), "{r}");
    let r = boto3(&h, &key, "list_rules_packages", "{}", &["600"]);
    assert!(r.get("ok").is_some(), "10 minutes of skew is within AWS's 15: {r}");

    // Cross-check: the independent verifier agrees with ours on what the CLI sent.
    let log = h.dir.path().join("requests.jsonl");
    let captured = h.capture.lock().unwrap().clone();
    let lines: Vec<String> = captured.iter().map(Value::to_string).collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let out = Command::new("python3")
        .arg(common::fixture("verify_sigv4.py"))
        .arg(&key.secret_access_key)
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdicts = String::from_utf8_lossy(&out.stdout);
    let from_key = |r: &Value| {
        r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "authorization" && h[1].as_str().unwrap().contains(&key.access_key_id))
    };
    let with_right_secret: Vec<&Value> = captured.iter().filter(|r| from_key(r)).collect();
    // Requests signed with `key`: the CLI's good calls MATCH, the wrong-secret call MISMATCHes.
    let matches = verdicts.lines().filter(|l| l.ends_with("signature MATCH")).count();
    let mismatches = verdicts.lines().filter(|l| l.ends_with("signature MISMATCH")).count();
    assert_eq!(matches + mismatches, captured.len(), "{verdicts}");
    assert!(with_right_secret.len() >= 10);
    // Exactly the requests signed by `key` with its secret (all but the
    // wrong-secret call and the skewed ones, whose signatures are still right)
    // match; everything signed with another secret or key does not.
    let wrong_secret_calls = 1;
    assert_eq!(matches, with_right_secret.len() - wrong_secret_calls, "{verdicts}");
}
