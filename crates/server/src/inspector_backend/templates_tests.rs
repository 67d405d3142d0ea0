//! Assessment templates and their tags over a real in-memory SQLite store,
//! plus the template helpers the runs tests share.

use super::*;
use crate::inspector_backend::test_support::{CIS_US_WEST_2, CVE_US_EAST_1, CVE_US_WEST_2, backend, block_on, ctx};

pub(crate) async fn new_target(b: &StoreBackend, name: &str) -> String {
    b.create_assessment_target(
        &ctx(),
        CreateAssessmentTargetRequest { assessment_target_name: name.into(), resource_group_arn: None },
    )
    .await
    .unwrap()
    .assessment_target_arn
}

pub(crate) fn template_request(
    target: &str,
    name: &str,
    duration: i32,
    packages: &[&str],
) -> CreateAssessmentTemplateRequest {
    CreateAssessmentTemplateRequest {
        assessment_target_arn: target.into(),
        assessment_template_name: name.into(),
        duration_in_seconds: duration,
        rules_package_arns: packages.iter().map(|p| p.to_string()).collect(),
        user_attributes_for_findings: None,
    }
}

pub(crate) async fn new_template(b: &StoreBackend, target: &str, name: &str, packages: &[&str]) -> String {
    b.create_assessment_template(&ctx(), template_request(target, name, 3600, packages))
        .await
        .unwrap()
        .assessment_template_arn
}

pub(crate) async fn describe_template(b: &StoreBackend, arn: &str) -> AssessmentTemplate {
    let mut out = b
        .describe_assessment_templates(
            &ctx(),
            DescribeAssessmentTemplatesRequest { assessment_template_arns: vec![arn.to_string()] },
        )
        .await
        .unwrap();
    assert!(out.failed_items.is_empty(), "{:?}", out.failed_items);
    out.assessment_templates.remove(0)
}

fn invalid_code(e: &ApiError) -> Option<InvalidInputErrorCode> {
    match e {
        ApiError::InvalidInput { code, .. } => *code,
        _ => None,
    }
}

fn missing_code(e: &ApiError) -> Option<NoSuchEntityErrorCode> {
    match e {
        ApiError::NoSuchEntity { code, .. } => Some(*code),
        _ => None,
    }
}

#[test]
fn create_and_describe_keep_what_was_given() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let mut request = template_request(&target, "weekly", 3600, &[CVE_US_EAST_1, CIS_US_WEST_2, CVE_US_WEST_2]);
        request.user_attributes_for_findings =
            Some(vec![warden_inspector::types::Attribute { key: "team".into(), value: Some("blue".into()) }]);
        let arn = b.create_assessment_template(&ctx(), request).await.unwrap().assessment_template_arn;
        assert!(arn.starts_with(&format!("{target}/template/0-")), "{arn}");

        let t = describe_template(&b, &arn).await;
        assert_eq!(t.arn, arn);
        assert_eq!(t.name, "weekly");
        assert_eq!(t.assessment_target_arn, target);
        assert_eq!(t.duration_in_seconds, 3600);
        assert_eq!(t.rules_package_arns, vec![CVE_US_EAST_1, CIS_US_WEST_2, CVE_US_WEST_2], "ARNs as given");
        assert_eq!(t.user_attributes_for_findings[0].value.as_deref(), Some("blue"));
        assert_eq!(t.assessment_run_count, 0);
        assert_eq!(t.last_assessment_run_arn, None);
        assert!(t.created_at.0 > 1.7e9, "epoch seconds, not milliseconds: {}", t.created_at.0);
        let store_id = b.template_id(&arn).unwrap();
        let stored = b.store.get_template(&store_id).unwrap();
        assert_eq!(stored.packages, vec!["cve", "cis"], "two CVE ARNs are one package");

        // The JSON members are Inspector's.
        let wire = serde_json::to_value(&t).unwrap();
        for member in ["arn", "assessmentTargetArn", "durationInSeconds", "rulesPackageArns", "assessmentRunCount"] {
            assert!(wire.get(member).is_some(), "{member} in {wire}");
        }
    });
}

#[test]
fn create_refuses_with_the_documented_errors() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        new_template(&b, &target, "t", &[CVE_US_WEST_2]).await;
        let err =
            |r: CreateAssessmentTemplateRequest| async { b.create_assessment_template(&ctx(), r).await.unwrap_err() };

        let taken = err(template_request(&target, "t", 3600, &[CVE_US_WEST_2])).await;
        assert_eq!(invalid_code(&taken), Some(InvalidInputErrorCode::AssessmentTemplateNameAlreadyTaken), "{taken:?}");
        // The same name under another target is fine: names are unique per target.
        let other = new_target(&b, "db").await;
        new_template(&b, &other, "t", &[CVE_US_WEST_2]).await;

        let no_target = target.replace(&target[target.len() - 8..], "ZZZZZZZZ");
        let e = err(template_request(&no_target, "x", 3600, &[CVE_US_WEST_2])).await;
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTargetDoesNotExist), "{e:?}");
        let foreign = target.replace("123456789012", "999999999999");
        let e = err(template_request(&foreign, "x", 3600, &[CVE_US_WEST_2])).await;
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTargetDoesNotExist), "{e:?}");

        let unknown_package = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-AAAAAAAA";
        let e = err(template_request(&target, "x", 3600, &[unknown_package])).await;
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::RulesPackageDoesNotExist), "{e:?}");
        let e = err(template_request(&target, "x", 3600, &[&target])).await;
        assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidRulesPackageArn), "{e:?}");

        let e = err(template_request(&target, "x", 179, &[CVE_US_WEST_2])).await;
        assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidAssessmentTemplateDuration), "{e:?}");
        assert!(e.message().contains("durationInSeconds"), "{e:?}");

        let mut twice = template_request(&target, "x", 3600, &[CVE_US_WEST_2]);
        let attribute = warden_inspector::types::Attribute { key: "k".into(), value: Some("v".into()) };
        twice.user_attributes_for_findings = Some(vec![attribute.clone(), attribute]);
        let e = err(twice).await;
        assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidUserAttributeKey), "{e:?}");
    });
}

#[test]
fn describe_reports_failed_items() {
    let b = backend();
    block_on(async {
        let web = new_target(&b, "web").await;
        let db = new_target(&b, "db").await;
        let arn = new_template(&b, &web, "t", &[CVE_US_WEST_2]).await;
        let template_part = &arn[arn.find("/template/").unwrap()..];
        let under_other_target = format!("{db}{template_part}");
        let unknown = arn.replace(&arn[arn.len() - 8..], "ZZZZZZZZ");
        let foreign = arn.replace("123456789012", "999999999999");
        let out = b
            .describe_assessment_templates(
                &ctx(),
                DescribeAssessmentTemplatesRequest {
                    assessment_template_arns: vec![
                        arn.clone(),
                        arn.clone(),
                        unknown.clone(),
                        foreign.clone(),
                        under_other_target.clone(),
                        web.clone(),
                    ],
                },
            )
            .await
            .unwrap();
        assert_eq!(out.assessment_templates.len(), 1);
        let code = |a: &str| out.failed_items[a].failure_code;
        assert_eq!(code(&arn), FailedItemErrorCode::DuplicateArn);
        assert_eq!(code(&unknown), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&foreign), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&under_other_target), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&web), FailedItemErrorCode::InvalidArn);
    });
}

#[test]
fn list_filters_by_target_name_duration_and_package_and_pages() {
    let b = backend();
    block_on(async {
        let web = new_target(&b, "web").await;
        let db = new_target(&b, "db").await;
        for i in 0..110 {
            let duration = if i % 2 == 0 { 600 } else { 7200 };
            let packages: &[&str] = if i % 5 == 0 { &[CIS_US_WEST_2] } else { &[CVE_US_WEST_2] };
            b.create_assessment_template(&ctx(), template_request(&web, &format!("web-{i:03}"), duration, packages))
                .await
                .unwrap();
        }
        new_template(&b, &db, "db-only", &[CVE_US_WEST_2]).await;

        let list = |targets: Option<Vec<String>>, filter: Option<AssessmentTemplateFilter>| {
            let b = &b;
            async move {
                let mut all = Vec::new();
                let mut token = None;
                loop {
                    let page = b
                        .list_assessment_templates(
                            &ctx(),
                            ListAssessmentTemplatesRequest {
                                assessment_target_arns: targets.clone(),
                                filter: filter.clone(),
                                next_token: token,
                                max_results: Some(1000),
                            },
                        )
                        .await
                        .unwrap();
                    assert!(page.assessment_template_arns.len() <= 100);
                    all.extend(page.assessment_template_arns);
                    token = page.next_token;
                    if token.is_none() {
                        return all;
                    }
                }
            }
        };
        let no_filter = AssessmentTemplateFilter { name_pattern: None, duration_range: None, rules_package_arns: None };
        let everything = list(None, None).await;
        assert_eq!(everything.len(), 111);
        let mut unique = everything.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 111, "pages overlap");
        assert_eq!(list(Some(vec![db.clone()]), None).await.len(), 1);
        let pattern = AssessmentTemplateFilter { name_pattern: Some("web-1*".into()), ..no_filter.clone() };
        assert_eq!(list(None, Some(pattern)).await.len(), 10);
        let long = AssessmentTemplateFilter {
            duration_range: Some(DurationRange { min_seconds: Some(3600), max_seconds: None }),
            ..no_filter.clone()
        };
        assert_eq!(list(Some(vec![web.clone()]), Some(long)).await.len(), 55);
        // CIS by its us-east-1 ARN matches templates made with the us-west-2 one: same package.
        let cis = AssessmentTemplateFilter {
            rules_package_arns: Some(vec!["arn:aws:inspector:us-east-1:316112463485:rulespackage/0-rExsr2X8".into()]),
            ..no_filter.clone()
        };
        assert_eq!(list(None, Some(cis)).await.len(), 22);

        let missing = web.replace(&web[web.len() - 8..], "ZZZZZZZZ");
        let e = b
            .list_assessment_templates(
                &ctx(),
                ListAssessmentTemplatesRequest {
                    assessment_target_arns: Some(vec![missing]),
                    filter: None,
                    next_token: None,
                    max_results: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTargetDoesNotExist), "{e:?}");
    });
}

#[test]
fn tags_are_set_whole_listed_and_only_on_templates() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let arn = new_template(&b, &target, "t", &[CVE_US_WEST_2]).await;
        let tag = |k: &str, v: Option<&str>| Tag { key: k.into(), value: v.map(str::to_string) };
        let list = |resource: &str| {
            let request = ListTagsForResourceRequest { resource_arn: resource.to_string() };
            let b = &b;
            async move { b.list_tags_for_resource(&ctx(), request).await }
        };
        let set = |resource: &str, tags: Option<Vec<Tag>>| {
            let request = SetTagsForResourceRequest { resource_arn: resource.to_string(), tags };
            let b = &b;
            async move { b.set_tags_for_resource(&ctx(), request).await }
        };
        assert_eq!(list(&arn).await.unwrap().tags, vec![]);
        set(&arn, Some(vec![tag("env", Some("prod")), tag("owner", None)])).await.unwrap();
        assert_eq!(list(&arn).await.unwrap().tags, vec![tag("env", Some("prod")), tag("owner", None)]);
        set(&arn, Some(vec![tag("tier", Some("1"))])).await.unwrap();
        assert_eq!(list(&arn).await.unwrap().tags, vec![tag("tier", Some("1"))], "replaced whole");
        set(&arn, None).await.unwrap();
        assert_eq!(list(&arn).await.unwrap().tags, vec![], "no tags member clears them");

        let eleven: Vec<Tag> = (0..11).map(|i| tag(&format!("k{i}"), None)).collect();
        let e = set(&arn, Some(eleven)).await.unwrap_err();
        assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidNumberOfTags), "{e:?}");
        let e = set(&arn, Some(vec![tag("k", Some("1")), tag("k", Some("2"))])).await.unwrap_err();
        assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidTagKey), "{e:?}");
        assert_eq!(list(&arn).await.unwrap().tags, vec![], "a refused set changes nothing");

        for not_a_template in [target.as_str(), "not an arn"] {
            let e = list(not_a_template).await.unwrap_err();
            assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidResourceArn), "{e:?}");
            let e = set(not_a_template, None).await.unwrap_err();
            assert_eq!(invalid_code(&e), Some(InvalidInputErrorCode::InvalidResourceArn), "{e:?}");
        }
        let unknown = arn.replace(&arn[arn.len() - 8..], "ZZZZZZZZ");
        let e = list(&unknown).await.unwrap_err();
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist), "{e:?}");
    });
}

#[test]
fn delete_refuses_while_a_run_is_active_then_cascades() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let arn = new_template(&b, &target, "t", &[CVE_US_WEST_2]).await;
        b.set_tags_for_resource(
            &ctx(),
            SetTagsForResourceRequest {
                resource_arn: arn.clone(),
                tags: Some(vec![Tag { key: "k".into(), value: None }]),
            },
        )
        .await
        .unwrap();
        let run = b
            .start_assessment_run(
                &ctx(),
                StartAssessmentRunRequest { assessment_template_arn: arn.clone(), assessment_run_name: None },
            )
            .await
            .unwrap()
            .assessment_run_arn;
        let c = ctx();
        let delete = || {
            b.delete_assessment_template(&c, DeleteAssessmentTemplateRequest { assessment_template_arn: arn.clone() })
        };
        let e = delete().await.unwrap_err();
        match &e {
            ApiError::AssessmentRunInProgress { assessment_run_arns, truncated, .. } => {
                assert_eq!(assessment_run_arns, &vec![run.clone()]);
                assert!(!truncated);
            }
            other => panic!("{other:?}"),
        }
        b.stop_assessment_run(
            &ctx(),
            StopAssessmentRunRequest { assessment_run_arn: run.clone(), stop_action: Some(StopAction::SkipEvaluation) },
        )
        .await
        .unwrap();
        delete().await.unwrap();

        let gone = b
            .describe_assessment_runs(&ctx(), DescribeAssessmentRunsRequest { assessment_run_arns: vec![run.clone()] })
            .await
            .unwrap();
        assert_eq!(gone.failed_items[&run].failure_code, FailedItemErrorCode::ItemDoesNotExist, "runs cascade");
        let e = b
            .list_tags_for_resource(&ctx(), ListTagsForResourceRequest { resource_arn: arn.clone() })
            .await
            .unwrap_err();
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist), "{e:?}");
        let e = delete().await.unwrap_err();
        assert_eq!(missing_code(&e), Some(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist), "{e:?}");
    });
}
