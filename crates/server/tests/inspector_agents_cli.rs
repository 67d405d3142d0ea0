//! The real AWS CLI against the store-backed Inspector API on loopback, for
//! the agents, exclusions, event subscription and cross-account role
//! operations: a real SQLite fleet store and credential store in one
//! database file, SigV4 keys from `SqliteCredentialStore`, the real router.
//! The CLI follows `nextToken` itself where botocore has a paginator
//! (`list-exclusions`), so paging is checked as a client sees it.
//!
//! Needs `aws` (AWS CLI) on PATH (in the CI image). Nothing leaves loopback;
//! the CLI runs with `AWS_EC2_METADATA_DISABLED=true` and an empty config.

mod common;

use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use warden_inspector::arn::ArnContext;
use warden_inspector::credentials::{CredentialStore, MasterKey, NewApiKey, SqliteCredentialStore};
use warden_inspector::events::{Events, TopicMap};
use warden_inspector::router::{DEFAULT_BODY_LIMIT, InspectorService, router};
use warden_inspector::sigv4::SigV4Config;
use warden_inspector::timestamp::unix_now;
use warden_server::inspector_backend::StoreBackend;
use warden_store::prelude::*;
use warden_store::{Agent, AgentHostInfo, Exclusion, SqliteStore};

const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:inspector-events";

struct Harness {
    endpoint: String,
    key: NewApiKey,
    dir: tempfile::TempDir,
}

fn serve(backend: StoreBackend, credentials: Arc<dyn CredentialStore>) -> String {
    let service = Arc::new(InspectorService {
        backend,
        credentials,
        sigv4: SigV4Config { region: Some("us-west-2".into()) },
        body_limit: DEFAULT_BODY_LIMIT,
    });
    format!("http://{}", common::serve_on_loopback(router(service)))
}

/// Runs `aws inspector ARGS...` with only the test's credentials: (success, stdout, stderr).
fn cli(h: &Harness, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("aws");
    common::aws_cli_env(&mut cmd, h.dir.path(), &h.key.access_key_id, &h.key.secret_access_key, None);
    cmd.arg("inspector").args(args).args(["--endpoint-url", &h.endpoint, "--region", "us-west-2", "--output", "json"]);
    let out = cmd.output().expect("the AWS CLI (`aws`) must be installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(h: &Harness, args: &[&str]) -> Value {
    let (success, out, err) = cli(h, args);
    assert!(success, "aws inspector {args:?}: {err}");
    if out.trim().is_empty() { Value::Null } else { serde_json::from_str(&out).unwrap() }
}

fn agent(id: &str, now_ms: i64) -> Agent {
    Agent {
        id: id.into(),
        public_key: vec![7; 32],
        tags: Default::default(),
        host: AgentHostInfo {
            hostname: Some(format!("host-{id}")),
            operating_system: Some("Debian GNU/Linux 12 (bookworm)".into()),
            kernel_version: Some("6.1.0-18-amd64".into()),
            agent_version: Some("0.9.0".into()),
            ipv4_addresses: vec!["10.0.0.7".into()],
        },
        enrolled_at: 1,
        last_heartbeat_at: Some(now_ms),
        activity: Some("idle".into()),
        activity_details: None,
        retired_at: None,
    }
}

#[test]
fn the_aws_cli_drives_agents_exclusions_subscriptions_and_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warden.db");
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let credentials = Arc::new(SqliteCredentialStore::open(&db, &MasterKey::default_path(&db)).unwrap());
    let key = credentials.create(None, "cli test", unix_now()).unwrap();
    let events = Arc::new(
        Events::open(
            &db,
            TopicMap::load(&common::write_topic_map(dir.path(), TOPIC, "http://127.0.0.1:9/hook", "0123456789abcdef"))
                .unwrap(),
        )
        .unwrap(),
    );
    let arns = ArnContext::new("us-west-2", "123456789012");

    let now_ms = unix_now() as i64 * 1000;
    for id in ["i-0000000000000000a", "i-0000000000000000b"] {
        store.insert_agent(&agent(id, now_ms)).unwrap();
    }
    let target = store.create_target("all", None, &[], 1).unwrap();
    let template = common::nightly_template(store.as_ref(), &target.id, &["best-practices", "cve"]);
    let run = store.create_run(&template.id, None, 2).unwrap();
    store.assign_run_agents(&run.id, &["i-0000000000000000a".into(), "i-0000000000000000b".into()], 2).unwrap();
    store.put_telemetry(&run.id, "i-0000000000000000a", 1, "snapshot", "{\"x\":1}", 3).unwrap();
    for i in 0..120 {
        store
            .add_exclusion(&Exclusion {
                run_id: run.id.clone(),
                agent_id: format!("i-{i:017}"),
                package: "cve".into(),
                reason: "no vulnerability database is configured (warden serve --vulndb PATH)".into(),
                created_at: 5,
                kind: "no-vulnerability-database".into(),
            })
            .unwrap();
    }
    let target_arn = format!("arn:aws:inspector:us-west-2:123456789012:target/{}", target.id);
    let template_arn = format!("{target_arn}/template/{}", template.id);
    let run_arn = format!("{template_arn}/run/{}", run.id);

    let backend =
        StoreBackend::new(store.clone() as Arc<dyn FleetStore>, arns, b"cli paging secret").with_events(events);
    let endpoint = serve(backend, credentials);
    let h = Harness { endpoint, key, dir };

    let previews = ok(&h, &["preview-agents", "--preview-agents-arn", &target_arn]);
    let previews = previews["agentPreviews"].as_array().unwrap();
    assert_eq!(previews.len(), 2);
    assert_eq!(previews[0]["agentId"], "i-0000000000000000a");
    assert_eq!(previews[0]["hostname"], "host-i-0000000000000000a");
    assert_eq!(previews[0]["agentHealth"], "HEALTHY");
    assert_eq!(previews[0]["ipv4Address"], "10.0.0.7");

    let agents = ok(
        &h,
        &[
            "list-assessment-run-agents",
            "--assessment-run-arn",
            &run_arn,
            "--filter",
            r#"{"agentHealths":["HEALTHY"],"agentHealthCodes":["IDLE"]}"#,
        ],
    );
    let agents = agents["assessmentRunAgents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    assert_eq!(
        agents[0]["telemetryMetadata"][0],
        serde_json::json!({"messageType": "snapshot", "count": 1, "dataSize": 7})
    );
    let telemetry = ok(&h, &["get-telemetry-metadata", "--assessment-run-arn", &run_arn]);
    assert_eq!(telemetry["telemetryMetadata"][0]["count"], 1);

    // 120 exclusions: the CLI follows nextToken over two pages.
    let listed = ok(&h, &["list-exclusions", "--assessment-run-arn", &run_arn]);
    let exclusion_arns: Vec<String> =
        listed["exclusionArns"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    assert_eq!(exclusion_arns.len(), 120);
    let bogus = format!("{run_arn}/exclusion/0-zzzzzzzz");
    let described = ok(&h, &["describe-exclusions", "--exclusion-arns", &exclusion_arns[0], &bogus]);
    let e = &described["exclusions"][&exclusion_arns[0]];
    assert_eq!(e["title"], "No vulnerability database loaded");
    assert_eq!(e["scopes"][0]["key"], "INSTANCE_ID");
    assert_eq!(e["scopes"][1]["key"], "RULES_PACKAGE_ARN");
    assert_eq!(described["failedItems"][&bogus]["failureCode"], "ITEM_DOES_NOT_EXIST");

    let token = ok(&h, &["create-exclusions-preview", "--assessment-template-arn", &template_arn])["previewToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut preview = Value::Null;
    // Bounded wait for the background computation (nothing timed is asserted).
    for _ in 0..200 {
        preview =
            ok(&h, &["get-exclusions-preview", "--assessment-template-arn", &template_arn, "--preview-token", &token]);
        if preview["previewStatus"] == "COMPLETED" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(preview["previewStatus"], "COMPLETED");
    let items = preview["exclusionPreviews"].as_array().unwrap();
    assert_eq!(items.len(), 2, "cve on both agents (no --vulndb): {items:?}");
    assert!(items.iter().all(|i| i["title"] == "No vulnerability database loaded"));

    let (success, _, err) = cli(
        &h,
        &[
            "get-exclusions-preview",
            "--assessment-template-arn",
            &template_arn,
            "--preview-token",
            "3b2a1f50-0a0b-4c1d-8e2f-000000000000",
        ],
    );
    assert!(!success && err.contains("NoSuchEntityException"), "{err}");

    ok(
        &h,
        &[
            "subscribe-to-event",
            "--resource-arn",
            &template_arn,
            "--event",
            "ASSESSMENT_RUN_COMPLETED",
            "--topic-arn",
            TOPIC,
        ],
    );
    let subs = ok(&h, &["list-event-subscriptions", "--resource-arn", &template_arn]);
    assert_eq!(subs["subscriptions"][0]["eventSubscriptions"][0]["event"], "ASSESSMENT_RUN_COMPLETED");

    let (success, _, err) = cli(&h, &["describe-cross-account-access-role"]);
    assert!(!success && err.contains("AccessDeniedException"), "{err}");
    let (success, _, err) =
        cli(&h, &["register-cross-account-access-role", "--role-arn", "arn:aws:iam::123456789012:user/x"]);
    assert!(!success && err.contains("InvalidInputException"), "{err}");
    ok(&h, &["register-cross-account-access-role", "--role-arn", "arn:aws:iam::123456789012:role/inspector"]);
    let role = ok(&h, &["describe-cross-account-access-role"]);
    assert_eq!(role["roleArn"], "arn:aws:iam::123456789012:role/inspector");
    assert_eq!(role["valid"], true);
    assert!(role["registeredAt"].is_string() || role["registeredAt"].is_number(), "{role}");
}
