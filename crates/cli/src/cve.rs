//! The CVE package's I/O edge: open the vulnerability database and match the
//! snapshot's package inventories against it.
//!
//! Why it exists: `warden-rules` is pure and takes the matches as data; the
//! database lives on disk, so opening and querying it happens here.

use std::path::{Path, PathBuf};

use warden_model::{Fact, Snapshot};
use warden_vulndb::matcher::{self, CveScan, InventoryScan, MatchOptions};
use warden_vulndb::store::Store;

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

/// Matches the snapshot's packages; every failure becomes a reason in the
/// scan (the package then reports could-not-evaluate), never an abort.
pub fn scan(snapshot: &Snapshot, db: &Path, options: MatchOptions) -> CveScan {
    let problem = |message: String| CveScan { database_problem: Some(message), ..Default::default() };
    let store = match Store::open(db) {
        Ok(store) => store,
        Err(e) => return problem(e.to_string()),
    };
    let inventories = match &snapshot.packages {
        Fact::Collected { value } => value,
        Fact::Absent { .. } => {
            return CveScan { database: Some(db.display().to_string()), ..Default::default() };
        }
        other => return problem(format!("package inventory unavailable: {}", other.reason().unwrap_or_default())),
    };
    match snapshot.host.os.value() {
        Some(os) => matcher::scan(&store, os, inventories, options).unwrap_or_else(|e| problem(e.to_string())),
        None => {
            let why = format!("OS release unknown: {}", snapshot.host.os.reason().unwrap_or_default());
            CveScan {
                database: Some(db.display().to_string()),
                inventories: inventories
                    .iter()
                    .map(|inv| InventoryScan {
                        format: inv.format,
                        database: inv.database.clone(),
                        target: None,
                        unsupported: Some(why.clone()),
                        release_covered: false,
                        packages_checked: inv.packages.len(),
                        matches: vec![],
                        support: vec![],
                    })
                    .collect(),
                ignore_unfixed: options.ignore_unfixed,
                ..Default::default()
            }
        }
    }
}
