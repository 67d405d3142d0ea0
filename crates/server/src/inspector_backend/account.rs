//! The cross-account access role (accepted and stored).

use super::*;

impl StoreBackend {
    pub(crate) async fn describe_cross_account_access_role(
        &self,
        _ctx: &RequestContext,
        _request: DescribeCrossAccountAccessRoleRequest,
    ) -> Result<DescribeCrossAccountAccessRoleResponse, ApiError> {
        Err(unsupported("DescribeCrossAccountAccessRole"))
    }

    pub(crate) async fn register_cross_account_access_role(
        &self,
        _ctx: &RequestContext,
        _request: RegisterCrossAccountAccessRoleRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("RegisterCrossAccountAccessRole"))
    }
}
