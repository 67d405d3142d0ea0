//! Findings: list with every `FindingFilter` field, describe, and user
//! attributes added and removed.

use super::*;

impl StoreBackend {
    pub(crate) async fn add_attributes_to_findings(
        &self,
        _ctx: &RequestContext,
        _request: AddAttributesToFindingsRequest,
    ) -> Result<AddAttributesToFindingsResponse, ApiError> {
        Err(unsupported("AddAttributesToFindings"))
    }

    pub(crate) async fn describe_findings(
        &self,
        _ctx: &RequestContext,
        _request: DescribeFindingsRequest,
    ) -> Result<DescribeFindingsResponse, ApiError> {
        Err(unsupported("DescribeFindings"))
    }

    pub(crate) async fn list_findings(
        &self,
        _ctx: &RequestContext,
        _request: ListFindingsRequest,
    ) -> Result<ListFindingsResponse, ApiError> {
        Err(unsupported("ListFindings"))
    }

    pub(crate) async fn remove_attributes_from_findings(
        &self,
        _ctx: &RequestContext,
        _request: RemoveAttributesFromFindingsRequest,
    ) -> Result<RemoveAttributesFromFindingsResponse, ApiError> {
        Err(unsupported("RemoveAttributesFromFindings"))
    }
}
