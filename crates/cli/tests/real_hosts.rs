//! End-to-end on real systems: a fresh Debian 12 root filesystem made by
//! mmdebstrap (with openssh-server; `scripts/make-debian-rootfs.sh`, path in
//! `WARDEN_TEST_DEBIAN_ROOTFS`), and the machine running the tests.

mod common;

use common::*;
use warden_model::Outcome::{CouldNotEvaluate as Cne, Fail, Pass};
use warden_model::{Outcome, Snapshot};

#[test]
fn fresh_debian_12_install_shows_the_expected_findings() {
    let Some(root) = debian_rootfs_or_skip() else { return };
    let a = assess_root(&root);
    assert_eq!(a.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert!(!a.live);
    assert_outcomes(
        &a,
        &[
            // OpenSSH 9.2's default PermitRootLogin is prohibit-password: root may log in with a key.
            ("sbp-ssh-root-login", Fail),
            // OpenSSH 9.2 has no protocol 1.
            ("sbp-ssh-protocol-2", Pass),
            // Debian leaves PasswordAuthentication at OpenSSH's default, yes.
            ("sbp-ssh-password-auth", Fail),
            // login.defs ships PASS_MAX_DAYS 99999.
            ("sbp-password-max-age", Fail),
            // common-password has only pam_unix: no pwquality, no history.
            ("sbp-password-min-length", Fail),
            ("sbp-password-complexity", Fail),
            // A root directory has no running kernel, and Debian persists neither setting.
            ("sbp-aslr", Cne),
            ("sbp-dep", Cne),
            // A fresh install's system directories are root's alone.
            ("sbp-system-dir-permissions", Pass),
        ],
    );
    let root_login = rule(&a, "sbp-ssh-root-login");
    let e = &root_login.evidence[0];
    assert!(e.is_default && e.text.as_deref() == Some("PermitRootLogin prohibit-password"), "{e:?}");
    assert!(e.message.contains("9.2p1"), "the default cites the detected OpenSSH version: {e:?}");
    assert_cites(rule(&a, "sbp-password-max-age"), "/etc/login.defs", Some(165), "PASS_MAX_DAYS 99999");
    assert!(rule(&a, "sbp-ssh-protocol-2").reason.contains("9.2p1"));
    let dirs = rule(&a, "sbp-system-dir-permissions");
    assert!(dirs.reason.contains("10 system directories"), "{}", dirs.reason);

    // The snapshot names what was read.
    let out = warden().args(["collect", "--root", root.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let snap: Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    let sshd = snap.sshd.value().expect("sshd collected");
    assert_eq!(sshd.binary.as_deref(), Some("/usr/sbin/sshd"));
    assert!(sshd.version.as_deref().is_some_and(|v| v.starts_with("9.2p1")), "{:?}", sshd.version);
    assert_eq!(sshd.files[0], "/etc/ssh/sshd_config");
    assert_eq!(sshd.settings["usepam"].value, "yes");
    assert_eq!(sshd.settings["kbdinteractiveauthentication"].value, "no");
    let accounts = snap.accounts.value().expect("shadow read as root");
    assert!(accounts.iter().any(|a| a.user == "root"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("$y$"), "no hash in the snapshot");
}

#[test]
fn this_machine_assesses_completely_with_live_facts() {
    // A socket of our own, so the live socket table must show it with this process as owner.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = warden().args(["collect"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snap: Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    assert!(snap.live);
    let sockets = snap.listening.value().expect("listening sockets collected on a live host");
    let mine = sockets.iter().find(|s| s.port == port && s.address == "127.0.0.1").expect("our listener is seen");
    assert_eq!(mine.pid, Some(std::process::id()));
    assert!(snap.kernel.randomize_va_space.value().is_some(), "{:?}", snap.kernel.randomize_va_space);
    drop(listener);

    let (a, output) = assess(&[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(a.rules.len(), 10, "nine best-practice rules and the CVE package's outcome");
    assert_eq!(a.rules[9].rule_id, "cve-scan");
    assert!(a.live && a.root == "/");
    // Live facts decide ASLR and DEP on a running host.
    for id in ["sbp-aslr", "sbp-dep"] {
        let r = rule(&a, id);
        assert!(matches!(r.outcome, Outcome::Pass | Outcome::Fail), "{id}: {:?} {}", r.outcome, r.reason);
        assert!(!r.evidence.is_empty(), "{id} has evidence");
    }
    // Every finding is well formed and ordered.
    for f in &a.findings {
        assert!(!f.evidence.is_empty(), "{} has evidence", f.rule_id);
        assert_eq!(f.numeric_severity, f.severity.numeric());
    }
    assert!(a.findings.windows(2).all(|w| w[0].severity >= w[1].severity));
    let failed = a.rules.iter().filter(|r| r.outcome == Outcome::Fail && r.rule_id.starts_with("sbp-")).count();
    assert_eq!(failed, a.findings.iter().filter(|f| f.rule_id.starts_with("sbp-")).count());
}
