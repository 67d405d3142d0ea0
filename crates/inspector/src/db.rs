//! The SQLite file this crate shares with the fleet store, and its own migrations.
//!
//! Why it exists: API keys, event subscriptions and the delivery log live in
//! the server's database file (`--db`), next to the fleet store's tables. The
//! fleet store versions its schema with `PRAGMA user_version`; this crate
//! never touches that and keeps its own bookkeeping table,
//! `inspector_migrations (component, version)`, and only `inspector_*` tables.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, params};

/// Opens (creating if needed) the database file with the settings every
/// writer of it uses: WAL, a busy timeout, foreign keys on.
pub fn open(path: &Path) -> Result<Connection, String> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    }
    let conn = Connection::open(path).map_err(|e| format!("{}: cannot open database: {e}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(|e| format!("{}: {e}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| format!("{}: {e}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}

/// Applies the steps of `component` not applied yet, each in its own
/// transaction (step `i` is version `i + 1`).
pub fn migrate(conn: &mut Connection, component: &str, steps: &[&str]) -> Result<(), String> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS inspector_migrations (
             component TEXT NOT NULL, version INTEGER NOT NULL, applied_at INTEGER NOT NULL,
             PRIMARY KEY (component, version))",
    )
    .map_err(|e| format!("inspector_migrations: {e}"))?;
    let applied: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM inspector_migrations WHERE component = ?1",
            [component],
            |r| r.get(0),
        )
        .map_err(|e| format!("inspector_migrations: {e}"))?;
    for (i, sql) in steps.iter().enumerate().skip(applied.max(0) as usize) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql).map_err(|e| format!("{component} migration {}: {e}", i + 1))?;
        tx.execute(
            "INSERT INTO inspector_migrations (component, version, applied_at) VALUES (?1, ?2, ?3)",
            params![component, i as i64 + 1, crate::timestamp::unix_now()],
        )
        .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| format!("{component} migration {}: {e}", i + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_leave_user_version_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut conn = open(&path).unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
        let steps = ["CREATE TABLE inspector_t (a INTEGER)", "ALTER TABLE inspector_t ADD COLUMN b TEXT"];
        migrate(&mut conn, "test", &steps).unwrap();
        migrate(&mut conn, "test", &steps).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, 7);
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM inspector_migrations WHERE component='test'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        conn.execute("INSERT INTO inspector_t (a, b) VALUES (1, 'x')", []).unwrap();
    }
}
