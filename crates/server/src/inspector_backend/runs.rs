//! Assessment runs: start, stop, delete, describe (state changes, finding
//! counts, notifications) and list.

use super::*;

impl StoreBackend {
    pub(crate) async fn delete_assessment_run(
        &self,
        _ctx: &RequestContext,
        _request: DeleteAssessmentRunRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("DeleteAssessmentRun"))
    }

    pub(crate) async fn describe_assessment_runs(
        &self,
        _ctx: &RequestContext,
        _request: DescribeAssessmentRunsRequest,
    ) -> Result<DescribeAssessmentRunsResponse, ApiError> {
        Err(unsupported("DescribeAssessmentRuns"))
    }

    pub(crate) async fn list_assessment_runs(
        &self,
        _ctx: &RequestContext,
        _request: ListAssessmentRunsRequest,
    ) -> Result<ListAssessmentRunsResponse, ApiError> {
        Err(unsupported("ListAssessmentRuns"))
    }

    pub(crate) async fn start_assessment_run(
        &self,
        _ctx: &RequestContext,
        _request: StartAssessmentRunRequest,
    ) -> Result<StartAssessmentRunResponse, ApiError> {
        Err(unsupported("StartAssessmentRun"))
    }

    pub(crate) async fn stop_assessment_run(
        &self,
        _ctx: &RequestContext,
        _request: StopAssessmentRunRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("StopAssessmentRun"))
    }
}
