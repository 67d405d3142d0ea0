//! Run agents, agent previews and telemetry over a real in-memory SQLite
//! store; also the template and run set-up the events and exclusions tests share.

use super::*;
use crate::inspector_backend::test_support::{Fixture, block_on, ctx, enroll, fixture, nightly};
use warden_store::prelude::*;
use warden_store::{Run, SqliteStore};

/// A target (optionally selecting by one tag) and a template of `packages` on it.
pub(in crate::inspector_backend) fn template(
    store: &SqliteStore,
    tag: Option<(&str, &str)>,
    packages: &[&str],
) -> warden_store::Template {
    let group = tag.map(|(k, v)| store.create_resource_group(&[Attribute::new(k, v)], 1).unwrap().id);
    let target = store.create_target(&format!("target-{}", warden_store::new_id()), group.as_deref(), &[], 1).unwrap();
    store.create_template(&nightly(&target.id, packages), 1).unwrap()
}

/// A run of `template` with `agents` assigned, and its ARN.
pub(in crate::inspector_backend) fn run_with_agents(
    f: &Fixture,
    template: &warden_store::Template,
    agents: &[&str],
) -> (Run, String) {
    let run = f.store.create_run(&template.id, None, 2).unwrap();
    let ids: Vec<String> = agents.iter().map(|a| a.to_string()).collect();
    f.store.assign_run_agents(&run.id, &ids, 2).unwrap();
    let arn = f.backend.run_arn(template, &run.id).unwrap();
    (run, arn)
}

fn list_request(arn: &str, filter: Option<AgentFilter>, max: Option<i32>) -> ListAssessmentRunAgentsRequest {
    ListAssessmentRunAgentsRequest { assessment_run_arn: arn.into(), filter, next_token: None, max_results: max }
}

#[test]
fn run_agents_carry_health_and_telemetry_and_filter() {
    let f = fixture();
    let now = crate::now_ms();
    enroll(&f.store, "i-0000000000000000a", &[("aws:autoscaling:groupName", "web-asg")], Some(now));
    enroll(&f.store, "i-0000000000000000b", &[], Some(now));
    enroll(&f.store, "i-0000000000000000c", &[], None);
    let tpl = template(&f.store, None, &["best-practices"]);
    let (run, arn) = run_with_agents(&f, &tpl, &["i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"]);
    f.store.put_telemetry(&run.id, "i-0000000000000000a", 1, "snapshot", r#"{"s":1}"#, 3).unwrap();
    f.store.put_telemetry(&run.id, "i-0000000000000000a", 2, "runtime", r#"{"r":1}"#, 3).unwrap();
    f.store.put_telemetry(&run.id, "i-0000000000000000a", 3, "runtime", r#"{"r":22}"#, 3).unwrap();
    f.store.put_telemetry(&run.id, "i-0000000000000000b", 1, "snapshot", r#"{"s":22}"#, 3).unwrap();
    f.store
        .set_run_agent_status(
            &run.id,
            "i-0000000000000000b",
            warden_store::RunAgentStatus::TimedOut,
            Some("no report for 120 s"),
        )
        .unwrap();

    block_on(async {
        let all = f.backend.list_assessment_run_agents(&ctx(), list_request(&arn, None, None)).await.unwrap();
        assert_eq!(all.assessment_run_agents.len(), 3);
        assert_eq!(all.next_token, None);
        let a = &all.assessment_run_agents[0];
        assert_eq!((a.agent_id.as_str(), a.assessment_run_arn.as_str()), ("i-0000000000000000a", arn.as_str()));
        assert_eq!((a.agent_health, a.agent_health_code), (AgentHealth::Healthy, AgentHealthCode::Idle));
        assert_eq!(a.auto_scaling_group.as_deref(), Some("web-asg"));
        let telemetry: Vec<(&str, i64, Option<i64>)> =
            a.telemetry_metadata.iter().map(|t| (t.message_type.as_str(), t.count, t.data_size)).collect();
        assert_eq!(telemetry, vec![("runtime", 2, Some(15)), ("snapshot", 1, Some(7))]);
        let b = &all.assessment_run_agents[1];
        assert_eq!((b.agent_health, b.agent_health_code), (AgentHealth::Unhealthy, AgentHealthCode::Unhealthy));
        assert_eq!(b.agent_health_details.as_deref(), Some("no report for 120 s"));
        let c = &all.assessment_run_agents[2];
        assert_eq!((c.agent_health, c.agent_health_code), (AgentHealth::Unknown, AgentHealthCode::Unknown));
        assert!(c.telemetry_metadata.is_empty());

        let healthy = AgentFilter { agent_healths: vec![AgentHealth::Healthy], agent_health_codes: vec![] };
        let only = f.backend.list_assessment_run_agents(&ctx(), list_request(&arn, Some(healthy), None)).await.unwrap();
        assert_eq!(
            only.assessment_run_agents.iter().map(|a| a.agent_id.as_str()).collect::<Vec<_>>(),
            ["i-0000000000000000a"]
        );
        let codes = AgentFilter {
            agent_healths: vec![AgentHealth::Unhealthy, AgentHealth::Unknown],
            agent_health_codes: vec![AgentHealthCode::Unknown],
        };
        let only = f.backend.list_assessment_run_agents(&ctx(), list_request(&arn, Some(codes), None)).await.unwrap();
        assert_eq!(
            only.assessment_run_agents.iter().map(|a| a.agent_id.as_str()).collect::<Vec<_>>(),
            ["i-0000000000000000c"]
        );

        let first = f.backend.list_assessment_run_agents(&ctx(), list_request(&arn, None, Some(2))).await.unwrap();
        assert_eq!(first.assessment_run_agents.len(), 2);
        let mut next = list_request(&arn, None, Some(2));
        next.next_token = first.next_token.clone();
        let second = f.backend.list_assessment_run_agents(&ctx(), next).await.unwrap();
        assert_eq!(second.assessment_run_agents[0].agent_id, "i-0000000000000000c");
        assert_eq!(second.next_token, None);

        let metadata = f
            .backend
            .get_telemetry_metadata(&ctx(), GetTelemetryMetadataRequest { assessment_run_arn: arn.clone() })
            .await
            .unwrap();
        let totals: Vec<(&str, i64, Option<i64>)> =
            metadata.telemetry_metadata.iter().map(|t| (t.message_type.as_str(), t.count, t.data_size)).collect();
        assert_eq!(totals, vec![("runtime", 2, Some(15)), ("snapshot", 2, Some(15))]);
    });
}

#[test]
fn run_arns_that_name_no_run_are_told_apart_from_malformed_ones() {
    let f = fixture();
    let tpl = template(&f.store, None, &["cve"]);
    let (_, arn) = run_with_agents(&f, &tpl, &[]);
    block_on(async {
        let other_account = arn.replace("123456789012", "210987654321");
        let other_template = {
            let (head, run) = arn.split_once("/run/").unwrap();
            format!("{}/template/0-zzzzzzzz/run/{run}", head.rsplit_once("/template/").unwrap().0)
        };
        let unknown_run = format!("{}0-zzzzzzzz", &arn[..arn.len() - 10]);
        for missing_arn in [other_account, other_template, unknown_run] {
            let e = f.backend.list_assessment_run_agents(&ctx(), list_request(&missing_arn, None, None)).await;
            assert!(
                matches!(
                    &e,
                    Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentRunDoesNotExist, .. })
                ),
                "{missing_arn}: {e:?}"
            );
            let e = f
                .backend
                .get_telemetry_metadata(&ctx(), GetTelemetryMetadataRequest { assessment_run_arn: missing_arn })
                .await;
            assert!(matches!(e, Err(ApiError::NoSuchEntity { .. })), "{e:?}");
        }
        let template_arn = f.backend.template_arn(&tpl).unwrap();
        let e = f.backend.list_assessment_run_agents(&ctx(), list_request(&template_arn, None, None)).await;
        assert!(
            matches!(e, Err(ApiError::InvalidInput { code: Some(InvalidInputErrorCode::InvalidAssessmentRunArn), .. })),
            "{e:?}"
        );
        let empty = f.backend.list_assessment_run_agents(&ctx(), list_request(&arn, None, None)).await.unwrap();
        assert!(empty.assessment_run_agents.is_empty() && empty.next_token.is_none());
    });
}

#[test]
fn preview_agents_lists_what_the_target_selects_now() {
    let f = fixture();
    let now = crate::now_ms();
    for i in 0..12 {
        enroll(&f.store, &format!("i-00000000000000{i:03}"), &[("role", "web")], Some(now));
    }
    enroll(&f.store, "i-0000000000000db01", &[("role", "db")], Some(now));
    enroll(&f.store, "i-00000000000000ret", &[("role", "web")], Some(now));
    f.store.retire_agent("i-00000000000000ret", now).unwrap();
    let tpl = template(&f.store, Some(("role", "web")), &["cve"]);
    let target_arn = f.backend.target_arn(&tpl.target_id).unwrap();
    block_on(async {
        let request = |token: Option<String>| PreviewAgentsRequest {
            preview_agents_arn: target_arn.clone(),
            next_token: token,
            max_results: None,
        };
        let first = f.backend.preview_agents(&ctx(), request(None)).await.unwrap();
        assert_eq!(first.agent_previews.len(), 10, "default page");
        let p = &first.agent_previews[0];
        assert_eq!(p.agent_id, "i-00000000000000000");
        assert_eq!(p.hostname.as_deref(), Some("host-i-00000000000000000"));
        assert_eq!(p.agent_health, Some(AgentHealth::Healthy));
        assert_eq!(p.agent_version.as_deref(), Some("0.9.0"));
        assert_eq!(p.operating_system.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(p.kernel_version.as_deref(), Some("6.1.0-18-amd64"));
        assert_eq!(p.ipv4_address.as_deref(), Some("10.0.0.5"));
        let second = f.backend.preview_agents(&ctx(), request(first.next_token.clone())).await.unwrap();
        let ids: Vec<&str> = second.agent_previews.iter().map(|p| p.agent_id.as_str()).collect();
        assert_eq!(ids, ["i-00000000000000010", "i-00000000000000011"], "neither the db host nor the retired one");
        assert_eq!(second.next_token, None);

        let unknown = target_arn.replace(&tpl.target_id, "0-zzzzzzzz");
        let e = f
            .backend
            .preview_agents(
                &ctx(),
                PreviewAgentsRequest { preview_agents_arn: unknown, next_token: None, max_results: None },
            )
            .await;
        assert!(
            matches!(e, Err(ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTargetDoesNotExist, .. })),
            "{e:?}"
        );
    });
}
