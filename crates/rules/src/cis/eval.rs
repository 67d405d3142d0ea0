//! The CIS probes: pure functions probe × snapshot → verdict with evidence.
//!
//! Why it exists: each probe type has one precise meaning (documented in
//! `docs/cis.md`) shared by every benchmark file, so content authors combine
//! probes and never write code. A verdict cites what was found and where
//! (file and line, kernel path, package-database stanza) and what was
//! expected. Live-only facts on a root directory do not pass or fail by
//! themselves: a persisted setting (or the kernel's built-in value when
//! nothing is persisted, given in the content) decides, else the probe could
//! not be evaluated — the stance of the best-practices ASLR rule.

use std::collections::BTreeMap;

use warden_model::{Evidence, Fact, FileFacts, Outcome, PasswordState, Snapshot, Source, Sourced, SystemConfig};

use super::schema::{AccountCheck, Check, Missing, Op, Probe, Scalar, UnitState, ValueSpec, Wins};
use crate::Verdict;
use crate::evidence::{at, from_sourced, message_only};

/// An expected value with parameters substituted.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// One value.
    One(String),
    /// A list.
    List(Vec<String>),
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::One(s) => f.write_str(s),
            Expected::List(v) => write!(f, "[{}]", v.join(", ")),
        }
    }
}

fn resolve_scalar(s: &Scalar, params: &BTreeMap<String, Scalar>) -> Result<String, String> {
    match s {
        Scalar::Str(text) => match super::param_name(text) {
            Some(name) => params
                .get(name)
                .map(|v| v.to_string())
                .ok_or_else(|| format!("parameter {{{name}}} is not defined in [params]")),
            None => Ok(text.clone()),
        },
        Scalar::Int(i) => Ok(i.to_string()),
    }
}

/// Substitutes `"{param}"` references.
pub fn resolve(v: &ValueSpec, params: &BTreeMap<String, Scalar>) -> Result<Expected, String> {
    Ok(match v {
        ValueSpec::One(s) => Expected::One(resolve_scalar(s, params)?),
        ValueSpec::List(l) => Expected::List(l.iter().map(|s| resolve_scalar(s, params)).collect::<Result<_, _>>()?),
    })
}

/// Checks that a value fits its operator (a list for `in`/`not_in`, two
/// integers for `int_range`, an integer for `int_le`/`int_ge`, a regex that compiles).
pub fn check_spec(op: Op, v: &Expected) -> Result<(), String> {
    match (op, v) {
        (Op::Eq | Op::Ne, Expected::One(_)) => Ok(()),
        (Op::In | Op::NotIn, Expected::List(l)) if !l.is_empty() => Ok(()),
        (Op::IntLe | Op::IntGe, Expected::One(s)) if parse_int(s).is_some() => Ok(()),
        (Op::IntRange, Expected::List(l)) if l.len() == 2 && l.iter().all(|s| parse_int(s).is_some()) => Ok(()),
        (Op::Regex, Expected::One(s)) => regex::Regex::new(s).map(|_| ()).map_err(|e| format!("bad regex {s:?}: {e}")),
        _ => Err(format!("value {v} does not fit operator {op:?}")),
    }
}

/// An integer, allowing sshd time units (`90`, `1m`, `1m30s`).
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    let (mut total, mut digits) = (0i64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return None,
        };
        total += digits.parse::<i64>().ok()? * unit;
        digits.clear();
    }
    if !digits.is_empty() {
        total += digits.parse::<i64>().ok()?;
    }
    Some(total)
}

/// Whether `found` satisfies `op expected`. Equality ignores ASCII case.
pub fn compare(found: &str, op: Op, expected: &Expected) -> bool {
    let found = found.trim();
    let eq = |e: &String| found.eq_ignore_ascii_case(e.trim());
    match (op, expected) {
        (Op::Eq, Expected::One(e)) => eq(e),
        (Op::Ne, Expected::One(e)) => !eq(e),
        (Op::In, Expected::List(l)) => l.iter().any(eq),
        (Op::NotIn, Expected::List(l)) => !l.iter().any(eq),
        (Op::IntLe, Expected::One(e)) => matches!((parse_int(found), parse_int(e)), (Some(f), Some(e)) if f <= e),
        (Op::IntGe, Expected::One(e)) => matches!((parse_int(found), parse_int(e)), (Some(f), Some(e)) if f >= e),
        (Op::IntRange, Expected::List(l)) if l.len() == 2 => {
            match (parse_int(found), parse_int(&l[0]), parse_int(&l[1])) {
                (Some(f), Some(lo), Some(hi)) => lo <= f && f <= hi,
                _ => false,
            }
        }
        (Op::Regex, Expected::One(e)) => regex::Regex::new(e).is_ok_and(|r| r.is_match(found)),
        _ => false,
    }
}

fn op_words(op: Op) -> &'static str {
    match op {
        Op::Eq => "equal to",
        Op::Ne => "not equal to",
        Op::In => "one of",
        Op::NotIn => "none of",
        Op::IntLe => "at most",
        Op::IntGe => "at least",
        Op::IntRange => "within",
        Op::Regex => "matching",
    }
}

/// Evaluates a check on a snapshot with the benchmark's (possibly tailored) parameters.
pub fn evaluate(check: &Check, snap: &Snapshot, params: &BTreeMap<String, Scalar>) -> Verdict {
    match check {
        Check::Probe(p) => probe(p, snap, params),
        Check::All(v) | Check::Any(v) | Check::None(v) => {
            let subs: Vec<Verdict> = v.iter().map(|c| evaluate(c, snap, params)).collect();
            combine(check, subs)
        }
    }
}

pub(super) fn combine(check: &Check, subs: Vec<Verdict>) -> Verdict {
    let has = |o: Outcome| subs.iter().any(|s| s.outcome == o);
    let outcome = match check {
        Check::All(_) if has(Outcome::Fail) => Outcome::Fail,
        Check::Any(_) if has(Outcome::Pass) => Outcome::Pass,
        Check::None(_) if has(Outcome::Pass) => Outcome::Fail,
        _ if has(Outcome::CouldNotEvaluate) => Outcome::CouldNotEvaluate,
        Check::All(_) if has(Outcome::Pass) => Outcome::Pass,
        Check::Any(_) if has(Outcome::Fail) => Outcome::Fail,
        Check::None(_) if has(Outcome::Fail) => Outcome::Pass,
        _ => Outcome::NotApplicable,
    };
    // The evidence of the sub-checks that decided, else of all.
    let deciding: Vec<&Verdict> = subs
        .iter()
        .filter(|s| match (check, outcome) {
            (Check::None(_), Outcome::Fail) => s.outcome == Outcome::Pass,
            (Check::None(_), Outcome::Pass) => s.outcome == Outcome::Fail,
            _ => s.outcome == outcome,
        })
        .collect();
    let chosen: Vec<&Verdict> = if deciding.is_empty() { subs.iter().collect() } else { deciding };
    let reason = chosen.iter().map(|s| s.reason.as_str()).collect::<Vec<_>>().join("; ");
    let evidence = chosen.iter().flat_map(|s| s.evidence.iter().cloned()).collect();
    Verdict { outcome, reason, evidence }
}

pub(super) fn missing(m: Missing, reason: String) -> Verdict {
    match m {
        Missing::Fail => Verdict::fail(reason.clone(), vec![message_only(reason)]),
        Missing::Pass => Verdict::pass(reason.clone(), vec![message_only(reason)]),
        Missing::NotApplicable => Verdict::not_applicable(reason),
    }
}

pub(super) fn config(snap: &Snapshot) -> Result<&SystemConfig, Verdict> {
    snap.system_config.value().ok_or_else(|| {
        Verdict::could_not_evaluate(format!(
            "configuration facts not collected: {}",
            snap.system_config.reason().unwrap_or_default()
        ))
    })
}

fn file<'a>(snap: &'a Snapshot, path: &str) -> Result<&'a Fact<FileFacts>, Verdict> {
    config(snap)?.files.get(path).ok_or_else(|| {
        Verdict::could_not_evaluate(format!("{path} was not collected (the snapshot predates this content)"))
    })
}

/// A value compared against an expectation, as a verdict with evidence.
pub(super) fn judge(keyword: &str, found: &Sourced<String>, op: Op, expected: &Expected) -> Verdict {
    let ok = compare(&found.value, op, expected);
    let msg = format!("{keyword} is {:?}; expected {} {expected}", found.value, op_words(op));
    let ev = from_sourced(keyword, found, msg.clone());
    if ok { Verdict::pass(msg, vec![ev]) } else { Verdict::fail(msg, vec![ev]) }
}

fn resolved(v: &ValueSpec, params: &BTreeMap<String, Scalar>) -> Result<Expected, Verdict> {
    resolve(v, params).map_err(Verdict::could_not_evaluate)
}

fn probe(p: &Probe, snap: &Snapshot, params: &BTreeMap<String, Scalar>) -> Verdict {
    let r = match p {
        Probe::File { path, exists, mode, owner, group } => file_probe(snap, path, *exists, mode, owner, group),
        Probe::FileContent { path, pattern, present, skip_comments, missing_file } => {
            file_content(snap, path, pattern, *present, *skip_comments, missing_file.unwrap_or(Missing::NotApplicable))
        }
        Probe::FileSetting { path, key, wins, op, value, missing: m } => resolved(value, params)
            .and_then(|e| file_setting(snap, path, key, *wins, *op, &e, m.unwrap_or(Missing::Fail))),
        Probe::Sshd { key, op, value } => resolved(value, params).map(|e| sshd(snap, key, *op, &e)),
        Probe::Pam { module, setting, op, value } => {
            let e = value.as_ref().map(|v| resolved(v, params)).transpose();
            e.map(|e| pam(snap, module, setting.as_deref(), op.zip(e)))
        }
        Probe::LoginDefs { key, op, value, default } => resolved(value, params).and_then(|e| {
            let default =
                default.as_ref().map(|d| resolve_scalar(d, params)).transpose().map_err(Verdict::could_not_evaluate)?;
            Ok(login_defs(snap, key, *op, &e, default))
        }),
        Probe::Sysctl { key, op, value, default } => resolved(value, params).and_then(|e| {
            let default =
                default.as_ref().map(|d| resolve_scalar(d, params)).transpose().map_err(Verdict::could_not_evaluate)?;
            Ok(sysctl(snap, key, *op, &e, default))
        }),
        Probe::KernelModule { name } => kernel_module(snap, name),
        Probe::Mount { path, options, missing: m } => mount(snap, path, options, m.unwrap_or(Missing::Fail)),
        Probe::Package { names, installed } => Ok(package(snap, names, *installed)),
        Probe::SystemdUnit { unit, state } => systemd_unit(snap, unit, *state),
        Probe::Accounts { check } => Ok(accounts(snap, *check)),
        Probe::FsWalk { find } => super::eval_facts::fs_walk(snap, *find),
        Probe::AuditRule { pattern, present } => super::eval_facts::audit_rule(snap, pattern, *present),
        Probe::AuditdConf { key, op, value } => {
            resolved(value, params).and_then(|e| super::eval_facts::auditd_conf(snap, key, *op, &e))
        }
        Probe::Bootloader { check, mode, owner, group } => {
            super::eval_facts::bootloader(snap, *check, mode.as_deref(), owner.as_deref(), group.as_deref())
        }
        Probe::Firewall { utility, check, hooks } => {
            super::eval_facts::firewall(snap, *utility, *check, hooks.as_deref())
        }
        Probe::Mac { framework, state } => super::eval_facts::mac(snap, *framework, *state),
    };
    r.unwrap_or_else(|v| v)
}

fn file_probe(
    snap: &Snapshot,
    path: &str,
    exists: Option<bool>,
    mode: &Option<String>,
    owner: &Option<Vec<String>>,
    group: &Option<Vec<String>>,
) -> Result<Verdict, Verdict> {
    let facts = match file(snap, path)? {
        Fact::Collected { value } => value,
        Fact::Absent { .. } => {
            let msg = format!("{path} does not exist");
            return Ok(match exists {
                Some(true) => Verdict::fail(msg.clone(), vec![message_only(msg)]),
                Some(false) => Verdict::pass(msg.clone(), vec![message_only(msg)]),
                None => Verdict::not_applicable(msg),
            });
        }
        other => return Err(Verdict::could_not_evaluate(other.reason().unwrap_or_default())),
    };
    let st = &facts.stat;
    if exists == Some(false) {
        let msg = format!("{path} exists; expected it not to");
        return Ok(Verdict::fail(msg.clone(), vec![at(path, None, None, msg)]));
    }
    Ok(stat_verdict(st, mode.as_deref(), owner.as_deref(), group.as_deref()))
}

/// Whether a path's mode, owner and group are within what is allowed, as a verdict citing it.
pub(super) fn stat_verdict(
    st: &warden_model::PathStat,
    mode: Option<&str>,
    owner: Option<&[String]>,
    group: Option<&[String]>,
) -> Verdict {
    let path = st.path.as_str();
    let mut bad = Vec::new();
    let mut expected = Vec::new();
    if let Some(m) = mode {
        let allowed = u32::from_str_radix(m, 8).unwrap_or(0);
        expected.push(format!("mode {m} or stricter"));
        if st.mode & !allowed != 0 {
            bad.push(format!("mode {:04o}", st.mode));
        }
    }
    let name_ok = |list: &[String], name: &Option<String>, id: u32| {
        list.iter().any(|a| Some(a) == name.as_ref() || *a == id.to_string())
    };
    if let Some(list) = owner {
        expected.push(format!("owner {}", list.join(" or ")));
        if !name_ok(list, &st.owner, st.uid) {
            bad.push(format!("owner {}", st.owner.clone().unwrap_or_else(|| st.uid.to_string())));
        }
    }
    if let Some(list) = group {
        expected.push(format!("group {}", list.join(" or ")));
        if !name_ok(list, &st.group, st.gid) {
            bad.push(format!("group {}", st.group.clone().unwrap_or_else(|| st.gid.to_string())));
        }
    }
    let found = format!(
        "{:04o} {}:{}",
        st.mode,
        st.owner.clone().unwrap_or_else(|| st.uid.to_string()),
        st.group.clone().unwrap_or_else(|| st.gid.to_string())
    );
    let expected = if expected.is_empty() { "to exist".to_string() } else { expected.join(", ") };
    if bad.is_empty() {
        let msg = format!("{path} is {found}; expected {expected}");
        Verdict::pass(msg.clone(), vec![at(path, None, Some(found), msg)])
    } else {
        let msg = format!("{path} has {}; expected {expected}", bad.join(", "));
        Verdict::fail(msg.clone(), vec![at(path, None, Some(found), msg)])
    }
}

fn lines_of<'a>(snap: &'a Snapshot, path: &str) -> Result<Option<&'a [String]>, Verdict> {
    match file(snap, path)? {
        Fact::Collected { value } => match &value.lines {
            Some(l) => Ok(Some(l)),
            None => Err(Verdict::could_not_evaluate(format!("{path} is not a small regular file"))),
        },
        Fact::Absent { .. } => Ok(None),
        other => Err(Verdict::could_not_evaluate(other.reason().unwrap_or_default())),
    }
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#')
}

fn file_content(
    snap: &Snapshot,
    path: &str,
    pattern: &str,
    present: bool,
    skip_comments: bool,
    on_missing: Missing,
) -> Result<Verdict, Verdict> {
    let Some(lines) = lines_of(snap, path)? else {
        return Ok(missing(on_missing, format!("{path} does not exist")));
    };
    let re = regex::Regex::new(pattern).map_err(|e| Verdict::could_not_evaluate(e.to_string()))?;
    let hits: Vec<Evidence> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !(skip_comments && is_comment(l)) && re.is_match(l))
        .map(|(i, l)| at(path, Some(i as u32 + 1), Some(l.clone()), format!("line matches {pattern:?}")))
        .collect();
    Ok(match (present, hits.is_empty()) {
        (true, false) => Verdict::pass(format!("{path} has a line matching {pattern:?}"), hits),
        (true, true) => {
            let msg = format!("no line of {path} matches {pattern:?}");
            Verdict::fail(msg.clone(), vec![at(path, None, None, msg)])
        }
        (false, false) => Verdict::fail(format!("{path} has lines matching {pattern:?}; expected none"), hits),
        (false, true) => Verdict::pass(format!("no line of {path} matches {pattern:?}"), vec![]),
    })
}

/// `key value` or `key = value`: the key is the text before the first `=` or blank.
fn split_setting(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let end = t.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(t.len());
    let (key, rest) = t.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    (!key.is_empty()).then(|| (key, rest.trim()))
}

fn file_setting(
    snap: &Snapshot,
    path: &str,
    key: &str,
    wins: Wins,
    op: Op,
    expected: &Expected,
    on_missing: Missing,
) -> Result<Verdict, Verdict> {
    let Some(lines) = lines_of(snap, path)? else {
        return Ok(missing(on_missing, format!("{path} does not exist; {key} is not set")));
    };
    let mut found: Option<Sourced<String>> = None;
    for (i, line) in lines.iter().enumerate() {
        if is_comment(line) {
            continue;
        }
        if let Some((k, v)) = split_setting(line)
            && k.eq_ignore_ascii_case(key)
        {
            if wins == Wins::First && found.is_some() {
                continue;
            }
            found = Some(Sourced::new(v.to_string(), Source::file(path, i as u32 + 1)));
        }
    }
    Ok(match found {
        Some(f) => judge(key, &f, op, expected),
        None => missing(on_missing, format!("{key} is not set in {path}")),
    })
}

fn sshd(snap: &Snapshot, key: &str, op: Op, expected: &Expected) -> Verdict {
    let Some(cfg) = snap.sshd.value() else {
        return Verdict::not_applicable(format!("no sshd: {}", snap.sshd.reason().unwrap_or_default()));
    };
    let found = cfg.settings.get(key).or_else(|| cfg.multi.get(key).and_then(|v| v.first()));
    match found {
        Some(f) => judge(key, f, op, expected),
        None => {
            let msg = format!("sshd {key} is not set and has no known default");
            Verdict::fail(msg.clone(), vec![message_only(msg)])
        }
    }
}

fn pam(snap: &Snapshot, module: &str, setting: Option<&str>, want: Option<(Op, Expected)>) -> Verdict {
    let Some(policy) = snap.pam.value() else {
        return Verdict::could_not_evaluate(format!("PAM not read: {}", snap.pam.reason().unwrap_or_default()));
    };
    let entries: Vec<_> = policy.stacks.iter().flat_map(|s| s.entries.iter()).filter(|e| e.module == module).collect();
    if entries.is_empty() {
        let msg = format!("{module} is not in the password stack");
        return Verdict::fail(msg.clone(), vec![message_only(msg)]);
    }
    let (Some(name), Some((op, expected))) = (setting, want) else {
        let e = &entries[0];
        let ev = from_sourced(
            &e.control,
            &Sourced::new(format!("{} {}", e.module, e.args.join(" ")), e.source.clone()),
            "module in the password stack",
        );
        return Verdict::pass(format!("{module} is in the password stack"), vec![ev]);
    };
    // Module arguments override the configuration file; the last argument wins.
    let from_args = entries.iter().rev().find_map(|e| {
        e.args.iter().rev().find_map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a.as_str(), ""));
            (k == name).then(|| Sourced::new(v.to_string(), e.source.clone()))
        })
    });
    let conf = match module {
        "pam_pwquality.so" => policy.pwquality_conf.as_ref(),
        "pam_pwhistory.so" => policy.pwhistory_conf.as_ref(),
        _ => None,
    };
    match from_args.or_else(|| conf.and_then(|c| c.settings.get(name).cloned())) {
        Some(f) => judge(name, &f, op, &expected),
        None => {
            let msg = format!("{name} is set neither in the {module} arguments nor in its configuration file");
            Verdict::fail(msg.clone(), vec![message_only(msg)])
        }
    }
}

fn login_defs(snap: &Snapshot, key: &str, op: Op, expected: &Expected, default: Option<String>) -> Verdict {
    let set = snap.login_defs.value().and_then(|l| l.settings.get(key));
    match (set, default, &snap.login_defs) {
        (Some(f), _, _) => judge(key, f, op, expected),
        (None, Some(d), Fact::Collected { .. } | Fact::Absent { .. }) => judge(
            key,
            &Sourced::new(d, Source::default_value("shadow-utils built-in value; not set in /etc/login.defs")),
            op,
            expected,
        ),
        (None, None, Fact::Collected { .. } | Fact::Absent { .. }) => {
            let msg = format!("{key} is not set in /etc/login.defs");
            Verdict::fail(msg.clone(), vec![message_only(msg)])
        }
        (None, _, other) => Verdict::could_not_evaluate(other.reason().unwrap_or_default()),
    }
}

fn sysctl(snap: &Snapshot, key: &str, op: Op, expected: &Expected, default: Option<String>) -> Verdict {
    let live_fact = snap.system_config.value().map(|c| &c.sysctl_live);
    let live = live_fact.and_then(|f| f.value()).and_then(|s| s.get(key));
    let persisted = snap.sysctl.value().and_then(|s| persisted_sysctl(s, key));
    let mut subs = Vec::new();
    if let Some(v) = live {
        subs.push(judge(key, v, op, expected));
    }
    match (persisted, default) {
        (Some(p), _) => subs.push(judge(key, p, op, expected)),
        (None, Some(d)) => subs.push(judge(
            key,
            &Sourced::new(
                d,
                Source::default_value("kernel built-in value at boot: not persisted in sysctl configuration"),
            ),
            op,
            expected,
        )),
        (None, None) => {}
    }
    if subs.is_empty() {
        let live_known = live_fact.is_some_and(|f| f.value().is_some());
        return if live_known {
            Verdict::not_applicable(format!("the running kernel has no {key} and nothing persists it"))
        } else {
            Verdict::could_not_evaluate(format!("{key}: the running value is a live fact and nothing persists it"))
        };
    }
    combine(&Check::All(Vec::new()), subs)
}

/// The persisted value of `key`: its own assignment or a glob key
/// (`net.ipv4.conf.*.rp_filter`) matching it, whichever is applied last
/// (files in `sysctl --system` order, then line).
fn persisted_sysctl<'a>(cfg: &'a warden_model::SysctlConfig, key: &str) -> Option<&'a Sourced<String>> {
    let order = |v: &Sourced<String>| match &v.source {
        Source::File { path, line } => (cfg.files.iter().position(|f| f == path).unwrap_or(usize::MAX), *line),
        _ => (usize::MAX, u32::MAX),
    };
    let exact = cfg.settings.get(key);
    let globbed = cfg
        .settings
        .iter()
        .filter(|(k, _)| k.contains(['*', '?']) && glob_match(k.as_bytes(), key.as_bytes()))
        .map(|(_, v)| v)
        .max_by_key(|v| order(v));
    match (exact, globbed) {
        (Some(e), Some(g)) => Some(if order(g) > order(e) { g } else { e }),
        (e, g) => e.or(g),
    }
}

/// fnmatch(3) without flags, `*` and `?` only (what sysctl.d(5) keys use).
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pattern[1..], text) || (!text.is_empty() && glob_match(pattern, &text[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn kernel_module(snap: &Snapshot, name: &str) -> Result<Verdict, Verdict> {
    let cfg = config(snap)?;
    let norm = |s: &str| s.replace('-', "_");
    let want = norm(name);
    let mut evidence = Vec::new();
    let mut disabled = false;
    for d in cfg.modprobe.iter().filter(|d| norm(&d.module) == want) {
        let off = d.directive == "blacklist"
            || d.command
                .as_deref()
                .and_then(|c| c.split_whitespace().next())
                .is_some_and(|c| matches!(c.rsplit('/').next(), Some("false" | "true")));
        disabled |= off;
        let text = format!("{} {}", d.module, d.command.clone().unwrap_or_default()).trim().to_string();
        let ev = from_sourced(
            &d.directive,
            &Sourced::new(text, d.source.clone()),
            if off { "disables loading" } else { "does not disable loading" },
        );
        evidence.push(ev);
    }
    let loaded = cfg.loaded_modules.value().map(|m| m.iter().any(|l| norm(l) == want));
    if loaded == Some(true) {
        evidence.push(at("/proc/modules", None, Some(want.clone()), "the module is loaded"));
    }
    let expected =
        "expected an `install NAME /bin/false` (or /bin/true) or `blacklist NAME` in modprobe.d, and not loaded";
    Ok(if !disabled || loaded == Some(true) {
        let what = if disabled { format!("{name} is loaded") } else { format!("{name} is not disabled in modprobe.d") };
        if evidence.is_empty() {
            evidence.push(message_only(format!("no install or blacklist directive for {name} in modprobe.d")));
        }
        Verdict::fail(format!("{what}; {expected}"), evidence)
    } else {
        let note = if loaded.is_none() { " (loaded modules are a live fact)" } else { "" };
        Verdict::pass(format!("{name} is disabled in modprobe.d{note}"), evidence)
    })
}

fn mount(snap: &Snapshot, path: &str, options: &[String], on_missing: Missing) -> Result<Verdict, Verdict> {
    let cfg = config(snap)?;
    let norm = |p: &str| if p.len() > 1 { p.trim_end_matches('/').to_string() } else { p.to_string() };
    let find = |f: &Fact<Vec<warden_model::MountEntry>>| {
        f.value().and_then(|v| v.iter().rev().find(|m| norm(&m.mount_point) == norm(path)).cloned())
    };
    let fstab = find(&cfg.fstab);
    let live = find(&cfg.mounts);
    let live_known = cfg.mounts.value().is_some();
    let mut subs = Vec::new();
    for entry in [live.as_ref(), fstab.as_ref()].into_iter().flatten() {
        let lacking: Vec<&String> = options.iter().filter(|o| !entry.options.contains(o)).collect();
        let text = format!("{} {} {} {}", entry.device, entry.mount_point, entry.fs_type, entry.options.join(","));
        let (p, l) = match &entry.source {
            Source::File { path, line } => (path.clone(), Some(*line)),
            Source::Kernel { path } => (path.clone(), None),
            Source::Default { .. } => (String::new(), None),
        };
        if lacking.is_empty() {
            let msg = format!(
                "{path} is a separate mount{}",
                if options.is_empty() { String::new() } else { format!(" with {}", options.join(",")) }
            );
            subs.push(Verdict::pass(msg.clone(), vec![at(&p, l, Some(text), msg)]));
        } else {
            let msg = format!(
                "{path} is mounted without {}",
                lacking.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
            );
            subs.push(Verdict::fail(msg.clone(), vec![at(&p, l, Some(text), msg)]));
        }
    }
    let present = if live_known { live.is_some() } else { fstab.is_some() };
    if !present {
        let where_ = if live_known { "in the mount table" } else { "in /etc/fstab" };
        return Ok(missing(on_missing, format!("{path} is not a separate mount {where_}")));
    }
    Ok(combine(&Check::All(Vec::new()), subs))
}

fn package(snap: &Snapshot, names: &[String], installed: bool) -> Verdict {
    let Some(invs) = snap.packages.value() else {
        return Verdict::could_not_evaluate(format!(
            "no package inventory: {}",
            snap.packages.reason().unwrap_or_default()
        ));
    };
    let hits: Vec<Evidence> = invs
        .iter()
        .flat_map(|i| i.packages.iter())
        .filter(|p| names.contains(&p.name))
        .map(|p| {
            let text = format!("{} {}", p.name, p.version);
            match &p.source {
                Source::File { path, line } => at(path, Some(*line), Some(text), "installed"),
                _ => message_only(format!("{text} installed")),
            }
        })
        .collect();
    let list = names.join(", ");
    match (installed, hits.is_empty()) {
        (false, true) => Verdict::pass(format!("none of {list} is installed"), vec![]),
        (false, false) => Verdict::fail(format!("installed: expected none of {list}"), hits),
        (true, false) => Verdict::pass(format!("installed: one of {list}"), hits),
        (true, true) => {
            let msg = format!("none of {list} is installed; expected one");
            Verdict::fail(msg.clone(), vec![message_only(msg)])
        }
    }
}

fn systemd_unit(snap: &Snapshot, unit: &str, state: UnitState) -> Result<Verdict, Verdict> {
    let cfg = config(snap)?;
    let links = |v: &[warden_model::UnitLink]| -> Vec<Evidence> {
        v.iter()
            .filter(|l| l.unit == unit)
            .map(|l| at(&l.link, None, Some(format!("-> {}", l.target)), "unit link"))
            .collect()
    };
    let enabled = links(&cfg.systemd.enabled);
    let masked = links(&cfg.systemd.masked);
    let is_masked = !masked.is_empty();
    let is_enabled = !enabled.is_empty() && !is_masked;
    let ok = match state {
        UnitState::Enabled => is_enabled,
        UnitState::NotEnabled => !is_enabled,
        UnitState::Masked => is_masked,
    };
    let now = if is_masked {
        "masked"
    } else if is_enabled {
        "enabled"
    } else {
        "not enabled"
    };
    let msg = format!("{unit} is {now}; expected {state:?}").replace("NotEnabled", "not enabled");
    let mut evidence: Vec<Evidence> = enabled.into_iter().chain(masked).collect();
    if evidence.is_empty() {
        evidence.push(message_only(format!("no link for {unit} in /etc/systemd/system")));
    }
    Ok(if ok { Verdict::pass(msg, evidence) } else { Verdict::fail(msg, evidence) })
}

fn accounts(snap: &Snapshot, check: AccountCheck) -> Verdict {
    let Some(list) = snap.accounts.value() else {
        return Verdict::could_not_evaluate(format!(
            "accounts not read: {}",
            snap.accounts.reason().unwrap_or_default()
        ));
    };
    let (bad, what): (Vec<_>, &str) = match check {
        AccountCheck::OnlyRootUid0 => {
            (list.iter().filter(|a| a.uid == Some(0) && a.user != "root").collect(), "has UID 0")
        }
        AccountCheck::NoEmptyPasswords => {
            (list.iter().filter(|a| a.password == PasswordState::Empty).collect(), "has an empty password field")
        }
    };
    let evidence: Vec<Evidence> = bad
        .iter()
        .map(|a| match &a.source {
            Source::File { path, line } => at(path, Some(*line), Some(a.user.clone()), format!("{} {what}", a.user)),
            _ => message_only(format!("{} {what}", a.user)),
        })
        .collect();
    if evidence.is_empty() {
        let who = if check == AccountCheck::OnlyRootUid0 { "no account but root" } else { "no account" };
        Verdict::pass(format!("{who} {what}"), vec![])
    } else {
        Verdict::fail(format!("{} account(s) {what}", evidence.len()), evidence)
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
pub(super) mod tests;
