//! The SQLite side of [`RunStore`]: runs and their state history, the
//! agents of each run and the telemetry they send.
//!
//! Why a file of its own: `sqlite.rs` keeps the connection, migrations and
//! shared row mappers; each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file so none grows past a reviewable size.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{
    RUN_AGENT_COLUMNS, RUN_COLUMNS, SqliteStore, active_states_sql, backend, immediate, insert_created_run, limits,
    load_run, push_state, run_agent_at, run_agent_from, run_from, state_changes, telemetry_counts,
};
use crate::{
    LimitKind, PutOutcome, Result, Run, RunAgent, RunAgentStatus, RunState, RunStore, RunUpdate, StopAction,
    StoreError, TargetStore, TelemetryRecord, UnixMillis, can_transition, new_id,
};

impl RunStore for SqliteStore {
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
}
