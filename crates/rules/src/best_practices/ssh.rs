//! The three sshd rules.
//!
//! Semantics shared by all three: the values are sshd's *effective* global
//! settings as `warden-collect` computes them (the FIRST value of a keyword
//! across `sshd_config` and its `Include`s in reading order; OpenSSH's default
//! when never set). A `Match` block does not change the global value, but a
//! `Match` block that re-enables what the rule forbids is a failure too: it
//! opens the door for the clients it matches, and the evidence names it.
//! No sshd binary and no `sshd_config` → not applicable.

use warden_model::{Fact, Severity, Snapshot, Sourced, SshdConfig};

use super::super::evidence::{from_sourced, message_only};
use crate::{RuleMeta, Verdict};

pub const ROOT_LOGIN: RuleMeta = RuleMeta {
    id: "sbp-ssh-root-login",
    title: "Disable root login over SSH",
    severity: Severity::Medium,
    description: "Checks whether the SSH daemon lets root log in. Only `PermitRootLogin no` passes: \
        `prohibit-password` (the OpenSSH default since 7.0, also spelled `without-password`) still lets root \
        in with a key, and `forced-commands-only` lets root run the key's forced command. The effective value \
        is the first `PermitRootLogin` in sshd_config and its Includes, or OpenSSH's default when none is set; \
        a `Match` block that permits root login also fails the rule. Logging in as root directly removes the \
        audit trail of who used root and exposes the most powerful account to guessing and key theft.",
    recommendation: "Set `PermitRootLogin no` at the top of /etc/ssh/sshd_config (before any Include that could \
        set it first, or in the first drop-in read), remove any `PermitRootLogin` other than `no` from Match \
        blocks, and restart sshd. Log in as a normal user and use sudo.",
};

pub const PROTOCOL_2: RuleMeta = RuleMeta {
    id: "sbp-ssh-protocol-2",
    title: "Support SSH version 2 only",
    severity: Severity::Medium,
    description: "Checks whether the SSH daemon accepts the broken SSH protocol version 1. OpenSSH 7.6 and \
        later cannot speak protocol 1 at all (it ignores `Protocol`), so they pass. Older versions fail when \
        the effective `Protocol` value lists `1`.",
    recommendation: "Set `Protocol 2` in /etc/ssh/sshd_config and restart sshd; better, upgrade OpenSSH to 7.6 \
        or later, which removed protocol 1.",
};

pub const PASSWORD_AUTH: RuleMeta = RuleMeta {
    id: "sbp-ssh-password-auth",
    title: "Disable password authentication over SSH",
    severity: Severity::Medium,
    description: "Checks whether the SSH daemon accepts passwords. It fails when the effective \
        `PasswordAuthentication` is not `no` (OpenSSH's default is `yes`), when keyboard-interactive \
        authentication is on together with `UsePAM yes` (PAM then asks for the password over \
        keyboard-interactive, which is password login by another name), or when a `Match` block turns either \
        back on. Passwords can be guessed and phished; keys cannot.",
    recommendation: "Set `PasswordAuthentication no` and `KbdInteractiveAuthentication no` in \
        /etc/ssh/sshd_config (before any Include that sets them), use key-based login, and restart sshd. If \
        passwords must stay, allow them only for specific source addresses with a Match block and a firewall.",
};

/// The sshd config, or the verdict to return when there is none.
fn sshd(snapshot: &Snapshot) -> Result<&SshdConfig, Verdict> {
    match &snapshot.sshd {
        Fact::Collected { value } => Ok(value),
        Fact::Absent { reason } => Err(Verdict::not_applicable(format!("no SSH server: {reason}"))),
        other => Err(Verdict::could_not_evaluate(format!(
            "sshd configuration unavailable: {}",
            other.reason().unwrap_or_default()
        ))),
    }
}

fn setting<'a>(config: &'a SshdConfig, key: &str) -> Option<&'a Sourced<String>> {
    config.settings.get(key)
}

/// `Match` blocks whose value for `key` satisfies `bad`, as evidence.
fn match_block_evidence(
    config: &SshdConfig,
    key: &str,
    keyword: &str,
    bad: impl Fn(&str) -> bool,
    what: &str,
) -> Vec<warden_model::Evidence> {
    config
        .match_blocks
        .iter()
        .filter_map(|block| {
            let value = block.settings.get(key)?;
            bad(&value.value)
                .then(|| from_sourced(keyword, value, format!("inside `Match {}`: {what}", block.criteria)))
        })
        .collect()
}

pub fn root_login(snapshot: &Snapshot) -> Verdict {
    let config = match sshd(snapshot) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let Some(value) = setting(config, "permitrootlogin") else {
        return Verdict::could_not_evaluate("effective PermitRootLogin unknown");
    };
    let permits = |v: &str| !v.eq_ignore_ascii_case("no");
    let mut evidence = Vec::new();
    let global_bad = permits(&value.value);
    let explain = match value.value.to_ascii_lowercase().as_str() {
        "no" => "root cannot log in over SSH",
        "prohibit-password" | "without-password" => "root can log in with a key (prohibit-password)",
        "forced-commands-only" => "root can log in with a key restricted to a forced command",
        "yes" => "root can log in with a password or a key",
        _ => "unrecognised value; sshd would refuse to start or treat it as permitting",
    };
    evidence.push(from_sourced("PermitRootLogin", value, explain));
    let matches = match_block_evidence(
        config,
        "permitrootlogin",
        "PermitRootLogin",
        permits,
        "root login permitted for matching clients",
    );
    let fails = global_bad || !matches.is_empty();
    evidence.extend(matches);
    if fails {
        Verdict::fail("sshd permits root login", evidence)
    } else {
        Verdict::pass("PermitRootLogin no", evidence)
    }
}

/// Parses an OpenSSH version such as `7.6p1` or `6.6.1p1` into numbers.
fn openssh_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

pub fn protocol_2(snapshot: &Snapshot) -> Verdict {
    let config = match sshd(snapshot) {
        Ok(c) => c,
        Err(v) => return v,
    };
    if let Some(version) = config.version.as_deref()
        && openssh_version(version).is_some_and(|v| v >= (7, 6))
    {
        let mut evidence =
            vec![message_only(format!("OpenSSH {version} supports only protocol 2 (protocol 1 was removed in 7.6)"))];
        if let Some(p) = setting(config, "protocol").filter(|p| matches!(p.source, warden_model::Source::File { .. })) {
            evidence.push(from_sourced("Protocol", p, "ignored by this OpenSSH version"));
        }
        return Verdict::pass(format!("OpenSSH {version} has no protocol 1"), evidence);
    }
    let Some(value) = setting(config, "protocol") else {
        return Verdict::could_not_evaluate("OpenSSH version unknown and effective Protocol unknown");
    };
    let allows_1 = value.value.split(',').any(|p| p.trim() == "1");
    let evidence = vec![from_sourced(
        "Protocol",
        value,
        if allows_1 { "protocol 1 accepted" } else { "only protocol 2 accepted" },
    )];
    if allows_1 {
        Verdict::fail("sshd accepts SSH protocol 1", evidence)
    } else {
        Verdict::pass("Protocol 2 only", evidence)
    }
}

pub fn password_auth(snapshot: &Snapshot) -> Verdict {
    let config = match sshd(snapshot) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let Some(password) = setting(config, "passwordauthentication") else {
        return Verdict::could_not_evaluate("effective PasswordAuthentication unknown");
    };
    let on = |v: &str| !v.eq_ignore_ascii_case("no");
    let mut evidence = Vec::new();
    let mut fails = false;
    if on(&password.value) {
        fails = true;
        evidence.push(from_sourced("PasswordAuthentication", password, "password authentication is enabled"));
    } else {
        evidence.push(from_sourced("PasswordAuthentication", password, "password authentication is disabled"));
    }
    let kbd = setting(config, "kbdinteractiveauthentication");
    let pam = setting(config, "usepam");
    if let (Some(kbd), Some(pam)) = (kbd, pam) {
        if on(&kbd.value) && pam.value.eq_ignore_ascii_case("yes") {
            fails = true;
            evidence.push(from_sourced(
                "KbdInteractiveAuthentication",
                kbd,
                "keyboard-interactive authentication is enabled",
            ));
            evidence.push(from_sourced("UsePAM", pam, "with PAM, keyboard-interactive asks for the password"));
        } else if on(&kbd.value) {
            evidence.push(from_sourced("UsePAM", pam, "without PAM, keyboard-interactive cannot ask for a password"));
        } else {
            evidence.push(from_sourced(
                "KbdInteractiveAuthentication",
                kbd,
                "keyboard-interactive authentication is disabled",
            ));
        }
    }
    let matches = match_block_evidence(
        config,
        "passwordauthentication",
        "PasswordAuthentication",
        on,
        "password authentication enabled for matching clients",
    );
    fails |= !matches.is_empty();
    evidence.extend(matches);
    if fails {
        Verdict::fail("sshd accepts passwords", evidence)
    } else {
        Verdict::pass("password authentication disabled", evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use warden_model::Outcome;

    #[test]
    fn only_no_passes_root_login() {
        for (value, outcome) in [
            ("no", Outcome::Pass),
            ("prohibit-password", Outcome::Fail),
            ("without-password", Outcome::Fail),
            ("forced-commands-only", Outcome::Fail),
            ("yes", Outcome::Fail),
        ] {
            let snap = snapshot_with_sshd(&[("permitrootlogin", value, Some(("/etc/ssh/sshd_config", 33)))], &[]);
            let v = root_login(&snap);
            assert_eq!(v.outcome, outcome, "{value}");
            assert_eq!(v.evidence[0].path.as_deref(), Some("/etc/ssh/sshd_config"));
            assert_eq!(v.evidence[0].line, Some(33));
        }
    }

    #[test]
    fn default_root_login_fails_with_default_evidence() {
        let snap = snapshot_with_sshd(&[("permitrootlogin", "prohibit-password", None)], &[]);
        let v = root_login(&snap);
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.evidence[0].is_default);
        assert!(v.evidence[0].message.contains("prohibit-password"), "{:?}", v.evidence);
    }

    #[test]
    fn match_block_permitting_root_fails_even_with_global_no() {
        let snap = snapshot_with_sshd(
            &[("permitrootlogin", "no", Some(("/etc/ssh/sshd_config", 3)))],
            &[("Address 10.0.0.0/8", "permitrootlogin", "yes", ("/etc/ssh/sshd_config", 40))],
        );
        let v = root_login(&snap);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[1].line, Some(40));
        assert!(v.evidence[1].message.contains("Match Address 10.0.0.0/8"));
    }

    #[test]
    fn protocol_depends_on_version() {
        let mut snap = snapshot_with_sshd(&[("protocol", "2,1", Some(("/etc/ssh/sshd_config", 5)))], &[]);
        set_sshd_version(&mut snap, Some("7.4p1"));
        assert_eq!(protocol_2(&snap).outcome, Outcome::Fail);
        set_sshd_version(&mut snap, Some("9.2p1"));
        let v = protocol_2(&snap);
        assert_eq!(v.outcome, Outcome::Pass);
        assert!(v.evidence[1].message.contains("ignored"));
        set_sshd_version(&mut snap, None);
        assert_eq!(protocol_2(&snap).outcome, Outcome::Fail);
        let snap = snapshot_with_sshd(&[("protocol", "2", None)], &[]);
        assert_eq!(protocol_2(&snap).outcome, Outcome::Pass);
    }

    #[test]
    fn password_auth_includes_keyboard_interactive_with_pam() {
        let file = Some(("/etc/ssh/sshd_config", 10));
        let snap = snapshot_with_sshd(
            &[
                ("passwordauthentication", "no", file),
                ("kbdinteractiveauthentication", "no", file),
                ("usepam", "yes", file),
            ],
            &[],
        );
        assert_eq!(password_auth(&snap).outcome, Outcome::Pass);
        let snap = snapshot_with_sshd(
            &[
                ("passwordauthentication", "no", file),
                ("kbdinteractiveauthentication", "yes", None),
                ("usepam", "yes", file),
            ],
            &[],
        );
        let v = password_auth(&snap);
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.evidence.iter().any(|e| e.text.as_deref() == Some("KbdInteractiveAuthentication yes")));
        let snap = snapshot_with_sshd(&[("passwordauthentication", "yes", None)], &[]);
        assert_eq!(password_auth(&snap).outcome, Outcome::Fail);
    }

    #[test]
    fn no_sshd_is_not_applicable_and_failure_is_could_not_evaluate() {
        let mut snap = base_snapshot();
        snap.sshd = Fact::Absent { reason: "no sshd".into() };
        assert_eq!(root_login(&snap).outcome, Outcome::NotApplicable);
        snap.sshd = Fact::Failed { problem: warden_model::Problem::file("/etc/ssh/sshd_config", "permission denied") };
        let v = password_auth(&snap);
        assert_eq!(v.outcome, Outcome::CouldNotEvaluate);
        assert!(v.reason.contains("/etc/ssh/sshd_config: permission denied"));
    }
}
