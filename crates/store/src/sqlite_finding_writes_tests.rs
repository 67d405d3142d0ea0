//! The attribute rows `insert_findings` writes from Rust are those the
//! insert trigger of migration 0003 wrote: checked against the view
//! `finding_attribute_rows`, which derives them from the stored JSON in SQL
//! (the trigger's own definition), after inserts and after updates.

use super::*;
use crate::prelude::*;
use crate::{AssetAttributes, NewTemplate};
use warden_model::{Evidence, Severity};

type Row = (String, i64, i64, String, Option<String>);

fn rows(c: &Connection, from: &str) -> Vec<Row> {
    let mut stmt =
        c.prepare(&format!("SELECT finding_id, kind, position, key, value FROM {from} ORDER BY 1, 2, 3")).unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).unwrap();
    rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

fn evidence(message: &str, path: Option<&str>, line: Option<u32>, text: Option<&str>, is_default: bool) -> Evidence {
    Evidence { message: message.into(), path: path.map(Into::into), line, text: text.map(Into::into), is_default }
}

fn attr(k: &str, v: Option<&str>) -> Attribute {
    Attribute { key: k.into(), value: v.map(Into::into) }
}

/// Findings covering every branch of the view: Critical, no evidence, more
/// than five evidence items, empty and missing values, values longer than
/// 256 characters (multi-byte, so characters and bytes differ), no tags.
fn findings() -> Vec<NewFinding> {
    let long = "é".repeat(300);
    let base = NewFinding {
        agent_id: "i-00000000000000001".into(),
        package: "cve".into(),
        rule_id: "CVE-1".into(),
        title: "t".into(),
        severity: Severity::High,
        numeric_severity: 7.0,
        description: "d".into(),
        recommendation: "r".into(),
        evidence: vec![evidence("m", Some("/etc/x"), Some(3), None, false)],
        attributes: vec![attr("CVE_ID", Some("CVE-1"))],
        user_attributes: vec![attr("team", Some("web"))],
        asset: AssetAttributes {
            agent_id: "i-00000000000000001".into(),
            hostname: None,
            ipv4_addresses: vec![],
            tags: vec![attr("aws:autoscaling:groupName", Some("g"))],
        },
    };
    vec![
        base.clone(),
        NewFinding {
            severity: Severity::Critical,
            evidence: vec![],
            attributes: vec![],
            user_attributes: vec![],
            asset: AssetAttributes { tags: vec![], ..base.asset.clone() },
            ..base.clone()
        },
        NewFinding {
            severity: Severity::Informational,
            evidence: (0..7)
                .map(|i| {
                    evidence(
                        if i == 2 { "" } else { "msg" },
                        (i % 2 == 0).then_some("/p"),
                        (i % 3 == 0).then_some(i + 1),
                        Some(if i == 4 { long.as_str() } else { "text" }),
                        i == 1,
                    )
                })
                .collect(),
            attributes: vec![attr("a", None), attr("b", Some("")), attr("c", Some(&long)), attr("a", Some("dup"))],
            user_attributes: vec![attr("u", None), attr("v", Some(&long))],
            asset: AssetAttributes {
                tags: vec![attr("k", None), attr("aws:autoscaling:groupName", Some(""))],
                ..base.asset
            },
            ..base
        },
    ]
}

/// An in-memory store with one target, template and `runs` runs (their ids).
pub(in crate::sqlite) fn store_with_runs(runs: usize) -> (crate::SqliteStore, Vec<String>) {
    let store = crate::SqliteStore::open_in_memory().unwrap();
    let target = store.create_target("t", None, &[], 1).unwrap();
    let template = store
        .create_template(
            &NewTemplate {
                target_id: target.id,
                name: "p".into(),
                duration_seconds: 3600,
                sampling_interval_seconds: 30,
                packages: vec!["cve".into()],
                user_attributes: vec![],
            },
            1,
        )
        .unwrap();
    let runs = (0..runs).map(|_| store.create_run(&template.id, None, 1).unwrap().id).collect();
    (store, runs)
}

fn store_with_run() -> (crate::SqliteStore, String) {
    let (store, mut runs) = store_with_runs(1);
    (store, runs.remove(0))
}

#[test]
fn the_insert_trigger_is_gone_and_rust_writes_the_rows_the_view_derives() {
    let (store, run) = store_with_run();
    let ids = store.insert_findings(&run, &findings(), 5).unwrap();
    let conn = store.conn.lock().unwrap();
    let triggers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'findings_attributes_insert'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0, "migration 0007 drops the insert trigger");
    let written = rows(&conn, "finding_attributes");
    assert_eq!(written, rows(&conn, "finding_attribute_rows"));
    // The reference is not trivially empty: every branch produced rows.
    let keys: Vec<&str> = written.iter().map(|r| r.3.as_str()).collect();
    for key in ["CVE_ID", "WARDEN_SEVERITY", "EVIDENCE_COUNT", "EVIDENCE_5_TEXT", "EVIDENCE_2_DEFAULT", "team", "k"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert!(!keys.contains(&"EVIDENCE_6"), "only five evidence items are indexed");
    assert!(!keys.contains(&"EVIDENCE_3"), "an empty message has no row");
    let cut = written.iter().find(|r| r.3 == "c").unwrap();
    assert_eq!(cut.4.as_ref().unwrap().chars().count(), 256);
    assert_eq!(written.iter().filter(|r| r.0 == ids[1]).count(), 1, "the Critical finding: WARDEN_SEVERITY only");
}

#[test]
fn updates_keep_the_rows_right() {
    let (store, run) = store_with_run();
    let ids = store.insert_findings(&run, &findings(), 5).unwrap();
    let outcomes = store
        .edit_finding_user_attributes(&ids, &[attr("owner", Some("ops")), attr("team", None)], &["u".into()], 50, 6)
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    store.set_finding_user_attributes(&ids[1], &[attr("x", Some("1"))], 7).unwrap();
    let conn = store.conn.lock().unwrap();
    // An edit of a source column other than the user attributes (no writer
    // does it today; the update trigger covers it all the same).
    conn.execute(
        "UPDATE findings SET attributes = '[{\"key\":\"NEW\",\"value\":\"v\"}]', evidence = '[]', \
         asset = json_set(asset, '$.tags', json('[{\"key\":\"t2\",\"value\":\"w\"}]')) WHERE id = ?1",
        [&ids[0]],
    )
    .unwrap();
    let written = rows(&conn, "finding_attributes");
    assert_eq!(written, rows(&conn, "finding_attribute_rows"));
    let of = |id: &str, kind: i64| -> Vec<(String, Option<String>)> {
        written.iter().filter(|r| r.0 == id && r.1 == kind).map(|r| (r.3.clone(), r.4.clone())).collect()
    };
    assert_eq!(of(&ids[0], SYSTEM), [("NEW".to_string(), Some("v".to_string()))]);
    assert_eq!(of(&ids[0], ASSET_TAG), [("t2".to_string(), Some("w".to_string()))]);
    assert_eq!(of(&ids[1], USER), [("x".to_string(), Some("1".to_string()))]);
    assert!(of(&ids[2], USER).contains(&("owner".to_string(), Some("ops".to_string()))));
}

/// The rows computed for one finding are the view's rows for it.
#[test]
fn attribute_rows_match_the_view_finding_by_finding() {
    let (store, run) = store_with_run();
    let all = findings();
    let ids = store.insert_findings(&run, &all, 5).unwrap();
    let conn = store.conn.lock().unwrap();
    for (id, f) in ids.iter().zip(&all) {
        let mut stmt = conn
            .prepare("SELECT kind, position, key, value FROM finding_attribute_rows WHERE finding_id = ?1")
            .unwrap();
        let mut reference = stmt
            .query_map([id], |r| {
                Ok(AttributeRow { kind: r.get(0)?, position: r.get(1)?, key: r.get(2)?, value: r.get(3)? })
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        reference.sort();
        let mut computed = attribute_rows(f);
        computed.sort();
        assert_eq!(computed, reference, "{id}");
    }
}
