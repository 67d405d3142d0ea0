//! Tests of per-target network data against a real SQLite database (on
//! disk, so the migration runs as on a server).

use super::*;
use crate::prelude::*;
use crate::{NewTemplate, RunState, RunUpdate, TargetNetworkWarning};

fn upload(seed: u8) -> TargetNetworkUpload {
    TargetNetworkUpload {
        encoding: "gzip".into(),
        bundle: vec![seed; 100 + seed as usize],
        sha256: format!("{seed:064x}"),
        bytes: 1000 + seed as u64,
        files: 3,
        instances: 2,
        network_interfaces: 4,
        warnings: vec![TargetNetworkWarning {
            resource: "eni-1".into(),
            file: Some("123456789012/us-east-1/describe-network-interfaces.json".into()),
            message: "subnet-x does not exist".into(),
        }],
    }
}

#[test]
fn put_get_replace_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("fleet.db")).unwrap();
    assert!(s.schema_version().unwrap() >= 6, "migration 0006 applied");
    let t = s.create_target("web", None, &[], 10).unwrap();
    let other = s.create_target("db", None, &[], 10).unwrap();
    assert_eq!(s.get_target_network(&t.id).unwrap(), None);
    assert_eq!(s.target_network_bundle(&t.id).unwrap(), None);

    let first = s.put_target_network(&t.id, &upload(1), 20).unwrap();
    assert_eq!(first.target_id, t.id);
    assert_eq!(first.sha256, format!("{:064x}", 1));
    assert_eq!((first.bytes, first.stored_bytes, first.files), (1001, 101, 3));
    assert_eq!((first.instances, first.network_interfaces, first.uploaded_at), (2, 4, 20));
    assert_eq!(first.warnings, upload(1).warnings);
    assert_eq!(s.get_target_network(&t.id).unwrap(), Some(first.clone()));
    let (meta, bundle) = s.target_network_bundle(&t.id).unwrap().unwrap();
    assert_eq!(meta, first);
    assert_eq!(bundle, TargetNetworkBundle { encoding: "gzip".into(), data: vec![1; 101] });
    // Another target has none.
    assert_eq!(s.get_target_network(&other.id).unwrap(), None);

    // A second upload replaces the first.
    let second = s.put_target_network(&t.id, &upload(2), 30).unwrap();
    assert_eq!((second.bytes, second.uploaded_at), (1002, 30));
    assert_eq!(s.target_network_bundle(&t.id).unwrap().unwrap().1.data, vec![2; 102]);

    assert!(s.delete_target_network(&t.id).unwrap());
    assert!(!s.delete_target_network(&t.id).unwrap());
    assert_eq!(s.get_target_network(&t.id).unwrap(), None);
}

#[test]
fn unknown_target_is_not_found() {
    let s = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        s.put_target_network("0-missing1", &upload(1), 1).unwrap_err(),
        StoreError::NotFound("target", "0-missing1".into())
    );
    assert_eq!(s.get_target_network("0-missing1").unwrap(), None);
}

#[test]
fn deleting_the_target_deletes_its_network_data() {
    let s = SqliteStore::open_in_memory().unwrap();
    let t = s.create_target("web", None, &[], 10).unwrap();
    let template = s
        .create_template(
            &NewTemplate {
                target_id: t.id.clone(),
                name: "net".into(),
                duration_seconds: 60,
                sampling_interval_seconds: 30,
                packages: vec!["network-reachability".into()],
                user_attributes: vec![],
            },
            11,
        )
        .unwrap();
    let run = s.create_run(&template.id, None, 12).unwrap();
    s.put_target_network(&t.id, &upload(1), 20).unwrap();
    s.transition_run(&run.id, RunState::Created, RunState::Failed, &RunUpdate::default(), 13).unwrap();
    s.delete_target(&t.id).unwrap();
    assert_eq!(s.get_target_network(&t.id).unwrap(), None);
    let rows: i64 = s.with(|c| c.query_row("SELECT COUNT(*) FROM target_networks", [], |r| r.get(0))).unwrap();
    assert_eq!(rows, 0);
    // A new target of the same name starts without network data.
    let again = s.create_target("web", None, &[], 30).unwrap();
    assert_eq!(s.get_target_network(&again.id).unwrap(), None);
}
