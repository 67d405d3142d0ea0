//! `GetAssessmentReport` over a run evaluated into a real SQLite store:
//! polled until COMPLETED, downloaded through the real router with the
//! signed URL, and refused when the link is tampered with or expired.

use std::time::Duration;

use axum::http::StatusCode;
use warden_inspector::credentials::MasterKey;
use warden_store::{FindingQuery, RunState};

use super::*;
use crate::AppState;
use crate::inspector_backend::test_support::{backend_over, ctx};
use crate::reports::tests::{evaluated_run, get, state_in};

const BASE: &str = "https://warden.example:8443";

fn backend(state: &AppState) -> StoreBackend {
    let master = MasterKey::load_or_create(&MasterKey::default_path(&state.config.db_path)).unwrap();
    let links = ReportLinks::new(BASE, &master, state.store.clone(), &state.config.data_dir);
    backend_over(state.store.clone()).with_report_links(links)
}

fn request(arn: &str, format: ReportFileFormat, report_type: ReportType) -> GetAssessmentReportRequest {
    GetAssessmentReportRequest { assessment_run_arn: arn.to_string(), report_file_format: format, report_type }
}

/// Polls as Inspector's clients do, until the status is not WORK_IN_PROGRESS
/// (bounded by a number of polls, not by time: a slow machine only polls longer).
async fn poll(b: &StoreBackend, req: &GetAssessmentReportRequest) -> GetAssessmentReportResponse {
    for _ in 0..60_000 {
        let r = b.get_assessment_report(&ctx(), req.clone()).await.unwrap();
        if r.status != ReportStatus::WorkInProgress {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the report never left WORK_IN_PROGRESS");
}

/// The path and query of a report URL (what a client sends to the server).
fn path_of(url: &str) -> &str {
    url.strip_prefix(BASE).expect("the link is under the configured base URL")
}

/// A GET through the real router, without credentials (the link is the credential).
async fn download(state: &AppState, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    get(state, path, None).await
}

fn run_arn_of(b: &StoreBackend, state: &AppState, run_id: &str) -> String {
    let run = state.store.get_run(run_id).unwrap();
    b.run_arn(&state.store.get_template(&run.template_id).unwrap(), run_id).unwrap()
}

/// An evaluated run in a server state under a temporary directory, a backend
/// serving reports of it, and the run's ARN.
struct Fixture {
    dir: tempfile::TempDir,
    state: AppState,
    run: warden_store::Run,
    b: StoreBackend,
    arn: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(dir.path());
    let run = evaluated_run(&state);
    let b = backend(&state);
    let arn = run_arn_of(&b, &state, &run.id);
    Fixture { dir, state, run, b, arn }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn reports_are_generated_reused_regenerated_and_served_by_signed_links() {
    let Fixture { dir, state, run, b, arn } = fixture();
    block_on(async {
        let html_req = request(&arn, ReportFileFormat::Html, ReportType::Full);
        let first = b.get_assessment_report(&ctx(), html_req.clone()).await.unwrap();
        assert!(matches!(first.status, ReportStatus::WorkInProgress | ReportStatus::Completed));
        let done = poll(&b, &html_req).await;
        assert_eq!(done.status, ReportStatus::Completed);
        let url = done.url.unwrap();
        assert!(
            url.starts_with(&format!("{BASE}/reports/0-")) && url.contains("?expires=") && url.contains("&signature="),
            "{url}"
        );

        let (status, headers, body) = download(&state, path_of(&url)).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"warden-"));
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains("Disable root login over SSH"));
        assert!(html.contains("nightly") && html.contains("web fleet") && html.contains("db-1"));
        // Self-contained: nothing is fetched (no script, stylesheet link, or remote source).
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src=\"http"));
        assert!(html.contains("default-src 'none'"));
        // FULL lists passed rules: one that passed on web-1 is in the file.
        let outcomes = state.store.list_rule_outcomes(&run.id).unwrap();
        let passed = outcomes
            .iter()
            .find(|o| {
                o.outcome.outcome == warden_model::Outcome::Pass
                    && o.outcome.title.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
            })
            .expect("a passed rule with a plain title");
        assert!(html.contains(&passed.outcome.title), "{}", passed.outcome.title);

        // The same poll again reuses the job and its file: the same link target.
        let again = poll(&b, &html_req).await.url.unwrap();
        let job_of = |u: &str| u.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        assert_eq!(job_of(&again), job_of(&url));
        let files = || std::fs::read_dir(dir.path().join("reports")).unwrap().count();
        assert_eq!(files(), 1);

        // Tampered, expired, moved to another job, or missing parts: 403.
        let mut tampered = path_of(&url).to_string();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert_eq!(download(&state, &tampered).await.0, StatusCode::FORBIDDEN);
        let links = b.report_links.as_ref().unwrap();
        let expired = links.url(&job_of(&url), crate::now_ms() / 1000 - 1);
        assert_eq!(download(&state, path_of(&expired)).await.0, StatusCode::FORBIDDEN);
        let longer = path_of(&url).replace("expires=", "expires=9");
        assert_eq!(download(&state, &longer).await.0, StatusCode::FORBIDDEN);
        let other_job = path_of(&url).replace(&job_of(&url), "0-AAAAAAAA");
        assert_eq!(download(&state, &other_job).await.0, StatusCode::FORBIDDEN);
        assert_eq!(download(&state, &format!("/reports/{}", job_of(&url))).await.0, StatusCode::FORBIDDEN);
        // A link signed with another master key is refused too.
        let foreign = crate::reports::links::LinkSigner::from_master(&MasterKey::from_bytes([1; 32]));
        let forged = foreign.url(BASE, &job_of(&url), crate::now_ms() / 1000 + 600);
        assert_eq!(download(&state, path_of(&forged)).await.0, StatusCode::FORBIDDEN);

        // A finding changes (user attributes): the next poll makes a new file.
        let stored =
            state.store.list_findings(&FindingQuery { run_ids: vec![run.id.clone()], ..Default::default() }).unwrap();
        state
            .store
            .set_finding_user_attributes(
                &stored[0].id,
                &[warden_store::Attribute::new("ticket", "SEC-77")],
                crate::now_ms(),
            )
            .unwrap();
        let after = b.get_assessment_report(&ctx(), html_req.clone()).await.unwrap();
        assert_eq!(after.status, ReportStatus::WorkInProgress, "a changed run is not served from the old file");
        let url = poll(&b, &html_req).await.url.unwrap();
        assert_eq!(job_of(&url), job_of(&again), "the job is kept, its file remade");
        let (_, _, body) = download(&state, path_of(&url)).await;
        assert!(String::from_utf8(body).unwrap().contains("SEC-77"));

        // PDF, FINDING: the same findings as text.
        let pdf_req = request(&arn, ReportFileFormat::Pdf, ReportType::Finding);
        let pdf_url = poll(&b, &pdf_req).await.url.unwrap();
        assert_ne!(job_of(&pdf_url), job_of(&url), "one job per (run, format, type)");
        let (status, headers, pdf) = download(&state, path_of(&pdf_url)).await;
        assert_eq!((status, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "application/pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        match pdf_text(&pdf, dir.path()) {
            Some(text) => {
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(text.contains("Disable root login over SSH"), "pdftotext output lacks the finding title");
                assert!(text.contains("nightly"));
            }
            None => {
                eprintln!("pdftotext is not installed: the PDF's text is not checked (scripts/install-test-deps.sh)")
            }
        }
    });
}

/// The PDF's text by poppler's `pdftotext`, when it is installed.
fn pdf_text(pdf: &[u8], dir: &std::path::Path) -> Option<String> {
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext").arg(&path).arg("-").output().ok()?;
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn runs_in_progress_unknown_or_foreign_have_no_report() {
    let Fixture { dir: _dir, state, run, b, arn } = fixture();
    block_on(async {
        let running = state.store.create_run(&run.template_id, Some("second"), 30).unwrap();
        assert_eq!(running.state, RunState::Created);
        let running_arn = run_arn_of(&b, &state, &running.id);
        let e = b
            .get_assessment_report(&ctx(), request(&running_arn, ReportFileFormat::Html, ReportType::Finding))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ApiError::AssessmentRunInProgress { assessment_run_arns, .. } if assessment_run_arns == &vec![running_arn.clone()]),
            "{e:?}"
        );

        let unknown = arn.replace(&run.id, "0-ZZZZZZZZ");
        let foreign = arn.replace("123456789012", "999999999999");
        let moved = arn.replace(&run.template_id, "0-YYYYYYYY");
        for missing_arn in [unknown, foreign, moved] {
            let e = b
                .get_assessment_report(&ctx(), request(&missing_arn, ReportFileFormat::Pdf, ReportType::Full))
                .await
                .unwrap_err();
            assert!(
                matches!(&e, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentRunDoesNotExist, .. }),
                "{missing_arn}: {e:?}"
            );
        }
        let e = b
            .get_assessment_report(
                &ctx(),
                request(
                    "arn:aws:inspector:us-west-2:123456789012:target/0-abcdEFGH",
                    ReportFileFormat::Pdf,
                    ReportType::Full,
                ),
            )
            .await
            .unwrap_err();
        assert!(matches!(&e, ApiError::InvalidInput { .. }), "{e:?}");

        // A server without report links says it does not serve reports.
        let plain = backend_over(state.store.clone());
        let e = plain
            .get_assessment_report(&ctx(), request(&arn, ReportFileFormat::Html, ReportType::Full))
            .await
            .unwrap_err();
        assert!(matches!(&e, ApiError::UnsupportedFeature { .. }), "{e:?}");
    });
}
