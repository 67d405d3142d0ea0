//! End-to-end tests of the CIS package through the real `warden` binary.

mod common;

use warden_model::Outcome;

/// The real mmdebstrap Debian 12 root (`--variant=minbase
/// --include=openssh-server`). The expected failures follow from what such
/// a minimal install has and lacks:
/// - no modprobe.d file disables any file-system or usb-storage module (1.1.1.x;
///   squashfs and udf are Level 2 only);
/// - `/etc/fstab` is the empty "UNCONFIGURED FSTAB": /tmp and /dev/shm are not
///   separate mounts (1.1.2.1.1, 1.1.2.2.1; their option rules are not applicable);
/// - nothing persists sysctls except procps' protected-links file, so the
///   kernel built-in values apply at boot: ptrace_scope 0 (1.5.2), send_redirects,
///   accept_redirects, secure_redirects, default.accept_source_route,
///   accept_ra all 1, rp_filter and log_martians 0 (3.3.2, 3.3.5-3.3.9, 3.3.11);
///   no `* hard core 0` in limits.conf (1.5.3);
/// - /etc/motd, /etc/issue, /etc/issue.net name Debian (1.7.1-1.7.3);
/// - sshd_config is 0644 (5.1.1), and OpenSSH 9.2 defaults apply: no banner,
///   ClientAliveInterval 0, DisableForwarding no, LoginGraceTime 120,
///   MaxAuthTries 6, MaxStartups 10:30:100, PermitRootLogin prohibit-password
///   (5.1.5, 5.1.7, 5.1.8, 5.1.13, 5.1.16, 5.1.18, 5.1.20);
/// - PAM: no faillock, pwquality or pwhistory (5.3.3.1.1, 5.3.3.2.2, 5.3.3.2.3, 5.3.3.3.1);
/// - login.defs PASS_MAX_DAYS 99999, PASS_MIN_DAYS 0 (5.4.1.1, 5.4.1.2);
/// - no AppArmor (1.3.1.1), no time daemon (neither systemd-timesyncd nor
///   chrony, 2.3.1.1), no firewall (neither ufw nor nftables, 4.1.1);
/// - sshd: no AllowUsers/AllowGroups/DenyUsers/DenyGroups (5.1.4) and no
///   explicit MACs, so OpenSSH's default list with umac-64 applies (5.1.15);
/// - no sudo (5.2.1) and pam_wheel is commented out in /etc/pam.d/su (5.2.7);
/// - no libpam-pwquality (5.3.1.3), no pam_faillock/pam_pwquality/pam_pwhistory
///   in the stacks (5.3.2.2-5.3.2.4, 5.3.3.1.2, 5.3.3.2.1, 5.3.3.2.4,
///   5.3.3.2.5, 5.3.3.2.8, 5.3.3.3.2, 5.3.3.3.3); pam_unix has `nullok` in
///   common-auth (5.3.3.4.1) and no `use_authtok` (5.3.3.4.4);
/// - /etc/default/useradd leaves INACTIVE unset (5.4.1.5), no TMOUT (5.4.3.2),
///   login.defs UMASK 022 (5.4.3.3);
/// - no rsyslog nor systemd-journal-remote (6.1.3.1), no AIDE (6.3.1).
///
/// Cron, at, sudo, ufw, nftables, rsyslog, auditd and systemd are not installed
/// (their dependent rules are not applicable) and /boot/grub and
/// /etc/default/grub do not exist (1.3.1.2, 1.4.1, 1.4.2).
#[test]
fn debian12_rootfs_fails_exactly_the_expected_recommendations() {
    let Some(root) = common::debian_rootfs_or_skip() else { return };
    let (a, output) = common::assess(&["--root", root.to_str().unwrap(), "--package", "cis"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut failed: Vec<&str> = a
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::Fail && r.rule_id != "cis-score")
        .map(|r| r.rule_id.as_str())
        .collect();
    failed.sort();
    let mut want = vec![
        "deb12-1.1.1.1",
        "deb12-1.1.1.2",
        "deb12-1.1.1.3",
        "deb12-1.1.1.4",
        "deb12-1.1.1.5",
        "deb12-1.1.1.9",
        "deb12-1.1.2.1.1",
        "deb12-1.1.2.2.1",
        "deb12-1.5.2",
        "deb12-1.5.3",
        "deb12-1.7.1",
        "deb12-1.7.2",
        "deb12-1.7.3",
        "deb12-3.3.2",
        "deb12-3.3.5",
        "deb12-3.3.6",
        "deb12-3.3.7",
        "deb12-3.3.8",
        "deb12-3.3.9",
        "deb12-3.3.11",
        "deb12-5.1.1",
        "deb12-5.1.5",
        "deb12-5.1.7",
        "deb12-5.1.8",
        "deb12-5.1.13",
        "deb12-5.1.16",
        "deb12-5.1.18",
        "deb12-5.1.20",
        "deb12-5.3.3.1.1",
        "deb12-5.3.3.2.2",
        "deb12-5.3.3.2.3",
        "deb12-5.3.3.3.1",
        "deb12-5.4.1.1",
        "deb12-5.4.1.2",
        "deb12-1.3.1.1",   // no apparmor
        "deb12-2.3.1.1",   // no time daemon
        "deb12-4.1.1",     // no firewall
        "deb12-5.1.4",     // no sshd access list
        "deb12-5.1.15",    // default MACs
        "deb12-5.2.1",     // no sudo
        "deb12-5.2.7",     // no pam_wheel
        "deb12-5.3.1.3",   // no libpam-pwquality
        "deb12-5.3.2.2",   // no pam_faillock
        "deb12-5.3.2.3",   // no pam_pwquality
        "deb12-5.3.2.4",   // no pam_pwhistory
        "deb12-5.3.3.1.2", // no unlock_time
        "deb12-5.3.3.2.1", // no pwquality
        "deb12-5.3.3.2.4", // no pwquality
        "deb12-5.3.3.2.5", // no pwquality
        "deb12-5.3.3.2.8", // no pwquality
        "deb12-5.3.3.3.2", // no pwhistory
        "deb12-5.3.3.3.3", // no pwhistory
        "deb12-5.3.3.4.1", // nullok
        "deb12-5.3.3.4.4", // no use_authtok
        "deb12-5.4.1.5",   // INACTIVE unset
        "deb12-5.4.3.2",   // no TMOUT
        "deb12-5.4.3.3",   // UMASK 022
        "deb12-6.1.3.1",   // no rsyslog
        "deb12-6.3.1",     // no AIDE
    ];
    want.sort();
    assert_eq!(failed, want);
    assert!(a.rules.iter().all(|r| r.outcome != Outcome::CouldNotEvaluate), "{:#?}", a.rules);
    let f = a.findings.iter().find(|f| f.rule_id == "deb12-5.1.20").unwrap();
    assert_eq!(f.attributes["BENCHMARK_RULE_ID"], "5.1.20");
    assert_eq!(f.attributes["CIS_BENCHMARK_PROFILE"], "level1-server");
    assert!(f.attributes["BENCHMARK_ID"].starts_with("CIS Debian Linux 12 Benchmark"));
    assert!(common::rule(&a, "cis-score").reason.contains("level1-server: 54.6% (71 passed, 59 failed"));
}

/// An OS without a benchmark gets one informational finding, not silence.
#[test]
fn os_without_benchmark_gets_an_informational_finding() {
    let root = common::fixture("roots/alpine-3.20-packages/root");
    let (a, output) = common::assess(&["--root", root.to_str().unwrap(), "--package", "cis"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].rule_id, "cis-no-benchmark");
    assert_eq!(common::rule(&a, "cis-score").outcome, Outcome::NotApplicable);
}
