//! Debian OVAL (`oval-definitions-<codename>.xml[.bz2]`), read streaming.
//!
//! Why it exists: it is the file the Debian Security Tracker publishes per
//! release, and the one offline source of Debian fix facts Warden has.
//!
//! What the publisher's format means:
//! - one `<definition class="vulnerability">` per (CVE, **source** package);
//!   the title reads `CVE-YYYY-NNNN <srcpkg>` and `<product>` holds the
//!   source package name (the dpkginfo object names it too);
//! - the criteria AND a release test (`/etc/debian_version` major, e.g. 12),
//!   an architecture test, and a `dpkginfo_test` whose state is
//!   `evr "less than" VERSION` (`debian_evr_string`);
//! - `less than 0:VERSION` → [`FixStatus::Fixed`]: fixed in `VERSION`
//!   (installed versions ordered before it are affected);
//! - `less than 0:0` (titled "DPKG is earlier than 0") → [`FixStatus::Unfixed`]:
//!   the package IS affected and no fix has been released yet. It does NOT
//!   mean "never affected": no installed version is ordered before 0, so an
//!   OVAL interpreter reports nothing, which is exactly how unfixed CVEs get
//!   lost by tools that evaluate the OVAL literally;
//! - packages the tracker marks "not-affected" are absent from the file (no
//!   definition), so this feed never yields [`FixStatus::NotAffected`]; nor
//!   does it say "will not fix" (`<no-dsa>`/`ignored` are not in the OVAL:
//!   such CVEs appear as `earlier than 0`, i.e. Unfixed);
//! - `class="patch"` definitions (titled `DSA-NNNN-N <srcpkg>`) list the CVEs
//!   a DSA fixed: their DSA id is added to the `advisory_ids` of the
//!   matching (CVE, package) advisories, and a (CVE, package) named only
//!   by a DSA becomes an advisory of its own, with the DSA's version. Where
//!   both exist, the vulnerability definition's version is kept (they can
//!   differ: bookworm's DSA-5435-1 says `9.2.0+ds-1~deb12u1`, the CVE
//!   definitions `9.2.0+ds-2+deb12u1`). Vulnerability definitions may
//!   also carry `<debian><dsa>DSA-NNNN</dsa>`, kept as an advisory id;
//! - there is no severity in Debian's OVAL (checked on the bookworm file:
//!   no `<severity>` element; the tracker's urgency is not exported), so
//!   `distro_severity` is `None` unless a `<severity>` element appears;
//! - the release comes from the file's own release test (the
//!   `textfilecontent54` state on `/etc/debian_version`, `12`), else
//!   `<platform>Debian GNU/Linux 12</platform>`, else the codename in the
//!   file name (`bookworm` → `12`); a file name that disagrees with the
//!   content is reported as a problem and the content wins;
//! - versions are written without a `0:` epoch (`0:2.2-1` → `2.2-1`, equal
//!   in dpkg ordering, as the tracker writes them);
//! - the `<description>` (the CVE text) becomes [`VulnInfo::summary`].
//!
//! The bookworm file snapshot in the shared data stops at 2023-07-14: good
//! for tests, not a current truth source.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use super::oval::{self, OvalDoc, Resolved};
use super::{FeedError, FeedOutput, FeedProblem, is_cve_id};
use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};

/// Feed name written in [`Advisory::feed`].
pub const FEED: &str = "debian-oval";

/// Debian codename → major release.
pub fn codename_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        _ => return None,
    })
}

fn release_from_file_name(source: &str) -> Option<&'static str> {
    let name = source.rsplit('/').next().unwrap_or(source);
    let rest = name.strip_prefix("oval-definitions-")?;
    let codename = rest.split('.').next()?;
    codename_release(codename)
}

fn release_from_content(doc: &OvalDoc) -> Option<String> {
    for test in doc.tests.values() {
        if test.kind != "textfilecontent54_test" {
            continue;
        }
        let Some(obj) = test.object_ref.as_ref().and_then(|o| doc.objects.get(o)) else { continue };
        if obj.filename.as_deref() != Some("debian_version") {
            continue;
        }
        for s in &test.state_refs {
            if let Some(sub) = doc.states.get(s).and_then(|st| st.subexpression.as_deref())
                && !sub.is_empty()
                && sub.bytes().all(|b| b.is_ascii_digit())
            {
                return Some(sub.to_string());
            }
        }
    }
    for d in &doc.definitions {
        for p in &d.platforms {
            if let Some(r) = p.strip_prefix("Debian GNU/Linux ")
                && !r.is_empty()
                && r.bytes().all(|b| b.is_ascii_digit())
            {
                return Some(r.to_string());
            }
        }
    }
    None
}

/// Parses a Debian OVAL document. `source` names the file in locations and
/// gives the codename hint.
pub fn parse(reader: impl BufRead, source: &str) -> Result<FeedOutput, FeedError> {
    let doc = oval::read(reader, source, true)?;
    let mut out = FeedOutput::default();
    for (line, msg) in &doc.problems {
        out.problems.push(FeedProblem::new(format!("{source}:{line}"), msg.clone()));
    }
    let from_name = release_from_file_name(source);
    let release = match (release_from_content(&doc), from_name) {
        (Some(c), Some(n)) => {
            if c != n {
                out.problems.push(FeedProblem::new(
                    source,
                    format!("file name says Debian {n} but the content tests for Debian {c}; using {c}"),
                ));
            }
            c
        }
        (Some(c), None) => c,
        (None, Some(n)) => n.to_string(),
        (None, None) => {
            if doc.definitions.is_empty() {
                return Ok(out);
            }
            return Err(FeedError::malformed(
                source,
                "cannot tell the Debian release: no /etc/debian_version test, no platform, no codename in the file name",
            ));
        }
    };

    let mut seen_vulns = HashSet::new();
    // (vuln_id, package) → advisory indices, for merging DSA patch definitions.
    let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
    let mut patches = Vec::new();

    for def in &doc.definitions {
        let loc = format!("{source}:{} (definition {})", def.line, def.id);
        match def.class.as_str() {
            "vulnerability" => {}
            "patch" => {
                patches.push(def);
                continue;
            }
            _ => continue,
        }
        let title_id = def.title.split_whitespace().next().unwrap_or("");
        let vuln_id = if is_cve_id(title_id) {
            title_id.to_string()
        } else if let Some((_, r)) = def.references.iter().find(|(s, r)| s == "CVE" && is_cve_id(r)) {
            r.clone()
        } else if !title_id.is_empty() {
            // Debian also tracks TEMP- ids for issues without a CVE.
            title_id.to_string()
        } else {
            out.problems.push(FeedProblem::new(loc, "no vulnerability id in the title or references; skipped"));
            continue;
        };
        let facts = match package_facts(&doc, def, &loc, &mut out.problems) {
            Some(f) => f,
            None => continue,
        };
        let severity = def.severity.as_ref().map(|s| s.to_lowercase());
        for (package, status) in facts {
            let adv = Advisory {
                vuln_id: vuln_id.clone(),
                advisory_ids: def.dsa.iter().filter(|d| !d.is_empty()).cloned().collect(),
                distro: "debian".to_string(),
                release: release.clone(),
                package: package.clone(),
                package_kind: PackageKind::Source,
                status,
                distro_severity: severity.clone(),
                feed: FEED.to_string(),
            };
            index.entry((vuln_id.clone(), package)).or_default().push(out.advisories.len());
            out.advisories.push(adv);
        }
        if let Some(desc) = def.description.as_deref()
            && !desc.is_empty()
            && desc != "security update"
            && seen_vulns.insert(vuln_id.clone())
        {
            out.vulns.push(VulnInfo { id: vuln_id.clone(), summary: Some(desc.to_string()), ..Default::default() });
        }
    }

    for def in patches {
        let loc = format!("{source}:{} (definition {})", def.line, def.id);
        let title_id = def.title.split_whitespace().next().unwrap_or("");
        let advisory_id = if title_id.starts_with("DSA-") || title_id.starts_with("DLA-") {
            title_id.to_string()
        } else if let Some(d) = def.dsa.first() {
            d.clone()
        } else {
            out.problems.push(FeedProblem::new(loc, "patch definition without a DSA/DLA id; skipped"));
            continue;
        };
        let Some(facts) = package_facts(&doc, def, &loc, &mut out.problems) else { continue };
        for (_, cve) in def.references.iter().filter(|(s, r)| s == "CVE" && !r.is_empty()) {
            for (package, status) in &facts {
                match index.get(&(cve.clone(), package.clone())) {
                    Some(idxs) => {
                        for &i in idxs {
                            add_advisory_id(&mut out.advisories[i].advisory_ids, &advisory_id);
                        }
                    }
                    None => {
                        index.entry((cve.clone(), package.clone())).or_default().push(out.advisories.len());
                        out.advisories.push(Advisory {
                            vuln_id: cve.clone(),
                            advisory_ids: vec![advisory_id.clone()],
                            distro: "debian".to_string(),
                            release: release.clone(),
                            package: package.clone(),
                            package_kind: PackageKind::Source,
                            status: status.clone(),
                            distro_severity: def.severity.as_ref().map(|s| s.to_lowercase()),
                            feed: FEED.to_string(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Adds `DSA-5418-1`, replacing a bare `DSA-5418` (same advisory), and
/// skips a bare id when a revisioned one is there.
fn add_advisory_id(ids: &mut Vec<String>, id: &str) {
    if ids.iter().any(|x| x == id || x.starts_with(&format!("{id}-"))) {
        return;
    }
    ids.retain(|x| !id.starts_with(&format!("{x}-")));
    ids.push(id.to_string());
}

/// The (source package, status) pairs a definition's dpkginfo criteria give.
fn package_facts(
    doc: &OvalDoc,
    def: &oval::Definition,
    loc: &str,
    problems: &mut Vec<FeedProblem>,
) -> Option<Vec<(String, FixStatus)>> {
    let mut facts: Vec<(String, FixStatus)> = Vec::new();
    for t in &def.test_refs {
        match doc.resolve(t) {
            Ok(Resolved::Dpkg(c)) => c.add_facts(loc, &mut facts, problems),
            Ok(Resolved::Other(_)) => {}
            Err(e) => problems.push(FeedProblem::new(loc, e)),
        }
    }
    if facts.is_empty() {
        problems.push(FeedProblem::new(loc, "no dpkginfo criterion naming a package and version; skipped"));
        return None;
    }
    for p in &def.products {
        if !facts.iter().any(|(name, _)| name == p) {
            problems.push(FeedProblem::new(
                loc,
                format!("<product> {p} differs from the tested package(s); the tested names are used"),
            ));
        }
    }
    let mut by_pkg: HashMap<&str, usize> = HashMap::new();
    for (p, _) in &facts {
        *by_pkg.entry(p).or_default() += 1;
    }
    if by_pkg.values().any(|&n| n > 1) {
        problems.push(FeedProblem::new(loc, "several fix versions for one package in one definition; all kept"));
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codenames() {
        assert_eq!(release_from_file_name("/x/oval-definitions-bookworm.xml.bz2"), Some("12"));
        assert_eq!(release_from_file_name("oval-definitions-trixie.xml"), Some("13"));
        assert_eq!(release_from_file_name("oval-definitions-forky.xml"), Some("14"));
        assert_eq!(release_from_file_name("debian.xml"), None);
    }

    #[test]
    fn advisory_id_merge() {
        let mut ids = vec!["DSA-5435".to_string()];
        add_advisory_id(&mut ids, "DSA-5435-1");
        assert_eq!(ids, vec!["DSA-5435-1"]);
        add_advisory_id(&mut ids, "DSA-5435");
        assert_eq!(ids, vec!["DSA-5435-1"]);
    }
}
