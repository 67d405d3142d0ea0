//! The cross-account access role (`RegisterCrossAccountAccessRole`,
//! `DescribeCrossAccountAccessRole`): accepted and stored.
//!
//! Why only stored: Inspector assumed this IAM role to list the account's EC2
//! instances for targets. Warden has no IAM and never calls AWS for targets
//! (agents enroll themselves), so the role is never assumed. It is checked
//! to be an IAM role ARN, kept with its registration time, and described
//! back; `valid` is true for every registered role and means exactly that:
//! registered and well-formed, not that any policy was checked.

use super::*;

impl StoreBackend {
    pub(crate) async fn describe_cross_account_access_role(
        &self,
        _ctx: &RequestContext,
        _request: DescribeCrossAccountAccessRoleRequest,
    ) -> Result<DescribeCrossAccountAccessRoleResponse, ApiError> {
        match self.store.cross_account_role().map_err(|e| ApiError::internal(e.to_string()))? {
            Some(role) => Ok(DescribeCrossAccountAccessRoleResponse {
                role_arn: role.role_arn,
                valid: true,
                registered_at: timestamp(role.registered_at),
            }),
            None => Err(ApiError::AccessDenied {
                code: AccessDeniedErrorCode::AccessDeniedToIamRole,
                message: "no cross-account access role is registered (RegisterCrossAccountAccessRole)".to_string(),
            }),
        }
    }

    pub(crate) async fn register_cross_account_access_role(
        &self,
        _ctx: &RequestContext,
        request: RegisterCrossAccountAccessRoleRequest,
    ) -> Result<(), ApiError> {
        if !is_iam_role_arn(&request.role_arn) {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidIamRoleArn,
                format!("roleArn {:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", request.role_arn),
            ));
        }
        self.store
            .set_cross_account_role(&request.role_arn, crate::now_ms())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(())
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`, the name and path of
/// IAM's allowed characters.
fn is_iam_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = parts.as_slice() else { return false };
    let Some(name) = resource.strip_prefix("role/") else { return false };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
