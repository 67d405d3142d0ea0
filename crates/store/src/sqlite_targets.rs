//! The SQLite side of [`TargetStore`]: resource groups, targets and the
//! fleet API's templates.
//!
//! Why a file of its own: `sqlite.rs` keeps the connection, migrations and
//! shared row mappers; each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file so none grows past a reviewable size.

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    SqliteStore, TARGET_COLUMNS, TEMPLATE_COLUMNS, backend, from_json, immediate, json, limits, runs_in_progress,
    taken, target_from, template_from, templates_runs,
};
use crate::{
    Attribute, LimitKind, Limits, NewTemplate, ResourceGroup, Result, StoreError, Target, TargetStore, Template,
    UnixMillis, new_id,
};

impl TargetStore for SqliteStore {
    fn create_resource_group(&self, tags: &[Attribute], now: UnixMillis) -> Result<ResourceGroup> {
        let g = ResourceGroup { id: new_id(), tags: tags.to_vec(), created_at: now };
        self.with_store(|c| {
            let tx = immediate(c)?;
            insert_resource_group(&tx, &self.limits, &g)?;
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
        let t = new_target(name, resource_group_id.map(str::to_string), agent_ids, now);
        self.with_store(|c| {
            let tx = immediate(c)?;
            insert_target(&tx, &self.limits, &t)?;
            tx.commit().map_err(backend)
        })?;
        Ok(t)
    }

    fn create_target_with_tags(
        &self,
        name: &str,
        tags: &[Attribute],
        agent_ids: &[String],
        now: UnixMillis,
    ) -> Result<Target> {
        let group = (!tags.is_empty()).then(|| ResourceGroup { id: new_id(), tags: tags.to_vec(), created_at: now });
        let t = new_target(name, group.as_ref().map(|g| g.id.clone()), agent_ids, now);
        self.with_store(|c| {
            // Dropping `tx` on an error rolls the group back with the target.
            let tx = immediate(c)?;
            if let Some(g) = &group {
                insert_resource_group(&tx, &self.limits, g)?;
            }
            insert_target(&tx, &self.limits, &t)?;
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
        delete_when_idle(self, "t.target_id = ?1", "DELETE FROM targets WHERE id = ?1", id)
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
        delete_when_idle(self, "r.template_id = ?1", "DELETE FROM templates WHERE id = ?1", id)
    }
}

/// Deletes a target or template (and, by cascade, its runs) unless one of
/// its runs is in progress, which Inspector refuses with the runs' ids.
fn delete_when_idle(store: &SqliteStore, runs_where: &str, delete: &str, id: &str) -> Result<()> {
    store.with_store(|c| {
        let busy = runs_in_progress(c, runs_where, id)?;
        if !busy.is_empty() {
            return Err(StoreError::InProgress(busy));
        }
        c.execute(delete, [id]).map_err(backend)?;
        Ok(())
    })
}

/// A target made now, not yet stored.
fn new_target(name: &str, resource_group_id: Option<String>, agent_ids: &[String], now: UnixMillis) -> Target {
    Target {
        id: new_id(),
        name: name.to_string(),
        resource_group_id,
        agent_ids: agent_ids.to_vec(),
        created_at: now,
        updated_at: now,
    }
}

/// Stores `g` inside the caller's IMMEDIATE transaction, after checking the
/// resource group limit in it.
fn insert_resource_group(tx: &Connection, limits: &Limits, g: &ResourceGroup) -> Result<()> {
    limits::check_room(tx, limits, LimitKind::ResourceGroups)?;
    tx.execute(
        "INSERT INTO resource_groups (id, tags, created_at) VALUES (?1, ?2, ?3)",
        params![g.id, json(&g.tags), g.created_at],
    )
    .map_err(backend)?;
    Ok(())
}

/// Stores `t` inside the caller's IMMEDIATE transaction, after checking the
/// target limit in it (`Conflict` when the name is taken).
fn insert_target(tx: &Connection, limits: &Limits, t: &Target) -> Result<()> {
    limits::check_room(tx, limits, LimitKind::Targets)?;
    tx.execute(
        &format!("INSERT INTO targets ({TARGET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![t.id, t.name, t.resource_group_id, json(&t.agent_ids), t.created_at, t.updated_at],
    )
    .map_err(taken(|| format!("target name {:?} is already taken", t.name)))?;
    Ok(())
}
