//! The real AWS CLI against a real `warden serve` on loopback: the Inspector
//! API mounted beside the fleet routes, keys from `warden apikey create`,
//! two real `warden agent` processes collecting this host, and only
//! `aws inspector ...` commands for the assessment itself. Wrong credentials
//! and HTTPS with the `--init-tls` CA are checked too. No assertion is about
//! time: every wait polls for an outcome.
//!
//! Needs `aws` (AWS CLI v1) on PATH (in the CI image).

mod fleet;
mod inspector;

use std::time::Duration;

use fleet::wait_for;
use inspector::{ACCOUNT, Inspector, Options, REGION, TOPIC_ARN, text};
use serde_json::{Value, json};

/// Right key: served. Wrong secret, unknown key, revoked key, no signature:
/// the CLI fails with exit code 255 and the error AWS would give.
#[test]
fn wrong_credentials_make_the_cli_fail_with_the_right_error() {
    let h = Inspector::start(Options::default());
    let listed = h.aws_ok(&["list-rules-packages"]);
    let arns = listed["rulesPackageArns"].as_array().unwrap();
    assert_eq!(arns.len(), 5, "{listed}");
    assert!(arns.iter().all(|a| a.as_str().unwrap().starts_with(&format!("arn:aws:inspector:{REGION}:"))));

    let ran = h.aws_err(Some("badsecret"), &["list-rules-packages"], "InvalidSignatureException");
    assert!(ran.stderr.contains("The request signature we calculated does not match"), "{}", ran.stderr);
    let ran = h.aws_err(Some("unknown"), &["list-rules-packages"], "UnrecognizedClientException");
    assert!(ran.stderr.contains("The security token included in the request is invalid."), "{}", ran.stderr);
    h.aws_err(None, &["list-rules-packages", "--no-sign-request"], "MissingAuthenticationTokenException");

    // A revoked key is refused from the next request on.
    let revoke = std::process::Command::new(fleet::WARDEN)
        .args(["apikey", "revoke", &h.access_key_id, "--db"])
        .arg(h.db())
        .output()
        .unwrap();
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    h.aws_err(None, &["list-rules-packages"], "UnrecognizedClientException");

    // The fleet's own routes are still there beside POST /.
    assert_eq!(h.fleet.raw("GET", "/healthz", &[], None).status, 200);
    assert_eq!(h.fleet.api("GET", "/v1/agents", None).0, 200);
}

/// `warden serve --init-tls` certificates: the CLI works over
/// `--endpoint-url https://...` with `AWS_CA_BUNDLE`, and refuses the server
/// without it (the private CA is not in the public roots).
#[test]
fn the_cli_works_over_https_with_the_init_tls_ca() {
    let mut h = Inspector::start(Options { tls: true, ..Options::default() });
    assert!(h.endpoint.starts_with("https://127.0.0.1:"), "{}", h.endpoint);
    let listed = h.aws_ok(&["list-rules-packages"]);
    assert_eq!(listed["rulesPackageArns"].as_array().unwrap().len(), 5, "{listed}");

    let bundle = h.ca_bundle.take();
    let ran = h.aws(&["list-rules-packages"]);
    assert!(!ran.ok(), "without AWS_CA_BUNDLE the private CA is not trusted: {ran:?}");
    assert!(ran.stderr.contains("SSL") || ran.stderr.contains("certificate"), "{}", ran.stderr);
    h.ca_bundle = bundle;
}

/// Wrong Inspector settings stop `warden serve` at start, naming the flag
/// or file; a good topic map is accepted (the server then listens).
#[test]
fn bad_inspector_settings_stop_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |extra: &[&str]| {
        std::process::Command::new(fleet::WARDEN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("WARDEN_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let topics = dir.path().join("topics.toml");
    std::fs::write(
        &topics,
        format!("[[topic]]\narn = \"{TOPIC_ARN}\"\nurl = \"http://127.0.0.1:9/\"\nsecret = \"0123456789abcdef\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&topics, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let topics_arg = topics.display().to_string();
    for (args, expected) in [
        (vec!["--account", "42"], "--account \"42\": an account id is exactly 12 digits"),
        (vec!["--region", "Mars"], "--region \"Mars\""),
        (vec!["--public-url", "ftp://x"], "--public-url \"ftp://x\""),
        (vec!["--inspector-topics", topics_arg.as_str()], "chmod 600"),
    ] {
        let out = serve(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // A topic map of mode 0600 (written by the harness) is accepted and the API answers.
    let h = Inspector::start(Options { webhook: true, ..Options::default() });
    assert_eq!(h.aws_ok(&["list-rules-packages"])["rulesPackageArns"].as_array().unwrap().len(), 5);
}

/// Resource groups and assessment targets end to end through the CLI on the
/// real server (the part of the API served before the other areas land).
#[test]
fn resource_groups_and_targets_through_the_cli() {
    let h = Inspector::start(Options::default());
    let group = h.aws_ok(&["create-resource-group", "--resource-group-tags", "key=inspector,value=e2e"]);
    let group_arn = text(&group, "/resourceGroupArn");
    assert!(group_arn.starts_with(&format!("arn:aws:inspector:{REGION}:{ACCOUNT}:resourcegroup/0-")), "{group_arn}");
    let described = h.aws_ok(&["describe-resource-groups", "--resource-group-arns", &group_arn]);
    assert_eq!(described["resourceGroups"][0]["tags"], json!([{"key": "inspector", "value": "e2e"}]));

    let target = h.aws_ok(&[
        "create-assessment-target",
        "--assessment-target-name",
        "e2e-target",
        "--resource-group-arn",
        &group_arn,
    ]);
    let target_arn = text(&target, "/assessmentTargetArn");
    let taken = h.aws_err(
        None,
        &["create-assessment-target", "--assessment-target-name", "e2e-target"],
        "InvalidInputException",
    );
    assert!(taken.stderr.contains("e2e-target"), "{}", taken.stderr);

    let missing_group = format!("arn:aws:inspector:{REGION}:{ACCOUNT}:resourcegroup/0-zzzzzzzz");
    h.aws_err(
        None,
        &["create-assessment-target", "--assessment-target-name", "other", "--resource-group-arn", &missing_group],
        "NoSuchEntityException",
    );

    // 24 more targets: the CLI follows nextToken (the server's default page is 10) and lists all 25.
    for i in 0..24 {
        h.aws_ok(&["create-assessment-target", "--assessment-target-name", &format!("bulk-{i:03}")]);
    }
    let listed = h.aws_ok(&["list-assessment-targets"]);
    assert_eq!(listed["assessmentTargetArns"].as_array().unwrap().len(), 25, "{listed}");
    let filtered = h.aws_ok(&["list-assessment-targets", "--filter", r#"{"assessmentTargetNamePattern": "e2e*"}"#]);
    assert_eq!(filtered["assessmentTargetArns"], json!([target_arn]));
    let page = h.aws_ok(&["list-assessment-targets", "--max-items", "7"]);
    assert_eq!(page["assessmentTargetArns"].as_array().unwrap().len(), 7);
    assert!(page["NextToken"].is_string(), "the CLI offers a token to go on: {page}");

    h.aws_ok(&[
        "update-assessment-target",
        "--assessment-target-arn",
        &target_arn,
        "--assessment-target-name",
        "e2e-renamed",
        "--resource-group-arn",
        &group_arn,
    ]);
    let foreign = target_arn.replace(ACCOUNT, "210987654321");
    let d = h.aws_ok(&["describe-assessment-targets", "--assessment-target-arns", &target_arn, &foreign]);
    assert_eq!(text(&d, "/assessmentTargets/0/name"), "e2e-renamed");
    assert_eq!(text(&d, "/assessmentTargets/0/resourceGroupArn"), group_arn);
    assert!(d["assessmentTargets"][0]["createdAt"].is_number(), "epoch seconds: {d}");
    assert_eq!(d["failedItems"][&foreign]["failureCode"], "ITEM_DOES_NOT_EXIST", "{d}");

    h.aws_ok(&["delete-assessment-target", "--assessment-target-arn", &target_arn]);
    let d = h.aws_ok(&["describe-assessment-targets", "--assessment-target-arns", &target_arn]);
    assert_eq!(d["failedItems"][&target_arn]["failureCode"], "ITEM_DOES_NOT_EXIST", "{d}");
    h.aws_err(None, &["delete-assessment-target", "--assessment-target-arn", &target_arn], "NoSuchEntityException");
}

/// The rules package ARNs of the server's region by package name.
fn package_arn(h: &Inspector, name_part: &str) -> String {
    let listed = h.aws_ok(&["list-rules-packages"]);
    let arns: Vec<&str> = listed["rulesPackageArns"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let mut args = vec!["describe-rules-packages", "--rules-package-arns"];
    args.extend(arns);
    let described = h.aws_ok(&args);
    described["rulesPackages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str().unwrap_or("").contains(name_part))
        .map(|p| p["arn"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no rules package named *{name_part}* in {described:#}"))
}

fn arns(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v:#}"))
        .iter()
        .map(|a| a.as_str().unwrap().into())
        .collect()
}

/// A whole assessment with only `aws inspector` commands: group, target,
/// template, event subscription (webhook on loopback), run to COMPLETED,
/// findings with filters, attributes, reports in both formats and types,
/// run agents, exclusions, then deletes.
#[test]
fn a_whole_assessment_through_the_aws_cli() {
    let mut h = Inspector::start(Options { webhook: true, ..Options::default() });
    let agent_a = h.add_agent("host-a", "e2e");
    let agent_b = h.add_agent("host-b", "e2e");
    let _other = h.add_agent("host-other", "elsewhere");
    let best = package_arn(&h, "Best Practices");
    let runtime = package_arn(&h, "Runtime");
    let cve = package_arn(&h, "Vulnerabilities");

    let group = h.aws_ok(&["create-resource-group", "--resource-group-tags", "key=inspector,value=e2e"]);
    let target = h.aws_ok(&[
        "create-assessment-target",
        "--assessment-target-name",
        "e2e",
        "--resource-group-arn",
        &text(&group, "/resourceGroupArn"),
    ]);
    let target_arn = text(&target, "/assessmentTargetArn");
    let template = h.aws_ok(&[
        "create-assessment-template",
        "--assessment-target-arn",
        &target_arn,
        "--assessment-template-name",
        "e2e-template",
        "--duration-in-seconds",
        "180",
        "--rules-package-arns",
        &best,
        &runtime,
        &cve,
        "--user-attributes-for-findings",
        "key=team,value=ops",
    ]);
    let template_arn = text(&template, "/assessmentTemplateArn");
    assert!(template_arn.starts_with(&format!("{target_arn}/template/0-")), "{template_arn}");
    let d = h.aws_ok(&["describe-assessment-templates", "--assessment-template-arns", &template_arn]);
    assert_eq!(d["assessmentTemplates"][0]["durationInSeconds"], 180, "{d}");
    assert_eq!(d["assessmentTemplates"][0]["rulesPackageArns"].as_array().unwrap().len(), 3, "{d}");

    for event in ["ASSESSMENT_RUN_COMPLETED", "ASSESSMENT_RUN_STATE_CHANGED"] {
        h.aws_ok(&["subscribe-to-event", "--resource-arn", &template_arn, "--event", event, "--topic-arn", TOPIC_ARN]);
    }
    let subs = h.aws_ok(&["list-event-subscriptions", "--resource-arn", &template_arn]);
    assert_eq!(subs["subscriptions"][0]["topicArn"], TOPIC_ARN, "{subs}");
    assert_eq!(subs["subscriptions"][0]["eventSubscriptions"].as_array().unwrap().len(), 2, "{subs}");

    let preview = h.aws_ok(&["preview-agents", "--preview-agents-arn", &target_arn]);
    let mut previewed: Vec<String> =
        preview["agentPreviews"].as_array().unwrap().iter().map(|p| text(p, "/agentId")).collect();
    previewed.sort();
    let mut expected = vec![agent_a.clone(), agent_b.clone()];
    expected.sort();
    assert_eq!(previewed, expected, "the group selects the two e2e agents: {preview:#}");

    let started = h.aws_ok(&[
        "start-assessment-run",
        "--assessment-template-arn",
        &template_arn,
        "--assessment-run-name",
        "e2e-run",
    ]);
    let run_arn = text(&started, "/assessmentRunArn");
    assert!(run_arn.starts_with(&format!("{template_arn}/run/0-")), "{run_arn}");
    h.aws_err(
        None,
        &["delete-assessment-template", "--assessment-template-arn", &template_arn],
        "AssessmentRunInProgressException",
    );

    let run = h.wait_run_final(&run_arn, Duration::from_secs(600));
    assert_eq!(run["state"], "COMPLETED", "{run:#}\n{}", h.server_log());
    assert_eq!(run["dataCollected"], true, "{run:#}");
    assert!(run["completedAt"].as_f64().unwrap() >= run["startedAt"].as_f64().unwrap(), "{run:#}");
    let states: Vec<&str> =
        run["stateChanges"].as_array().unwrap().iter().map(|c| c["state"].as_str().unwrap()).collect();
    assert_eq!(states.first(), Some(&"CREATED"), "{states:?}");
    assert_eq!(states.last(), Some(&"COMPLETED"), "{states:?}");
    assert_eq!(run["userAttributesForFindings"], json!([{"key": "team", "value": "ops"}]));
    // The publisher records the completion after the run has ended (Inspector's
    // SNS publication is asynchronous too), so poll for it.
    let completed = wait_for(Duration::from_secs(120), || {
        let described = h.aws_ok(&["describe-assessment-runs", "--assessment-run-arns", &run_arn]);
        described["assessmentRuns"][0]["notifications"]
            .as_array()?
            .iter()
            .find(|n| n["event"] == "ASSESSMENT_RUN_COMPLETED")
            .cloned()
    });
    assert_eq!(completed["snsTopicArn"], TOPIC_ARN);
    assert_eq!(completed["error"], false);
    let counts = &run["findingCounts"];
    let total: u64 =
        ["High", "Medium", "Low", "Informational", "Undefined"].iter().map(|s| counts[s].as_u64().unwrap_or(0)).sum();
    assert!(total > 0, "findings were reported: {run:#}");

    // The webhook got the completion, signed with the topic's secret.
    let hooks = h.hooks.as_ref().unwrap();
    let delivery = wait_for(Duration::from_secs(120), || {
        hooks
            .deliveries()
            .into_iter()
            .find(|d| d.body.contains(&run_arn) && d.body.contains("ASSESSMENT_RUN_COMPLETED"))
    });
    assert_eq!(delivery.header("x-warden-topic-arn"), Some(TOPIC_ARN));
    let signature = delivery.header("x-warden-signature").unwrap();
    let t: i64 = signature.strip_prefix("t=").and_then(|r| r.split(',').next()).unwrap().parse().unwrap();
    assert_eq!(
        signature,
        warden_inspector::events::signature_header("warden-e2e-webhook-secret", t, &delivery.body),
        "the receiver can verify the delivery"
    );
    let sns: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(sns["TopicArn"], TOPIC_ARN);

    // Run agents.
    let agents = h.aws_ok(&["list-assessment-run-agents", "--assessment-run-arn", &run_arn]);
    let mut ids: Vec<String> =
        agents["assessmentRunAgents"].as_array().unwrap().iter().map(|a| text(a, "/agentId")).collect();
    ids.sort();
    assert_eq!(ids, expected, "{agents:#}");
    for a in agents["assessmentRunAgents"].as_array().unwrap() {
        assert_eq!(a["assessmentRunArn"], run_arn.as_str());
        assert!(a["agentHealth"].is_string() && a["telemetryMetadata"].is_array(), "{a}");
    }

    // Findings: all, then by severity, rules package and agent.
    let all = arns(&h.aws_ok(&["list-findings", "--assessment-run-arns", &run_arn]), "findingArns");
    assert_eq!(all.len() as u64, total, "every finding is listed (the CLI follows nextToken)");
    assert!(all.iter().all(|f| f.starts_with(&format!("{run_arn}/finding/0-"))), "{all:?}");
    for severity in ["High", "Medium", "Low", "Informational", "Undefined"] {
        let filter = json!({"severities": [severity]}).to_string();
        let listed =
            arns(&h.aws_ok(&["list-findings", "--assessment-run-arns", &run_arn, "--filter", &filter]), "findingArns");
        assert_eq!(listed.len() as u64, counts[severity].as_u64().unwrap_or(0), "{severity}");
    }
    let filter = json!({"rulesPackageArns": [best]}).to_string();
    let best_findings =
        arns(&h.aws_ok(&["list-findings", "--assessment-run-arns", &run_arn, "--filter", &filter]), "findingArns");
    assert!(!best_findings.is_empty(), "this host has best-practices findings");
    let mut per_agent = 0;
    for agent in [&agent_a, &agent_b] {
        let filter = json!({"agentIds": [agent]}).to_string();
        let mine =
            arns(&h.aws_ok(&["list-findings", "--assessment-run-arns", &run_arn, "--filter", &filter]), "findingArns");
        assert!(!mine.is_empty(), "{agent} has findings");
        let mut args = vec!["describe-findings", "--finding-arns"];
        args.extend(mine.iter().take(10).map(String::as_str));
        let described = h.aws_ok(&args);
        for f in described["findings"].as_array().unwrap() {
            assert_eq!(f["assetAttributes"]["agentId"], agent.as_str(), "{f:#}");
        }
        per_agent += mine.len();
    }
    assert_eq!(per_agent, all.len(), "each finding belongs to one of the two agents");

    // Describe ten best-practices findings and one that does not exist.
    let mut args = vec!["describe-findings", "--finding-arns"];
    args.extend(best_findings.iter().take(10).map(String::as_str));
    let unknown = format!("{run_arn}/finding/0-zzzzzzzz");
    args.push(&unknown);
    let described = h.aws_ok(&args);
    let findings = described["findings"].as_array().unwrap();
    assert_eq!(findings.len(), best_findings.len().min(10));
    for f in findings {
        assert_eq!(f["serviceAttributes"]["rulesPackageArn"], best.as_str(), "{f:#}");
        assert_eq!(f["assetType"], "ec2-instance");
        assert!(f["createdAt"].is_number() && f["title"].is_string() && f["severity"].is_string(), "{f:#}");
        assert!(f["userAttributes"].as_array().unwrap().contains(&json!({"key": "team", "value": "ops"})), "{f:#}");
    }
    assert_eq!(described["failedItems"][&unknown]["failureCode"], "ITEM_DOES_NOT_EXIST", "{described:#}");

    // User attributes on two findings.
    let two: Vec<&str> = best_findings.iter().take(2).map(String::as_str).collect();
    let mut args = vec!["add-attributes-to-findings", "--attributes", "key=triage,value=accepted", "--finding-arns"];
    args.extend(&two);
    let added = h.aws_ok(&args);
    assert_eq!(added["failedItems"], json!({}), "{added}");
    let mut args = vec!["describe-findings", "--finding-arns"];
    args.extend(&two);
    for f in h.aws_ok(&args)["findings"].as_array().unwrap() {
        assert!(
            f["userAttributes"].as_array().unwrap().contains(&json!({"key": "triage", "value": "accepted"})),
            "{f:#}"
        );
    }

    // Reports: HTML and PDF, FINDING and FULL; poll until COMPLETED, download, check.
    let http = warden_agent::http::client(None, Duration::from_secs(60)).unwrap();
    for format in ["HTML", "PDF"] {
        for kind in ["FINDING", "FULL"] {
            let report = wait_for(Duration::from_secs(300), || {
                let r = h.aws_ok(&[
                    "get-assessment-report",
                    "--assessment-run-arn",
                    &run_arn,
                    "--report-file-format",
                    format,
                    "--report-type",
                    kind,
                ]);
                assert_ne!(r["status"], "FAILED", "{format} {kind}: {r}");
                (r["status"] == "COMPLETED").then_some(r)
            });
            let url = text(&report, "/url");
            assert!(url.starts_with(&h.endpoint), "links use the listening address: {url}");
            let got = warden_agent::http::send(&http, "GET", &url, &[], None).unwrap();
            assert_eq!(got.status, 200, "{format} {kind}: {url}");
            match format {
                "HTML" => {
                    let page = String::from_utf8_lossy(&got.body);
                    assert!(page.contains("<html") || page.contains("<!DOCTYPE html"), "{format} {kind}");
                    assert!(page.contains("e2e-run") || page.contains(&agent_a), "names the run or its hosts");
                }
                _ => assert!(got.body.starts_with(b"%PDF-"), "{format} {kind}: not a PDF"),
            }
        }
    }

    // Exclusions: the CVE package without a vulnerability database, on both agents.
    let exclusions = arns(&h.aws_ok(&["list-exclusions", "--assessment-run-arn", &run_arn]), "exclusionArns");
    assert!(!exclusions.is_empty(), "cve is excluded (no --vulndb)");
    let mut args = vec!["describe-exclusions", "--exclusion-arns"];
    args.extend(exclusions.iter().map(String::as_str));
    let described = h.aws_ok(&args);
    let mut scoped: Vec<String> = Vec::new();
    for e in described["exclusions"].as_object().unwrap().values() {
        assert!(e["title"].is_string() && e["recommendation"].is_string(), "{e:#}");
        scoped.extend(e["scopes"].as_array().unwrap().iter().filter_map(|s| s["value"].as_str().map(String::from)));
    }
    assert!(expected.iter().all(|a| scoped.contains(a)), "both agents are in the exclusions' scopes: {described:#}");

    // Deletes: run, template, target; the run is gone after.
    h.aws_ok(&["delete-assessment-run", "--assessment-run-arn", &run_arn]);
    let gone = h.aws_ok(&["describe-assessment-runs", "--assessment-run-arns", &run_arn]);
    assert_eq!(gone["failedItems"][&run_arn]["failureCode"], "ITEM_DOES_NOT_EXIST", "{gone:#}");
    h.aws_ok(&["delete-assessment-template", "--assessment-template-arn", &template_arn]);
    h.aws_ok(&["delete-assessment-target", "--assessment-target-arn", &target_arn]);
    let gone = h.aws_ok(&["describe-assessment-targets", "--assessment-target-arns", &target_arn]);
    assert_eq!(gone["failedItems"][&target_arn]["failureCode"], "ITEM_DOES_NOT_EXIST", "{gone:#}");
}

/// `warden serve --limit-targets 1`: the second target is refused with
/// LimitExceededException by the AWS CLI and with 409 `limit_exceeded` by
/// the admin API (both count the same targets), naming the limit and flag.
#[test]
fn limit_exceeded_through_the_cli_and_the_admin_api() {
    let h = Inspector::start(Options { serve_args: vec!["--limit-targets".into(), "1".into()], ..Options::default() });
    h.aws_ok(&["create-assessment-target", "--assessment-target-name", "first"]);
    let refused =
        h.aws_err(None, &["create-assessment-target", "--assessment-target-name", "second"], "LimitExceededException");
    assert!(
        refused.stderr.contains("the limit of 1 assessment targets is reached (warden serve --limit-targets sets it)"),
        "{}",
        refused.stderr
    );
    let (status, body) = h.fleet.api("POST", "/v1/targets", Some(json!({"name": "third"})));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "limit_exceeded", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("--limit-targets"), "{body}");
    let listed = h.aws_ok(&["list-assessment-targets"]);
    assert_eq!(listed["assessmentTargetArns"].as_array().unwrap().len(), 1, "{listed}");

    // A limit of 0 would forbid everything: refused at start, naming the flag.
    let out = std::process::Command::new(fleet::WARDEN)
        .args(["serve", "--listen", "127.0.0.1:0", "--limit-runs", "0"])
        .env("WARDEN_DATA_DIR", h.fleet.dir.path().join("unused"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("--limit-runs") && stderr.contains("at least 1"), "{stderr}");
}
