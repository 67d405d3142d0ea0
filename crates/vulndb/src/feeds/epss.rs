//! FIRST.org EPSS daily scores (`epss_scores-YYYY-MM-DD.csv[.gz]`).
//!
//! Why it exists: EPSS estimates the probability that a CVE is exploited in
//! the next 30 days; the matcher uses it to rank findings.
//!
//! What the format means: an optional first comment line
//! `#model_version:v2023.03.01,score_date:2023-03-08T00:00:00+0000`, a header
//! `cve,epss,percentile`, then one row per CVE with the probability and its
//! percentile, both in [0, 1]. Each row becomes a [`VulnInfo`] with `epss`
//! and `epss_percentile`. Read line by line (the daily file has ~250k rows);
//! a bad row is a problem naming its line, a missing header is an error.

use std::io::BufRead;

use super::{FeedError, FeedOutput, FeedProblem};
use crate::advisory::VulnInfo;

fn score(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && (0.0..=1.0).contains(v))
}

/// Parses an EPSS CSV.
pub fn parse(reader: impl BufRead, source: &str) -> Result<FeedOutput, FeedError> {
    let mut out = FeedOutput::default();
    let mut columns: Option<(usize, usize, usize)> = None;
    for (n, line) in reader.split(b'\n').enumerate() {
        let lineno = n + 1;
        let line = line.map_err(|e| FeedError::io(source, e))?;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some((ci, ei, pi)) = columns else {
            let find = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            match (find("cve"), find("epss"), find("percentile")) {
                (Some(c), Some(e), Some(p)) => columns = Some((c, e, p)),
                _ => {
                    return Err(FeedError::malformed(
                        format!("{source}:{lineno}"),
                        format!("expected the header cve,epss,percentile, found {line:?}"),
                    ));
                }
            }
            continue;
        };
        let get = |i: usize| fields.get(i).copied().unwrap_or("");
        let id = get(ci);
        let (Some(epss), Some(pct)) = (score(get(ei)), score(get(pi))) else {
            out.problems.push(FeedProblem::new(format!("{source}:{lineno}"), format!("bad row {line:?}; skipped")));
            continue;
        };
        if id.is_empty() {
            out.problems.push(FeedProblem::new(format!("{source}:{lineno}"), "empty cve column; skipped"));
            continue;
        }
        out.vulns.push(VulnInfo {
            id: id.to_string(),
            epss: Some(epss),
            epss_percentile: Some(pct),
            ..Default::default()
        });
    }
    if columns.is_none() {
        return Err(FeedError::malformed(source, "no cve,epss,percentile header"));
    }
    Ok(out)
}
