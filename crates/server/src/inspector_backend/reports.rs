//! `GetAssessmentReport`: HTML and PDF reports of a run behind signed URLs.

use super::*;

impl StoreBackend {
    pub(crate) async fn get_assessment_report(
        &self,
        _ctx: &RequestContext,
        _request: GetAssessmentReportRequest,
    ) -> Result<GetAssessmentReportResponse, ApiError> {
        Err(unsupported("GetAssessmentReport"))
    }
}

/// Where report links point and how they are signed (set by `warden serve`).
#[derive(Clone, Debug)]
pub struct ReportLinks {
    /// The server's external base URL, e.g. `https://warden.example:8443`.
    pub base_url: String,
}
