//! The cross-account role over a real in-memory SQLite store.

use super::*;
use crate::inspector_backend::test_support::{block_on, ctx, fixture};

#[test]
fn the_role_is_validated_stored_and_described() {
    let f = fixture();
    block_on(async {
        let e = f.backend.describe_cross_account_access_role(&ctx(), DescribeCrossAccountAccessRoleRequest {}).await;
        assert!(
            matches!(e, Err(ApiError::AccessDenied { code: AccessDeniedErrorCode::AccessDeniedToIamRole, .. })),
            "{e:?}"
        );
        for bad in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::12345:role/inspector",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/bad name",
        ] {
            let e = f
                .backend
                .register_cross_account_access_role(
                    &ctx(),
                    RegisterCrossAccountAccessRoleRequest { role_arn: bad.into() },
                )
                .await;
            assert!(
                matches!(e, Err(ApiError::InvalidInput { code: Some(InvalidInputErrorCode::InvalidIamRoleArn), .. })),
                "{bad}: {e:?}"
            );
        }
        let before = crate::now_ms();
        for role in ["arn:aws:iam::123456789012:role/inspector", "arn:aws:iam::123456789012:role/service/inspector-v2"]
        {
            f.backend
                .register_cross_account_access_role(
                    &ctx(),
                    RegisterCrossAccountAccessRoleRequest { role_arn: role.into() },
                )
                .await
                .unwrap();
        }
        let after = crate::now_ms();
        let role = f
            .backend
            .describe_cross_account_access_role(&ctx(), DescribeCrossAccountAccessRoleRequest {})
            .await
            .unwrap();
        assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/service/inspector-v2", "the last registration wins");
        assert!(role.valid);
        let registered_ms = (role.registered_at.0 * 1000.0).round() as i64;
        assert!((before..=after).contains(&registered_ms), "{registered_ms} not in {before}..={after}");
    });
}
