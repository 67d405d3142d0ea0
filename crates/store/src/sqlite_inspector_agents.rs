//! The SQLite side of [`InspectorAgentStore`] (migration 0004): paged
//! exclusions, run telemetry and agent snapshots, exclusion previews, event
//! notification progress and the cross-account role.
//!
//! Why a file of its own: `sqlite.rs` keeps the connection, migrations and
//! shared row mappers; each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file so none grows past a reviewable size.

use rusqlite::{OptionalExtension, params};

use super::{
    EXCLUSION_RECORD_COLUMNS, SqliteStore, backend, exclusion_kind, exclusion_record_from, preview_job_from,
    usize_param,
};
use crate::{InspectorAgentStore, Result, RunState, RunStore, StoreError, TelemetryCount, TelemetryRecord, UnixMillis};

impl InspectorAgentStore for SqliteStore {
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
}
