//! Password policy rules: maximum age, minimum length, complexity and reuse.
//!
//! Semantics:
//! - The policy that matters is the one in the PAM `password` stacks that
//!   change passwords (Debian/SUSE `common-password`, RHEL `system-auth` and
//!   `password-auth`, else `passwd`), includes expanded. Every stack found
//!   must enforce the policy; a module only counts when it is really in the
//!   stack with an enforcing control (not `optional` or `sufficient`, whose
//!   failure PAM ignores).
//! - A pwquality/cracklib setting comes from the module's arguments first;
//!   for `pam_pwquality` only, then from `pwquality.conf` and its drop-ins;
//!   then the module's built-in default. `pam_cracklib` reads no config file.
//! - Thresholds: `PASS_MAX_DAYS` 1..=365 (CIS) in `/etc/login.defs` and on
//!   every account with a usable password; `minlen` >= 14 (CIS); complexity is
//!   all four of `dcredit ucredit lcredit ocredit` negative (each class
//!   required) or `minclass` >= 4, plus `remember` >= 12 on `pam_unix` or
//!   `pam_pwhistory` (Inspector's guidance).
//! - Without PAM (e.g. Alpine's busybox), shadow-utils' `passwd` built
//!   without PAM honours `PASS_MIN_LEN` from login.defs, so that decides the
//!   length rule; nothing there enforces complexity or history.

use warden_model::{
    AccountAging, ConfigFile, Evidence, Fact, PamEntry, PamPolicy, PamStack, PasswordState, Severity, Snapshot, Source,
    Sourced,
};

use super::super::evidence::{at, from_sourced, message_only};
use crate::{RuleMeta, Verdict};

pub const MAX_AGE: RuleMeta = RuleMeta {
    id: "sbp-password-max-age",
    title: "Configure password maximum age",
    severity: Severity::Medium,
    description: "Checks that passwords expire. It fails when `PASS_MAX_DAYS` in /etc/login.defs (applied to new \
        accounts) is unset or outside 1-365 days, or when an existing account with a usable password has no \
        maximum age or one over 365 days in /etc/shadow. Accounts whose password is locked or unset are \
        ignored. A password that never expires stays useful to whoever has stolen it.",
    recommendation: "Set `PASS_MAX_DAYS 365` (or less) in /etc/login.defs, and apply it to existing accounts with \
        `chage --maxdays 365 USER`.",
};

pub const MIN_LENGTH: RuleMeta = RuleMeta {
    id: "sbp-password-min-length",
    title: "Configure password minimum length",
    severity: Severity::Medium,
    description: "Checks that new passwords must be at least 14 characters long. The `minlen` of the \
        `pam_pwquality` (or `pam_cracklib`) module in every PAM password stack decides: its module argument, \
        else (pwquality only) /etc/security/pwquality.conf and its drop-ins, else the module default (8 for \
        pwquality, 9 for cracklib). The module must be in the stack with an enforcing control. Without PAM, \
        `PASS_MIN_LEN` in /etc/login.defs decides.",
    recommendation: "Add `pam_pwquality.so` to the password stack (Debian: `apt install libpam-pwquality`) and set \
        `minlen = 14` in /etc/security/pwquality.conf, or pass `minlen=14` to `pam_pwquality.so` or \
        `pam_cracklib.so`.",
};

pub const COMPLEXITY: RuleMeta = RuleMeta {
    id: "sbp-password-complexity",
    title: "Configure password complexity",
    severity: Severity::Medium,
    description: "Checks that new passwords must mix character classes and may not reuse recent ones. In every \
        PAM password stack, `pam_pwquality` (or `pam_cracklib`) must require all four classes (`dcredit`, \
        `ucredit`, `lcredit` and `ocredit` all negative, or `minclass` of 4), and `pam_unix` or \
        `pam_pwhistory` must remember at least 12 previous passwords (`remember`; pam_pwhistory's default is \
        10, and /etc/security/pwhistory.conf applies to it).",
    recommendation: "Set `dcredit = -1`, `ucredit = -1`, `lcredit = -1` and `ocredit = -1` (or `minclass = 4`) in \
        /etc/security/pwquality.conf, and add `remember=12` to `pam_pwhistory.so` (or `pam_unix.so`) in the \
        password stack.",
};

const MAX_AGE_LIMIT: i64 = 365;
const MIN_LENGTH_REQUIRED: i64 = 14;
const REMEMBER_REQUIRED: i64 = 12;
/// Most accounts cited one by one in a finding; the rest are counted.
const MAX_ACCOUNTS_CITED: usize = 50;

fn max_age_ok(days: i64) -> bool {
    (1..=MAX_AGE_LIMIT).contains(&days)
}

pub fn max_age(snapshot: &Snapshot) -> Verdict {
    let mut evidence = Vec::new();
    let mut bad = false;
    let mut unknown = Vec::new();
    match &snapshot.login_defs {
        Fact::Collected { value } => match value.settings.get("PASS_MAX_DAYS") {
            Some(v) => {
                let ok = v.value.trim().parse::<i64>().is_ok_and(max_age_ok);
                bad |= !ok;
                let msg = if ok { "new accounts get a maximum password age" } else { "not within 1-365 days" };
                evidence.push(from_sourced("PASS_MAX_DAYS", v, msg));
            }
            None => {
                bad = true;
                evidence.push(at(&value.path, None, None, "PASS_MAX_DAYS is not set: new accounts get no maximum age"));
            }
        },
        Fact::Absent { .. } => {
            bad = true;
            evidence.push(message_only("no /etc/login.defs: new accounts get no maximum password age"));
        }
        other => unknown.push(other.reason().unwrap_or_default()),
    }
    match &snapshot.accounts {
        Fact::Collected { value } => {
            let offenders: Vec<&AccountAging> = value
                .iter()
                .filter(|a| a.password == PasswordState::Usable && !a.max_days.is_some_and(max_age_ok))
                .collect();
            bad |= !offenders.is_empty();
            for a in offenders.iter().take(MAX_ACCOUNTS_CITED) {
                let (path, line) = match &a.source {
                    Source::File { path, line } => (path.as_str(), Some(*line)),
                    _ => ("/etc/shadow", None),
                };
                let max = a.max_days.map_or("empty (no limit)".to_string(), |d| d.to_string());
                evidence.push(at(
                    path,
                    line,
                    Some(format!("{}: maximum age {max}", a.user)),
                    format!("account {} has a usable password that does not expire within 365 days", a.user),
                ));
            }
            if offenders.len() > MAX_ACCOUNTS_CITED {
                evidence.push(message_only(format!("and {} more accounts", offenders.len() - MAX_ACCOUNTS_CITED)));
            }
        }
        Fact::Absent { .. } => {}
        other => unknown.push(other.reason().unwrap_or_default()),
    }
    if bad {
        Verdict::fail("passwords do not expire within 365 days", evidence)
    } else if !unknown.is_empty() {
        Verdict::could_not_evaluate(unknown.join("; "))
    } else {
        Verdict::pass("maximum password age within 365 days", evidence)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum QualityModule {
    Pwquality,
    Cracklib,
}

impl QualityModule {
    fn of(entry: &PamEntry) -> Option<Self> {
        match entry.module.as_str() {
            "pam_pwquality.so" => Some(QualityModule::Pwquality),
            "pam_cracklib.so" => Some(QualityModule::Cracklib),
            _ => None,
        }
    }
    /// Built-in defaults (pwquality.conf(5); pam_cracklib(8)).
    fn default(self, key: &str) -> Option<i64> {
        match (self, key) {
            (QualityModule::Pwquality, "minlen") => Some(8),
            (QualityModule::Cracklib, "minlen") => Some(9),
            (QualityModule::Pwquality, "dcredit" | "ucredit" | "lcredit" | "ocredit") => Some(0),
            (QualityModule::Cracklib, "dcredit" | "ucredit" | "lcredit" | "ocredit") => Some(1),
            (_, "minclass") => Some(0),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            QualityModule::Pwquality => "pam_pwquality.so",
            QualityModule::Cracklib => "pam_cracklib.so",
        }
    }
}

/// PAM ignores the result of `optional` and `sufficient` modules for the
/// password type when others succeed, so they enforce nothing.
fn enforcing(entry: &PamEntry) -> bool {
    !matches!(entry.control.as_str(), "optional" | "sufficient")
}

/// The last `key=value` argument of a module (PAM modules parse arguments in
/// order, later ones overriding).
fn module_arg<'a>(entry: &'a PamEntry, key: &str) -> Option<&'a str> {
    entry.args.iter().rev().find_map(|a| a.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn entry_evidence(entry: &PamEntry, shown: String, message: String) -> Evidence {
    let value = Sourced::new(shown, entry.source.clone());
    from_sourced(&entry.module, &value, message)
}

/// An effective integer setting of a quality module, with its evidence.
fn quality_setting(
    module: QualityModule,
    entry: &PamEntry,
    conf: Option<&ConfigFile>,
    key: &str,
) -> (Option<i64>, Evidence) {
    if let Some(v) = module_arg(entry, key) {
        let n = v.trim().parse::<i64>().ok();
        return (n, entry_evidence(entry, format!("{key}={v}"), format!("{key} set on the module")));
    }
    if module == QualityModule::Pwquality
        && let Some(v) = conf.and_then(|c| c.settings.get(key))
    {
        return (
            v.value.trim().parse().ok(),
            from_sourced(&format!("{key} ="), v, format!("{key} from pwquality configuration")),
        );
    }
    let d = module.default(key);
    let value = Sourced::new(
        d.map_or_else(String::new, |d| d.to_string()),
        Source::default_value(format!("{} built-in default", module.name())),
    );
    (d, from_sourced(&format!("{key} ="), &value, format!("{key} not set")))
}

/// The PAM policy, or the verdict when there is none to judge.
fn pam_policy(snapshot: &Snapshot) -> Result<Option<&PamPolicy>, Verdict> {
    match &snapshot.pam {
        Fact::Collected { value } => Ok(Some(value)),
        Fact::Absent { .. } => Ok(None),
        other => Err(Verdict::could_not_evaluate(format!(
            "PAM configuration unavailable: {}",
            other.reason().unwrap_or_default()
        ))),
    }
}

fn no_stack_evidence() -> Evidence {
    message_only("no PAM password stack (common-password, system-auth, password-auth or passwd) was found")
}

fn quality_entry(stack: &PamStack) -> Option<(QualityModule, &PamEntry)> {
    stack.entries.iter().find_map(|e| QualityModule::of(e).map(|m| (m, e)))
}

/// Checks the quality module of each stack with `judge`, which returns
/// whether the stack passes and adds its evidence.
fn each_quality_stack(
    policy: &PamPolicy,
    evidence: &mut Vec<Evidence>,
    mut judge: impl FnMut(QualityModule, &PamEntry, &mut Vec<Evidence>) -> bool,
) -> bool {
    if policy.stacks.is_empty() {
        evidence.push(no_stack_evidence());
        return false;
    }
    let mut all_ok = true;
    for stack in &policy.stacks {
        match quality_entry(stack) {
            Some((module, entry)) if enforcing(entry) => all_ok &= judge(module, entry, evidence),
            Some((_, entry)) => {
                all_ok = false;
                evidence.push(entry_evidence(
                    entry,
                    format!("(control {})", entry.control),
                    format!("in {}: the module's result is ignored, so it enforces nothing", stack.service),
                ));
            }
            None => {
                all_ok = false;
                evidence.push(at(
                    &stack.path,
                    None,
                    None,
                    format!("the {} password stack has no pam_pwquality.so or pam_cracklib.so", stack.service),
                ));
            }
        }
    }
    all_ok
}

pub fn min_length(snapshot: &Snapshot) -> Verdict {
    let policy = match pam_policy(snapshot) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let mut evidence = Vec::new();
    let Some(policy) = policy else {
        return min_length_without_pam(snapshot);
    };
    let ok = each_quality_stack(policy, &mut evidence, |module, entry, evidence| {
        let (minlen, mut e) = quality_setting(module, entry, policy.pwquality_conf.as_ref(), "minlen");
        let ok = minlen.is_some_and(|n| n >= MIN_LENGTH_REQUIRED);
        e.message = format!("{}: {}", e.message, if ok { "at least 14" } else { "below 14" });
        evidence.push(e);
        ok
    });
    if ok {
        Verdict::pass("minimum password length at least 14", evidence)
    } else {
        Verdict::fail("minimum password length below 14 or not enforced", evidence)
    }
}

fn min_length_without_pam(snapshot: &Snapshot) -> Verdict {
    let mut evidence = vec![message_only("no /etc/pam.d: PAM is not in use")];
    match &snapshot.login_defs {
        Fact::Collected { value } => match value.settings.get("PASS_MIN_LEN") {
            Some(v) => {
                let ok = v.value.trim().parse::<i64>().is_ok_and(|n| n >= MIN_LENGTH_REQUIRED);
                evidence.push(from_sourced("PASS_MIN_LEN", v, if ok { "at least 14" } else { "below 14" }));
                if ok {
                    Verdict::pass("PASS_MIN_LEN at least 14", evidence)
                } else {
                    Verdict::fail("PASS_MIN_LEN below 14", evidence)
                }
            }
            None => {
                evidence.push(at(&value.path, None, None, "PASS_MIN_LEN is not set"));
                Verdict::fail("no minimum password length", evidence)
            }
        },
        Fact::Absent { .. } => {
            evidence.push(message_only("no /etc/login.defs: nothing sets a minimum length"));
            Verdict::fail("no minimum password length", evidence)
        }
        other => Verdict::could_not_evaluate(other.reason().unwrap_or_default()),
    }
}

pub fn complexity(snapshot: &Snapshot) -> Verdict {
    let policy = match pam_policy(snapshot) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Verdict::fail(
                "no password complexity rules",
                vec![message_only("no /etc/pam.d: PAM is not in use, so nothing enforces complexity or history")],
            );
        }
        Err(v) => return v,
    };
    let mut evidence = Vec::new();
    let classes_ok = each_quality_stack(policy, &mut evidence, |module, entry, evidence| {
        let conf = policy.pwquality_conf.as_ref();
        let (minclass, minclass_ev) = quality_setting(module, entry, conf, "minclass");
        if minclass.is_some_and(|n| n >= 4) {
            evidence.push(minclass_ev);
            return true;
        }
        let mut ok = true;
        for key in ["dcredit", "ucredit", "lcredit", "ocredit"] {
            let (credit, mut e) = quality_setting(module, entry, conf, key);
            let required = credit.is_some_and(|n| n < 0);
            ok &= required;
            e.message = format!("{}: {}", e.message, if required { "class required" } else { "class not required" });
            evidence.push(e);
        }
        if !ok {
            let mut m = minclass_ev;
            m.message = format!("{}: fewer than 4 classes required", m.message);
            evidence.push(m);
        }
        ok
    });
    let history_ok = if policy.stacks.is_empty() {
        false
    } else {
        let mut all = true;
        for stack in &policy.stacks {
            all &= history_ok(stack, policy, &mut evidence);
        }
        all
    };
    if classes_ok && history_ok {
        Verdict::pass("all character classes required and 12 passwords remembered", evidence)
    } else {
        let mut missing = Vec::new();
        if !classes_ok {
            missing.push("character classes not all required");
        }
        if !history_ok {
            missing.push("fewer than 12 previous passwords remembered");
        }
        Verdict::fail(missing.join("; "), evidence)
    }
}

/// Whether a stack remembers at least 12 passwords (pam_pwhistory or pam_unix).
fn history_ok(stack: &PamStack, policy: &PamPolicy, evidence: &mut Vec<Evidence>) -> bool {
    let mut best: Option<(i64, Evidence)> = None;
    for entry in stack.entries.iter().filter(|e| enforcing(e) || e.module == "pam_unix.so") {
        let found = match entry.module.as_str() {
            "pam_unix.so" => module_arg(entry, "remember").map(|v| {
                (
                    v.trim().parse().unwrap_or(0),
                    entry_evidence(entry, format!("remember={v}"), "pam_unix remembers previous passwords".into()),
                )
            }),
            "pam_pwhistory.so" => Some(match module_arg(entry, "remember") {
                Some(v) => (
                    v.trim().parse().unwrap_or(0),
                    entry_evidence(entry, format!("remember={v}"), "pam_pwhistory remembers previous passwords".into()),
                ),
                None => match policy.pwhistory_conf.as_ref().and_then(|c| c.settings.get("remember")) {
                    Some(v) => (
                        v.value.trim().parse().unwrap_or(0),
                        from_sourced("remember =", v, "pam_pwhistory remembers previous passwords"),
                    ),
                    None => (
                        10,
                        entry_evidence(
                            entry,
                            "(no remember)".into(),
                            "pam_pwhistory's default remembers 10 passwords".into(),
                        ),
                    ),
                },
            }),
            _ => None,
        };
        if let Some((n, e)) = found
            && best.as_ref().is_none_or(|(b, _)| n > *b)
        {
            best = Some((n, e));
        }
    }
    match best {
        Some((n, mut e)) => {
            let ok = n >= REMEMBER_REQUIRED;
            e.message = format!("{}: {n}{}", e.message, if ok { "" } else { ", fewer than 12" });
            evidence.push(e);
            ok
        }
        None => {
            evidence.push(at(
                &stack.path,
                None,
                None,
                format!(
                    "the {} password stack remembers no previous passwords (no remember= on pam_unix or pam_pwhistory)",
                    stack.service
                ),
            ));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use warden_model::{LoginDefs, Outcome};

    const CP: &str = "/etc/pam.d/common-password";

    fn entry(control: &str, module: &str, args: &[&str], line: u32) -> PamEntry {
        PamEntry {
            control: control.into(),
            module: module.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            source: Source::file(CP, line),
        }
    }

    fn with_pam(entries: Vec<PamEntry>, conf: &[(&str, &str, u32)]) -> Snapshot {
        let mut s = base_snapshot();
        s.pam = Fact::collected(PamPolicy {
            stacks: vec![PamStack { service: "common-password".into(), path: CP.into(), entries }],
            pwquality_conf: (!conf.is_empty()).then(|| ConfigFile {
                files: vec!["/etc/security/pwquality.conf".into()],
                settings: settings(conf, "/etc/security/pwquality.conf"),
            }),
            pwhistory_conf: None,
            problems: vec![],
        });
        s
    }

    #[test]
    fn minlen_module_argument_beats_config_file() {
        let s = with_pam(
            vec![entry("requisite", "pam_pwquality.so", &["retry=3", "minlen=8"], 25)],
            &[("minlen", "14", 11)],
        );
        let v = min_length(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[0].line, Some(25));
        assert_eq!(v.evidence[0].text.as_deref(), Some("pam_pwquality.so minlen=8"));
        let s = with_pam(vec![entry("requisite", "pam_pwquality.so", &["retry=3"], 25)], &[("minlen", "14", 11)]);
        let v = min_length(&s);
        assert_eq!(v.outcome, Outcome::Pass);
        assert_eq!(v.evidence[0].path.as_deref(), Some("/etc/security/pwquality.conf"));
    }

    #[test]
    fn cracklib_ignores_pwquality_conf_and_optional_enforces_nothing() {
        let s = with_pam(vec![entry("required", "pam_cracklib.so", &[], 25)], &[("minlen", "14", 11)]);
        let v = min_length(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.evidence[0].is_default);
        let s = with_pam(vec![entry("optional", "pam_pwquality.so", &["minlen=20"], 25)], &[]);
        assert_eq!(min_length(&s).outcome, Outcome::Fail);
        let s = with_pam(vec![entry("[success=1 default=ignore]", "pam_unix.so", &["obscure"], 25)], &[]);
        assert_eq!(min_length(&s).outcome, Outcome::Fail);
    }

    #[test]
    fn complexity_needs_classes_and_history() {
        let quality = entry("requisite", "pam_pwquality.so", &["retry=3"], 25);
        let unix12 = entry("[success=1 default=ignore]", "pam_unix.so", &["obscure", "use_authtok", "remember=12"], 26);
        let credits = [("dcredit", "-1", 1), ("ucredit", "-1", 2), ("lcredit", "-1", 3), ("ocredit", "-1", 4)];
        assert_eq!(complexity(&with_pam(vec![quality.clone(), unix12.clone()], &credits)).outcome, Outcome::Pass);
        assert_eq!(
            complexity(&with_pam(vec![quality.clone(), unix12.clone()], &[("minclass", "4", 1)])).outcome,
            Outcome::Pass
        );
        let v = complexity(&with_pam(vec![quality.clone(), unix12.clone()], &credits[..3]));
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.reason.contains("character classes"));
        let unix5 = entry("[success=1 default=ignore]", "pam_unix.so", &["remember=5"], 26);
        let v = complexity(&with_pam(vec![quality.clone(), unix5], &credits));
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.reason.contains("12 previous"), "{}", v.reason);
        let pwhistory_default = entry("required", "pam_pwhistory.so", &[], 24);
        let v = complexity(&with_pam(vec![quality, pwhistory_default], &credits));
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.evidence.iter().any(|e| e.message.contains("default remembers 10")));
    }

    #[test]
    fn max_age_checks_login_defs_and_usable_accounts() {
        let mut s = base_snapshot();
        s.login_defs = Fact::collected(LoginDefs {
            path: "/etc/login.defs".into(),
            settings: settings(&[("PASS_MAX_DAYS", "365", 160)], "/etc/login.defs"),
            problems: vec![],
        });
        let account = |user: &str, password, max_days, line| AccountAging {
            user: user.into(),
            uid: None,
            shell: None,
            password,
            last_change: Some(20000),
            min_days: Some(0),
            max_days,
            warn_days: Some(7),
            inactive_days: None,
            expire_date: None,
            source: Source::file("/etc/shadow", line),
        };
        s.accounts = Fact::collected(vec![
            account("root", PasswordState::Usable, Some(365), 1),
            account("daemon", PasswordState::NoPassword, Some(99999), 2),
            account("locked", PasswordState::Locked, None, 3),
        ]);
        assert_eq!(max_age(&s).outcome, Outcome::Pass);
        if let Fact::Collected { value } = &mut s.accounts {
            value.push(account("alice", PasswordState::Usable, Some(99999), 4));
        }
        let v = max_age(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        let e = v.evidence.iter().find(|e| e.path.as_deref() == Some("/etc/shadow")).unwrap();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.text.as_deref(), Some("alice: maximum age 99999"));
        s.accounts = Fact::Failed { problem: warden_model::Problem::file("/etc/shadow", "permission denied") };
        assert_eq!(max_age(&s).outcome, Outcome::CouldNotEvaluate);
    }
}
