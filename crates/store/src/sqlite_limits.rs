//! The SQLite side of [`crate::Limits`]: the count that must run inside the
//! same transaction as the insert it guards.
//!
//! Why a file of its own: every create path (`create_target`,
//! `create_template`, `create_inspector_template`, `create_run`,
//! `start_exclusive_run`, `assign_run_agents`, `create_resource_group`) calls
//! these two functions from its own IMMEDIATE transaction, so the write lock
//! is held from the count to the commit and two concurrent creates cannot
//! both see room for one more.

use rusqlite::Connection;

use super::{active_states_sql, backend, json};
use crate::{LimitKind, Limits, Result, StoreError};

/// Refuses with [`StoreError::LimitExceeded`] when one more row of `kind`
/// would go over its limit. `kind` must be a table-counted kind (not
/// [`LimitKind::AgentsInRuns`], which is [`check_agents_in_runs`]).
pub(super) fn check_room(c: &Connection, limits: &Limits, kind: LimitKind) -> Result<()> {
    let table = match kind {
        LimitKind::Targets => "targets",
        LimitKind::Templates => "templates",
        LimitKind::Runs => "runs",
        LimitKind::ResourceGroups => "resource_groups",
        LimitKind::AgentsInRuns => {
            return Err(StoreError::Backend("agents in runs are counted by check_agents_in_runs".into()));
        }
    };
    let count: u64 = c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).map_err(backend)?;
    let limit = limits.of(kind);
    if count >= limit {
        return Err(StoreError::LimitExceeded(kind, limit));
    }
    Ok(())
}

/// Refuses when putting `agent_ids` into run `run_id` would make the number
/// of distinct agents in runs that have not ended exceed the limit. Agents
/// already in such a run (this one included) are not counted twice.
pub(super) fn check_agents_in_runs(c: &Connection, limits: &Limits, run_id: &str, agent_ids: &[String]) -> Result<()> {
    let sql = format!(
        "SELECT COUNT(*) FROM ( \
           SELECT ra.agent_id FROM run_agents ra JOIN runs r ON r.id = ra.run_id \
             WHERE r.state IN ({active}) OR r.id = ?1 \
           UNION SELECT value FROM json_each(?2))",
        active = active_states_sql()
    );
    let count: u64 = c.query_row(&sql, rusqlite::params![run_id, json(&agent_ids)], |r| r.get(0)).map_err(backend)?;
    let limit = limits.agents_in_runs;
    if count > limit {
        return Err(StoreError::LimitExceeded(LimitKind::AgentsInRuns, limit));
    }
    Ok(())
}

#[cfg(test)]
#[path = "sqlite_limits_tests.rs"]
mod tests;
