//! A reader for rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16 and later:
//! RHEL 9 and its rebuilds, Fedora 33+, Amazon Linux 2023, CBL-Mariner 2).
//!
//! Why it exists: the header blobs of the installed packages are the rows of
//! its `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)` table; `hnum` is rpm's
//! record number (header instance).
//!
//! The database is opened read-only, without a mutex, and with the URI
//! parameter `immutable=1`: SQLite then takes no lock and writes nothing (no
//! `-shm`/`-wal` file is created or changed), so the assessed root is left
//! exactly as it was, even on a read-only mount. The cost: a transaction still
//! sitting in a non-empty `rpmdb.sqlite-wal` (rpm killed mid-transaction; rpm
//! checkpoints and leaves the WAL empty when it closes cleanly) is not seen.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// One row: record number and header blob.
pub type Row = (u32, Vec<u8>);

/// Reads every `(hnum, blob)` row of `Packages`, ordered by `hnum`. `Err`
/// when the file is not an SQLite database with that table. A row whose
/// `hnum` is not a valid record number or whose blob is not a blob is an
/// `Err` inside the list.
pub fn read(host_path: &Path) -> Result<Vec<Result<Row, String>>, String> {
    let mut out = Vec::new();
    for_each(host_path, |row| out.push(row))?;
    Ok(out)
}

/// [`read`] one row at a time: only one blob is held at once, so a large
/// database (100 MB on a full RHEL host) is scanned in little memory.
pub fn for_each(host_path: &Path, mut f: impl FnMut(Result<Row, String>)) -> Result<(), String> {
    let uri = format!("file:{}?immutable=1", uri_escape(host_path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(&uri, flags).map_err(|e| format!("cannot open as SQLite: {e}"))?;
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(|e| format!("not an rpm SQLite database: {e}"))?;
    let rows = stmt
        .query_map([], |row| {
            let hnum: i64 = row.get(0)?;
            let blob: rusqlite::Result<Vec<u8>> = row.get(1);
            Ok((hnum, blob))
        })
        .map_err(|e| format!("cannot read the Packages table: {e}"))?;
    for row in rows {
        f(match row {
            Ok((hnum, Ok(blob))) => match u32::try_from(hnum) {
                Ok(n) => Ok((n, blob)),
                Err(_) => Err(format!("record number {hnum} out of range")),
            },
            Ok((hnum, Err(e))) => Err(format!("record {hnum}: blob column: {e}")),
            Err(e) => Err(format!("cannot read a row: {e}")),
        });
    }
    Ok(())
}

/// Percent-escapes a path for an SQLite `file:` URI (everything but
/// unreserved characters and `/`).
fn uri_escape(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_uri_specials() {
        assert_eq!(uri_escape(Path::new("/a b/c?d#e%f")), "/a%20b/c%3Fd%23e%25f");
    }

    #[test]
    fn reads_the_fixture_without_writing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let src = format!("{}/tests/fixtures/packages/rpm/rpmdb.sqlite", env!("CARGO_MANIFEST_DIR"));
        // A directory name that needs escaping in the URI.
        let sub = dir.path().join("a dir?#");
        std::fs::create_dir(&sub).unwrap();
        let db = sub.join("rpmdb.sqlite");
        std::fs::copy(src, &db).unwrap();
        let before = std::fs::read(&db).unwrap();
        let rows = read(&db).unwrap();
        assert_eq!(rows.len(), 6);
        assert!(rows.iter().all(|r| r.is_ok()));
        assert_eq!(std::fs::read(&db).unwrap(), before);
        let names: Vec<_> = std::fs::read_dir(&sub).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "nothing created beside the database: {names:?}");
    }

    #[test]
    fn not_sqlite_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rpmdb.sqlite");
        std::fs::write(&db, b"this is not a database, just some text that is long enough to matter....").unwrap();
        assert!(read(&db).is_err());
        let empty = dir.path().join("empty.sqlite");
        std::fs::write(&empty, b"").unwrap();
        assert!(read(&empty).unwrap_err().contains("not an rpm SQLite database"));
    }
}
