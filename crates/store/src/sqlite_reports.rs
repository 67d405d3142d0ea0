//! The SQLite side of [`ReportStore`] (migration 0005): rule outcomes, the
//! report source revision and report jobs.
//!
//! Why a file of its own: `sqlite.rs` keeps the connection, migrations and
//! shared row mappers; each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file so none grows past a reviewable size.

use rusqlite::{OptionalExtension, params};

use super::{REPORT_JOB_COLUMNS, SqliteStore, backend, from_json, json, report_job_from};
use crate::{
    ReportJob, ReportJobResult, ReportJobStatus, ReportStore, Result, RunRuleOutcome, StoreError, UnixMillis, new_id,
};

impl ReportStore for SqliteStore {
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
