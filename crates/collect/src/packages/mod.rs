//! Installed OS packages: one inventory per package database in the root.
//!
//! Why it exists: vulnerability assessment matches installed packages (name,
//! version, source package) against distribution advisories. The inventories
//! are read from the package managers' own databases inside the root, without
//! running dpkg, rpm or apk, so a live host, a mounted disk and an unpacked
//! image are read the same way.
//!
//! Databases looked for, each read by its own module:
//! - [`dpkg`] reads `/var/lib/dpkg/status`, and `/var/lib/dpkg/status.d/` (distroless images).
//! - [`apk`] reads `/lib/apk/db/installed`.
//! - [`rpm`] reads `rpmdb.sqlite`, Berkeley DB `Packages` (and ndb `Packages.db`,
//!   recognised but not read) in `/usr/lib/sysimage/rpm` and `/var/lib/rpm`.
//!
//! Result ([`collect`]):
//! - No database at all: [`Fact::Absent`].
//! - Otherwise [`Fact::Collected`] with one [`PackageInventory`] per database,
//!   in the order above. Problems inside a database (a corrupt stanza or rpm
//!   header) are in that inventory's `problems`; its good packages are kept.
//! - A database that exists but cannot be read at all (permission denied,
//!   not a database, unsupported format): when it is the ONLY database found,
//!   the fact is [`Fact::Failed`] with its problem (nothing is known about the
//!   packages: rules must say "could not evaluate", not "no packages"). When
//!   other databases were found, it is an inventory with no packages whose
//!   `problems` hold the reason, so the readable inventories are still used
//!   and the failure is still visible (a Vec fact cannot be half failed).
//!
//! The running kernel (live roots only): the package of the running kernel
//! gets `running_kernel: true`, matched on `uname -r` (see [`mark_running_kernel`]).

pub mod apk;
pub mod dpkg;
pub mod rpm;

use warden_model::{Fact, InstalledPackage, PackageFormat, PackageInventory, Problem};

use crate::RootFs;

/// What reading one database gave.
#[derive(Debug)]
pub enum Outcome {
    /// Read (possibly with problems inside).
    Read(PackageInventory),
    /// Exists but could not be read at all: format, database path, why.
    Unreadable(PackageFormat, String, Problem),
}

/// Collects every package inventory of the root (see the module docs).
pub fn collect(fs: &RootFs) -> Fact<Vec<PackageInventory>> {
    let mut outcomes = dpkg::collect(fs);
    outcomes.extend(apk::collect(fs));
    outcomes.extend(rpm::collect(fs));
    let mut inventories = match combine(outcomes) {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Fact::Absent {
                reason: format!(
                    "no package database: none of {}, {}, {} or an rpm database in {}",
                    dpkg::STATUS_PATH,
                    dpkg::STATUS_D_PATH,
                    apk::INSTALLED_PATH,
                    rpm::RPM_DIRS.join(" or ")
                ),
            };
        }
        Err(problem) => return Fact::Failed { problem },
    };
    if fs.is_live()
        && let Some(release) = kernel_release()
    {
        mark_running_kernel(&mut inventories, &release);
    }
    Fact::collected(inventories)
}

/// Applies the failure policy of the module docs: `Ok(None)` when nothing
/// was found, `Err` when the only database found is unreadable.
fn combine(outcomes: Vec<Outcome>) -> Result<Option<Vec<PackageInventory>>, Problem> {
    if outcomes.is_empty() {
        return Ok(None);
    }
    if outcomes.len() == 1
        && let Some(Outcome::Unreadable(_, _, problem)) = outcomes.first()
    {
        return Err(problem.clone());
    }
    Ok(Some(
        outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Read(inv) => inv,
                Outcome::Unreadable(format, database, problem) => {
                    PackageInventory { format, database, packages: Vec::new(), problems: vec![problem] }
                }
            })
            .collect(),
    ))
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> Option<String> {
    // SAFETY: uname fills the zeroed struct; the release field is NUL-terminated.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = uts.release.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// Marks the packages that hold the running kernel `release` (`uname -r`):
/// - dpkg: `linux-image-<release>` (Debian, Ubuntu) and
///   `linux-image-unsigned-<release>` (Ubuntu's unsigned builds);
/// - rpm: `kernel`, `kernel-core` (RHEL 8+, Fedora), `kernel-default`
///   (SUSE) whose `version-release.arch` equals the release (RHEL, Fedora,
///   Amazon Linux: `5.14.0-362.8.1.el9_3.x86_64`), and SUSE's
///   `kernel-default` whose `version-release` minus the release's last
///   component, plus `-default`, equals it (`5.14.21-150500.55.39.1` →
///   `5.14.21-150500.55.39-default`);
/// - apk: `linux-<flavor>` whose `version` with `-r` removed, plus
///   `-<flavor>`, equals it (`linux-lts` `6.6.31-r0` → `6.6.31-0-lts`).
pub fn mark_running_kernel(inventories: &mut [PackageInventory], release: &str) {
    for inv in inventories {
        for p in &mut inv.packages {
            p.running_kernel = match inv.format {
                PackageFormat::Dpkg => is_running_dpkg(p, release),
                PackageFormat::Rpm => is_running_rpm(p, release),
                PackageFormat::Apk => is_running_apk(p, release),
            };
        }
    }
}

fn is_running_dpkg(p: &InstalledPackage, release: &str) -> bool {
    let rest = p.name.strip_prefix("linux-image-").map(|r| r.strip_prefix("unsigned-").unwrap_or(r));
    rest == Some(release)
}

fn is_running_rpm(p: &InstalledPackage, release: &str) -> bool {
    if !matches!(p.name.as_str(), "kernel" | "kernel-core" | "kernel-default") {
        return false;
    }
    let vr = p.version.split_once(':').map_or(p.version.as_str(), |(_, vr)| vr);
    if let Some(arch) = &p.arch
        && release.strip_suffix(arch.as_str()).and_then(|r| r.strip_suffix('.')) == Some(vr)
    {
        return true;
    }
    if p.name == "kernel-default"
        && let Some((v, r)) = vr.split_once('-')
        && let Some((r_trimmed, _)) = r.rsplit_once('.')
    {
        return release == format!("{v}-{r_trimmed}-default");
    }
    false
}

fn is_running_apk(p: &InstalledPackage, release: &str) -> bool {
    let Some(flavor) = p.name.strip_prefix("linux-") else { return false };
    let Some((v, r)) = p.version.rsplit_once("-r") else { return false };
    release == format!("{v}-{r}-{flavor}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_model::Source;

    fn pkg(name: &str, version: &str, arch: Option<&str>) -> InstalledPackage {
        InstalledPackage {
            name: name.to_string(),
            version: version.to_string(),
            arch: arch.map(str::to_string),
            source_name: name.to_string(),
            source_version: version.to_string(),
            running_kernel: false,
            source: Source::file("/x", 1),
        }
    }

    fn inv(format: PackageFormat, packages: Vec<InstalledPackage>) -> PackageInventory {
        PackageInventory { format, database: "/x".to_string(), packages, problems: Vec::new() }
    }

    #[test]
    fn running_kernel_matching() {
        let mut invs = vec![
            inv(
                PackageFormat::Dpkg,
                vec![
                    pkg("linux-image-6.1.0-18-amd64", "6.1.76-1", Some("amd64")),
                    pkg("linux-image-6.1.0-17-amd64", "6.1.69-1", Some("amd64")),
                    pkg("linux-image-amd64", "6.1.76-1", Some("amd64")),
                ],
            ),
            inv(
                PackageFormat::Rpm,
                vec![
                    pkg("kernel-core", "5.14.0-362.8.1.el9_3", Some("x86_64")),
                    pkg("kernel-core", "5.14.0-284.11.1.el9_2", Some("x86_64")),
                    pkg("kernel-tools", "5.14.0-362.8.1.el9_3", Some("x86_64")),
                ],
            ),
        ];
        mark_running_kernel(&mut invs, "6.1.0-18-amd64");
        let flags: Vec<bool> = invs.iter().flat_map(|i| i.packages.iter().map(|p| p.running_kernel)).collect();
        assert_eq!(flags, [true, false, false, false, false, false]);
        mark_running_kernel(&mut invs, "5.14.0-362.8.1.el9_3.x86_64");
        let flags: Vec<bool> = invs.iter().flat_map(|i| i.packages.iter().map(|p| p.running_kernel)).collect();
        assert_eq!(flags, [false, false, false, true, false, false]);

        assert!(is_running_rpm(
            &pkg("kernel", "4.14.336-257.566.amzn2", Some("x86_64")),
            "4.14.336-257.566.amzn2.x86_64"
        ));
        assert!(is_running_rpm(
            &pkg("kernel-default", "5.14.21-150500.55.39.1", Some("x86_64")),
            "5.14.21-150500.55.39-default"
        ));
        assert!(is_running_rpm(&pkg("kernel", "1:5.0-1", Some("x86_64")), "5.0-1.x86_64"));
        assert!(is_running_dpkg(
            &pkg("linux-image-unsigned-6.8.0-31-generic", "6.8.0-31.31", None),
            "6.8.0-31-generic"
        ));
        assert!(is_running_apk(&pkg("linux-lts", "6.6.31-r0", None), "6.6.31-0-lts"));
        assert!(!is_running_apk(&pkg("linux-firmware", "20240513-r0", None), "6.6.31-0-lts"));
    }

    #[test]
    fn failure_policy() {
        let problem = Problem::file("/var/lib/rpm/Packages", "permission denied");
        let unreadable =
            || Outcome::Unreadable(PackageFormat::Rpm, "/var/lib/rpm/Packages".to_string(), problem.clone());
        assert_eq!(combine(vec![]).unwrap(), None);
        assert_eq!(combine(vec![unreadable()]).unwrap_err(), problem);
        let both = combine(vec![Outcome::Read(inv(PackageFormat::Dpkg, vec![])), unreadable()]).unwrap().unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].problems, vec![problem.clone()]);
        assert!(both[1].packages.is_empty());
    }

    #[test]
    fn empty_root_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        assert!(matches!(collect(&fs), Fact::Absent { .. }));
    }
}
