//! Unit tests of the CIS probes (pass and fail per probe type) and the
//! content linter over every embedded benchmark.
use std::collections::BTreeMap;

use warden_model::{
    FileFacts, FileKind, LoginDefs, ModprobeDirective, MountEntry, PathStat, SystemConfig, SystemdUnits, UnitLink,
};

use super::*;
use crate::best_practices::testing::{base_snapshot, snapshot_with_sshd, sourced};
use crate::cis::schema::BenchmarkFile;
use crate::cis::{CONTENT, inputs, parse};

fn check(toml_text: &str) -> Check {
    #[derive(serde::Deserialize)]
    struct W {
        check: Check,
    }
    toml::from_str::<W>(&format!("check = {toml_text}")).unwrap().check
}

fn params() -> BTreeMap<String, Scalar> {
    BTreeMap::from([("max".to_string(), Scalar::Int(365))])
}

fn outcome(snap: &Snapshot, c: &str) -> Outcome {
    evaluate(&check(c), snap, &params()).outcome
}

/// An image's configuration facts with nothing in them (shared with `eval_facts_tests`).
pub(crate) fn config() -> SystemConfig {
    SystemConfig {
        modprobe: vec![],
        loaded_modules: Fact::NotCollected { reason: "image".into() },
        fstab: Fact::collected(vec![]),
        mounts: Fact::NotCollected { reason: "image".into() },
        systemd: SystemdUnits::default(),
        sysctl_live: Fact::NotCollected { reason: "image".into() },
        files: BTreeMap::new(),
        fs_walk: Fact::NotCollected { reason: "not asked".into() },
        audit: Fact::Absent { reason: "no audit".into() },
        bootloader: Fact::Absent { reason: "no grub".into() },
        firewall: Fact::collected(vec![]),
        mac: Fact::collected(warden_model::MacFacts::default()),
    }
}

fn with_config(cfg: SystemConfig) -> Snapshot {
    Snapshot { system_config: Fact::collected(cfg), ..base_snapshot() }
}

fn file(path: &str, mode: u32, group: &str, lines: &[&str]) -> (String, Fact<FileFacts>) {
    let stat = PathStat {
        path: path.into(),
        kind: FileKind::File,
        mode,
        uid: 0,
        gid: 42,
        owner: Some("root".into()),
        group: Some(group.into()),
    };
    (path.to_string(), Fact::collected(FileFacts { stat, lines: Some(lines.iter().map(|s| s.to_string()).collect()) }))
}

#[test]
fn file_probe_mode_owner_group_and_absence() {
    let mut cfg = config();
    cfg.files.extend([file("/etc/shadow", 0o640, "shadow", &[]), file("/etc/crontab", 0o644, "root", &[])]);
    cfg.files.insert("/etc/gone".into(), Fact::Absent { reason: "no".into() });
    let s = with_config(cfg);
    let c = r#"{ probe = "file", path = "/etc/shadow", mode = "0640", owner = ["root"], group = ["root", "shadow"] }"#;
    assert_eq!(outcome(&s, c), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "file", path = "/etc/crontab", mode = "0600" }"#), Outcome::Fail);
    assert_eq!(outcome(&s, r#"{ probe = "file", path = "/etc/shadow", group = ["root"] }"#), Outcome::Fail);
    assert_eq!(outcome(&s, r#"{ probe = "file", path = "/etc/gone", mode = "0600" }"#), Outcome::NotApplicable);
    assert_eq!(outcome(&s, r#"{ probe = "file", path = "/etc/gone", exists = false }"#), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "file", path = "/etc/unlisted" }"#), Outcome::CouldNotEvaluate);
}

#[test]
fn file_content_and_setting_cite_lines() {
    let mut cfg = config();
    cfg.files.extend([file("/etc/issue", 0o644, "root", &["Debian GNU/Linux 12 \\n \\l"])]);
    cfg.files.extend([file("/etc/security/faillock.conf", 0o644, "root", &["# deny = 1", "deny = 3", "deny=9"])]);
    let s = with_config(cfg);
    let v = evaluate(
        &check(r#"{ probe = "file_content", path = "/etc/issue", pattern = "(?i)debian", present = false }"#),
        &s,
        &params(),
    );
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!((v.evidence[0].path.as_deref(), v.evidence[0].line), (Some("/etc/issue"), Some(1)));
    assert_eq!(
        outcome(&s, r#"{ probe = "file_content", path = "/etc/issue", pattern = "Authorized", present = false }"#),
        Outcome::Pass
    );
    let last = r#"{ probe = "file_setting", path = "/etc/security/faillock.conf", key = "deny", wins = "last", op = "int_le", value = 5 }"#;
    let v = evaluate(&check(last), &s, &params());
    assert_eq!((v.outcome, v.evidence[0].line), (Outcome::Fail, Some(3)));
    let first = r#"{ probe = "file_setting", path = "/etc/security/faillock.conf", key = "deny", wins = "first", op = "int_le", value = 5 }"#;
    assert_eq!(outcome(&s, first), Outcome::Pass);
}

#[test]
fn sshd_probe_and_combinators() {
    let s = snapshot_with_sshd(
        &[("permitrootlogin", "no", Some(("/etc/ssh/sshd_config", 3))), ("logingracetime", "2m", None)],
        &[],
    );
    assert_eq!(outcome(&s, r#"{ probe = "sshd", key = "permitrootlogin", op = "eq", value = "NO" }"#), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "sshd", key = "logingracetime", op = "int_le", value = 60 }"#), Outcome::Fail);
    let pass = r#"{ probe = "sshd", key = "permitrootlogin", op = "eq", value = "no" }"#;
    let fail = r#"{ probe = "sshd", key = "permitrootlogin", op = "eq", value = "yes" }"#;
    assert_eq!(outcome(&s, &format!("{{ all = [{pass}, {fail}] }}")), Outcome::Fail);
    assert_eq!(outcome(&s, &format!("{{ any = [{pass}, {fail}] }}")), Outcome::Pass);
    assert_eq!(outcome(&s, &format!("{{ none = [{fail}] }}")), Outcome::Pass);
    assert_eq!(outcome(&base_snapshot(), pass), Outcome::NotApplicable);
}

#[test]
fn login_defs_default_and_params() {
    let mut settings = warden_model::Settings::new();
    settings.insert("PASS_MAX_DAYS".into(), sourced("99999", Some(("/etc/login.defs", 160))));
    let s = Snapshot {
        login_defs: Fact::collected(LoginDefs { path: "/etc/login.defs".into(), settings, problems: vec![] }),
        ..base_snapshot()
    };
    assert_eq!(
        outcome(&s, r#"{ probe = "login_defs", key = "PASS_MAX_DAYS", op = "int_range", value = [1, "{max}"] }"#),
        Outcome::Fail
    );
    assert_eq!(
        outcome(&s, r#"{ probe = "login_defs", key = "PASS_WARN_AGE", op = "int_ge", value = 7, default = "7" }"#),
        Outcome::Pass
    );
    assert_eq!(
        outcome(&s, r#"{ probe = "login_defs", key = "PASS_MIN_DAYS", op = "int_ge", value = 1 }"#),
        Outcome::Fail
    );
}

#[test]
fn sysctl_persisted_default_and_live_only() {
    let s = with_config(config());
    assert_eq!(
        outcome(&s, r#"{ probe = "sysctl", key = "net.ipv4.ip_forward", op = "eq", value = "0", default = "0" }"#),
        Outcome::Pass
    );
    assert_eq!(
        outcome(
            &s,
            r#"{ probe = "sysctl", key = "net.ipv4.conf.all.log_martians", op = "eq", value = "1", default = "0" }"#
        ),
        Outcome::Fail
    );
    assert_eq!(
        outcome(&s, r#"{ probe = "sysctl", key = "kernel.x", op = "eq", value = "1" }"#),
        Outcome::CouldNotEvaluate
    );
}

#[test]
fn kernel_module_mount_unit_package() {
    let mut cfg = config();
    cfg.modprobe = vec![ModprobeDirective {
        directive: "install".into(),
        module: "cramfs".into(),
        command: Some("/bin/false".into()),
        source: Source::file("/etc/modprobe.d/cis.conf", 1),
    }];
    cfg.fstab = Fact::collected(vec![MountEntry {
        device: "tmpfs".into(),
        mount_point: "/tmp".into(),
        fs_type: "tmpfs".into(),
        options: vec!["nodev".into(), "nosuid".into()],
        source: Source::file("/etc/fstab", 2),
    }]);
    cfg.systemd.masked = vec![UnitLink {
        unit: "tmp.mount".into(),
        link: "/etc/systemd/system/tmp.mount".into(),
        target: "/dev/null".into(),
    }];
    let s = with_config(cfg);
    assert_eq!(outcome(&s, r#"{ probe = "kernel_module", name = "cramfs" }"#), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "kernel_module", name = "udf" }"#), Outcome::Fail);
    assert_eq!(outcome(&s, r#"{ probe = "mount", path = "/tmp", options = ["nodev"] }"#), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "mount", path = "/tmp", options = ["noexec"] }"#), Outcome::Fail);
    assert_eq!(
        outcome(&s, r#"{ probe = "mount", path = "/dev/shm", missing = "not_applicable" }"#),
        Outcome::NotApplicable
    );
    assert_eq!(outcome(&s, r#"{ probe = "systemd_unit", unit = "tmp.mount", state = "masked" }"#), Outcome::Pass);
    assert_eq!(outcome(&s, r#"{ probe = "systemd_unit", unit = "tmp.mount", state = "enabled" }"#), Outcome::Fail);
    assert_eq!(
        outcome(&s, r#"{ probe = "package", names = ["telnet"], installed = false }"#),
        Outcome::CouldNotEvaluate
    );
}

#[test]
fn bad_content_is_reported_with_location() {
    let e = parse("x.toml", "[benchmark]\nid = \"a\"\ntitle = \"t\"\nversion = \"1\"\napplies_to = []\n[[rule]]\nnumber = \"1\"\nid = \"a-1\"\ntitle = \"t\"\nrationale = \"r\"\nremediation = \"f\"\nprofiles = [\"level3\"]\nseverity = \"low\"\nautomated = true\n").unwrap_err();
    assert!(e.starts_with("x.toml: TOML parse error at line 12"), "{e}");
    let e = parse("y.toml", "[benchmark]\nid = \"a\"\ntitle = \"t\"\nversion = \"1\"\napplies_to = [{id=\"debian\", version=\"12\"}]\n[[rule]]\nnumber = \"1\"\nid = \"a-1\"\ntitle = \"t\"\nrationale = \"r\"\nremediation = \"f\"\nprofiles = [\"level1-server\"]\nseverity = \"low\"\nautomated = true\ncheck = { probe = \"sshd\", key = \"x\", op = \"int_le\", vale = 1 }\n").unwrap_err();
    assert!(e.contains("line 15") && e.contains("vale"), "{e}");
}

/// The content linter: every embedded benchmark parses and validates (unique
/// ids and numbers, known profiles, severities, texts, probes, regexes, params).
#[test]
fn embedded_content_is_valid() {
    let prefixes = [
        ("debian-12.toml", "deb12-", 200),
        ("ubuntu-24.04.toml", "ubu2404-", 200),
        ("ubuntu-22.04.toml", "ubu2204-", 120),
        ("rhel-9.toml", "rhel9-", 120),
        ("amazon-linux-2023.toml", "al2023-", 120),
    ];
    assert_eq!(CONTENT.len(), prefixes.len());
    let mut ids = std::collections::BTreeSet::new();
    for (file, text) in CONTENT {
        let b = parse(file, text).unwrap_or_else(|e| panic!("{e}"));
        let content: &BenchmarkFile = &b.content;
        assert!(ids.insert(content.benchmark.id.clone()), "duplicate benchmark id in {file}");
        let (_, prefix, least) = prefixes.iter().find(|p| p.0 == *file).unwrap_or_else(|| panic!("{file}: no prefix"));
        let automated = content.rules.iter().filter(|r| r.automated).count();
        assert!(automated >= *least, "{file}: {automated} automated recommendations, want at least {least}");
        for r in &content.rules {
            assert!(r.id.starts_with(prefix) && r.id.ends_with(&r.number), "{}", r.id);
            // Manual recommendations are listed for review, never scored: informational.
            assert!(r.automated || r.severity == "informational", "{}: manual but {}", r.id, r.severity);
        }
    }
    let i = inputs();
    assert!(i.stat_files.contains(&"/etc/shadow".to_string()));
    assert!(!i.text_files.contains(&"/etc/shadow".to_string()));
    assert!(i.text_files.contains(&"/etc/issue".to_string()));
    assert!(i.sysctls.contains(&"net.ipv4.ip_forward".to_string()));
}

/// The benchmark is chosen from os-release: `ID` first, then `ID_LIKE`
/// (a RHEL 9 rebuild Warden does not name gets the RHEL 9 family content).
#[test]
fn benchmark_is_chosen_from_os_release() {
    let all = crate::cis::embedded().unwrap();
    let pick = |id: &str, like: &[&str], version: &str| {
        let os = warden_model::OsRelease {
            path: "/etc/os-release".into(),
            id: id.into(),
            id_like: like.iter().map(|s| s.to_string()).collect(),
            version_id: Some(version.into()),
            version_codename: None,
            pretty_name: None,
            family: warden_model::OsFamily::Rhel,
        };
        crate::cis::for_os(all, &os).map(|b| b.content.benchmark.id.clone())
    };
    assert_eq!(pick("rocky", &["rhel", "centos", "fedora"], "9.4").as_deref(), Some("cis-rhel-9"));
    assert_eq!(pick("almalinux", &["rhel", "centos", "fedora"], "9.3").as_deref(), Some("cis-rhel-9"));
    assert_eq!(pick("rhel", &["fedora"], "9.2").as_deref(), Some("cis-rhel-9"));
    assert_eq!(pick("centos", &["rhel", "fedora"], "9").as_deref(), Some("cis-rhel-9"));
    assert_eq!(pick("rocky", &["rhel"], "8.9"), None);
    assert_eq!(pick("amzn", &["fedora"], "2023").as_deref(), Some("cis-amazon-linux-2023"));
    assert_eq!(pick("ubuntu", &["debian"], "22.04").as_deref(), Some("cis-ubuntu-22.04"));
    assert_eq!(pick("ubuntu", &["debian"], "24.04").as_deref(), Some("cis-ubuntu-24.04"));
    assert_eq!(pick("debian", &[], "12").as_deref(), Some("cis-debian-12"));
    // Ubuntu is like Debian, but Debian 12's content only names Debian 12.
    assert_eq!(pick("ubuntu", &["debian"], "12"), None);
}
