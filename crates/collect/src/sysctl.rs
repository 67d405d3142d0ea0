//! Kernel parameters and the kernel command line persisted for the next boot.
//!
//! Why it exists: a running kernel's value (`/proc/sys`) says nothing about
//! what the host will do after a reboot, and a mounted disk has no running
//! kernel at all. Hardening rules (ASLR, `kernel.kptr_restrict`, audit on the
//! command line) look at what the configuration files will apply.
//!
//! # sysctl semantics
//!
//! Verified against systemd's sysctl.d(5) and procps-ng's sysctl(8) /
//! sysctl.conf(5) (and procps issue #200, which shows `sysctl --system`
//! output interleaving directories by file name):
//! - Files are `*.conf` in [`SYSCTL_DIRS`]; a file name in an earlier
//!   directory masks the same name in later ones (`/etc` over `/run` over
//!   `/usr/local/lib` over `/usr/lib` over `/lib`). A file that is a symlink
//!   to `/dev/null` masks the name and applies nothing (systemd).
//! - The surviving files are applied sorted by file name, whatever their
//!   directory; `/etc/sysctl.conf` is applied last (procps; systemd-sysctl
//!   ignores it, but Debian links `/etc/sysctl.d/99-sysctl.conf` to it).
//! - A real file is applied once: a file whose resolved in-root path was
//!   already applied is skipped. On Debian the symlink is met first (at
//!   `99-sysctl.conf`), so the values are cited at `/etc/sysctl.d/99-sysctl.conf`,
//!   in the position systemd-sysctl applies them at boot.
//! - Lines are `key = value` (spaces optional); blank lines and lines whose
//!   first non-blank character is `#` or `;` are ignored; a leading `-` on the
//!   key (ignore failure) is stripped. Keys use the dotted form: when the
//!   FIRST separator of a key is `/`, dots and slashes are swapped
//!   (`net/ipv4/conf/eth0.200/forwarding` → `net.ipv4.conf.eth0/200.forwarding`),
//!   exactly as sysctl.d(5) defines it. Glob keys (`net.ipv4.conf.*.rp_filter`)
//!   are kept as written. The value is the rest of the line, trimmed.
//! - The LAST assignment wins; its file and line are the source.
//!
//! # Boot command line semantics
//!
//! Every place the next boot's kernel parameters are persisted, in this order:
//! - `/etc/default/grub`, then `/etc/default/grub.d/*.cfg` sorted (the order
//!   `grub-mkconfig` sources them), evaluated as one shell script: the
//!   effective `GRUB_CMDLINE_LINUX` and `GRUB_CMDLINE_LINUX_DEFAULT`, each
//!   with `$VAR`/`${VAR}` expanded from earlier assignments and cited at its
//!   last assignment. An empty effective value is left out.
//! - `/boot/grub2/grubenv` `kernelopts=` (RHEL 8 BLS entries say `options $kernelopts`).
//! - `/etc/kernel/cmdline` (kernel-install, UKIs): its words joined by single spaces.
//! - BLS entries `/boot/loader/entries/*.conf`, sorted: every `options` line.
//!
//! Unreadable files are reported as problems (see [`collect_with_problems`]
//! and [`boot_cmdline_with_problems`]) and the rest is still collected.

use std::collections::{BTreeMap, HashMap, HashSet};

use warden_model::{Fact, Problem, Settings, Source, Sourced, SysctlConfig};

use crate::RootFs;
use crate::os::{parse_assignment, shell_word};
use crate::rootfs::join;

/// sysctl.d directories, highest precedence first.
pub const SYSCTL_DIRS: [&str; 5] =
    ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"];
/// The procps file applied after every sysctl.d file.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";
/// The grub variables that carry the kernel command line.
pub const GRUB_CMDLINE_KEYS: [&str; 2] = ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"];

/// Persisted sysctl settings; problems are dropped (see [`collect_with_problems`]).
pub fn collect(fs: &RootFs) -> Fact<SysctlConfig> {
    collect_with_problems(fs).0
}

/// Persisted sysctl settings and the non-fatal problems met (unreadable
/// file or directory, malformed line) for `snapshot.problems`. No
/// configuration at all is an empty collected value.
pub fn collect_with_problems(fs: &RootFs) -> (Fact<SysctlConfig>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut config = SysctlConfig { files: Vec::new(), settings: Settings::new() };
    let mut applied = HashSet::new();
    for path in sysctl_files(fs, &mut problems) {
        let host_path = match fs.resolve(&path) {
            Ok(host_path) => host_path,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        if host_path == fs.root().join("dev/null") || !applied.insert(host_path) {
            continue;
        }
        match fs.read_text(&path) {
            Ok(Some(text)) => {
                parse_sysctl(&text, &path, &mut config.settings, &mut problems);
                config.files.push(path);
            }
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    (Fact::collected(config), problems)
}

/// The sysctl files in application order (see the module documentation).
fn sysctl_files(fs: &RootFs, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for dir in SYSCTL_DIRS {
        match fs.read_dir(dir) {
            Ok(Some(names)) => {
                for name in names.into_iter().filter(|n| n.ends_with(".conf")) {
                    let path = join(dir, &name);
                    by_name.entry(name).or_insert(path);
                }
            }
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    let mut files: Vec<String> = by_name.into_values().collect();
    files.push(SYSCTL_CONF.to_string());
    files
}

/// Applies the assignments of one sysctl file (`path`, for sources and
/// problems) to `settings`, later ones replacing earlier ones.
pub fn parse_sysctl(text: &str, path: &str, settings: &mut Settings, problems: &mut Vec<Problem>) {
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let Some((raw_key, value)) = trimmed.split_once('=') else {
            // systemd: `-key.pattern` without a value excludes a glob match; not an assignment.
            if !trimmed.starts_with('-') {
                problems.push(Problem::at_line(path, line_no, "not a `key = value` assignment; ignored"));
            }
            continue;
        };
        let key = normalize_key(raw_key.trim().trim_start_matches('-').trim());
        if key.is_empty() {
            problems.push(Problem::at_line(path, line_no, "assignment without a key; ignored"));
            continue;
        }
        settings.insert(key, Sourced::new(value.trim().to_string(), Source::file(path, line_no)));
    }
}

/// The dotted form of a sysctl key: when the first separator is `/`, dots
/// and slashes are swapped (sysctl.d(5)); otherwise the key is unchanged.
pub fn normalize_key(key: &str) -> String {
    match key.find(['.', '/']) {
        Some(i) if key.as_bytes()[i] == b'/' => key
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                other => other,
            })
            .collect(),
        _ => key.to_string(),
    }
}

/// The persisted kernel command line; problems are dropped (see
/// [`boot_cmdline_with_problems`]).
pub fn boot_cmdline(fs: &RootFs) -> Fact<Vec<Sourced<String>>> {
    boot_cmdline_with_problems(fs).0
}

/// The persisted kernel command line (see the module documentation) and the
/// non-fatal problems met. Nothing found is an empty collected value.
pub fn boot_cmdline_with_problems(fs: &RootFs) -> (Fact<Vec<Sourced<String>>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut out = Vec::new();

    let mut grub_files = vec!["/etc/default/grub".to_string()];
    grub_files.extend(conf_files(fs, "/etc/default/grub.d", ".cfg", &mut problems));
    let mut grub = GrubDefaults::default();
    for path in &grub_files {
        if let Some(text) = read(fs, path, &mut problems) {
            grub.source(&text, path);
        }
    }
    out.extend(grub.cmdline());

    if let Some(text) = read(fs, "/boot/grub2/grubenv", &mut problems) {
        out.extend(parse_grubenv_kernelopts(&text, "/boot/grub2/grubenv"));
    }
    if let Some(text) = read(fs, "/etc/kernel/cmdline", &mut problems) {
        let words: Vec<&str> = text.split_whitespace().collect();
        if !words.is_empty() {
            out.push(Sourced::new(words.join(" "), Source::file("/etc/kernel/cmdline", 1)));
        }
    }
    for path in conf_files(fs, "/boot/loader/entries", ".conf", &mut problems) {
        if let Some(text) = read(fs, &path, &mut problems) {
            out.extend(parse_bls_options(&text, &path));
        }
    }
    (Fact::collected(out), problems)
}

/// Files named `*suffix` in an in-root directory, sorted by name.
fn conf_files(fs: &RootFs, dir: &str, suffix: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    match fs.read_dir(dir) {
        Ok(Some(names)) => names.iter().filter(|n| n.ends_with(suffix)).map(|n| join(dir, n)).collect(),
        Ok(None) => Vec::new(),
        Err(problem) => {
            problems.push(problem);
            Vec::new()
        }
    }
}

fn read(fs: &RootFs, path: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match fs.read_text(path) {
        Ok(text) => text,
        Err(problem) => {
            problems.push(problem);
            None
        }
    }
}

/// `/etc/default/grub` and its drop-ins, sourced in order as one shell script.
#[derive(Clone, Debug, Default)]
pub struct GrubDefaults {
    vars: HashMap<String, String>,
    sources: HashMap<String, Source>,
}

impl GrubDefaults {
    /// Applies the assignments of one file, in order (later ones win).
    pub fn source(&mut self, text: &str, path: &str) {
        for (index, line) in text.lines().enumerate() {
            let Some((key, _)) = parse_assignment(line) else { continue };
            let key = key.to_string();
            let raw = raw_value(line);
            let value = shell_word(raw, Some(&self.vars));
            let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            self.sources.insert(key.clone(), Source::file(path, line_no));
            self.vars.insert(key, value);
        }
    }

    /// The effective, non-empty `GRUB_CMDLINE_LINUX` and `GRUB_CMDLINE_LINUX_DEFAULT`.
    pub fn cmdline(&self) -> Vec<Sourced<String>> {
        GRUB_CMDLINE_KEYS
            .iter()
            .filter_map(|key| {
                let value = self.vars.get(*key)?.trim();
                let source = self.sources.get(*key)?;
                (!value.is_empty()).then(|| Sourced::new(value.to_string(), source.clone()))
            })
            .collect()
    }
}

/// The raw text after the first `=` of an assignment line.
fn raw_value(line: &str) -> &str {
    line.split_once('=').map(|(_, raw)| raw).unwrap_or("")
}

/// The `kernelopts=` line of a grubenv block (`key=value` lines padded with `#`).
pub fn parse_grubenv_kernelopts(text: &str, path: &str) -> Option<Sourced<String>> {
    text.lines().enumerate().find_map(|(index, line)| {
        let value = line.strip_prefix("kernelopts=")?.trim();
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        (!value.is_empty()).then(|| Sourced::new(value.to_string(), Source::file(path, line_no)))
    })
}

/// The `options` lines of a Boot Loader Specification entry.
pub fn parse_bls_options(text: &str, path: &str) -> Vec<Sourced<String>> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("options") else { continue };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let value = rest.trim();
        if !value.is_empty() {
            let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            out.push(Sourced::new(value.to_string(), Source::file(path, line_no)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    fn write(root: &Path, path: &str, text: &str) {
        let full = root.join(path.trim_start_matches('/'));
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }

    fn value(config: &SysctlConfig, key: &str) -> Option<(String, Source)> {
        config.settings.get(key).map(|s| (s.value.clone(), s.source.clone()))
    }

    #[test]
    fn lines_keys_and_comments() {
        let text = "# comment\n; also\n\nkernel.randomize_va_space=1\n -kernel/kptr_restrict = 2 \nnet/ipv4/conf/eth0.200/forwarding=0\nnet.ipv4.conf.*.rp_filter = 1\nkernel.randomize_va_space = 2\ngarbage\n-net.ipv4.conf.lo.rp_filter\n= 3\nkernel.modprobe = /sbin/mod probe\n";
        let mut settings = Settings::new();
        let mut problems = Vec::new();
        parse_sysctl(text, "/etc/sysctl.conf", &mut settings, &mut problems);
        let get = |k: &str| settings.get(k).map(|s| (s.value.as_str(), s.source.clone()));
        assert_eq!(get("kernel.randomize_va_space"), Some(("2", Source::file("/etc/sysctl.conf", 8))));
        assert_eq!(get("kernel.kptr_restrict"), Some(("2", Source::file("/etc/sysctl.conf", 5))));
        assert_eq!(get("net.ipv4.conf.eth0/200.forwarding").map(|v| v.0), Some("0"));
        assert_eq!(get("net.ipv4.conf.*.rp_filter").map(|v| v.0), Some("1"));
        assert_eq!(get("kernel.modprobe").map(|v| v.0), Some("/sbin/mod probe"));
        let lines: Vec<Option<u32>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(9), Some(11)]);
        assert_eq!(normalize_key("kernel.domainname"), "kernel.domainname");
        assert_eq!(normalize_key("kernel/domainname"), "kernel.domainname");
        assert_eq!(normalize_key("net.ipv4.conf.enp3s0/200.forwarding"), "net.ipv4.conf.enp3s0/200.forwarding");
    }

    #[test]
    fn files_are_masked_by_name_sorted_by_name_and_sysctl_conf_is_last() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "/usr/lib/sysctl.d/10-arch.conf", "kernel.a = usr-10\nkernel.b = usr-10\n");
        write(root, "/usr/lib/sysctl.d/50-default.conf", "kernel.a = usr-50 masked\n");
        write(root, "/etc/sysctl.d/50-default.conf", "kernel.c = etc-50\n");
        write(root, "/run/sysctl.d/50-default.conf", "kernel.c = run-50 masked\n");
        write(root, "/run/sysctl.d/20-run.conf", "kernel.b = run-20\n");
        write(root, "/etc/sysctl.d/README", "kernel.a = not a conf file\n");
        write(root, "/lib/sysctl.d/60-lib.conf", "kernel.d = lib-60\n");
        write(root, "/etc/sysctl.conf", "kernel.d = sysctl.conf\n");
        // Debian: 99-sysctl.conf -> ../sysctl.conf; applied once, at 99-.
        symlink("../sysctl.conf", root.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        write(root, "/usr/lib/sysctl.d/zz-late.conf", "kernel.d = zz-late\n");
        // A /dev/null symlink masks the name.
        fs::create_dir_all(root.join("dev")).unwrap();
        write(root, "/usr/lib/sysctl.d/70-masked.conf", "kernel.e = masked\n");
        symlink("/dev/null", root.join("etc/sysctl.d/70-masked.conf")).unwrap();
        let fs_ = RootFs::open(root).unwrap();
        let (fact, problems) = collect_with_problems(&fs_);
        assert!(problems.is_empty(), "{problems:?}");
        let config = fact.value().cloned().unwrap();
        assert_eq!(
            config.files,
            [
                "/usr/lib/sysctl.d/10-arch.conf",
                "/run/sysctl.d/20-run.conf",
                "/etc/sysctl.d/50-default.conf",
                "/lib/sysctl.d/60-lib.conf",
                "/etc/sysctl.d/99-sysctl.conf",
                "/usr/lib/sysctl.d/zz-late.conf",
            ]
        );
        assert_eq!(
            value(&config, "kernel.a"),
            Some(("usr-10".into(), Source::file("/usr/lib/sysctl.d/10-arch.conf", 1)))
        );
        assert_eq!(value(&config, "kernel.b").map(|v| v.0).as_deref(), Some("run-20"));
        assert_eq!(value(&config, "kernel.c").map(|v| v.0).as_deref(), Some("etc-50"));
        assert_eq!(value(&config, "kernel.d").map(|v| v.0).as_deref(), Some("zz-late"));
        assert_eq!(value(&config, "kernel.e"), None);
    }

    #[test]
    fn no_configuration_is_an_empty_value() {
        let dir = tempfile::tempdir().unwrap();
        let fs_ = RootFs::open(dir.path()).unwrap();
        let config = collect(&fs_).value().cloned().unwrap();
        assert!(config.files.is_empty() && config.settings.is_empty());
        assert_eq!(boot_cmdline(&fs_).value().map(Vec::len), Some(0));
    }

    #[test]
    fn grub_defaults_are_evaluated_like_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "/etc/default/grub",
            "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n# GRUB_CMDLINE_LINUX=\"commented\"\nGRUB_CMDLINE_LINUX='audit=1 apparmor=1' # trailing\n",
        );
        // Ubuntu cloud images override the default in a drop-in.
        write(
            root,
            "/etc/default/grub.d/50-cloudimg-settings.cfg",
            "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT console=tty1 console=ttyS0\"\n",
        );
        write(root, "/etc/default/grub.d/README", "GRUB_CMDLINE_LINUX=ignored\n");
        write(
            root,
            "/boot/grub2/grubenv",
            "# GRUB Environment Block\nsaved_entry=abc\nkernelopts=root=/dev/mapper/rl-root ro crashkernel=auto \n######\n",
        );
        write(root, "/etc/kernel/cmdline", "root=UUID=1234 ro\n  quiet\n");
        write(
            root,
            "/boot/loader/entries/abc-5.14.0-427.el9.x86_64.conf",
            "title Rocky Linux (5.14.0-427.el9.x86_64) 9.4 (Blue Onyx)\nversion 5.14.0-427.el9.x86_64\nlinux /vmlinuz-5.14.0-427.el9.x86_64\ninitrd /initramfs-5.14.0-427.el9.x86_64.img $tuned_initrd\noptions root=/dev/mapper/rl-root ro resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root $tuned_params\noptionsx nope\ngrub_users $grub_users\n",
        );
        let fs_ = RootFs::open(root).unwrap();
        let (fact, problems) = boot_cmdline_with_problems(&fs_);
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(String, Source)> =
            fact.value().unwrap().iter().map(|s| (s.value.clone(), s.source.clone())).collect();
        assert_eq!(
            got,
            [
                ("audit=1 apparmor=1".to_string(), Source::file("/etc/default/grub", 5)),
                (
                    "quiet console=tty1 console=ttyS0".to_string(),
                    Source::file("/etc/default/grub.d/50-cloudimg-settings.cfg", 1)
                ),
                ("root=/dev/mapper/rl-root ro crashkernel=auto".to_string(), Source::file("/boot/grub2/grubenv", 3)),
                ("root=UUID=1234 ro quiet".to_string(), Source::file("/etc/kernel/cmdline", 1)),
                (
                    "root=/dev/mapper/rl-root ro resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root $tuned_params"
                        .to_string(),
                    Source::file("/boot/loader/entries/abc-5.14.0-427.el9.x86_64.conf", 5)
                ),
            ]
        );
    }

    #[test]
    fn live_host_sysctl_and_cmdline_collect_without_failure() {
        let fs_ = RootFs::open(Path::new("/")).unwrap();
        let (fact, _problems) = collect_with_problems(&fs_);
        assert!(fact.value().is_some());
        assert!(boot_cmdline(&fs_).value().is_some());
    }

    proptest::proptest! {
        #[test]
        fn sysctl_parser_never_panics(s in "\\PC*") {
            let mut settings = Settings::new();
            let mut problems = Vec::new();
            parse_sysctl(&s, "/etc/sysctl.conf", &mut settings, &mut problems);
            let _ = normalize_key(&s);
        }
        #[test]
        fn grub_parsers_never_panic(s in "\\PC*") {
            let mut grub = GrubDefaults::default();
            grub.source(&s, "/etc/default/grub");
            let _ = grub.cmdline();
            let _ = parse_grubenv_kernelopts(&s, "/boot/grub2/grubenv");
            let _ = parse_bls_options(&s, "/boot/loader/entries/x.conf");
        }
        #[test]
        fn grub_parser_never_panics_on_shell_soup(s in "(GRUB_CMDLINE_LINUX(_DEFAULT)?=|[\"'$\\\\{} \n#a-z=])*") {
            let mut grub = GrubDefaults::default();
            grub.source(&s, "/etc/default/grub");
            let _ = grub.cmdline();
        }
    }
}
