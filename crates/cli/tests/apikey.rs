//! `warden apikey` end to end on a temporary database: a created key is
//! listed without its secret, revoked keys show as revoked, and the master
//! key file is created owner-only beside the database.

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;

fn warden(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("warden").unwrap().args(["apikey"]).args(args).arg("--db").arg(db).output().unwrap()
}

#[test]
fn create_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warden.db");
    let out = warden(&db, &["create", "--description", "ci runner"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap().to_string();
    let (id, secret) = (field("AWS_ACCESS_KEY_ID"), field("AWS_SECRET_ACCESS_KEY"));
    assert!(id.starts_with("AKIA"));
    let mode = std::fs::metadata(dir.path().join("inspector-master.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let list = String::from_utf8(warden(&db, &["list"]).stdout).unwrap();
    let row = list.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.contains("active") && row.contains("ci runner"), "{row}");
    assert!(!list.contains(&secret));

    assert!(warden(&db, &["revoke", &id]).status.success());
    let again = warden(&db, &["revoke", &id]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no active key"));
    let list = String::from_utf8(warden(&db, &["list"]).stdout).unwrap();
    assert!(list.lines().find(|l| l.starts_with(&id)).unwrap().contains("revoked"));
}
