//! `warden db`: import advisory feeds into the local vulnerability database
//! and report on it.
//!
//! Why it exists: the database is built from files the user (or `warden db
//! update`) fetched; this is the command-line edge of `warden-vulndb`'s
//! feeds and store. An import is all-or-nothing: if any feed fails to read,
//! the database is left as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use warden_vulndb::feeds::{self, FeedOutput};
use warden_vulndb::store::{ImportBatch, SourceInfo, Store};

use crate::fetch::{self, Cache, Client, DEFAULT_SOURCES, Fetched, Source};

/// How many feed problems are printed one by one.
const PROBLEMS_SHOWN: usize = 10;
/// A database whose newest import is older than this many days is stale.
pub const STALE_AFTER_DAYS: i64 = 7;

/// The feed format of a path, as a short name for `warden db status`.
fn format_name(path: &Path) -> String {
    if path.is_dir() {
        return "directory".to_string();
    }
    let detected = feeds::open_decompressed(path).ok().and_then(|mut r| {
        let mut buf = vec![0u8; feeds::DETECT_PREFIX_LEN];
        let mut filled = 0;
        while filled < buf.len() {
            match std::io::Read::read(&mut r, &mut buf[filled..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        feeds::detect(path, &buf[..filled])
    });
    match detected {
        Some(f) => format!("{f:?}"),
        None => "unknown".to_string(),
    }
}

/// Prints what a feed held (and its first problems).
fn report(name: &str, output: &FeedOutput, seconds: f64) {
    eprintln!(
        "warden: {name}: {} advisories, {} vulnerability records, {} support entries, {} problems ({seconds:.2} s)",
        output.advisories.len(),
        output.vulns.len(),
        output.support.len(),
        output.problems.len(),
    );
    for p in output.problems.iter().take(PROBLEMS_SHOWN) {
        eprintln!("warden: warning: {p}");
    }
    if output.problems.len() > PROBLEMS_SHOWN {
        eprintln!("warden: warning: ... and {} more problems in {name}", output.problems.len() - PROBLEMS_SHOWN);
    }
}

/// The source name of a local feed: its file name (so re-importing the same
/// file replaces it).
fn path_name(path: &Path) -> String {
    path.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads a local feed file or directory into a batch named after it.
fn read_local(path: &Path) -> Result<ImportBatch, String> {
    let started = Instant::now();
    let spinner = fetch::spinner(format!("reading {}", path.display()));
    let output = feeds::read_path(path).map_err(|e| e.to_string());
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let output = output?;
    let name = path_name(path);
    report(&name, &output, started.elapsed().as_secs_f64());
    Ok(batch(name, path.canonicalize().unwrap_or_else(|_| path.to_path_buf()).display().to_string(), path, output))
}

fn batch(name: String, location: String, path: &Path, output: FeedOutput) -> ImportBatch {
    ImportBatch {
        name,
        location,
        format: format_name(path),
        data_date: None,
        advisories: output.advisories,
        vulns: output.vulns,
        support: output.support,
    }
}

/// The one atomic import of a command, with its closing line.
fn store_import(db: &Path, batches: &[ImportBatch], now: &str) -> Result<(), String> {
    let started = Instant::now();
    let spinner = fetch::spinner(format!("importing into {}", db.display()));
    let result = Store::import(db, batches, now).map_err(|e| e.to_string());
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    result?;
    let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "warden: database {} updated ({:.1} MB, {:.2} s)",
        db.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads every feed, then imports them in one atomic step.
pub fn import(db: &Path, paths: &[PathBuf], now: &str) -> Result<(), String> {
    let mut batches = Vec::new();
    for path in paths {
        batches.push(read_local(path).map_err(|e| format!("{e} (nothing was imported)"))?);
    }
    store_import(db, &batches, now)
}

/// The host of a URL (for skipping the other URLs of an unreachable host).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `warden db update`: brings every source up to date (downloading URLs
/// into the cache beside the database), then imports what changed in one
/// atomic step. Any failing source fails the whole update, the database
/// unchanged. A URL whose cached content the database already holds (a
/// `304 Not Modified`, or an unchanged file) is not re-imported.
pub fn update(db: &Path, from: &[String], now: &str) -> Result<(), String> {
    let sources: Vec<Source> = if from.is_empty() {
        eprintln!(
            "warden: no --from given: fetching the {} default sources (see docs/vulndb.md)",
            DEFAULT_SOURCES.len()
        );
        DEFAULT_SOURCES.iter().map(|d| Source::Url { url: d.url.to_string(), sha256: None }).collect()
    } else {
        from.iter().map(|s| Source::parse(s)).collect::<Result<_, _>>()?
    };
    // Never download for a database that cannot be updated.
    let imported: Vec<SourceInfo> = if db.exists() {
        let store = Store::open(db).map_err(|e| e.to_string())?;
        store.sources().map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    let db_key = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let has_urls = sources.iter().any(|s| matches!(s, Source::Url { .. }));
    let mut cache = if has_urls { Some(Cache::open(db)?) } else { None };
    let client = has_urls.then(Client::new);

    let mut batches = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut marks: Vec<(String, String)> = Vec::new();
    let mut unchanged = 0usize;
    let mut dead_hosts: HashMap<String, String> = HashMap::new();
    let mut network_failed = false;
    for source in &sources {
        match source {
            Source::Path(path) => match read_local(path) {
                Ok(b) => batches.push(b),
                Err(e) => errors.push((path.display().to_string(), e)),
            },
            Source::Url { url, sha256 } => {
                let (Some(cache), Some(client)) = (cache.as_mut(), client.as_ref()) else { continue };
                let host = host_of(url).to_string();
                if let Some(e) = dead_hosts.get(&host) {
                    errors.push((url.clone(), format!("not tried: {host} could not be reached ({e})")));
                    continue;
                }
                let started = Instant::now();
                match fetch::fetch(client, cache, url, sha256.as_deref()) {
                    Ok(Fetched::Downloaded { path, sha256, output }) => {
                        report(url, &output, started.elapsed().as_secs_f64());
                        batches.push(batch(url.clone(), url.clone(), &path, output));
                        marks.push((url.clone(), sha256));
                    }
                    Ok(Fetched::NotModified { path, sha256 }) => {
                        let entry = cache.meta.entries.get(url);
                        let current = entry.and_then(|e| e.imported.get(&db_key)) == Some(&sha256)
                            && imported.iter().any(|s| &s.name == url && &s.location == url);
                        if current {
                            unchanged += 1;
                            eprintln!("warden: {url}: the database already holds this content, not re-imported");
                            continue;
                        }
                        let started = Instant::now();
                        match feeds::read_path(&path) {
                            Ok(output) => {
                                report(url, &output, started.elapsed().as_secs_f64());
                                batches.push(batch(url.clone(), url.clone(), &path, output));
                                marks.push((url.clone(), sha256));
                            }
                            Err(e) => errors.push((url.clone(), format!("cached copy unreadable: {e}"))),
                        }
                    }
                    Err(e) => {
                        if e.unreachable {
                            network_failed = true;
                            dead_hosts.insert(host, e.message.clone());
                        }
                        errors.push((url.clone(), e.message));
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        let mut message = format!(
            "{} of {} sources failed; nothing was imported and the database is unchanged:",
            errors.len(),
            sources.len()
        );
        for (what, e) in &errors {
            let label = DEFAULT_SOURCES.iter().find(|d| d.url == what).map(|d| format!(" ({})", d.what));
            message.push_str(&format!("\n  {what}{}: {e}", label.unwrap_or_default()));
        }
        if network_failed || from.is_empty() {
            message.push_str(
                "\nwithout network access, fetch the feeds on another machine and run \
                 `warden db update --from DIR` (or --from FILE, or --from URL#sha256=HEX for a mirror)",
            );
        }
        return Err(message);
    }
    if batches.is_empty() {
        eprintln!("warden: nothing new: {} already holds the current content of every source", db.display());
        if db.exists() {
            Store::mark_checked(db, now).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    store_import(db, &batches, now)?;
    if let Some(cache) = cache.as_mut() {
        for (url, sha256) in marks {
            if let Some(entry) = cache.meta.entries.get_mut(&url) {
                entry.imported.insert(db_key.clone(), sha256);
            }
        }
        if let Err(e) = cache.save() {
            // The import is done; a stale index only costs a re-import next time.
            eprintln!("warden: warning: {e}");
        }
    }
    if unchanged > 0 {
        eprintln!("warden: {unchanged} sources unchanged since their last import");
    }
    Ok(())
}

/// Days between two RFC 3339 timestamps' dates (b - a), if both parse.
fn days_between(a: &str, b: &str) -> Option<i64> {
    fn days(s: &str) -> Option<i64> {
        let (y, rest) = s.get(..10)?.split_once('-')?;
        let (m, d) = rest.split_once('-')?;
        let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        // Days from civil (Howard Hinnant).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }
    Some(days(b)? - days(a)?)
}

/// Prints the sources, counts per release and staleness. Returns whether
/// the database is stale.
pub fn status(db: &Path, now: &str) -> Result<bool, String> {
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let sources = store.sources().map_err(|e| e.to_string())?;
    println!("database {}", db.display());
    println!("sources:");
    for s in &sources {
        println!(
            "  {:<48} {:<22} imported {}  {:>7} advisories {:>6} vulns",
            s.name, s.format, s.imported_at, s.advisories, s.vulns
        );
    }
    println!("advisories per release:");
    for (distro, release, n) in store.release_counts().map_err(|e| e.to_string())? {
        println!("  {distro:<10} {release:<8} {n:>8}");
    }
    // Staleness counts from the newest import, or from a later update that
    // checked every source and found nothing new.
    let checked = store.checked_at().map_err(|e| e.to_string())?;
    let newest = sources.iter().map(|s| s.imported_at.as_str()).chain(checked.as_deref()).max();
    let age = newest.and_then(|n| days_between(n, now));
    let stale = age.is_none_or(|d| d > STALE_AFTER_DAYS);
    match age {
        Some(d) if stale => println!(
            "warning: the newest import is {d} days old (more than {STALE_AFTER_DAYS}): run `warden db update` or import fresh feeds"
        ),
        Some(d) => println!("last import or up-to-date check {d} days ago"),
        None => println!("warning: nothing imported yet"),
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_between_dates() {
        assert_eq!(super::days_between("2026-11-20T00:00:00Z", "2026-11-28T10:00:00Z"), Some(8));
        assert_eq!(super::days_between("2024-02-28T00:00:00Z", "2024-03-01T00:00:00Z"), Some(2));
        assert_eq!(super::days_between("junk", "2024-03-01"), None);
    }
}
