//! Alpine secdb (`secdb.alpinelinux.org/<release>/{main,community}.json`).
//!
//! Why it exists: it is Alpine's own list of security fixes per release and
//! repository, the source every Alpine scanner reads.
//!
//! What the publisher's format means:
//! - `{distroversion: "v3.20", reponame, urlprefix, apkurl, archs, packages:
//!   [{pkg: {name, secfixes: {"<fixed version>": ["CVE-…", …]}}}]}`;
//! - `name` is the **origin** (source) package, i.e. the APKBUILD name; all
//!   subpackages built from it (e.g. `libcrypto3` from `openssl`) share its
//!   fixes, so advisories are [`PackageKind::Source`] keyed by origin;
//! - `secfixes` lists what the APKBUILD's `# secfixes:` comment lists: the
//!   first package version (apk notation, `3.1.4-r0`) that carries the fix
//!   → [`FixStatus::Fixed`];
//! - the key `"0"` means "never affected in this release" (the package was
//!   never vulnerable, e.g. the bug is in a configuration Alpine does not
//!   build) → [`FixStatus::NotAffected`];
//! - Alpine has no "unfixed" marker: an affected package without a fix is
//!   simply absent; nor a severity (`distro_severity` is `None`);
//! - an entry may hold several ids or extra text (`"CVE-2016-6258 XSA-182"`,
//!   `"CVE-2022-41925 TS-2022-005"`, `"CVE-????-????? TS-2024-005"`): it is
//!   split on whitespace; a well-formed CVE id becomes the `vuln_id`, other
//!   advisory-like ids (`XSA-182`, `GHSA-…`, `TS-…`) become `advisory_ids`
//!   (or the `vuln_id` when there is no CVE); malformed CVE ids
//!   (`CVE-46838`, `CVE_2019-2426`) and free text are reported as problems;
//! - an id listed under several fixed versions of the same package (a fix
//!   that needed a second release) takes the HIGHEST version, in apk
//!   ordering. That ordering is passed in by the caller as a plain
//!   `fn(&str, &str) -> Ordering` so this parser does not depend on the
//!   version module; [`super::ReadOptions`] passes
//!   `crate::version::apk::compare`. Since `"0"` sorts lowest, an id under
//!   both `"0"` and a real version is Fixed;
//! - the release is `distroversion` without its `v` (`v3.20` → `3.20`,
//!   `edge` stays `edge`), else the `vX.Y` directory in the file's path.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Read;

use serde_json::Value;

use super::json::{loc, read_value, str_field};
use super::{FeedError, FeedOutput, FeedProblem, is_cve_id};
use crate::advisory::{Advisory, FixStatus, PackageKind};

/// Feed name written in [`Advisory::feed`].
pub const FEED: &str = "alpine-secdb";

/// Whether a non-CVE token looks like an advisory id (`XSA-182`,
/// `GHSA-fhpf-pp6p-55qc`, `RUSTSEC-2020-0146`, `VSV00010`).
fn is_other_id(t: &str) -> bool {
    t.len() >= 4
        && t.starts_with(|c: char| c.is_ascii_alphabetic())
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && t.bytes().any(|b| b.is_ascii_digit())
        && !t.to_ascii_uppercase().starts_with("CVE")
}

fn release_of(v: &Value, source: &str) -> Option<String> {
    if let Some(d) = str_field(v, "distroversion") {
        let d = d.trim();
        let r = d.strip_prefix('v').unwrap_or(d);
        if !r.is_empty() {
            return Some(r.to_string());
        }
    }
    // `.../v3.20/main.json` or `.../edge/main.json`
    let mut parts = source.rsplit('/');
    parts.next()?;
    let dir = parts.next()?;
    if dir == "edge" {
        return Some("edge".to_string());
    }
    let r = dir.strip_prefix('v')?;
    (r.contains('.') && r.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then(|| r.to_string())
}

/// Parses one secdb JSON file. `apk_compare` orders apk versions (see the
/// module docs): it decides which version wins for an id listed twice.
pub fn parse(
    reader: impl Read,
    source: &str,
    apk_compare: fn(&str, &str) -> Ordering,
) -> Result<FeedOutput, FeedError> {
    let v = read_value(reader, source)?;
    if !v.is_object() {
        return Err(FeedError::malformed(loc(source, "$"), "expected a JSON object"));
    }
    let release = release_of(&v, source).ok_or_else(|| {
        FeedError::malformed(loc(source, "$.distroversion"), "missing, and no vX.Y directory in the path")
    })?;
    let packages = v
        .get("packages")
        .and_then(Value::as_array)
        .ok_or_else(|| FeedError::malformed(loc(source, "$.packages"), "missing or not an array"))?;
    let mut out = FeedOutput::default();
    for (i, p) in packages.iter().enumerate() {
        let path = format!("$.packages[{i}].pkg");
        let Some(pkg) = p.get("pkg") else {
            out.problems.push(FeedProblem::new(loc(source, &path), "missing"));
            continue;
        };
        let Some(name) = str_field(pkg, "name").filter(|n| !n.trim().is_empty()) else {
            out.problems.push(FeedProblem::new(loc(source, &format!("{path}.name")), "missing or not a string"));
            continue;
        };
        let secfixes = match pkg.get("secfixes") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(m)) => m,
            Some(_) => {
                out.problems.push(FeedProblem::new(loc(source, &format!("{path}.secfixes")), "not an object"));
                continue;
            }
        };
        // vuln id → (version, advisory ids); insertion order kept.
        let mut order: Vec<String> = Vec::new();
        let mut best: HashMap<String, (String, Vec<String>)> = HashMap::new();
        for (version, entries) in secfixes {
            let vpath = format!("{path}.secfixes[{version:?}]");
            if version.trim().is_empty() {
                out.problems.push(FeedProblem::new(loc(source, &vpath), "empty version key"));
                continue;
            }
            let list: &[Value] = match entries {
                Value::Array(a) => a,
                Value::Null => &[],
                _ => {
                    out.problems.push(FeedProblem::new(loc(source, &vpath), "not an array"));
                    continue;
                }
            };
            for (j, e) in list.iter().enumerate() {
                let epath = format!("{vpath}[{j}]");
                let Some(s) = e.as_str() else {
                    out.problems.push(FeedProblem::new(loc(source, &epath), "not a string"));
                    continue;
                };
                let mut cves = Vec::new();
                let mut others = Vec::new();
                let mut junk = Vec::new();
                for t in s.split_whitespace() {
                    if is_cve_id(t) {
                        cves.push(t.to_string());
                    } else if is_other_id(t) {
                        others.push(t.to_string());
                    } else {
                        junk.push(t);
                    }
                }
                if junk.iter().any(|t| t.to_ascii_uppercase().starts_with("CVE"))
                    || (cves.is_empty() && others.is_empty())
                {
                    out.problems.push(FeedProblem::new(
                        loc(source, &epath),
                        format!("{s:?}: not a well-formed id (ignored: {})", junk.join(" ")),
                    ));
                }
                let pairs: Vec<(String, Vec<String>)> = if !cves.is_empty() {
                    cves.into_iter().map(|c| (c, others.clone())).collect()
                } else if let Some((first, rest)) = others.split_first() {
                    vec![(first.clone(), rest.to_vec())]
                } else {
                    Vec::new()
                };
                for (id, adv) in pairs {
                    match best.get_mut(&id) {
                        None => {
                            order.push(id.clone());
                            best.insert(id, (version.clone(), adv));
                        }
                        Some((cur, ids)) => {
                            if apk_compare(version, cur) == Ordering::Greater {
                                *cur = version.clone();
                            }
                            for a in adv {
                                if !ids.contains(&a) {
                                    ids.push(a);
                                }
                            }
                        }
                    }
                }
            }
        }
        for id in order {
            let (version, advisory_ids) = best.remove(&id).unwrap_or_default();
            let status = if version.trim() == "0" {
                FixStatus::NotAffected
            } else {
                FixStatus::Fixed { version: version.trim().to_string() }
            };
            out.advisories.push(Advisory {
                vuln_id: id,
                advisory_ids,
                distro: "alpine".to_string(),
                release: release.clone(),
                package: name.trim().to_string(),
                package_kind: PackageKind::Source,
                status,
                distro_severity: None,
                feed: FEED.to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_ids() {
        assert!(is_other_id("XSA-182"));
        assert!(is_other_id("GHSA-fhpf-pp6p-55qc"));
        assert!(is_other_id("VSV00010"));
        assert!(!is_other_id("(BGP)"));
        assert!(!is_other_id("printing"));
        assert!(!is_other_id("CVE-46838"));
        assert!(!is_other_id("N/A"));
    }
}
