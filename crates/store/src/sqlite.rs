//! The embedded SQLite backend of [`FleetStore`].
//!
//! Why it is shaped this way: one connection behind a mutex is the simplest
//! correct writer for SQLite (it has one writer anyway), and WAL lets the
//! database file be read by backups and `sqlite3` while the server runs.
//! `synchronous=NORMAL` in WAL mode keeps every committed transaction across
//! a process crash (SIGKILL); only an OS crash may lose the last commits.
//! Every SQLite-specific word (PRAGMAs, `INSERT OR IGNORE`, `WITHOUT ROWID`)
//! stays in this file, its `sqlite_*.rs` modules and `migrations/sqlite/`.
//!
//! Layout: this file holds the connection, the migrations, the row mappers
//! and helpers every domain shares, [`FleetStore`] itself, and the findings
//! and exclusions ([`FindingStore`], [`InspectorFindingStore`]); each other
//! domain trait is implemented in its own `sqlite_<domain>.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::prelude::*;
use warden_model::Severity;

use crate::{
    Agent, Attribute, Exclusion, FindingQuery, FleetStore, Limits, NewFinding, ReportJob, ReportJobStatus, Result, Run,
    RunAgent, RunState, StateChange, StopAction, StoreError, Target, TelemetryCount, Template, UnixMillis,
    empty_counts, model::Finding, new_id,
};

/// Numbered migrations; `PRAGMA user_version` is the last one applied.
///
/// 0002-0005 were laid out together so the Inspector API's areas could grow
/// in parallel; a migration with nothing to do is a comment only.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "0001_fleet.sql", include_str!("../migrations/sqlite/0001_fleet.sql")),
    (2, "0002_inspector_templates_runs.sql", include_str!("../migrations/sqlite/0002_inspector_templates_runs.sql")),
    (3, "0003_inspector_findings.sql", include_str!("../migrations/sqlite/0003_inspector_findings.sql")),
    (
        4,
        "0004_inspector_agents_exclusions.sql",
        include_str!("../migrations/sqlite/0004_inspector_agents_exclusions.sql"),
    ),
    (5, "0005_inspector_reports.sql", include_str!("../migrations/sqlite/0005_inspector_reports.sql")),
    (6, "0006_target_network.sql", include_str!("../migrations/sqlite/0006_target_network.sql")),
    (7, "0007_finding_attribute_writes.sql", include_str!("../migrations/sqlite/0007_finding_attribute_writes.sql")),
];

/// The SQLite fleet store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Checked by every create, inside its transaction (`sqlite_limits.rs`).
    limits: Limits,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("store values always serialise")
}

fn from_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("{column}: {e}").into())
    })
}

fn parsed<T: std::str::FromStr<Err = String>>(text: &str) -> rusqlite::Result<T> {
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into()))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("{}: cannot create directory: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        let store = SqliteStore { conn: Mutex::new(conn), path: Some(path.to_path_buf()), limits: Limits::UNLIMITED };
        store.setup()?;
        Ok(store)
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        let store = SqliteStore { conn: Mutex::new(conn), path: None, limits: Limits::UNLIMITED };
        store.setup()?;
        Ok(store)
    }

    /// The same store with `limits`. A store is opened without limits: the
    /// policy is the server's (`warden serve` applies Inspector's defaults
    /// or its `--limit-*` flags), not the library's.
    pub fn with_limits(mut self, limits: Limits) -> SqliteStore {
        self.limits = limits;
        self
    }

    /// The limits every create is checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The schema version applied (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        self.with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
    }

    /// The newest migration this build knows.
    pub fn latest_schema_version() -> u32 {
        MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
    }

    fn setup(&self) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(backend)?;
        let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
        let latest = Self::latest_schema_version();
        if current > latest {
            return Err(StoreError::Backend(format!(
                "database schema version {current} is newer than this Warden knows ({latest}); upgrade Warden"
            )));
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute_batch(sql).map_err(|e| StoreError::Backend(format!("migration {name}: {e}")))?;
            tx.pragma_update(None, "user_version", version).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(backend)
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    fn one<T>(&self, what: &'static str, id: &str, sql: &str, map: fn(&Row) -> rusqlite::Result<T>) -> Result<T> {
        self.with(|c| c.prepare_cached(sql)?.query_row([id], map).optional())?
            .ok_or_else(|| StoreError::NotFound(what, id.to_string()))
    }

    fn all<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        map: fn(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.with(|c| c.prepare_cached(sql)?.query_map(params, map)?.collect())
    }
}

/// A transaction that takes the write lock at once: a limit count and the
/// insert it guards must not interleave with another writer's.
fn immediate(c: &mut Connection) -> Result<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)
}

/// A unique-key violation becomes a `Conflict` with `message`.
fn taken(message: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| if is_unique_violation(&e) { StoreError::Conflict(message()) } else { backend(e) }
}

const AGENT_COLUMNS: &str =
    "id, public_key, tags, host, enrolled_at, last_heartbeat_at, activity, activity_details, retired_at";

fn agent_from(r: &Row) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: r.get(0)?,
        public_key: r.get(1)?,
        tags: from_json("agents.tags", &r.get::<_, String>(2)?)?,
        host: from_json("agents.host", &r.get::<_, String>(3)?)?,
        enrolled_at: r.get(4)?,
        last_heartbeat_at: r.get(5)?,
        activity: r.get(6)?,
        activity_details: r.get(7)?,
        retired_at: r.get(8)?,
    })
}

const TARGET_COLUMNS: &str = "id, name, resource_group_id, agent_ids, created_at, updated_at";

fn target_from(r: &Row) -> rusqlite::Result<Target> {
    Ok(Target {
        id: r.get(0)?,
        name: r.get(1)?,
        resource_group_id: r.get(2)?,
        agent_ids: from_json("targets.agent_ids", &r.get::<_, String>(3)?)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

const TEMPLATE_COLUMNS: &str =
    "id, target_id, name, duration_seconds, sampling_interval_seconds, packages, user_attributes, created_at";

fn template_from(r: &Row) -> rusqlite::Result<Template> {
    Ok(Template {
        id: r.get(0)?,
        target_id: r.get(1)?,
        name: r.get(2)?,
        duration_seconds: r.get(3)?,
        sampling_interval_seconds: r.get(4)?,
        packages: from_json("templates.packages", &r.get::<_, String>(5)?)?,
        user_attributes: from_json("templates.user_attributes", &r.get::<_, String>(6)?)?,
        created_at: r.get(7)?,
    })
}

const RUN_COLUMNS: &str = "r.id, r.template_id, t.target_id, r.name, r.state, r.duration_seconds, \
     r.sampling_interval_seconds, r.packages, r.user_attributes, r.created_at, r.started_at, r.collect_until, \
     r.stop_requested_at, r.stop_action, r.completed_at, r.state_changed_at, r.data_collected, r.failure";

fn run_from(r: &Row) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        template_id: r.get(1)?,
        target_id: r.get(2)?,
        name: r.get(3)?,
        state: parsed(&r.get::<_, String>(4)?)?,
        duration_seconds: r.get(5)?,
        sampling_interval_seconds: r.get(6)?,
        packages: from_json("runs.packages", &r.get::<_, String>(7)?)?,
        user_attributes: from_json("runs.user_attributes", &r.get::<_, String>(8)?)?,
        created_at: r.get(9)?,
        started_at: r.get(10)?,
        collect_until: r.get(11)?,
        stop_requested_at: r.get(12)?,
        stop_action: r.get::<_, Option<String>>(13)?.map(|s| parsed::<StopAction>(&s)).transpose()?,
        completed_at: r.get(14)?,
        state_changed_at: r.get(15)?,
        data_collected: r.get(16)?,
        failure: r.get(17)?,
        state_changes: Vec::new(),
    })
}

fn load_run(c: &Connection, id: &str) -> Result<Run> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs r JOIN templates t ON t.id = r.template_id WHERE r.id = ?1");
    let mut run = c
        .query_row(&sql, [id], run_from)
        .optional()
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound("run", id.to_string()))?;
    run.state_changes = state_changes(c, id).map_err(backend)?;
    Ok(run)
}

fn state_changes(c: &Connection, id: &str) -> rusqlite::Result<Vec<StateChange>> {
    let mut stmt =
        c.prepare_cached("SELECT state, changed_at FROM run_state_changes WHERE run_id = ?1 ORDER BY position")?;
    let rows =
        stmt.query_map([id], |r| Ok(StateChange { state: parsed(&r.get::<_, String>(0)?)?, changed_at: r.get(1)? }))?;
    rows.collect()
}

/// Inserts run `id` of `template` in state CREATED, with the template's
/// duration, packages and attributes copied, its first state change, and the
/// default name "Run N for TEMPLATE" unless `name` is given. Both ways of
/// making a run (the fleet API's and the Inspector API's exclusive start)
/// call it inside their own transaction.
fn insert_created_run(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    template: &Template,
    name: Option<&str>,
    now: UnixMillis,
) -> Result<()> {
    let count: u64 = tx
        .query_row("SELECT COUNT(*) FROM runs WHERE template_id = ?1", [&template.id], |r| r.get(0))
        .map_err(backend)?;
    let name = match name {
        Some(name) => name.to_string(),
        // "Run N+1" may be taken when an earlier run was deleted: the next free number.
        None => {
            let mut number = count + 1;
            loop {
                let candidate = format!("Run {number} for {}", template.name);
                let taken: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM runs WHERE template_id = ?1 AND name = ?2)",
                        params![template.id, candidate],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                if !taken {
                    break candidate;
                }
                number += 1;
            }
        }
    };
    tx.execute(
        "INSERT INTO runs (id, template_id, name, state, duration_seconds, sampling_interval_seconds, packages, \
         user_attributes, created_at, state_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            id,
            template.id,
            name,
            RunState::Created.as_str(),
            template.duration_seconds,
            template.sampling_interval_seconds,
            json(&template.packages),
            json(&template.user_attributes),
            now
        ],
    )
    .map_err(taken(|| format!("run name {name:?} is already taken for this template")))?;
    push_state(tx, id, RunState::Created, now).map_err(backend)
}

fn push_state(c: &Connection, id: &str, state: RunState, now: UnixMillis) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO run_state_changes (run_id, position, state, changed_at) \
         VALUES (?1, (SELECT COUNT(*) FROM run_state_changes WHERE run_id = ?1), ?2, ?3)",
        params![id, state.as_str(), now],
    )?;
    Ok(())
}

const RUN_AGENT_COLUMNS: &str = "run_id, agent_id, status, status_details, reported_phase, reported_last_seq, \
     assigned_at, last_contact_at, first_telemetry_at, last_telemetry_at";

fn run_agent_from(r: &Row) -> rusqlite::Result<RunAgent> {
    run_agent_at(r, 0)
}

/// A run agent from the columns of [`RUN_AGENT_COLUMNS`] starting at `base`.
fn run_agent_at(r: &Row, base: usize) -> rusqlite::Result<RunAgent> {
    Ok(RunAgent {
        run_id: r.get(base)?,
        agent_id: r.get(base + 1)?,
        status: parsed(&r.get::<_, String>(base + 2)?)?,
        status_details: r.get(base + 3)?,
        reported_phase: r.get(base + 4)?,
        reported_last_seq: r.get(base + 5)?,
        assigned_at: r.get(base + 6)?,
        last_contact_at: r.get(base + 7)?,
        first_telemetry_at: r.get(base + 8)?,
        last_telemetry_at: r.get(base + 9)?,
        telemetry: Vec::new(),
    })
}

fn telemetry_counts(c: &Connection, run_id: &str, agent_id: &str) -> rusqlite::Result<Vec<TelemetryCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT kind, COUNT(*), SUM(size) FROM telemetry WHERE run_id = ?1 AND agent_id = ?2 GROUP BY kind ORDER BY kind",
    )?;
    let rows = stmt.query_map([run_id, agent_id], |r| {
        Ok(TelemetryCount { kind: r.get(0)?, count: r.get(1)?, bytes: r.get(2)? })
    })?;
    rows.collect()
}

const FINDING_COLUMNS: &str = "id, run_id, agent_id, package, rule_id, title, severity, numeric_severity, description, \
     recommendation, evidence, attributes, user_attributes, asset, created_at, updated_at";

fn finding_from(r: &Row) -> rusqlite::Result<Finding> {
    Ok(Finding {
        id: r.get(0)?,
        run_id: r.get(1)?,
        finding: NewFinding {
            agent_id: r.get(2)?,
            package: r.get(3)?,
            rule_id: r.get(4)?,
            title: r.get(5)?,
            severity: parsed::<Severity>(&r.get::<_, String>(6)?)?,
            numeric_severity: r.get(7)?,
            description: r.get(8)?,
            recommendation: r.get(9)?,
            evidence: from_json("findings.evidence", &r.get::<_, String>(10)?)?,
            attributes: from_json("findings.attributes", &r.get::<_, String>(11)?)?,
            user_attributes: from_json("findings.user_attributes", &r.get::<_, String>(12)?)?,
            asset: from_json("findings.asset", &r.get::<_, String>(13)?)?,
        },
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
    })
}

fn severity_rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

/// Non-terminal states as SQL string literals (they are fixed identifiers, never input).
fn active_states_sql() -> String {
    RunState::ALL.iter().filter(|s| !s.is_terminal()).map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",")
}

fn runs_in_progress(c: &Connection, where_clause: &str, id: &str) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT r.id FROM runs r JOIN templates t ON t.id = r.template_id WHERE {where_clause} AND r.state IN ({})",
        active_states_sql()
    );
    let mut stmt = c.prepare(&sql).map_err(backend)?;
    let ids = stmt.query_map([id], |r| r.get(0)).map_err(backend)?.collect::<rusqlite::Result<Vec<String>>>();
    ids.map_err(backend)
}

/// An exclusion from `run_id, agent_id, package, reason, created_at, kind`.
fn exclusion_from(r: &Row) -> rusqlite::Result<Exclusion> {
    exclusion_at(r, 0)
}

/// An exclusion from the columns of [`exclusion_from`] starting at `base`.
fn exclusion_at(r: &Row, base: usize) -> rusqlite::Result<Exclusion> {
    Ok(Exclusion {
        run_id: r.get(base)?,
        agent_id: r.get(base + 1)?,
        package: r.get(base + 2)?,
        reason: r.get(base + 3)?,
        created_at: r.get(base + 4)?,
        kind: r.get(base + 5)?,
    })
}

/// An exclusion with its id, from `exclusion_id` then [`exclusion_from`]'s columns.
fn exclusion_record_from(r: &Row) -> rusqlite::Result<crate::ExclusionRecord> {
    Ok(crate::ExclusionRecord { id: r.get(0)?, exclusion: exclusion_at(r, 1)? })
}

/// The stored kind of an exclusion: `other` when the caller did not classify it.
fn exclusion_kind(kind: &str) -> &str {
    if kind.is_empty() { "other" } else { kind }
}

const EXCLUSION_RECORD_COLUMNS: &str = "exclusion_id, run_id, agent_id, package, reason, created_at, kind";

fn preview_job_from(r: &Row) -> rusqlite::Result<crate::ExclusionPreviewJob> {
    Ok(crate::ExclusionPreviewJob {
        token: r.get(0)?,
        template_id: r.get(1)?,
        completed: r.get::<_, String>(2)? == "COMPLETED",
        created_at: r.get(3)?,
        completed_at: r.get(4)?,
    })
}

fn usize_param(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

const REPORT_JOB_COLUMNS: &str = "id, run_id, file_format, report_type, status, source_revision, file_name, file_bytes, \
     failure, created_at, updated_at";

fn report_job_from(r: &Row) -> rusqlite::Result<ReportJob> {
    Ok(ReportJob {
        id: r.get(0)?,
        run_id: r.get(1)?,
        file_format: r.get(2)?,
        report_type: r.get(3)?,
        status: parsed::<ReportJobStatus>(&r.get::<_, String>(4)?)?,
        source_revision: r.get(5)?,
        file_name: r.get(6)?,
        file_bytes: r.get::<_, Option<i64>>(7)?.map(|n| n as u64),
        failure: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

impl FleetStore for SqliteStore {
    fn ready(&self) -> Result<()> {
        let v = self.schema_version()?;
        if v != Self::latest_schema_version() {
            return Err(StoreError::Backend(format!("schema version {v}, expected {}", Self::latest_schema_version())));
        }
        self.with(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ()))
    }

    fn size_bytes(&self) -> u64 {
        let Some(path) = &self.path else { return 0 };
        let _ = self.with(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())));
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        [path.clone(), wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
    }
}

impl FindingStore for SqliteStore {
    fn insert_findings(&self, run_id: &str, findings: &[NewFinding], now: UnixMillis) -> Result<Vec<String>> {
        self.with(|c| finding_writes::insert_findings(c, run_id, findings, now))
    }

    fn list_findings(&self, q: &FindingQuery) -> Result<Vec<Finding>> {
        // Filters are applied in Rust over the run-scoped rows: the queries
        // come from operators, not from agents, and this keeps one SQL text
        // valid on every backend.
        let rows: Vec<Finding> = self.with(|c| {
            let mut out = Vec::new();
            if q.run_ids.is_empty() {
                let mut stmt = c.prepare(&format!("SELECT {FINDING_COLUMNS} FROM findings"))?;
                out.extend(stmt.query_map([], finding_from)?.collect::<rusqlite::Result<Vec<_>>>()?);
            } else {
                let mut stmt =
                    c.prepare_cached(&format!("SELECT {FINDING_COLUMNS} FROM findings WHERE run_id = ?1"))?;
                for run in &q.run_ids {
                    out.extend(stmt.query_map([run], finding_from)?.collect::<rusqlite::Result<Vec<_>>>()?);
                }
            }
            Ok(out)
        })?;
        let keep = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        let mut out: Vec<Finding> = rows
            .into_iter()
            .filter(|f| {
                keep(&q.agent_ids, &f.finding.agent_id)
                    && keep(&q.packages, &f.finding.package)
                    && keep(&q.rule_ids, &f.finding.rule_id)
                    && (q.severities.is_empty() || q.severities.contains(&f.finding.severity))
            })
            .collect();
        out.sort_by(|a, b| {
            severity_rank(a.finding.severity)
                .cmp(&severity_rank(b.finding.severity))
                .then_with(|| a.finding.agent_id.cmp(&b.finding.agent_id))
                .then_with(|| a.finding.package.cmp(&b.finding.package))
                .then_with(|| a.finding.rule_id.cmp(&b.finding.rule_id))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    fn get_finding(&self, id: &str) -> Result<Finding> {
        self.one("finding", id, &format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id = ?1"), finding_from)
    }

    fn set_finding_user_attributes(&self, id: &str, attributes: &[Attribute], now: UnixMillis) -> Result<Finding> {
        let n = self.with(|c| {
            c.execute(
                "UPDATE findings SET user_attributes = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, json(&attributes), now],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("finding", id.to_string()));
        }
        self.get_finding(id)
    }

    fn finding_counts(&self, run_id: &str) -> Result<BTreeMap<Severity, u64>> {
        let rows: Vec<(String, u64)> = self.with(|c| {
            let mut stmt =
                c.prepare_cached("SELECT severity, COUNT(*) FROM findings WHERE run_id = ?1 GROUP BY severity")?;
            let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let mut out = empty_counts();
        for (s, n) in rows {
            if let Ok(s) = s.parse::<Severity>() {
                out.insert(s, n);
            }
        }
        Ok(out)
    }

    fn clear_run_results(&self, run_id: &str) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM findings WHERE run_id = ?1", [run_id])?;
            tx.execute("DELETE FROM run_exclusions WHERE run_id = ?1", [run_id])?;
            tx.commit()
        })
    }

    fn add_exclusion(&self, e: &Exclusion) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO run_exclusions (run_id, agent_id, package, reason, created_at, exclusion_id, kind) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.run_id, e.agent_id, e.package, e.reason, e.created_at, new_id(), exclusion_kind(&e.kind)],
            )
        })?;
        Ok(())
    }

    fn list_exclusions(&self, run_id: &str) -> Result<Vec<Exclusion>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT run_id, agent_id, package, reason, created_at, kind FROM run_exclusions WHERE run_id = ?1 ORDER BY agent_id, package",
            )?;
            let rows = stmt.query_map([run_id], exclusion_from)?;
            rows.collect()
        })
    }
}

/// The Inspector API's findings (migration 0003): SQL in `sqlite_inspector_findings.rs`.
impl InspectorFindingStore for SqliteStore {
    fn list_finding_keys(&self, query: &crate::FindingPageQuery) -> Result<Vec<crate::FindingKey>> {
        self.with(|c| inspector_findings::list_finding_keys(c, query))
    }

    fn describe_findings(&self, ids: &[String]) -> Result<Vec<crate::FindingDetail>> {
        self.with(|c| inspector_findings::describe_findings(c, ids))
    }

    fn edit_finding_user_attributes(
        &self,
        ids: &[String],
        add: &[Attribute],
        remove: &[String],
        max: usize,
        now: UnixMillis,
    ) -> Result<Vec<crate::UserAttributeEdit>> {
        self.with(|c| inspector_findings::edit_user_attributes(c, ids, add, remove, max, now))
    }
}

#[path = "sqlite_agents.rs"]
mod agents;
#[path = "sqlite_inspector_agents.rs"]
mod inspector_agents;
/// The Inspector API's findings queries (migration 0003).
#[path = "sqlite_inspector_findings.rs"]
mod inspector_findings;

/// Storing findings and their attribute rows (migration 0007).
#[path = "sqlite_finding_writes.rs"]
mod finding_writes;
#[path = "sqlite_limits.rs"]
mod limits;
#[path = "sqlite_reports.rs"]
mod reports;
#[path = "sqlite_runs.rs"]
mod runs;
#[path = "sqlite_target_network.rs"]
mod target_network;
#[path = "sqlite_targets.rs"]
mod targets;
#[path = "sqlite_templates_runs.rs"]
mod templates_runs;

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
