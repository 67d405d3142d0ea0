//! The embedded SQLite backend of [`FleetStore`].
//!
//! Why it is shaped this way: one connection behind a mutex is the simplest
//! correct writer for SQLite (it has one writer anyway), and WAL lets the
//! database file be read by backups and `sqlite3` while the server runs.
//! `synchronous=NORMAL` in WAL mode keeps every committed transaction across
//! a process crash (SIGKILL); only an OS crash may lose the last commits.
//! Every SQLite-specific word (PRAGMAs, `INSERT OR IGNORE`, `WITHOUT ROWID`)
//! stays in this file and in `migrations/sqlite/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use warden_model::Severity;

use crate::{
    Agent, AgentHostInfo, ApiToken, Attribute, EnrollToken, Exclusion, FindingQuery, FleetStore, LimitKind, Limits,
    NewFinding, NewTemplate, PutOutcome, ReportJob, ReportJobResult, ReportJobStatus, ResourceGroup, Result, Run,
    RunAgent, RunAgentStatus, RunRuleOutcome, RunState, RunUpdate, StateChange, StopAction, StoreError, Target,
    TelemetryCount, TelemetryRecord, Template, UnixMillis, can_transition, empty_counts, model::Finding, new_id,
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

    fn insert_api_token(&self, name: &str, token_hash: &[u8], now: UnixMillis) -> Result<ApiToken> {
        let t = ApiToken { id: new_id(), name: name.to_string(), created_at: now };
        self.with(|c| {
            c.execute(
                "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![t.id, t.name, token_hash, now],
            )
        })?;
        Ok(t)
    }

    fn api_token_valid(&self, token_hash: &[u8]) -> Result<bool> {
        self.with(|c| c.prepare_cached("SELECT 1 FROM api_tokens WHERE token_hash = ?1")?.exists([token_hash]))
    }

    fn api_token_count(&self) -> Result<u64> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM api_tokens", [], |r| r.get(0)))
    }

    fn insert_enroll_token(
        &self,
        token_hash: &[u8],
        uses: u32,
        expires_at: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Result<EnrollToken> {
        let t = EnrollToken { id: new_id(), uses_left: uses, uses: 0, expires_at, created_at: now };
        self.with(|c| {
            c.execute(
                "INSERT INTO enroll_tokens (id, token_hash, uses_left, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![t.id, token_hash, uses, expires_at, now],
            )
        })?;
        Ok(t)
    }

    fn consume_enroll_token(&self, token_hash: &[u8], now: UnixMillis) -> Result<()> {
        self.with_store(|c| {
            let row: Option<(u32, Option<i64>)> = c
                .query_row("SELECT uses_left, expires_at FROM enroll_tokens WHERE token_hash = ?1", [token_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(backend)?;
            match row {
                None => Err(StoreError::Conflict("unknown enroll token".into())),
                Some((_, Some(exp))) if exp <= now => Err(StoreError::Conflict("enroll token expired".into())),
                Some((0, _)) => Err(StoreError::Conflict("enroll token used up".into())),
                Some(_) => {
                    // The uses_left > 0 guard makes two racing enrollments unable to overdraw.
                    let n = c
                        .execute(
                            "UPDATE enroll_tokens SET uses_left = uses_left - 1, uses = uses + 1 \
                             WHERE token_hash = ?1 AND uses_left > 0",
                            [token_hash],
                        )
                        .map_err(backend)?;
                    if n == 1 { Ok(()) } else { Err(StoreError::Conflict("enroll token used up".into())) }
                }
            }
        })
    }

    fn list_enroll_tokens(&self) -> Result<Vec<EnrollToken>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT id, uses_left, uses, expires_at, created_at FROM enroll_tokens ORDER BY created_at")?;
            let rows = stmt.query_map([], |r| {
                Ok(EnrollToken {
                    id: r.get(0)?,
                    uses_left: r.get(1)?,
                    uses: r.get(2)?,
                    expires_at: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })?;
            rows.collect()
        })
    }

    fn insert_agent(&self, a: &Agent) -> Result<()> {
        self.with(|c| {
            c.execute(
                &format!("INSERT INTO agents ({AGENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    a.id,
                    a.public_key,
                    json(&a.tags),
                    json(&a.host),
                    a.enrolled_at,
                    a.last_heartbeat_at,
                    a.activity,
                    a.activity_details,
                    a.retired_at
                ],
            )
        })?;
        Ok(())
    }

    fn get_agent(&self, id: &str) -> Result<Agent> {
        self.one("agent", id, &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1"), agent_from)
    }

    fn list_agents(&self) -> Result<Vec<Agent>> {
        self.all(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY enrolled_at, id"), [], agent_from)
    }

    fn record_heartbeat(
        &self,
        id: &str,
        activity: &str,
        details: Option<&str>,
        host: &AgentHostInfo,
        now: UnixMillis,
    ) -> Result<()> {
        let n = self.with(|c| {
            c.prepare_cached(
                "UPDATE agents SET last_heartbeat_at = ?2, activity = ?3, activity_details = ?4, host = ?5 WHERE id = ?1",
            )?
            .execute(params![id, now, activity, details, json(host)])
        })?;
        if n == 0 { Err(StoreError::NotFound("agent", id.to_string())) } else { Ok(()) }
    }

    fn retire_agent(&self, id: &str, now: UnixMillis) -> Result<Agent> {
        self.with(|c| {
            c.execute("UPDATE agents SET retired_at = COALESCE(retired_at, ?2) WHERE id = ?1", params![id, now])
        })?;
        self.get_agent(id)
    }

    fn remember_nonce(&self, agent_id: &str, nonce: &str, now: UnixMillis) -> Result<bool> {
        let n = self.with(|c| {
            c.prepare_cached("INSERT OR IGNORE INTO agent_nonces (agent_id, nonce, seen_at) VALUES (?1, ?2, ?3)")?
                .execute(params![agent_id, nonce, now])
        })?;
        Ok(n == 1)
    }

    fn prune_nonces(&self, before: UnixMillis) -> Result<u64> {
        self.with(|c| c.execute("DELETE FROM agent_nonces WHERE seen_at < ?1", [before]).map(|n| n as u64))
    }

    fn create_resource_group(&self, tags: &[Attribute], now: UnixMillis) -> Result<ResourceGroup> {
        let g = ResourceGroup { id: new_id(), tags: tags.to_vec(), created_at: now };
        self.with_store(|c| {
            let tx = immediate(c)?;
            limits::check_room(&tx, &self.limits, LimitKind::ResourceGroups)?;
            tx.execute(
                "INSERT INTO resource_groups (id, tags, created_at) VALUES (?1, ?2, ?3)",
                params![g.id, json(&g.tags), now],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })?;
        Ok(g)
    }

    fn get_resource_group(&self, id: &str) -> Result<ResourceGroup> {
        self.with(|c| {
            c.query_row("SELECT id, tags, created_at FROM resource_groups WHERE id = ?1", [id], |r| {
                Ok(ResourceGroup {
                    id: r.get(0)?,
                    tags: from_json("resource_groups.tags", &r.get::<_, String>(1)?)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()
        })?
        .ok_or_else(|| StoreError::NotFound("resource group", id.to_string()))
    }

    fn create_target(
        &self,
        name: &str,
        resource_group_id: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target> {
        if let Some(g) = resource_group_id {
            self.get_resource_group(g)?;
        }
        let t = Target {
            id: new_id(),
            name: name.to_string(),
            resource_group_id: resource_group_id.map(str::to_string),
            agent_ids: agent_ids.to_vec(),
            created_at: now,
            updated_at: now,
        };
        self.with_store(|c| {
            let tx = immediate(c)?;
            limits::check_room(&tx, &self.limits, LimitKind::Targets)?;
            tx.execute(
                &format!("INSERT INTO targets ({TARGET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![t.id, t.name, t.resource_group_id, json(&t.agent_ids), now, now],
            )
            .map_err(taken(|| format!("target name {name:?} is already taken")))?;
            tx.commit().map_err(backend)
        })?;
        Ok(t)
    }

    fn get_target(&self, id: &str) -> Result<Target> {
        self.one("target", id, &format!("SELECT {TARGET_COLUMNS} FROM targets WHERE id = ?1"), target_from)
    }

    fn list_targets(&self) -> Result<Vec<Target>> {
        self.all(&format!("SELECT {TARGET_COLUMNS} FROM targets ORDER BY created_at, id"), [], target_from)
    }

    fn update_target(
        &self,
        id: &str,
        name: &str,
        resource_group_id: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target> {
        if let Some(g) = resource_group_id {
            self.get_resource_group(g)?;
        }
        let n = self.with_store(|c| {
            c.execute(
                "UPDATE targets SET name = ?2, resource_group_id = ?3, agent_ids = ?4, updated_at = ?5 WHERE id = ?1",
                params![id, name, resource_group_id, json(&agent_ids), now],
            )
            .map_err(taken(|| format!("target name {name:?} is already taken")))
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("target", id.to_string()));
        }
        self.get_target(id)
    }

    fn delete_target(&self, id: &str) -> Result<()> {
        self.get_target(id)?;
        self.with_store(|c| {
            let busy = runs_in_progress(c, "t.target_id = ?1", id)?;
            if !busy.is_empty() {
                return Err(StoreError::InProgress(busy));
            }
            c.execute("DELETE FROM targets WHERE id = ?1", [id]).map_err(backend)?;
            Ok(())
        })
    }

    fn create_template(&self, n: &NewTemplate, now: UnixMillis) -> Result<Template> {
        templates_runs::insert_template(self, n, None, now)
    }

    fn get_template(&self, id: &str) -> Result<Template> {
        self.one("template", id, &format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = ?1"), template_from)
    }

    fn list_templates(&self, target_id: Option<&str>) -> Result<Vec<Template>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE ?1 IS NULL OR target_id = ?1 ORDER BY created_at, id"
        );
        self.all(&sql, [target_id], template_from)
    }

    fn delete_template(&self, id: &str) -> Result<()> {
        self.get_template(id)?;
        self.with_store(|c| {
            let busy = runs_in_progress(c, "r.template_id = ?1", id)?;
            if !busy.is_empty() {
                return Err(StoreError::InProgress(busy));
            }
            c.execute("DELETE FROM templates WHERE id = ?1", [id]).map_err(backend)?;
            Ok(())
        })
    }

    fn create_run(&self, template_id: &str, name: Option<&str>, now: UnixMillis) -> Result<Run> {
        let t = self.get_template(template_id)?;
        let id = new_id();
        self.with_store(|c| {
            let tx = immediate(c)?;
            limits::check_room(&tx, &self.limits, LimitKind::Runs)?;
            insert_created_run(&tx, &id, &t, name, now)?;
            tx.commit().map_err(backend)
        })?;
        self.get_run(&id)
    }

    fn get_run(&self, id: &str) -> Result<Run> {
        self.with_store(|c| load_run(c, id))
    }

    fn list_runs(&self, template_id: Option<&str>) -> Result<Vec<Run>> {
        self.with_store(|c| {
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM runs r JOIN templates t ON t.id = r.template_id \
                 WHERE ?1 IS NULL OR r.template_id = ?1 ORDER BY r.created_at DESC, r.id"
            );
            let mut stmt = c.prepare(&sql).map_err(backend)?;
            let runs = stmt.query_map([template_id], run_from).map_err(backend)?;
            let mut runs = runs.collect::<rusqlite::Result<Vec<Run>>>().map_err(backend)?;
            for run in &mut runs {
                run.state_changes = state_changes(c, &run.id).map_err(backend)?;
            }
            Ok(runs)
        })
    }

    fn active_run_ids(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT id FROM runs WHERE state IN ({}) ORDER BY created_at, id",
                active_states_sql()
            ))?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn transition_run(
        &self,
        id: &str,
        from: RunState,
        to: RunState,
        update: &RunUpdate,
        now: UnixMillis,
    ) -> Result<Run> {
        if !can_transition(from, to) {
            return Err(StoreError::Conflict(format!("illegal run transition {from} -> {to}")));
        }
        self.with_store(|c| {
            let tx = c.transaction().map_err(backend)?;
            let completed = to.is_terminal().then_some(now);
            let n = tx
                .execute(
                    "UPDATE runs SET state = ?3, state_changed_at = ?4, \
                     started_at = COALESCE(?5, started_at), collect_until = COALESCE(?6, collect_until), \
                     data_collected = COALESCE(?7, data_collected), failure = COALESCE(?8, failure), \
                     completed_at = COALESCE(?9, completed_at) \
                     WHERE id = ?1 AND state = ?2",
                    params![
                        id,
                        from.as_str(),
                        to.as_str(),
                        now,
                        update.started_at,
                        update.collect_until,
                        update.data_collected,
                        update.failure,
                        completed
                    ],
                )
                .map_err(backend)?;
            if n == 0 {
                let current = load_run(&tx, id)?.state;
                return Err(StoreError::Conflict(format!("run {id} is {current}, not {from}")));
            }
            push_state(&tx, id, to, now).map_err(backend)?;
            tx.commit().map_err(backend)
        })?;
        self.get_run(id)
    }

    fn request_stop(&self, id: &str, action: StopAction, now: UnixMillis) -> Result<Run> {
        let run = self.get_run(id)?;
        if run.state.is_terminal() {
            return Err(StoreError::Conflict(format!("run {id} has already ended ({})", run.state)));
        }
        self.with(|c| {
            c.execute(
                "UPDATE runs SET stop_action = ?2, stop_requested_at = COALESCE(stop_requested_at, ?3) WHERE id = ?1",
                params![id, action.as_str(), now],
            )
        })?;
        self.get_run(id)
    }

    fn delete_run(&self, id: &str) -> Result<()> {
        let run = self.get_run(id)?;
        if !run.state.is_terminal() {
            return Err(StoreError::InProgress(vec![id.to_string()]));
        }
        self.with(|c| c.execute("DELETE FROM runs WHERE id = ?1", [id]))?;
        Ok(())
    }

    fn run_state_counts(&self) -> Result<BTreeMap<RunState, u64>> {
        let rows: Vec<(String, u64)> = self.with(|c| {
            let mut stmt = c.prepare("SELECT state, COUNT(*) FROM runs GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let mut out: BTreeMap<RunState, u64> = RunState::ALL.into_iter().map(|s| (s, 0)).collect();
        for (state, n) in rows {
            if let Ok(s) = state.parse() {
                out.insert(s, n);
            }
        }
        Ok(out)
    }

    fn assign_run_agents(&self, run_id: &str, agent_ids: &[String], now: UnixMillis) -> Result<()> {
        self.with_store(|c| {
            let tx = immediate(c)?;
            limits::check_agents_in_runs(&tx, &self.limits, run_id, agent_ids)?;
            for a in agent_ids {
                tx.execute(
                    "INSERT OR IGNORE INTO run_agents (run_id, agent_id, status, assigned_at) VALUES (?1, ?2, 'pending', ?3)",
                    params![run_id, a, now],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
    }

    fn list_run_agents(&self, run_id: &str) -> Result<Vec<RunAgent>> {
        self.with(|c| {
            let mut stmt =
                c.prepare(&format!("SELECT {RUN_AGENT_COLUMNS} FROM run_agents WHERE run_id = ?1 ORDER BY agent_id"))?;
            let mut agents = stmt.query_map([run_id], run_agent_from)?.collect::<rusqlite::Result<Vec<_>>>()?;
            for a in &mut agents {
                a.telemetry = telemetry_counts(c, run_id, &a.agent_id)?;
            }
            Ok(agents)
        })
    }

    fn get_run_agent(&self, run_id: &str, agent_id: &str) -> Result<RunAgent> {
        self.with(|c| {
            let a = c
                .prepare_cached(&format!(
                    "SELECT {RUN_AGENT_COLUMNS} FROM run_agents WHERE run_id = ?1 AND agent_id = ?2"
                ))?
                .query_row([run_id, agent_id], run_agent_from)
                .optional()?;
            match a {
                Some(mut a) => {
                    a.telemetry = telemetry_counts(c, run_id, agent_id)?;
                    Ok(Some(a))
                }
                None => Ok(None),
            }
        })?
        .ok_or_else(|| StoreError::NotFound("run agent", format!("{run_id}/{agent_id}")))
    }

    fn agent_active_runs(&self, agent_id: &str) -> Result<Vec<(Run, RunAgent)>> {
        let states = RunState::ALL
            .iter()
            .filter(|s| s.accepts_telemetry())
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        self.with(|c| {
            let sql = format!(
                "SELECT {RUN_COLUMNS}, {RUN_AGENT_COLUMNS} FROM run_agents ra JOIN runs r ON r.id = ra.run_id JOIN templates t ON t.id = r.template_id \
                 WHERE ra.agent_id = ?1 AND r.state IN ({states}) ORDER BY r.created_at, r.id"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([agent_id], |r| {
                let run = run_from(r)?;
                Ok((run, run_agent_at(r, 18)?))
            })?;
            rows.collect()
        })
    }

    fn record_run_progress(
        &self,
        run_id: &str,
        agent_id: &str,
        phase: &str,
        last_seq: Option<u64>,
        error: Option<&str>,
        now: UnixMillis,
    ) -> Result<()> {
        let n = self.with(|c| {
            c.prepare_cached(
                "UPDATE run_agents SET reported_phase = ?3, reported_last_seq = COALESCE(?4, reported_last_seq), \
                 status_details = COALESCE(?5, status_details), last_contact_at = ?6 WHERE run_id = ?1 AND agent_id = ?2",
            )?
            .execute(params![run_id, agent_id, phase, last_seq, error, now])
        })?;
        if n == 0 { Err(StoreError::NotFound("run agent", format!("{run_id}/{agent_id}"))) } else { Ok(()) }
    }

    fn set_run_agent_status(
        &self,
        run_id: &str,
        agent_id: &str,
        status: RunAgentStatus,
        details: Option<&str>,
    ) -> Result<()> {
        let n = self.with(|c| {
            c.execute(
                "UPDATE run_agents SET status = ?3, status_details = COALESCE(?4, status_details) \
                 WHERE run_id = ?1 AND agent_id = ?2",
                params![run_id, agent_id, status.as_str(), details],
            )
        })?;
        if n == 0 { Err(StoreError::NotFound("run agent", format!("{run_id}/{agent_id}"))) } else { Ok(()) }
    }

    fn put_telemetry(
        &self,
        run_id: &str,
        agent_id: &str,
        seq: u64,
        kind: &str,
        body: &str,
        now: UnixMillis,
    ) -> Result<PutOutcome> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO telemetry (run_id, agent_id, seq, kind, body, size, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![run_id, agent_id, seq, kind, body, body.len() as i64, now])?;
            tx.prepare_cached(
                "UPDATE run_agents SET first_telemetry_at = COALESCE(first_telemetry_at, ?3), last_telemetry_at = ?3, \
                 last_contact_at = ?3, status = CASE status WHEN 'pending' THEN 'collecting' ELSE status END \
                 WHERE run_id = ?1 AND agent_id = ?2",
            )?
            .execute(params![run_id, agent_id, now])?;
            tx.commit()?;
            Ok(if n == 1 { PutOutcome::Inserted } else { PutOutcome::Duplicate })
        })
    }

    fn telemetry_progress(&self, run_id: &str, agent_id: &str) -> Result<(u64, Option<u64>)> {
        self.with(|c| {
            c.prepare_cached("SELECT COUNT(*), MAX(seq) FROM telemetry WHERE run_id = ?1 AND agent_id = ?2")?
                .query_row([run_id, agent_id], |r| Ok((r.get(0)?, r.get(1)?)))
        })
    }

    fn telemetry_documents(&self, run_id: &str, agent_id: &str) -> Result<Vec<TelemetryRecord>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT seq, kind, body FROM telemetry WHERE run_id = ?1 AND agent_id = ?2 ORDER BY seq")?;
            let rows = stmt.query_map([run_id, agent_id], |r| {
                Ok(TelemetryRecord { seq: r.get(0)?, kind: r.get(1)?, body: r.get(2)? })
            })?;
            rows.collect()
        })
    }

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

    // ---- Inspector API: templates, tags and runs (migration 0002) ----
    fn create_inspector_template(
        &self,
        template: &NewTemplate,
        rules_package_arns: &[String],
        now: UnixMillis,
    ) -> Result<Template> {
        templates_runs::insert_template(self, template, Some(rules_package_arns), now)
    }

    fn template_rules_package_arns(&self, template_id: &str) -> Result<Option<Vec<String>>> {
        templates_runs::template_rules_package_arns(self, template_id)
    }

    fn template_run_summary(&self, template_id: &str) -> Result<crate::TemplateRunSummary> {
        templates_runs::template_run_summary(self, template_id)
    }

    fn template_tags(&self, template_id: &str) -> Result<Vec<Attribute>> {
        templates_runs::template_tags(self, template_id)
    }

    fn set_template_tags(&self, template_id: &str, tags: &[Attribute]) -> Result<()> {
        templates_runs::set_template_tags(self, template_id, tags)
    }

    fn start_exclusive_run(
        &self,
        template_id: &str,
        name: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<crate::RunStart> {
        templates_runs::start_exclusive_run(self, template_id, name, agent_ids, now)
    }

    fn page_runs(
        &self,
        query: &crate::RunQuery,
        after: Option<&crate::RunPageKey>,
        limit: usize,
    ) -> Result<Vec<crate::RunRef>> {
        templates_runs::page_runs(self, query, after, limit)
    }

    // (section boundary: keep these comment lines so parallel additions merge)

    // ---- Inspector API: findings (migration 0003) ----

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

    // (section boundary: keep these comment lines so parallel additions merge)

    // ---- Inspector API: agents, exclusions, event notifications, account (migration 0004) ----

    fn exclusions_page(&self, run_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<crate::ExclusionRecord>> {
        self.all(
            &format!(
                "SELECT {EXCLUSION_RECORD_COLUMNS} FROM run_exclusions WHERE run_id = ?1 AND exclusion_id > ?2 \
                 ORDER BY exclusion_id LIMIT ?3"
            ),
            params![run_id, after.unwrap_or(""), usize_param(limit)],
            exclusion_record_from,
        )
    }

    fn get_exclusion(&self, run_id: &str, exclusion_id: &str) -> Result<crate::ExclusionRecord> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {EXCLUSION_RECORD_COLUMNS} FROM run_exclusions WHERE run_id = ?1 AND exclusion_id = ?2"
            ))?
            .query_row([run_id, exclusion_id], exclusion_record_from)
            .optional()
        })?
        .ok_or_else(|| StoreError::NotFound("exclusion", format!("{run_id}/{exclusion_id}")))
    }

    fn run_telemetry(&self, run_id: &str) -> Result<Vec<TelemetryCount>> {
        self.all(
            "SELECT kind, COUNT(*), SUM(size) FROM telemetry WHERE run_id = ?1 GROUP BY kind ORDER BY kind",
            [run_id],
            |r| Ok(TelemetryCount { kind: r.get(0)?, count: r.get(1)?, bytes: r.get(2)? }),
        )
    }

    fn latest_snapshot(&self, agent_id: &str) -> Result<Option<TelemetryRecord>> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT seq, kind, body FROM telemetry WHERE agent_id = ?1 AND kind = 'snapshot' \
                 ORDER BY received_at DESC, seq DESC LIMIT 1",
            )?
            .query_row([agent_id], |r| Ok(TelemetryRecord { seq: r.get(0)?, kind: r.get(1)?, body: r.get(2)? }))
            .optional()
        })
    }

    fn create_exclusion_preview(
        &self,
        token: &str,
        template_id: &str,
        now: UnixMillis,
    ) -> Result<crate::ExclusionPreviewJob> {
        self.with(|c| {
            c.execute(
                "INSERT INTO inspector_exclusion_previews (token, template_id, status, created_at) \
                 VALUES (?1, ?2, 'WORK_IN_PROGRESS', ?3)",
                params![token, template_id, now],
            )
        })
        .map_err(|e| match e {
            StoreError::Backend(m) if m.contains("FOREIGN KEY") => StoreError::NotFound("template", template_id.into()),
            other => other,
        })?;
        Ok(crate::ExclusionPreviewJob {
            token: token.into(),
            template_id: template_id.into(),
            completed: false,
            created_at: now,
            completed_at: None,
        })
    }

    fn complete_exclusion_preview(&self, token: &str, items: &[crate::PreviewItem], now: UnixMillis) -> Result<()> {
        self.with_store(|c| {
            let tx = c.transaction().map_err(backend)?;
            // A second completion (two workers after a restart) replaces the items: same input, same result.
            tx.execute("DELETE FROM inspector_exclusion_preview_items WHERE token = ?1", [token]).map_err(backend)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO inspector_exclusion_preview_items (token, position, agent_id, package, kind, reason) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(backend)?;
                for (position, item) in items.iter().enumerate() {
                    stmt.execute(params![
                        token,
                        usize_param(position),
                        item.agent_id,
                        item.package,
                        exclusion_kind(&item.kind),
                        item.reason
                    ])
                    .map_err(backend)?;
                }
            }
            let n = tx
                .execute(
                    "UPDATE inspector_exclusion_previews SET status = 'COMPLETED', completed_at = ?2 WHERE token = ?1",
                    params![token, now],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound("exclusion preview", token.into()));
            }
            tx.commit().map_err(backend)
        })
    }

    fn get_exclusion_preview(&self, token: &str) -> Result<crate::ExclusionPreviewJob> {
        self.one(
            "exclusion preview",
            token,
            "SELECT token, template_id, status, created_at, completed_at FROM inspector_exclusion_previews WHERE token = ?1",
            preview_job_from,
        )
    }

    fn exclusion_preview_items(&self, token: &str, offset: u64, limit: usize) -> Result<Vec<crate::PreviewItem>> {
        self.all(
            "SELECT agent_id, package, kind, reason FROM inspector_exclusion_preview_items \
             WHERE token = ?1 AND position >= ?2 ORDER BY position LIMIT ?3",
            params![token, i64::try_from(offset).unwrap_or(i64::MAX), usize_param(limit)],
            |r| Ok(crate::PreviewItem { agent_id: r.get(0)?, package: r.get(1)?, kind: r.get(2)?, reason: r.get(3)? }),
        )
    }

    fn runs_with_unpublished_events(&self, limit: usize) -> Result<Vec<String>> {
        // A run has something to publish when its state history grew past
        // what was published, or it ended and COMPLETED is not out yet; a run
        // waiting in a state (however long) is not listed, so it cannot
        // crowd out the others.
        let terminal =
            RunState::ALL.iter().filter(|s| s.is_terminal()).map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>();
        self.all(
            &format!(
                "SELECT r.id FROM runs r LEFT JOIN inspector_run_event_progress p ON p.run_id = r.id \
                 WHERE p.completed_published IS NOT 1 \
                   AND (r.state IN ({}) \
                        OR (SELECT COUNT(*) FROM run_state_changes s WHERE s.run_id = r.id) \
                           > COALESCE(p.state_changes_published, 1)) \
                 ORDER BY r.created_at, r.id LIMIT ?1",
                terminal.join(",")
            ),
            [usize_param(limit)],
            |r| r.get(0),
        )
    }

    fn run_event_progress(&self, run_id: &str) -> Result<crate::RunEventProgress> {
        let progress = self.with(|c| {
            c.prepare_cached(
                "SELECT started_published, state_changes_published, findings_after, findings_done, completed_published \
                 FROM inspector_run_event_progress WHERE run_id = ?1",
            )?
            .query_row([run_id], |r| {
                Ok(crate::RunEventProgress {
                    started_published: r.get(0)?,
                    state_changes_published: r.get(1)?,
                    findings_after: r.get(2)?,
                    findings_done: r.get(3)?,
                    completed_published: r.get(4)?,
                })
            })
            .optional()
        })?;
        match progress {
            Some(p) => Ok(p),
            None => {
                self.get_run(run_id)?;
                Ok(crate::RunEventProgress { state_changes_published: 1, ..Default::default() })
            }
        }
    }

    fn record_published_event(
        &self,
        run_id: &str,
        step: &crate::PublishedStep,
        notifications: &[crate::RunNotification],
    ) -> Result<()> {
        self.with_store(|c| {
            let tx = c.transaction().map_err(backend)?;
            let inserted = tx
                .execute("INSERT OR IGNORE INTO inspector_run_event_progress (run_id) SELECT id FROM runs WHERE id = ?1", [
                    run_id,
                ])
                .map_err(backend)?;
            let exists: bool = tx
                .query_row("SELECT COUNT(*) > 0 FROM inspector_run_event_progress WHERE run_id = ?1", [run_id], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            if inserted == 0 && !exists {
                return Err(StoreError::NotFound("run", run_id.into()));
            }
            match step {
                crate::PublishedStep::Started => tx.execute(
                    "UPDATE inspector_run_event_progress SET started_published = 1 WHERE run_id = ?1",
                    [run_id],
                ),
                crate::PublishedStep::StateChange(position) => tx.execute(
                    "UPDATE inspector_run_event_progress \
                     SET state_changes_published = MAX(state_changes_published, ?2 + 1) WHERE run_id = ?1",
                    params![run_id, i64::try_from(*position).unwrap_or(i64::MAX)],
                ),
                crate::PublishedStep::Finding(id) => tx.execute(
                    "UPDATE inspector_run_event_progress SET findings_after = ?2 WHERE run_id = ?1",
                    params![run_id, id],
                ),
                crate::PublishedStep::FindingsDone => tx.execute(
                    "UPDATE inspector_run_event_progress SET findings_done = 1 WHERE run_id = ?1",
                    [run_id],
                ),
                crate::PublishedStep::Completed => tx.execute(
                    "UPDATE inspector_run_event_progress SET completed_published = 1 WHERE run_id = ?1",
                    [run_id],
                ),
            }
            .map_err(backend)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO inspector_run_notifications \
                         (run_id, position, date, event, message, error, sns_topic_arn, sns_status) \
                         VALUES (?1, (SELECT COUNT(*) FROM inspector_run_notifications WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(backend)?;
                for n in notifications {
                    stmt.execute(params![run_id, n.date, n.event, n.message, n.error, n.sns_topic_arn, n.sns_status])
                        .map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
    }

    fn finding_ids_after(&self, run_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.all(
            "SELECT id FROM findings WHERE run_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![run_id, after.unwrap_or(""), usize_param(limit)],
            |r| r.get(0),
        )
    }

    fn run_notifications(&self, run_id: &str, limit: usize) -> Result<Vec<crate::RunNotification>> {
        self.all(
            "SELECT date, event, message, error, sns_topic_arn, sns_status FROM inspector_run_notifications \
             WHERE run_id = ?1 ORDER BY position LIMIT ?2",
            params![run_id, usize_param(limit)],
            |r| {
                Ok(crate::RunNotification {
                    date: r.get(0)?,
                    event: r.get(1)?,
                    message: r.get(2)?,
                    error: r.get(3)?,
                    sns_topic_arn: r.get(4)?,
                    sns_status: r.get(5)?,
                })
            },
        )
    }

    fn set_cross_account_role(&self, role_arn: &str, now: UnixMillis) -> Result<crate::CrossAccountRole> {
        self.with(|c| {
            c.execute(
                "INSERT INTO inspector_cross_account_role (singleton, role_arn, registered_at) VALUES (1, ?1, ?2) \
                 ON CONFLICT (singleton) DO UPDATE SET role_arn = excluded.role_arn, registered_at = excluded.registered_at",
                params![role_arn, now],
            )
        })?;
        Ok(crate::CrossAccountRole { role_arn: role_arn.into(), registered_at: now })
    }

    fn cross_account_role(&self) -> Result<Option<crate::CrossAccountRole>> {
        self.with(|c| {
            c.query_row(
                "SELECT role_arn, registered_at FROM inspector_cross_account_role WHERE singleton = 1",
                [],
                |r| Ok(crate::CrossAccountRole { role_arn: r.get(0)?, registered_at: r.get(1)? }),
            )
            .optional()
        })
    }

    // (section boundary: keep these comment lines so parallel additions merge)

    // ---- Inspector API: reports (migration 0005) ----
    fn replace_rule_outcomes(&self, run_id: &str, outcomes: &[RunRuleOutcome]) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM run_rule_outcomes WHERE run_id = ?1", [run_id])?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO run_rule_outcomes (run_id, agent_id, package, position, rule_id, outcome, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (position, o) in outcomes.iter().enumerate() {
                    stmt.execute(params![
                        run_id,
                        o.agent_id,
                        o.package_id,
                        position as i64,
                        o.outcome.rule_id,
                        json(&o.outcome.outcome).trim_matches('"'),
                        json(&o.outcome)
                    ])?;
                }
            }
            tx.commit()
        })
    }

    fn list_rule_outcomes(&self, run_id: &str) -> Result<Vec<RunRuleOutcome>> {
        self.all(
            "SELECT agent_id, package, body FROM run_rule_outcomes WHERE run_id = ?1 ORDER BY agent_id, position",
            [run_id],
            |r| {
                Ok(RunRuleOutcome {
                    agent_id: r.get(0)?,
                    package_id: r.get(1)?,
                    outcome: from_json("run_rule_outcomes.body", &r.get::<_, String>(2)?)?,
                })
            },
        )
    }

    fn report_source_revision(&self, run_id: &str) -> Result<String> {
        let row: Option<(String, i64, i64, i64, i64)> = self.with(|c| {
            c.prepare_cached(
                "SELECT r.state, r.state_changed_at,
                        (SELECT COUNT(*) FROM findings WHERE run_id = r.id),
                        (SELECT COUNT(*) FROM run_rule_outcomes WHERE run_id = r.id),
                        COALESCE((SELECT revision FROM run_finding_revisions WHERE run_id = r.id), 0)
                 FROM runs r WHERE r.id = ?1",
            )?
            .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()
        })?;
        let (state, changed, findings, outcomes, updates) =
            row.ok_or_else(|| StoreError::NotFound("run", run_id.to_string()))?;
        Ok(format!("{state}@{changed}/findings={findings}/rules={outcomes}/updates={updates}"))
    }

    fn find_report_job(&self, run_id: &str, file_format: &str, report_type: &str) -> Result<Option<ReportJob>> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {REPORT_JOB_COLUMNS} FROM report_jobs WHERE run_id = ?1 AND file_format = ?2 AND report_type = ?3"
            ))?
            .query_row([run_id, file_format, report_type], report_job_from)
            .optional()
        })
    }

    fn get_report_job(&self, id: &str) -> Result<ReportJob> {
        self.one(
            "report job",
            id,
            &format!("SELECT {REPORT_JOB_COLUMNS} FROM report_jobs WHERE id = ?1"),
            report_job_from,
        )
    }

    fn start_report_job(
        &self,
        run_id: &str,
        file_format: &str,
        report_type: &str,
        source_revision: &str,
        now: UnixMillis,
    ) -> Result<ReportJob> {
        let id = self.with_store(|c| {
            let tx = c.transaction().map_err(backend)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM report_jobs WHERE run_id = ?1 AND file_format = ?2 AND report_type = ?3",
                    [run_id, file_format, report_type],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let wip = ReportJobStatus::WorkInProgress.as_str();
            let id = match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE report_jobs SET status = ?2, source_revision = ?3, failure = NULL, updated_at = ?4 WHERE id = ?1",
                        params![id, wip, source_revision, now],
                    )
                    .map_err(backend)?;
                    id
                }
                None => {
                    let id = new_id();
                    tx.execute(
                        "INSERT INTO report_jobs (id, run_id, file_format, report_type, status, source_revision, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                        params![id, run_id, file_format, report_type, wip, source_revision, now],
                    )
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _)
                            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
                        {
                            StoreError::NotFound("run", run_id.to_string())
                        }
                        other => backend(other),
                    })?;
                    id
                }
            };
            tx.commit().map_err(backend)?;
            Ok(id)
        })?;
        self.get_report_job(&id)
    }

    fn finish_report_job(&self, id: &str, result: &ReportJobResult, now: UnixMillis) -> Result<ReportJob> {
        let n = self.with(|c| match result {
            ReportJobResult::Completed { file_name, file_bytes } => c.execute(
                "UPDATE report_jobs SET status = ?2, file_name = ?3, file_bytes = ?4, failure = NULL, updated_at = ?5 WHERE id = ?1",
                params![id, ReportJobStatus::Completed.as_str(), file_name, *file_bytes as i64, now],
            ),
            ReportJobResult::Failed(why) => c.execute(
                "UPDATE report_jobs SET status = ?2, failure = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, ReportJobStatus::Failed.as_str(), why, now],
            ),
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("report job", id.to_string()));
        }
        self.get_report_job(id)
    }
}

// The Inspector API's templates, tags and runs (migration 0002).
/// The Inspector API's findings queries (migration 0003).
#[path = "sqlite_inspector_findings.rs"]
mod inspector_findings;

/// Storing findings and their attribute rows (migration 0007).
#[path = "sqlite_finding_writes.rs"]
mod finding_writes;
#[path = "sqlite_limits.rs"]
mod limits;
#[path = "sqlite_target_network.rs"]
mod target_network;
#[path = "sqlite_templates_runs.rs"]
mod templates_runs;

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
