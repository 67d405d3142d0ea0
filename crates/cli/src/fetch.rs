//! Downloading advisory feeds for `warden db update`: the default source
//! table, a cache beside the database, conditional and resumable requests,
//! and verification before anything replaces a cached file.
//!
//! Why it exists: `warden db import` reads files the user already has;
//! `warden db update` fetches them from the publishers. The rules (see
//! `docs/vulndb.md`):
//! - one cached file per URL under `<db dir>/cache/`, and a small JSON file
//!   there (`warden-cache.json`) with each URL's `ETag`, `Last-Modified`,
//!   SHA-256 and which content the database last imported;
//! - conditional requests (`If-None-Match` / `If-Modified-Since`): a `304`
//!   reuses the cached file;
//! - resumable: the body goes to `<file>.part`; a later run sends
//!   `Range: bytes=N-` (with `If-Range` when a validator is known) and
//!   appends on `206`, restarts on `200`;
//! - verified: the byte count against `Content-Length` (or `Content-Range`),
//!   a pinned SHA-256 (`URL#sha256=HEX`) when given, and always a full parse
//!   as a feed before the file replaces the cached copy (by rename). A file
//!   that fails is deleted and the cached copy kept.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use ureq::http::{StatusCode, header};
use warden_vulndb::feeds::{self, FeedOutput};

/// One default source: a URL from its publisher and what it is.
pub struct DefaultSource {
    /// Where the publisher serves it.
    pub url: &'static str,
    /// What it holds.
    pub what: &'static str,
}

/// The sources `warden db update` fetches when no `--from` is given. The
/// same table is in `docs/vulndb.md`; keep both in step.
pub const DEFAULT_SOURCES: &[DefaultSource] = &[
    DefaultSource {
        url: "https://security-tracker.debian.org/tracker/data/json",
        what: "Debian security tracker (all releases)",
    },
    DefaultSource {
        url: "https://www.debian.org/security/oval/oval-definitions-bullseye.xml.bz2",
        what: "Debian 11 OVAL",
    },
    DefaultSource {
        url: "https://www.debian.org/security/oval/oval-definitions-bookworm.xml.bz2",
        what: "Debian 12 OVAL",
    },
    DefaultSource {
        url: "https://www.debian.org/security/oval/oval-definitions-trixie.xml.bz2",
        what: "Debian 13 OVAL",
    },
    DefaultSource {
        url: "https://salsa.debian.org/debian/debian-security-support/-/raw/master/security-support-ended.deb11",
        what: "Debian 11 security support ended",
    },
    DefaultSource {
        url: "https://salsa.debian.org/debian/debian-security-support/-/raw/master/security-support-ended.deb12",
        what: "Debian 12 security support ended",
    },
    DefaultSource {
        url: "https://salsa.debian.org/debian/debian-security-support/-/raw/master/security-support-ended.deb13",
        what: "Debian 13 security support ended",
    },
    DefaultSource {
        url: "https://salsa.debian.org/debian/debian-security-support/-/raw/master/security-support-limited",
        what: "Debian security support limited",
    },
    DefaultSource {
        url: "https://security-metadata.canonical.com/oval/com.ubuntu.jammy.usn.oval.xml.bz2",
        what: "Ubuntu 22.04 LTS USN OVAL",
    },
    DefaultSource {
        url: "https://security-metadata.canonical.com/oval/com.ubuntu.noble.usn.oval.xml.bz2",
        what: "Ubuntu 24.04 LTS USN OVAL",
    },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.21/main.json", what: "Alpine 3.21 secdb (main)" },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.21/community.json", what: "Alpine 3.21 secdb (community)" },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.22/main.json", what: "Alpine 3.22 secdb (main)" },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.22/community.json", what: "Alpine 3.22 secdb (community)" },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.23/main.json", what: "Alpine 3.23 secdb (main)" },
    DefaultSource { url: "https://secdb.alpinelinux.org/v3.23/community.json", what: "Alpine 3.23 secdb (community)" },
    DefaultSource { url: "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip", what: "OSV Debian" },
    DefaultSource { url: "https://osv-vulnerabilities.storage.googleapis.com/Ubuntu/all.zip", what: "OSV Ubuntu" },
    DefaultSource { url: "https://osv-vulnerabilities.storage.googleapis.com/Alpine/all.zip", what: "OSV Alpine" },
    DefaultSource {
        url: "https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip",
        what: "OSV Rocky Linux",
    },
    DefaultSource {
        url: "https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip",
        what: "OSV AlmaLinux",
    },
    DefaultSource { url: "https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip", what: "OSV Red Hat" },
    DefaultSource {
        url: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
        what: "CISA Known Exploited Vulnerabilities",
    },
];

/// Seconds to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Seconds to wait for each read.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed at most.
const MAX_REDIRECTS: u32 = 5;
/// The metadata file in the cache directory.
pub const METADATA_FILE: &str = "warden-cache.json";

/// A `--from` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A local feed file or directory.
    Path(PathBuf),
    /// An `http://` or `https://` URL (without its fragment), with a pinned
    /// SHA-256 from `#sha256=HEX`.
    Url { url: String, sha256: Option<String> },
}

impl Source {
    /// Reads a `--from` value: a URL when it starts with `http://` or
    /// `https://`, a path otherwise.
    pub fn parse(s: &str) -> Result<Source, String> {
        let lower = s.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Ok(Source::Path(PathBuf::from(s)));
        }
        let (url, fragment) = match s.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (s, None),
        };
        let sha256 = match fragment {
            None => None,
            Some(f) => {
                let hex = f
                    .strip_prefix("sha256=")
                    .ok_or_else(|| format!("{s}: the only URL fragment understood is `#sha256=HEX` (64 hex digits)"))?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("{s}: `#sha256=` needs 64 hex digits"));
                }
                Some(hex.to_ascii_lowercase())
            }
        };
        Ok(Source::Url { url: url.to_string(), sha256 })
    }
}

/// What the cache knows about one URL.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Entry {
    /// The cached file, relative to the cache directory.
    pub file: String,
    /// `ETag` of the cached file's response.
    pub etag: Option<String>,
    /// `Last-Modified` of the cached file's response.
    pub last_modified: Option<String>,
    /// SHA-256 (hex) of the cached file.
    pub sha256: Option<String>,
    /// Size of the cached file.
    pub size: u64,
    /// `ETag` of the response the `.part` file came from.
    pub part_etag: Option<String>,
    /// `Last-Modified` of the response the `.part` file came from.
    pub part_last_modified: Option<String>,
    /// SHA-256 of the content last imported, per database file name.
    pub imported: BTreeMap<String, String>,
}

/// The metadata file: one [`Entry`] per URL.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Metadata {
    /// Format version of this file.
    pub version: u32,
    /// By URL.
    pub entries: BTreeMap<String, Entry>,
}

/// The cache directory beside a database, and its metadata.
pub struct Cache {
    /// `<db dir>/cache`.
    pub dir: PathBuf,
    /// What is known per URL.
    pub meta: Metadata,
}

impl Cache {
    /// Opens (creating) the cache beside `db`. A metadata file that cannot be
    /// read is set aside with a warning: it costs full downloads, not an error.
    pub fn open(db: &Path) -> Result<Cache, String> {
        let parent = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir = parent.join("cache");
        let path = dir.join(METADATA_FILE);
        let meta = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Metadata>(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!(
                        "warden: warning: {}: unreadable ({e}); starting with an empty cache index",
                        path.display()
                    );
                    Metadata::default()
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Metadata::default(),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        Ok(Cache { dir, meta })
    }

    /// Writes the metadata file atomically (temporary file, rename).
    pub fn save(&mut self) -> Result<(), String> {
        self.meta.version = 1;
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("{}: cannot create cache directory: {e}", self.dir.display()))?;
        let path = self.dir.join(METADATA_FILE);
        let tmp = self.dir.join(format!("{METADATA_FILE}.tmp-{}", std::process::id()));
        let json = serde_json::to_vec_pretty(&self.meta).map_err(|e| e.to_string())?;
        fs::write(&tmp, json).and_then(|_| fs::rename(&tmp, &path)).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("{}: cannot write: {e}", path.display())
        })
    }
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (hex) of a file.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn sanitize(s: &str) -> String {
    let out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    if out.starts_with('.') || out.is_empty() { format!("_{out}") } else { out }
}

/// The cached file of a URL, relative to the cache directory:
/// `<host and directories, sanitized>-<8 hex of the URL's SHA-256>/<file name>`.
/// The file name is kept (sanitized) because the parsers take release hints
/// from it (`oval-definitions-bookworm`, `security-support-ended.deb12`).
pub fn cache_file_name(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut base = if path.ends_with('/') || segments.len() < 2 {
        "index".to_string()
    } else {
        sanitize(segments.pop().unwrap_or("index"))
    };
    if let Some(q) = query {
        base = format!("{base}_{}", sanitize(q));
    }
    let dir = sanitize(&segments.join("_"));
    let digest = hex(&Sha256::digest(url.as_bytes())[..4]);
    format!("{dir}-{digest}/{base}")
}

/// How one URL was brought up to date.
pub enum Fetched {
    /// A new file was downloaded, verified and put in the cache; its parse.
    Downloaded { path: PathBuf, sha256: String, output: FeedOutput },
    /// The server said `304 Not Modified` (or the pinned hash matched the
    /// cached file): the cached file is current.
    NotModified { path: PathBuf, sha256: String },
}

/// A reusable HTTP agent with Warden's settings.
pub struct Client {
    agent: ureq::Agent,
    progress: bool,
}

impl Client {
    /// An agent: rustls with the aws-lc-rs provider and the Mozilla roots
    /// (webpki-roots), connect timeout 10 s, 60 s per read, at most 5
    /// redirects, `User-Agent: warden/<version>`, no content encoding.
    pub fn new() -> Client {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(MAX_REDIRECTS)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Client { agent, progress: io::stderr().is_terminal() }
    }
}

fn header_str(resp: &ureq::http::Response<ureq::Body>, name: header::HeaderName) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.to_string())
}

/// `bytes START-END/TOTAL` → (START, TOTAL when given).
fn content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

/// Whether an error means the host cannot be reached at all (so the other
/// URLs of that host need not be tried).
/// Any I/O error before a response (name lookup, connect, reset) counts.
fn unreachable(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) | ureq::Error::Io(_)
    )
}

/// An error for one URL; `unreachable` marks a host that could not be reached.
pub struct FetchError {
    /// What went wrong.
    pub message: String,
    /// The host could not be reached (DNS, connect, timeout).
    pub unreachable: bool,
}

impl From<String> for FetchError {
    fn from(message: String) -> Self {
        FetchError { message, unreachable: false }
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1_048_576 { format!("{:.1} MB", bytes as f64 / 1_048_576.0) } else { format!("{bytes} bytes") }
}

/// Brings the cached copy of `url` up to date: a conditional request when a
/// cached file exists, a range request when a `.part` does, then
/// verification (length, pinned hash, parse) before the rename.
pub fn fetch(client: &Client, cache: &mut Cache, url: &str, pinned: Option<&str>) -> Result<Fetched, FetchError> {
    let rel = cache_file_name(url);
    let path = cache.dir.join(&rel);
    let part = cache.dir.join(format!("{rel}.part"));
    let mut entry = cache.meta.entries.get(url).cloned().unwrap_or_default();
    entry.file = rel.clone();
    // The cached file counts only when it is the one the metadata describes
    // (and matches the pin, when there is one).
    let cached_ok = path.is_file()
        && entry.sha256.is_some()
        && fs::metadata(&path).map(|m| m.len() == entry.size).unwrap_or(false)
        && pinned.is_none_or(|p| entry.sha256.as_deref() == Some(p));
    if let (Some(p), true) = (pinned, cached_ok)
        && sha256_file(&path).is_ok_and(|h| h == p)
    {
        eprintln!("warden: {url}: the cached copy matches the pinned SHA-256, not downloaded");
        return Ok(Fetched::NotModified { path, sha256: p.to_string() });
    }
    // At most two requests: a range request that the server refuses (416, or
    // a range that does not start where the .part ends) is retried once from zero.
    for attempt in 0..2 {
        let part_len = if attempt == 0 { fs::metadata(&part).map(|m| m.len()).unwrap_or(0) } else { 0 };
        let mut req = client.agent.get(url).header(header::ACCEPT_ENCODING, "identity");
        if part_len > 0 {
            req = req.header(header::RANGE, format!("bytes={part_len}-"));
            if let Some(v) = entry.part_etag.as_deref().or(entry.part_last_modified.as_deref()) {
                req = req.header(header::IF_RANGE, v);
            }
        } else if cached_ok {
            if let Some(etag) = &entry.etag {
                req = req.header(header::IF_NONE_MATCH, etag.as_str());
            }
            if let Some(lm) = &entry.last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, lm.as_str());
            }
        }
        let resp = req.call().map_err(|e| FetchError { unreachable: unreachable(&e), message: e.to_string() })?;
        let status = resp.status();
        let length: Option<u64> = header_str(&resp, header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let etag = header_str(&resp, header::ETAG);
        let last_modified = header_str(&resp, header::LAST_MODIFIED);
        let (append, expected_total) = match status {
            StatusCode::NOT_MODIFIED if cached_ok && part_len == 0 => {
                eprintln!("warden: {url}: not modified (HTTP 304), using the cached copy");
                let sha256 = entry.sha256.clone().unwrap_or_default();
                return Ok(Fetched::NotModified { path, sha256 });
            }
            StatusCode::PARTIAL_CONTENT if part_len > 0 => {
                match header_str(&resp, header::CONTENT_RANGE).as_deref().and_then(content_range) {
                    Some((start, total)) if start == part_len => {
                        eprintln!("warden: {url}: resuming at byte {part_len}");
                        (true, total.or(length.map(|l| l + part_len)))
                    }
                    _ => {
                        eprintln!(
                            "warden: {url}: the server's range does not continue the partial download; restarting"
                        );
                        let _ = fs::remove_file(&part);
                        continue;
                    }
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE if part_len > 0 => {
                let _ = fs::remove_file(&part);
                continue;
            }
            StatusCode::OK => (false, length),
            s => {
                return Err(format!("HTTP {} {}", s.as_u16(), s.canonical_reason().unwrap_or("")).into());
            }
        };
        if !append {
            // A fresh body: remember its validators now, so an interrupted
            // download can be resumed (If-Range) by the next run.
            entry.part_etag = etag.clone();
            entry.part_last_modified = last_modified.clone();
            cache.meta.entries.insert(url.to_string(), entry.clone());
            cache.save()?;
        }
        if let Some(dir) = part.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        }
        let mut out = if append { OpenOptions::new().append(true).open(&part) } else { File::create(&part) }
            .map_err(|e| format!("{}: cannot write: {e}", part.display()))?;
        let start_len = if append { part_len } else { 0 };
        let (received, seconds) =
            copy_body(client, url, resp.into_body().into_reader(), &mut out, start_len, expected_total).map_err(
                |e| {
                    format!(
                        "download interrupted: {e}; the partial file {} is kept and the next run resumes it",
                        part.display()
                    )
                },
            )?;
        out.sync_all().map_err(|e| format!("{}: cannot write: {e}", part.display()))?;
        drop(out);
        let total = start_len + received;
        if let Some(expected) = expected_total
            && total != expected
        {
            return Err(format!(
                "download incomplete: {total} of {expected} bytes; the partial file {} is kept and the next run resumes it",
                part.display()
            )
            .into());
        }
        // Complete: from here on a failure discards the download (resuming a
        // complete but wrong file would not help).
        let sha256 = sha256_file(&part).map_err(|e| format!("{}: cannot read: {e}", part.display()))?;
        let verified = match pinned {
            Some(p) if p != sha256 => {
                let _ = fs::remove_file(&part);
                Err(format!("SHA-256 mismatch: expected {p}, got {sha256}; refused (cached copy unchanged)"))
            }
            _ => verify_parse(&part, &path)
                .map_err(|e| format!("downloaded file is not a readable feed, refused (cached copy unchanged): {e}")),
        };
        let output = match verified {
            Ok(output) => output,
            Err(e) => {
                // The download is gone: so are its validators.
                entry.part_etag = None;
                entry.part_last_modified = None;
                cache.meta.entries.insert(url.to_string(), entry);
                cache.save()?;
                return Err(e.into());
            }
        };
        fs::rename(&part, &path).map_err(|e| format!("{}: cannot replace: {e}", path.display()))?;
        entry.etag = if append { etag.or(entry.part_etag.take()) } else { etag };
        entry.last_modified = if append { last_modified.or(entry.part_last_modified.take()) } else { last_modified };
        entry.part_etag = None;
        entry.part_last_modified = None;
        entry.sha256 = Some(sha256.clone());
        entry.size = total;
        cache.meta.entries.insert(url.to_string(), entry);
        cache.save()?;
        eprintln!("warden: {url}: downloaded {} in {seconds:.1} s, verified", human(received));
        return Ok(Fetched::Downloaded { path, sha256, output });
    }
    Err("the server refused to resume the download twice".to_string().into())
}

/// Parses a complete download under its final file name (the parsers take
/// release hints from the name), in a scratch directory beside the cache
/// entry. On failure the download is deleted.
fn verify_parse(part: &Path, final_path: &Path) -> Result<FeedOutput, String> {
    let dir = final_path.with_file_name(format!(".verify-{}", std::process::id()));
    let staged = dir.join(final_path.file_name().unwrap_or_default());
    let spinner = spinner(format!("verifying {}", final_path.file_name().unwrap_or_default().to_string_lossy()));
    let result = (|| {
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::rename(part, &staged).map_err(|e| format!("{}: {e}", staged.display()))?;
        // Name the download, not the scratch file (gone when this returns).
        let output = feeds::read_path(&staged).map_err(|e| {
            let name = final_path.file_name().unwrap_or_default().to_string_lossy();
            e.to_string().replace(&staged.display().to_string(), &name)
        })?;
        if output.advisories.is_empty()
            && output.vulns.is_empty()
            && output.support.is_empty()
            && let Some(p) = output.problems.first()
        {
            return Err(format!("nothing could be read ({} problems, first: {p})", output.problems.len()));
        }
        fs::rename(&staged, part).map_err(|e| format!("{}: {e}", part.display()))?;
        Ok(output)
    })();
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    if result.is_err() {
        let _ = fs::remove_file(&staged);
        let _ = fs::remove_file(part);
    }
    let _ = fs::remove_dir(&dir);
    result
}

/// A spinner on stderr for a long step when stderr is a terminal; otherwise
/// a plain line `warden: <message> ...` and `None`.
pub fn spinner(message: String) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        eprintln!("warden: {message} ...");
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Copies the body to `out`, with a progress bar on a terminal. Returns the
/// bytes copied and the seconds it took.
fn copy_body(
    client: &Client,
    url: &str,
    mut body: impl Read,
    out: &mut File,
    already: u64,
    total: Option<u64>,
) -> io::Result<(u64, f64)> {
    let started = Instant::now();
    let bar = client.progress.then(|| {
        let bar = match total {
            Some(t) => indicatif::ProgressBar::new(t),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let style =
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        if total.is_some() {
            bar.set_style(style);
        }
        bar.set_position(already);
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
        bar
    });
    if bar.is_none() {
        eprintln!("warden: downloading {url} ...");
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut copied = 0u64;
    let result = loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        if let Err(e) = out.write_all(&buf[..n]) {
            break Err(e);
        }
        copied += n as u64;
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let _ = out.flush();
    result.map(|n| (n, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_values() {
        assert_eq!(Source::parse("feeds/").unwrap(), Source::Path(PathBuf::from("feeds/")));
        assert_eq!(
            Source::parse("http://127.0.0.1:1/a.json").unwrap(),
            Source::Url { url: "http://127.0.0.1:1/a.json".into(), sha256: None }
        );
        let pin = "AB".repeat(32);
        assert_eq!(
            Source::parse(&format!("https://x/a.json#sha256={pin}")).unwrap(),
            Source::Url { url: "https://x/a.json".into(), sha256: Some(pin.to_ascii_lowercase()) }
        );
        assert!(Source::parse("https://x/a.json#sha256=12").is_err());
        assert!(Source::parse("https://x/a.json#md5=12").is_err());
    }

    #[test]
    fn cache_names_keep_the_file_name() {
        let n = cache_file_name("https://www.debian.org/security/oval/oval-definitions-bookworm.xml.bz2");
        assert!(n.starts_with("www.debian.org_security_oval-"), "{n}");
        assert!(n.ends_with("/oval-definitions-bookworm.xml.bz2"), "{n}");
        let r = cache_file_name("https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip");
        assert!(r.ends_with("/all.zip") && r.contains("Rocky_20Linux"), "{r}");
        assert_ne!(
            cache_file_name("https://secdb.alpinelinux.org/v3.21/main.json"),
            cache_file_name("https://secdb.alpinelinux.org/v3.22/main.json")
        );
        let q = cache_file_name("http://127.0.0.1:8080/../x?a=/b");
        assert_eq!(q.matches('/').count(), 1, "{q}");
        assert!(q.split('/').all(|c| c != ".." && c != "."), "{q}");
        assert!(cache_file_name("http://h/").ends_with("/index"));
    }

    #[test]
    fn every_default_source_is_documented() {
        let doc = include_str!("../../../docs/vulndb.md");
        for d in DEFAULT_SOURCES {
            assert!(doc.contains(&format!("`{}`", d.url)), "{} is missing from docs/vulndb.md", d.url);
            assert!(Source::parse(d.url).is_ok_and(|s| matches!(s, Source::Url { .. })));
        }
        let documented = doc.split("`https://").skip(1).filter(|rest| !rest.starts_with('`')).count();
        assert_eq!(documented, DEFAULT_SOURCES.len(), "docs/vulndb.md lists URLs that are not defaults");
    }

    #[test]
    fn content_ranges() {
        assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(content_range("bytes 100-199/*"), Some((100, None)));
        assert_eq!(content_range("junk"), None);
    }
}
