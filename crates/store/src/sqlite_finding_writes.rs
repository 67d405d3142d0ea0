//! Storing findings for [`super::SqliteStore`]: the findings rows and their
//! `finding_attributes` rows in one transaction a batch.
//!
//! Why a file of its own: a 1,000-agent run stores tens of thousands of
//! findings at its end. Migration 0003 derived the attribute rows with an
//! insert trigger that parsed each finding's JSON again in SQL; migration
//! 0007 drops that trigger and this file writes the same rows from the
//! values Rust already holds, with cached statements. The rows must stay
//! exactly those of the view `finding_attribute_rows` (0003), which the
//! update trigger still uses; the tests compare the two.

use rusqlite::{Connection, params};

use super::{FINDING_COLUMNS, json};
use crate::{Attribute, NewFinding, UnixMillis, new_id};

/// `finding_attributes.kind` values (migration 0003).
pub(super) const SYSTEM: i64 = 0;
pub(super) const USER: i64 = 1;
pub(super) const ASSET_TAG: i64 = 2;

/// The first `position`s of the derived system attributes (migration 0003).
const WARDEN_SEVERITY_POSITION: i64 = 99_999;
const EVIDENCE_COUNT_POSITION: i64 = 100_000;
const EVIDENCE_FIRST_POSITION: i64 = 100_001;
/// Evidence items past this many are counted but not indexed.
const EVIDENCE_INDEXED: usize = 5;
/// `finding_attributes.value` is cut to this many characters (the model's AttributeValue).
const VALUE_CHARS: usize = 256;

/// One `finding_attributes` row of a finding (without its id).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AttributeRow {
    pub kind: i64,
    pub position: i64,
    pub key: String,
    pub value: Option<String>,
}

/// A stored value: cut to 256 characters; empty is NULL.
fn stored_value(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(|v| v.chars().take(VALUE_CHARS).collect())
}

fn pairs(kind: i64, attributes: &[Attribute], out: &mut Vec<AttributeRow>) {
    for (position, a) in attributes.iter().enumerate() {
        out.push(AttributeRow {
            kind,
            position: position as i64,
            key: a.key.clone(),
            value: stored_value(a.value.as_deref()),
        });
    }
}

/// The rows migration 0003's view `finding_attribute_rows` derives from a
/// finding's columns, computed from the values themselves.
pub(super) fn attribute_rows(f: &NewFinding) -> Vec<AttributeRow> {
    let mut out = Vec::with_capacity(f.attributes.len() + f.user_attributes.len() + f.asset.tags.len() + 8);
    pairs(SYSTEM, &f.attributes, &mut out);
    if f.severity == warden_model::Severity::Critical {
        out.push(AttributeRow {
            kind: SYSTEM,
            position: WARDEN_SEVERITY_POSITION,
            key: "WARDEN_SEVERITY".into(),
            value: Some(f.severity.as_str().into()),
        });
    }
    if !f.evidence.is_empty() {
        out.push(AttributeRow {
            kind: SYSTEM,
            position: EVIDENCE_COUNT_POSITION,
            key: "EVIDENCE_COUNT".into(),
            value: Some(f.evidence.len().to_string()),
        });
    }
    for (item, e) in f.evidence.iter().take(EVIDENCE_INDEXED).enumerate() {
        let line = e.line.map(|l| l.to_string());
        let fields: [(&str, Option<&str>); 5] = [
            ("", Some(e.message.as_str())),
            ("_FILE", e.path.as_deref()),
            ("_LINE", line.as_deref()),
            ("_TEXT", e.text.as_deref()),
            ("_DEFAULT", e.is_default.then_some("true")),
        ];
        for (field, (suffix, value)) in fields.into_iter().enumerate() {
            if let Some(value) = stored_value(value) {
                out.push(AttributeRow {
                    kind: SYSTEM,
                    position: EVIDENCE_FIRST_POSITION + item as i64 * 8 + field as i64,
                    key: format!("EVIDENCE_{}{suffix}", item + 1),
                    value: Some(value),
                });
            }
        }
    }
    pairs(USER, &f.user_attributes, &mut out);
    pairs(ASSET_TAG, &f.asset.tags, &mut out);
    out
}

/// Stores `findings` of `run_id` and their attribute rows in one transaction;
/// returns the new ids in order.
pub(super) fn insert_findings(
    c: &mut Connection,
    run_id: &str,
    findings: &[NewFinding],
    now: UnixMillis,
) -> rusqlite::Result<Vec<String>> {
    let tx = c.transaction()?;
    let mut ids = Vec::with_capacity(findings.len());
    {
        let mut finding_stmt = tx.prepare_cached(&format!(
            "INSERT INTO findings ({FINDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)"
        ))?;
        let mut attribute_stmt = tx.prepare_cached(
            "INSERT INTO finding_attributes (finding_id, kind, position, key, value) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for f in findings {
            let id = new_id();
            finding_stmt.execute(params![
                id,
                run_id,
                f.agent_id,
                f.package,
                f.rule_id,
                f.title,
                f.severity.as_str(),
                f.numeric_severity,
                f.description,
                f.recommendation,
                json(&f.evidence),
                json(&f.attributes),
                json(&f.user_attributes),
                json(&f.asset),
                now
            ])?;
            for row in attribute_rows(f) {
                attribute_stmt.execute(params![id, row.kind, row.position, row.key, row.value])?;
            }
            ids.push(id);
        }
    }
    tx.commit()?;
    Ok(ids)
}

#[cfg(test)]
#[path = "sqlite_finding_writes_tests.rs"]
pub(super) mod tests;
