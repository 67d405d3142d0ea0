//! End-to-end: the real `warden` binary over the fixture root filesystems in
//! `tests/fixtures/roots` (see its README), asserting every rule's outcome and
//! the evidence that decided it.

mod common;

use common::*;
use warden_model::Outcome::{CouldNotEvaluate as Cne, Fail, Pass};
use warden_model::Severity;

const ROOT_LOGIN: &str = "sbp-ssh-root-login";
const PROTOCOL: &str = "sbp-ssh-protocol-2";
const PASSWORD_AUTH: &str = "sbp-ssh-password-auth";
const MAX_AGE: &str = "sbp-password-max-age";
const MIN_LENGTH: &str = "sbp-password-min-length";
const COMPLEXITY: &str = "sbp-password-complexity";
const ASLR: &str = "sbp-aslr";
const DEP: &str = "sbp-dep";
const DIRS: &str = "sbp-system-dir-permissions";

#[test]
fn debian_hardened_passes_everything_a_root_directory_can_show() {
    let Some(dir) = fixture_root("debian-hardened") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_eq!(a.asset, "debian-hardened");
    assert_eq!(a.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Pass),
            (PROTOCOL, Pass),
            (PASSWORD_AUTH, Pass),
            (MAX_AGE, Pass),
            (MIN_LENGTH, Pass),
            (COMPLEXITY, Pass),
            (ASLR, Pass),
            (DEP, Cne),
            (DIRS, Pass),
        ],
    );
    assert!(a.findings.is_empty());
    // First value wins: the drop-in read through the Include at the top of sshd_config.
    assert_cites(rule(&a, ROOT_LOGIN), "/etc/ssh/sshd_config.d/00-hardening.conf", Some(2), "PermitRootLogin no");
    assert_cites(rule(&a, MIN_LENGTH), "/etc/security/pwquality.conf", Some(2), "minlen = 14");
    assert_cites(rule(&a, ASLR), "/etc/sysctl.d/10-warden-hardening.conf", Some(1), "kernel.randomize_va_space = 2");
    assert!(rule(&a, DEP).reason.contains("live"), "{}", rule(&a, DEP).reason);
}

#[test]
fn debian_weak_fails_with_file_and_line_evidence() {
    let Some(dir) = fixture_root("debian-weak") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Fail),
            (PROTOCOL, Pass),
            (PASSWORD_AUTH, Fail),
            (MAX_AGE, Fail),
            (MIN_LENGTH, Fail),
            (COMPLEXITY, Fail),
            (ASLR, Fail),
            (DEP, Fail),
            (DIRS, Fail),
        ],
    );
    assert_cites(rule(&a, ROOT_LOGIN), "/etc/ssh/sshd_config.d/10-admin.conf", Some(1), "PermitRootLogin yes");
    let pw = rule(&a, PASSWORD_AUTH);
    assert!(
        pw.evidence.iter().any(|e| e.is_default && e.text.as_deref() == Some("PasswordAuthentication yes")),
        "{pw:#?}"
    );
    assert_cites(pw, "/etc/ssh/sshd_config", Some(125), "PasswordAuthentication yes");
    let age = rule(&a, MAX_AGE);
    assert_cites(age, "/etc/login.defs", Some(165), "PASS_MAX_DAYS 99999");
    assert_cites(age, "/etc/shadow", Some(1), "root: maximum age 99999");
    assert_cites(age, "/etc/shadow", Some(3), "alice: maximum age 99999");
    assert!(!age.evidence.iter().any(|e| e.text.as_deref().is_some_and(|t| t.starts_with("bob"))), "bob is locked");
    assert_cites(rule(&a, ASLR), "/etc/sysctl.conf", Some(3), "kernel.randomize_va_space = 0");
    assert_cites(rule(&a, DEP), "/etc/default/grub", Some(4), " noexec=off");
    let dirs = rule(&a, DIRS);
    assert_cites(dirs, "/usr/local/bin", None, "drwxrwsr-x root:staff");
    assert_cites(dirs, "/usr/local/bin/deploy.sh", None, "-rwxr-xrwx alice:alice");
    assert_cites(dirs, "/etc/sysctl.conf", None, "-rw-rw-rw- root:root");
    // Ordered by severity, then rule id.
    let order: Vec<(Severity, &str)> = a.findings.iter().map(|f| (f.severity, f.rule_id.as_str())).collect();
    assert_eq!(order[0], (Severity::High, DIRS));
    assert!(order.windows(2).all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 <= w[1].1)), "{order:?}");
    // No password hash ever reaches the report.
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("$6$") && !json.contains("$y$"), "a hash leaked into the report");
}

#[test]
fn rhel_hardened_reads_dropins_authselect_and_pwhistory_conf() {
    let Some(dir) = fixture_root("rhel-hardened") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_eq!(a.asset, "rocky-hardened");
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Pass),
            (PROTOCOL, Pass),
            (PASSWORD_AUTH, Pass),
            (MAX_AGE, Pass),
            (MIN_LENGTH, Pass),
            (COMPLEXITY, Pass),
            (ASLR, Pass),
            (DEP, Cne),
            (DIRS, Pass),
        ],
    );
    // 01-hardening.conf sorts before 50-redhat.conf, so its values are the first.
    assert_cites(
        rule(&a, PASSWORD_AUTH),
        "/etc/ssh/sshd_config.d/01-hardening.conf",
        Some(3),
        "KbdInteractiveAuthentication no",
    );
    assert_cites(rule(&a, MIN_LENGTH), "/etc/security/pwquality.conf.d/50-hardening.conf", Some(1), "minlen = 14");
    assert_cites(rule(&a, COMPLEXITY), "/etc/security/pwhistory.conf", Some(2), "remember = 24");
}

#[test]
fn rhel_weak_old_openssh_protocol_1_and_optional_pwquality() {
    let Some(dir) = fixture_root("rhel-weak") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Fail),
            (PROTOCOL, Fail),
            (PASSWORD_AUTH, Fail),
            (MAX_AGE, Fail),
            (MIN_LENGTH, Fail),
            (COMPLEXITY, Fail),
            (ASLR, Cne),
            (DEP, Cne),
            (DIRS, Fail),
        ],
    );
    assert_cites(rule(&a, PROTOCOL), "/etc/ssh/sshd_config", Some(3), "Protocol 2,1");
    assert_cites(rule(&a, ROOT_LOGIN), "/etc/ssh/sshd_config", Some(10), "PermitRootLogin yes");
    let min = rule(&a, MIN_LENGTH);
    assert!(min.evidence.iter().any(|e| e.is_default && e.text.as_deref() == Some("minlen = 8")), "{min:#?}");
    assert!(
        min.evidence
            .iter()
            .any(|e| e.path.as_deref() == Some("/etc/pam.d/password-auth") && e.message.contains("enforces nothing")),
        "{min:#?}"
    );
    assert_cites(rule(&a, COMPLEXITY), "/etc/pam.d/system-auth", Some(12), "pam_unix.so remember=5");
    assert_cites(rule(&a, MAX_AGE), "/etc/shadow", Some(6), "centos: maximum age empty (no limit)");
    let dirs = rule(&a, DIRS);
    assert_cites(dirs, "/etc/cron.d", None, "drwxrwxrwx root:root");
    assert!(
        dirs.evidence.iter().any(|e| e.path.as_deref() == Some("/usr/bin") && e.message.contains("owned by centos")),
        "{dirs:#?}"
    );
}

#[test]
fn alpine_hardened_with_linux_pam() {
    let Some(dir) = fixture_root("alpine-hardened") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Pass),
            (PROTOCOL, Pass),
            (PASSWORD_AUTH, Pass),
            (MAX_AGE, Pass),
            (MIN_LENGTH, Pass),
            (COMPLEXITY, Pass),
            (ASLR, Pass),
            (DEP, Cne),
            (DIRS, Pass),
        ],
    );
    assert_cites(rule(&a, MIN_LENGTH), "/etc/pam.d/base-password", Some(2), "pam_pwquality.so minlen=16");
}

#[test]
fn alpine_weak_without_pam() {
    let Some(dir) = fixture_root("alpine-weak") else { return };
    let a = assess_root(&dir.path().join("root"));
    assert_outcomes(
        &a,
        &[
            (ROOT_LOGIN, Fail),
            (PROTOCOL, Pass),
            (PASSWORD_AUTH, Fail),
            (MAX_AGE, Fail),
            (MIN_LENGTH, Fail),
            (COMPLEXITY, Fail),
            (ASLR, Fail),
            (DEP, Cne),
            (DIRS, Fail),
        ],
    );
    assert_cites(rule(&a, ROOT_LOGIN), "/etc/ssh/sshd_config", Some(14), "PermitRootLogin prohibit-password");
    assert_cites(rule(&a, MIN_LENGTH), "/etc/login.defs", Some(4), "PASS_MIN_LEN 5");
    assert_cites(rule(&a, ASLR), "/etc/sysctl.d/00-alpine.conf", Some(2), "kernel.randomize_va_space = 1");
    assert_cites(rule(&a, DIRS), "/boot", None, "drwxrwxr-x root:root");
    assert_cites(rule(&a, DIRS), "/etc/motd", None, "-rw-r--rw- root:root");
}
