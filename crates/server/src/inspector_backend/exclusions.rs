//! Exclusions: the checks that could not run, listed per run and
//! previewed per template.

use super::*;

impl StoreBackend {
    pub(crate) async fn create_exclusions_preview(
        &self,
        _ctx: &RequestContext,
        _request: CreateExclusionsPreviewRequest,
    ) -> Result<CreateExclusionsPreviewResponse, ApiError> {
        Err(unsupported("CreateExclusionsPreview"))
    }

    pub(crate) async fn describe_exclusions(
        &self,
        _ctx: &RequestContext,
        _request: DescribeExclusionsRequest,
    ) -> Result<DescribeExclusionsResponse, ApiError> {
        Err(unsupported("DescribeExclusions"))
    }

    pub(crate) async fn get_exclusions_preview(
        &self,
        _ctx: &RequestContext,
        _request: GetExclusionsPreviewRequest,
    ) -> Result<GetExclusionsPreviewResponse, ApiError> {
        Err(unsupported("GetExclusionsPreview"))
    }

    pub(crate) async fn list_exclusions(
        &self,
        _ctx: &RequestContext,
        _request: ListExclusionsRequest,
    ) -> Result<ListExclusionsResponse, ApiError> {
        Err(unsupported("ListExclusions"))
    }
}
