//! Installed rpm packages (RHEL family, Fedora, Amazon Linux, SUSE), read
//! from rpm's database without librpm.
//!
//! Why it exists: vulnerability rules match the installed rpm packages against
//! advisories; an image or a mounted disk has no running rpm to ask.
//!
//! Where (rpm's `%_dbpath`): `/usr/lib/sysimage/rpm` (Fedora 36+, SUSE, where
//! `/var/lib/rpm` is often a symlink to it) and `/var/lib/rpm`. A directory
//! reached twice through a symlink is read once. In each directory the first
//! of these files that exists is the database (rpm opens one backend per
//! directory; a `Packages` left behind beside `rpmdb.sqlite` after the rpm
//! 4.16 migration is stale):
//! 1. `rpmdb.sqlite` ([`sqlite`], rpm 4.16+);
//! 2. `Packages`, Berkeley DB ([`bdb`], rpm up to 4.15: RHEL 7/8, Amazon Linux 2);
//! 3. `Packages.db`, rpm's own ndb format (SUSE): recognised but not read yet;
//!    it is reported as unreadable.
//!
//! Database files are opened directly (not through [`RootFs::read_bytes`] and
//! its 16 MiB bound: a real `Packages` is often 50-200 MiB) after a `stat`
//! through the root, refusing anything that is not a regular file or is over
//! [`MAX_RPMDB_SIZE`]. Berkeley DB files are read page by page, not loaded whole.
//!
//! Each record's header blob is decoded by [`header`]. Semantics:
//! - `version` is `[epoch:]version-release`, the epoch shown whenever the
//!   EPOCH tag is present (even `0`).
//! - The source package is taken from SOURCERPM
//!   (`openssl-3.0.7-27.el9.src.rpm` → `openssl`, `3.0.7-27.el9`). The file
//!   name carries no epoch; the binary's epoch is prefixed to the source
//!   version, as rpm-based scanners do (a source rpm and its binaries share
//!   one spec file, hence one epoch): `1:3.0.7-27.el9`. Without SOURCERPM the
//!   source is the binary's own name and version.
//! - `gpg-pubkey` records are skipped: they are the keys `rpm --import`
//!   trusts, stored as pseudo-packages, not software.
//! - The record number (sqlite `hnum`, Berkeley DB key) is the `line` of the
//!   package's [`Source::File`], and of the problem for a corrupt header; the
//!   path is the database file.
//! - A corrupt record is a problem in the inventory; the others are kept.

pub mod bdb;
pub mod header;
pub mod sqlite;

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;

use warden_model::{InstalledPackage, PackageFormat, PackageInventory, Problem, Source};

use super::Outcome;
use crate::RootFs;
use crate::rootfs::{io_message, join};

/// The rpm database directories, newest location first.
pub const RPM_DIRS: [&str; 2] = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"];
/// Largest rpm database file read: 2 GiB (real ones are at most a few hundred MiB).
pub const MAX_RPMDB_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// The pseudo-package name of imported signing keys.
pub const GPG_PUBKEY: &str = "gpg-pubkey";

/// Reads every rpm database found (see the module docs).
pub fn collect(fs: &RootFs) -> Vec<Outcome> {
    locate(fs)
        .into_iter()
        .map(|found| match found {
            Ok((path, kind)) => read_db(fs, &path, kind),
            Err((path, problem)) => Outcome::Unreadable(PackageFormat::Rpm, path, problem),
        })
        .collect()
}

/// The database of each rpm directory (symlinked directories once), or why
/// it could not be looked at: (path, kind) or (path, problem).
fn locate(fs: &RootFs) -> Vec<Result<(String, Kind), (String, Problem)>> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for dir in RPM_DIRS {
        let host_dir = match fs.resolve(dir) {
            Ok(p) => p,
            Err(problem) => {
                if fs.exists(dir) {
                    out.push(Err((dir.to_string(), problem)));
                }
                continue;
            }
        };
        if !host_dir.is_dir() || seen.contains(&host_dir) {
            continue;
        }
        seen.push(host_dir);
        for (file, kind) in [("rpmdb.sqlite", Kind::Sqlite), ("Packages", Kind::Bdb), ("Packages.db", Kind::Ndb)] {
            let path = join(dir, file);
            match fs.stat(&path) {
                Ok(None) => continue,
                Ok(Some(_)) => out.push(Ok((path, kind))),
                Err(problem) => out.push(Err((path, problem))),
            }
            break;
        }
    }
    out
}

/// Calls `f(package name, file paths)` for every package of the root's rpm
/// database (the first one found), one header at a time from an SQLite
/// database. Returns the database's path; `Err` when there is none or it
/// cannot be read. Unreadable records are skipped (the inventory reports them).
pub fn for_each_file_list(fs: &RootFs, mut f: impl FnMut(&str, Vec<String>)) -> Result<String, String> {
    let (path, kind) = match locate(fs).into_iter().next() {
        Some(Ok(found)) => found,
        Some(Err((path, problem))) => return Err(format!("{path}: {}", problem.message)),
        None => return Err("no rpm database".to_string()),
    };
    let mut each = |blob: &[u8]| {
        if let (Ok(h), Ok(files)) = (header::parse(blob), header::file_paths(blob)) {
            f(&h.name, files);
        }
    };
    match kind {
        Kind::Sqlite => {
            let host = fs.resolve(&path).map_err(|p| format!("{path}: {}", p.message))?;
            sqlite::for_each(&host, |row| {
                if let Ok((_, blob)) = row {
                    each(&blob);
                }
            })
            .map_err(|e| format!("{path}: {e}"))?;
        }
        Kind::Bdb => {
            let host = fs.resolve(&path).map_err(|p| format!("{path}: {}", p.message))?;
            let file = std::fs::File::open(&host).map_err(|e| format!("{path}: {}", io_message(&e)))?;
            for (_, value) in read_bdb(file).map_err(|e| format!("{path}: {e}"))?.records {
                if let Ok(blob) = value {
                    each(&blob);
                }
            }
        }
        Kind::Ndb => return Err(format!("{path}: rpm ndb databases (Packages.db) are not read yet")),
    }
    Ok(path)
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Bdb,
    Ndb,
}

fn read_db(fs: &RootFs, path: &str, kind: Kind) -> Outcome {
    let unreadable =
        |message: String| Outcome::Unreadable(PackageFormat::Rpm, path.to_string(), Problem::file(path, message));
    let host = match fs.resolve(path) {
        Ok(h) => h,
        Err(p) => return Outcome::Unreadable(PackageFormat::Rpm, path.to_string(), p),
    };
    // Open first, then check what was opened (no race between stat and open).
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&host)
    {
        Ok(f) => f,
        Err(e) => return unreadable(io_message(&e)),
    };
    match file.metadata() {
        Ok(m) if !m.is_file() => return unreadable("expected a regular file; not read".to_string()),
        Ok(m) if m.len() > MAX_RPMDB_SIZE => {
            return unreadable(format!("file is {} bytes, over the {MAX_RPMDB_SIZE} byte limit; not read", m.len()));
        }
        Ok(_) => {}
        Err(e) => return unreadable(io_message(&e)),
    }
    let (rows, mut problems) = match kind {
        Kind::Sqlite => match sqlite::read(&host) {
            Ok(rows) => split_rows(path, rows),
            Err(e) => return unreadable(e),
        },
        Kind::Bdb => match read_bdb(file) {
            Ok(contents) => {
                let mut problems: Vec<Problem> =
                    contents.problems.into_iter().map(|m| Problem::file(path, format!("Berkeley DB: {m}"))).collect();
                let mut rows = Vec::new();
                for (record, value) in contents.records {
                    match value {
                        Ok(blob) => rows.push((record, blob)),
                        Err(e) => problems.push(record_problem(path, record, &e)),
                    }
                }
                (rows, problems)
            }
            Err(e) => return unreadable(e),
        },
        Kind::Ndb => return unreadable("rpm ndb database (Packages.db): this format is not read yet".to_string()),
    };
    let mut packages = Vec::with_capacity(rows.len());
    for (record, blob) in rows {
        match header::parse(&blob) {
            Ok(h) if h.name == GPG_PUBKEY => {}
            Ok(h) => packages.push(to_package(path, record, h, &mut problems)),
            Err(e) => problems.push(record_problem(path, record, &format!("corrupt header: {e}"))),
        }
    }
    Outcome::Read(PackageInventory { format: PackageFormat::Rpm, database: path.to_string(), packages, problems })
}

fn read_bdb(file: File) -> Result<bdb::Contents, String> {
    let src = bdb::FileAt::new(file).map_err(|e| io_message(&e))?;
    bdb::read(&src)
}

type Rows = (Vec<(u32, Vec<u8>)>, Vec<Problem>);

fn split_rows(path: &str, rows: Vec<Result<(u32, Vec<u8>), String>>) -> Rows {
    let mut good = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for row in rows {
        match row {
            Ok(r) => good.push(r),
            Err(e) => problems.push(Problem::file(path, e)),
        }
    }
    (good, problems)
}

fn record_problem(path: &str, record: u32, message: &str) -> Problem {
    Problem::at_line(path, record, format!("record {record}: {message}"))
}

fn to_package(path: &str, record: u32, h: header::RpmHeader, problems: &mut Vec<Problem>) -> InstalledPackage {
    let version = h.evr();
    let (source_name, source_version) = match h.source_rpm.as_deref().map(|s| (s, header::split_source_rpm(s))) {
        Some((_, Some((name, ver, rel)))) => {
            let evr = match h.epoch {
                Some(e) => format!("{e}:{ver}-{rel}"),
                None => format!("{ver}-{rel}"),
            };
            (name.to_string(), evr)
        }
        Some((raw, None)) => {
            problems.push(record_problem(
                path,
                record,
                &format!("SOURCERPM {raw:?} is not name-version-release.src.rpm; the binary name and version are used"),
            ));
            (h.name.clone(), version.clone())
        }
        None => (h.name.clone(), version.clone()),
    };
    InstalledPackage {
        name: h.name,
        version,
        arch: h.arch,
        source_name,
        source_version,
        running_kernel: false,
        source: Source::file(path, record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_root(files: &[(&str, &str)]) -> (tempfile::TempDir, RootFs) {
        let dir = tempfile::tempdir().unwrap();
        for (name, dest) in files {
            let src = format!("{}/tests/fixtures/packages/rpm/{name}", env!("CARGO_MANIFEST_DIR"));
            let dest = dir.path().join(dest.trim_start_matches('/'));
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(src, dest).unwrap();
        }
        let fs = RootFs::open(dir.path()).unwrap();
        (dir, fs)
    }

    fn expected() -> Vec<(u32, String, String, String, String)> {
        // expected.txt: `rpm -qa` of the fixture: record, name, epoch:version-release, arch, sourcerpm.
        let text =
            std::fs::read_to_string(format!("{}/tests/fixtures/packages/rpm/expected.txt", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f[0].parse().unwrap(), f[1].to_string(), f[2].to_string(), f[3].to_string(), f[4].to_string())
            })
            .filter(|e| e.1 != GPG_PUBKEY)
            .collect()
    }

    fn check_against_rpm(inv: &PackageInventory) {
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let want = expected();
        assert_eq!(inv.packages.len(), want.len());
        for (p, (record, name, evr, arch, _srpm)) in inv.packages.iter().zip(&want) {
            assert_eq!(&p.name, name);
            assert_eq!(p.version, evr.trim_start_matches("(none):"));
            assert_eq!(p.arch.as_deref(), Some(arch.as_str()));
            assert_eq!(p.source, Source::file(&inv.database, *record));
        }
    }

    #[test]
    fn sqlite_database_matches_rpm_qa() {
        let (_d, fs) = fixture_root(&[("rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")]);
        let out = collect(&fs);
        assert_eq!(out.len(), 1);
        let Outcome::Read(inv) = &out[0] else { panic!("{out:?}") };
        assert_eq!(inv.database, "/var/lib/rpm/rpmdb.sqlite");
        check_against_rpm(inv);
        let libs = inv.packages.iter().find(|p| p.name == "openssl-libs").unwrap();
        assert_eq!(libs.version, "1:3.0.7-27.el9");
        assert_eq!((libs.source_name.as_str(), libs.source_version.as_str()), ("openssl", "1:3.0.7-27.el9"));
        let tz = inv.packages.iter().find(|p| p.name == "tzdata").unwrap();
        assert_eq!((tz.version.as_str(), tz.source_version.as_str()), ("2024a~rc1-1.fc40", "2024a~rc1-1.fc40"));
        assert!(inv.packages.iter().all(|p| p.name != GPG_PUBKEY));
    }

    #[test]
    fn berkeley_db_matches_rpm_qa() {
        for name in ["Packages", "Packages.hash512", "Packages.btree512", "Packages.hash512chksum"] {
            let (_d, fs) = fixture_root(&[(name, "/var/lib/rpm/Packages")]);
            let out = collect(&fs);
            let Outcome::Read(inv) = &out[0] else { panic!("{name}: {out:?}") };
            assert_eq!(inv.database, "/var/lib/rpm/Packages");
            check_against_rpm(inv);
        }
    }

    #[test]
    fn symlinked_dirs_are_read_once_and_sqlite_wins() {
        let (dir, fs) = fixture_root(&[
            ("rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite"),
            ("Packages", "/usr/lib/sysimage/rpm/Packages"),
        ]);
        std::fs::create_dir_all(dir.path().join("var/lib")).unwrap();
        std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", dir.path().join("var/lib/rpm")).unwrap();
        let out = collect(&fs);
        assert_eq!(out.len(), 1, "{out:?}");
        let Outcome::Read(inv) = &out[0] else { panic!() };
        assert_eq!(inv.database, "/usr/lib/sysimage/rpm/rpmdb.sqlite");
    }

    #[test]
    fn unreadable_databases_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
        std::fs::write(dir.path().join("var/lib/rpm/Packages"), b"not a berkeley db").unwrap();
        std::fs::create_dir_all(dir.path().join("usr/lib/sysimage/rpm/rpmdb.sqlite")).unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let out = collect(&fs);
        assert_eq!(out.len(), 2, "{out:?}");
        for o in &out {
            assert!(matches!(o, Outcome::Unreadable(PackageFormat::Rpm, ..)), "{o:?}");
        }
    }

    #[test]
    fn corrupt_records_are_problems_with_their_record_number() {
        let (dir, fs) = fixture_root(&[("rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")]);
        let db = dir.path().join("var/lib/rpm/rpmdb.sqlite");
        // Corrupt record 3 with the sqlite3 library (not the code under test).
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE Packages SET blob = substr(blob, 1, 100) WHERE hnum = 3", []).unwrap();
        drop(conn);
        let out = collect(&fs);
        let Outcome::Read(inv) = &out[0] else { panic!() };
        assert_eq!(inv.problems.len(), 1, "{:?}", inv.problems);
        assert_eq!(inv.problems[0].line, Some(3));
        assert!(inv.problems[0].message.starts_with("record 3: corrupt header"), "{}", inv.problems[0]);
        assert_eq!(inv.packages.len(), expected().len() - 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        #[test]
        fn mutated_real_headers_never_panic(
            record in 1u32..=6,
            edits in proptest::collection::vec((0usize..4000, proptest::num::u8::ANY), 1..8),
            cut in proptest::option::of(0usize..4000),
        ) {
            let path = format!("{}/tests/fixtures/packages/rpm/rpmdb.sqlite", env!("CARGO_MANIFEST_DIR"));
            let rows = sqlite::read(std::path::Path::new(&path)).unwrap();
            let (_, mut blob) = rows.into_iter().map(Result::unwrap).find(|(n, _)| *n == record).unwrap();
            for (at, b) in edits {
                let at = at % blob.len();
                blob[at] = b;
            }
            if let Some(cut) = cut {
                blob.truncate(cut % (blob.len() + 1));
            }
            if let Ok(h) = header::parse(&blob) {
                let mut problems = Vec::new();
                let _ = to_package("/var/lib/rpm/rpmdb.sqlite", record, h, &mut problems);
            }
        }
    }
}
