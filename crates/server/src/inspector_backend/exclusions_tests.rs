//! Exclusions and exclusions previews over a real in-memory SQLite store.

use super::*;
use crate::evaluate::{PackageResult, evaluate_agent};
use crate::inspector_backend::agents::tests::{run_with_agents, template};
use crate::inspector_backend::test_support::{Fixture, backend_over, block_on, ctx, enroll, fixture};
use warden_store::prelude::*;

fn exclusion(run_id: &str, agent: &str, package: &str, kind: ExclusionKind) -> StoredExclusion {
    StoredExclusion {
        run_id: run_id.into(),
        agent_id: agent.into(),
        package: package.into(),
        reason: format!("{} on {agent}", kind.code()),
        created_at: 5,
        kind: kind.code().into(),
    }
}

fn get_request(template_arn: &str, token: &str, next: Option<String>) -> GetExclusionsPreviewRequest {
    GetExclusionsPreviewRequest {
        assessment_template_arn: template_arn.into(),
        preview_token: token.into(),
        next_token: next,
        max_results: None,
        locale: None,
    }
}

async fn create_preview(f: &Fixture, template_arn: &str) -> String {
    let request = CreateExclusionsPreviewRequest { assessment_template_arn: template_arn.into() };
    f.backend.create_exclusions_preview(&ctx(), request).await.unwrap().preview_token
}

/// Polls until the preview is computed (the worker runs on a blocking thread);
/// bounded so that a preview that never completes fails the test instead of hanging it.
async fn completed(f: &Fixture, template_arn: &str, token: &str) -> GetExclusionsPreviewResponse {
    for _ in 0..3000 {
        let got = f.backend.get_exclusions_preview(&ctx(), get_request(template_arn, token, None)).await.unwrap();
        if got.preview_status == PreviewStatus::Completed {
            return got;
        }
        assert!(got.exclusion_previews.is_none(), "no items while in progress");
        tokio::task::yield_now().await;
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the exclusions preview {token} never completed");
}

#[test]
fn list_and_describe_run_exclusions() {
    let f = fixture();
    let tpl = template(&f.store, None, &["cve"]);
    let (run, run_arn) = run_with_agents(&f, &tpl, &[]);
    for i in 0..150 {
        let agent = format!("i-{i:017}");
        f.store.add_exclusion(&exclusion(&run.id, &agent, "cve", ExclusionKind::NoVulnerabilityDatabase)).unwrap();
    }
    block_on(async {
        let request = |next: Option<String>| ListExclusionsRequest {
            assessment_run_arn: run_arn.clone(),
            next_token: next,
            max_results: None,
        };
        let first = f.backend.list_exclusions(&ctx(), request(None)).await.unwrap();
        assert_eq!(first.exclusion_arns.len(), 100, "default and most per page");
        let second = f.backend.list_exclusions(&ctx(), request(first.next_token.clone())).await.unwrap();
        assert_eq!(second.exclusion_arns.len(), 50);
        assert_eq!(second.next_token, None);
        let mut all: Vec<String> = first.exclusion_arns.iter().chain(&second.exclusion_arns).cloned().collect();
        assert!(all.iter().all(|a| a.starts_with(&format!("{run_arn}/exclusion/0-"))), "{}", all[0]);
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "every exclusion once across pages");

        let known = all[0].clone();
        let unknown = format!("{run_arn}/exclusion/0-zzzzzzzz");
        let other_account = known.replace("123456789012", "210987654321");
        let described = f
            .backend
            .describe_exclusions(
                &ctx(),
                DescribeExclusionsRequest {
                    exclusion_arns: vec![
                        known.clone(),
                        known.clone(),
                        unknown.clone(),
                        other_account.clone(),
                        "arn:aws:inspector:us-west-2:123456789012:target/0-aaaaaaaa".into(),
                    ],
                    locale: None,
                },
            )
            .await
            .unwrap();
        let e = &described.exclusions[&known];
        assert_eq!(e.arn, known);
        assert_eq!(e.title, "No vulnerability database loaded");
        assert!(e.recommendation.contains("--vulndb"), "{}", e.recommendation);
        assert!(e.description.contains("Common Vulnerabilities") || e.description.contains("cve"), "{}", e.description);
        assert_eq!(e.scopes[0].key, Some(ScopeType::InstanceId));
        assert!(e.scopes[0].value.as_deref().unwrap().starts_with("i-"));
        assert_eq!(e.scopes[1].key, Some(ScopeType::RulesPackageArn));
        assert!(e.scopes[1].value.as_deref().unwrap().contains(":rulespackage/0-"), "{:?}", e.scopes[1]);
        let codes: BTreeMap<&str, FailedItemErrorCode> =
            described.failed_items.iter().map(|(k, v)| (k.as_str(), v.failure_code)).collect();
        assert_eq!(codes.len(), 4, "{codes:?}");
        assert_eq!(codes[known.as_str()], FailedItemErrorCode::DuplicateArn);
        assert_eq!(codes[unknown.as_str()], FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(codes[other_account.as_str()], FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(
            codes["arn:aws:inspector:us-west-2:123456789012:target/0-aaaaaaaa"],
            FailedItemErrorCode::InvalidArn
        );

        let missing = format!("{}0-zzzzzzzz", &run_arn[..run_arn.len() - 10]);
        let e = f
            .backend
            .list_exclusions(
                &ctx(),
                ListExclusionsRequest { assessment_run_arn: missing, next_token: None, max_results: None },
            )
            .await;
        assert!(
            matches!(e, Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentRunDoesNotExist, .. })),
            "{e:?}"
        );
    });
}

#[test]
fn a_preview_excludes_what_a_run_would_and_says_why() {
    let f = fixture();
    let now = crate::now_ms();
    let packages = ["best-practices", "cve", "cis", warden_netreach::findings::PACKAGE_ID];
    enroll(&f.store, "i-0000000000000000a", &[("role", "web")], Some(now));
    enroll(&f.store, "i-0000000000000000b", &[("role", "web")], None);
    enroll(&f.store, "i-0000000000000000c", &[("role", "web")], Some(now));
    // Agent a sent a real Debian snapshot in an earlier run; c never sent one.
    let earlier = template(&f.store, None, &["best-practices"]);
    let (old_run, _) = run_with_agents(&f, &earlier, &["i-0000000000000000a"]);
    let snapshot = crate::evaluate::tests::fixture("debian12-old-packages");
    f.store
        .put_telemetry(&old_run.id, "i-0000000000000000a", 1, "snapshot", &serde_json::to_string(&snapshot).unwrap(), 3)
        .unwrap();
    let tpl = template(&f.store, Some(("role", "web")), &packages);
    let template_arn = f.backend.template_arn(&tpl).unwrap();

    block_on(async {
        let token = create_preview(&f, &template_arn).await;
        assert_eq!(token.len(), 36);
        assert_eq!(&token[14..15], "4", "a version 4 UUID: {token}");
        let done = completed(&f, &template_arn, &token).await;
        let previews = done.exclusion_previews.unwrap();
        let found: Vec<(String, String, String)> = previews
            .iter()
            .map(|p| {
                let attr = |k: &str| {
                    p.attributes.as_ref().unwrap().iter().find(|a| a.key == k).unwrap().value.clone().unwrap()
                };
                (p.scopes[0].value.clone().unwrap(), attr("RULES_PACKAGE"), attr("EXCLUSION_KIND"))
            })
            .collect();
        let expect = |agent: &str, package: &str, kind: ExclusionKind| {
            (agent.to_string(), package.to_string(), kind.code().to_string())
        };
        let netreach = warden_netreach::findings::PACKAGE_ID;
        assert_eq!(
            found,
            vec![
                expect("i-0000000000000000a", "cve", ExclusionKind::NoVulnerabilityDatabase),
                expect("i-0000000000000000a", netreach, ExclusionKind::NoNetworkData),
                // Never heard from: every package.
                expect("i-0000000000000000b", "best-practices", ExclusionKind::AgentUnhealthy),
                expect("i-0000000000000000b", "cve", ExclusionKind::AgentUnhealthy),
                expect("i-0000000000000000b", "cis", ExclusionKind::AgentUnhealthy),
                expect("i-0000000000000000b", netreach, ExclusionKind::AgentUnhealthy),
                // No snapshot yet: only what the server lacks.
                expect("i-0000000000000000c", "cve", ExclusionKind::NoVulnerabilityDatabase),
                expect("i-0000000000000000c", netreach, ExclusionKind::NoNetworkData),
            ]
        );
        assert_eq!(previews[2].title, "Agent is not healthy");
        assert!(previews[2].description.contains("UNKNOWN"), "{}", previews[2].description);

        // The same decision evaluation makes for the same snapshot.
        let owned: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
        let evaluated = evaluate_agent(
            &snapshot,
            &[],
            crate::evaluate::AgentIdentity::default(),
            &owned,
            &crate::evaluate::EvaluationContext::default(),
        );
        let excluded: Vec<(String, String)> = evaluated
            .iter()
            .filter_map(|(p, r)| match r {
                PackageResult::NotEvaluated(b) if b.kind != ExclusionKind::RulesNotEvaluable => {
                    Some((p.clone(), b.kind.code().to_string()))
                }
                _ => None,
            })
            .collect();
        let previewed: Vec<(String, String)> = found[..2].iter().map(|(_, p, k)| (p.clone(), k.clone())).collect();
        assert_eq!(excluded, previewed);

        let other = template(&f.store, None, &["cve"]);
        let other_arn = f.backend.template_arn(&other).unwrap();
        for (arn, token) in
            [(template_arn.as_str(), "3b2a1f50-0a0b-4c1d-8e2f-000000000000"), (other_arn.as_str(), token.as_str())]
        {
            let e = f.backend.get_exclusions_preview(&ctx(), get_request(arn, token, None)).await;
            assert!(
                matches!(
                    &e,
                    Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, .. })
                ),
                "{e:?}"
            );
        }
    });

    // With a vulnerability database configured, the CVE package is not excluded for a host with an inventory.
    let f = Fixture {
        store: f.store.clone(),
        backend: backend_over(f.store.clone()).with_fleet_settings(FleetSettings {
            vulndb: Some("/var/lib/warden/vuln.db".into()),
            heartbeat_seconds: 30,
            aws: None,
        }),
    };
    block_on(async {
        let token = create_preview(&f, &template_arn).await;
        let previews = completed(&f, &template_arn, &token).await.exclusion_previews.unwrap();
        assert!(
            !previews.iter().any(|p| p.scopes[0].value.as_deref() == Some("i-0000000000000000a")
                && p.title == ExclusionKind::NoVulnerabilityDatabase.title()),
            "{previews:?}"
        );
        assert_eq!(previews.len(), 6, "a: network; b: four; c: network");
    });
}

#[test]
fn previews_page_refuse_a_second_generation_and_resume_after_a_restart() {
    let f = fixture();
    for i in 0..60 {
        enroll(&f.store, &format!("i-{i:017}"), &[], None);
    }
    let tpl = template(&f.store, None, &["best-practices", "cve", "cis"]);
    let template_arn = f.backend.template_arn(&tpl).unwrap();
    block_on(async {
        // A generation of this template in flight: a second one is refused.
        in_flight().insert("in-flight-token".into(), tpl.id.clone());
        let e = f
            .backend
            .create_exclusions_preview(
                &ctx(),
                CreateExclusionsPreviewRequest { assessment_template_arn: template_arn.clone() },
            )
            .await;
        assert!(matches!(e, Err(ApiError::PreviewGenerationInProgress { .. })), "{e:?}");
        in_flight().remove("in-flight-token");

        // A preview left WORK_IN_PROGRESS by a restart (no worker in this process) is computed by the next Get.
        let token = "0b0c0d0e-0000-4000-8000-000000000001";
        f.store.create_exclusion_preview(token, &tpl.id, 1).unwrap();
        let done = completed(&f, &template_arn, token).await;
        assert_eq!(done.exclusion_previews.as_ref().unwrap().len(), 100, "default page");
        let next = done.next_token.clone().expect("180 items: more pages");
        let second =
            f.backend.get_exclusions_preview(&ctx(), get_request(&template_arn, token, Some(next))).await.unwrap();
        assert_eq!(second.exclusion_previews.unwrap().len(), 80);
        assert_eq!(second.next_token, None);

        let unknown_template = template_arn.replace(&tpl.id, "0-zzzzzzzz");
        let e = f
            .backend
            .create_exclusions_preview(
                &ctx(),
                CreateExclusionsPreviewRequest { assessment_template_arn: unknown_template },
            )
            .await;
        assert!(
            matches!(
                e,
                Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, .. })
            ),
            "{e:?}"
        );
    });
}
