//! End-to-end: command-line behaviour of the real binary: exit codes,
//! formats, output files, snapshots, and bad input that must produce a clear
//! message naming the path, never a panic or a hang.

mod common;

use std::fs;

use common::*;
use warden_model::Outcome;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn missing_root_is_exit_2_naming_the_path() {
    let o = warden().args(["assess", "--root", "/no/such/root"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/root: cannot open root"), "{}", stderr(&o));
    let o = warden().args(["collect", "--root", "/no/such/root"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let Some(dir) = fixture_root("debian-weak") else { return };
    let root = dir.path().join("root");
    let root = root.to_str().unwrap();
    let o = warden().args(["assess", "--root", root, "--format", "json", "--fail-on", "high"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "debian-weak has a High finding");
    let o = warden().args(["assess", "--root", root, "--format", "json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "without --fail-on findings do not fail the run");
    let Some(hardened) = fixture_root("debian-hardened") else { return };
    let o = warden()
        .args(["assess", "--root", hardened.path().join("root").to_str().unwrap(), "--fail-on", "informational"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = warden().args(["assess", "--root", root, "--fail-on", "severe"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown severity"));
}

#[test]
fn table_is_plain_when_not_a_terminal_and_json_is_default_off_terminal() {
    let Some(dir) = fixture_root("debian-weak") else { return };
    let root = dir.path().join("root");
    let o = warden().args(["assess", "--root", root.to_str().unwrap(), "--format", "table"]).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(!text.contains('\x1b'), "no colour when stdout is not a terminal");
    assert!(text.contains("[High] Configure permissions for system directories (sbp-system-dir-permissions)"));
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(
            "8 findings (0 Critical, 1 High, 7 Medium, 0 Low, 0 Informational); rules: 1 passed, 8 failed"
        ),
        "{last}"
    );
    // Default format off a terminal is JSON.
    let o = warden().args(["assess", "--root", root.to_str().unwrap()]).output().unwrap();
    let _: warden_model::Assessment = serde_json::from_slice(&o.stdout).unwrap();
    assert!(stderr(&o).contains("8 findings"), "summary goes to stderr when stdout is JSON");
}

#[test]
fn output_file_and_snapshot_round_trip() {
    let Some(dir) = fixture_root("rhel-weak") else { return };
    let root = dir.path().join("root");
    let out = tempfile::tempdir().unwrap();
    let snap = out.path().join("snap.json");
    let report = out.path().join("report.json");
    let o =
        warden().args(["collect", "--root", root.to_str().unwrap(), "-o", snap.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let snapshot: serde_json::Value = serde_json::from_str(&fs::read_to_string(&snap).unwrap()).unwrap();
    assert_eq!(snapshot["schema_version"], 1);
    assert_eq!(snapshot["sshd"]["value"]["version"], "7.4p1");
    assert!(!fs::read_to_string(&snap).unwrap().contains("$6$"), "the snapshot holds no password hash");
    let o = warden()
        .args([
            "assess",
            "--snapshot",
            snap.to_str().unwrap(),
            "--package",
            "best-practices",
            "-o",
            report.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "the report went to the file");
    let from_snapshot: warden_model::Assessment = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let direct = assess_root(&root);
    assert_eq!(from_snapshot.rules, direct.rules, "a snapshot evaluates exactly like the root it came from");
    assert_eq!(from_snapshot.findings, direct.findings);
}

#[test]
fn bad_snapshots_name_file_line_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{\n  \"schema_version\": 1,\n  \"root\": [oops\n}").unwrap();
    let o = warden().args(["assess", "--snapshot", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{}:3:", bad.display())), "{}", stderr(&o));
    fs::write(&bad, "{\"schema_version\": 99}").unwrap();
    let o = warden().args(["assess", "--snapshot", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("schema version 99 is not supported"), "{}", stderr(&o));
    fs::write(&bad, "{\"schema_version\": 1, \"root\": \"/\"}").unwrap();
    let o = warden().args(["assess", "--snapshot", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid snapshot: missing field"), "{}", stderr(&o));
}

#[test]
fn huge_files_fifos_and_symlink_loops_become_could_not_evaluate() {
    let Some(dir) = fixture_root("debian-hardened") else { return };
    let root = dir.path().join("root");
    // A 1 GiB sparse sshd_config: refused by size, not read.
    let sshd_config = root.join("etc/ssh/sshd_config");
    fs::remove_file(&sshd_config).unwrap();
    fs::File::create(&sshd_config).unwrap().set_len(1 << 30).unwrap();
    // login.defs is a FIFO: opening it for reading would block forever.
    let login_defs = root.join("etc/login.defs");
    fs::remove_file(&login_defs).unwrap();
    let c = std::ffi::CString::new(login_defs.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { mkfifo(c.as_ptr(), 0o644) }, 0);
    // pwquality.conf is a symlink loop.
    let pwq = root.join("etc/security/pwquality.conf");
    fs::remove_file(&pwq).unwrap();
    std::os::unix::fs::symlink("/etc/security/loop-b", &pwq).unwrap();
    std::os::unix::fs::symlink("/etc/security/pwquality.conf", root.join("etc/security/loop-b")).unwrap();

    let a = assess_root(&root);
    let root_login = rule(&a, "sbp-ssh-root-login");
    assert_eq!(root_login.outcome, Outcome::CouldNotEvaluate);
    assert!(
        root_login.reason.contains("/etc/ssh/sshd_config") && root_login.reason.contains("1073741824 bytes"),
        "{}",
        root_login.reason
    );
    let max_age = rule(&a, "sbp-password-max-age");
    assert_eq!(max_age.outcome, Outcome::CouldNotEvaluate);
    assert!(max_age.reason.contains("/etc/login.defs") && max_age.reason.contains("FIFO"), "{}", max_age.reason);
    let problems: Vec<String> = a.problems.iter().map(|p| p.to_string()).collect();
    let min_length = rule(&a, "sbp-password-min-length");
    assert!(
        problems.iter().any(|p| p.contains("/etc/security/pwquality.conf") && p.contains("symlink loop"))
            || min_length.reason.contains("symlink loop"),
        "the loop is reported: {problems:?} / {}",
        min_length.reason
    );
    assert!(a.partial);
    // The other rules are still evaluated.
    assert_eq!(rule(&a, "sbp-system-dir-permissions").outcome, Outcome::Pass);
}

#[test]
fn corrupt_shadow_keeps_good_lines_and_names_bad_ones() {
    let Some(dir) = fixture_root("debian-weak") else { return };
    let root = dir.path().join("root");
    let shadow = root.join("etc/shadow");
    let mut text = fs::read_to_string(&shadow).unwrap();
    text.push_str(
        "garbage-without-fields\ncarol:$6$secretsalt$SECRETHASHVALUE:19700:0:notanumber:7:::\n\u{0}\u{1}binary:::\n",
    );
    fs::write(&shadow, text).unwrap();
    let a = assess_root(&root);
    let age = rule(&a, "sbp-password-max-age");
    assert_eq!(age.outcome, Outcome::Fail);
    assert_cites(age, "/etc/shadow", Some(3), "alice: maximum age 99999");
    assert!(a.problems.iter().any(|p| p.path == "/etc/shadow" && p.line == Some(5)), "{:?}", a.problems);
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("SECRETHASHVALUE") && !json.contains("secretsalt"), "no hash in the report");
    assert!(a.partial);
}

#[test]
fn rules_lists_every_rule() {
    let o = warden().arg("rules").output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    for id in ["sbp-ssh-root-login", "sbp-dep", "sbp-system-dir-permissions"] {
        assert!(text.contains(id), "{text}");
    }
    assert_eq!(text.lines().filter(|l| l.starts_with("  sbp-")).count(), 9);
}

unsafe extern "C" {
    fn mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[test]
fn rule_documentation_is_generated_from_the_rules() {
    let o = warden().args(["rules", "--markdown"]).output().unwrap();
    let generated = String::from_utf8(o.stdout).unwrap();
    let committed = fs::read_to_string(workspace().join("docs/rules/best-practices.md")).unwrap();
    assert_eq!(
        committed, generated,
        "docs/rules/best-practices.md is stale: run `warden rules --markdown > docs/rules/best-practices.md`"
    );
}

#[test]
fn output_to_a_device_or_fifo_is_written_in_place_never_replaced() {
    let Some(dir) = fixture_root("alpine-weak") else { return };
    let root = dir.path().join("root");
    // A FIFO stands in for /dev/null or /dev/stdout: it must stay a FIFO.
    let fifo = dir.path().join("out.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let o = warden()
        .args(["assess", "--root", root.to_str().unwrap(), "--format", "json", "-o", fifo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let written = reader.join().unwrap();
    let _: warden_model::Assessment = serde_json::from_str(&written).unwrap();
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced by a file");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left behind");
}

#[test]
fn net_load_prints_counts_and_warnings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws/handmade");
    let out = warden().args(["net", "load"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("load_balancers         2"), "{text}");
    assert!(text.contains("warning: rtb-0main (111122223333/eu-west-1/describe-route-tables.json)"), "{text}");
    let out = warden().args(["net", "load", "--json"]).arg(&dir).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["vpcs"]["vpc-0aaa"]["region"], "eu-west-1");
    let out = warden().args(["net", "load", "/nonexistent/warden-net"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
