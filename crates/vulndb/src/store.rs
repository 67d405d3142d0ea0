//! The local vulnerability database: one SQLite file, indexed for lookups by
//! (distro, release, package, package kind).
//!
//! Why it exists: matching a host must not parse 50 MB of XML each time; the
//! feeds are imported once into an embedded database (no server) and each
//! installed package then costs one indexed lookup (a few microseconds).
//!
//! Updates are atomic: an import copies the current database beside itself,
//! replaces the rows of each imported source inside one transaction, and
//! renames the copy over the original only after the commit. A failed or
//! interrupted import leaves the previous database untouched.
//!
//! Lookups read `package_index`: one row per (distro, release, package,
//! kind) holding all its advisories packed as lines of tab-separated fields
//! (`vuln_id status fixed_version advisory_ids distro_severity feed`),
//! rebuilt from `advisories` after every import. One indexed row per
//! package instead of one row per advisory makes matching a host a few
//! milliseconds: most advisories name versions older than the installed one,
//! and [`PackedAdvisory`] lets the matcher compare without allocating.
//!
//! Re-importing a source (same source name) replaces its advisories. Facts
//! about a vulnerability (CVSS, KEV, EPSS) are merged field by field, the
//! newest import winning where it gives a value.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::advisory::{Advisory, FixStatus, PackageKind, VulnInfo};
use crate::feeds::SupportStatus;

/// Schema version of the database file.
pub const STORE_SCHEMA_VERSION: i64 = 3;

/// A database error, naming the file.
#[derive(Debug)]
pub struct StoreError {
    /// The database file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for StoreError {}

/// One imported source, as recorded in the database.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceInfo {
    /// Unique name: the file name of the feed (e.g. `oval-definitions-bookworm.xml.bz2`).
    pub name: String,
    /// Where it was imported from.
    pub location: String,
    /// Feed format (`debian-oval`, `alpine-secdb`, ...).
    pub format: String,
    /// When it was imported (RFC 3339).
    pub imported_at: String,
    /// The publisher's own date for the data, when the feed states one.
    pub data_date: Option<String>,
    /// Advisories (package facts) from this source.
    pub advisories: i64,
    /// Vulnerability records (CVSS, KEV, EPSS) from this source.
    pub vulns: i64,
}

/// What to import from one source.
#[derive(Clone, Debug, Default)]
pub struct ImportBatch {
    /// Unique source name; re-importing the same name replaces its rows.
    pub name: String,
    /// Where it came from (path or URL).
    pub location: String,
    /// Feed format name.
    pub format: String,
    /// The publisher's date of the data, if known.
    pub data_date: Option<String>,
    /// Package facts.
    pub advisories: Vec<Advisory>,
    /// Vulnerability facts.
    pub vulns: Vec<VulnInfo>,
    /// Security-support statuses (Debian's debian-security-support lists).
    pub support: Vec<SupportStatus>,
}

/// An open database, read-only.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    name TEXT PRIMARY KEY, location TEXT NOT NULL, format TEXT NOT NULL, imported_at TEXT NOT NULL,
    data_date TEXT, advisories INTEGER NOT NULL, vulns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS advisories(
    source TEXT NOT NULL, distro TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL,
    kind INTEGER NOT NULL, vuln_id TEXT NOT NULL, status INTEGER NOT NULL, fixed_version TEXT,
    advisory_ids TEXT NOT NULL, distro_severity TEXT, feed TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS advisories_lookup ON advisories(distro, release, package, kind);
CREATE INDEX IF NOT EXISTS advisories_source ON advisories(source);
CREATE TABLE IF NOT EXISTS vulns(
    id TEXT PRIMARY KEY, summary TEXT, cvss3 TEXT, cvss4 TEXT, kev_date TEXT, kev_ransomware INTEGER,
    epss REAL, epss_percentile REAL);
CREATE TABLE IF NOT EXISTS package_index(
    distro TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL, kind INTEGER NOT NULL, packed TEXT NOT NULL,
    PRIMARY KEY(distro, release, package, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS support(
    source TEXT NOT NULL, distro TEXT NOT NULL, release TEXT, package TEXT NOT NULL, pattern INTEGER NOT NULL,
    last_version TEXT, end_date TEXT, limited INTEGER NOT NULL, details TEXT);
CREATE INDEX IF NOT EXISTS support_lookup ON support(distro, package);
";

fn status_code(s: &FixStatus) -> (i64, Option<&str>) {
    match s {
        FixStatus::Fixed { version } => (0, Some(version.as_str())),
        FixStatus::Unfixed => (1, None),
        FixStatus::WillNotFix => (2, None),
        FixStatus::NotAffected => (3, None),
    }
}

fn status_from(code: i64, version: Option<String>) -> FixStatus {
    match (code, version) {
        (0, Some(version)) => FixStatus::Fixed { version },
        (2, _) => FixStatus::WillNotFix,
        (3, _) => FixStatus::NotAffected,
        _ => FixStatus::Unfixed,
    }
}

fn kind_from(code: i64) -> PackageKind {
    if code == 0 { PackageKind::Source } else { PackageKind::Binary }
}

fn kind_code(k: PackageKind) -> i64 {
    match k {
        PackageKind::Source => 0,
        PackageKind::Binary => 1,
    }
}

impl Store {
    /// Opens an existing database read-only. A missing file is an error that
    /// says how to create one.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |message: String| StoreError { path: path.to_path_buf(), message };
        if !path.exists() {
            return Err(err("no vulnerability database here; create one with `warden db import FEED...`".into()));
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| err(format!("cannot open: {e}")))?;
        // Memory-map the file: lookups then cost no read() system call per page.
        conn.execute_batch("PRAGMA mmap_size = 1073741824;").map_err(|e| err(format!("cannot open: {e}")))?;
        let store = Store { conn, path: path.to_path_buf() };
        let version: Option<String> = store
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(|e| err(format!("not a Warden vulnerability database: {e}")))?;
        match version.as_deref().map(str::parse::<i64>) {
            Some(Ok(STORE_SCHEMA_VERSION)) => Ok(store),
            Some(_) => Err(err(format!(
                "database schema {} is not supported (this Warden uses {STORE_SCHEMA_VERSION}); re-import the feeds",
                version.unwrap_or_default()
            ))),
            None => Err(err("not a Warden vulnerability database (no schema version)".into())),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError { path: self.path.clone(), message: e.to_string() }
    }

    /// Imports batches atomically into the database at `path` (created when
    /// missing). `now` is the import time (RFC 3339), passed in so the
    /// function has no clock.
    pub fn import(path: &Path, batches: &[ImportBatch], now: &str) -> Result<(), StoreError> {
        let err = |message: String| StoreError { path: path.to_path_buf(), message };
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".import-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create directory: {e}")))?;
        }
        if path.exists() {
            // Validate before copying: never build on a broken file.
            Store::open(path)?;
            std::fs::copy(path, &tmp).map_err(|e| err(format!("cannot copy for update: {e}")))?;
        }
        let result = (|| -> Result<(), rusqlite::Error> {
            let mut conn = Connection::open(&tmp)?;
            conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
            conn.execute_batch(SCHEMA)?;
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [STORE_SCHEMA_VERSION.to_string()],
            )?;
            for batch in batches {
                tx.execute("DELETE FROM advisories WHERE source = ?1", [&batch.name])?;
                tx.execute("DELETE FROM support WHERE source = ?1", [&batch.name])?;
                {
                    let mut insert = tx.prepare(
                        "INSERT INTO advisories(source, distro, release, package, kind, vuln_id, status,
                         fixed_version, advisory_ids, distro_severity, feed)
                         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?;
                    for a in &batch.advisories {
                        let (status, fixed) = status_code(&a.status);
                        insert.execute(params![
                            batch.name,
                            a.distro,
                            a.release,
                            a.package,
                            kind_code(a.package_kind),
                            packable(&a.vuln_id),
                            status,
                            fixed.map(packable),
                            packable(&a.advisory_ids.join(" ")),
                            a.distro_severity.as_deref().map(packable),
                            packable(&a.feed),
                        ])?;
                    }
                    let mut upsert = tx.prepare(
                        "INSERT INTO vulns(id, summary, cvss3, cvss4, kev_date, kev_ransomware, epss, epss_percentile)
                         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT(id) DO UPDATE SET
                           summary = COALESCE(excluded.summary, summary),
                           cvss3 = COALESCE(excluded.cvss3, cvss3),
                           cvss4 = COALESCE(excluded.cvss4, cvss4),
                           kev_date = COALESCE(excluded.kev_date, kev_date),
                           kev_ransomware = COALESCE(excluded.kev_ransomware, kev_ransomware),
                           epss = COALESCE(excluded.epss, epss),
                           epss_percentile = COALESCE(excluded.epss_percentile, epss_percentile)",
                    )?;
                    let mut support = tx.prepare(
                        "INSERT INTO support(source, distro, release, package, pattern, last_version, end_date,
                         limited, details) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?;
                    for st in &batch.support {
                        let (last, date) = match &st.ended {
                            Some((v, d)) => (Some(v.as_str()), Some(d.as_str())),
                            None => (None, None),
                        };
                        support.execute(params![
                            batch.name, st.distro, st.release, st.package, st.pattern, last, date, st.limited,
                            st.details
                        ])?;
                    }
                    for v in &batch.vulns {
                        upsert.execute(params![
                            v.id,
                            v.summary,
                            v.cvss3_vector,
                            v.cvss4_vector,
                            v.kev_date_added,
                            v.kev_ransomware,
                            v.epss,
                            v.epss_percentile
                        ])?;
                    }
                }
                tx.execute(
                    "INSERT INTO sources(name, location, format, imported_at, data_date, advisories, vulns)
                     VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(name) DO UPDATE SET location = excluded.location, format = excluded.format,
                       imported_at = excluded.imported_at, data_date = excluded.data_date,
                       advisories = excluded.advisories, vulns = excluded.vulns",
                    params![
                        batch.name,
                        batch.location,
                        batch.format,
                        now,
                        batch.data_date,
                        batch.advisories.len() as i64,
                        batch.vulns.len() as i64
                    ],
                )?;
            }
            tx.execute_batch(
                "DELETE FROM package_index;
                 INSERT INTO package_index(distro, release, package, kind, packed)
                 SELECT distro, release, package, kind,
                        group_concat(vuln_id || char(9) || status || char(9) || IFNULL(fixed_version, '') || char(9)
                                     || advisory_ids || char(9) || IFNULL(distro_severity, '') || char(9) || feed,
                                     char(10))
                 FROM (SELECT * FROM advisories ORDER BY vuln_id, source)
                 GROUP BY distro, release, package, kind;",
            )?;
            tx.commit()?;
            // No ANALYZE: the lookups have one obvious index each, and with
            // SQLite's STAT4 statistics every lookup whose bound package
            // name differs would re-prepare its statement (measured: 57% of
            // a host's matching time).
            conn.close().map_err(|(_, e)| e)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("import failed, database unchanged: {e}")));
        }
        // Make the new file durable before it replaces the old one.
        if let Ok(f) = std::fs::File::open(&tmp) {
            let _ = f.sync_all();
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(format!("cannot replace database: {e}"))
        })
    }

    /// Records that every source was checked at `now` and found current
    /// (`warden db update` with nothing new), so `warden db status` measures
    /// staleness from the last check, not the last change. One small
    /// transaction on the live file; SQLite's own commit keeps it atomic.
    pub fn mark_checked(path: &Path, now: &str) -> Result<(), StoreError> {
        let err = |message: String| StoreError { path: path.to_path_buf(), message };
        Store::open(path)?;
        let conn = Connection::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('checked_at', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [now],
        )
        .map_err(|e| err(format!("cannot record the check: {e}")))?;
        Ok(())
    }

    /// When every source was last checked and found current, if ever.
    pub fn checked_at(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'checked_at'", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Runs a read query and collects every row through `row`.
    fn query_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every imported source.
    pub fn sources(&self) -> Result<Vec<SourceInfo>, StoreError> {
        self.query_all(
            "SELECT name, location, format, imported_at, data_date, advisories, vulns FROM sources ORDER BY name",
            [],
            |r| {
                Ok(SourceInfo {
                    name: r.get(0)?,
                    location: r.get(1)?,
                    format: r.get(2)?,
                    imported_at: r.get(3)?,
                    data_date: r.get(4)?,
                    advisories: r.get(5)?,
                    vulns: r.get(6)?,
                })
            },
        )
    }

    /// (distro, release, advisories) counts, for `warden db status`.
    pub fn release_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.query_all(
            "SELECT distro, release, COUNT(*) FROM advisories GROUP BY distro, release ORDER BY distro, release",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Distinct package names with advisories in a release (benchmarks, listings).
    pub fn package_names(&self, distro: &str, release: &str) -> Result<Vec<(String, PackageKind)>, StoreError> {
        self.query_all(
            "SELECT DISTINCT package, kind FROM advisories WHERE distro = ?1 AND release = ?2 ORDER BY package",
            [distro, release],
            |r| Ok((r.get(0)?, kind_from(r.get(1)?))),
        )
    }

    /// Whether any advisory exists for this distro release.
    pub fn covers(&self, distro: &str, release: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM advisories WHERE distro = ?1 AND release = ?2 LIMIT 1", [distro, release], |_| {
                Ok(())
            })
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    /// The packed advisories of one package name of one kind in one
    /// release, or `None` when it has none. Parse with [`PackedAdvisory::lines`].
    pub fn lookup_packed(
        &self,
        distro: &str,
        release: &str,
        package: &str,
        kind: PackageKind,
    ) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT packed FROM package_index WHERE distro = ?1 AND release = ?2 AND package = ?3 AND kind = ?4",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![distro, release, package, kind_code(kind)], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Advisories for one package name of one kind in one release.
    pub fn lookup(
        &self,
        distro: &str,
        release: &str,
        package: &str,
        kind: PackageKind,
    ) -> Result<Vec<Advisory>, StoreError> {
        let packed = self.lookup_packed(distro, release, package, kind)?.unwrap_or_default();
        Ok(PackedAdvisory::lines(&packed).map(|a| a.to_advisory(distro, release, package, kind)).collect())
    }

    /// Every security-support status for a release (and the release-less
    /// `limited` list): a few hundred rows at most, read once per inventory.
    pub fn support_list(&self, distro: &str, release: &str) -> Result<SupportList, StoreError> {
        let entries = self.query_all(
            "SELECT release, package, pattern, last_version, end_date, limited, details FROM support
             WHERE distro = ?1 AND (release IS NULL OR release = ?2)",
            params![distro, release],
            |r| {
                let last: Option<String> = r.get(3)?;
                let date: Option<String> = r.get(4)?;
                Ok(SupportStatus {
                    distro: distro.to_string(),
                    release: r.get(0)?,
                    package: r.get(1)?,
                    pattern: r.get(2)?,
                    ended: last.zip(date),
                    limited: r.get(5)?,
                    details: r.get(6)?,
                })
            },
        )?;
        Ok(SupportList { entries })
    }

    /// Facts about one vulnerability, when any feed gave some.
    pub fn vuln(&self, id: &str) -> Result<Option<VulnInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT summary, cvss3, cvss4, kev_date, kev_ransomware, epss, epss_percentile FROM vulns WHERE id = ?1",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], |r| {
            Ok(VulnInfo {
                id: id.to_string(),
                summary: r.get(0)?,
                cvss3_vector: r.get(1)?,
                cvss4_vector: r.get(2)?,
                kev_date_added: r.get(3)?,
                kev_ransomware: r.get(4)?,
                epss: r.get(5)?,
                epss_percentile: r.get(6)?,
            })
        })
        .optional()
        .map_err(|e| self.err(e))
    }
}

/// The security-support entries of one release.
#[derive(Clone, Debug, Default)]
pub struct SupportList {
    entries: Vec<SupportStatus>,
}

impl SupportList {
    /// Entries naming this source package exactly, or by a pattern that is
    /// a literal prefix followed by `.*` (e.g. `php-horde.*`); other
    /// regular expressions are not used.
    pub fn for_package<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a SupportStatus> + 'a {
        self.entries
            .iter()
            .filter(move |s| if s.pattern { prefix_pattern_matches(&s.package, package) } else { s.package == package })
    }
}

/// Tabs and newlines separate packed fields and records; feeds never
/// legitimately put them inside ids, versions or names, so they become spaces.
fn packable(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// One advisory read from a packed index row, borrowing from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedAdvisory<'a> {
    /// Vulnerability id.
    pub vuln_id: &'a str,
    status: i64,
    fixed_version: &'a str,
    /// Space-separated advisory ids.
    pub advisory_ids: &'a str,
    /// Distro severity (empty when none).
    pub distro_severity: &'a str,
    /// Feed name.
    pub feed: &'a str,
}

impl<'a> PackedAdvisory<'a> {
    /// The records of a packed row; malformed lines are skipped.
    pub fn lines(packed: &'a str) -> impl Iterator<Item = PackedAdvisory<'a>> {
        packed.split('\n').filter_map(|line| {
            let mut f = line.split('\t');
            Some(PackedAdvisory {
                vuln_id: f.next().filter(|v| !v.is_empty())?,
                status: f.next()?.parse().ok()?,
                fixed_version: f.next()?,
                advisory_ids: f.next()?,
                distro_severity: f.next()?,
                feed: f.next()?,
            })
        })
    }

    /// The fixed version, when the status is fixed.
    pub fn fixed_version(&self) -> Option<&'a str> {
        (self.status == 0 && !self.fixed_version.is_empty()).then_some(self.fixed_version)
    }

    /// The fix status.
    pub fn status(&self) -> FixStatus {
        status_from(self.status, self.fixed_version().map(str::to_string))
    }

    /// An owned [`Advisory`].
    pub fn to_advisory(&self, distro: &str, release: &str, package: &str, kind: PackageKind) -> Advisory {
        Advisory {
            vuln_id: self.vuln_id.to_string(),
            advisory_ids: self.advisory_ids.split_whitespace().map(str::to_string).collect(),
            distro: distro.to_string(),
            release: release.to_string(),
            package: package.to_string(),
            package_kind: kind,
            status: self.status(),
            distro_severity: (!self.distro_severity.is_empty()).then(|| self.distro_severity.to_string()),
            feed: self.feed.to_string(),
        }
    }
}

/// `prefix.*` (optionally anchored with `^`/`$`) with a literal prefix.
fn prefix_pattern_matches(pattern: &str, package: &str) -> bool {
    let p = pattern.trim_start_matches('^').trim_end_matches('$');
    match p.strip_suffix(".*") {
        Some(prefix) if prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+') => {
            package.starts_with(prefix)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(vuln: &str, package: &str, status: FixStatus) -> Advisory {
        Advisory {
            vuln_id: vuln.into(),
            advisory_ids: vec!["DSA-1-1".into()],
            distro: "debian".into(),
            release: "12".into(),
            package: package.into(),
            package_kind: PackageKind::Source,
            status,
            distro_severity: None,
            feed: "debian-oval".into(),
        }
    }

    fn batch(name: &str, advisories: Vec<Advisory>) -> ImportBatch {
        ImportBatch {
            name: name.into(),
            location: "/x".into(),
            format: "debian-oval".into(),
            advisories,
            ..Default::default()
        }
    }

    #[test]
    fn import_lookup_and_replace_by_source() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/vulndb.sqlite");
        let first = batch(
            "a",
            vec![
                advisory("CVE-1", "openssl", FixStatus::Fixed { version: "3.0.13-1~deb12u1".into() }),
                advisory("CVE-2", "openssl", FixStatus::Unfixed),
            ],
        );
        Store::import(&db, &[first], "2026-01-01T00:00:00Z").unwrap();
        let store = Store::open(&db).unwrap();
        let found = store.lookup("debian", "12", "openssl", PackageKind::Source).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].status, FixStatus::Fixed { version: "3.0.13-1~deb12u1".into() });
        assert_eq!(found[1].advisory_ids, vec!["DSA-1-1".to_string()]);
        assert!(store.lookup("debian", "12", "openssl", PackageKind::Binary).unwrap().is_empty());
        assert!(store.covers("debian", "12").unwrap());
        assert!(!store.covers("debian", "11").unwrap());
        drop(store);
        // Re-importing source "a" replaces its rows; source "b" adds.
        let again = batch("a", vec![advisory("CVE-3", "curl", FixStatus::WillNotFix)]);
        let other = ImportBatch {
            vulns: vec![VulnInfo {
                id: "CVE-3".into(),
                kev_date_added: Some("2024-01-02".into()),
                ..Default::default()
            }],
            ..batch("b", vec![])
        };
        Store::import(&db, &[again, other], "2026-01-02T00:00:00Z").unwrap();
        let store = Store::open(&db).unwrap();
        assert!(store.lookup("debian", "12", "openssl", PackageKind::Source).unwrap().is_empty());
        assert_eq!(store.lookup("debian", "12", "curl", PackageKind::Source).unwrap()[0].status, FixStatus::WillNotFix);
        assert_eq!(store.vuln("CVE-3").unwrap().unwrap().kev_date_added.as_deref(), Some("2024-01-02"));
        let sources = store.sources().unwrap();
        assert_eq!(sources.iter().map(|s| (s.name.as_str(), s.advisories)).collect::<Vec<_>>(), [("a", 1), ("b", 0)]);
        // No temporary file is left beside the database.
        assert_eq!(std::fs::read_dir(db.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_broken_database_is_never_built_upon_and_stays_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vulndb.sqlite");
        std::fs::write(&db, b"this is not sqlite").unwrap();
        let e = Store::import(&db, &[batch("a", vec![])], "now").unwrap_err();
        assert!(e.to_string().contains("vulndb.sqlite"), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), b"this is not sqlite");
        let e = Store::open(&dir.path().join("missing.sqlite")).err().unwrap();
        assert!(e.message.contains("warden db import"), "{e}");
    }
}
