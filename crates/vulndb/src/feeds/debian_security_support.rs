//! debian-security-support lists (`security-support-ended.debN`,
//! `security-support-limited`).
//!
//! Why it exists: some Debian source packages lose security support before
//! the release does (browsers engines, abandoned upstreams) or are supported
//! only for some uses. No CVE feed says so: a host running such a package
//! gets no more fixes, and the matcher reports "security support ended"
//! from these lists.
//!
//! What the format means (plain text, `#` comments, columns separated by
//! spaces or tabs):
//! - `security-support-ended.debN`: source package, last version with
//!   support (if binNMUs happened, the highest), the date support ended or
//!   will end (YYYY-MM-DD), optional details. `N` is the Debian major
//!   release. A version of `0` means no version is supported;
//! - `security-support-limited`: source package, details. The file ships in
//!   the debian-security-support package of one release and does not name
//!   it, so [`SupportStatus::release`] is `None` (it applies to the release
//!   whose package shipped it);
//! - a package name may be a regular expression (`php-horde.*`,
//!   `golang.*`): kept as written, flagged by [`SupportStatus::pattern`].

use std::io::BufRead;

use super::{FeedError, FeedOutput, FeedProblem};

/// The security-support status of one source package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SupportStatus {
    /// Distro id (`debian`).
    pub distro: String,
    /// Debian major release (`12`) for the `ended` lists; `None` for the
    /// `limited` list, which does not name its release.
    pub release: Option<String>,
    /// Source package name, or a regular expression when [`Self::pattern`].
    pub package: String,
    /// `package` is a regular expression (it holds `*`, `[`, `(`, `?`, `+`, `|` or `^`).
    pub pattern: bool,
    /// Support ended (or ends) after `(last supported version, YYYY-MM-DD)`.
    pub ended: Option<(String, String)>,
    /// Support is limited (see `details`).
    pub limited: bool,
    /// The publisher's explanation or URL, if any.
    pub details: Option<String>,
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Splits off `n` whitespace-separated columns and returns them with the rest.
fn columns(line: &str, n: usize) -> (Vec<&str>, &str) {
    let mut cols = Vec::new();
    let mut rest = line.trim_start();
    while cols.len() < n && !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        cols.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (cols, rest.trim_end())
}

/// Parses one list. Which list it is comes from its header comment, else
/// from `source`'s file name (which also gives the release: `.deb12` → 12).
pub fn parse(reader: impl BufRead, source: &str) -> Result<FeedOutput, FeedError> {
    let name = source.rsplit('/').next().unwrap_or(source);
    let release = name
        .rsplit_once(".deb")
        .map(|(_, r)| r)
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string);
    let mut limited: Option<bool> = if name.contains("security-support-limited") {
        Some(true)
    } else if name.contains("security-support-ended") {
        Some(false)
    } else {
        None
    };
    let mut out = FeedOutput::default();
    for (n, line) in reader.split(b'\n').enumerate() {
        let lineno = n + 1;
        let line = line.map_err(|e| FeedError::io(source, e))?;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            if comment.contains("security support is limited") {
                limited = Some(true);
            } else if comment.contains("security support ends") {
                limited = Some(false);
            }
            continue;
        }
        let Some(is_limited) = limited else {
            return Err(FeedError::malformed(
                format!("{source}:{lineno}"),
                "not a security-support-ended.debN or security-support-limited list (no header, unknown file name)",
            ));
        };
        let location = format!("{source}:{lineno}");
        let status = if is_limited {
            let (cols, rest) = columns(trimmed, 1);
            SupportStatus {
                distro: "debian".into(),
                release: None,
                package: cols[0].to_string(),
                pattern: false,
                ended: None,
                limited: true,
                details: (!rest.is_empty()).then(|| rest.to_string()),
            }
        } else {
            let (cols, rest) = columns(trimmed, 3);
            if cols.len() < 3 || !is_date(cols[2]) {
                out.problems.push(FeedProblem::new(
                    location,
                    format!("expected: package version YYYY-MM-DD [details], found {trimmed:?}"),
                ));
                continue;
            }
            if release.is_none() {
                out.problems.push(FeedProblem::new(location, "release unknown (file name has no .debN)"));
            }
            SupportStatus {
                distro: "debian".into(),
                release: release.clone(),
                package: cols[0].to_string(),
                pattern: false,
                ended: Some((cols[1].to_string(), cols[2].to_string())),
                limited: false,
                details: (!rest.is_empty()).then(|| rest.to_string()),
            }
        };
        let pattern = status.package.contains(['*', '[', '(', '?', '+', '|', '^']);
        out.support.push(SupportStatus { pattern, ..status });
    }
    Ok(out)
}
