//! Migration 0004 over a database written before it: exclusions recorded by
//! an older Warden get an Inspector-shaped id and the kind `other`, so
//! `ListExclusions` / `DescribeExclusions` can name them, and new ones get
//! ids of their own. A real SQLite file, upgraded by `SqliteStore::open`.

use warden_store::prelude::*;
use warden_store::{Exclusion, SqliteStore, is_inspector_id};

const FLEET_0001: &str = include_str!("../migrations/sqlite/0001_fleet.sql");

#[test]
fn exclusions_of_an_older_database_get_ids_and_a_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warden.db");
    {
        // The fleet schema alone, as a Warden before the Inspector API left it.
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(FLEET_0001).unwrap();
        c.execute_batch(
            "INSERT INTO targets (id, name, agent_ids, created_at, updated_at) VALUES ('0-tttttttt', 'web', '[]', 1, 1);
             INSERT INTO templates (id, target_id, name, duration_seconds, sampling_interval_seconds, packages, user_attributes, created_at)
                 VALUES ('0-pppppppp', '0-tttttttt', 'nightly', 3600, 30, '[\"cve\"]', '[]', 1);
             INSERT INTO runs (id, template_id, name, state, duration_seconds, sampling_interval_seconds, packages, user_attributes, created_at, state_changed_at)
                 VALUES ('0-rrrrrrrr', '0-pppppppp', 'Run 1', 'COMPLETED', 3600, 30, '[\"cve\"]', '[]', 1, 1);
             INSERT INTO run_exclusions (run_id, agent_id, package, reason, created_at) VALUES
                 ('0-rrrrrrrr', 'i-0000000000000000a', 'cve', 'no vulnerability database', 2),
                 ('0-rrrrrrrr', 'i-0000000000000000b', 'cve', 'no vulnerability database', 2);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
    let old = store.exclusions_page("0-rrrrrrrr", None, 10).unwrap();
    assert_eq!(old.len(), 2);
    for record in &old {
        assert!(is_inspector_id(&record.id), "{}", record.id);
        assert_eq!(record.exclusion.kind, "other");
        assert_eq!(store.get_exclusion("0-rrrrrrrr", &record.id).unwrap(), *record);
    }
    assert_ne!(old[0].id, old[1].id);

    store
        .add_exclusion(&Exclusion {
            run_id: "0-rrrrrrrr".into(),
            agent_id: "i-0000000000000000c".into(),
            package: "cve".into(),
            reason: "no package inventory".into(),
            created_at: 3,
            kind: "no-package-inventory".into(),
        })
        .unwrap();
    let all = store.exclusions_page("0-rrrrrrrr", None, 10).unwrap();
    assert_eq!(all.len(), 3);
    let new = all.iter().find(|r| r.exclusion.agent_id == "i-0000000000000000c").unwrap();
    assert!(is_inspector_id(&new.id));
    assert_eq!(new.exclusion.kind, "no-package-inventory");
    // Keyset paging by id: the page after the first id holds the other two.
    assert_eq!(store.exclusions_page("0-rrrrrrrr", Some(&all[0].id), 10).unwrap(), all[1..].to_vec());
}
