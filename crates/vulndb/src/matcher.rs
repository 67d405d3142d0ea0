//! Matching installed packages against the database.
//!
//! Why it exists: this is where false positives and false negatives are made
//! or avoided. The rules, per distro (see `docs/cve/`):
//! - The advisory key is the distro id and release from os-release
//!   ([`target`]): Debian by major release (`12`), Ubuntu by `YY.MM`, Alpine
//!   by `major.minor`, the RHEL family by major release.
//! - Only packages in the inventory count, and the collector keeps only those
//!   really installed (dpkg `install ok installed` / `hold ok installed`).
//! - A package is looked up by its SOURCE name (Debian/Ubuntu source
//!   packages, Alpine origins), comparing the source version, and by its
//!   BINARY name (Ubuntu USN OVAL, rpm distros), comparing its own version.
//!   The binary package is what the finding reports.
//! - `Fixed { version }`: affected when the installed version orders strictly
//!   before `version` in the format's own ordering (dpkg, rpm, apk).
//!   `Unfixed` and `WillNotFix`: affected whatever the version, reported
//!   unless `ignore_unfixed`. `NotAffected`: never.
//! - Each match carries the reason in words, e.g. `source package openssl
//!   3.0.11-1~deb12u2 < fixed 3.0.13-1~deb12u1 (DSA-5678-1, debian-oval)`.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use warden_model::{InstalledPackage, OsRelease, PackageFormat, PackageInventory, Source};

use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};
use crate::feeds::SupportStatus;
use crate::store::{PackedAdvisory, Store, StoreError, SupportList};
use crate::version::VersionScheme;

/// Where an inventory's advisories are keyed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Distro id (os-release `ID`).
    pub distro: String,
    /// Normalised release.
    pub release: String,
}

/// Options for matching.
#[derive(Clone, Debug, Default)]
pub struct MatchOptions {
    /// Leave out vulnerabilities with no fix (unfixed, will not fix).
    pub ignore_unfixed: bool,
    /// Today's date (`YYYY-MM-DD`), to tell a security-support end that has
    /// passed from one still to come. Passed in: the matcher has no clock.
    pub today: String,
}

/// An installed package whose security support has ended or is limited
/// (Debian's `debian-security-support` lists).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupportMatch {
    /// Installed binary package.
    pub package: String,
    /// Its installed version.
    pub installed_version: String,
    /// Its source package, as listed.
    pub source_name: String,
    /// The list entry.
    pub status: SupportStatus,
    /// True when the end date is today or earlier.
    pub ended: bool,
    /// Where the package is recorded.
    pub location: Source,
}

/// The advisory key for a host: distro id and normalised release.
pub fn target(os: &OsRelease) -> Result<Target, String> {
    let version = os.version_id.as_deref().unwrap_or("");
    let major = |v: &str| v.split('.').next().unwrap_or("").to_string();
    let release = match os.id.as_str() {
        "debian" => {
            if version.is_empty() {
                return Err(format!(
                    "{} has no VERSION_ID (testing or unstable): no release to match advisories against",
                    os.pretty_name.as_deref().unwrap_or("Debian")
                ));
            }
            major(version)
        }
        "ubuntu" => version.to_string(),
        "alpine" => {
            let mut parts = version.split('.');
            match (parts.next(), parts.next()) {
                (Some(a), Some(b)) if !a.is_empty() => format!("{a}.{}", b.split('_').next().unwrap_or(b)),
                _ => return Err(format!("Alpine VERSION_ID {version:?} is not major.minor[.patch]")),
            }
        }
        "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "fedora" | "amzn" | "sles" | "opensuse-leap" => {
            major(version)
        }
        other => return Err(format!("no advisory source covers the distro {other:?}")),
    };
    if release.is_empty() {
        return Err(format!("os-release of {} has no VERSION_ID", os.id));
    }
    Ok(Target { distro: os.id.clone(), release })
}

/// The version ordering of a package format.
pub fn scheme(format: PackageFormat) -> VersionScheme {
    match format {
        PackageFormat::Dpkg => VersionScheme::Dpkg,
        PackageFormat::Rpm => VersionScheme::Rpm,
        PackageFormat::Apk => VersionScheme::Apk,
    }
}

/// One vulnerable installed package.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageMatch {
    /// The vulnerability (CVE id where there is one).
    pub vuln_id: String,
    /// Advisories naming the fix (DSA, DLA, USN, ...).
    pub advisory_ids: Vec<String>,
    /// The installed binary package.
    pub package: String,
    /// Its installed version.
    pub installed_version: String,
    /// The name the advisory is keyed by (source or binary).
    pub matched_name: String,
    /// Whether that is a source or binary name.
    pub matched_kind: PackageKind,
    /// The version compared (source version for source matches).
    pub compared_version: String,
    /// Fix status.
    pub status: FixStatus,
    /// The distro's severity, if it gave one.
    pub distro_severity: Option<String>,
    /// The feed that said so.
    pub feed: String,
    /// Where the package is recorded (database file and line).
    pub location: Source,
    /// Why it matched, in words.
    pub reason: String,
}

/// The result of matching one inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InventoryScan {
    /// Package format.
    pub format: PackageFormat,
    /// The database file.
    pub database: String,
    /// The advisory key used.
    pub target: Option<Target>,
    /// Why no advisory key could be chosen (unknown distro or release).
    pub unsupported: Option<String>,
    /// Whether the vulnerability database has any advisory for that release.
    pub release_covered: bool,
    /// Installed packages examined.
    pub packages_checked: usize,
    /// Vulnerable packages, ordered by vulnerability then package.
    pub matches: Vec<PackageMatch>,
    /// Packages whose security support ended or is limited.
    #[serde(default)]
    pub support: Vec<SupportMatch>,
}

/// Everything the CVE rules package needs: the scans and the facts about
/// each matched vulnerability. Plain data, so rules stay pure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CveScan {
    /// The database used (path).
    pub database: Option<String>,
    /// Why no database could be used.
    pub database_problem: Option<String>,
    /// The newest import time among the database's sources (RFC 3339).
    pub database_imported_at: Option<String>,
    /// One per package inventory.
    pub inventories: Vec<InventoryScan>,
    /// Facts about matched vulnerabilities.
    pub vulns: BTreeMap<String, VulnInfo>,
    /// Whether unfixed vulnerabilities were left out.
    pub ignore_unfixed: bool,
}

/// Whether an advisory applies to an installed version, and if so the
/// comparison in words. Versions are compared on borrowed slices; the words
/// are built only for matches (most advisories name a fixed version the
/// installed one has already reached).
fn applies(
    advisory: &PackedAdvisory<'_>,
    installed: &str,
    scheme: VersionScheme,
    ignore_unfixed: bool,
) -> Option<String> {
    if let Some(fixed) = advisory.fixed_version() {
        return (scheme.compare(installed, fixed) == Ordering::Less).then(|| format!("{installed} < fixed {fixed}"));
    }
    match advisory.status() {
        _ if ignore_unfixed => None,
        FixStatus::Unfixed => Some(format!("{installed}, no fix available yet")),
        FixStatus::WillNotFix => Some(format!("{installed}, the distro will not fix it")),
        FixStatus::Fixed { .. } | FixStatus::NotAffected => None,
    }
}

/// Matches one inventory. Lookups are cached per (name, kind): the binaries
/// of one source package cost one query.
pub fn scan_inventory(
    store: &Store,
    os: &OsRelease,
    inventory: &PackageInventory,
    options: MatchOptions,
) -> Result<InventoryScan, StoreError> {
    let target = target(os);
    let mut scan = InventoryScan {
        format: inventory.format,
        database: inventory.database.clone(),
        target: target.as_ref().ok().cloned(),
        unsupported: target.as_ref().err().cloned(),
        release_covered: false,
        packages_checked: 0,
        matches: Vec::new(),
        support: Vec::new(),
    };
    let Ok(target) = target else { return Ok(scan) };
    scan.release_covered = store.covers(&target.distro, &target.release)?;
    let scheme = scheme(inventory.format);
    let mut cache: HashMap<(&str, PackageKind), Option<String>> = HashMap::new();
    let support = if inventory.format == PackageFormat::Dpkg {
        store.support_list(&target.distro, &target.release)?
    } else {
        SupportList::default()
    };
    for package in &inventory.packages {
        scan.packages_checked += 1;
        for status in support.for_package(&package.source_name) {
            let ended = status.ended.as_ref().is_some_and(|(_, date)| date.as_str() <= options.today.as_str());
            scan.support.push(SupportMatch {
                package: package.name.clone(),
                installed_version: package.version.clone(),
                source_name: package.source_name.clone(),
                status: status.clone(),
                ended,
                location: package.source.clone(),
            });
        }
        let lookups = [
            (PackageKind::Source, package.source_name.as_str(), package.source_version.as_str()),
            (PackageKind::Binary, package.name.as_str(), package.version.as_str()),
        ];
        for (kind, name, version) in lookups {
            let packed = match cache.entry((name, kind)) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(store.lookup_packed(&target.distro, &target.release, name, kind)?),
            };
            let Some(packed) = packed else { continue };
            for advisory in PackedAdvisory::lines(packed) {
                if let Some(comparison) = applies(&advisory, version, scheme, options.ignore_unfixed) {
                    let advisory = advisory.to_advisory(&target.distro, &target.release, name, kind);
                    scan.matches.push(package_match(package, &advisory, kind, version, comparison));
                }
            }
        }
    }
    scan.matches.sort_by(|a, b| (&a.vuln_id, &a.package).cmp(&(&b.vuln_id, &b.package)));
    // One source and one binary advisory may name the same vulnerability for
    // the same package (two feeds): keep the first.
    scan.matches.dedup_by(|a, b| a.vuln_id == b.vuln_id && a.package == b.package);
    Ok(scan)
}

fn package_match(
    package: &InstalledPackage,
    advisory: &Advisory,
    kind: PackageKind,
    version: &str,
    comparison: String,
) -> PackageMatch {
    let which = match kind {
        PackageKind::Source => "source package",
        PackageKind::Binary => "package",
    };
    let by = if advisory.advisory_ids.is_empty() {
        advisory.feed.clone()
    } else {
        format!("{}, {}", advisory.advisory_ids.join(" "), advisory.feed)
    };
    PackageMatch {
        vuln_id: advisory.vuln_id.clone(),
        advisory_ids: advisory.advisory_ids.clone(),
        package: package.name.clone(),
        installed_version: package.version.clone(),
        matched_name: advisory.package.clone(),
        matched_kind: kind,
        compared_version: version.to_string(),
        status: advisory.status.clone(),
        distro_severity: advisory.distro_severity.clone(),
        feed: advisory.feed.clone(),
        location: package.source.clone(),
        reason: format!("{which} {} {comparison} ({by})", advisory.package),
    }
}

/// Matches every inventory of a host and gathers the facts about the
/// vulnerabilities found.
pub fn scan(
    store: &Store,
    os: &OsRelease,
    inventories: &[PackageInventory],
    options: MatchOptions,
) -> Result<CveScan, StoreError> {
    let mut out = CveScan {
        database: Some(store.path().display().to_string()),
        database_imported_at: store.sources()?.into_iter().map(|s| s.imported_at).max(),
        ignore_unfixed: options.ignore_unfixed,
        ..Default::default()
    };
    for inventory in inventories {
        let scan = scan_inventory(store, os, inventory, options.clone())?;
        for m in &scan.matches {
            if !out.vulns.contains_key(&m.vuln_id)
                && let Some(info) = store.vuln(&m.vuln_id)?
            {
                out.vulns.insert(m.vuln_id.clone(), info);
            }
        }
        out.inventories.push(scan);
    }
    Ok(out)
}

/// Opens the database at `db` and matches a snapshot's package inventories.
/// Every failure becomes a reason in the scan (the CVE package then reports
/// could-not-evaluate), never an abort: the CLI and the fleet server both
/// evaluate through this.
pub fn scan_snapshot(snapshot: &warden_model::Snapshot, db: &std::path::Path, options: MatchOptions) -> CveScan {
    use warden_model::Fact;
    let problem = |message: String| CveScan { database_problem: Some(message), ..Default::default() };
    let store = match Store::open(db) {
        Ok(store) => store,
        Err(e) => return problem(e.to_string()),
    };
    let inventories = match &snapshot.packages {
        Fact::Collected { value } => value,
        Fact::Absent { .. } => {
            return CveScan { database: Some(db.display().to_string()), ..Default::default() };
        }
        other => return problem(format!("package inventory unavailable: {}", other.reason().unwrap_or_default())),
    };
    match snapshot.host.os.value() {
        Some(os) => scan(&store, os, inventories, options).unwrap_or_else(|e| problem(e.to_string())),
        None => {
            let why = format!("OS release unknown: {}", snapshot.host.os.reason().unwrap_or_default());
            CveScan {
                database: Some(db.display().to_string()),
                inventories: inventories
                    .iter()
                    .map(|inv| InventoryScan {
                        format: inv.format,
                        database: inv.database.clone(),
                        target: None,
                        unsupported: Some(why.clone()),
                        release_covered: false,
                        packages_checked: inv.packages.len(),
                        matches: vec![],
                        support: vec![],
                    })
                    .collect(),
                ignore_unfixed: options.ignore_unfixed,
                ..Default::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ImportBatch;
    use warden_model::OsFamily;

    fn os(id: &str, version: Option<&str>) -> OsRelease {
        OsRelease {
            path: "/etc/os-release".into(),
            id: id.into(),
            id_like: vec![],
            version_id: version.map(str::to_string),
            version_codename: None,
            pretty_name: None,
            family: OsFamily::Other,
        }
    }

    #[test]
    fn targets_normalise_releases() {
        assert_eq!(target(&os("debian", Some("12"))).unwrap().release, "12");
        assert_eq!(target(&os("ubuntu", Some("22.04"))).unwrap().release, "22.04");
        assert_eq!(target(&os("alpine", Some("3.20.3"))).unwrap().release, "3.20");
        assert_eq!(target(&os("rocky", Some("9.4"))).unwrap().release, "9");
        assert_eq!(target(&os("amzn", Some("2023"))).unwrap().release, "2023");
        assert!(target(&os("debian", None)).unwrap_err().contains("testing or unstable"));
        assert!(target(&os("gentoo", Some("2.17"))).unwrap_err().contains("gentoo"));
    }

    fn pkg(name: &str, version: &str, source: &str, source_version: &str, line: u32) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: version.into(),
            arch: Some("amd64".into()),
            source_name: source.into(),
            source_version: source_version.into(),
            running_kernel: false,
            source: Source::file("/var/lib/dpkg/status", line),
        }
    }

    fn adv(vuln: &str, package: &str, kind: PackageKind, status: FixStatus) -> Advisory {
        Advisory {
            vuln_id: vuln.into(),
            advisory_ids: vec![],
            distro: "debian".into(),
            release: "12".into(),
            package: package.into(),
            package_kind: kind,
            status,
            distro_severity: None,
            feed: "test".into(),
        }
    }

    #[test]
    fn source_and_binary_matching_with_statuses() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite");
        let fixed = |v: &str| FixStatus::Fixed { version: v.into() };
        let batch = ImportBatch {
            name: "t".into(),
            advisories: vec![
                adv("CVE-A", "openssl", PackageKind::Source, fixed("3.0.13")),
                adv("CVE-B", "openssl", PackageKind::Source, fixed("3.0.5")),
                adv("CVE-C", "openssl", PackageKind::Source, FixStatus::Unfixed),
                adv("CVE-D", "openssl", PackageKind::Source, FixStatus::NotAffected),
                adv("CVE-E", "curl", PackageKind::Binary, FixStatus::WillNotFix),
            ],
            support: vec![
                SupportStatus {
                    distro: "debian".into(),
                    release: Some("12".into()),
                    package: "curl".into(),
                    pattern: false,
                    ended: Some(("7.88".into(), "2024-06-30".into())),
                    limited: false,
                    details: None,
                },
                SupportStatus {
                    distro: "debian".into(),
                    release: None,
                    package: "open.*".into(),
                    pattern: true,
                    ended: None,
                    limited: true,
                    details: Some("see README.Debian.security".into()),
                },
            ],
            ..Default::default()
        };
        Store::import(&db, &[batch], "now").unwrap();
        let store = Store::open(&db).unwrap();
        let inventory = PackageInventory {
            format: PackageFormat::Dpkg,
            database: "/var/lib/dpkg/status".into(),
            packages: vec![
                pkg("libssl3", "3.0.11", "openssl", "3.0.11", 10),
                pkg("openssl", "3.0.11", "openssl", "3.0.11", 30),
                pkg("curl", "7.88", "curl", "7.88", 50),
            ],
            problems: vec![],
        };
        let s =
            scan(&store, &os("debian", Some("12")), std::slice::from_ref(&inventory), MatchOptions::default()).unwrap();
        let found: Vec<(&str, &str)> =
            s.inventories[0].matches.iter().map(|m| (m.vuln_id.as_str(), m.package.as_str())).collect();
        assert_eq!(
            found,
            [("CVE-A", "libssl3"), ("CVE-A", "openssl"), ("CVE-C", "libssl3"), ("CVE-C", "openssl"), ("CVE-E", "curl")]
        );
        let a = &s.inventories[0].matches[0];
        assert_eq!(a.reason, "source package openssl 3.0.11 < fixed 3.0.13 (test)");
        assert_eq!(a.location, Source::file("/var/lib/dpkg/status", 10));
        assert!(s.inventories[0].release_covered);
        let s = scan(
            &store,
            &os("debian", Some("12")),
            std::slice::from_ref(&inventory),
            MatchOptions { ignore_unfixed: true, today: "2026-11-28".into() },
        )
        .unwrap();
        assert_eq!(s.inventories[0].matches.len(), 2);
        let options = MatchOptions { ignore_unfixed: false, today: "2026-11-28".into() };
        let s = scan(&store, &os("debian", Some("12")), std::slice::from_ref(&inventory), options).unwrap();
        let support: Vec<(&str, bool, bool)> =
            s.inventories[0].support.iter().map(|m| (m.package.as_str(), m.status.limited, m.ended)).collect();
        assert_eq!(support, [("libssl3", true, false), ("openssl", true, false), ("curl", false, true)]);
        let options = MatchOptions { ignore_unfixed: false, today: "2024-01-01".into() };
        let s = scan(&store, &os("debian", Some("12")), std::slice::from_ref(&inventory), options).unwrap();
        assert!(!s.inventories[0].support[2].ended, "support that ends later has not ended yet");
        let s = scan(&store, &os("debian", Some("11")), &[inventory], MatchOptions::default()).unwrap();
        assert!(!s.inventories[0].release_covered && s.inventories[0].matches.is_empty());
    }
}
