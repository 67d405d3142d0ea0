//! Version ordering per package format: dpkg, rpm and apk.
//!
//! Why it exists: every CVE match is "installed version < fixed version" in
//! the ordering of the package manager that installed it, and each format has
//! its own rules (`~` pre-releases, epochs, `^` snapshots, `_rc`/`-rN`).
//! Getting one comparison wrong either hides a vulnerable package or reports a
//! patched one. These comparators are written here (no version crates) as pure
//! functions over byte slices, each a line-by-line port of the reference C
//! implementation named in its module, and are differential-tested against the
//! real tools (`tests/version_oracles.rs`: apt_pkg / dpkg, rpm's Lua
//! `rpm.vercmp`, apk-tools' test vectors).
//!
//! All comparisons are total and never panic, whatever the input; each module's
//! `validate` says whether the reference tool would accept the string.
use std::cmp::Ordering;

pub mod apk;
pub mod dpkg;
pub mod rpm;

/// The version ordering of one package format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionScheme {
    /// Debian/Ubuntu `[epoch:]upstream[-revision]`, ordered as dpkg/apt do ([`dpkg::compare`]).
    Dpkg,
    /// RPM `[epoch:]version[-release]`, ordered as rpm's `rpm.vercmp` does ([`rpm::compare`]).
    Rpm,
    /// Alpine apk versions, ordered as apk-tools does ([`apk::compare`]).
    Apk,
}

impl VersionScheme {
    /// Compares two versions of this scheme: `Less` means `a` is older than `b`. Total; never panics.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            VersionScheme::Dpkg => dpkg::compare(a, b),
            VersionScheme::Rpm => rpm::compare(a, b),
            VersionScheme::Apk => apk::compare(a, b),
        }
    }

    /// Checks that `v` is a version the scheme's reference tool accepts (see each module's `validate`).
    pub fn validate(self, v: &str) -> Result<(), String> {
        match self {
            VersionScheme::Dpkg => dpkg::validate(v),
            VersionScheme::Rpm => rpm::validate(v),
            VersionScheme::Apk => apk::validate(v),
        }
    }
}
