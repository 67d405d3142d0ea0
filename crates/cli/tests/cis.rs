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
    let score = &common::rule(&a, "cis-score").reason;
    assert!(
        score
            .contains("level1-server: 55.3% (73 passed, 59 failed, 76 not applicable, 0 could not evaluate, 8 manual)"),
        "{score}"
    );
    // Manual recommendations are listed for review, neither failed nor scored.
    let manual = common::rule(&a, "deb12-1.2.2.1");
    assert_eq!(manual.outcome, Outcome::Manual);
    assert!(a.findings.iter().all(|f| f.rule_id != "deb12-1.2.2.1"));
    // The bounded walk covered the whole root (no cap hit) and found nothing.
    for id in ["deb12-7.1.11", "deb12-7.1.12"] {
        let r = common::rule(&a, id);
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.reason);
        assert!(r.reason.contains("entries examined (not descended: /proc, /sys)"), "{}", r.reason);
    }
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

/// A tailoring file disables two recommendations (by Warden id and by CIS
/// number), relaxes a parameter so a failure becomes a pass, and picks the
/// profile. Disabled recommendations stay in the report as not applicable
/// with the tailoring's name, and the score leaves them out.
#[test]
fn tailoring_disables_sets_params_and_profile() {
    let Some(root) = common::debian_rootfs_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(
        &file,
        "[tailoring]\nbenchmark = \"cis-debian-12\"\nprofile = \"level2-server\"\n\
         disable = [\"deb12-1.1.1.1\", \"5.1.20\"]\n\n[params]\npass_max_days = 99999\n",
    )
    .unwrap();
    let (a, output) = common::assess(&["--root", root.to_str().unwrap(), "--cis-tailoring", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reason = format!("disabled by tailoring {}", file.display());
    for id in ["deb12-1.1.1.1", "deb12-5.1.20"] {
        let r = common::rule(&a, id);
        assert_eq!((r.outcome, r.reason.as_str()), (Outcome::NotApplicable, reason.as_str()));
        assert!(a.findings.iter().all(|f| f.rule_id != id));
    }
    // PASS_MAX_DAYS 99999 is within [1, 99999] once tailored.
    assert_eq!(common::rule(&a, "deb12-5.4.1.1").outcome, Outcome::Pass);
    // The tailoring's profile (Level 2 adds squashfs, udf) is reported.
    assert_eq!(common::rule(&a, "deb12-1.1.1.7").outcome, Outcome::Fail);
    let score = &common::rule(&a, "cis-score").reason;
    assert!(score.contains("(level2-server)"), "{score}");
    // Level 1 server: 73 passed, 59 failed untailored; two failures disabled, one turned to a pass.
    assert!(
        score
            .contains("level1-server: 56.9% (74 passed, 56 failed, 78 not applicable, 2 of them disabled by tailoring"),
        "{score}"
    );
    // Best practices still run: the tailoring adds cis to the default packages.
    assert!(a.packages.iter().any(|p| p.contains("Best Practices")), "{:?}", a.packages);
    // The command line's profile wins over the tailoring's.
    let (a, _) = common::assess(&[
        "--root",
        root.to_str().unwrap(),
        "--package",
        "cis",
        "--cis-profile",
        "level1-server",
        "--cis-tailoring",
        file.to_str().unwrap(),
    ]);
    assert!(a.rules.iter().all(|r| r.rule_id != "deb12-1.1.1.7"));
}

/// Bad tailoring files stop the run (exit 2) with the file, line and field.
#[test]
fn tailoring_errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let shown = file.display().to_string();
    let run = |text: &str, root: &str| {
        std::fs::write(&file, text).unwrap();
        let out = common::warden()
            .args(["assess", "--format", "json", "--package", "cis", "--root", root, "--cis-tailoring"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let debian = common::fixture("roots/debian-hardened/root");
    let debian = debian.to_str().unwrap();
    let e = run("[tailoring]\nbenchmark = \"cis-debian-12\"\ndisable = [\"deb12-42\"]\n", debian);
    assert!(e.contains(&format!("{shown}:3:12: [tailoring] disable: unknown recommendation \"deb12-42\"")), "{e}");
    let e = run("[tailoring]\nbenchmark = \"cis-debian-12\"\n[params]\nminlen = 8\n", debian);
    assert!(e.contains(&format!("{shown}:4:1: [params] minlen: unknown parameter")), "{e}");
    let e = run("[tailoring]\nbenchmark = \"cis-debian-12\"\n[params]\npass_max_days = 9.5\n", debian);
    assert!(e.contains(&format!("{shown}:4:17: [params] pass_max_days: wrong type: expected an integer")), "{e}");
    let alpine = common::fixture("roots/alpine-3.20-packages/root");
    let e = run("[tailoring]\nbenchmark = \"cis-debian-12\"\n", alpine.to_str().unwrap());
    assert!(e.contains(&format!("{shown}:2:13: [tailoring] benchmark: benchmark mismatch")), "{e}");
}

/// The ids of the failed recommendations (the score outcome left out), sorted.
fn failed_ids(a: &warden_model::Assessment) -> Vec<String> {
    let mut v: Vec<String> = a
        .rules
        .iter()
        .filter(|r| r.outcome == Outcome::Fail && r.rule_id != "cis-score")
        .map(|r| r.rule_id.clone())
        .collect();
    v.sort();
    v
}

fn assess_fixture(name: &str) -> Option<warden_model::Assessment> {
    let dir = common::fixture_root(name)?;
    Some(assess_root_dir(name, &dir.path().join("root")))
}

fn assess_root_dir(name: &str, root: &std::path::Path) -> warden_model::Assessment {
    let (a, output) =
        common::assess(&["--root", root.to_str().unwrap(), "--package", "cis", "--cis-profile", "level2-server"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let detail: Vec<String> = a.rules.iter().map(|r| format!("{} {:?}: {}", r.rule_id, r.outcome, r.reason)).collect();
    assert!(
        a.rules.iter().all(|r| r.outcome != Outcome::CouldNotEvaluate),
        "{name}: could not evaluate:\n{}",
        detail.join("\n")
    );
    eprintln!("{name}:\n{}", detail.join("\n"));
    a
}

/// `cis-pass` models every automated Level 2 server recommendation of
/// `debian-12.toml` that applies to it and passes each one: every probe
/// family passes somewhere, including ufw (enabled, default deny, loopback
/// rules), AppArmor (on the kernel command line, profiles in enforce mode:
/// 1.3.1.3-1.3.1.4), the GRUB password (1.4.1, a made-up hash), auditd
/// (auditd.conf, rules.d and audit.rules), rsyslog and journald, AIDE, sudo,
/// separate partitions, faillock/pwquality/pwhistory in every stack, and the
/// bounded walk (7.1.11-7.1.12) over the whole root. What stays not
/// applicable needs a package the fixture does not carry (nftables, chrony, iptables-persistent,
/// at, an MTA, systemd-journal-remote).
#[test]
fn cis_pass_fixture_passes_every_recommendation_it_models() {
    let Some(a) = assess_fixture("cis-pass") else { return };
    assert_eq!(failed_ids(&a), Vec::<String>::new());
    for id in [
        "deb12-1.3.1.1",
        "deb12-1.3.1.2",
        "deb12-1.3.1.3",
        "deb12-1.3.1.4",
        "deb12-1.4.1",
        "deb12-4.1.1",
        "deb12-4.2.7",
        "deb12-6.2.3.20",
        "deb12-7.1.11",
        "deb12-7.1.12",
    ] {
        assert_eq!(common::rule(&a, id).outcome, Outcome::Pass, "{id}");
    }
    let mut not_applicable: Vec<&str> =
        a.rules.iter().filter(|r| r.outcome == Outcome::NotApplicable).map(|r| r.rule_id.as_str()).collect();
    not_applicable.sort();
    assert_eq!(
        not_applicable,
        [
            "deb12-2.1.21",
            "deb12-2.3.3.1",
            "deb12-2.3.3.2",
            "deb12-2.3.3.3",
            "deb12-2.4.2.1",
            "deb12-4.3.10",
            "deb12-4.3.2",
            "deb12-4.3.4",
            "deb12-4.3.5",
            "deb12-4.3.6",
            "deb12-4.3.8",
            "deb12-4.3.9",
            "deb12-4.4.1.1",
            "deb12-4.4.1.2",
            "deb12-4.4.1.3",
            "deb12-4.4.2.1",
            "deb12-4.4.2.2",
            "deb12-4.4.2.3",
            "deb12-4.4.3.1",
            "deb12-4.4.3.2",
            "deb12-4.4.3.3",
            "deb12-6.1.2.1.1",
            "deb12-6.1.2.1.3",
            "deb12-6.1.2.1.4",
            "deb12-6.1.2.2",
            "deb12-6.1.2.4",
        ]
    );
    let walk = common::rule(&a, "deb12-7.1.11");
    assert!(walk.reason.contains("entries examined (not descended: none)"), "{}", walk.reason);
    // The boot loader evidence says where the password is set, never the hash.
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("FIXTUREONLYNOTAREALHASH"), "a password hash reached the report");
    common::assert_cites(common::rule(&a, "deb12-1.4.1"), "/etc/grub.d/40_custom", Some(5), "root");
}

/// `cis-iptables` (an overlay on `cis-pass`): iptables-persistent instead of
/// ufw, with `rules.v4`/`rules.v6` that drop by default and handle loopback;
/// every recommendation it models passes, the iptables ones (4.4.x) included.
#[test]
fn cis_iptables_fixture_passes_the_iptables_recommendations() {
    let Some(dir) = common::overlay_root("cis-pass", "cis-iptables") else { return };
    let a = assess_root_dir("cis-iptables", &dir.path().join("root"));
    assert_eq!(failed_ids(&a), Vec::<String>::new());
    for id in ["deb12-4.1.1", "deb12-4.4.1.1", "deb12-4.4.1.2", "deb12-4.4.1.3", "deb12-4.4.2.1", "deb12-4.4.2.2"] {
        assert_eq!(common::rule(&a, id).outcome, Outcome::Pass, "{id}");
    }
    for id in ["deb12-4.4.3.1", "deb12-4.4.3.2"] {
        assert_eq!(common::rule(&a, id).outcome, Outcome::Pass, "{id}");
    }
    assert_eq!(common::rule(&a, "deb12-4.2.7").outcome, Outcome::NotApplicable);
    common::assert_cites(common::rule(&a, "deb12-4.4.2.1"), "/etc/iptables/rules.v6", Some(3), "drop");
}

/// `cis-fail` (an overlay on `cis-pass`) breaks each probe family at least
/// once, on purpose (see `tests/fixtures/roots/README.md`); the exact failed
/// set is asserted, so every other recommendation still passes.
#[test]
fn cis_fail_fixture_fails_exactly_the_broken_recommendations() {
    let Some(dir) = common::overlay_root("cis-pass", "cis-fail") else { return };
    let a = assess_root_dir("cis-fail", &dir.path().join("root"));
    let mut want = vec![
        "deb12-1.1.1.1",   // kernel_module: cramfs not disabled
        "deb12-1.1.1.2",   // kernel_module: freevxfs not disabled
        "deb12-1.1.1.8",   // kernel_module: udf not disabled (Level 2)
        "deb12-1.1.2.1.4", // mount: /tmp without noexec
        "deb12-1.1.2.2.4", // mount: /dev/shm without noexec
        "deb12-1.1.2.5.4", // mount: /var/tmp without noexec
        "deb12-1.1.2.7.1", // mount: no /var/log/audit partition
        "deb12-1.3.1.4",   // mac: lsb_release profile in complain mode
        "deb12-1.4.1",     // bootloader: no superuser
        "deb12-1.4.2",     // bootloader/file: grub.cfg 0644
        "deb12-1.5.3",     // file_content: no `* hard core 0`
        "deb12-1.7.3",     // file_content: issue.net names the OS
        "deb12-2.2.4",     // package: inetutils-telnet installed
        "deb12-2.4.1.7",   // file: /etc/cron.d 0755
        "deb12-3.3.1",     // sysctl: ip_forward = 1 persisted
        "deb12-3.3.5",     // sysctl: all.accept_redirects = 1 persisted
        "deb12-4.2.7",     // firewall: ufw forward policy ACCEPT
        "deb12-5.1.1",     // file: sshd_config 0644
        "deb12-5.1.16",    // sshd: MaxAuthTries 6
        "deb12-5.1.20",    // sshd: PermitRootLogin yes
        "deb12-5.2.4",     // file_content: sudo NOPASSWD
        "deb12-5.3.1.3",   // package: no libpam-pwquality
        "deb12-5.3.2.4",   // pam: no pam_pwhistory
        "deb12-5.3.3.1.1", // file_setting: faillock deny = 10
        "deb12-5.3.3.2.2", // pam: pwquality minlen = 8
        "deb12-5.3.3.3.1", // pam: no pam_pwhistory
        "deb12-5.3.3.3.2", // pam: no pam_pwhistory
        "deb12-5.3.3.3.3", // file_content: no pam_pwhistory use_authtok
        "deb12-5.4.1.1",   // login_defs: PASS_MAX_DAYS 99999
        "deb12-5.4.2.1",   // accounts: toor has UID 0
        "deb12-6.1.1.4",   // systemd_unit: rsyslog installed but not enabled
        "deb12-6.1.3.2",   // systemd_unit: rsyslog not enabled
        "deb12-6.2.2.2",   // auditd_conf: max_log_file_action ROTATE
        "deb12-6.2.3.20",  // audit_rule: no `-e 2`
        "deb12-7.1.5",     // file: /etc/shadow 0644
        "deb12-7.1.11",    // fs_walk: /srv/drop/notes.txt 0666
        "deb12-7.1.12",    // fs_walk: /srv/drop/orphan.txt owned by 4321:4321
        "deb12-7.2.2",     // accounts: bob has an empty password
    ];
    want.sort();
    assert_eq!(failed_ids(&a), want);
    // AppArmor enabled (1.3.1.3) still passes: complain mode is enabled, not enforcing.
    assert_eq!(common::rule(&a, "deb12-1.3.1.3").outcome, Outcome::Pass);
    common::assert_cites(common::rule(&a, "deb12-7.1.11"), "/srv/drop/notes.txt", None, "0666 root:root");
    common::assert_cites(common::rule(&a, "deb12-7.1.12"), "/srv/drop/orphan.txt", None, "0644 4321:4321");
    common::assert_cites(common::rule(&a, "deb12-4.2.7"), "/etc/default/ufw", Some(19), "accept");
}

/// Ubuntu 22.04 (`cis-ubuntu2204`, an overlay on `cis-pass` with jammy's
/// os-release, OpenSSH 8.9, package versions and apport) assessed with the
/// Ubuntu 22.04 content: the hardening carried over from `cis-pass` passes;
/// what a stock jammy keeps fails: apport installed and enabled (1.5.5) and
/// the stock `/etc/issue` naming Ubuntu (1.6.2). The exact set is asserted.
#[test]
fn ubuntu2204_fixture_fails_exactly_the_expected_recommendations() {
    let Some(dir) = common::overlay_root("cis-pass", "cis-ubuntu2204") else { return };
    let a = assess_root_dir("cis-ubuntu2204", &dir.path().join("root"));
    assert!(common::rule(&a, "cis-score").reason.starts_with("CIS Ubuntu Linux 22.04 LTS Benchmark 2.0.0"));
    assert_eq!(failed_ids(&a), ["ubu2204-1.5.5", "ubu2204-1.6.2"]);
    common::assert_cites(common::rule(&a, "ubu2204-1.5.5"), "/etc/default/apport", Some(4), "enabled 1");
    assert_eq!(common::rule(&a, "ubu2204-1.3.1.4").outcome, Outcome::Pass);
    assert_eq!(common::rule(&a, "ubu2204-7.1.11").outcome, Outcome::Pass);
}

/// The RHEL 9 family content on `cis-rhel9` (Rocky Linux 9.4, a real rpm
/// database from `scripts/fixtures/make-cis-rpm-roots.sh`): SELinux
/// enforcing, firewalld with the default zone target, a GRUB password in
/// user.cfg, dnf gpgcheck, crypto policy modules, audit rules in rules.d,
/// auditd.conf, chrony, authselect all pass; broken on purpose: mcstrans
/// (1.3.1.7) and telnet (2.2.4) installed, a world-writable file (7.1.11);
/// the rest is what this small root does not carry (separate partitions,
/// persisted network sysctls, sshd hardening beyond the base, faillock and
/// pwquality settings, most audit rules, rsyslog.conf). The exact set is asserted.
#[test]
fn rhel9_fixture_fails_exactly_the_expected_recommendations() {
    let Some(a) = assess_fixture("cis-rhel9") else { return };
    assert!(common::rule(&a, "cis-score").reason.starts_with("CIS Red Hat Enterprise Linux 9 Benchmark 2.0.0"));
    let want = [
        "rhel9-1.1.1.6",
        "rhel9-1.1.2.1.1",
        "rhel9-1.1.2.2.1",
        "rhel9-1.1.2.3.1",
        "rhel9-1.1.2.4.1",
        "rhel9-1.1.2.5.1",
        "rhel9-1.1.2.6.1",
        "rhel9-1.1.2.7.1",
        "rhel9-1.3.1.7",
        "rhel9-1.5.2",
        "rhel9-1.5.3",
        "rhel9-2.2.4",
        "rhel9-2.4.1.8",
        "rhel9-3.3.11",
        "rhel9-3.3.2",
        "rhel9-3.3.5",
        "rhel9-3.3.6",
        "rhel9-3.3.7",
        "rhel9-3.3.8",
        "rhel9-3.3.9",
        "rhel9-5.1.13",
        "rhel9-5.1.15",
        "rhel9-5.1.16",
        "rhel9-5.1.18",
        "rhel9-5.1.4",
        "rhel9-5.1.5",
        "rhel9-5.1.7",
        "rhel9-5.1.8",
        "rhel9-5.1.9",
        "rhel9-5.2.2",
        "rhel9-5.2.3",
        "rhel9-5.2.7",
        "rhel9-5.3.2.2",
        "rhel9-5.3.3.1.1",
        "rhel9-5.3.3.1.2",
        "rhel9-5.3.3.1.3",
        "rhel9-5.3.3.2.1",
        "rhel9-5.3.3.2.4",
        "rhel9-5.3.3.2.5",
        "rhel9-5.3.3.2.8",
        "rhel9-5.3.3.4.1",
        "rhel9-5.4.1.2",
        "rhel9-5.4.1.5",
        "rhel9-5.4.3.2",
        "rhel9-5.4.3.3",
        "rhel9-6.1.2",
        "rhel9-6.1.3",
        "rhel9-6.2.3.4",
        "rhel9-6.3.3.10",
        "rhel9-6.3.3.11",
        "rhel9-6.3.3.12",
        "rhel9-6.3.3.13",
        "rhel9-6.3.3.15",
        "rhel9-6.3.3.16",
        "rhel9-6.3.3.17",
        "rhel9-6.3.3.18",
        "rhel9-6.3.3.19",
        "rhel9-6.3.3.2",
        "rhel9-6.3.3.3",
        "rhel9-6.3.3.4",
        "rhel9-6.3.3.5",
        "rhel9-6.3.3.7",
        "rhel9-6.3.3.9",
        "rhel9-7.1.11",
    ];
    assert_eq!(failed_ids(&a), want);
    for id in [
        "rhel9-1.3.1.5",
        "rhel9-1.4.1",
        "rhel9-1.4.2",
        "rhel9-4.2.1",
        "rhel9-1.2.1.2",
        "rhel9-6.3.3.20",
        "rhel9-6.3.2.2",
    ] {
        let r = common::rule(&a, id);
        assert_eq!(r.outcome, Outcome::Pass, "{id}: {}", r.reason);
    }
    let fw = common::rule(&a, "rhel9-4.2.1");
    common::assert_cites(fw, "/usr/lib/firewalld/zones/public.xml", Some(2), "reject");
    // The boot loader evidence says where the password is, never the hash.
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("FIXTUREONLYNOTAREALHASH"), "a password hash reached the report");
    common::assert_cites(common::rule(&a, "rhel9-1.4.1"), "/boot/grub2/user.cfg", Some(1), "GRUB2_PASSWORD");
    let ww = common::rule(&a, "rhel9-7.1.11");
    common::assert_cites(ww, "/srv/drop/notes.txt", None, "0666 root:root");
}

/// The Amazon Linux 2023 content on `cis-al2023` (AL2023 as launched: no
/// firewall, no AIDE, SELinux permissive, auditd.conf defaults, the stock
/// issue banner; a real rpm database). The exact failed set is asserted.
#[test]
fn al2023_fixture_fails_exactly_the_expected_recommendations() {
    let Some(a) = assess_fixture("cis-al2023") else { return };
    assert!(common::rule(&a, "cis-score").reason.starts_with("CIS Amazon Linux 2023 Benchmark 1.0.0"));
    let want = [
        "al2023-1.1.1.1",
        "al2023-1.1.1.2",
        "al2023-1.1.1.3",
        "al2023-1.1.1.4",
        "al2023-1.1.1.5",
        "al2023-1.1.1.6",
        "al2023-1.1.1.7",
        "al2023-1.1.1.8",
        "al2023-1.1.1.9",
        "al2023-1.1.2.1.1",
        "al2023-1.1.2.2.1",
        "al2023-1.1.2.3.1",
        "al2023-1.1.2.4.1",
        "al2023-1.1.2.5.1",
        "al2023-1.1.2.6.1",
        "al2023-1.1.2.7.1",
        "al2023-1.10.3",
        "al2023-1.10.4",
        "al2023-1.10.5",
        "al2023-1.2.1.3",
        "al2023-1.3.1",
        "al2023-1.4.1",
        "al2023-1.5.2",
        "al2023-1.5.3",
        "al2023-1.5.4",
        "al2023-1.5.5",
        "al2023-1.6.1.5",
        "al2023-1.7.2",
        "al2023-1.7.3",
        "al2023-3.3.11",
        "al2023-3.3.2",
        "al2023-3.3.5",
        "al2023-3.3.6",
        "al2023-3.3.7",
        "al2023-3.3.8",
        "al2023-3.3.9",
        "al2023-3.4.1.1",
        "al2023-3.4.1.2",
        "al2023-3.5.1",
        "al2023-3.5.2",
        "al2023-3.5.3",
        "al2023-3.5.4",
        "al2023-4.1.1.3",
        "al2023-4.1.1.4",
        "al2023-4.1.2.2",
        "al2023-4.1.2.3",
        "al2023-4.1.2.4",
        "al2023-4.1.3.1",
        "al2023-4.1.3.10",
        "al2023-4.1.3.11",
        "al2023-4.1.3.12",
        "al2023-4.1.3.13",
        "al2023-4.1.3.14",
        "al2023-4.1.3.15",
        "al2023-4.1.3.16",
        "al2023-4.1.3.17",
        "al2023-4.1.3.18",
        "al2023-4.1.3.19",
        "al2023-4.1.3.2",
        "al2023-4.1.3.20",
        "al2023-4.1.3.3",
        "al2023-4.1.3.4",
        "al2023-4.1.3.5",
        "al2023-4.1.3.7",
        "al2023-4.1.3.8",
        "al2023-4.1.3.9",
        "al2023-4.1.4.5",
        "al2023-4.2.3.2",
        "al2023-4.2.3.4",
        "al2023-5.1.1.8",
        "al2023-5.2.13",
        "al2023-5.2.15",
        "al2023-5.2.16",
        "al2023-5.2.18",
        "al2023-5.2.4",
        "al2023-5.2.5",
        "al2023-5.2.7",
        "al2023-5.2.8",
        "al2023-5.2.9",
        "al2023-5.3.2",
        "al2023-5.3.3",
        "al2023-5.3.7",
        "al2023-5.4.2.2",
        "al2023-5.4.3.1.1",
        "al2023-5.4.3.1.2",
        "al2023-5.4.3.1.3",
        "al2023-5.4.3.2.1",
        "al2023-5.4.3.2.4",
        "al2023-5.4.3.2.5",
        "al2023-5.4.3.2.8",
        "al2023-5.4.3.4.1",
        "al2023-5.6.1.2",
        "al2023-5.6.1.5",
        "al2023-5.6.3.2",
        "al2023-5.6.3.3",
    ];
    assert_eq!(failed_ids(&a), want);
    // SELinux permissive: enabled passes, enforcing fails; no firewall at all.
    assert_eq!(common::rule(&a, "al2023-1.6.1.4").outcome, Outcome::Pass);
    assert!(common::rule(&a, "al2023-1.6.1.5").reason.contains("SELINUX=permissive"));
    assert_eq!(common::rule(&a, "al2023-4.1.2.2").outcome, Outcome::Fail);
}
