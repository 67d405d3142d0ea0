//! Assessment runs over a real in-memory SQLite store; the lifecycle tests
//! run the fleet's real scheduler (and its real evaluation) on that store.

use super::*;
use crate::inspector_backend::templates::tests::{describe_template, new_target, new_template, template_request};
use crate::inspector_backend::test_support::{
    CIS_US_WEST_2, CVE_US_EAST_1, CVE_US_WEST_2, backend, backend_over, block_on, ctx, stub_agent,
};
use warden_store::{AgentHostInfo, SqliteStore};

/// An agent enrolled but never heard from.
fn enroll(store: &dyn FleetStore, id: &str) {
    store.insert_agent(&stub_agent(id, &format!("host-{id}"))).unwrap();
}

async fn start(b: &StoreBackend, template: &str, name: Option<&str>) -> Result<String, ApiError> {
    b.start_assessment_run(
        &ctx(),
        StartAssessmentRunRequest {
            assessment_template_arn: template.to_string(),
            assessment_run_name: name.map(str::to_string),
        },
    )
    .await
    .map(|r| r.assessment_run_arn)
}

async fn describe_run(b: &StoreBackend, arn: &str) -> AssessmentRun {
    let mut out = b
        .describe_assessment_runs(&ctx(), DescribeAssessmentRunsRequest { assessment_run_arns: vec![arn.to_string()] })
        .await
        .unwrap();
    assert!(out.failed_items.is_empty(), "{:?}", out.failed_items);
    out.assessment_runs.remove(0)
}

async fn stop(b: &StoreBackend, arn: &str, action: Option<StopAction>) -> Result<(), ApiError> {
    b.stop_assessment_run(&ctx(), StopAssessmentRunRequest { assessment_run_arn: arn.to_string(), stop_action: action })
        .await
}

fn states(run: &AssessmentRun) -> Vec<AssessmentRunState> {
    run.state_changes.iter().map(|c| c.state).collect()
}

#[test]
fn a_started_run_is_described_with_every_member() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let mut request = template_request(&target, "weekly", 900, &[CVE_US_EAST_1, CIS_US_WEST_2]);
        request.user_attributes_for_findings =
            Some(vec![warden_inspector::types::Attribute { key: "team".into(), value: Some("blue".into()) }]);
        let template = b.create_assessment_template(&ctx(), request).await.unwrap().assessment_template_arn;
        let arn = start(&b, &template, None).await.unwrap();
        assert!(arn.starts_with(&format!("{template}/run/0-")), "{arn}");

        let run = describe_run(&b, &arn).await;
        assert_eq!(run.arn, arn);
        assert_eq!(run.name, "Run 1 for weekly");
        assert_eq!(run.assessment_template_arn, template);
        assert_eq!(run.state, AssessmentRunState::Created);
        assert_eq!(run.duration_in_seconds, 900);
        assert_eq!(run.rules_package_arns, vec![CVE_US_EAST_1, CIS_US_WEST_2], "the template's ARNs as given");
        assert_eq!(run.user_attributes_for_findings[0].key, "team");
        assert_eq!(run.started_at, None);
        assert_eq!(run.completed_at, None);
        assert!(!run.data_collected);
        assert_eq!(states(&run), vec![AssessmentRunState::Created]);
        assert_eq!(run.state_changes[0].state_changed_at, run.created_at);
        assert_eq!(run.state_changed_at, run.created_at);
        assert!(run.notifications.is_empty());
        let severities: Vec<Severity> = run.finding_counts.keys().copied().collect();
        assert_eq!(severities.len(), 5, "all five severities: {severities:?}");
        assert!(run.finding_counts.values().all(|n| *n == 0));
        let wire = serde_json::to_value(&run).unwrap();
        assert_eq!(wire["state"], "CREATED");
        assert_eq!(wire["findingCounts"]["Undefined"], 0);
        assert!(wire["createdAt"].as_f64().unwrap() > 1.7e9, "epoch seconds: {wire}");

        let summary = describe_template(&b, &template).await;
        assert_eq!(summary.assessment_run_count, 1);
        assert_eq!(summary.last_assessment_run_arn.as_deref(), Some(arn.as_str()));

        // A named run; the name is unique per template.
        stop(&b, &arn, Some(StopAction::SkipEvaluation)).await.unwrap();
        let named = start(&b, &template, Some("nightly")).await.unwrap();
        assert_eq!(describe_run(&b, &named).await.name, "nightly");
        stop(&b, &named, Some(StopAction::SkipEvaluation)).await.unwrap();
        let e = start(&b, &template, Some("nightly")).await.unwrap_err();
        assert!(matches!(&e, ApiError::InvalidInput { message, .. } if message.contains("assessmentRunName")), "{e:?}");
        assert_eq!(describe_template(&b, &template).await.last_assessment_run_arn.as_deref(), Some(named.as_str()));
    });
}

#[test]
fn start_refuses_what_inspector_refuses() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let empty = b
            .create_assessment_template(&ctx(), template_request(&target, "empty", 600, &[]))
            .await
            .unwrap()
            .assessment_template_arn;
        let e = start(&b, &empty, None).await.unwrap_err();
        assert!(
            matches!(
                e,
                ApiError::InvalidInput { code: Some(InvalidInputErrorCode::InvalidNumberOfRulesPackageArns), .. }
            ),
            "{e:?}"
        );
        let template = new_template(&b, &target, "t", &[CVE_US_WEST_2]).await;
        let unknown = template.replace(&template[template.len() - 8..], "ZZZZZZZZ");
        let e = start(&b, &unknown, None).await.unwrap_err();
        assert!(
            matches!(e, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, .. }),
            "{e:?}"
        );
        let e = start(&b, &target, None).await.unwrap_err();
        assert!(
            matches!(e, ApiError::InvalidInput { code: Some(InvalidInputErrorCode::InvalidAssessmentTemplateArn), .. }),
            "{e:?}"
        );
    });
}

#[test]
fn agents_in_a_run_not_yet_ended_refuse_another_start() {
    let store: Arc<dyn FleetStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    for i in 0..12 {
        enroll(store.as_ref(), &format!("i-{i:017x}"));
    }
    let b = backend_over(store.clone());
    block_on(async {
        // A target without selectors selects every agent.
        let all = new_target(&b, "all").await;
        let first = new_template(&b, &all, "first", &[CVE_US_WEST_2]).await;
        let second = new_template(&b, &all, "second", &[CVE_US_WEST_2]).await;
        let running = start(&b, &first, None).await.unwrap();
        let e = start(&b, &second, None).await.unwrap_err();
        match &e {
            ApiError::AgentsAlreadyRunningAssessment { agents, truncated, .. } => {
                assert_eq!(agents.len(), 10, "at most 10 listed");
                assert!(truncated, "12 agents are busy");
                assert_eq!(agents[0].agent_id, format!("i-{:017x}", 0));
                assert!(agents.iter().all(|a| a.assessment_run_arn == running));
            }
            other => panic!("{other:?}"),
        }
        let wire = e.body();
        assert_eq!(wire["agentsTruncated"], true);
        assert_eq!(wire["agents"][0]["assessmentRunArn"], running.as_str());
        assert_eq!(describe_template(&b, &second).await.assessment_run_count, 0, "nothing was created");

        stop(&b, &running, Some(StopAction::SkipEvaluation)).await.unwrap();
        let next = start(&b, &second, None).await.unwrap();
        assert_eq!(describe_run(&b, &next).await.state, AssessmentRunState::Created);
    });
}

#[test]
fn stop_and_delete_follow_the_run_state() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let template = new_template(&b, &target, "t", &[CVE_US_WEST_2]).await;
        let arn = start(&b, &template, None).await.unwrap();
        let c = ctx();
        let delete = || b.delete_assessment_run(&c, DeleteAssessmentRunRequest { assessment_run_arn: arn.clone() });
        match delete().await.unwrap_err() {
            ApiError::AssessmentRunInProgress { assessment_run_arns, truncated, .. } => {
                assert_eq!(assessment_run_arns, vec![arn.clone()]);
                assert!(!truncated);
            }
            other => panic!("{other:?}"),
        }
        // START_EVALUATION (the default) only records the request: the scheduler ends collection.
        stop(&b, &arn, None).await.unwrap();
        let run = b.store.get_run(&b.run_id(&arn).unwrap()).unwrap();
        assert_eq!(run.stop_action, Some(warden_store::StopAction::StartEvaluation));
        assert_eq!(describe_run(&b, &arn).await.state, AssessmentRunState::Created);

        stop(&b, &arn, Some(StopAction::SkipEvaluation)).await.unwrap();
        let canceled = describe_run(&b, &arn).await;
        assert_eq!(canceled.state, AssessmentRunState::Canceled);
        assert_eq!(states(&canceled), vec![AssessmentRunState::Created, AssessmentRunState::Canceled]);
        assert_eq!(canceled.completed_at, Some(canceled.state_changed_at));
        stop(&b, &arn, Some(StopAction::SkipEvaluation)).await.expect("stopping an ended run changes nothing");
        assert_eq!(describe_run(&b, &arn).await.state_changes.len(), 2);

        delete().await.unwrap();
        let e = delete().await.unwrap_err();
        assert!(
            matches!(e, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentRunDoesNotExist, .. }),
            "{e:?}"
        );
        let e = stop(&b, &arn, None).await.unwrap_err();
        assert!(matches!(e, ApiError::NoSuchEntity { .. }), "{e:?}");
    });
}

#[test]
fn describe_runs_reports_failed_items() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let one = new_template(&b, &target, "one", &[CVE_US_WEST_2]).await;
        let two = new_template(&b, &target, "two", &[CVE_US_WEST_2]).await;
        let arn = start(&b, &one, None).await.unwrap();
        let run_part = &arn[arn.find("/run/").unwrap()..];
        let under_other_template = format!("{two}{run_part}");
        let foreign = arn.replace("123456789012", "999999999999");
        let unknown = arn.replace(&arn[arn.len() - 8..], "ZZZZZZZZ");
        let out = b
            .describe_assessment_runs(
                &ctx(),
                DescribeAssessmentRunsRequest {
                    assessment_run_arns: vec![
                        arn.clone(),
                        under_other_template.clone(),
                        foreign.clone(),
                        unknown.clone(),
                        one.clone(),
                    ],
                },
            )
            .await
            .unwrap();
        assert_eq!(out.assessment_runs.len(), 1);
        assert_eq!(out.assessment_runs[0].arn, arn);
        let code = |a: &str| out.failed_items[a].failure_code;
        assert_eq!(code(&under_other_template), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&foreign), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&unknown), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code(&one), FailedItemErrorCode::InvalidArn);
    });
}

#[test]
fn list_runs_pages_newest_first_and_filters() {
    let b = backend();
    block_on(async {
        let target = new_target(&b, "web").await;
        let cve = new_template(&b, &target, "cve", &[CVE_US_WEST_2]).await;
        let cis = b
            .create_assessment_template(&ctx(), template_request(&target, "cis", 7200, &[CIS_US_WEST_2]))
            .await
            .unwrap()
            .assessment_template_arn;
        let mut started = Vec::new();
        for i in 0..130 {
            let template = if i % 2 == 0 { &cve } else { &cis };
            let arn = start(&b, template, Some(&format!("run-{i:03}"))).await.unwrap();
            // Keep every run but the last five CREATED; the rest end CANCELED.
            if i < 125 {
                stop(&b, &arn, Some(StopAction::SkipEvaluation)).await.unwrap();
            }
            started.push(arn);
        }
        let list = |templates: Option<Vec<String>>, filter: Option<AssessmentRunFilter>, max: Option<i32>| {
            let b = &b;
            async move {
                let mut all = Vec::new();
                let mut token = None;
                loop {
                    let page = b
                        .list_assessment_runs(
                            &ctx(),
                            ListAssessmentRunsRequest {
                                assessment_template_arns: templates.clone(),
                                filter: filter.clone(),
                                next_token: token,
                                max_results: max,
                            },
                        )
                        .await
                        .unwrap();
                    assert!(page.assessment_run_arns.len() <= 100);
                    all.extend(page.assessment_run_arns);
                    token = page.next_token;
                    if token.is_none() {
                        return all;
                    }
                }
            }
        };
        let everything = list(None, None, Some(1000)).await;
        let created_order: Vec<(f64, String)> = {
            let mut v = Vec::new();
            for arn in &everything {
                v.push((describe_run(&b, arn).await.created_at.0, arn.clone()));
            }
            v
        };
        assert_eq!(everything.len(), 130);
        assert!(created_order.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
        let mut unique = everything.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 130, "pages overlap or skip");
        assert_eq!(list(None, None, Some(7)).await, everything, "page size does not change the order");

        let empty = AssessmentRunFilter {
            name_pattern: None,
            states: None,
            duration_range: None,
            rules_package_arns: None,
            start_time_range: None,
            completion_time_range: None,
            state_change_time_range: None,
        };
        assert_eq!(list(Some(vec![cve.clone()]), None, None).await.len(), 65);
        let created = AssessmentRunFilter { states: Some(vec![AssessmentRunState::Created]), ..empty.clone() };
        let mut still_created = list(None, Some(created), None).await;
        still_created.sort();
        let mut last_five: Vec<String> = started[125..].to_vec();
        last_five.sort();
        assert_eq!(still_created, last_five);
        let named = AssessmentRunFilter { name_pattern: Some("run-12*".into()), ..empty.clone() };
        assert_eq!(list(None, Some(named), None).await.len(), 10);
        let long = AssessmentRunFilter {
            duration_range: Some(DurationRange { min_seconds: Some(3601), max_seconds: Some(86400) }),
            ..empty.clone()
        };
        assert_eq!(list(None, Some(long), None).await.len(), 65);
        let by_package = AssessmentRunFilter {
            rules_package_arns: Some(vec!["arn:aws:inspector:us-east-1:316112463485:rulespackage/0-rExsr2X8".into()]),
            ..empty.clone()
        };
        assert_eq!(list(None, Some(by_package), None).await.len(), 65, "CIS by another region's ARN");
        let never_started = AssessmentRunFilter {
            start_time_range: Some(TimestampRange { begin_date: Some(Timestamp(0.0)), end_date: None }),
            ..empty.clone()
        };
        assert_eq!(list(None, Some(never_started), None).await.len(), 0, "no run reached COLLECTING_DATA");
        let completed = describe_run(&b, &started[0]).await.completed_at.unwrap();
        let ended_then = AssessmentRunFilter {
            completion_time_range: Some(TimestampRange { begin_date: Some(completed), end_date: Some(completed) }),
            ..empty.clone()
        };
        assert!(list(None, Some(ended_then), None).await.contains(&started[0]), "time ranges are inclusive");

        // A token belongs to its query.
        let first = b
            .list_assessment_runs(
                &ctx(),
                ListAssessmentRunsRequest {
                    assessment_template_arns: None,
                    filter: None,
                    next_token: None,
                    max_results: Some(5),
                },
            )
            .await
            .unwrap();
        let e = b
            .list_assessment_runs(
                &ctx(),
                ListAssessmentRunsRequest {
                    assessment_template_arns: Some(vec![cve.clone()]),
                    filter: None,
                    next_token: first.next_token,
                    max_results: Some(5),
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, ApiError::InvalidInput { code: Some(InvalidInputErrorCode::InvalidPaginationToken), .. }),
            "{e:?}"
        );
        let missing = cve.replace(&cve[cve.len() - 8..], "ZZZZZZZZ");
        let e = b
            .list_assessment_runs(
                &ctx(),
                ListAssessmentRunsRequest {
                    assessment_template_arns: Some(vec![missing]),
                    filter: None,
                    next_token: None,
                    max_results: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, ApiError::NoSuchEntity { code: NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, .. }),
            "{e:?}"
        );
    });
}

/// A server state over `store` whose scheduler ticks fast and gives agents no grace after collection.
fn scheduled_state(store: Arc<dyn FleetStore>, dir: &std::path::Path) -> crate::AppState {
    let mut config = crate::ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.join("unused.db"));
    config.tick = std::time::Duration::from_millis(20);
    config.stop_grace_seconds = 0;
    config.heartbeat_seconds = 1;
    let (changes, _) = tokio::sync::watch::channel(0);
    let inspector = crate::inspector_mount::InspectorMount::open(config.inspector.clone(), &dir.join("inspector.db"))
        .expect("the Inspector mount opens in a temporary directory");
    crate::AppState {
        store,
        inspector,
        config: Arc::new(config),
        metrics: Arc::default(),
        changes: Arc::new(changes),
        started_at: crate::now_ms(),
    }
}

/// Polls `DescribeAssessmentRuns` (the scheduler wakes every tick) until `done`; a
/// bound on the wait only keeps a broken scheduler from hanging the test.
async fn wait_for(b: &StoreBackend, arn: &str, done: impl Fn(&AssessmentRun) -> bool) -> AssessmentRun {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let run = describe_run(b, arn).await;
        if done(&run) {
            return run;
        }
        assert!(std::time::Instant::now() < give_up, "the run never got there: {:?}", states(&run));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn terminal(run: &AssessmentRun) -> bool {
    matches!(
        run.state,
        AssessmentRunState::Completed
            | AssessmentRunState::CompletedWithErrors
            | AssessmentRunState::Failed
            | AssessmentRunState::Error
            | AssessmentRunState::Canceled
    )
}

/// One agent delivers a real host snapshot (the debian-weak fixture root,
/// collected now), one never answers: the run goes through every state to
/// COMPLETED_WITH_ERRORS with findings counted; a run whose only agent never
/// answers ends FAILED; a run of a target selecting no agent ends FAILED at once.
#[test]
fn runs_live_their_whole_lifecycle_under_the_real_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn FleetStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let (reporting, silent) = ("i-0000000000000000a", "i-0000000000000000b");
    enroll(store.as_ref(), reporting);
    enroll(store.as_ref(), silent);
    let state = scheduled_state(store.clone(), dir.path());
    let b = backend_over(store.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let scheduler = tokio::spawn(crate::scheduler::run(state.clone(), stop_rx));

        let group = b
            .create_resource_group(
                &ctx(),
                CreateResourceGroupRequest {
                    resource_group_tags: vec![ResourceGroupTag { key: "role".into(), value: Some("none".into()) }],
                },
            )
            .await
            .unwrap()
            .resource_group_arn;
        let both = new_target(&b, "both").await;
        let best_practices = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-JJOtZiqQ";
        let template = new_template(&b, &both, "full", &[best_practices]).await;
        let arn = start(&b, &template, None).await.unwrap();

        let collecting = wait_for(&b, &arn, |r| r.state == AssessmentRunState::CollectingData || terminal(r)).await;
        assert_eq!(collecting.state, AssessmentRunState::CollectingData, "{:?}", states(&collecting));
        assert!(collecting.started_at.is_some());
        let run_id = b.run_id(&arn).unwrap();
        let assigned: Vec<String> = store.list_run_agents(&run_id).unwrap().into_iter().map(|a| a.agent_id).collect();
        assert_eq!(assigned, vec![reporting.to_string(), silent.to_string()]);

        // What an agent does: heartbeat, send its snapshot, say it finished.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roots/debian-weak/root");
        let snapshot = warden_collect::collect(&root, &warden_collect::Options::default()).unwrap();
        let now = crate::now_ms();
        store.record_heartbeat(reporting, "running", None, &AgentHostInfo::default(), now).unwrap();
        store
            .put_telemetry(&run_id, reporting, 0, "snapshot", &serde_json::to_string(&snapshot).unwrap(), now)
            .unwrap();
        store.record_run_progress(&run_id, reporting, "finished", Some(0), None, now).unwrap();

        // Ends collection early (the template's hour is not waited for) and evaluates.
        stop(&b, &arn, Some(StopAction::StartEvaluation)).await.unwrap();
        let done = wait_for(&b, &arn, terminal).await;
        assert_eq!(
            states(&done),
            vec![
                AssessmentRunState::Created,
                AssessmentRunState::StartDataCollectionPending,
                AssessmentRunState::StartDataCollectionInProgress,
                AssessmentRunState::CollectingData,
                AssessmentRunState::StopDataCollectionPending,
                AssessmentRunState::DataCollected,
                AssessmentRunState::StartEvaluatingRulesPending,
                AssessmentRunState::EvaluatingRules,
                AssessmentRunState::CompletedWithErrors,
            ],
            "the silent agent timed out, so the run completed with errors"
        );
        assert!(done.state_changes.windows(2).all(|w| w[0].state_changed_at <= w[1].state_changed_at));
        assert_eq!(done.state_changes[3].state_changed_at, done.started_at.unwrap(), "startedAt = COLLECTING_DATA");
        assert_eq!(done.completed_at, Some(done.state_changed_at));
        assert!(done.data_collected);
        let findings: i32 = done.finding_counts.values().sum();
        assert!(findings > 0, "the weak fixture has best-practice findings: {:?}", done.finding_counts);
        assert_eq!(done.finding_counts[&Severity::Undefined], 0);

        // Only the silent agent: nobody delivers, the run FAILS after collection.
        let silent_target = b
            .store
            .create_target("silent only", None, &[silent.to_string()], crate::now_ms())
            .map(|t| b.target_arn(&t.id).unwrap())
            .unwrap();
        let silent_template = new_template(&b, &silent_target, "silent", &[best_practices]).await;
        let unanswered = start(&b, &silent_template, None).await.unwrap();
        wait_for(&b, &unanswered, |r| r.state == AssessmentRunState::CollectingData || terminal(r)).await;
        stop(&b, &unanswered, None).await.unwrap();
        let failed = wait_for(&b, &unanswered, terminal).await;
        assert_eq!(
            states(&failed),
            vec![
                AssessmentRunState::Created,
                AssessmentRunState::StartDataCollectionPending,
                AssessmentRunState::StartDataCollectionInProgress,
                AssessmentRunState::CollectingData,
                AssessmentRunState::StopDataCollectionPending,
                AssessmentRunState::Failed,
            ]
        );
        assert!(!failed.data_collected);

        // A target selecting no agent: the run is made, then FAILED at once.
        let nobody = b
            .create_assessment_target(
                &ctx(),
                CreateAssessmentTargetRequest {
                    assessment_target_name: "nobody".into(),
                    resource_group_arn: Some(group),
                },
            )
            .await
            .unwrap()
            .assessment_target_arn;
        let nobody_template = new_template(&b, &nobody, "nobody", &[best_practices]).await;
        let empty_run = start(&b, &nobody_template, None).await.unwrap();
        let empty = wait_for(&b, &empty_run, terminal).await;
        assert_eq!(states(&empty), vec![AssessmentRunState::Created, AssessmentRunState::Failed]);
        assert_eq!(empty.started_at, None);

        stop_tx.send(true).unwrap();
        scheduler.await.unwrap();
    });
}

/// Polls the run until `moved` says it left where it was; false when 20 s
/// pass first (the scheduler in that test ticks every 60 s, so only a wake-up
/// can move the run in time).
async fn moves_within_20s(b: &StoreBackend, arn: &str, moved: impl Fn(&AssessmentRun) -> bool) -> bool {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < give_up {
        if moved(&describe_run(b, arn).await) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// StartAssessmentRun and StopAssessmentRun wake the scheduler: with a 60 s
/// tick, a started run still leaves CREATED, and a stopped one leaves
/// COLLECTING_DATA, well within 20 s.
#[test]
fn starting_and_stopping_a_run_wakes_the_scheduler_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn FleetStore> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let agent = "i-0000000000000000c";
    enroll(store.as_ref(), agent);
    let mut state = scheduled_state(store.clone(), dir.path());
    Arc::make_mut(&mut state.config).tick = std::time::Duration::from_secs(60);
    let b = backend_over(store.clone()).with_run_changes(state.changes.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let target = store.create_target("one agent", None, &[agent.to_string()], crate::now_ms()).unwrap();
        let template = new_template(&b, &b.target_arn(&target.id).unwrap(), "weekly", &[CVE_US_WEST_2]).await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let scheduler = tokio::spawn(crate::scheduler::run(state.clone(), stop_rx));
        // Let the scheduler finish its first pass and go to sleep for its 60 s tick.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;

        let arn = start(&b, &template, None).await.unwrap();
        assert!(
            moves_within_20s(&b, &arn, |r| r.state != AssessmentRunState::Created).await,
            "the started run waited for the scheduler's next tick"
        );
        assert!(moves_within_20s(&b, &arn, |r| r.state == AssessmentRunState::CollectingData).await);
        stop(&b, &arn, None).await.unwrap();
        assert!(
            moves_within_20s(&b, &arn, |r| r.state != AssessmentRunState::CollectingData).await,
            "the stopped run waited for the scheduler's next tick"
        );

        stop_tx.send(true).unwrap();
        scheduler.await.unwrap();
    });
}

/// A run made as `POST /v1/runs` makes it (no agents yet) meets the
/// agents-in-runs limit when the real scheduler assigns its agents: it ends
/// FAILED with the limit named as its failure, and nothing is assigned.
#[test]
fn a_fleet_run_over_the_agents_limit_fails_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limits = warden_store::Limits { agents_in_runs: 1, ..warden_store::Limits::UNLIMITED };
    let store: Arc<dyn FleetStore> = Arc::new(SqliteStore::open_in_memory().unwrap().with_limits(limits));
    let agents = ["i-0000000000000000d".to_string(), "i-0000000000000000e".to_string()];
    agents.iter().for_each(|a| enroll(store.as_ref(), a));
    let state = scheduled_state(store.clone(), dir.path());
    let b = backend_over(store.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let target = store.create_target("two agents", None, &agents, crate::now_ms()).unwrap();
        let template = new_template(&b, &b.target_arn(&target.id).unwrap(), "weekly", &[CVE_US_WEST_2]).await;
        let run = store.create_run(&b.template_id(&template).unwrap(), None, crate::now_ms()).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let scheduler = tokio::spawn(crate::scheduler::run(state.clone(), stop_rx));
        let arn = b.run_arn(&store.get_template(&run.template_id).unwrap(), &run.id).unwrap();
        let failed = wait_for(&b, &arn, terminal).await;
        assert_eq!(states(&failed), vec![AssessmentRunState::Created, AssessmentRunState::Failed]);
        let stored = store.get_run(&run.id).unwrap();
        let failure = stored.failure.unwrap_or_default();
        assert!(
            failure.contains("1 agents in running assessments") && failure.contains("--limit-agents-in-runs"),
            "{failure}"
        );
        assert!(store.list_run_agents(&run.id).unwrap().is_empty());
        stop_tx.send(true).unwrap();
        scheduler.await.unwrap();
    });
}
