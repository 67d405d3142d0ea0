//! `warden db`: import advisory feeds into the local vulnerability database
//! and report on it.
//!
//! Why it exists: the database is built from files the user (or `warden db
//! update`) fetched; this is the command-line edge of `warden-vulndb`'s
//! feeds and store. An import is all-or-nothing: if any feed fails to read,
//! the database is left as it was.

use std::path::{Path, PathBuf};
use std::time::Instant;

use warden_vulndb::feeds::{self, FeedOutput};
use warden_vulndb::store::{ImportBatch, Store};

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

/// Reads every feed, then imports them in one atomic step.
pub fn import(db: &Path, paths: &[PathBuf], now: &str) -> Result<(), String> {
    let mut batches = Vec::new();
    for path in paths {
        let started = Instant::now();
        eprintln!("warden: reading {} ...", path.display());
        let output: FeedOutput = feeds::read_path(path).map_err(|e| format!("{e} (nothing was imported)"))?;
        let name = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| path.display().to_string());
        eprintln!(
            "warden: {name}: {} advisories, {} vulnerability records, {} support entries, {} problems ({:.2} s)",
            output.advisories.len(),
            output.vulns.len(),
            output.support.len(),
            output.problems.len(),
            started.elapsed().as_secs_f64()
        );
        for p in output.problems.iter().take(PROBLEMS_SHOWN) {
            eprintln!("warden: warning: {p}");
        }
        if output.problems.len() > PROBLEMS_SHOWN {
            eprintln!("warden: warning: ... and {} more problems in {name}", output.problems.len() - PROBLEMS_SHOWN);
        }
        batches.push(ImportBatch {
            name,
            location: path.canonicalize().unwrap_or_else(|_| path.clone()).display().to_string(),
            format: format_name(path),
            data_date: None,
            advisories: output.advisories,
            vulns: output.vulns,
            support: output.support,
        });
    }
    let started = Instant::now();
    Store::import(db, &batches, now).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "warden: database {} updated ({:.1} MB, {:.2} s)",
        db.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
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
    let newest = sources.iter().map(|s| s.imported_at.as_str()).max();
    let age = newest.and_then(|n| days_between(n, now));
    let stale = age.is_none_or(|d| d > STALE_AFTER_DAYS);
    match age {
        Some(d) if stale => println!(
            "warning: the newest import is {d} days old (more than {STALE_AFTER_DAYS}): run `warden db update` or import fresh feeds"
        ),
        Some(d) => println!("newest import {d} days ago"),
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
