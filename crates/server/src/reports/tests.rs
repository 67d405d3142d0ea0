//! Reports of a stored run made by the real evaluation over a real SQLite
//! store: what the builder puts in a FINDING and a FULL report, and the
//! admin route `GET /v1/runs/{id}/report` through the real router.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use warden_model::Outcome;
use warden_report::ReportType;
use warden_store::{Agent, Attribute, FindingQuery, NewTemplate, Run, RunAgentStatus, RunState, RunUpdate};

use super::build::{USER_ATTRIBUTE_PREFIX, build_run_report};
use crate::inspector_backend::test_support::{nightly, stub_agent};
use crate::{AppState, ServerConfig, now_ms};

/// A server state over a database in `dir` (the admin token file is written there too).
pub(crate) fn state_in(dir: &std::path::Path) -> AppState {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.join("warden.db"));
    crate::prepare(config).unwrap()
}

/// The admin token `prepare` wrote.
pub(crate) fn admin_token(state: &AppState) -> String {
    std::fs::read_to_string(crate::admin_token_path(&state.config)).unwrap().trim().to_string()
}

/// A Debian 12 web agent never heard from.
fn agent(id: &str, hostname: &str) -> Agent {
    let mut agent = stub_agent(id, hostname);
    agent.tags = BTreeMap::from([("role".to_string(), "web".to_string())]);
    agent.host.operating_system = Some("Debian GNU/Linux 12 (bookworm)".into());
    agent
}

/// Two agents: `web-1` sent a real snapshot of the `debian-weak` fixture
/// root, `db-1` timed out. The run (Security Best Practices and CVE, with no
/// vulnerability database) is evaluated by the server's own evaluation and
/// ends COMPLETED_WITH_ERRORS. Returns the run as it ended.
pub(crate) fn evaluated_run(state: &AppState) -> Run {
    let store = state.store.as_ref();
    store.insert_agent(&agent("i-0000000000000000a", "web-1")).unwrap();
    store.insert_agent(&agent("i-0000000000000000b", "db-1")).unwrap();
    let target = store.create_target("web fleet", None, &[], 10).unwrap();
    let template = store
        .create_template(
            &NewTemplate {
                user_attributes: vec![Attribute::new("team", "ops")],
                ..nightly(&target.id, &["best-practices", "cve"])
            },
            11,
        )
        .unwrap();
    let run = store.create_run(&template.id, None, 12).unwrap();
    let agents = ["i-0000000000000000a".to_string(), "i-0000000000000000b".to_string()];
    store.assign_run_agents(&run.id, &agents, 13).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roots/debian-weak/root");
    let snapshot = warden_collect::collect(&root, &warden_collect::Options::default()).unwrap();
    store.put_telemetry(&run.id, &agents[0], 1, "snapshot", &serde_json::to_string(&snapshot).unwrap(), 14).unwrap();
    store.set_run_agent_status(&run.id, &agents[0], RunAgentStatus::Collected, None).unwrap();
    store
        .set_run_agent_status(&run.id, &agents[1], RunAgentStatus::TimedOut, Some("no telemetry before the deadline"))
        .unwrap();
    let mut from = RunState::Created;
    while from != RunState::EvaluatingRules {
        let to = from.next().unwrap();
        let update = if to == RunState::StartDataCollectionInProgress {
            RunUpdate { started_at: Some(15), ..Default::default() }
        } else {
            RunUpdate::default()
        };
        store.transition_run(&run.id, from, to, &update, 15).unwrap();
        from = to;
    }
    crate::evaluate::evaluate_run(state, &store.get_run(&run.id).unwrap()).unwrap();
    store.get_run(&run.id).unwrap()
}

#[test]
fn full_report_has_every_rule_and_finding_report_only_the_unevaluated() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(dir.path());
    let run = evaluated_run(&state);
    assert_eq!(run.state, RunState::CompletedWithErrors);
    let store = state.store.as_ref();
    let stored = store.list_findings(&FindingQuery { run_ids: vec![run.id.clone()], ..Default::default() }).unwrap();
    store.set_finding_user_attributes(&stored[0].id, &[Attribute::new("ticket", "SEC-42")], now_ms()).unwrap();

    let full = build_run_report(store, &run.id, ReportType::Full, now_ms()).unwrap();
    assert_eq!(full.run.template, "nightly");
    assert_eq!(full.run.target, "web fleet");
    assert_eq!(full.run.rules_packages, ["Security Best Practices", "Common Vulnerabilities and Exposures"]);
    assert!(full.run.state.as_deref().unwrap().starts_with("COMPLETED_WITH_ERRORS ("), "{:?}", full.run.state);
    assert_eq!(full.run.agents, ["i-0000000000000000a", "i-0000000000000000b"]);
    assert_eq!(full.hosts.len(), 2);
    let (web, db) = (&full.hosts[0], &full.hosts[1]);
    assert_eq!((web.asset.as_str(), db.asset.as_str()), ("web-1", "db-1"));
    assert_eq!(web.findings.len(), stored.iter().filter(|f| f.finding.agent_id == "i-0000000000000000a").count());
    let root_login =
        web.findings.iter().find(|f| f.rule_id == "sbp-ssh-root-login").expect("the weak root permits root login");
    assert_eq!(root_login.title, "Disable root login over SSH");
    assert!(!root_login.evidence.is_empty() && !root_login.recommendation.is_empty());
    assert_eq!(root_login.package, "Security Best Practices");
    assert!(
        web.findings
            .iter()
            .any(|f| f.attributes.get(&format!("{USER_ATTRIBUTE_PREFIX}ticket")).map(String::as_str) == Some("SEC-42")),
        "user attributes are shown"
    );
    // FULL: passed rules are there, per package and host; the CVE package
    // (no vulnerability database) is listed as not evaluated.
    assert!(web.rules.iter().any(|r| r.outcome == Outcome::Pass));
    assert!(web.rules.iter().any(|r| r.rule_id == "sbp-ssh-root-login" && r.outcome == Outcome::Fail));
    assert!(web.rules.iter().any(|r| r.rule_id == "package:cve" && r.reason.contains("--vulndb")));
    assert!(web.partial, "a package was not evaluated");
    // The agent that timed out: partial, with why, and its packages not evaluated.
    assert!(db.partial && db.findings.is_empty());
    assert!(db.problems[0].message.contains("timed_out"), "{:?}", db.problems);
    assert!(db.rules.iter().all(|r| r.outcome == Outcome::CouldNotEvaluate) && db.rules.len() == 2);

    let finding = build_run_report(store, &run.id, ReportType::Finding, now_ms()).unwrap();
    assert_eq!(finding.finding_count(), full.finding_count());
    assert!(finding.hosts[0].rules.iter().all(|r| r.outcome == Outcome::CouldNotEvaluate));
    assert!(!finding.hosts[0].rules.is_empty());
}

/// A GET through the real router, with an admin bearer token when given.
pub(crate) async fn get(
    state: &AppState,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = crate::router(state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
    (status, headers, body)
}

#[test]
fn admin_route_renders_every_format_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(dir.path());
    let run = evaluated_run(&state);
    let token = admin_token(&state);
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
        for format in warden_report::ReportFormat::ALL {
            let uri = format!("/v1/runs/{}/report?type=full&format={}", run.id, format.name());
            let (status, headers, body) = get(&state, &uri, Some(&token)).await;
            assert_eq!(status, StatusCode::OK, "{}: {}", format.name(), String::from_utf8_lossy(&body));
            assert_eq!(headers["content-type"], super::jobs::content_type(format));
            let disposition = headers["content-disposition"].to_str().unwrap();
            assert!(
                disposition.starts_with("attachment; filename=\"warden-") && disposition.contains("-full."),
                "{disposition}"
            );
            if format != warden_report::ReportFormat::Pdf {
                assert!(String::from_utf8_lossy(&body).contains("Disable root login over SSH"), "{}", format.name());
            } else {
                assert!(body.starts_with(b"%PDF-"));
            }
        }
        let csv = get(&state, &format!("/v1/runs/{}/report?format=csv", run.id), Some(&token)).await;
        assert!(String::from_utf8_lossy(&csv.2).starts_with("Severity,"), "FINDING by default");

        let (status, _, body) = get(&state, &format!("/v1/runs/{}/report?format=docx", run.id), Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("format: \\\"docx\\\""), "{}", String::from_utf8_lossy(&body));
        let (status, _, body) =
            get(&state, &format!("/v1/runs/{}/report?format=html&type=most", run.id), Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("type:"));
        let (status, _, _) =
            get(&state, &format!("/v1/runs/{}/report?format=html&colour=red", run.id), Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "unknown parameters are refused");
        let (status, _, _) = get(&state, "/v1/runs/0-nothere0/report?format=html", Some(&token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = get(&state, &format!("/v1/runs/{}/report?format=html", run.id), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) =
            get(&state, &format!("/v1/runs/{}/report?format=html", run.id), Some("wdn_adm_wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A run still going has no report yet.
        let template = state.store.get_template(&run.template_id).unwrap();
        let running = state.store.create_run(&template.id, Some("second"), 20).unwrap();
        let (status, _, body) = get(&state, &format!("/v1/runs/{}/report?format=html", running.id), Some(&token)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(String::from_utf8_lossy(&body).contains("CREATED"));
    });
}

#[test]
fn pruning_keeps_job_files_and_removes_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(dir.path());
    let run = evaluated_run(&state);
    let reports = super::jobs::reports_dir(&state.config.data_dir);
    let jobs = super::jobs::ReportJobs::new(state.store.clone(), reports.clone());
    // Outside a runtime the job runs on a thread of its own; poll until it ends.
    let mut job = jobs.poll(&run.id, warden_report::ReportFormat::Html, ReportType::Finding, now_ms()).unwrap();
    for _ in 0..100_000 {
        if job.status != warden_store::ReportJobStatus::WorkInProgress {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        job = state.store.get_report_job(&job.id).unwrap();
    }
    assert_eq!(job.status, warden_store::ReportJobStatus::Completed, "{job:?}");
    let kept = jobs.file_path(&job).unwrap();
    let orphan = reports.join("0-AAAAAAAA.pdf");
    let stale_tmp = reports.join(".0-BBBBBBBB.html.tmp");
    let not_ours = reports.join("notes.txt");
    for p in [&orphan, &stale_tmp, &not_ours] {
        std::fs::write(p, "x").unwrap();
    }
    jobs.prune();
    assert!(kept.is_file(), "a job's file stays");
    assert!(!orphan.exists() && !stale_tmp.exists(), "files of no job go");
    assert!(not_ours.exists(), "files not named like a job's are left alone");
}
