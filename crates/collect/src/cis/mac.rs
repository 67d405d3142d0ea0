//! Mandatory access control: AppArmor and SELinux, as configured and (on a
//! live host) as running.
//!
//! Why it exists: "AppArmor / SELinux is enabled and enforcing" has three
//! witnesses: the configuration (`/etc/selinux/config`, the AppArmor
//! profiles and their `flags=(complain)`), the kernel command line (read by
//! the boot command line collector: `selinux=0`, `enforcing=0`,
//! `apparmor=0`), and the running kernel (`/sys/kernel/security`,
//! `/sys/fs/selinux/enforce`, `/sys/module/apparmor`). The last is read only
//! on a live host; an image is judged on the first two.

use warden_model::{Fact, LiveMac, MacFacts, Problem, Settings, Source, Sourced};

use crate::rootfs::{RootFs, join, read_host_file};

/// SELinux's configuration file.
pub const SELINUX_CONFIG: &str = "/etc/selinux/config";
/// AppArmor's profile directory (profiles are its top-level regular files).
pub const APPARMOR_D: &str = "/etc/apparmor.d";
/// Most AppArmor profile files read.
pub const MAX_PROFILES: usize = 2_000;

/// The facts; live state only when `live`.
pub fn collect(fs: &RootFs, live: bool, problems: &mut Vec<Problem>) -> MacFacts {
    let selinux_config = match fs.read_text(SELINUX_CONFIG) {
        Ok(Some(text)) => Some(parse_selinux_config(&text)),
        Ok(None) => None,
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let mut apparmor_profiles = Vec::new();
    match fs.read_dir(APPARMOR_D) {
        Ok(Some(names)) => {
            for name in names.into_iter().filter(|n| !n.starts_with('.')).take(MAX_PROFILES) {
                let path = join(APPARMOR_D, &name);
                if !fs.stat(&path).ok().flatten().is_some_and(|m| m.is_file()) {
                    continue;
                }
                match fs.read_text(&path) {
                    Ok(Some(text)) => apparmor_profiles.extend(profile_mode(&text, &path)),
                    Ok(None) => {}
                    Err(p) => problems.push(p),
                }
            }
        }
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    let live = if live {
        Fact::collected(live_mac())
    } else {
        Fact::NotCollected { reason: "live-only fact: the root is not the running system's /".into() }
    };
    MacFacts { selinux_config, apparmor_profiles, live }
}

/// `KEY=VALUE` lines of `/etc/selinux/config`, last wins.
pub fn parse_selinux_config(text: &str) -> Settings {
    let mut out = Settings::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = t.split_once('=') {
            out.insert(
                k.trim().to_string(),
                Sourced::new(v.trim().trim_matches('"').to_string(), Source::file(SELINUX_CONFIG, i as u32 + 1)),
            );
        }
    }
    out
}

/// The mode of the profile a file declares: the first `profile NAME ... {`
/// or `/path ... {` line; `complain`/`kill`/`unconfined` from its
/// `flags=(...)`, else `enforce`. Files that declare no profile (tunables,
/// abstractions included elsewhere) give nothing.
pub fn profile_mode(text: &str, path: &str) -> Option<Sourced<String>> {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || t.starts_with("include") || !t.ends_with('{') {
            continue;
        }
        if !(t.starts_with("profile ") || t.starts_with('/') || t.starts_with('@')) {
            continue;
        }
        let flags = t.split("flags=(").nth(1).and_then(|f| f.split(')').next()).unwrap_or("");
        let mode = ["complain", "kill", "unconfined", "prompt"]
            .into_iter()
            .find(|m| flags.split([',', ' ']).any(|f| f.trim() == *m))
            .unwrap_or("enforce");
        return Some(Sourced::new(mode.to_string(), Source::file(path, i as u32 + 1)));
    }
    None
}

fn live_mac() -> LiveMac {
    let read = |path: &str| {
        read_host_file(path, 64 * 1024)
            .ok()
            .map(|t| Sourced::new(t.trim().to_string(), Source::Kernel { path: path.to_string() }))
    };
    const PROFILES: &str = "/sys/kernel/security/apparmor/profiles";
    LiveMac {
        lsm: read("/sys/kernel/security/lsm"),
        apparmor_enabled: read("/sys/module/apparmor/parameters/enabled"),
        apparmor_loaded: read_host_file(PROFILES, 4 * 1024 * 1024).ok().map(|t| {
            t.lines().map(|l| Sourced::new(l.trim().to_string(), Source::Kernel { path: PROFILES.into() })).collect()
        }),
        selinux_enforce: read("/sys/fs/selinux/enforce"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_modes() {
        let m = |t: &str| profile_mode(t, "/etc/apparmor.d/x").map(|s| s.value);
        assert_eq!(
            m("#include <tunables/global>\n/usr/bin/man flags=(attach_disconnected) {\n}\n").unwrap(),
            "enforce"
        );
        assert_eq!(m("profile foo /usr/bin/foo flags=(complain) {\n}\n").unwrap(), "complain");
        assert_eq!(m("profile foo flags=(attach_disconnected,complain) {\n}\n").unwrap(), "complain");
        assert_eq!(m("# abstraction\n  /etc/ld.so.cache r,\n"), None);
    }

    #[test]
    fn selinux_config_last_wins() {
        let c =
            parse_selinux_config("SELINUX=permissive\n# SELINUX=disabled\nSELINUX=enforcing\nSELINUXTYPE=targeted\n");
        assert_eq!(c["SELINUX"].value, "enforcing");
        assert_eq!(c["SELINUX"].source, Source::file(SELINUX_CONFIG, 3));
    }
}
