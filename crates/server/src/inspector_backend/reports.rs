//! `GetAssessmentReport`: HTML and PDF reports of a run behind signed URLs.
//!
//! Inspector's semantics: the call is asynchronous. The first call for a
//! (run, format, type) starts a report job and answers `WORK_IN_PROGRESS`;
//! clients poll the same call until `COMPLETED` with a `url` (a pre-signed
//! link, valid 15 minutes, fresh on every call) or `FAILED`. A run that has
//! not finished gets `AssessmentRunInProgressException`. The jobs, files and
//! links are `crate::reports`'.

use std::path::Path;

use warden_inspector::credentials::MasterKey;
use warden_report::{ReportFormat, ReportType as RenderType};
use warden_store::ReportJobStatus;

use super::*;
use crate::reports::jobs::{ReportJobs, reports_dir};
use crate::reports::links::{LINK_TTL_SECONDS, LinkSigner};

impl StoreBackend {
    pub(crate) async fn get_assessment_report(
        &self,
        _ctx: &RequestContext,
        request: GetAssessmentReportRequest,
    ) -> Result<GetAssessmentReportResponse, ApiError> {
        let arn = request.assessment_run_arn.as_str();
        let run_id = self.run_id(arn)?;
        let not_found = || missing(NoSuchEntityErrorCode::AssessmentRunDoesNotExist, arn);
        let run = self
            .store
            .get_run(&run_id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist))?;
        let template = self
            .store
            .get_template(&run.template_id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist))?;
        // The ARN names the target and template too: another run's path is not this run.
        if self.run_arn(&template, &run.id)? != arn {
            return Err(not_found());
        }
        if !run.state.is_terminal() {
            return Err(ApiError::AssessmentRunInProgress {
                assessment_run_arns: vec![arn.to_string()],
                truncated: false,
                message: format!("the assessment run is {}; its report is available once it has finished", run.state),
            });
        }
        let links = self.report_links.as_ref().ok_or_else(|| ApiError::UnsupportedFeature {
            message: "this server does not serve assessment reports (no report base URL is configured)".to_string(),
        })?;
        let format = match request.report_file_format {
            ReportFileFormat::Html => ReportFormat::Html,
            ReportFileFormat::Pdf => ReportFormat::Pdf,
        };
        let report_type = match request.report_type {
            ReportType::Finding => RenderType::Finding,
            ReportType::Full => RenderType::Full,
        };
        let jobs = links.jobs.clone();
        let job = tokio::task::spawn_blocking(move || jobs.poll(&run_id, format, report_type, crate::now_ms()))
            .await
            .map_err(|e| ApiError::internal(format!("report job task failed: {e}")))?
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist))?;
        Ok(match job.status {
            ReportJobStatus::WorkInProgress => {
                GetAssessmentReportResponse { status: ReportStatus::WorkInProgress, url: None }
            }
            ReportJobStatus::Failed => GetAssessmentReportResponse { status: ReportStatus::Failed, url: None },
            ReportJobStatus::Completed => GetAssessmentReportResponse {
                status: ReportStatus::Completed,
                url: Some(links.url(&job.id, crate::now_ms().div_euclid(1000) + LINK_TTL_SECONDS)),
            },
        })
    }
}

/// Where report links point, how they are signed, and the jobs that make
/// the files (set by `warden serve` with [`StoreBackend::with_report_links`]).
#[derive(Clone)]
pub struct ReportLinks {
    /// The server's external base URL, e.g. `https://warden.example:8443`.
    pub base_url: String,
    signer: Arc<LinkSigner>,
    jobs: Arc<ReportJobs>,
}

impl std::fmt::Debug for ReportLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportLinks").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl ReportLinks {
    /// Links under `base_url`, signed with a key derived from `master`
    /// (the same key file the `/reports/{job}` route reads:
    /// `MasterKey::default_path(db)`), files under `DATA_DIR/reports`.
    pub fn new(base_url: &str, master: &MasterKey, store: Arc<dyn FleetStore>, data_dir: &Path) -> ReportLinks {
        ReportLinks {
            base_url: base_url.trim_end_matches('/').to_string(),
            signer: Arc::new(LinkSigner::from_master(master)),
            jobs: ReportJobs::new(store, reports_dir(data_dir)),
        }
    }

    /// A signed link to a job's file, valid until `expires` (unix seconds).
    pub fn url(&self, job: &str, expires: i64) -> String {
        self.signer.url(&self.base_url, job, expires)
    }
}

#[cfg(test)]
#[path = "reports_tests.rs"]
mod tests;
