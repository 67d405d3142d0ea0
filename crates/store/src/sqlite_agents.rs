//! The SQLite side of [`AgentStore`]: API tokens, enroll tokens, agents and
//! their request nonces.
//!
//! Why a file of its own: `sqlite.rs` keeps the connection, migrations and
//! shared row mappers; each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file so none grows past a reviewable size.

use rusqlite::{OptionalExtension, params};

use super::{AGENT_COLUMNS, SqliteStore, agent_from, backend, json};
use crate::{Agent, AgentHostInfo, AgentStore, ApiToken, EnrollToken, Result, StoreError, UnixMillis, new_id};

impl AgentStore for SqliteStore {
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
}
