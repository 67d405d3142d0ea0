//! Snapshot builders for rule unit tests.
//!
//! Why it exists: each rule is tested with plain values; these builders keep
//! the tests about the rule, not about assembling a snapshot.

use std::collections::BTreeMap;

use warden_model::*;

pub fn source(at: Option<(&str, u32)>) -> Source {
    match at {
        Some((path, line)) => Source::file(path, line),
        None => Source::default_value("OpenSSH default"),
    }
}

pub fn sourced(value: &str, at: Option<(&str, u32)>) -> Sourced<String> {
    Sourced::new(value.to_string(), source(at))
}

/// A snapshot where every fact is absent or not collected.
pub fn base_snapshot() -> Snapshot {
    let nc = || "not collected in this test".to_string();
    Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        warden_version: "test".into(),
        collected_at: "2026-01-01T00:00:00Z".into(),
        root: "/test-root".into(),
        live: false,
        host: Host {
            hostname: Some("test-host".into()),
            os: Fact::NotCollected { reason: nc() },
            ec2_instance_id: None,
        },
        sshd: Fact::Absent { reason: "no sshd".into() },
        login_defs: Fact::NotCollected { reason: nc() },
        pam: Fact::NotCollected { reason: nc() },
        accounts: Fact::NotCollected { reason: nc() },
        system_paths: Fact::NotCollected { reason: nc() },
        sysctl: Fact::NotCollected { reason: nc() },
        boot_cmdline: Fact::NotCollected { reason: nc() },
        kernel: KernelFacts {
            randomize_va_space: Fact::NotCollected { reason: nc() },
            nx: Fact::NotCollected { reason: nc() },
        },
        listening: Fact::NotCollected { reason: nc() },
        packages: Fact::NotCollected { reason: nc() },
        system_config: Fact::NotCollected { reason: nc() },
        problems: vec![],
    }
}

type MatchSpec<'a> = (&'a str, &'a str, &'a str, (&'a str, u32));

type SettingSpec<'a> = (&'a str, &'a str, Option<(&'a str, u32)>);

pub fn snapshot_with_sshd(settings: &[SettingSpec], matches: &[MatchSpec]) -> Snapshot {
    let mut snap = base_snapshot();
    let settings = settings.iter().map(|(k, v, at)| (k.to_string(), sourced(v, *at))).collect();
    let match_blocks = matches
        .iter()
        .map(|(criteria, k, v, at)| SshdMatchBlock {
            criteria: criteria.to_string(),
            source: Source::file(at.0, at.1 - 1),
            settings: BTreeMap::from([(k.to_string(), sourced(v, Some(*at)))]),
        })
        .collect();
    snap.sshd = Fact::collected(SshdConfig {
        binary: Some("/usr/sbin/sshd".into()),
        version: None,
        main_file: "/etc/ssh/sshd_config".into(),
        files: vec!["/etc/ssh/sshd_config".into()],
        settings,
        multi: BTreeMap::new(),
        match_blocks,
        problems: vec![],
    });
    snap
}

pub fn set_sshd_version(snap: &mut Snapshot, version: Option<&str>) {
    if let Fact::Collected { value } = &mut snap.sshd {
        value.version = version.map(str::to_string);
    }
}

pub fn settings(pairs: &[(&str, &str, u32)], path: &str) -> Settings {
    pairs.iter().map(|(k, v, line)| (k.to_string(), sourced(v, Some((path, *line))))).collect()
}
