//! The SQLite side of the Inspector API's templates, tags and runs
//! (migration 0002): rules package ARNs as given, template tags, run
//! summaries, the exclusive run start and the keyset-paged run listing.
//!
//! Why a file of its own: each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file; [`InspectorRunStore`] is implemented here
//! (the fleet API's `create_template` in `sqlite_targets.rs` shares
//! [`insert_template`]). Every query is fixed text with bound parameters:
//! filter values never become SQL.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::{
    SqliteStore, TEMPLATE_COLUMNS, active_states_sql, backend, immediate, insert_created_run, json, limits, taken,
};
use crate::{
    Attribute, BusyAgent, InspectorRunStore, LimitKind, NewTemplate, Result, RunPageKey, RunQuery, RunRef, RunStart,
    RunStore, StoreError, TargetStore, Template, TemplateRunSummary, TimeRange, UnixMillis, new_id,
};

/// Makes a template of `n`. The fleet API's keep no rules package ARNs
/// (`None`, stored NULL); the Inspector API's keep the ARNs as given.
pub(super) fn insert_template(
    store: &SqliteStore,
    n: &NewTemplate,
    rules_package_arns: Option<&[String]>,
    now: UnixMillis,
) -> Result<Template> {
    store.get_target(&n.target_id)?;
    let t = Template {
        id: new_id(),
        target_id: n.target_id.clone(),
        name: n.name.clone(),
        duration_seconds: n.duration_seconds,
        sampling_interval_seconds: n.sampling_interval_seconds,
        packages: n.packages.clone(),
        user_attributes: n.user_attributes.clone(),
        created_at: now,
    };
    store.with_store(|c| {
        let tx = immediate(c)?;
        limits::check_room(&tx, &store.limits, LimitKind::Templates)?;
        tx.execute(
            &format!(
                "INSERT INTO templates ({TEMPLATE_COLUMNS}, rules_package_arns) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                t.id,
                t.target_id,
                t.name,
                t.duration_seconds,
                t.sampling_interval_seconds,
                json(&t.packages),
                json(&t.user_attributes),
                now,
                rules_package_arns.map(|arns| json(&arns))
            ],
        )
        .map_err(taken(|| format!("template name {:?} is already taken for this target", t.name)))?;
        tx.commit().map_err(backend)
    })?;
    Ok(t)
}

pub(super) fn template_rules_package_arns(store: &SqliteStore, template_id: &str) -> Result<Option<Vec<String>>> {
    let stored: Option<Option<String>> = store.with(|c| {
        c.prepare_cached("SELECT rules_package_arns FROM templates WHERE id = ?1")?
            .query_row([template_id], |r| r.get(0))
            .optional()
    })?;
    match stored {
        None => Err(StoreError::NotFound("template", template_id.to_string())),
        Some(None) => Ok(None),
        Some(Some(text)) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Backend(format!("templates.rules_package_arns of {template_id}: {e}"))),
    }
}

/// The newest run is the last inserted among those of the latest creation
/// time (runs made in the same millisecond keep their order).
pub(super) fn template_run_summary(store: &SqliteStore, template_id: &str) -> Result<TemplateRunSummary> {
    store.with(|c| {
        c.prepare_cached(
            "SELECT COUNT(*), (SELECT id FROM runs WHERE template_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1) \
             FROM runs WHERE template_id = ?1",
        )?
        .query_row([template_id], |r| Ok(TemplateRunSummary { run_count: r.get(0)?, last_run_id: r.get(1)? }))
    })
}

pub(super) fn template_tags(store: &SqliteStore, template_id: &str) -> Result<Vec<Attribute>> {
    store.get_template(template_id)?;
    store.all("SELECT key, value FROM template_tags WHERE template_id = ?1 ORDER BY position", [template_id], |r| {
        Ok(Attribute { key: r.get(0)?, value: r.get(1)? })
    })
}

pub(super) fn set_template_tags(store: &SqliteStore, template_id: &str, tags: &[Attribute]) -> Result<()> {
    store.with_store(|c| {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let exists: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM templates WHERE id = ?1)", [template_id], |r| r.get(0))
            .map_err(backend)?;
        if !exists {
            return Err(StoreError::NotFound("template", template_id.to_string()));
        }
        tx.execute("DELETE FROM template_tags WHERE template_id = ?1", [template_id]).map_err(backend)?;
        for (position, tag) in tags.iter().enumerate() {
            tx.execute(
                "INSERT INTO template_tags (template_id, position, key, value) VALUES (?1, ?2, ?3, ?4)",
                params![template_id, position as i64, tag.key, tag.value],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)
    })
}

pub(super) fn start_exclusive_run(
    store: &SqliteStore,
    template_id: &str,
    name: Option<&str>,
    agent_ids: &[String],
    now: UnixMillis,
) -> Result<RunStart> {
    let template = store.get_template(template_id)?;
    let id = new_id();
    let started = store.with_store(|c| {
        // IMMEDIATE: the busy check and the insert hold the write lock
        // together, so two starts cannot both see the agents free.
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let busy = {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT ra.agent_id, ra.run_id, r.template_id, t.target_id FROM run_agents ra \
                     JOIN runs r ON r.id = ra.run_id JOIN templates t ON t.id = r.template_id \
                     WHERE r.state IN ({}) AND ra.agent_id IN (SELECT value FROM json_each(?1)) \
                     ORDER BY ra.agent_id, r.created_at, r.id",
                    active_states_sql()
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map([json(&agent_ids)], |r| {
                    Ok(BusyAgent { agent_id: r.get(0)?, run_id: r.get(1)?, template_id: r.get(2)?, target_id: r.get(3)? })
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)?
        };
        if !busy.is_empty() {
            return Ok(Some(busy));
        }
        limits::check_room(&tx, &store.limits, LimitKind::Runs)?;
        limits::check_agents_in_runs(&tx, &store.limits, &id, agent_ids)?;
        insert_created_run(&tx, &id, &template, name, now)?;
        for agent in agent_ids {
            tx.execute(
                "INSERT OR IGNORE INTO run_agents (run_id, agent_id, status, assigned_at) VALUES (?1, ?2, 'pending', ?3)",
                params![id, agent, now],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(None)
    })?;
    match started {
        Some(busy) => Ok(RunStart::AgentsBusy(busy)),
        None => Ok(RunStart::Started(store.get_run(&id)?)),
    }
}

/// An Inspector name pattern as a SQLite GLOB: `*` stays the wildcard; `?`
/// and `[`, GLOB's other special characters, match only themselves.
fn inspector_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for ch in pattern.chars() {
        match ch {
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

fn int(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(super) fn page_runs(
    store: &SqliteStore,
    q: &RunQuery,
    after: Option<&RunPageKey>,
    limit: usize,
) -> Result<Vec<RunRef>> {
    let (sql, args) = page_runs_sql(q, after, limit);
    store.with(|c| {
        let mut stmt = c.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok(RunRef { id: r.get(0)?, template_id: r.get(1)?, target_id: r.get(2)?, created_at: r.get(3)? })
        })?;
        rows.collect()
    })
}

/// The listing query and its parameters. The keyset is a row-value
/// comparison so SQLite seeks `runs_created` (or, for one template,
/// `runs_template_created`) to the page start instead of scanning the pages
/// before it; several templates or a state filter make it sort the matching
/// runs instead.
fn page_runs_sql(q: &RunQuery, after: Option<&RunPageKey>, limit: usize) -> (String, Vec<Value>) {
    let mut clauses: Vec<&'static str> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    match q.template_ids.as_slice() {
        [] => {}
        [one] => {
            clauses.push("r.template_id = ?");
            args.push(Value::Text(one.clone()));
        }
        several => {
            clauses.push("r.template_id IN (SELECT value FROM json_each(?))");
            args.push(Value::Text(json(&several)));
        }
    }
    if let Some(pattern) = &q.name_pattern {
        clauses.push("r.name GLOB ?");
        args.push(Value::Text(inspector_glob(pattern)));
    }
    if !q.states.is_empty() {
        clauses.push("r.state IN (SELECT value FROM json_each(?))");
        let states: Vec<&str> = q.states.iter().map(|s| s.as_str()).collect();
        args.push(Value::Text(json(&states)));
    }
    if let Some(min) = q.min_duration_seconds {
        clauses.push("r.duration_seconds >= ?");
        args.push(int(min));
    }
    if let Some(max) = q.max_duration_seconds {
        clauses.push("r.duration_seconds <= ?");
        args.push(int(max));
    }
    if let Some(packages) = &q.packages {
        clauses
            .push("EXISTS (SELECT 1 FROM json_each(r.packages) p WHERE p.value IN (SELECT value FROM json_each(?)))");
        args.push(Value::Text(json(packages)));
    }
    let windows: [(&TimeRange, &'static str, &'static str); 3] = [
        (&q.started, "r.started_at >= ?", "r.started_at <= ?"),
        (&q.completed, "r.completed_at >= ?", "r.completed_at <= ?"),
        (&q.state_changed, "r.state_changed_at >= ?", "r.state_changed_at <= ?"),
    ];
    for (range, from_clause, to_clause) in windows {
        if let Some(from) = range.from {
            clauses.push(from_clause);
            args.push(Value::Integer(from));
        }
        if let Some(to) = range.to {
            clauses.push(to_clause);
            args.push(Value::Integer(to));
        }
    }
    if let Some(key) = after {
        clauses.push("(r.created_at, r.id) < (?, ?)");
        args.extend([Value::Integer(key.created_at), Value::Text(key.id.clone())]);
    }
    let filter = if clauses.is_empty() { "1".to_string() } else { clauses.join(" AND ") };
    args.push(int(limit as u64));
    let sql = format!(
        "SELECT r.id, r.template_id, t.target_id, r.created_at FROM runs r JOIN templates t ON t.id = r.template_id \
         WHERE {filter} ORDER BY r.created_at DESC, r.id DESC LIMIT ?"
    );
    (sql, args)
}

#[cfg(test)]
#[path = "sqlite_templates_runs_tests.rs"]
mod tests;

impl InspectorRunStore for SqliteStore {
    fn create_inspector_template(
        &self,
        template: &NewTemplate,
        rules_package_arns: &[String],
        now: UnixMillis,
    ) -> Result<Template> {
        insert_template(self, template, Some(rules_package_arns), now)
    }

    fn template_rules_package_arns(&self, template_id: &str) -> Result<Option<Vec<String>>> {
        template_rules_package_arns(self, template_id)
    }

    fn template_run_summary(&self, template_id: &str) -> Result<crate::TemplateRunSummary> {
        template_run_summary(self, template_id)
    }

    fn template_tags(&self, template_id: &str) -> Result<Vec<Attribute>> {
        template_tags(self, template_id)
    }

    fn set_template_tags(&self, template_id: &str, tags: &[Attribute]) -> Result<()> {
        set_template_tags(self, template_id, tags)
    }

    fn start_exclusive_run(
        &self,
        template_id: &str,
        name: Option<&str>,
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<crate::RunStart> {
        start_exclusive_run(self, template_id, name, agent_ids, now)
    }

    fn page_runs(
        &self,
        query: &crate::RunQuery,
        after: Option<&crate::RunPageKey>,
        limit: usize,
    ) -> Result<Vec<crate::RunRef>> {
        page_runs(self, query, after, limit)
    }
}
