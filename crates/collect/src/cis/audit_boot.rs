//! Audit rules, `auditd.conf`, and the GRUB 2 boot loader's files and password.
//!
//! Why it exists: the CIS audit recommendations name rules that may live in
//! any `/etc/audit/rules.d/*.rules` file (augenrules concatenates them in
//! file-name order into `/etc/audit/audit.rules`), so a probe needs all of
//! them, not one named file. The boot loader password is set by lines that
//! carry a password hash: only where they are (file, line, user) is kept,
//! never the hash.

use warden_model::{AuditConfig, Bootloader, Problem, Settings, Source, Sourced};

use crate::ids::IdMap;
use crate::perms::path_stat;
use crate::rootfs::{RootFs, join};

/// augenrules' input directory.
pub const AUDIT_RULES_D: &str = "/etc/audit/rules.d";
/// The rules file auditd loads at boot.
pub const AUDIT_RULES: &str = "/etc/audit/audit.rules";
/// auditd's configuration.
pub const AUDITD_CONF: &str = "/etc/audit/auditd.conf";
/// GRUB 2 files whose mode and owner CIS checks, and where a password may be set.
pub const GRUB_FILES: [&str; 6] = [
    "/boot/grub/grub.cfg",
    "/boot/grub/user.cfg",
    "/boot/grub2/grub.cfg",
    "/boot/grub2/user.cfg",
    "/boot/grub2/grubenv",
    "/boot/grub/grubenv",
];
/// `grub-mkconfig`'s inputs: a password set here reaches grub.cfg when it is regenerated.
pub const GRUB_D: &str = "/etc/grub.d";

/// Audit configuration; `None` when there is neither a rules file nor auditd.conf.
pub fn audit(fs: &RootFs, problems: &mut Vec<Problem>) -> Option<AuditConfig> {
    let mut cfg = AuditConfig::default();
    let mut any = false;
    match fs.read_dir(AUDIT_RULES_D) {
        Ok(Some(names)) => {
            any = true;
            for name in names.iter().filter(|n| n.ends_with(".rules")) {
                let path = join(AUDIT_RULES_D, name);
                match fs.read_text(&path) {
                    Ok(Some(text)) => cfg.rules_d.extend(rule_lines(&text, &path)),
                    Ok(None) => {}
                    Err(p) => problems.push(p),
                }
            }
        }
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    match fs.read_text(AUDIT_RULES) {
        Ok(Some(text)) => {
            any = true;
            cfg.audit_rules = rule_lines(&text, AUDIT_RULES);
        }
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    match fs.read_text(AUDITD_CONF) {
        Ok(Some(text)) => {
            any = true;
            cfg.auditd_conf = Some(parse_auditd_conf(&text, AUDITD_CONF, problems));
        }
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    any.then_some(cfg)
}

/// Rule lines of an audit rules file: comments and blank lines left out,
/// runs of blanks made one space (auditctl splits on blanks).
pub fn rule_lines(text: &str, path: &str) -> Vec<Sourced<String>> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            (!t.is_empty() && !t.starts_with('#')).then(|| {
                Sourced::new(t.split_whitespace().collect::<Vec<_>>().join(" "), Source::file(path, i as u32 + 1))
            })
        })
        .collect()
}

/// `key = value` lines of auditd.conf(5): keys lower-cased, last wins.
pub fn parse_auditd_conf(text: &str, path: &str, problems: &mut Vec<Problem>) -> Settings {
    let mut out = Settings::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match t.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(
                    k.trim().to_ascii_lowercase(),
                    Sourced::new(v.trim().to_string(), Source::file(path, i as u32 + 1)),
                );
            }
            _ => problems.push(Problem::at_line(path, i as u32 + 1, "not a `key = value` line; ignored")),
        }
    }
    out
}

/// The boot loader files and where a superuser and a password are set;
/// `None` when no GRUB 2 file exists at all.
pub fn bootloader(fs: &RootFs, ids: &IdMap, problems: &mut Vec<Problem>) -> Option<Bootloader> {
    let mut b = Bootloader::default();
    let mut scanned: Vec<String> = Vec::new();
    for path in GRUB_FILES {
        match fs.stat(path) {
            Ok(Some(meta)) => {
                b.files.push(path_stat(path.to_string(), &meta, ids));
                if !path.ends_with("grubenv") {
                    scanned.push(path.to_string());
                }
            }
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    if b.files.is_empty() {
        return None;
    }
    match fs.read_dir(GRUB_D) {
        Ok(Some(names)) => scanned.extend(names.iter().map(|n| join(GRUB_D, n))),
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    for path in scanned {
        match fs.read_text(&path) {
            Ok(Some(text)) => scan_grub(&text, &path, &mut b),
            Ok(None) => {}
            // A grub.d entry may be a directory or unreadable: that is a problem, not a stop.
            Err(p) => problems.push(p),
        }
    }
    Some(b)
}

/// Finds `set superusers=...`, `password_pbkdf2 USER HASH` and
/// `GRUB2_PASSWORD=HASH` lines; keeps the user list and user names only.
pub fn scan_grub(text: &str, path: &str, b: &mut Bootloader) {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        let src = || Source::file(path, i as u32 + 1);
        let words: Vec<&str> = t.split_whitespace().collect();
        // Only at the start of a line: grub.d scripts mention these words elsewhere.
        if words.first() == Some(&"set") && words.get(1).is_some_and(|w| w.starts_with("superusers=")) {
            let users = words[1].trim_start_matches("superusers=").trim_matches(|c| c == '"' || c == '\'');
            b.superusers.push(Sourced::new(users.to_string(), src()));
        }
        // `password_pbkdf2 USER HASH` (or plain `password USER PASS`): the hash is not kept.
        if let (Some(&kw @ ("password_pbkdf2" | "password")), Some(user), true) =
            (words.first(), words.get(1), words.len() > 2)
        {
            b.passwords.push(Sourced::new(format!("{kw} {user}"), src()));
        }
        if t.starts_with("GRUB2_PASSWORD=") && t.len() > "GRUB2_PASSWORD=".len() {
            b.passwords.push(Sourced::new("GRUB2_PASSWORD".to_string(), src()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_password_is_found_and_the_hash_never_kept() {
        let mut b = Bootloader::default();
        let text = "set superusers=\"admin\"\n# password_pbkdf2 old grub.pbkdf2.sha512.1.AA\n\
                    password_pbkdf2 admin grub.pbkdf2.sha512.10000.SECRETHASH\n";
        scan_grub(text, "/etc/grub.d/40_custom", &mut b);
        scan_grub("GRUB2_PASSWORD=grub.pbkdf2.sha512.10000.OTHERHASH\n", "/boot/grub2/user.cfg", &mut b);
        assert_eq!(b.superusers, [Sourced::new("admin".to_string(), Source::file("/etc/grub.d/40_custom", 1))]);
        assert_eq!(b.passwords.len(), 2);
        assert_eq!(b.passwords[0].value, "password_pbkdf2 admin");
        assert_eq!(b.passwords[0].source, Source::file("/etc/grub.d/40_custom", 3));
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("HASH") && !json.contains("pbkdf2.sha512"), "{json}");
    }

    #[test]
    fn audit_rules_are_normalised_and_auditd_conf_lower_cased() {
        let r = rule_lines("# c\n\n-w  /etc/passwd   -p wa -k identity\n-e 2\n", "/etc/audit/rules.d/50.rules");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].value, "-w /etc/passwd -p wa -k identity");
        assert_eq!(r[1].source, Source::file("/etc/audit/rules.d/50.rules", 4));
        let mut problems = Vec::new();
        let c = parse_auditd_conf("Max_Log_File = 8\nbad line\nmax_log_file_action=keep_logs\n", "/a", &mut problems);
        assert_eq!(c["max_log_file"].value, "8");
        assert_eq!(c["max_log_file_action"].value, "keep_logs");
        assert_eq!(problems, [Problem::at_line("/a", 2, "not a `key = value` line; ignored")]);
    }
}
