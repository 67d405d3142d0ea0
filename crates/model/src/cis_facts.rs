//! Snapshot facts that only the CIS probes read and that need more than one
//! file's lines: a bounded file-system walk (world-writable and unowned
//! paths), the audit rules and `auditd.conf`, the boot loader's password and
//! configuration files, the host firewall configurations and the mandatory
//! access control framework (AppArmor, SELinux).
//!
//! Why a module of its own: these are parsed summaries, not raw files, so a
//! snapshot stays small and never carries secrets (the boot loader password
//! hash is reduced to where it is set). They live in
//! [`crate::SystemConfig`] and are documented in `docs/snapshot.md` and
//! `docs/cis.md`; every field is optional in JSON so snapshots written by an
//! older Warden still load (their facts read as not collected).

use serde::{Deserialize, Serialize};

use crate::{Fact, PathStat, Settings, Sourced};

/// What a bounded walk of the local file systems found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsWalk {
    /// Most entries examined before the walk stops (the documented cap).
    pub cap: u64,
    /// Entries examined.
    pub examined: u64,
    /// Directories not descended into, with why (pseudo or remote file
    /// systems, `/proc`, `/sys`, `/dev`, `/run`).
    pub skipped: Vec<String>,
    /// Why the result is incomplete (the cap was hit, a directory could not
    /// be listed); `None` when every local entry was examined.
    pub partial: Option<String>,
    /// Whether `/etc/passwd` and `/etc/group` were read, so unowned and
    /// ungrouped entries can be told apart from lookups that failed.
    pub owners_known: bool,
    /// Regular files writable by others.
    pub world_writable_files: WalkHits,
    /// Directories writable by others without the sticky bit.
    pub world_writable_dirs_without_sticky: WalkHits,
    /// Entries whose uid has no `/etc/passwd` line.
    pub unowned: WalkHits,
    /// Entries whose gid has no `/etc/group` line.
    pub ungrouped: WalkHits,
}

/// Entries of one kind met by the walk: how many, and the first ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkHits {
    /// How many were met.
    pub count: u64,
    /// The first ones met (at most a fixed number, see `docs/cis.md`).
    pub paths: Vec<PathStat>,
}

/// Audit daemon configuration: rules and `auditd.conf`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConfig {
    /// Rule lines of `/etc/audit/rules.d/*.rules`, in the order augenrules
    /// concatenates them (file name order), comments and blank lines left out.
    pub rules_d: Vec<Sourced<String>>,
    /// Rule lines of `/etc/audit/audit.rules` (what auditd loads at boot).
    pub audit_rules: Vec<Sourced<String>>,
    /// `/etc/audit/auditd.conf`: lower-case key → value, last wins. `None` when the file does not exist.
    pub auditd_conf: Option<Settings>,
}

/// Boot loader facts (GRUB 2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootloader {
    /// The boot loader files found (`grub.cfg`, `user.cfg`, `grubenv`), with mode and owner.
    pub files: Vec<PathStat>,
    /// Where `set superusers=...` is set (the value is the user list).
    pub superusers: Vec<Sourced<String>>,
    /// Where a password is set: `password_pbkdf2 USER` (the hash is never
    /// copied) or `GRUB2_PASSWORD` in `user.cfg`.
    pub passwords: Vec<Sourced<String>>,
}

/// One host firewall utility's persisted configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallFacts {
    /// `nftables`, `ufw`, `iptables`, `ip6tables` or `firewalld`.
    pub utility: String,
    /// Files read.
    pub files: Vec<String>,
    /// The utility's own on/off switch when it has one (ufw `ENABLED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Sourced<String>>,
    /// Lower-case hook (`input`, `forward`, `output`) → policy
    /// (`accept`, `drop`, `reject`), where it is set.
    pub policies: std::collections::BTreeMap<String, Sourced<String>>,
    /// Rules (nftables/iptables rule lines, ufw user rules, firewalld services and ports).
    pub rules: u64,
}

/// Mandatory access control: AppArmor and SELinux configuration and state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacFacts {
    /// `/etc/selinux/config` (`SELINUX`, `SELINUXTYPE`); `None` when absent.
    pub selinux_config: Option<Settings>,
    /// AppArmor profile files in `/etc/apparmor.d` (top level): file → mode
    /// from its `flags=(...)` (`enforce` when no mode flag is set).
    pub apparmor_profiles: Vec<Sourced<String>>,
    /// Running state from `/sys` (live only).
    pub live: Fact<LiveMac>,
}

impl Default for MacFacts {
    /// No configuration, live state not collected.
    fn default() -> Self {
        MacFacts {
            selinux_config: None,
            apparmor_profiles: Vec::new(),
            live: Fact::NotCollected { reason: "not collected".to_string() },
        }
    }
}

/// The running kernel's security modules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMac {
    /// `/sys/kernel/security/lsm`: the active security modules, comma-separated.
    pub lsm: Option<Sourced<String>>,
    /// `/sys/module/apparmor/parameters/enabled` (`Y`/`N`).
    pub apparmor_enabled: Option<Sourced<String>>,
    /// `/sys/kernel/security/apparmor/profiles`: profile → mode (`enforce`, `complain`, ...).
    pub apparmor_loaded: Option<Vec<Sourced<String>>>,
    /// `/sys/fs/selinux/enforce` (`1` enforcing, `0` permissive); `None` when SELinux is not mounted.
    pub selinux_enforce: Option<Sourced<String>>,
}
