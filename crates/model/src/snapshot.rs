//! The host snapshot: every fact the rules need, read once from a root path.
//!
//! Why it exists: collection (I/O, privileges, a live host or a mounted disk)
//! and evaluation (pure rules) happen at different times and often on
//! different machines (`warden collect -o snap.json` on the host, `warden
//! assess --snapshot snap.json` elsewhere). This module is the contract
//! between them. Its JSON form is documented in `docs/snapshot.md`; any
//! incompatible change bumps [`SNAPSHOT_SCHEMA_VERSION`].
//!
//! Every fact is a [`Fact`]: collected, absent (the thing does not exist on the
//! host, e.g. no sshd), failed (a file could not be read or parsed: the
//! [`Problem`] names the path and line), or not collected (a live-only fact on
//! a root directory). Values that came from a file keep their [`Source`], so a
//! finding can cite the file and line that caused it.
//!
//! Secrets: the snapshot never holds password hashes. `/etc/shadow` is reduced
//! to aging fields and a coarse [`PasswordState`] while it is parsed.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Version of the snapshot JSON schema. Readers refuse other versions.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// Something that went wrong while reading a fact. Always names the file (or
/// /proc entry) and, where known, the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Path as seen on the assessed host (inside the root), e.g. `/etc/ssh/sshd_config`.
    pub path: String,
    /// 1-based line number, when the problem is on a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What went wrong, in words.
    pub message: String,
}

impl Problem {
    /// A problem with a whole file.
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), line: None, message: message.into() }
    }
    /// A problem on one line of a file.
    pub fn at_line(path: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Problem { path: path.into(), line: Some(line), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// One collected fact and how its collection went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Fact<T> {
    /// Collected. The value may still carry problems of its own (partial data).
    Collected {
        /// The fact.
        value: T,
    },
    /// The thing does not exist on the host (no sshd installed, no PAM): rules
    /// that depend on it are not applicable.
    Absent {
        /// Why it is considered absent, e.g. "no /usr/sbin/sshd and no /etc/ssh/sshd_config".
        reason: String,
    },
    /// Collection failed; rules that depend on it could not be evaluated.
    Failed {
        /// What failed, with path and line.
        problem: Problem,
    },
    /// Not collected on purpose, e.g. a live-only fact when the root is not `/`.
    NotCollected {
        /// Why it was not collected.
        reason: String,
    },
}

impl<T> Fact<T> {
    /// The value, when collected.
    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Collected { value } => Some(value),
            _ => None,
        }
    }
    /// Wraps a value.
    pub fn collected(value: T) -> Self {
        Fact::Collected { value }
    }
    /// Why there is no value (for `could not evaluate` / `not applicable` messages).
    pub fn reason(&self) -> Option<String> {
        match self {
            Fact::Collected { .. } => None,
            Fact::Absent { reason } | Fact::NotCollected { reason } => Some(reason.clone()),
            Fact::Failed { problem } => Some(problem.to_string()),
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Written in a file at a line (1-based).
    File {
        /// Path inside the assessed root.
        path: String,
        /// 1-based line.
        line: u32,
    },
    /// Not written anywhere: the program's built-in default applies.
    Default {
        /// Which default and why, e.g. "OpenSSH >= 7.0 default".
        note: String,
    },
    /// Read live from the kernel (a /proc or /sys path).
    Kernel {
        /// The /proc or /sys path.
        path: String,
    },
}

impl Source {
    /// A file location.
    pub fn file(path: impl Into<String>, line: u32) -> Self {
        Source::File { path: path.into(), line }
    }
    /// A built-in default.
    pub fn default_value(note: impl Into<String>) -> Self {
        Source::Default { note: note.into() }
    }
}

/// A value together with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    /// The value as written (for settings: the rest of the line after the keyword, trimmed).
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Sourced<T> {
    /// Pairs a value with its source.
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}

/// Keyword → effective value. Keys are as the format defines them (sshd:
/// lower-case; login.defs: as written, they are case-sensitive).
pub type Settings = BTreeMap<String, Sourced<String>>;

/// The snapshot of one host (or root filesystem).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// Version of the Warden that collected it.
    pub warden_version: String,
    /// When collection started, RFC 3339 UTC.
    pub collected_at: String,
    /// The root path that was read (`/` for the live host).
    pub root: String,
    /// Whether live kernel facts (/proc) were read: true only when the root is `/`.
    pub live: bool,
    /// Identity of the host.
    pub host: Host,
    /// Effective sshd configuration.
    pub sshd: Fact<SshdConfig>,
    /// `/etc/login.defs`.
    pub login_defs: Fact<LoginDefs>,
    /// PAM password stack and password-quality configuration.
    pub pam: Fact<PamPolicy>,
    /// Password aging of every account in `/etc/shadow` (no hashes).
    pub accounts: Fact<Vec<AccountAging>>,
    /// Modes and owners of system directories and their entries.
    pub system_paths: Fact<Vec<SystemPath>>,
    /// Kernel parameters persisted in sysctl configuration files.
    pub sysctl: Fact<SysctlConfig>,
    /// Kernel command line persisted in the boot loader configuration.
    pub boot_cmdline: Fact<Vec<Sourced<String>>>,
    /// Live kernel facts.
    pub kernel: KernelFacts,
    /// Listening TCP/UDP sockets (live only).
    pub listening: Fact<Vec<ListeningSocket>>,
    /// Installed OS packages, one inventory per package database found
    /// (dpkg, rpm, apk). Absent when the root has no package database.
    #[serde(default = "not_collected_by_older_warden")]
    pub packages: Fact<Vec<PackageInventory>>,
    /// Configuration facts the CIS benchmark probes read: modprobe.d
    /// directives, loaded modules, fstab and live mounts, systemd unit
    /// links, live kernel parameters and the files the content names.
    #[serde(default = "not_collected_by_older_warden")]
    pub system_config: Fact<SystemConfig>,
    /// Non-fatal problems met during collection (partial data).
    #[serde(default)]
    pub problems: Vec<Problem>,
}

fn not_collected_by_older_warden<T>() -> Fact<T> {
    Fact::NotCollected { reason: "not collected by the Warden that wrote this snapshot".to_string() }
}

impl Snapshot {
    /// Every problem met during collection: the snapshot-level ones and those
    /// recorded inside facts (sshd, login.defs, PAM, system directories),
    /// sorted by path and line, without duplicates.
    pub fn all_problems(&self) -> Vec<Problem> {
        let mut all = self.problems.clone();
        if let Some(v) = self.sshd.value() {
            all.extend(v.problems.iter().cloned());
        }
        if let Some(v) = self.login_defs.value() {
            all.extend(v.problems.iter().cloned());
        }
        if let Some(v) = self.pam.value() {
            all.extend(v.problems.iter().cloned());
        }
        if let Some(v) = self.system_paths.value() {
            all.extend(v.iter().filter_map(|d| d.problem.clone()));
        }
        if let Some(v) = self.packages.value() {
            all.extend(v.iter().flat_map(|i| i.problems.iter().cloned()));
        }
        all.sort_by(|a, b| (&a.path, a.line, &a.message).cmp(&(&b.path, b.line, &b.message)));
        all.dedup();
        all
    }
}

/// Host identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Host name (`/etc/hostname`, or the kernel's on a live host).
    pub hostname: Option<String>,
    /// `/etc/os-release` (or `/usr/lib/os-release`).
    pub os: Fact<OsRelease>,
    /// The EC2 instance id (`i-...`), when the host says it is one: the DMI
    /// board asset tag of a Nitro instance, read on the live host only. The
    /// fleet server matches an agent to its instance by it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
}

/// The OS families Warden knows how to assess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsFamily {
    /// Debian, Ubuntu and derivatives.
    Debian,
    /// RHEL, CentOS, Rocky, AlmaLinux, Fedora, Amazon Linux, Oracle Linux.
    Rhel,
    /// Alpine Linux.
    Alpine,
    /// SUSE Linux Enterprise, openSUSE.
    Suse,
    /// Anything else.
    Other,
}

/// Parsed `/etc/os-release`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OsRelease {
    /// Which file was read.
    pub path: String,
    /// `ID`, e.g. `debian`, `ubuntu`, `rocky`, `amzn`, `alpine`, `sles`.
    pub id: String,
    /// `ID_LIKE`, split on spaces.
    pub id_like: Vec<String>,
    /// `VERSION_ID`, e.g. `12`, `22.04`, `3.20.3`, `2023`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub version_codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// Derived family.
    pub family: OsFamily,
}

/// The effective sshd configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshdConfig {
    /// The sshd binary found, if any (e.g. `/usr/sbin/sshd`).
    pub binary: Option<String>,
    /// OpenSSH version (e.g. `9.2p1`), read from the binary or the package database.
    pub version: Option<String>,
    /// The main configuration file, e.g. `/etc/ssh/sshd_config` (may not exist).
    pub main_file: String,
    /// Every file read, in the order sshd reads them (main file, then each `Include` in place).
    pub files: Vec<String>,
    /// Global single-valued keywords (lower-case) → effective value: the FIRST
    /// value met across the main file and its includes, in reading order,
    /// outside any `Match` block; OpenSSH defaults fill keywords never set
    /// (with a `Default` source that says which version's default).
    pub settings: Settings,
    /// Keywords that accumulate (e.g. `port`, `listenaddress`, `hostkey`,
    /// `acceptenv`): every value in reading order.
    pub multi: BTreeMap<String, Vec<Sourced<String>>>,
    /// `Match` blocks in order; they do not change the global values.
    pub match_blocks: Vec<SshdMatchBlock>,
    /// Non-fatal problems (unknown keyword, unreadable include, bad line).
    pub problems: Vec<Problem>,
}

/// One `Match` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshdMatchBlock {
    /// The criteria as written, e.g. `User backup Address 10.0.0.0/8`.
    pub criteria: String,
    /// Where the `Match` line is.
    pub source: Source,
    /// Keywords set inside the block (first value wins inside the block too).
    pub settings: Settings,
}

/// `/etc/login.defs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginDefs {
    /// The file read.
    pub path: String,
    /// Key (case as written) → value. The LAST occurrence wins, as in shadow-utils.
    pub settings: Settings,
    /// Non-fatal problems.
    pub problems: Vec<Problem>,
}

/// The PAM password stacks and the files that configure password quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PamPolicy {
    /// The password-changing stacks examined (Debian/SUSE `common-password`,
    /// RHEL `system-auth` and `password-auth`, or `passwd` where those are
    /// absent), with includes expanded.
    pub stacks: Vec<PamStack>,
    /// `/etc/security/pwquality.conf` plus `pwquality.conf.d/*.conf`, merged
    /// (see `docs/snapshot.md` for the precedence). Absent when neither exists.
    pub pwquality_conf: Option<ConfigFile>,
    /// `/etc/security/pwhistory.conf`, when it exists.
    pub pwhistory_conf: Option<ConfigFile>,
    /// Non-fatal problems.
    pub problems: Vec<Problem>,
}

/// A `key = value` configuration merged from one or more files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Files read, in order.
    pub files: Vec<String>,
    /// Effective key → value, with the line that set it. Flags without a value
    /// (e.g. `enforce_for_root`) have an empty value.
    pub settings: Settings,
}

/// One PAM service's `password` stack, includes expanded in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PamStack {
    /// Service name, e.g. `common-password`, `system-auth`.
    pub service: String,
    /// The service file.
    pub path: String,
    /// `password` entries in evaluation order.
    pub entries: Vec<PamEntry>,
}

/// One PAM `password` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PamEntry {
    /// The control field as written (`requisite`, `[success=1 default=ignore]`, ...).
    pub control: String,
    /// Module basename, e.g. `pam_pwquality.so`.
    pub module: String,
    /// Module arguments as written (`minlen=14`, `retry=3`, `use_authtok`).
    pub args: Vec<String>,
    /// Where the line is.
    pub source: Source,
}

/// How an account's password field looks, never the hash itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// A password hash is set and the account is not locked.
    Usable,
    /// A hash is set but locked with a leading `!`.
    Locked,
    /// No password can be used (`*`, `!`, `!!`, `*LK*`, ...).
    NoPassword,
    /// The field is empty: login without a password may be possible.
    Empty,
}

/// Password aging of one account (`/etc/shadow` fields 3-8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAging {
    /// Login name.
    pub user: String,
    /// UID from `/etc/passwd`, when listed there.
    pub uid: Option<u32>,
    /// Login shell from `/etc/passwd`.
    pub shell: Option<String>,
    /// The password field's state (the hash is dropped while parsing).
    pub password: PasswordState,
    /// Days since 1970-01-01 of the last change (`0` forces a change).
    pub last_change: Option<i64>,
    /// Minimum days between changes.
    pub min_days: Option<i64>,
    /// Maximum days a password is valid; `None` = no limit.
    pub max_days: Option<i64>,
    /// Warning days before expiry.
    pub warn_days: Option<i64>,
    /// Days after expiry until the account is disabled.
    pub inactive_days: Option<i64>,
    /// Account expiry, days since 1970-01-01.
    pub expire_date: Option<i64>,
    /// The line in `/etc/shadow`.
    pub source: Source,
}

/// File type of a path entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (its mode is meaningless).
    Symlink,
    /// Anything else (device, socket, FIFO).
    Other,
}

/// Mode and ownership of one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStat {
    /// Path inside the assessed root.
    pub path: String,
    /// File type (from `lstat`).
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Owner name from the root's `/etc/passwd`.
    pub owner: Option<String>,
    /// Group name from the root's `/etc/group`.
    pub group: Option<String>,
}

/// A system directory and the entries directly in it that do not conform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemPath {
    /// The directory (after following a symlink such as `/bin -> usr/bin`:
    /// `stat` is the target's, and `resolved` names it).
    pub stat: PathStat,
    /// Where a symlinked system directory points, inside the root.
    pub resolved: Option<String>,
    /// How many entries directly in it were examined.
    pub entries_scanned: u64,
    /// True when the scan stopped at the bound (`docs/snapshot.md`) before the end.
    pub truncated: bool,
    /// Entries directly in it (not symlinks) that are not owned by root or
    /// that have the group or other write bit.
    pub nonconforming: Vec<PathStat>,
    /// Why the directory could not be listed (fully or partly), if so: its
    /// entries are then unknown, not conforming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// Kernel parameters persisted in sysctl configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SysctlConfig {
    /// Files read in the order `sysctl --system` applies them.
    pub files: Vec<String>,
    /// Key (dotted form) → value, the LAST assignment winning.
    pub settings: Settings,
}

/// Facts read from the running kernel. Each is `not_collected` unless the root is `/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelFacts {
    /// `kernel.randomize_va_space` from `/proc/sys/kernel/randomize_va_space`.
    pub randomize_va_space: Fact<Sourced<String>>,
    /// NX/DEP support.
    pub nx: Fact<NxSupport>,
}

/// Evidence about NX (DEP) support on the running system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NxSupport {
    /// Machine architecture (`uname -m` style, e.g. `x86_64`, `aarch64`).
    pub arch: String,
    /// Whether the CPU advertises `nx` in `/proc/cpuinfo` flags (x86 only; `None` elsewhere).
    pub cpu_flag_nx: Option<bool>,
    /// The kernel's own boot message about NX, when readable (e.g.
    /// `NX (Execute Disable) protection: active`).
    pub kernel_message: Option<String>,
    /// The running kernel's command line (`/proc/cmdline`).
    pub cmdline: Option<String>,
}

/// Transport protocol of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// TCP (state LISTEN).
    Tcp,
    /// UDP (unconnected, bound).
    Udp,
}

/// A listening socket and who owns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListeningSocket {
    /// TCP or UDP.
    pub transport: Transport,
    /// Local address (IPv4 or IPv6 textual form).
    pub address: String,
    /// Local port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
    /// Owning uid.
    pub uid: u32,
    /// Owning user name.
    pub user: Option<String>,
    /// Owning process id (the first found holding the socket).
    pub pid: Option<u32>,
    /// Process name (`/proc/PID/comm`).
    pub process: Option<String>,
    /// Executable (`/proc/PID/exe`).
    pub exe: Option<String>,
}

/// A package database format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageFormat {
    /// Debian, Ubuntu: `/var/lib/dpkg/status` (and `status.d/`).
    Dpkg,
    /// RHEL family, SUSE, Amazon Linux: `rpmdb.sqlite` or Berkeley DB `Packages`.
    Rpm,
    /// Alpine: `/lib/apk/db/installed`.
    Apk,
}

/// The packages of one package database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageInventory {
    /// Which format.
    pub format: PackageFormat,
    /// The database read, inside the root (e.g. `/var/lib/dpkg/status`).
    pub database: String,
    /// Installed packages, in database order: only those whose files are on
    /// disk and configured (dpkg: flag `ok` and state `installed`,
    /// `triggers-pending` or `triggers-awaited`, whatever the wanted action;
    /// never `config-files`, `half-installed`, `unpacked` or
    /// `half-configured`). See `docs/snapshot.md`.
    pub packages: Vec<InstalledPackage>,
    /// Non-fatal problems (a corrupt stanza or header): the packages read are kept.
    pub problems: Vec<Problem>,
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    /// Binary package name.
    pub name: String,
    /// Version in the format's own full notation: dpkg `[epoch:]upstream[-revision]`,
    /// rpm `[epoch:]version-release`, apk `version-rN`.
    pub version: String,
    /// Architecture (`amd64`, `x86_64`, `noarch`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Source package name (dpkg `Source`, else the binary name; rpm: from the
    /// source rpm file name; apk: `origin`).
    pub source_name: String,
    /// Source package version (dpkg `Source: name (version)`, else the binary version;
    /// rpm: from the source rpm file name).
    pub source_version: String,
    /// True for the kernel package of the running kernel (live hosts only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub running_kernel: bool,
    /// Where the entry is: file and line of the stanza (dpkg, apk) or the
    /// database file with the record number as line (rpm).
    pub source: Source,
}

/// Configuration facts for the CIS benchmark probes (`crates/collect/src/cis.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemConfig {
    /// `install` and `blacklist` directives of the modprobe.d files that apply
    /// (a file name in `/etc/modprobe.d` masks the same name in `/run`,
    /// `/usr/local/lib`, `/usr/lib`, `/lib`), in file-name order.
    pub modprobe: Vec<ModprobeDirective>,
    /// Loaded kernel modules (`/proc/modules`): live only.
    pub loaded_modules: Fact<Vec<String>>,
    /// `/etc/fstab` entries (absent when there is no fstab).
    pub fstab: Fact<Vec<MountEntry>>,
    /// The live mount table (`/proc/self/mounts`): live only.
    pub mounts: Fact<Vec<MountEntry>>,
    /// Units enabled (wanted or required by a unit) and masked in `/etc/systemd/system`.
    pub systemd: SystemdUnits,
    /// Running kernel parameters asked for (`/proc/sys`): live only. Key → value.
    pub sysctl_live: Fact<Settings>,
    /// Facts about the files asked for (`Options::extra_files`), by path.
    pub files: BTreeMap<String, Fact<FileFacts>>,
    /// World-writable and unowned paths from a bounded walk (`Options::fs_walk_cap`).
    #[serde(default = "not_collected_by_older_warden")]
    pub fs_walk: Fact<crate::FsWalk>,
    /// Audit rules and `auditd.conf`.
    #[serde(default = "not_collected_by_older_warden")]
    pub audit: Fact<crate::AuditConfig>,
    /// Boot loader files, superusers and password (never the hash).
    #[serde(default = "not_collected_by_older_warden")]
    pub bootloader: Fact<crate::Bootloader>,
    /// Persisted host firewall configurations, one per utility found.
    #[serde(default = "not_collected_by_older_warden")]
    pub firewall: Fact<Vec<crate::FirewallFacts>>,
    /// AppArmor and SELinux configuration and (live) state.
    #[serde(default = "not_collected_by_older_warden")]
    pub mac: Fact<crate::MacFacts>,
}

/// One modprobe.d directive Warden reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModprobeDirective {
    /// `install` or `blacklist`.
    pub directive: String,
    /// Module name as written.
    pub module: String,
    /// For `install`: the command (rest of the line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Where it is.
    pub source: Source,
}

/// One mount (fstab line or mount-table line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountEntry {
    /// What is mounted (device, `UUID=...`, `tmpfs`).
    pub device: String,
    /// Mount point.
    pub mount_point: String,
    /// File system type.
    pub fs_type: String,
    /// Options, split on commas.
    pub options: Vec<String>,
    /// Where it is (fstab file and line, or the /proc path).
    pub source: Source,
}

/// systemd unit enablement read from symlinks (works on an image).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemdUnits {
    /// Enabled units: each `*.wants/` or `*.requires/` link.
    pub enabled: Vec<UnitLink>,
    /// Masked units: each `/etc/systemd/system/UNIT -> /dev/null` link.
    pub masked: Vec<UnitLink>,
}

/// A unit symlink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitLink {
    /// Unit name, e.g. `ssh.service`.
    pub unit: String,
    /// The link, e.g. `/etc/systemd/system/multi-user.target.wants/ssh.service`.
    pub link: String,
    /// Where it points, as written.
    pub target: String,
}

/// A file's stat and, for a small text file, its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    /// Mode and owner (of the symlink's target when the path is a symlink).
    pub stat: PathStat,
    /// Lines of a regular file under 1 MiB; `None` for other files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
}
