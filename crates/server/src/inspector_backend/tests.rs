//! The store-backed backend over a real SQLite fleet store (in memory).

use super::*;
use crate::inspector_backend::test_support::{backend, block_on, ctx};

#[test]
fn targets_round_trip_through_the_store() {
    let b = backend();
    block_on(async {
        let group = b
            .create_resource_group(
                &ctx(),
                CreateResourceGroupRequest {
                    resource_group_tags: vec![ResourceGroupTag { key: "env".into(), value: Some("prod".into()) }],
                },
            )
            .await
            .unwrap()
            .resource_group_arn;
        assert!(group.starts_with("arn:aws:inspector:us-west-2:123456789012:resourcegroup/0-"), "{group}");
        let groups = b
            .describe_resource_groups(
                &ctx(),
                DescribeResourceGroupsRequest { resource_group_arns: vec![group.clone()] },
            )
            .await
            .unwrap();
        assert_eq!(groups.resource_groups[0].tags[0].value.as_deref(), Some("prod"));

        let target = b
            .create_assessment_target(
                &ctx(),
                CreateAssessmentTargetRequest {
                    assessment_target_name: "web".into(),
                    resource_group_arn: Some(group.clone()),
                },
            )
            .await
            .unwrap()
            .assessment_target_arn;
        let taken = b
            .create_assessment_target(
                &ctx(),
                CreateAssessmentTargetRequest { assessment_target_name: "web".into(), resource_group_arn: None },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                taken,
                ApiError::InvalidInput { code: Some(InvalidInputErrorCode::AssessmentTargetNameAlreadyTaken), .. }
            ),
            "{taken:?}"
        );

        let unknown = target.replace(&target[target.len() - 8..], "ZZZZZZZZ");
        let described = b
            .describe_assessment_targets(
                &ctx(),
                DescribeAssessmentTargetsRequest {
                    assessment_target_arns: vec![target.clone(), unknown.clone(), "nope".into()],
                },
            )
            .await
            .unwrap();
        assert_eq!(described.assessment_targets.len(), 1);
        assert_eq!(described.assessment_targets[0].name, "web");
        assert_eq!(described.assessment_targets[0].resource_group_arn.as_deref(), Some(group.as_str()));
        assert_eq!(described.failed_items[&unknown].failure_code, FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(described.failed_items["nope"].failure_code, FailedItemErrorCode::InvalidArn);

        b.update_assessment_target(
            &ctx(),
            UpdateAssessmentTargetRequest {
                assessment_target_arn: target.clone(),
                assessment_target_name: "web-2".into(),
                resource_group_arn: None,
            },
        )
        .await
        .unwrap();
        let after = b
            .describe_assessment_targets(
                &ctx(),
                DescribeAssessmentTargetsRequest { assessment_target_arns: vec![target.clone()] },
            )
            .await
            .unwrap();
        assert_eq!(after.assessment_targets[0].name, "web-2");
        assert_eq!(after.assessment_targets[0].resource_group_arn, None);

        b.delete_assessment_target(&ctx(), DeleteAssessmentTargetRequest { assessment_target_arn: target.clone() })
            .await
            .unwrap();
        let gone = b
            .delete_assessment_target(&ctx(), DeleteAssessmentTargetRequest { assessment_target_arn: target })
            .await
            .unwrap_err();
        assert!(
            matches!(gone, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTargetDoesNotExist, .. }),
            "{gone:?}"
        );
    });
}

#[test]
fn unknown_resource_group_is_no_such_entity() {
    let b = backend();
    let err = block_on(b.create_assessment_target(
        &ctx(),
        CreateAssessmentTargetRequest {
            assessment_target_name: "x".into(),
            resource_group_arn: Some("arn:aws:inspector:us-west-2:123456789012:resourcegroup/0-AAAAAAAA".into()),
        },
    ))
    .unwrap_err();
    assert!(
        matches!(err, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::ResourceGroupDoesNotExist, .. }),
        "{err:?}"
    );
    // Another account's group is not this server's either.
    let err = block_on(b.create_assessment_target(
        &ctx(),
        CreateAssessmentTargetRequest {
            assessment_target_name: "x".into(),
            resource_group_arn: Some("arn:aws:inspector:us-west-2:999999999999:resourcegroup/0-AAAAAAAA".into()),
        },
    ))
    .unwrap_err();
    assert!(matches!(err, ApiError::NoSuchEntity { .. }), "{err:?}");
}

#[test]
fn list_targets_filters_by_pattern_and_pages_by_at_most_100() {
    let b = backend();
    block_on(async {
        for i in 0..130 {
            let name = if i % 2 == 0 { format!("web-{i:03}") } else { format!("db-{i:03}") };
            b.create_assessment_target(
                &ctx(),
                CreateAssessmentTargetRequest { assessment_target_name: name, resource_group_arn: None },
            )
            .await
            .unwrap();
        }
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let page = b
                .list_assessment_targets(
                    &ctx(),
                    ListAssessmentTargetsRequest {
                        filter: Some(AssessmentTargetFilter { assessment_target_name_pattern: Some("web-*".into()) }),
                        next_token: token.clone(),
                        max_results: Some(500),
                    },
                )
                .await
                .unwrap();
            assert!(page.assessment_target_arns.len() <= 100);
            all.extend(page.assessment_target_arns);
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(all.len(), 65);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 65, "pages overlap");
    });
}

#[test]
fn name_patterns_use_star_wildcards() {
    assert!(name_matches("web-*", "web-1"));
    assert!(name_matches("*", ""));
    assert!(name_matches("a*b*c", "aXXbYYc"));
    assert!(name_matches("exact", "exact"));
    assert!(!name_matches("exact", "exactly"));
    assert!(!name_matches("a*b", "ab-"));
    assert!(!name_matches("ab*ba", "aba"));
}

proptest::proptest! {
    #[test]
    fn a_name_matches_itself_and_star(name in "[a-z*-]{0,12}") {
        let literal = name.replace('*', "");
        proptest::prop_assert!(name_matches(&literal, &literal));
        proptest::prop_assert!(name_matches("*", &literal));
        let prefix = format!("{}*", literal);
        proptest::prop_assert!(name_matches(&prefix, &literal));
    }
}
