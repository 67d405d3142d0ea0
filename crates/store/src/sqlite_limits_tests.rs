//! The limit checks over a real in-memory SQLite store, at the store's own
//! interface (the Inspector and admin API tests cover the wire shapes).

use super::super::SqliteStore;
use crate::prelude::*;
use crate::{
    Agent, AgentHostInfo, Attribute, LimitKind, Limits, NewTemplate, RunState, RunUpdate, StopAction, StoreError,
};

fn agent(s: &SqliteStore, id: &str) {
    s.insert_agent(&Agent {
        id: id.into(),
        public_key: vec![7; 32],
        tags: Default::default(),
        host: AgentHostInfo::default(),
        enrolled_at: 1,
        last_heartbeat_at: None,
        activity: None,
        activity_details: None,
        retired_at: None,
    })
    .unwrap();
}

fn template(s: &SqliteStore, target: &str) -> crate::Template {
    let target = s.create_target(target, None, &[], 1).unwrap();
    let new = NewTemplate {
        target_id: target.id,
        name: "nightly".into(),
        duration_seconds: 3600,
        sampling_interval_seconds: 30,
        packages: vec!["cve".into()],
        user_attributes: vec![],
    };
    s.create_template(&new, 1).unwrap()
}

/// Agents already in the run, or in another run that has not ended, count
/// once; agents of an ended run do not count; one agent too many is refused
/// and nothing of the refused assignment is stored.
#[test]
fn agents_in_runs_count_distinct_agents_of_runs_not_ended() {
    let s = SqliteStore::open_in_memory().unwrap().with_limits(Limits { agents_in_runs: 3, ..Limits::UNLIMITED });
    for id in ["a", "b", "c", "d"] {
        agent(&s, id);
    }
    let t = template(&s, "web");
    let first = s.create_run(&t.id, None, 1).unwrap();
    s.assign_run_agents(&first.id, &["a".into(), "b".into()], 1).unwrap();
    s.assign_run_agents(&first.id, &["a".into(), "b".into()], 1).expect("the same agents again add nothing");
    let second = s.create_run(&t.id, None, 1).unwrap();
    s.assign_run_agents(&second.id, &["b".into(), "c".into()], 1).expect("b counts once: 3 agents");
    let third = s.create_run(&t.id, None, 1).unwrap();
    let e = s.assign_run_agents(&third.id, &["d".into()], 1).unwrap_err();
    assert_eq!(e, StoreError::LimitExceeded(LimitKind::AgentsInRuns, 3));
    assert_eq!(
        e.to_string(),
        "the limit of 3 agents in running assessments is reached (warden serve --limit-agents-in-runs sets it)"
    );
    assert!(s.list_run_agents(&third.id).unwrap().is_empty(), "the refused assignment stored nothing");
    // The first run ends: a and b (b still in the second run) leave room for d.
    s.request_stop(&first.id, StopAction::SkipEvaluation, 2).unwrap();
    s.transition_run(&first.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 2).unwrap();
    s.assign_run_agents(&third.id, &["d".into()], 2).expect("room once a run ended");
}

/// Counts are of what exists: a deleted run frees its place, and the next
/// default name skips a number still taken ("Run 2" after "Run 1" was deleted).
#[test]
fn runs_are_limited_and_a_deleted_run_makes_room_under_a_free_name() {
    let s = SqliteStore::open_in_memory().unwrap().with_limits(Limits { runs: 2, ..Limits::UNLIMITED });
    let t = template(&s, "web");
    let first = s.create_run(&t.id, None, 1).unwrap();
    let second = s.create_run(&t.id, None, 1).unwrap();
    assert_eq!(s.create_run(&t.id, None, 1).unwrap_err(), StoreError::LimitExceeded(LimitKind::Runs, 2));
    s.request_stop(&first.id, StopAction::SkipEvaluation, 2).unwrap();
    s.transition_run(&first.id, RunState::Created, RunState::Canceled, &RunUpdate::default(), 2).unwrap();
    s.delete_run(&first.id).unwrap();
    let third = s.create_run(&t.id, None, 3).unwrap();
    assert_eq!(second.name, "Run 2 for nightly");
    assert_eq!(third.name, "Run 3 for nightly", "Run 2 is still taken");
}

fn resource_group_count(s: &SqliteStore) -> u64 {
    s.with(|c| c.query_row("SELECT COUNT(*) FROM resource_groups", [], |r| r.get(0))).unwrap()
}

/// A target with tags stores its resource group with it; a refused one (name
/// taken, target limit, group limit) stores neither, so no orphan group
/// counts toward the group limit.
#[test]
fn refused_target_with_tags_leaves_no_resource_group() {
    let s = SqliteStore::open_in_memory().unwrap().with_limits(Limits {
        targets: 3,
        resource_groups: 2,
        ..Limits::UNLIMITED
    });
    let tags = [Attribute::new("role", "web")];

    let web = s.create_target_with_tags("web", &tags, &["i-1".into()], 5).unwrap();
    let group = s.get_resource_group(web.resource_group_id.as_deref().expect("tags make a group")).unwrap();
    assert_eq!((group.tags.as_slice(), group.created_at), (&tags[..], 5));
    assert_eq!(s.get_target(&web.id).unwrap(), web);
    assert_eq!(resource_group_count(&s), 1);

    let taken = s.create_target_with_tags("web", &tags, &[], 6).unwrap_err();
    assert!(matches!(&taken, StoreError::Conflict(m) if m.contains("already taken")), "{taken:?}");
    assert_eq!(resource_group_count(&s), 1, "the refused target's group is rolled back");

    let plain = s.create_target_with_tags("plain", &[], &[], 7).unwrap();
    assert_eq!(plain.resource_group_id, None, "no tags, no group");
    assert_eq!(resource_group_count(&s), 1);

    s.create_target_with_tags("db", &[Attribute::new("role", "db")], &[], 8).unwrap();
    assert_eq!(resource_group_count(&s), 2);
    assert_eq!(
        s.create_target_with_tags("cache", &[], &[], 9).unwrap_err(),
        StoreError::LimitExceeded(LimitKind::Targets, 3)
    );
    assert_eq!(
        s.create_target_with_tags("cache", &tags, &[], 9).unwrap_err(),
        StoreError::LimitExceeded(LimitKind::ResourceGroups, 2)
    );
    assert_eq!(resource_group_count(&s), 2);
    assert_eq!(s.list_targets().unwrap().len(), 3);
}

/// The target limit refuses a target with tags after its group was counted:
/// the group goes with the refused target.
#[test]
fn target_limit_refusal_rolls_back_the_new_group() {
    let s = SqliteStore::open_in_memory().unwrap().with_limits(Limits {
        targets: 1,
        resource_groups: 5,
        ..Limits::UNLIMITED
    });
    let tags = [Attribute::new("role", "web")];
    s.create_target_with_tags("web", &tags, &[], 1).unwrap();
    assert_eq!(
        s.create_target_with_tags("db", &tags, &[], 2).unwrap_err(),
        StoreError::LimitExceeded(LimitKind::Targets, 1)
    );
    assert_eq!(resource_group_count(&s), 1);
}
