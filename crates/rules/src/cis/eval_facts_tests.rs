//! Unit tests of the probes over parsed facts: a passing and a failing
//! snapshot per probe, partial walks, and no password hash in evidence.
use std::collections::BTreeMap;

use warden_model::{
    AuditConfig, Bootloader, FileKind, FirewallFacts, FsWalk, LiveMac, MacFacts, Outcome, PathStat, Settings, Snapshot,
    Source, Sourced, SysctlConfig, SystemConfig, WalkHits,
};

use crate::best_practices::testing::base_snapshot;
use crate::cis::eval::{evaluate, glob_match};
use crate::cis::schema::{Check, Scalar};

fn check(toml_text: &str) -> Check {
    #[derive(serde::Deserialize)]
    struct W {
        check: Check,
    }
    toml::from_str::<W>(&format!("check = {toml_text}")).unwrap().check
}

fn run(snap: &Snapshot, c: &str) -> crate::Verdict {
    evaluate(&check(c), snap, &BTreeMap::<String, Scalar>::new())
}

use crate::cis::eval::tests::config as cfg;
use warden_model::Fact;

fn snap(c: SystemConfig) -> Snapshot {
    Snapshot { system_config: Fact::collected(c), ..base_snapshot() }
}

fn stat(path: &str, mode: u32, uid: u32) -> PathStat {
    PathStat {
        path: path.into(),
        kind: FileKind::File,
        mode,
        uid,
        gid: 0,
        owner: (uid == 0).then(|| "root".into()),
        group: Some("root".into()),
    }
}

fn src(path: &str, line: u32, v: &str) -> Sourced<String> {
    Sourced::new(v.to_string(), Source::file(path, line))
}

#[test]
fn fs_walk_pass_fail_and_partial() {
    let ww = r#"{ probe = "fs_walk", find = "world_writable_files" }"#;
    let unowned = r#"{ probe = "fs_walk", find = "unowned" }"#;
    let mut c = cfg();
    c.fs_walk = Fact::collected(FsWalk { cap: 10, examined: 5, owners_known: true, ..FsWalk::default() });
    assert_eq!(run(&snap(c.clone()), ww).outcome, Outcome::Pass);
    let mut w = FsWalk { cap: 10, examined: 10, owners_known: true, ..FsWalk::default() };
    w.world_writable_files = WalkHits { count: 3, paths: vec![stat("/srv/x", 0o666, 0)] };
    w.unowned = WalkHits { count: 1, paths: vec![stat("/home/gone", 0o644, 4242)] };
    w.partial = Some("the walk stopped at its cap of 10 entries".into());
    c.fs_walk = Fact::collected(w.clone());
    let v = run(&snap(c.clone()), ww);
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(v.evidence[0].path.as_deref(), Some("/srv/x"));
    assert_eq!(v.evidence[1].message, "2 more not listed");
    assert!(v.reason.contains("at least"), "{}", v.reason);
    assert_eq!(run(&snap(c.clone()), unowned).outcome, Outcome::Fail);
    // None found, but partial: never a pass.
    let dirs = r#"{ probe = "fs_walk", find = "world_writable_dirs_without_sticky" }"#;
    assert_eq!(run(&snap(c.clone()), dirs).outcome, Outcome::CouldNotEvaluate);
    w.owners_known = false;
    c.fs_walk = Fact::collected(w);
    assert_eq!(run(&snap(c.clone()), unowned).outcome, Outcome::CouldNotEvaluate);
    c.fs_walk = Fact::NotCollected { reason: "x".into() };
    assert_eq!(run(&snap(c), ww).outcome, Outcome::CouldNotEvaluate);
}

#[test]
fn audit_rules_from_rules_d_and_auditd_conf() {
    let mut c = cfg();
    let present = r#"{ probe = "audit_rule", pattern = "^-w /etc/sudoers -p [rx]*wa" }"#;
    let conf = r#"{ probe = "auditd_conf", key = "max_log_file_action", op = "eq", value = "keep_logs" }"#;
    assert_eq!(run(&snap(c.clone()), present).outcome, Outcome::Fail, "no audit configuration at all");
    let mut a = AuditConfig {
        rules_d: vec![src("/etc/audit/rules.d/50-scope.rules", 2, "-w /etc/sudoers -p wa -k scope")],
        audit_rules: vec![],
        auditd_conf: Some(Settings::from([(
            "max_log_file_action".to_string(),
            src("/etc/audit/auditd.conf", 4, "ROTATE"),
        )])),
    };
    c.audit = Fact::collected(a.clone());
    let v = run(&snap(c.clone()), present);
    assert_eq!(v.outcome, Outcome::Pass);
    assert_eq!(
        (v.evidence[0].path.as_deref(), v.evidence[0].line),
        (Some("/etc/audit/rules.d/50-scope.rules"), Some(2))
    );
    assert_eq!(run(&snap(c.clone()), conf).outcome, Outcome::Fail);
    a.auditd_conf.as_mut().unwrap().insert("max_log_file_action".into(), src("/etc/audit/auditd.conf", 4, "keep_logs"));
    a.rules_d.clear();
    a.audit_rules = vec![src("/etc/audit/audit.rules", 9, "-w /etc/sudoers -p wa -k scope")];
    c.audit = Fact::collected(a);
    assert_eq!(run(&snap(c.clone()), conf).outcome, Outcome::Pass);
    assert_eq!(run(&snap(c.clone()), present).outcome, Outcome::Pass, "audit.rules counts too");
    let absent = r#"{ probe = "audit_rule", pattern = "sudoers", present = false }"#;
    assert_eq!(run(&snap(c), absent).outcome, Outcome::Fail);
}

#[test]
fn bootloader_password_and_permissions() {
    let mut c = cfg();
    let pw = r#"{ probe = "bootloader", check = "password" }"#;
    let perms = r#"{ probe = "bootloader", check = "permissions", mode = "0600", owner = ["root"], group = ["root"] }"#;
    assert_eq!(run(&snap(c.clone()), pw).outcome, Outcome::NotApplicable);
    let mut b = Bootloader { files: vec![stat("/boot/grub/grub.cfg", 0o444, 0)], ..Bootloader::default() };
    b.superusers.push(src("/boot/grub/grub.cfg", 10, "root"));
    c.bootloader = Fact::collected(b.clone());
    assert_eq!(run(&snap(c.clone()), pw).outcome, Outcome::Fail);
    assert_eq!(run(&snap(c.clone()), perms).outcome, Outcome::Fail);
    b.passwords.push(src("/boot/grub/grub.cfg", 11, "password_pbkdf2 root"));
    b.files[0].mode = 0o400;
    c.bootloader = Fact::collected(b);
    let v = run(&snap(c.clone()), pw);
    assert_eq!(v.outcome, Outcome::Pass);
    assert!(v.evidence.iter().any(|e| e.line == Some(11) && e.text.as_deref() == Some("password_pbkdf2 root")));
    assert_eq!(run(&snap(c), perms).outcome, Outcome::Pass);
}

fn fw(utility: &str, policies: &[(&str, &str)], rules: u64) -> FirewallFacts {
    FirewallFacts {
        utility: utility.into(),
        files: vec![format!("/etc/{utility}.conf")],
        enabled: None,
        policies: policies.iter().map(|(h, p)| (h.to_string(), src("/etc/x", 1, p))).collect(),
        rules,
    }
}

#[test]
fn firewall_configured_and_default_deny() {
    let mut c = cfg();
    let any = r#"{ probe = "firewall", utility = "any", check = "configured" }"#;
    let deny = r#"{ probe = "firewall", utility = "any", check = "default_deny" }"#;
    let ipt = r#"{ probe = "firewall", utility = "iptables", check = "default_deny" }"#;
    let ufw = r#"{ probe = "firewall", utility = "ufw", check = "default_deny", hooks = ["input", "output"] }"#;
    assert_eq!(run(&snap(c.clone()), any).outcome, Outcome::Fail);
    c.firewall = Fact::collected(vec![
        fw("nftables", &[("input", "accept")], 2),
        fw("iptables", &[("input", "drop"), ("forward", "drop")], 1),
        fw("ip6tables", &[("input", "accept"), ("forward", "drop")], 0),
    ]);
    assert_eq!(run(&snap(c.clone()), any).outcome, Outcome::Pass);
    // nftables accepts; iptables v4 drops but v6 accepts: no utility denies by default.
    assert_eq!(run(&snap(c.clone()), deny).outcome, Outcome::Fail);
    assert_eq!(run(&snap(c.clone()), ipt).outcome, Outcome::Fail);
    let mut u = fw("ufw", &[("input", "drop"), ("output", "reject")], 0);
    u.enabled = Some(src("/etc/ufw/ufw.conf", 3, "no"));
    c.firewall = Fact::collected(vec![u.clone()]);
    assert_eq!(run(&snap(c.clone()), ufw).outcome, Outcome::Fail, "ufw switched off");
    u.enabled = Some(src("/etc/ufw/ufw.conf", 3, "yes"));
    c.firewall = Fact::collected(vec![u]);
    assert_eq!(run(&snap(c), ufw).outcome, Outcome::Pass);
}

#[test]
fn selinux_and_apparmor() {
    let mut c = cfg();
    let se_enf = r#"{ probe = "mac", framework = "selinux", state = "enforcing" }"#;
    let se_on = r#"{ probe = "mac", framework = "selinux", state = "enabled" }"#;
    let aa_on = r#"{ probe = "mac", framework = "apparmor", state = "enabled" }"#;
    let aa_enf = r#"{ probe = "mac", framework = "apparmor", state = "enforcing" }"#;
    assert_eq!(run(&snap(c.clone()), se_on).outcome, Outcome::Fail);
    let mut m = MacFacts {
        selinux_config: Some(Settings::from([("SELINUX".to_string(), src("/etc/selinux/config", 7, "permissive"))])),
        apparmor_profiles: vec![
            src("/etc/apparmor.d/usr.bin.man", 3, "enforce"),
            src("/etc/apparmor.d/x", 1, "complain"),
        ],
        live: Fact::NotCollected { reason: "image".into() },
    };
    c.mac = Fact::collected(m.clone());
    assert_eq!(run(&snap(c.clone()), se_on).outcome, Outcome::Pass);
    assert_eq!(run(&snap(c.clone()), se_enf).outcome, Outcome::Fail);
    assert_eq!(run(&snap(c.clone()), aa_on).outcome, Outcome::Pass);
    assert_eq!(run(&snap(c.clone()), aa_enf).outcome, Outcome::Fail);
    m.selinux_config.as_mut().unwrap().insert("SELINUX".into(), src("/etc/selinux/config", 7, "enforcing"));
    m.apparmor_profiles.pop();
    c.mac = Fact::collected(m.clone());
    assert_eq!(run(&snap(c.clone()), se_enf).outcome, Outcome::Pass);
    assert_eq!(run(&snap(c.clone()), aa_enf).outcome, Outcome::Pass);
    // The kernel command line can switch either off.
    let mut s = snap(c.clone());
    s.boot_cmdline = Fact::collected(vec![src("/etc/default/grub", 6, "quiet enforcing=0 apparmor=0")]);
    assert_eq!(run(&s, se_enf).outcome, Outcome::Fail);
    assert_eq!(run(&s, se_on).outcome, Outcome::Pass);
    assert_eq!(run(&s, aa_on).outcome, Outcome::Fail);
    // Live: the running state decides too.
    m.live = Fact::collected(LiveMac {
        selinux_enforce: Some(Sourced::new("0".into(), Source::Kernel { path: "/sys/fs/selinux/enforce".into() })),
        apparmor_enabled: Some(Sourced::new(
            "Y".into(),
            Source::Kernel { path: "/sys/module/apparmor/parameters/enabled".into() },
        )),
        apparmor_loaded: Some(vec![Sourced::new(
            "/usr/bin/man (complain)".into(),
            Source::Kernel { path: "p".into() },
        )]),
        lsm: None,
    });
    c.mac = Fact::collected(m);
    assert_eq!(run(&snap(c.clone()), se_enf).outcome, Outcome::Fail);
    assert_eq!(run(&snap(c.clone()), aa_on).outcome, Outcome::Pass);
    assert_eq!(run(&snap(c), aa_enf).outcome, Outcome::Fail);
}

#[test]
fn sysctl_glob_keys_apply_in_file_order() {
    let key = r#"{ probe = "sysctl", key = "net.ipv4.conf.all.rp_filter", op = "eq", value = "1" }"#;
    let files = vec!["/usr/lib/sysctl.d/50-default.conf".to_string(), "/etc/sysctl.d/90-site.conf".to_string()];
    let mut settings = Settings::new();
    settings.insert("net.ipv4.conf.all.rp_filter".into(), src(&files[0], 3, "2"));
    settings.insert("net.ipv4.conf.*.rp_filter".into(), src(&files[1], 1, "1"));
    let mut s = snap(cfg());
    s.sysctl = Fact::collected(SysctlConfig { files: files.clone(), settings: settings.clone() });
    let v = run(&s, key);
    assert_eq!(v.outcome, Outcome::Pass, "{}", v.reason);
    assert_eq!(v.evidence[0].path.as_deref(), Some("/etc/sysctl.d/90-site.conf"));
    // The exact key set later wins over the glob.
    settings.insert("net.ipv4.conf.all.rp_filter".into(), src(&files[1], 2, "0"));
    s.sysctl = Fact::collected(SysctlConfig { files, settings });
    assert_eq!(run(&s, key).outcome, Outcome::Fail);
    assert!(glob_match(b"net.*.rp_filter", b"net.ipv4.conf.all.rp_filter"));
    assert!(glob_match(b"kernel.?ysrq", b"kernel.sysrq"));
    assert!(!glob_match(b"net.ipv6.*", b"net.ipv4.ip_forward"));
}
