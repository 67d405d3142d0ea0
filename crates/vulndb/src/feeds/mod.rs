//! Feeds: each publisher's advisory format, read as served, into the
//! normalised [`Advisory`] / [`VulnInfo`] shape.
//!
//! Why it exists: Debian, Ubuntu, Alpine, the OSV ecosystems, CISA and FIRST
//! each publish the same kind of fact in their own shape, compressed their
//! own way. This module keeps one pure parser per format (one file each) and
//! one entry point, [`read_path`], that finds the format and the compression
//! by itself. Nothing here touches the store or the network.
//!
//! Contract shared by every parser:
//! - input is any [`std::io::Read`] / [`BufRead`]; the big ones (the OVAL
//!   XML files, EPSS CSV) are read streaming, with memory bounded by what is
//!   kept (the facts), never by a DOM of the document;
//! - a document that cannot be read at all (broken XML, broken JSON, missing
//!   header) is a [`FeedError`] that names the file and the line, element or
//!   JSON path;
//! - a document that is read but has some bad records keeps the good ones and
//!   lists the rest as [`FeedProblem`]s;
//! - no parser panics on any input (property-tested).
//!
//! Formats and what their statuses mean are documented in each module:
//! [`debian_oval`], [`ubuntu_oval`], [`alpine_secdb`], [`osv`], [`kev`],
//! [`cve5`], [`epss`], [`debian_security_support`].

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::advisory::{Advisory, VulnInfo};

pub mod alpine_secdb;
pub mod cve5;
pub mod debian_oval;
pub mod debian_security_support;
pub mod debian_tracker;
pub mod epss;
pub mod kev;
pub mod osv;
pub mod ubuntu_oval;

mod json;
mod oval;

pub use debian_security_support::SupportStatus;

/// What a feed file was read into.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeedOutput {
    /// Distro fix facts.
    pub advisories: Vec<Advisory>,
    /// Distro-independent facts (CVSS, KEV, EPSS, summaries).
    pub vulns: Vec<VulnInfo>,
    /// Security-support status of packages (only debian-security-support fills it).
    pub support: Vec<SupportStatus>,
    /// Records that were skipped or read only in part, with where and why.
    pub problems: Vec<FeedProblem>,
}

impl FeedOutput {
    /// Appends everything of `other` to `self`.
    pub fn extend(&mut self, other: FeedOutput) {
        self.advisories.extend(other.advisories);
        self.vulns.extend(other.vulns);
        self.support.extend(other.support);
        self.problems.extend(other.problems);
    }
}

/// A record that was skipped or read only in part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedProblem {
    /// Where: the file and the line, element id or JSON path.
    pub location: String,
    /// What was wrong.
    pub message: String,
}

impl FeedProblem {
    pub(crate) fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        FeedProblem { location: location.into(), message: message.into() }
    }
}

impl std::fmt::Display for FeedProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A feed that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Reading the file (or decompressing it) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The document is not well-formed or misses what the format requires.
    #[error("{location}: {message}")]
    Malformed {
        /// The file and the line, element or JSON path.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The file is not one of the known feed formats.
    #[error("{path}: not a recognised feed format")]
    UnknownFormat {
        /// The file.
        path: String,
    },
}

impl FeedError {
    pub(crate) fn malformed(location: impl Into<String>, message: impl Into<String>) -> Self {
        FeedError::Malformed { location: location.into(), message: message.into() }
    }
    pub(crate) fn io(path: impl Into<String>, source: io::Error) -> Self {
        FeedError::Io { path: path.into(), source }
    }
}

/// The feed formats Warden reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeedFormat {
    /// Debian's OVAL (`oval-definitions-<codename>.xml`).
    DebianOval,
    /// Canonical's USN OVAL (`com.ubuntu.<codename>.usn.oval.xml`).
    UbuntuOval,
    /// Alpine secdb (`v3.20/main.json`).
    AlpineSecdb,
    /// OSV records (one JSON object per file, or an array of them).
    Osv,
    /// CISA Known Exploited Vulnerabilities catalog.
    Kev,
    /// CVE JSON 5 records (CISA vulnrichment, cvelistV5).
    Cve5,
    /// FIRST.org EPSS daily CSV.
    Epss,
    /// debian-security-support `security-support-ended.debN` / `security-support-limited`.
    DebianSecuritySupport,
    /// The Debian security tracker's JSON (`tracker/data/json`).
    DebianTracker,
}

/// How many leading bytes [`detect`] wants to see (it works with fewer).
pub const DETECT_PREFIX_LEN: usize = 16 * 1024;

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && hay.windows(n.len()).any(|w| w == n)
}

/// The feed format of a (decompressed) file: by content first (XML root and
/// generator, JSON keys, CSV header), the file name only as a hint when the
/// content is not conclusive. `first_bytes` should be the first
/// [`DETECT_PREFIX_LEN`] bytes of the decompressed content.
pub fn detect(path: &Path, first_bytes: &[u8]) -> Option<FeedFormat> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut body = first_bytes;
    if body.starts_with(b"\xEF\xBB\xBF") {
        body = &body[3..];
    }
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(body.len());
    let trimmed = &body[start..];
    match trimmed.first() {
        Some(b'<') => {
            if contains(trimmed, "<oval_definitions") || contains(trimmed, ":oval_definitions") {
                if contains(trimmed, "Canonical USN OVAL") || contains(trimmed, "oval:com.ubuntu.") {
                    return Some(FeedFormat::UbuntuOval);
                }
                if contains(trimmed, "<oval:product_name>Debian") || contains(trimmed, "oval:org.debian") {
                    return Some(FeedFormat::DebianOval);
                }
                if name.starts_with("com.ubuntu.") {
                    return Some(FeedFormat::UbuntuOval);
                }
                if name.starts_with("oval-definitions-") {
                    return Some(FeedFormat::DebianOval);
                }
            }
            None
        }
        Some(b'{') | Some(b'[') => {
            if contains(trimmed, "\"$schema\"") && contains(trimmed, "\"properties\"") {
                // A JSON schema (e.g. KEV's own, which names KEV's keys), not a feed.
                return None;
            }
            if contains(trimmed, "\"catalogVersion\"") || contains(trimmed, "\"knownRansomwareCampaignUse\"") {
                return Some(FeedFormat::Kev);
            }
            if contains(trimmed, "\"releases\"") && contains(trimmed, "\"repositories\"") {
                return Some(FeedFormat::DebianTracker);
            }
            if contains(trimmed, "\"cveMetadata\"") || contains(trimmed, "\"CVE_RECORD\"") {
                return Some(FeedFormat::Cve5);
            }
            if contains(trimmed, "\"secfixes\"")
                || contains(trimmed, "\"distroversion\"")
                || contains(trimmed, "\"apkurl\"")
            {
                return Some(FeedFormat::AlpineSecdb);
            }
            if contains(trimmed, "\"$schema\"") {
                // A JSON schema (e.g. KEV's), not a feed.
                return None;
            }
            if contains(trimmed, "\"affected\"")
                || contains(trimmed, "\"schema_version\"")
                || (contains(trimmed, "\"id\"") && contains(trimmed, "\"modified\""))
            {
                return Some(FeedFormat::Osv);
            }
            if name.starts_with("known_exploited_vulnerabilities") {
                return Some(FeedFormat::Kev);
            }
            None
        }
        _ => {
            if trimmed.starts_with(b"#model_version") || trimmed.starts_with(b"cve,epss") {
                return Some(FeedFormat::Epss);
            }
            if contains(trimmed, "security support ends")
                || contains(trimmed, "security support is limited")
                || name.starts_with("security-support-ended")
                || name == "security-support-limited"
            {
                return Some(FeedFormat::DebianSecuritySupport);
            }
            if name.starts_with("epss_scores") && name.contains(".csv") {
                return Some(FeedFormat::Epss);
            }
            None
        }
    }
}

/// Compression, by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    None,
    Bzip2,
    Gzip,
    Zip,
}

fn sniff_compression(magic: &[u8]) -> Compression {
    if magic.starts_with(b"BZh") {
        Compression::Bzip2
    } else if magic.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06") {
        Compression::Zip
    } else {
        Compression::None
    }
}

fn file_compression(path: &Path) -> Result<Compression, FeedError> {
    let shown = path.display().to_string();
    let mut f = File::open(path).map_err(|e| FeedError::io(&shown, e))?;
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match f.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FeedError::io(&shown, e)),
        }
    }
    Ok(sniff_compression(&magic[..got]))
}

/// Opens a file and undoes its compression, found by magic bytes (not by
/// extension): bzip2 (multi-stream), gzip (multi-member), zip, or none.
///
/// A zip archive must hold exactly one file here; that member is read into
/// memory. For zips with many members (an OSV `all.zip`), use [`read_path`],
/// which iterates them.
pub fn open_decompressed(path: &Path) -> Result<Box<dyn Read>, FeedError> {
    let shown = path.display().to_string();
    let compression = file_compression(path)?;
    let file = File::open(path).map_err(|e| FeedError::io(&shown, e))?;
    match compression {
        Compression::None => Ok(Box::new(file)),
        Compression::Bzip2 => Ok(Box::new(bzip2::read::MultiBzDecoder::new(BufReader::new(file)))),
        Compression::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))),
        Compression::Zip => {
            let mut archive =
                zip::ZipArchive::new(BufReader::new(file)).map_err(|e| FeedError::malformed(&shown, e.to_string()))?;
            let files: Vec<usize> =
                (0..archive.len()).filter(|&i| archive.by_index(i).map(|f| f.is_file()).unwrap_or(false)).collect();
            if files.len() != 1 {
                return Err(FeedError::malformed(
                    &shown,
                    format!("zip archive holds {} files; read it with read_path, which iterates them", files.len()),
                ));
            }
            let mut member = archive.by_index(files[0]).map_err(|e| FeedError::malformed(&shown, e.to_string()))?;
            let mut data = Vec::new();
            member.read_to_end(&mut data).map_err(|e| FeedError::io(&shown, e))?;
            Ok(Box::new(Cursor::new(data)))
        }
    }
}

/// Options for [`read_path_with`].
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// apk version ordering, used by [`alpine_secdb`] to keep the highest
    /// fixed version of an id listed under several. Defaults to
    /// `crate::version::apk::compare`.
    pub apk_compare: fn(&str, &str) -> Ordering,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { apk_compare: crate::version::apk::compare }
    }
}

/// Detects the format, undoes the compression and parses a file; for a
/// directory, every file under it (recursively, in name order), and for a
/// zip archive every member. In a directory or an archive, files of no
/// known format (READMEs, licences, JSON schemas) are skipped, and a file
/// that fails to parse becomes a [`FeedProblem`] while the others are kept.
pub fn read_path(path: &Path) -> Result<FeedOutput, FeedError> {
    read_path_with(path, &ReadOptions::default())
}

/// [`read_path`] with explicit options.
pub fn read_path_with(path: &Path, options: &ReadOptions) -> Result<FeedOutput, FeedError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| FeedError::io(&shown, e))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|e| FeedError::io(&shown, e))?;
        let mut out = FeedOutput::default();
        for file in files {
            match read_one_file(&file, options) {
                Ok(o) => out.extend(o),
                Err(FeedError::UnknownFormat { .. }) => {}
                Err(e) => out.problems.push(FeedProblem::new(file.display().to_string(), e.to_string())),
            }
        }
        return Ok(out);
    }
    read_one_file(path, options)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let p = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&p, out)?;
        } else if ft.is_file() || (ft.is_symlink() && p.is_file()) {
            out.push(p);
        }
    }
    Ok(())
}

/// Strips compression extensions for the name hint.
fn inner_name(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for ext in [".bz2", ".gz", ".zip"] {
        if let Some(stripped) = s.strip_suffix(ext) {
            return PathBuf::from(stripped);
        }
    }
    path.to_path_buf()
}

fn read_one_file(path: &Path, options: &ReadOptions) -> Result<FeedOutput, FeedError> {
    let shown = path.display().to_string();
    if file_compression(path)? == Compression::Zip {
        return read_zip(path, options);
    }
    let reader = open_decompressed(path)?;
    parse_detected(reader, &inner_name(path), &shown, options)
}

fn read_zip(path: &Path, options: &ReadOptions) -> Result<FeedOutput, FeedError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| FeedError::io(&shown, e))?;
    let mut archive =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|e| FeedError::malformed(&shown, e.to_string()))?;
    let mut out = FeedOutput::default();
    for i in 0..archive.len() {
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                out.problems.push(FeedProblem::new(format!("{shown}[#{i}]"), e.to_string()));
                continue;
            }
        };
        if !member.is_file() {
            continue;
        }
        let name = member.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("#{i}"));
        let location = format!("{shown}[{name}]");
        let mut data = Vec::new();
        if let Err(e) = member.read_to_end(&mut data) {
            out.problems.push(FeedProblem::new(location, e.to_string()));
            continue;
        }
        match parse_detected(Box::new(Cursor::new(data)), &inner_name(Path::new(&name)), &location, options) {
            Ok(o) => out.extend(o),
            Err(FeedError::UnknownFormat { .. }) => {}
            Err(e) => out.problems.push(FeedProblem::new(location, e.to_string())),
        }
    }
    Ok(out)
}

fn parse_detected(
    mut reader: Box<dyn Read>,
    hint: &Path,
    shown: &str,
    options: &ReadOptions,
) -> Result<FeedOutput, FeedError> {
    let mut prefix = Vec::with_capacity(DETECT_PREFIX_LEN);
    (&mut reader).take(DETECT_PREFIX_LEN as u64).read_to_end(&mut prefix).map_err(|e| FeedError::io(shown, e))?;
    let format = detect(hint, &prefix).ok_or_else(|| FeedError::UnknownFormat { path: shown.to_string() })?;
    let full = BufReader::with_capacity(64 * 1024, Cursor::new(prefix).chain(reader));
    parse_as(format, full, shown, options)
}

/// Parses `reader` as `format`; `source` names the file in locations and
/// gives the release hints (Debian/Ubuntu OVAL codename in the file name).
pub fn parse_as(
    format: FeedFormat,
    reader: impl BufRead,
    source: &str,
    options: &ReadOptions,
) -> Result<FeedOutput, FeedError> {
    match format {
        FeedFormat::DebianOval => debian_oval::parse(reader, source),
        FeedFormat::UbuntuOval => ubuntu_oval::parse(reader, source),
        FeedFormat::AlpineSecdb => alpine_secdb::parse(reader, source, options.apk_compare),
        FeedFormat::Osv => osv::parse(reader, source),
        FeedFormat::Kev => kev::parse(reader, source),
        FeedFormat::Cve5 => cve5::parse(reader, source),
        FeedFormat::Epss => epss::parse(reader, source),
        FeedFormat::DebianSecuritySupport => debian_security_support::parse(reader, source),
        FeedFormat::DebianTracker => debian_tracker::parse(reader, source),
    }
}

/// `true` for `CVE-YYYY-NNNN...` (four-digit year, at least four digits).
pub(crate) fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let mut parts = rest.splitn(2, '-');
    let (Some(year), Some(num)) = (parts.next(), parts.next()) else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2023-4911"));
        assert!(is_cve_id("CVE-2017-1000100"));
        assert!(!is_cve_id("CVE-46838"));
        assert!(!is_cve_id("CVE-????-?????"));
        assert!(!is_cve_id("CVE-2017-17434-1"));
        assert!(!is_cve_id("CVE_2019-2426"));
    }

    #[test]
    fn detect_by_content_and_name() {
        let p = Path::new("x");
        assert_eq!(
            detect(p, b"#model_version:v2023.03.01,score_date:2023-03-08\ncve,epss,percentile\n"),
            Some(FeedFormat::Epss)
        );
        assert_eq!(detect(p, b"{\"title\": \"x\", \"catalogVersion\": \"1\""), Some(FeedFormat::Kev));
        let schema = br#"{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"catalogVersion": {}}}"#;
        assert_eq!(detect(p, schema), None, "KEV's JSON schema is not a KEV feed");
        assert_eq!(detect(p, b"{\"dataType\": \"CVE_RECORD\", \"cveMetadata\": {}}"), Some(FeedFormat::Cve5));
        assert_eq!(detect(p, b"{\n\t\"apkurl\": \"x\""), Some(FeedFormat::AlpineSecdb));
        assert_eq!(
            detect(p, br#"{"0ad": {"CVE-2020-0001": {"releases": {"bookworm": {"repositories": {}}}}}}"#),
            Some(FeedFormat::DebianTracker)
        );
        assert_eq!(detect(p, b"{\"schema_version\": \"1.6.3\", \"id\": \"X\""), Some(FeedFormat::Osv));
        assert_eq!(detect(p, b"{\"$schema\": \"http://json-schema.org/draft-07/schema#\""), None);
        assert_eq!(
            detect(
                p,
                b"<?xml version='1.0'?>\n<oval_definitions><generator><oval:product_name>Debian</oval:product_name>"
            ),
            Some(FeedFormat::DebianOval)
        );
        assert_eq!(detect(p, b"<?xml version='1.0'?>\n<oval_definitions><generator><oval:product_name>Canonical USN OVAL Generator</oval:product_name>"), Some(FeedFormat::UbuntuOval));
        assert_eq!(
            detect(Path::new("com.ubuntu.jammy.usn.oval.xml"), b"<oval_definitions>"),
            Some(FeedFormat::UbuntuOval)
        );
        assert_eq!(
            detect(Path::new("security-support-limited"), b"adns  details\n"),
            Some(FeedFormat::DebianSecuritySupport)
        );
        assert_eq!(detect(p, b"hello"), None);
        assert_eq!(detect(p, b""), None);
    }

    #[test]
    fn compression_magic() {
        assert_eq!(sniff_compression(b"BZh9"), Compression::Bzip2);
        assert_eq!(sniff_compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(sniff_compression(b"PK\x03\x04"), Compression::Zip);
        assert_eq!(sniff_compression(b"<?xm"), Compression::None);
    }
}

#[cfg(test)]
mod real_data_tests;

#[cfg(test)]
mod fixture_tests;
