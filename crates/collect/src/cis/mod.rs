//! Configuration facts for the CIS benchmark probes: modprobe.d directives,
//! loaded modules, fstab and live mounts, systemd unit links, live kernel
//! parameters, and stat plus lines of the files the benchmark content names;
//! the submodules read what needs parsing across several files: [`walk`]
//! (world-writable and unowned paths, bounded), [`audit_boot`] (audit rules,
//! auditd.conf, GRUB files and password), [`firewall`] (nftables, ufw,
//! iptables, firewalld) and [`mac`] (AppArmor, SELinux).
//!
//! Why it exists: the CIS probes need facts the other collectors do not read.
//! Collection must not depend on the rules crate, so the files and kernel
//! parameters to read are passed in [`crate::Options`] (`extra_files`,
//! `extra_sysctls`); the CLI builds those lists from the embedded benchmark
//! content (`warden_rules::cis::inputs()`), so `warden collect` and `warden
//! assess` read the same things. Everything here works on an image: systemd
//! enablement is read from symlinks, not from a running systemd; only
//! `/proc/modules`, `/proc/self/mounts` and `/proc/sys` are live-only.

pub mod audit_boot;
pub mod firewall;
pub mod mac;
pub mod walk;

#[cfg(test)]
mod proptests;

use std::collections::{BTreeMap, BTreeSet};

use warden_model::{
    Fact, FileFacts, ModprobeDirective, MountEntry, Problem, Settings, Source, Sourced, SystemConfig, SystemdUnits,
    UnitLink,
};

use crate::Options;
use crate::ids::IdMap;
use crate::perms::path_stat;
use crate::rootfs::{RootFs, join, read_host_file};

/// modprobe.d directories, highest precedence first (modprobe.d(5)).
pub const MODPROBE_DIRS: [&str; 5] =
    ["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"];
/// Largest file whose lines are kept in [`FileFacts::lines`].
pub const MAX_LINES_FILE: u64 = 1024 * 1024;
/// Files whose lines are never kept, whatever is asked: they hold password hashes.
pub const NEVER_READ: [&str; 6] = [
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/security/opasswd",
    "/etc/security/opasswd.old",
];
const SYSTEMD_ETC: &str = "/etc/systemd/system";
const LIVE_ONLY: &str = "live-only fact: the root is not the running system's /";

/// Collects the facts; problems (unreadable files, bad lines) are returned beside them.
pub fn collect_with_problems(fs: &RootFs, ids: &IdMap, options: &Options) -> (SystemConfig, Vec<Problem>) {
    let mut problems = Vec::new();
    let modprobe = modprobe(fs, &mut problems);
    let fstab = match fs.read_text("/etc/fstab") {
        Ok(Some(text)) => Fact::collected(parse_mounts(&text, "/etc/fstab", true)),
        Ok(None) => Fact::Absent { reason: "no /etc/fstab".to_string() },
        Err(p) => Fact::Failed { problem: p },
    };
    let (loaded_modules, mounts, sysctl_live) = if fs.is_live() {
        (
            read_host_file("/proc/modules", 4 * 1024 * 1024)
                .map(|t| {
                    Fact::collected(t.lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect())
                })
                .unwrap_or_else(|problem| Fact::Failed { problem }),
            read_host_file("/proc/self/mounts", 4 * 1024 * 1024)
                .map(|t| Fact::collected(parse_mounts(&t, "/proc/self/mounts", false)))
                .unwrap_or_else(|problem| Fact::Failed { problem }),
            Fact::collected(live_sysctls(&options.extra_sysctls)),
        )
    } else {
        (not_live(), not_live(), not_live())
    };
    let systemd = systemd_units(fs, &mut problems);
    let mut files = BTreeMap::new();
    for path in options.extra_files.iter().collect::<BTreeSet<_>>() {
        files.insert(path.clone(), file_facts(fs, ids, path, false));
    }
    for path in options.extra_text_files.iter().collect::<BTreeSet<_>>() {
        let read = !NEVER_READ.contains(&path.as_str());
        files.insert(path.clone(), file_facts(fs, ids, path, read));
    }
    let fs_walk = if options.fs_walk_cap == 0 {
        Fact::NotCollected { reason: "the file-system walk was not asked for (no CIS content needs it)".into() }
    } else {
        Fact::collected(walk::walk(fs, ids, options.fs_walk_cap, mounts.value().map(Vec::as_slice)))
    };
    let audit = match audit_boot::audit(fs, &mut problems) {
        Some(a) => Fact::collected(a),
        None => Fact::Absent { reason: "no /etc/audit/rules.d, audit.rules or auditd.conf".into() },
    };
    let bootloader = match audit_boot::bootloader(fs, ids, &mut problems) {
        Some(b) => Fact::collected(b),
        None => Fact::Absent { reason: format!("no GRUB 2 file ({})", audit_boot::GRUB_FILES.join(", ")) },
    };
    let firewall = Fact::collected(firewall::collect(fs, &mut problems));
    let mac = Fact::collected(mac::collect(fs, fs.is_live(), &mut problems));
    let config = SystemConfig {
        modprobe,
        loaded_modules,
        fstab,
        mounts,
        systemd,
        sysctl_live,
        files,
        fs_walk,
        audit,
        bootloader,
        firewall,
        mac,
    };
    (config, problems)
}

fn not_live<T>() -> Fact<T> {
    Fact::NotCollected { reason: LIVE_ONLY.to_string() }
}

fn file_facts(fs: &RootFs, ids: &IdMap, path: &str, read: bool) -> Fact<FileFacts> {
    let meta = match fs.stat(path) {
        Ok(Some(m)) => m,
        Ok(None) => return Fact::Absent { reason: format!("{path} does not exist") },
        Err(problem) => return Fact::Failed { problem },
    };
    let stat = path_stat(path.to_string(), &meta, ids);
    let lines = if read && meta.is_file() && meta.len() < MAX_LINES_FILE {
        match fs.read_text(path) {
            Ok(Some(text)) => Some(text.lines().map(String::from).collect()),
            Ok(None) => None,
            Err(problem) => return Fact::Failed { problem },
        }
    } else {
        None
    };
    Fact::collected(FileFacts { stat, lines })
}

fn live_sysctls(keys: &[String]) -> Settings {
    let mut out = Settings::new();
    for key in keys {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        if let Ok(text) = read_host_file(&path, 64 * 1024) {
            out.insert(key.clone(), Sourced::new(text.trim().to_string(), Source::Kernel { path }));
        }
    }
    out
}

/// The modprobe.d files that apply (name masking), sorted by name, and their directives.
fn modprobe(fs: &RootFs, problems: &mut Vec<Problem>) -> Vec<ModprobeDirective> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for dir in MODPROBE_DIRS {
        match fs.read_dir(dir) {
            Ok(Some(names)) => {
                for name in names.into_iter().filter(|n| n.ends_with(".conf")) {
                    by_name.entry(name.clone()).or_insert_with(|| join(dir, &name));
                }
            }
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    let mut out = Vec::new();
    for path in by_name.values() {
        match fs.read_text(path) {
            Ok(Some(text)) => out.extend(parse_modprobe(&text, path)),
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    out
}

/// `install NAME CMD` and `blacklist NAME` lines of one modprobe.d file.
pub fn parse_modprobe(text: &str, path: &str) -> Vec<ModprobeDirective> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        let (Some(directive), Some(module)) = (words.next(), words.next()) else { continue };
        if directive != "install" && directive != "blacklist" {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        out.push(ModprobeDirective {
            directive: directive.to_string(),
            module: module.to_string(),
            command: (directive == "install").then(|| rest.join(" ")),
            source: Source::file(path, i as u32 + 1),
        });
    }
    out
}

/// fstab(5) or /proc/self/mounts lines. In fstab, comments and blank lines are skipped.
pub fn parse_mounts(text: &str, path: &str, fstab: bool) -> Vec<MountEntry> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = trimmed.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        let options = f.get(3).map(|o| o.split(',').map(String::from).collect()).unwrap_or_default();
        let source = if fstab { Source::file(path, i as u32 + 1) } else { Source::Kernel { path: path.to_string() } };
        out.push(MountEntry {
            device: unescape_octal(f[0]),
            mount_point: unescape_octal(f[1]),
            fs_type: f[2].to_string(),
            options,
            source,
        });
    }
    out
}

/// fstab and the mount table write a space as `\040`.
fn unescape_octal(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t")
}

/// Units enabled (`*.wants/`, `*.requires/` links) and masked (links to `/dev/null`).
fn systemd_units(fs: &RootFs, problems: &mut Vec<Problem>) -> SystemdUnits {
    let mut units = SystemdUnits::default();
    let names = match fs.read_dir(SYSTEMD_ETC) {
        Ok(Some(n)) => n,
        Ok(None) => return units,
        Err(p) => {
            problems.push(p);
            return units;
        }
    };
    for name in names {
        let path = join(SYSTEMD_ETC, &name);
        if name.ends_with(".wants") || name.ends_with(".requires") {
            match fs.read_dir(&path) {
                Ok(Some(entries)) => {
                    for unit in entries {
                        let link = join(&path, &unit);
                        let target = link_target(fs, &link).unwrap_or_default();
                        units.enabled.push(UnitLink { unit, link, target });
                    }
                }
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        } else if let Some(target) = link_target(fs, &path)
            && target == "/dev/null"
        {
            units.masked.push(UnitLink { unit: name, link: path, target });
        }
    }
    units
}

fn link_target(fs: &RootFs, path: &str) -> Option<String> {
    let host = fs.resolve_parent(path).ok()?;
    std::fs::read_link(host).ok().map(|t| t.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modprobe_lines_keep_file_and_line() {
        let d = parse_modprobe(
            "# c\ninstall cramfs /bin/false\nblacklist  hfs # old\noptions x y=1\n",
            "/etc/modprobe.d/a.conf",
        );
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].module.as_str(), d[0].command.as_deref()), ("cramfs", Some("/bin/false")));
        assert_eq!(d[0].source, Source::file("/etc/modprobe.d/a.conf", 2));
        assert_eq!(
            (d[1].directive.as_str(), d[1].module.as_str(), d[1].command.as_deref()),
            ("blacklist", "hfs", None)
        );
    }

    #[test]
    fn fstab_options_split_and_comments_skipped() {
        let m = parse_mounts(
            "# x\n\ntmpfs /tmp tmpfs defaults,nodev,nosuid 0 0\n/dev/sda1 /mnt\\040x ext4\n",
            "/etc/fstab",
            true,
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].options, ["defaults", "nodev", "nosuid"]);
        assert_eq!(m[0].source, Source::file("/etc/fstab", 3));
        assert_eq!(m[1].mount_point, "/mnt x");
        assert!(m[1].options.is_empty());
    }

    #[test]
    fn systemd_links_and_files_on_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc/systemd/system/multi-user.target.wants");
        std::fs::create_dir_all(&etc).unwrap();
        std::os::unix::fs::symlink("/lib/systemd/system/ssh.service", etc.join("ssh.service")).unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.path().join("etc/systemd/system/tmp.mount")).unwrap();
        std::fs::write(dir.path().join("etc/issue"), "hello\nworld\n").unwrap();
        std::fs::write(dir.path().join("etc/shadow"), "root:$6$x:1::::::\n").unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let options = Options {
            extra_files: vec!["/etc/motd".into()],
            extra_text_files: vec!["/etc/issue".into(), "/etc/nope".into(), "/etc/shadow".into()],
            ..Options::default()
        };
        let (cfg, problems) = collect_with_problems(&fs, &IdMap::default(), &options);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.systemd.enabled.len(), 1);
        assert_eq!(cfg.systemd.enabled[0].unit, "ssh.service");
        assert_eq!(cfg.systemd.masked[0].unit, "tmp.mount");
        let issue = cfg.files["/etc/issue"].value().unwrap();
        assert_eq!(issue.lines.as_deref().unwrap(), ["hello", "world"]);
        assert!(matches!(cfg.files["/etc/nope"], Fact::Absent { .. }));
        assert_eq!(cfg.files["/etc/shadow"].value().unwrap().lines, None, "never the hashes");
        assert!(matches!(cfg.fstab, Fact::Absent { .. }));
        assert!(matches!(cfg.loaded_modules, Fact::NotCollected { .. }));
    }
}
