//! Permissions of system directories.
//!
//! Semantics: each of `/bin /sbin /usr/bin /usr/sbin /usr/local/bin
//! /usr/local/sbin /lib /usr/lib /etc /boot` that exists, and every entry
//! directly in it (symlinks excepted: their mode means nothing), must be owned
//! by root and carry neither the group nor the other write bit. Anyone else who
//! can write there can replace a binary, a library or a configuration file
//! that root will use. A scan cut short by its bound still fails on what it
//! saw, and otherwise says it is partial.

use warden_model::{Evidence, Fact, FileKind, PathStat, Severity, Snapshot};

use super::super::evidence::{at, message_only};
use crate::{RuleMeta, Verdict};

pub const SYSTEM_DIRS: RuleMeta = RuleMeta {
    id: "sbp-system-dir-permissions",
    title: "Configure permissions for system directories",
    severity: Severity::High,
    description: "Checks that system directories holding binaries, libraries and configuration (/bin, /sbin, \
        /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin, /lib, /usr/lib, /etc, /boot), and the files and \
        directories directly in them, are owned by root and writable by no group and no other user. A user who \
        can write there can plant code that root runs.",
    recommendation: "Make each listed path owned by root and not group- or world-writable, e.g. \
        `chown root:root PATH && chmod go-w PATH`; find out how the change happened, as it may be a sign of \
        compromise.",
};

/// Most paths cited one by one; the rest are counted.
const MAX_PATHS_CITED: usize = 50;

/// `ls -l` style mode string.
pub fn mode_string(kind: FileKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
        FileKind::Other => '?',
    });
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let special = match i {
            2 if mode & 0o4000 != 0 => Some(if mode & bit != 0 { 's' } else { 'S' }),
            5 if mode & 0o2000 != 0 => Some(if mode & bit != 0 { 's' } else { 'S' }),
            8 if mode & 0o1000 != 0 => Some(if mode & bit != 0 { 't' } else { 'T' }),
            _ => None,
        };
        s.push(special.unwrap_or(if mode & bit != 0 { *c } else { '-' }));
    }
    s
}

/// What is wrong with a path, or `None` when it conforms.
pub fn violation(stat: &PathStat) -> Option<String> {
    if stat.kind == FileKind::Symlink {
        return None;
    }
    let mut why = Vec::new();
    if stat.uid != 0 {
        why.push(format!("owned by {}", stat.owner.clone().unwrap_or_else(|| format!("uid {}", stat.uid))));
    }
    if stat.mode & 0o020 != 0 {
        why.push(format!("writable by group {}", stat.group.clone().unwrap_or_else(|| format!("gid {}", stat.gid))));
    }
    if stat.mode & 0o002 != 0 {
        why.push("writable by every user".to_string());
    }
    (!why.is_empty()).then(|| why.join(", "))
}

fn stat_evidence(stat: &PathStat, why: String) -> Evidence {
    let owner = stat.owner.clone().unwrap_or_else(|| stat.uid.to_string());
    let group = stat.group.clone().unwrap_or_else(|| stat.gid.to_string());
    at(&stat.path, None, Some(format!("{} {owner}:{group}", mode_string(stat.kind, stat.mode))), why)
}

pub fn system_dirs(snapshot: &Snapshot) -> Verdict {
    let paths = match &snapshot.system_paths {
        Fact::Collected { value } => value,
        other => {
            return Verdict::could_not_evaluate(format!(
                "system directory permissions unavailable: {}",
                other.reason().unwrap_or_default()
            ));
        }
    };
    let mut offenders: Vec<(&PathStat, String)> = Vec::new();
    let mut scanned = 0u64;
    let mut truncated = Vec::new();
    let mut unreadable = Vec::new();
    for dir in paths {
        scanned += dir.entries_scanned;
        if dir.truncated {
            truncated.push(dir.stat.path.clone());
        }
        if let Some(problem) = &dir.problem {
            unreadable.push(problem.to_string());
        }
        if let Some(why) = violation(&dir.stat) {
            offenders.push((&dir.stat, why));
        }
        for entry in &dir.nonconforming {
            if let Some(why) = violation(entry) {
                offenders.push((entry, why));
            }
        }
    }
    let mut evidence: Vec<Evidence> =
        offenders.iter().take(MAX_PATHS_CITED).map(|(stat, why)| stat_evidence(stat, why.clone())).collect();
    if offenders.len() > MAX_PATHS_CITED {
        evidence.push(message_only(format!("and {} more paths", offenders.len() - MAX_PATHS_CITED)));
    }
    if !truncated.is_empty() {
        evidence.push(message_only(format!("scan stopped at its bound in: {}", truncated.join(", "))));
    }
    if !offenders.is_empty() {
        Verdict::fail(format!("{} system paths writable by non-root users", offenders.len()), evidence)
    } else if !unreadable.is_empty() {
        Verdict::could_not_evaluate(format!("no violation found, but: {}", unreadable.join("; ")))
    } else if !truncated.is_empty() {
        Verdict::could_not_evaluate(format!(
            "no violation among {scanned} entries, but the scan stopped at its bound in {}",
            truncated.join(", ")
        ))
    } else {
        Verdict::pass(
            format!(
                "{} system directories and {scanned} entries owned by root and not group/other-writable",
                paths.len()
            ),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use warden_model::{Outcome, SystemPath};

    fn stat(path: &str, kind: FileKind, mode: u32, uid: u32, gid: u32) -> PathStat {
        PathStat { path: path.into(), kind, mode, uid, gid, owner: None, group: None }
    }

    #[test]
    fn mode_strings_match_ls() {
        assert_eq!(mode_string(FileKind::Dir, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(FileKind::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(FileKind::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(FileKind::Dir, 0o2775), "drwxrwsr-x");
    }

    #[test]
    fn violations_name_owner_and_write_bits() {
        assert_eq!(violation(&stat("/usr/bin", FileKind::Dir, 0o755, 0, 0)), None);
        assert_eq!(violation(&stat("/bin", FileKind::Symlink, 0o777, 0, 0)), None);
        assert_eq!(violation(&stat("/etc/x", FileKind::File, 0o664, 0, 50)).unwrap(), "writable by group gid 50");
        assert_eq!(
            violation(&stat("/etc/x", FileKind::File, 0o646, 1000, 0)).unwrap(),
            "owned by uid 1000, writable by every user"
        );
    }

    #[test]
    fn rule_fails_on_dir_or_entry_and_reports_truncation() {
        let mut s = base_snapshot();
        let dir = |mode, nonconforming: Vec<PathStat>, truncated| SystemPath {
            stat: stat("/usr/local/bin", FileKind::Dir, mode, 0, 0),
            resolved: None,
            entries_scanned: 10,
            truncated,
            nonconforming,
            problem: None,
        };
        s.system_paths = Fact::collected(vec![dir(0o755, vec![], false)]);
        assert_eq!(system_dirs(&s).outcome, Outcome::Pass);
        s.system_paths = Fact::collected(vec![dir(0o775, vec![], false)]);
        let v = system_dirs(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[0].text.as_deref(), Some("drwxrwxr-x 0:0"));
        s.system_paths =
            Fact::collected(vec![dir(0o755, vec![stat("/usr/local/bin/tool", FileKind::File, 0o757, 0, 0)], false)]);
        let v = system_dirs(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[0].path.as_deref(), Some("/usr/local/bin/tool"));
        s.system_paths = Fact::collected(vec![dir(0o755, vec![], true)]);
        assert_eq!(system_dirs(&s).outcome, Outcome::CouldNotEvaluate);
        let mut unlistable = dir(0o755, vec![], false);
        unlistable.problem =
            Some(warden_model::Problem::file("/usr/local/bin", "cannot list directory: permission denied"));
        s.system_paths = Fact::collected(vec![unlistable]);
        let v = system_dirs(&s);
        assert_eq!(v.outcome, Outcome::CouldNotEvaluate);
        assert!(v.reason.contains("/usr/local/bin: cannot list directory"), "{}", v.reason);
    }
}
