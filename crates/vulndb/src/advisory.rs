//! The normalised advisory: what every feed is read into.
//!
//! Why it exists: Debian OVAL, Ubuntu OVAL, Alpine secdb and OSV describe the
//! same facts in four shapes. The store and the matcher know only this one.
//! One [`Advisory`] is one (vulnerability, distro release, package) fact with
//! its fix status; per-vulnerability facts that do not depend on the distro
//! (CVSS, KEV, EPSS) are [`VulnInfo`].

use serde::{Deserialize, Serialize};

/// Which package name an advisory is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    /// A source package (Debian OVAL, Debian/Ubuntu OSV, Alpine `origin`).
    Source,
    /// A binary package (Ubuntu USN OVAL, rpm-based OSV).
    Binary,
}

/// The fix status of a vulnerability in one package of one release.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FixStatus {
    /// Fixed in `version`: installed versions ordered before it are affected.
    Fixed {
        /// The first fixed version, in the distro's notation.
        version: String,
    },
    /// Affected, and no fix has been released yet (Debian OVAL "earlier than 0").
    Unfixed,
    /// Affected, and the distro decided not to fix it.
    WillNotFix,
    /// Never affected.
    NotAffected,
}

/// One (vulnerability, distro release, package) fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// The vulnerability id, a CVE id where there is one (`CVE-2023-4911`).
    pub vuln_id: String,
    /// Advisory ids naming the fix (`DSA-5514-1`, `DLA-...`, `USN-6859-1`, ...).
    pub advisory_ids: Vec<String>,
    /// Distro id as in os-release `ID`: `debian`, `ubuntu`, `alpine`, `rocky`, ...
    pub distro: String,
    /// Release as Warden normalises it: Debian major (`12`), Ubuntu
    /// `22.04`, Alpine `3.20`, RHEL family major (`9`).
    pub release: String,
    /// Package name.
    pub package: String,
    /// Whether `package` is a source or a binary package name.
    pub package_kind: PackageKind,
    /// Fix status.
    pub status: FixStatus,
    /// The distro's own severity, lower-case as published (`high`, `medium`,
    /// `low`, `unimportant`, `critical`, `negligible`), when it gives one.
    pub distro_severity: Option<String>,
    /// The feed it came from, e.g. `debian-oval`, `alpine-secdb`.
    pub feed: String,
}

/// Facts about a vulnerability independent of any distro.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnInfo {
    /// The vulnerability id (`CVE-...`).
    pub id: String,
    /// Short description, when a feed gives one.
    pub summary: Option<String>,
    /// CVSS v3.x vector (`CVSS:3.1/AV:N/...`).
    pub cvss3_vector: Option<String>,
    /// CVSS v4.0 vector.
    pub cvss4_vector: Option<String>,
    /// In CISA's Known Exploited Vulnerabilities catalog since this date (YYYY-MM-DD).
    pub kev_date_added: Option<String>,
    /// KEV: known to be used in ransomware campaigns.
    pub kev_ransomware: Option<bool>,
    /// EPSS probability (0-1).
    pub epss: Option<f64>,
    /// EPSS percentile (0-1).
    pub epss_percentile: Option<f64>,
}

/// The CVSS base score of a vector (v2, v3.0, v3.1 or v4.0), computed with
/// RustSec's `cvss` crate; `None` when the vector does not parse.
pub fn cvss_score(vector: &str) -> Option<f64> {
    vector.trim().parse::<cvss::Cvss>().ok().map(|c| c.score())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cvss_scores_from_vectors() {
        assert_eq!(super::cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(9.8));
        assert_eq!(super::cvss_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), Some(7.8));
        assert_eq!(super::cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"), Some(10.0));
        assert_eq!(super::cvss_score("not a vector"), None);
    }
}
