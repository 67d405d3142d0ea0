//! The CIS benchmark content schema: what one `content/cis/*.toml` file holds.
//!
//! Why it exists: CIS content is data, never Rust. A benchmark file names the
//! OS releases it applies to, its parameters, and its recommendations; each
//! recommendation's check is a tree of typed probes over the snapshot joined
//! with `all` / `any` / `none`. Deserialising into these types (unknown keys
//! refused) is the first validation; [`super::validate`] does the rest
//! (unique ids, known parameters, regexes that compile). The format is
//! documented in `docs/cis.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One benchmark file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkFile {
    /// Identity and applicability.
    pub benchmark: BenchmarkMeta,
    /// Parameters referenced as `"{name}"` in probe values; tailoring may change them.
    #[serde(default)]
    pub params: BTreeMap<String, Scalar>,
    /// Recommendations in benchmark order.
    #[serde(rename = "rule", default)]
    pub rules: Vec<Recommendation>,
}

/// `[benchmark]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkMeta {
    /// Stable id, e.g. `cis-debian-12`: the finding attribute `BENCHMARK_ID`.
    pub id: String,
    /// Human title, e.g. `CIS Debian Linux 12 Benchmark`.
    pub title: String,
    /// Benchmark version the numbering follows, e.g. `1.1.0`.
    pub version: String,
    /// OS releases (os-release `ID` and `VERSION_ID`) the benchmark applies to.
    pub applies_to: Vec<OsMatch>,
}

/// An os-release match: `ID` equal to `id` (or, with `like`, one of
/// `ID_LIKE` equal to it), and `VERSION_ID` equal to `version` or starting
/// with `version.` (so `12` matches `12` and `12.5`). A benchmark that
/// names the `ID` itself is preferred over one matched through `ID_LIKE`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsMatch {
    /// os-release `ID`.
    pub id: String,
    /// os-release `VERSION_ID` (or its major-version prefix).
    pub version: String,
    /// Also match a derivative whose `ID_LIKE` lists `id` (e.g. a RHEL
    /// rebuild not named in the file).
    #[serde(default)]
    pub like: bool,
}

/// A CIS profile. Level 2 includes Level 1 of the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Level 1 - Server.
    Level1Server,
    /// Level 2 - Server.
    Level2Server,
    /// Level 1 - Workstation.
    Level1Workstation,
    /// Level 2 - Workstation.
    Level2Workstation,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 4] =
        [Profile::Level1Server, Profile::Level2Server, Profile::Level1Workstation, Profile::Level2Workstation];

    /// The command-line and content name, e.g. `level1-server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Level1Server => "level1-server",
            Profile::Level2Server => "level2-server",
            Profile::Level1Workstation => "level1-workstation",
            Profile::Level2Workstation => "level2-workstation",
        }
    }

    /// Whether a recommendation listed under `listed` belongs to this profile
    /// (itself, or the Level 1 profile of the same kind for a Level 2 profile).
    pub fn includes(self, listed: Profile) -> bool {
        self == listed
            || matches!(
                (self, listed),
                (Profile::Level2Server, Profile::Level1Server)
                    | (Profile::Level2Workstation, Profile::Level1Workstation)
            )
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Profile::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            format!("unknown CIS profile {s:?} (known: {})", Profile::ALL.map(|p| p.as_str()).join(", "))
        })
    }
}

/// One `[[rule]]`: a CIS recommendation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// CIS number, e.g. `5.1.20`.
    pub number: String,
    /// Stable Warden id, e.g. `deb12-5.1.20`: the finding's rule id and `BENCHMARK_RULE_ID`.
    pub id: String,
    /// Short title, in Warden's own words.
    pub title: String,
    /// Why it matters, in Warden's own words.
    pub rationale: String,
    /// How to fix a failure.
    pub remediation: String,
    /// Profiles that list it (the lowest level of each kind).
    pub profiles: Vec<Profile>,
    /// `high`, `medium`, `low` or `informational` (see `docs/cis.md` for how it is chosen).
    pub severity: String,
    /// Whether Warden checks it; manual recommendations have no `check`.
    pub automated: bool,
    /// The check (required when `automated`).
    #[serde(default)]
    pub check: Option<Check>,
    /// When set, the recommendation is not applicable unless this check
    /// passes (e.g. cron permissions only when a cron package is installed).
    #[serde(default)]
    pub applies_if: Option<Check>,
}

/// A scalar value in content: a string or an integer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A string (may be a `"{param}"` reference).
    Str(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Str(s) => f.write_str(s),
        }
    }
}

/// A probe's expected value: one scalar or a list (for `in`, `not_in`, `int_range`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ValueSpec {
    /// One value.
    One(Scalar),
    /// Several values.
    List(Vec<Scalar>),
}

/// How a found value is compared with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal, ignoring ASCII case.
    Eq,
    /// Not equal, ignoring ASCII case.
    Ne,
    /// Equal (ignoring case) to one of a list.
    In,
    /// Equal (ignoring case) to none of a list.
    NotIn,
    /// An integer at most the value.
    IntLe,
    /// An integer at least the value.
    IntGe,
    /// An integer within `[low, high]`, both included.
    IntRange,
    /// Matches the regular expression (Rust `regex` syntax, unanchored).
    Regex,
}

/// A check: a probe, or a combination of checks.
///
/// Read from a TOML table by its first key: `all`, `any`, `none`, or
/// `probe` (a [`Probe`]), so a bad probe is reported with its own message
/// (unknown field, missing field) rather than "no variant matched".
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "toml::Table")]
pub enum Check {
    /// Every sub-check passes.
    All(Vec<Check>),
    /// At least one sub-check passes.
    Any(Vec<Check>),
    /// No sub-check passes.
    None(Vec<Check>),
    /// One probe.
    Probe(Probe),
}

impl TryFrom<toml::Table> for Check {
    type Error = String;
    fn try_from(table: toml::Table) -> Result<Self, String> {
        for (name, make) in [("all", Check::All as fn(Vec<Check>) -> Check), ("any", Check::Any), ("none", Check::None)]
        {
            if let Some(list) = table.get(name) {
                if table.len() != 1 {
                    return Err(format!("a check with `{name}` has no other keys"));
                }
                let items: Vec<Check> =
                    list.clone().try_into().map_err(|e: toml::de::Error| format!("in `{name}`: {}", e.message()))?;
                if items.is_empty() {
                    return Err(format!("`{name}` needs at least one check"));
                }
                return Ok(make(items));
            }
        }
        if !table.contains_key("probe") {
            return Err("a check needs `probe`, `all`, `any` or `none`".to_string());
        }
        let probe = table.get("probe").and_then(|p| p.as_str()).unwrap_or("?").to_string();
        toml::Value::Table(table)
            .try_into::<Probe>()
            .map(Check::Probe)
            .map_err(|e| format!("probe {probe:?}: {}", e.message()))
    }
}

/// What a probe concludes when the thing it examines is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Missing is a failure.
    Fail,
    /// Missing complies.
    Pass,
    /// Missing makes the recommendation not applicable.
    NotApplicable,
}

/// Which occurrence of a repeated key counts in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wins {
    /// The last occurrence (shell-like files, login.defs, most `key=value` files).
    Last,
    /// The first occurrence (sshd_config-like files).
    First,
}

/// A typed probe over the snapshot. Semantics are in `docs/cis.md`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "probe", rename_all = "snake_case", deny_unknown_fields)]
pub enum Probe {
    /// A path's existence, permission bits, owner and group.
    File {
        /// Absolute path inside the root.
        path: String,
        /// `true`: must exist; `false`: must not exist; unset: absent is not applicable.
        #[serde(default)]
        exists: Option<bool>,
        /// Most permissive mode allowed (octal string, e.g. `"0640"`): no bit outside it may be set.
        #[serde(default)]
        mode: Option<String>,
        /// Allowed owner names (or numeric uids as strings).
        #[serde(default)]
        owner: Option<Vec<String>>,
        /// Allowed group names (or numeric gids as strings).
        #[serde(default)]
        group: Option<Vec<String>>,
    },
    /// Whether a non-comment line of a file matches a regular expression.
    FileContent {
        /// Absolute path inside the root.
        path: String,
        /// Regular expression tried on each line (comments kept unless `skip_comments`).
        pattern: String,
        /// `true`: some line must match; `false`: no line may match.
        present: bool,
        /// Ignore lines whose first non-blank character is `#` (default true).
        #[serde(default = "yes")]
        skip_comments: bool,
        /// When the file does not exist (default: not applicable).
        #[serde(default)]
        missing_file: Option<Missing>,
    },
    /// The effective value of a `key value` / `key = value` setting in a file.
    FileSetting {
        /// Absolute path inside the root.
        path: String,
        /// Key, compared ignoring ASCII case.
        key: String,
        /// Which occurrence counts.
        wins: Wins,
        /// Comparison.
        op: Op,
        /// Expected value.
        value: ValueSpec,
        /// When the key (or the file) is missing (default: fail).
        #[serde(default)]
        missing: Option<Missing>,
    },
    /// An effective global sshd setting (defaults included).
    Sshd {
        /// Lower-case keyword.
        key: String,
        /// Comparison.
        op: Op,
        /// Expected value.
        value: ValueSpec,
    },
    /// A PAM module in the password stacks, and optionally one of its settings.
    Pam {
        /// Module basename, e.g. `pam_pwquality.so`.
        module: String,
        /// Setting name (`minlen`, `remember`): from the module's arguments,
        /// else from its configuration file (pwquality.conf, pwhistory.conf).
        #[serde(default)]
        setting: Option<String>,
        /// Comparison (required with `setting`).
        #[serde(default)]
        op: Option<Op>,
        /// Expected value (required with `setting`).
        #[serde(default)]
        value: Option<ValueSpec>,
    },
    /// A `/etc/login.defs` key (case-sensitive, last wins).
    LoginDefs {
        /// Key as written, e.g. `PASS_MAX_DAYS`.
        key: String,
        /// Comparison.
        op: Op,
        /// Expected value.
        value: ValueSpec,
        /// shadow-utils' built-in value when the key is not set.
        #[serde(default)]
        default: Option<Scalar>,
    },
    /// A kernel parameter: running value (live hosts) and persisted value.
    Sysctl {
        /// Dotted key, e.g. `net.ipv4.ip_forward`.
        key: String,
        /// Comparison.
        op: Op,
        /// Expected value.
        value: ValueSpec,
        /// The kernel's built-in value, applied at boot when nothing persists one.
        #[serde(default)]
        default: Option<Scalar>,
    },
    /// A kernel module that must not be loadable nor loaded.
    KernelModule {
        /// Module name, e.g. `cramfs` (`-` and `_` are the same).
        name: String,
    },
    /// A mount point and its options, from fstab and (live) the mount table.
    Mount {
        /// Mount point, e.g. `/tmp`.
        path: String,
        /// Options that must be set.
        #[serde(default)]
        options: Vec<String>,
        /// When the path is not a separate mount (default: fail).
        #[serde(default)]
        missing: Option<Missing>,
    },
    /// Installed packages.
    Package {
        /// Package names; the probe looks at each.
        names: Vec<String>,
        /// `false`: none may be installed; `true`: at least one must be.
        installed: bool,
    },
    /// A systemd unit's enablement, from the symlinks in `/etc/systemd/system`.
    SystemdUnit {
        /// Unit name, e.g. `tmp.mount`.
        unit: String,
        /// Required state.
        state: UnitState,
    },
    /// A fact about the accounts in `/etc/passwd` and `/etc/shadow`.
    Accounts {
        /// Which fact.
        check: AccountCheck,
    },
    /// Paths met by the bounded walk of the local file systems: none may be found.
    FsWalk {
        /// Which kind of path.
        find: WalkFind,
    },
    /// A rule in `/etc/audit/rules.d/*.rules` or `/etc/audit/audit.rules`.
    AuditRule {
        /// Regular expression tried on each rule line (blanks collapsed to one space).
        pattern: String,
        /// `true` (default): some rule must match; `false`: none may.
        #[serde(default = "yes")]
        present: bool,
    },
    /// A setting of `/etc/audit/auditd.conf` (key lower-case, last wins).
    AuditdConf {
        /// Lower-case key, e.g. `max_log_file_action`.
        key: String,
        /// Comparison.
        op: Op,
        /// Expected value.
        value: ValueSpec,
    },
    /// The GRUB 2 boot loader: password, or its files' permissions.
    Bootloader {
        /// What to check.
        check: BootCheck,
        /// With `permissions`: most permissive mode allowed (octal string).
        #[serde(default)]
        mode: Option<String>,
        /// With `permissions`: allowed owners.
        #[serde(default)]
        owner: Option<Vec<String>>,
        /// With `permissions`: allowed groups.
        #[serde(default)]
        group: Option<Vec<String>>,
    },
    /// A host firewall's persisted configuration.
    Firewall {
        /// Which utility (`any`: one of them must comply).
        utility: FirewallUtility,
        /// What to check.
        check: FirewallCheck,
        /// With `default_deny`: the hooks whose default policy must drop or reject (default input, forward).
        #[serde(default)]
        hooks: Option<Vec<String>>,
    },
    /// A mandatory access control framework's state.
    Mac {
        /// `apparmor` or `selinux`.
        framework: MacFramework,
        /// `enabled` or `enforcing`.
        state: MacState,
    },
}

/// What the file-system walk looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkFind {
    /// Regular files writable by others.
    WorldWritableFiles,
    /// Directories writable by others without the sticky bit.
    WorldWritableDirsWithoutSticky,
    /// Paths whose owner has no `/etc/passwd` entry.
    Unowned,
    /// Paths whose group has no `/etc/group` entry.
    Ungrouped,
}

/// Boot loader checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootCheck {
    /// A superuser and a password are set.
    Password,
    /// Every GRUB file found has at most `mode` and the owner and group given.
    Permissions,
}

/// Firewall utilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallUtility {
    /// Any of them.
    Any,
    /// nftables.
    Nftables,
    /// ufw.
    Ufw,
    /// iptables and ip6tables save files.
    Iptables,
    /// firewalld.
    Firewalld,
}

/// Firewall checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallCheck {
    /// A configuration exists (and ufw is switched on).
    Configured,
    /// The default policy of the hooks drops or rejects.
    DefaultDeny,
}

/// Mandatory access control frameworks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacFramework {
    /// AppArmor.
    Apparmor,
    /// SELinux.
    Selinux,
}

/// Mandatory access control states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacState {
    /// Enabled at boot (and, live, running).
    Enabled,
    /// Enforcing: SELinux in enforcing mode; every AppArmor profile in enforce mode.
    Enforcing,
}

fn yes() -> bool {
    true
}

/// A required systemd unit state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Wanted or required by some target.
    Enabled,
    /// Not enabled (not installed, disabled or masked).
    NotEnabled,
    /// Masked (linked to /dev/null).
    Masked,
}

/// Account facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountCheck {
    /// `root` is the only account with UID 0.
    OnlyRootUid0,
    /// No account has an empty password field.
    NoEmptyPasswords,
}
