//! The agent's disk queue of telemetry documents not yet accepted by the
//! server.
//!
//! Why every document goes through it: a document is durable (written,
//! fsync'd, renamed, directory fsync'd) before the first send, so a server
//! outage or an agent crash loses nothing; the server deduplicates resends by
//! (run, agent, seq). The queue is bounded in bytes: when full, new runtime
//! samples are refused (the agent reports THROTTLED) but a run's snapshot
//! always gets in.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One queued document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The run.
    pub run: String,
    /// Its sequence number.
    pub seq: u64,
    /// The file.
    pub path: PathBuf,
}

/// The queue.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
}

impl Spool {
    /// Opens (creating) the queue in `dir`, bounded to `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Half-written files from a crash are dropped: they were never acknowledged as queued.
        for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Spool { dir: dir.to_path_buf(), max_bytes })
    }

    /// Bytes queued.
    pub fn bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    }

    /// Queues a document durably. `essential` documents (a run's snapshot)
    /// ignore the bound; others are refused when it would be exceeded.
    pub fn push(&self, run: &str, seq: u64, body: &[u8], essential: bool) -> Result<bool, String> {
        if !essential && self.bytes() + body.len() as u64 > self.max_bytes {
            return Ok(false);
        }
        if !run.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') || run.is_empty() {
            return Err(format!("run id {run:?} is not a safe file name"));
        }
        let name = format!("{run}.{seq:020}.json");
        let tmp = self.dir.join(format!("{name}.tmp"));
        let path = self.dir.join(&name);
        let io = |e: std::io::Error| format!("{}: {e}", tmp.display());
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(body).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        Ok(true)
    }

    /// Queued documents in send order: by run, then seq.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let stem = name.strip_suffix(".json")?;
                        let (run, seq) = stem.rsplit_once('.')?;
                        Some(Entry { run: run.to_string(), seq: seq.parse().ok()?, path: e.path() })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.run.cmp(&b.run).then(a.seq.cmp(&b.seq)));
        out
    }

    /// Whether anything of `run` is still queued.
    pub fn has_run(&self, run: &str) -> bool {
        self.entries().iter().any(|e| e.run == run)
    }

    /// Removes a delivered (or permanently refused) document.
    pub fn remove(&self, entry: &Entry) {
        let _ = std::fs::remove_file(&entry.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documents_queue_in_order_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = Spool::open(dir.path(), 1_000).unwrap();
        assert!(s.push("0-bbbbbbbb", 2, b"{}", false).unwrap());
        assert!(s.push("0-bbbbbbbb", 10, b"{}", false).unwrap());
        assert!(s.push("0-aaaaaaaa", 0, b"{\"x\":1}", true).unwrap());
        std::fs::write(dir.path().join("0-cccccccc.00000000000000000001.json.tmp"), b"half").unwrap();
        let s = Spool::open(dir.path(), 1_000).unwrap();
        let order: Vec<(String, u64)> = s.entries().into_iter().map(|e| (e.run, e.seq)).collect();
        assert_eq!(order, [("0-aaaaaaaa".into(), 0), ("0-bbbbbbbb".into(), 2), ("0-bbbbbbbb".into(), 10)]);
        assert_eq!(std::fs::read(&s.entries()[0].path).unwrap(), b"{\"x\":1}");
        s.remove(&s.entries()[0]);
        assert!(!s.has_run("0-aaaaaaaa"));
    }

    #[test]
    fn the_bound_refuses_samples_but_not_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let s = Spool::open(dir.path(), 10).unwrap();
        assert!(s.push("0-aaaaaaaa", 0, &[b'x'; 8], false).unwrap());
        assert!(!s.push("0-aaaaaaaa", 1, &[b'x'; 8], false).unwrap(), "over the bound");
        assert!(s.push("0-aaaaaaaa", 2, &[b'x'; 8], true).unwrap(), "essential");
        assert!(s.push("../etc", 3, b"{}", true).is_err(), "run ids never become paths");
    }

    proptest! {
        #[test]
        fn foreign_file_names_never_break_listing(name in "[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,39}") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(&name), b"{}").unwrap();
            let s = Spool::open(dir.path(), 1_000).unwrap();
            let _ = s.entries();
        }
    }
}
