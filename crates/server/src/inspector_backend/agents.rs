//! The agents of a run (`ListAssessmentRunAgents`), the agents a target
//! would select (`PreviewAgents`) and telemetry metadata.

use super::*;

impl StoreBackend {
    pub(crate) async fn get_telemetry_metadata(
        &self,
        _ctx: &RequestContext,
        _request: GetTelemetryMetadataRequest,
    ) -> Result<GetTelemetryMetadataResponse, ApiError> {
        Err(unsupported("GetTelemetryMetadata"))
    }

    pub(crate) async fn list_assessment_run_agents(
        &self,
        _ctx: &RequestContext,
        _request: ListAssessmentRunAgentsRequest,
    ) -> Result<ListAssessmentRunAgentsResponse, ApiError> {
        Err(unsupported("ListAssessmentRunAgents"))
    }

    pub(crate) async fn preview_agents(
        &self,
        _ctx: &RequestContext,
        _request: PreviewAgentsRequest,
    ) -> Result<PreviewAgentsResponse, ApiError> {
        Err(unsupported("PreviewAgents"))
    }
}
