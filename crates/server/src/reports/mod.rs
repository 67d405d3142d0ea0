//! Assessment reports of stored runs: the [`RunReport`](warden_report::RunReport)
//! of a run ([`build`]), report jobs kept as files ([`jobs`]), pre-signed
//! download links ([`links`]), and the two HTTP routes that hand reports out:
//!
//! - `GET /reports/{job}?expires=..&signature=..`: the file of a report job,
//!   for the link `GetAssessmentReport` returned (no other credential);
//! - `GET /v1/runs/{id}/report?type=finding|full&format=html|pdf|json|csv|sarif|markdown`:
//!   a report rendered now, for `warden report RUN` (admin bearer token).
//!
//! Why one module: the Inspector API's `GetAssessmentReport`
//! (`inspector_backend/reports.rs`) and the admin JSON API share the builder
//! and the formats; only how the file reaches the client differs.

pub mod build;
pub mod jobs;
pub mod links;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use warden_inspector::credentials::MasterKey;
use warden_report::{ReportFormat, ReportType};
use warden_store::ReportJobStatus;

use crate::auth::require_admin;
use crate::{ApiError, AppState, ServerConfig, now_ms};
use links::LinkSigner;

/// What the download route needs: the reports directory and the key links
/// are signed with (derived from the Inspector master key beside the
/// database, read when the first link is checked).
pub struct ReportFiles {
    dir: PathBuf,
    master_key_path: PathBuf,
    signer: OnceLock<LinkSigner>,
}

impl ReportFiles {
    /// The files of a server with this configuration; the master key is the
    /// Inspector API's (`MasterKey::default_path(db)` unless configured), the
    /// one `GetAssessmentReport` signs links with.
    pub fn for_config(config: &ServerConfig) -> ReportFiles {
        ReportFiles {
            dir: jobs::reports_dir(&config.data_dir),
            master_key_path: config
                .inspector
                .master_key
                .clone()
                .unwrap_or_else(|| MasterKey::default_path(&config.db_path)),
            signer: OnceLock::new(),
        }
    }

    /// The signer, once the master key exists (before, no link can have been made).
    fn signer(&self) -> Result<&LinkSigner, String> {
        if let Some(s) = self.signer.get() {
            return Ok(s);
        }
        if !self.master_key_path.is_file() {
            return Err(format!("{}: no master key, so no report link is valid", self.master_key_path.display()));
        }
        let key = MasterKey::load_or_create(&self.master_key_path)?;
        Ok(self.signer.get_or_init(|| LinkSigner::from_master(&key)))
    }
}

/// The report routes (merged into [`crate::router`]).
pub fn routes(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .route("/reports/{job}", get(download))
        .route("/v1/runs/{id}/report", get(run_report))
        .layer(Extension(Arc::new(ReportFiles::for_config(config))))
}

#[derive(Deserialize)]
struct LinkQuery {
    expires: Option<String>,
    signature: Option<String>,
}

/// `GET /reports/{job}`: the job's file, when the link is signed, unexpired
/// and the job COMPLETED. Every refusal of the link is the same 403.
async fn download(
    State(state): State<AppState>,
    Extension(files): Extension<Arc<ReportFiles>>,
    Path(job_id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let refused = || ApiError::forbidden("the report link is not valid or has expired");
    let signer = files.signer().map_err(|why| {
        eprintln!("warden serve: report download refused: {why}");
        refused()
    })?;
    signer
        .verify(&job_id, link.expires.as_deref(), link.signature.as_deref(), now_ms().div_euclid(1000))
        .map_err(|_| refused())?;
    let id = job_id.clone();
    let job = state.db(move |s| s.get_report_job(&id)).await.map_err(|e| match e.status {
        StatusCode::NOT_FOUND => ApiError::new(StatusCode::NOT_FOUND, "not_found", "the report no longer exists"),
        _ => e,
    })?;
    if job.status != ReportJobStatus::Completed {
        return Err(ApiError::conflict(format!("the report is {}; ask GetAssessmentReport again", job.status)));
    }
    let format = ReportFormat::from_name(&job.file_format)
        .ok_or_else(|| ApiError::internal(format!("report job {job_id} has unknown format {:?}", job.file_format)))?;
    let path = jobs::file_in(&files.dir, &job)
        .ok_or_else(|| ApiError::internal(format!("report job {job_id} has no servable file")))?;
    let body = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(|e| ApiError::internal(format!("report read failed: {e}")))?
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("the report file is gone: {e}")))?;
    let filename =
        format!("warden-{}-{}.{}", job.run_id, job.report_type.to_ascii_lowercase(), jobs::extension(format));
    Ok(file_response(format, &filename, body))
}

fn file_response(format: ReportFormat, filename: &str, body: Vec<u8>) -> Response {
    let mut response = Body::from(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(jobs::content_type(format)));
    // File names are made of ids and fixed words only, so they need no escaping.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunReportQuery {
    #[serde(rename = "type")]
    report_type: Option<String>,
    format: Option<String>,
}

/// Parses `type` (default FINDING).
pub fn parse_report_type(text: Option<&str>) -> Result<ReportType, ApiError> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("finding") => Ok(ReportType::Finding),
        Some("full") => Ok(ReportType::Full),
        Some(_) => Err(ApiError::bad_request(format!("type: {:?} is not finding or full", text.unwrap_or_default()))),
    }
}

/// Parses `format` (required).
pub fn parse_report_format(text: Option<&str>) -> Result<ReportFormat, ApiError> {
    let names: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.name()).collect();
    let text = text.ok_or_else(|| ApiError::bad_request(format!("format: required ({})", names.join(", "))))?;
    ReportFormat::from_name(&text.to_ascii_lowercase())
        .ok_or_else(|| ApiError::bad_request(format!("format: {text:?} is not one of {}", names.join(", "))))
}

/// `GET /v1/runs/{id}/report`: the run's report rendered now. Runs that have
/// not finished are refused (409), as Inspector refuses their reports.
async fn run_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(run_id): Path<String>,
    query: Result<Query<RunReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers).await?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let report_type = parse_report_type(query.report_type.as_deref())?;
    let format = parse_report_format(query.format.as_deref())?;
    let id = run_id.clone();
    let run = state.db(move |s| s.get_run(&id)).await?;
    if !run.state.is_terminal() {
        return Err(ApiError::conflict(format!(
            "run {run_id} is {}: its report is available once it has finished",
            run.state
        )));
    }
    let store = state.store.clone();
    let id = run_id.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let report = build::build_run_report(store.as_ref(), &id, report_type, now_ms()).map_err(ApiError::from)?;
        let mut out = Vec::new();
        warden_report::write_report(&report, format, &mut out)
            .map_err(|e| ApiError::internal(format!("cannot render the report: {e}")))?;
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal(format!("report task failed: {e}")))??;
    let filename =
        format!("warden-{run_id}-{}.{}", jobs::type_name(report_type).to_ascii_lowercase(), jobs::extension(format));
    Ok(file_response(format, &filename, body))
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod bench_tests;
