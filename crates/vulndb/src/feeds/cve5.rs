//! CVE JSON 5 records (CVE Services / cvelistV5, CISA vulnrichment).
//!
//! Why it exists: CVSS vectors and descriptions come from the CVE record
//! itself: from the CNA (the vendor or coordinator that assigned the CVE)
//! and from ADP containers (CISA's vulnrichment adds CVSS where the CNA gave
//! none, and SSVC).
//!
//! What the format means and how it is read: `cveMetadata.cveId`,
//! `containers.cna.metrics[]` and `containers.adp[].metrics[]`, each metric
//! an object with one of `cvssV4_0`, `cvssV3_1`, `cvssV3_0`, `cvssV2_0`,
//! `other` (SSVC) holding a `vectorString`. The v3 vector is the CNA's if it
//! gave one, else an ADP's; within a container `cvssV3_1` wins over
//! `cvssV3_0` (CNA over ADP first, then 3.1 over 3.0). The v4 vector the
//! same way. The summary is the CNA's English description
//! (`descriptions[lang=en*]`). Records in state `REJECTED` yield nothing
//! (reported as a problem). A file may hold one record or an array.

use std::io::Read;

use serde_json::Value;

use super::json::{arr_field, loc, read_value, str_field};
use super::{FeedError, FeedOutput, FeedProblem};
use crate::advisory::VulnInfo;

fn vector(container: &Value, key: &str) -> Option<String> {
    arr_field(container, "metrics")
        .iter()
        .filter_map(|m| m.get(key))
        .filter_map(|c| str_field(c, "vectorString"))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parses one CVE JSON 5 file (a record, or an array of records).
pub fn parse(reader: impl Read, source: &str) -> Result<FeedOutput, FeedError> {
    let v = read_value(reader, source)?;
    let mut out = FeedOutput::default();
    match &v {
        Value::Array(items) => {
            for (i, r) in items.iter().enumerate() {
                let path = format!("$[{i}]");
                if let Err(e) = record(r, source, &path, &mut out) {
                    out.problems.push(FeedProblem::new(loc(source, &path), e.to_string()));
                }
            }
        }
        _ => record(&v, source, "$", &mut out)?,
    }
    Ok(out)
}

fn record(v: &Value, source: &str, path: &str, out: &mut FeedOutput) -> Result<(), FeedError> {
    let meta = v
        .get("cveMetadata")
        .ok_or_else(|| FeedError::malformed(loc(source, &format!("{path}.cveMetadata")), "missing"))?;
    let id = str_field(meta, "cveId").map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        FeedError::malformed(loc(source, &format!("{path}.cveMetadata.cveId")), "missing or not a string")
    })?;
    if str_field(meta, "state") == Some("REJECTED") {
        out.problems.push(FeedProblem::new(
            loc(source, &format!("{path}.cveMetadata.state")),
            format!("{id} is REJECTED; skipped"),
        ));
        return Ok(());
    }
    let containers = v.get("containers");
    let cna = containers.and_then(|c| c.get("cna"));
    let adps: &[Value] = containers.map(|c| arr_field(c, "adp")).unwrap_or(&[]);
    let mut info = VulnInfo { id: id.to_string(), ..Default::default() };
    let pick = |key31: &str, key30: Option<&str>| -> Option<String> {
        let in_container = |c: &Value| vector(c, key31).or_else(|| key30.and_then(|k| vector(c, k)));
        cna.and_then(in_container).or_else(|| adps.iter().find_map(in_container))
    };
    info.cvss3_vector = pick("cvssV3_1", Some("cvssV3_0"));
    info.cvss4_vector = pick("cvssV4_0", None);
    info.summary = cna
        .map(|c| arr_field(c, "descriptions"))
        .unwrap_or(&[])
        .iter()
        .find(|d| str_field(d, "lang").is_some_and(|l| l.to_ascii_lowercase().starts_with("en")))
        .and_then(|d| str_field(d, "value"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    out.vulns.push(info);
    Ok(())
}
