//! CISA Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`).
//!
//! Why it exists: a vulnerability known to be exploited in the wild is the
//! strongest reason to fix first; the matcher ranks findings with it.
//!
//! What the format means: `{title, catalogVersion, dateReleased, count,
//! vulnerabilities: [{cveID, vendorProject, product, vulnerabilityName,
//! dateAdded, shortDescription, requiredAction, dueDate,
//! knownRansomwareCampaignUse, notes, cwes}]}`. Each entry becomes a
//! [`VulnInfo`] with `kev_date_added` = `dateAdded` (YYYY-MM-DD) and
//! `kev_ransomware` = `knownRansomwareCampaignUse == "Known"` (`"Unknown"` →
//! `false`: CISA does not know of ransomware use; any other value → `None`
//! and a problem). KEV's `shortDescription` is about the vendor product and
//! is not used as the CVE summary. A `count` that differs from the number
//! of entries is reported as a problem.

use std::io::Read;

use serde_json::Value;

use super::json::{loc, read_value, str_field};
use super::{FeedError, FeedOutput, FeedProblem, is_cve_id};
use crate::advisory::VulnInfo;

/// Parses the KEV catalog.
pub fn parse(reader: impl Read, source: &str) -> Result<FeedOutput, FeedError> {
    let v = read_value(reader, source)?;
    let list = v
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or_else(|| FeedError::malformed(loc(source, "$.vulnerabilities"), "missing or not an array"))?;
    let mut out = FeedOutput::default();
    if let Some(count) = v.get("count").and_then(Value::as_u64)
        && count != list.len() as u64
    {
        out.problems.push(FeedProblem::new(
            loc(source, "$.count"),
            format!("says {count} entries, the catalog has {}", list.len()),
        ));
    }
    for (i, e) in list.iter().enumerate() {
        let path = format!("$.vulnerabilities[{i}]");
        let Some(id) = str_field(e, "cveID").map(str::trim).filter(|s| !s.is_empty()) else {
            out.problems.push(FeedProblem::new(loc(source, &format!("{path}.cveID")), "missing or not a string"));
            continue;
        };
        if !is_cve_id(id) {
            out.problems
                .push(FeedProblem::new(loc(source, &format!("{path}.cveID")), format!("{id:?} is not a CVE id; kept")));
        }
        let date = str_field(e, "dateAdded").map(str::trim).filter(|s| !s.is_empty());
        if date.is_none() {
            out.problems.push(FeedProblem::new(loc(source, &format!("{path}.dateAdded")), "missing"));
        }
        let ransomware = match str_field(e, "knownRansomwareCampaignUse") {
            Some("Known") => Some(true),
            Some("Unknown") => Some(false),
            other => {
                out.problems.push(FeedProblem::new(
                    loc(source, &format!("{path}.knownRansomwareCampaignUse")),
                    format!("unexpected value {other:?}"),
                ));
                None
            }
        };
        out.vulns.push(VulnInfo {
            id: id.to_string(),
            kev_date_added: date.map(str::to_string),
            kev_ransomware: ransomware,
            ..Default::default()
        });
    }
    Ok(out)
}
