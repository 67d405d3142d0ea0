//! The CIS Operating System Security Configuration Benchmarks package.
//!
//! Why it exists: CIS recommendations are many, versioned and per OS
//! release, so they are data (`crates/rules/content/cis/*.toml`, embedded at
//! build time), never Rust. This module loads and validates that content
//! ([`schema`]), picks the benchmark for the snapshot's os-release, runs each
//! recommendation's check through the typed probes of [`eval`], and turns the
//! results into rule outcomes, findings (with `BENCHMARK_ID`,
//! `BENCHMARK_RULE_ID`, `CIS_BENCHMARK_PROFILE`) and a compliance score per
//! profile. The content format is documented in `docs/cis.md`.

pub mod eval;
mod eval_facts;
mod run;
pub mod schema;
pub mod tailoring;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use warden_model::{OsRelease, Severity};

pub use run::{CisOptions, NO_BENCHMARK_RULE_ID, PACKAGE_ID, PACKAGE_NAME, SCORE_RULE_ID, evaluate};
use schema::{BenchmarkFile, Check, Op, Probe, Scalar, ValueSpec};

/// The embedded benchmark files: (file name, text).
pub const CONTENT: &[(&str, &str)] = &[
    ("debian-12.toml", include_str!("../../content/cis/debian-12.toml")),
    ("ubuntu-24.04.toml", include_str!("../../content/cis/ubuntu-24.04.toml")),
    ("ubuntu-22.04.toml", include_str!("../../content/cis/ubuntu-22.04.toml")),
    ("rhel-9.toml", include_str!("../../content/cis/rhel-9.toml")),
    ("amazon-linux-2023.toml", include_str!("../../content/cis/amazon-linux-2023.toml")),
];

/// A loaded, validated benchmark.
#[derive(Clone, Debug)]
pub struct Benchmark {
    /// The file it came from (for messages).
    pub file: String,
    /// Its content.
    pub content: BenchmarkFile,
}

impl Benchmark {
    /// Whether it applies to this os-release.
    pub fn applies_to(&self, os: &OsRelease) -> bool {
        let version = os.version_id.as_deref().unwrap_or("");
        let version_ok = |m: &schema::OsMatch| version == m.version || version.starts_with(&format!("{}.", m.version));
        self.content
            .benchmark
            .applies_to
            .iter()
            .any(|m| version_ok(m) && (m.id == os.id || (m.like && os.id_like.contains(&m.id))))
    }

    /// Whether it names this os-release's `ID` itself (not through `ID_LIKE`).
    fn names_id(&self, os: &OsRelease) -> bool {
        self.applies_to(os) && self.content.benchmark.applies_to.iter().any(|m| m.id == os.id)
    }
}

/// Parses and validates one benchmark file. Errors name the file and, for
/// TOML errors, the line and column (with the offending text).
pub fn parse(file: &str, text: &str) -> Result<Benchmark, String> {
    let content: BenchmarkFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let problems = validate(&content);
    if !problems.is_empty() {
        return Err(format!("{file}: invalid CIS content:\n  {}", problems.join("\n  ")));
    }
    Ok(Benchmark { file: file.to_string(), content })
}

/// Parses content that was validated when Warden was built and tested (the
/// content linter test runs [`validate`] on every embedded file), so the
/// run-time load skips validation, which compiles every regex.
fn parse_embedded(file: &str, text: &str) -> Result<Benchmark, String> {
    let content: BenchmarkFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    Ok(Benchmark { file: file.to_string(), content })
}

/// The embedded benchmarks, loaded once. An error here is a build defect
/// (the content linter test catches it first).
pub fn embedded() -> Result<&'static [Benchmark], String> {
    static LOADED: OnceLock<Result<Vec<Benchmark>, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| CONTENT.iter().map(|(file, text)| parse_embedded(file, text)).collect())
        .as_ref()
        .map(|v| v.as_slice())
        .map_err(Clone::clone)
}

/// The benchmark for an os-release, if Warden has one.
pub fn for_os<'a>(benchmarks: &'a [Benchmark], os: &OsRelease) -> Option<&'a Benchmark> {
    benchmarks.iter().find(|b| b.names_id(os)).or_else(|| benchmarks.iter().find(|b| b.applies_to(os)))
}

/// What collection must read for the embedded content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Paths whose stat the `file` probes need.
    pub stat_files: Vec<String>,
    /// Paths whose lines the `file_content` / `file_setting` probes need.
    pub text_files: Vec<String>,
    /// Kernel parameters the `sysctl` probes need (live hosts).
    pub sysctls: Vec<String>,
    /// Whether an `fs_walk` probe needs the bounded file-system walk.
    pub fs_walk: bool,
}

/// What collection must read for the embedded content. The CLI passes it to
/// `warden_collect::Options`, so collection never depends on the rules.
pub fn inputs() -> Inputs {
    let mut files = BTreeSet::new();
    let mut text = BTreeSet::new();
    let mut sysctls = BTreeSet::new();
    let mut fs_walk = false;
    for b in embedded().unwrap_or_default() {
        for r in &b.content.rules {
            for c in r.check.iter().chain(r.applies_if.iter()) {
                walk(c, &mut |p| match p {
                    Probe::File { path, .. } => {
                        files.insert(path.clone());
                    }
                    Probe::FileContent { path, .. } | Probe::FileSetting { path, .. } => {
                        text.insert(path.clone());
                    }
                    Probe::Sysctl { key, .. } => {
                        sysctls.insert(key.clone());
                    }
                    Probe::FsWalk { .. } => fs_walk = true,
                    _ => {}
                });
            }
        }
    }
    Inputs {
        stat_files: files.into_iter().collect(),
        text_files: text.into_iter().collect(),
        sysctls: sysctls.into_iter().collect(),
        fs_walk,
    }
}

/// Calls `f` on every probe of a check.
pub fn walk(check: &Check, f: &mut dyn FnMut(&Probe)) {
    match check {
        Check::All(v) | Check::Any(v) | Check::None(v) => v.iter().for_each(|c| walk(c, f)),
        Check::Probe(p) => f(p),
    }
}

/// Every problem with a benchmark's content (empty when valid): unique ids
/// and CIS numbers, known profiles, severities, non-empty texts, automated
/// rules with a check and manual ones without, valid probes (compiling
/// regexes, octal modes, defined parameters, values that fit the operator).
pub fn validate(content: &BenchmarkFile) -> Vec<String> {
    let mut problems = Vec::new();
    let meta = &content.benchmark;
    if meta.id.is_empty() || meta.applies_to.is_empty() {
        problems.push("[benchmark] needs an id and at least one applies_to entry".to_string());
    }
    let mut ids = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for r in &content.rules {
        let at = format!("rule {} ({})", r.id, r.number);
        if !ids.insert(r.id.as_str()) {
            problems.push(format!("{at}: duplicate id"));
        }
        if !numbers.insert(r.number.as_str()) {
            problems.push(format!("{at}: duplicate CIS number"));
        }
        if !r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
            problems.push(format!("{at}: id may hold only a-z, 0-9, '-' and '.'"));
        }
        if !r.number.split('.').all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
            problems.push(format!("{at}: number must be dotted digits"));
        }
        for (name, text) in [("title", &r.title), ("rationale", &r.rationale), ("remediation", &r.remediation)] {
            if text.trim().is_empty() {
                problems.push(format!("{at}: empty {name}"));
            }
        }
        if r.profiles.is_empty() {
            problems.push(format!("{at}: no profile"));
        }
        match r.severity.parse::<Severity>() {
            Ok(Severity::Critical) => {
                problems.push(format!("{at}: CIS severities are high, medium, low or informational"))
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{at}: {e}")),
        }
        match (&r.check, r.automated) {
            (None, true) => problems.push(format!("{at}: automated but has no check")),
            (Some(_), false) => problems.push(format!("{at}: manual but has a check")),
            (Some(c), true) => walk(c, &mut |p| {
                for e in probe_problems(p, &content.params) {
                    problems.push(format!("{at}: {e}"));
                }
            }),
            (None, false) => {}
        }
        if let Some(c) = &r.applies_if {
            walk(c, &mut |p| {
                for e in probe_problems(p, &content.params) {
                    problems.push(format!("{at}: applies_if: {e}"));
                }
            });
        }
    }
    problems
}

/// The parameter a value names (`"{name}"`), if it is a reference.
pub fn param_name(s: &str) -> Option<&str> {
    s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
}

fn probe_problems(p: &Probe, params: &BTreeMap<String, Scalar>) -> Vec<String> {
    let mut out = Vec::new();
    let mut value_ok = |op: Op, v: &ValueSpec| {
        if let Err(e) = eval::resolve(v, params).and_then(|v| eval::check_spec(op, &v)) {
            out.push(e);
        }
    };
    match p {
        Probe::File { path, mode, .. } => {
            if let Some(m) = mode
                && u32::from_str_radix(m, 8).is_err()
            {
                out.push(format!("file {path}: mode {m:?} is not octal"));
            }
        }
        Probe::FileContent { pattern, .. } | Probe::AuditRule { pattern, .. } => {
            if let Err(e) = regex::Regex::new(pattern) {
                out.push(format!("bad pattern {pattern:?}: {e}"));
            }
        }
        Probe::FileSetting { op, value, .. } | Probe::Sshd { op, value, .. } => value_ok(*op, value),
        Probe::LoginDefs { op, value, .. } | Probe::Sysctl { op, value, .. } => value_ok(*op, value),
        Probe::AuditdConf { op, value, .. } => value_ok(*op, value),
        Probe::Bootloader { check, mode, owner, group } => {
            let perms = mode.is_some() || owner.is_some() || group.is_some();
            if (*check == schema::BootCheck::Permissions) != perms {
                out.push(
                    "bootloader: `mode`/`owner`/`group` go with check = \"permissions\" (and it needs one)".into(),
                );
            }
            if let Some(m) = mode
                && u32::from_str_radix(m, 8).is_err()
            {
                out.push(format!("bootloader: mode {m:?} is not octal"));
            }
        }
        Probe::Firewall { check, hooks, .. } => {
            if hooks.is_some() && *check != schema::FirewallCheck::DefaultDeny {
                out.push("firewall: `hooks` goes with check = \"default_deny\"".into());
            }
            for h in hooks.iter().flatten() {
                if !["input", "forward", "output"].contains(&h.as_str()) {
                    out.push(format!("firewall: unknown hook {h:?} (input, forward, output)"));
                }
            }
        }
        Probe::Pam { setting, op, value, .. } => match (setting, op, value) {
            (None, None, None) => {}
            (Some(_), Some(op), Some(v)) => value_ok(*op, v),
            _ => out.push("pam: `setting`, `op` and `value` go together".to_string()),
        },
        Probe::Package { names, .. } if names.is_empty() => out.push("package: no names".to_string()),
        _ => {}
    }
    let path = match p {
        Probe::File { path, .. } | Probe::FileContent { path, .. } | Probe::FileSetting { path, .. } => Some(path),
        Probe::Mount { path, .. } => Some(path),
        _ => None,
    };
    if let Some(path) = path
        && !path.starts_with('/')
    {
        out.push(format!("path {path:?} is not absolute"));
    }
    out
}
