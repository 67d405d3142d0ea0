//! The CIS probes over parsed host facts rather than single files: the
//! bounded file-system walk, audit rules and `auditd.conf`, the boot loader,
//! host firewalls, and AppArmor / SELinux.
//!
//! Why a module of its own: `eval.rs` holds the probes over files and
//! settings; these read the summaries of `warden_model::cis_facts` and have
//! their own rules about partial data (a walk stopped at its cap never
//! passes) and about secrets (the boot loader evidence names where a
//! password is set, never its hash). Semantics are in `docs/cis.md`.

use warden_model::{Evidence, Fact, FirewallFacts, Snapshot, Source, Sourced};

use super::eval::{Expected, config, judge, missing, stat_verdict};
use super::schema::{BootCheck, FirewallCheck, FirewallUtility, MacFramework, MacState, Missing, Op, WalkFind};
use crate::Verdict;
use crate::evidence::{at, message_only};

fn fact<'a, T>(f: &'a Fact<T>, what: &str) -> Result<Option<&'a T>, Verdict> {
    match f {
        Fact::Collected { value } => Ok(Some(value)),
        Fact::Absent { .. } => Ok(None),
        other => Err(Verdict::could_not_evaluate(format!("{what}: {}", other.reason().unwrap_or_default()))),
    }
}

/// Evidence citing a value where it was found (the value as the text).
fn cite(s: &Sourced<String>, message: impl Into<String>) -> Evidence {
    match &s.source {
        Source::File { path, line } => at(path, Some(*line), Some(s.value.clone()), message),
        Source::Kernel { path } => at(path, None, Some(s.value.clone()), message),
        Source::Default { note } => message_only(format!("{}: {} ({note})", message.into(), s.value)),
    }
}

/// `fs_walk`: none of the kind may be found; an incomplete walk that found none could not evaluate.
pub fn fs_walk(snap: &Snapshot, find: WalkFind) -> Result<Verdict, Verdict> {
    let Some(w) = fact(&config(snap)?.fs_walk, "file-system walk")? else {
        return Err(Verdict::could_not_evaluate("file-system walk not collected"));
    };
    let (hits, what) = match find {
        WalkFind::WorldWritableFiles => (&w.world_writable_files, "world-writable regular file"),
        WalkFind::WorldWritableDirsWithoutSticky => {
            (&w.world_writable_dirs_without_sticky, "world-writable directory without the sticky bit")
        }
        WalkFind::Unowned => (&w.unowned, "path owned by a uid with no /etc/passwd entry"),
        WalkFind::Ungrouped => (&w.ungrouped, "path whose gid has no /etc/group entry"),
    };
    if matches!(find, WalkFind::Unowned | WalkFind::Ungrouped) && !w.owners_known {
        return Err(Verdict::could_not_evaluate("/etc/passwd or /etc/group was not read: owners cannot be told"));
    }
    let scope = format!(
        "{} entries examined (not descended: {})",
        w.examined,
        if w.skipped.is_empty() { "none".to_string() } else { w.skipped.join(", ") }
    );
    if hits.count > 0 {
        let mut evidence: Vec<Evidence> = hits
            .paths
            .iter()
            .map(|p| {
                let text = format!(
                    "{:04o} {}:{}",
                    p.mode,
                    p.owner.clone().unwrap_or_else(|| p.uid.to_string()),
                    p.group.clone().unwrap_or_else(|| p.gid.to_string())
                );
                at(&p.path, None, Some(text), what)
            })
            .collect();
        if hits.count > hits.paths.len() as u64 {
            evidence.push(message_only(format!("{} more not listed", hits.count - hits.paths.len() as u64)));
        }
        let partial = w.partial.as_ref().map(|p| format!(" (at least: {p})")).unwrap_or_default();
        return Ok(Verdict::fail(format!("{} {what}(s) found{partial}; {scope}; expected none", hits.count), evidence));
    }
    if let Some(p) = &w.partial {
        return Err(Verdict::could_not_evaluate(format!("no {what} found, but the walk is partial: {p}; {scope}")));
    }
    Ok(Verdict::pass(format!("no {what} found; {scope}"), vec![]))
}

/// `audit_rule`: a rule line in rules.d or audit.rules matching the pattern.
pub fn audit_rule(snap: &Snapshot, pattern: &str, present: bool) -> Result<Verdict, Verdict> {
    let re = regex::Regex::new(pattern).map_err(|e| Verdict::could_not_evaluate(e.to_string()))?;
    let audit = fact(&config(snap)?.audit, "audit configuration")?;
    let hits: Vec<Evidence> = audit
        .iter()
        .flat_map(|a| a.rules_d.iter().chain(a.audit_rules.iter()))
        .filter(|r| re.is_match(&r.value))
        .map(|r| cite(r, format!("audit rule matches {pattern:?}")))
        .collect();
    let place = "/etc/audit/rules.d/*.rules or /etc/audit/audit.rules";
    Ok(match (present, hits.is_empty()) {
        (true, false) => Verdict::pass(format!("an audit rule matches {pattern:?}"), hits),
        (true, true) => {
            let msg = format!("no audit rule in {place} matches {pattern:?}");
            Verdict::fail(msg.clone(), vec![message_only(msg)])
        }
        (false, false) => Verdict::fail(format!("audit rules match {pattern:?}; expected none"), hits),
        (false, true) => Verdict::pass(format!("no audit rule matches {pattern:?}"), vec![]),
    })
}

/// `auditd_conf`: one setting of auditd.conf; unset fails.
pub fn auditd_conf(snap: &Snapshot, key: &str, op: Op, expected: &Expected) -> Result<Verdict, Verdict> {
    let audit = fact(&config(snap)?.audit, "audit configuration")?;
    match audit.and_then(|a| a.auditd_conf.as_ref()) {
        None => Ok(missing(Missing::Fail, format!("/etc/audit/auditd.conf does not exist; {key} is not set"))),
        Some(conf) => Ok(match conf.get(key) {
            Some(v) => judge(key, v, op, expected),
            None => missing(Missing::Fail, format!("{key} is not set in /etc/audit/auditd.conf")),
        }),
    }
}

/// `bootloader`: a superuser and a password (never the hash), or the files' permissions.
pub fn bootloader(
    snap: &Snapshot,
    check: BootCheck,
    mode: Option<&str>,
    owner: Option<&[String]>,
    group: Option<&[String]>,
) -> Result<Verdict, Verdict> {
    let Some(b) = fact(&config(snap)?.bootloader, "boot loader")? else {
        return Ok(Verdict::not_applicable("no GRUB 2 configuration (/boot/grub/grub.cfg, /boot/grub2/grub.cfg)"));
    };
    Ok(match check {
        BootCheck::Password => {
            let mut evidence: Vec<Evidence> = b.superusers.iter().map(|s| cite(s, "superusers set")).collect();
            evidence.extend(b.passwords.iter().map(|s| cite(s, "password set (hash not shown)")));
            match (b.superusers.is_empty(), b.passwords.is_empty()) {
                (false, false) => Verdict::pass("the boot loader has a superuser with a password", evidence),
                (su, _) => {
                    let msg = if su {
                        "no `set superusers=` in the GRUB configuration or /etc/grub.d"
                    } else {
                        "superusers are set but no `password_pbkdf2` (or GRUB2_PASSWORD) line"
                    };
                    evidence.push(message_only(msg));
                    Verdict::fail(msg, evidence)
                }
            }
        }
        BootCheck::Permissions => {
            let subs: Vec<Verdict> = b.files.iter().map(|st| stat_verdict(st, mode, owner, group)).collect();
            super::eval::combine(&super::schema::Check::All(Vec::new()), subs)
        }
    })
}

fn utility_matches(u: FirewallUtility, f: &FirewallFacts) -> bool {
    match u {
        FirewallUtility::Any => true,
        FirewallUtility::Nftables => f.utility == "nftables",
        FirewallUtility::Ufw => f.utility == "ufw",
        FirewallUtility::Iptables => f.utility == "iptables" || f.utility == "ip6tables",
        FirewallUtility::Firewalld => f.utility == "firewalld",
    }
}

/// One utility's configuration against the check.
fn firewall_one(f: &FirewallFacts, check: FirewallCheck, hooks: &[String]) -> Verdict {
    let name = format!("{} ({})", f.utility, f.files.join(", "));
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    if let Some(e) = &f.enabled {
        evidence.push(cite(e, format!("{} ENABLED", f.utility)));
        if e.value != "yes" {
            bad.push(format!("{} is switched off (ENABLED={})", f.utility, e.value));
        }
    }
    match check {
        FirewallCheck::Configured => {
            if f.policies.is_empty() && f.rules == 0 {
                bad.push(format!("{name} has no filter chain and no rule"));
            }
        }
        FirewallCheck::DefaultDeny => {
            for h in hooks {
                match f.policies.get(h) {
                    Some(p) => {
                        evidence.push(cite(p, format!("{h} policy")));
                        if p.value != "drop" && p.value != "reject" {
                            bad.push(format!("{h} policy is {}", p.value));
                        }
                    }
                    None => bad.push(format!("no {h} filter chain (everything is accepted)")),
                }
            }
        }
    }
    if bad.is_empty() {
        let what = if check == FirewallCheck::Configured { "configured" } else { "denying by default" };
        Verdict::pass(format!("{name}: {what}, {} rule(s)", f.rules), evidence)
    } else {
        let msg = format!("{name}: {}", bad.join("; "));
        evidence.push(message_only(msg.clone()));
        Verdict::fail(msg, evidence)
    }
}

/// `firewall`: per utility every configuration file set must comply; `any`: some utility does.
pub fn firewall(
    snap: &Snapshot,
    utility: FirewallUtility,
    check: FirewallCheck,
    hooks: Option<&[String]>,
) -> Result<Verdict, Verdict> {
    let default_hooks = ["input".to_string(), "forward".to_string()];
    let hooks = hooks.unwrap_or(&default_hooks);
    let all = fact(&config(snap)?.firewall, "firewall configuration")?.map(Vec::as_slice).unwrap_or_default();
    let found: Vec<&FirewallFacts> = all.iter().filter(|f| utility_matches(utility, f)).collect();
    if found.is_empty() {
        let msg = match utility {
            FirewallUtility::Any => "no firewall configuration (nftables, ufw, iptables, firewalld) found".to_string(),
            u => format!("no {u:?} configuration found").to_lowercase(),
        };
        return Ok(Verdict::fail(msg.clone(), vec![message_only(msg)]));
    }
    let mut by_utility: Vec<(String, Vec<Verdict>)> = Vec::new();
    for f in found {
        let key = if f.utility == "ip6tables" { "iptables".to_string() } else { f.utility.clone() };
        let v = firewall_one(f, check, hooks);
        match by_utility.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(v),
            None => by_utility.push((key, vec![v])),
        }
    }
    let per_utility: Vec<Verdict> = by_utility
        .into_iter()
        .map(|(_, subs)| super::eval::combine(&super::schema::Check::All(Vec::new()), subs))
        .collect();
    Ok(super::eval::combine(&super::schema::Check::Any(Vec::new()), per_utility))
}

/// Words of the kernel command lines that will apply (persisted) and that applied (live).
fn cmdline_words(snap: &Snapshot) -> Vec<(String, Evidence)> {
    let mut out = Vec::new();
    for line in snap.boot_cmdline.value().into_iter().flatten() {
        for w in line.value.split_whitespace() {
            out.push((w.to_string(), cite(line, format!("kernel parameter {w}"))));
        }
    }
    if let Some(cmd) = snap.kernel.nx.value().and_then(|n| n.cmdline.as_ref()) {
        for w in cmd.split_whitespace() {
            out.push((w.to_string(), at("/proc/cmdline", None, Some(w.to_string()), "running kernel parameter")));
        }
    }
    out
}

/// `mac`: AppArmor or SELinux enabled / enforcing (configuration, command line, live state).
pub fn mac(snap: &Snapshot, framework: MacFramework, state: MacState) -> Result<Verdict, Verdict> {
    let m = fact(&config(snap)?.mac, "AppArmor/SELinux facts")?
        .ok_or_else(|| Verdict::could_not_evaluate("AppArmor/SELinux facts not collected"))?;
    let live = m.live.value();
    let words = cmdline_words(snap);
    let mut evidence = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    let off_words = |disabling: &[&str], bad: &mut Vec<String>, evidence: &mut Vec<Evidence>| {
        for (w, ev) in &words {
            if disabling.contains(&w.as_str()) {
                bad.push(format!("the kernel command line has {w}"));
                evidence.push(ev.clone());
            }
        }
    };
    match framework {
        MacFramework::Selinux => {
            let wanted: &[&str] =
                if state == MacState::Enforcing { &["enforcing"] } else { &["enforcing", "permissive"] };
            match m.selinux_config.as_ref().and_then(|c| c.get("SELINUX")) {
                Some(v) => {
                    evidence.push(cite(v, "SELINUX"));
                    if !wanted.iter().any(|w| v.value.eq_ignore_ascii_case(w)) {
                        bad.push(format!(
                            "SELINUX={} in /etc/selinux/config; expected {}",
                            v.value,
                            wanted.join(" or ")
                        ));
                    }
                }
                None => bad.push("SELINUX is not set (no /etc/selinux/config)".into()),
            }
            let off: &[&str] =
                if state == MacState::Enforcing { &["selinux=0", "enforcing=0"] } else { &["selinux=0"] };
            off_words(off, &mut bad, &mut evidence);
            if let Some(l) = live {
                match &l.selinux_enforce {
                    Some(e) => {
                        evidence.push(cite(e, "running SELinux mode (1 enforcing)"));
                        if state == MacState::Enforcing && e.value != "1" {
                            bad.push("the running kernel is not enforcing SELinux".into());
                        }
                    }
                    None => bad.push("SELinux is not running (no /sys/fs/selinux)".into()),
                }
            }
        }
        MacFramework::Apparmor => {
            off_words(&["apparmor=0"], &mut bad, &mut evidence);
            for (w, ev) in &words {
                if let Some(lsm) = w.strip_prefix("security=")
                    && lsm != "apparmor"
                {
                    bad.push(format!("the kernel command line selects another security module ({w})"));
                    evidence.push(ev.clone());
                }
            }
            match live {
                Some(l) => {
                    let on = l.apparmor_enabled.as_ref().is_some_and(|e| e.value.starts_with('Y'))
                        || l.lsm.as_ref().is_some_and(|s| s.value.split(',').any(|x| x == "apparmor"));
                    evidence.extend(l.apparmor_enabled.iter().map(|e| cite(e, "AppArmor module enabled")));
                    if !on {
                        bad.push("AppArmor is not running".into());
                    } else if state == MacState::Enforcing {
                        let loaded = l.apparmor_loaded.as_deref().unwrap_or_default();
                        let lax: Vec<&Sourced<String>> = loaded
                            .iter()
                            .filter(|p| !(p.value.ends_with("(enforce)") || p.value.ends_with("(kill)")))
                            .collect();
                        evidence.extend(lax.iter().take(20).map(|p| cite(p, "profile not in enforce mode")));
                        if loaded.is_empty() {
                            bad.push("no AppArmor profile is loaded".into());
                        } else if !lax.is_empty() {
                            bad.push(format!(
                                "{} of {} loaded profiles are not in enforce mode",
                                lax.len(),
                                loaded.len()
                            ));
                        }
                    }
                }
                None => {
                    let lax: Vec<&Sourced<String>> =
                        m.apparmor_profiles.iter().filter(|p| p.value != "enforce" && p.value != "kill").collect();
                    if m.apparmor_profiles.is_empty() {
                        bad.push("no AppArmor profile in /etc/apparmor.d".into());
                    } else if state == MacState::Enforcing && !lax.is_empty() {
                        evidence.extend(lax.iter().take(20).map(|p| cite(p, format!("profile in {} mode", p.value))));
                        bad.push(format!(
                            "{} of {} profiles are not in enforce mode",
                            lax.len(),
                            m.apparmor_profiles.len()
                        ));
                    }
                }
            }
        }
    }
    let what = format!(
        "{} {}",
        if framework == MacFramework::Selinux { "SELinux" } else { "AppArmor" },
        if state == MacState::Enforcing { "enforcing" } else { "enabled" }
    );
    Ok(if bad.is_empty() {
        let note = if live.is_none() { " (configuration only: the running state is a live fact)" } else { "" };
        Verdict::pass(format!("{what}{note}"), evidence)
    } else {
        let msg = format!("{what}: no; {}", bad.join("; "));
        evidence.push(message_only(msg.clone()));
        Verdict::fail(msg, evidence)
    })
}

#[cfg(test)]
#[path = "eval_facts_tests.rs"]
mod tests;
