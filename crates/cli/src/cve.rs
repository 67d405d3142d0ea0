//! The CVE package's I/O edge: where the vulnerability database lives, and
//! matching a snapshot against it.
//!
//! Why it exists: `warden-rules` is pure and takes the matches as data; the
//! database lives on disk, so opening and querying it happens here.

use std::path::{Path, PathBuf};

use warden_model::Snapshot;
use warden_vulndb::matcher::{self, CveScan, MatchOptions};

/// Where the database lives unless `--db` or `WARDEN_DB` says otherwise:
/// `/var/lib/warden/vulndb.sqlite` for root, else
/// `$XDG_DATA_HOME/warden/vulndb.sqlite` (default `~/.local/share`).
pub fn default_db_path() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/warden/vulndb.sqlite");
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("warden/vulndb.sqlite")
}

/// Matches the snapshot's packages (see [`matcher::scan_snapshot`]).
pub fn scan(snapshot: &Snapshot, db: &Path, options: MatchOptions) -> CveScan {
    matcher::scan_snapshot(snapshot, db, options)
}
