//! Inspector's per-account limits (`LimitExceededException`) over a real
//! SQLite fleet store configured with small limits: each limit refuses the
//! one create too many with its documented `errorCode` in the exact wire
//! JSON, makes room again when something is deleted or ends, and holds
//! under concurrent creates from two connections to one database file.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::inspector_backend::templates::tests::{new_target, new_template};
use crate::inspector_backend::test_support::{CVE_US_WEST_2, block_on, ctx, enroll};
use warden_inspector::events::{Events, TopicMap};
use warden_store::prelude::*;
use warden_store::{LimitKind, Limits, SqliteStore};

/// Limits small enough to reach in a test.
const SMALL: Limits = Limits { targets: 2, templates: 2, runs: 2, agents_in_runs: 3, resource_groups: 1 };

fn store_with(limits: Limits) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open_in_memory().unwrap().with_limits(limits))
}

fn backend_over(store: Arc<SqliteStore>) -> StoreBackend {
    StoreBackend::new(store, ArnContext::new("us-west-2", "123456789012"), b"test paging secret")
}

/// Asserts the wire form of a `LimitExceededException` with `code`, its
/// message naming what is limited and the flag that sets it.
fn assert_limit(e: &ApiError, code: &str, noun: &str, flag: &str) {
    assert_eq!(e.status(), 400, "{e:?}");
    let body = e.body();
    assert_eq!(body["__type"], "com.amazonaws.inspector#LimitExceededException", "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["canRetry"], false, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(noun) && message.contains(flag), "{message}");
}

async fn target_named(b: &StoreBackend, name: &str) -> Result<String, ApiError> {
    b.create_assessment_target(
        &ctx(),
        CreateAssessmentTargetRequest { assessment_target_name: name.into(), resource_group_arn: None },
    )
    .await
    .map(|r| r.assessment_target_arn)
}

async fn start(b: &StoreBackend, template: &str) -> Result<String, ApiError> {
    b.start_assessment_run(
        &ctx(),
        StartAssessmentRunRequest { assessment_template_arn: template.into(), assessment_run_name: None },
    )
    .await
    .map(|r| r.assessment_run_arn)
}

async fn tagged_group(b: &StoreBackend, value: &str) -> Result<String, ApiError> {
    b.create_resource_group(
        &ctx(),
        CreateResourceGroupRequest {
            resource_group_tags: vec![ResourceGroupTag { key: "role".into(), value: Some(value.into()) }],
        },
    )
    .await
    .map(|r| r.resource_group_arn)
}

#[test]
fn the_target_limit_refuses_the_one_too_many_until_one_is_deleted() {
    let b = backend_over(store_with(SMALL));
    block_on(async {
        target_named(&b, "a").await.unwrap();
        let second = target_named(&b, "b").await.unwrap();
        let e = target_named(&b, "c").await.unwrap_err();
        assert_limit(&e, "ASSESSMENT_TARGET_LIMIT_EXCEEDED", "2 assessment targets", "--limit-targets");
        b.delete_assessment_target(&ctx(), DeleteAssessmentTargetRequest { assessment_target_arn: second })
            .await
            .unwrap();
        target_named(&b, "c").await.expect("room again after a delete");
    });
}

#[test]
fn the_template_limit_counts_templates_of_every_target() {
    let b = backend_over(store_with(SMALL));
    block_on(async {
        let (one, two) = (new_target(&b, "one").await, new_target(&b, "two").await);
        new_template(&b, &one, "t1", &[CVE_US_WEST_2]).await;
        new_template(&b, &two, "t2", &[CVE_US_WEST_2]).await;
        let e = b
            .create_assessment_template(
                &ctx(),
                CreateAssessmentTemplateRequest {
                    assessment_target_arn: two,
                    assessment_template_name: "t3".into(),
                    duration_in_seconds: 3600,
                    rules_package_arns: vec![CVE_US_WEST_2.into()],
                    user_attributes_for_findings: None,
                },
            )
            .await
            .unwrap_err();
        assert_limit(&e, "ASSESSMENT_TEMPLATE_LIMIT_EXCEEDED", "2 assessment templates", "--limit-templates");
    });
}

#[test]
fn the_run_limit_counts_existing_runs_ended_or_not() {
    let store = store_with(SMALL);
    let b = backend_over(store.clone());
    block_on(async {
        let target = new_target(&b, "web").await;
        let template = new_template(&b, &target, "nightly", &[CVE_US_WEST_2]).await;
        let first = start(&b, &template).await.unwrap();
        start(&b, &template).await.unwrap();
        // An ended run still exists, so it still counts.
        b.stop_assessment_run(
            &ctx(),
            StopAssessmentRunRequest {
                assessment_run_arn: first.clone(),
                stop_action: Some(StopAction::SkipEvaluation),
            },
        )
        .await
        .unwrap();
        let e = start(&b, &template).await.unwrap_err();
        assert_limit(&e, "ASSESSMENT_RUN_LIMIT_EXCEEDED", "2 assessment runs", "--limit-runs");
        b.delete_assessment_run(&ctx(), DeleteAssessmentRunRequest { assessment_run_arn: first }).await.unwrap();
        start(&b, &template).await.expect("room again after deleting a run");
    });
}

#[test]
fn the_agents_in_runs_limit_counts_distinct_agents_of_runs_that_have_not_ended() {
    // Two agents per role: a run on role a holds 2 agents; one on role b would bring 4 > 3.
    let store = store_with(Limits { runs: 100, resource_groups: 10, ..SMALL });
    for (agent, role) in [("i-a1", "a"), ("i-a2", "a"), ("i-b1", "b"), ("i-b2", "b")] {
        enroll(&store, agent, &[("role", role)], None);
    }
    let b = backend_over(store.clone());
    block_on(async {
        let mut templates = Vec::new();
        for role in ["a", "b"] {
            let group = tagged_group(&b, role).await.unwrap();
            let target = b
                .create_assessment_target(
                    &ctx(),
                    CreateAssessmentTargetRequest {
                        assessment_target_name: format!("role-{role}"),
                        resource_group_arn: Some(group),
                    },
                )
                .await
                .unwrap()
                .assessment_target_arn;
            templates.push(new_template(&b, &target, "nightly", &[CVE_US_WEST_2]).await);
        }
        let run_a = start(&b, &templates[0]).await.unwrap();
        let e = start(&b, &templates[1]).await.unwrap_err();
        assert_limit(&e, "ASSESSMENT_RUN_LIMIT_EXCEEDED", "3 agents in running assessments", "--limit-agents-in-runs");
        assert_eq!(store.list_runs(None).unwrap().len(), 1, "the refused start made no run");
        // Once run a has ended its agents no longer count.
        b.stop_assessment_run(
            &ctx(),
            StopAssessmentRunRequest { assessment_run_arn: run_a, stop_action: Some(StopAction::SkipEvaluation) },
        )
        .await
        .unwrap();
        start(&b, &templates[1]).await.expect("room again once the other run ended");
    });
}

#[test]
fn the_resource_group_limit_refuses_the_one_too_many() {
    let b = backend_over(store_with(SMALL));
    block_on(async {
        tagged_group(&b, "web").await.unwrap();
        let e = tagged_group(&b, "db").await.unwrap_err();
        assert_limit(&e, "RESOURCE_GROUP_LIMIT_EXCEEDED", "1 resource groups", "--limit-resource-groups");
    });
}

#[test]
fn the_subscription_limit_refuses_new_subscriptions_but_not_repeated_ones() {
    const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:inspector-events";
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("topics.toml");
    std::fs::write(
        &map,
        format!("[[topic]]\narn = \"{TOPIC}\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&map, std::fs::Permissions::from_mode(0o600)).unwrap();
    let events = Events::open(&dir.path().join("events.db"), TopicMap::load(&map).unwrap()).unwrap();
    let b = backend_over(store_with(SMALL)).with_events(Arc::new(events.with_subscription_limit(1)));
    let subscribe = |template: &str, event| SubscribeToEventRequest {
        resource_arn: template.to_string(),
        event,
        topic_arn: TOPIC.into(),
    };
    block_on(async {
        let target = new_target(&b, "web").await;
        let template = new_template(&b, &target, "nightly", &[CVE_US_WEST_2]).await;
        b.subscribe_to_event(&ctx(), subscribe(&template, InspectorEvent::AssessmentRunCompleted)).await.unwrap();
        b.subscribe_to_event(&ctx(), subscribe(&template, InspectorEvent::AssessmentRunCompleted))
            .await
            .expect("subscribing again to what is subscribed adds nothing, so it is never refused");
        let e = b.subscribe_to_event(&ctx(), subscribe(&template, InspectorEvent::FindingReported)).await.unwrap_err();
        assert_limit(&e, "EVENT_SUBSCRIPTION_LIMIT_EXCEEDED", "1 event subscriptions", "--limit-subscriptions");
    });
}

/// Sixteen threads create targets at once through two connections to one
/// database file (two `SqliteStore`s, as two server processes would have):
/// exactly the limit succeed, every other create is refused with the limit,
/// and the database never holds more.
#[test]
fn concurrent_creates_never_go_over_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warden.db");
    let limits = Limits { targets: 5, ..Limits::default() };
    let stores: Vec<Arc<SqliteStore>> =
        (0..2).map(|_| Arc::new(SqliteStore::open(&db).unwrap().with_limits(limits))).collect();
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let outcomes: Vec<Result<String, ApiError>> = (0..16)
        .map(|i| {
            let (b, barrier) = (backend_over(stores[i % 2].clone()), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                block_on(target_named(&b, &format!("target-{i}")))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(created, 5, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_limit(refused, "ASSESSMENT_TARGET_LIMIT_EXCEEDED", "5 assessment targets", "--limit-targets");
    }
    assert_eq!(stores[0].list_targets().unwrap().len(), 5);
    assert_eq!(stores[0].limits().of(LimitKind::Targets), 5);
}
