//! SQL of the Inspector API's findings operations for [`super::SqliteStore`].
//!
//! Why a file of its own: `ListFindings` must stay fast at 100k findings and
//! more, so its query is built from the filter as index range scans in id
//! order (keyset paging over the indexes of migration 0003) and never reads a
//! finding's JSON to decide whether it matches. Only `?` placeholders are
//! built from the filter; every value is bound.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{FINDING_COLUMNS, finding_from, from_json, json};
use crate::{
    AUTO_SCALING_GROUP_TAG, Attribute, FindingDetail, FindingKey, FindingPageQuery, UnixMillis, UserAttributeEdit,
};

use super::finding_writes::{ASSET_TAG, SYSTEM, USER};

/// A field with more values than this is one `IN` list, not one index range
/// a value (SQLite allows 500 arms in a compound SELECT).
const MAX_RANGES: usize = 100;

/// A `WHERE` clause and its bound values.
struct Conditions {
    sql: String,
    args: Vec<Value>,
}

impl Conditions {
    fn and(&mut self, clause: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
    }

    fn placeholders(n: usize) -> String {
        vec!["?"; n].join(", ")
    }

    /// `column IN (values)`; `false` when the list is empty (nothing can match).
    fn any_of(&mut self, column: &str, values: &Option<Vec<String>>) -> bool {
        let Some(values) = values else { return true };
        if values.is_empty() {
            return false;
        }
        self.and(&format!("{column} IN ({})", Self::placeholders(values.len())));
        self.args.extend(values.iter().cloned().map(Value::Text));
        true
    }

    /// Every pair must be present among the finding's attributes of `kind`.
    fn all_pairs(&mut self, kind: i64, pairs: &[Attribute]) {
        for pair in pairs {
            self.args.push(Value::Integer(kind));
            self.args.push(Value::Text(pair.key.clone()));
            match &pair.value {
                Some(value) => {
                    self.and(
                        "f.id IN (SELECT finding_id FROM finding_attributes WHERE kind = ? AND key = ? AND value = ?)",
                    );
                    self.args.push(Value::Text(value.clone()));
                }
                None => self.and("f.id IN (SELECT finding_id FROM finding_attributes WHERE kind = ? AND key = ?)"),
            }
        }
    }
}

/// The `WHERE` clause of a page query; `None` when nothing can match.
fn conditions(q: &FindingPageQuery) -> Option<Conditions> {
    let mut c = Conditions { sql: "1".to_string(), args: Vec::new() };
    let severities = q.severities.as_ref().map(|s| s.iter().map(|s| s.as_str().to_string()).collect());
    let lists_can_match = c.any_of("f.run_id", &q.run_ids)
        && c.any_of("f.agent_id", &q.agent_ids)
        && c.any_of("f.rule_id", &q.rule_ids)
        && c.any_of("f.severity", &severities)
        && c.any_of("f.package", &q.packages);
    if !lists_can_match {
        return None;
    }
    if let Some(groups) = &q.auto_scaling_groups {
        if groups.is_empty() {
            return None;
        }
        c.and(&format!(
            "f.id IN (SELECT finding_id FROM finding_attributes WHERE kind = ? AND key = ? AND value IN ({}))",
            Conditions::placeholders(groups.len())
        ));
        c.args.push(Value::Integer(ASSET_TAG));
        c.args.push(Value::Text(AUTO_SCALING_GROUP_TAG.to_string()));
        c.args.extend(groups.iter().cloned().map(Value::Text));
    }
    c.all_pairs(SYSTEM, &q.attributes);
    c.all_pairs(USER, &q.user_attributes);
    if let Some(from) = q.created_from {
        c.and("f.created_at >= ?");
        c.args.push(Value::Integer(from));
    }
    if let Some(until) = q.created_until {
        c.and("f.created_at <= ?");
        c.args.push(Value::Integer(until));
    }
    if let Some(after) = &q.after {
        c.and("f.id > ?");
        c.args.push(Value::Text(after.clone()));
    }
    Some(c)
}

/// The list field a page with several values in it is read by, one index
/// range a value: the first field the filter names, most selective first
/// (a rule or an agent is a smaller range than a severity). `None` when
/// that field has one value (its range is already in id order) or too many.
fn split_field(q: &FindingPageQuery) -> Option<(&'static str, Vec<String>, FindingPageQuery)> {
    let severities = q.severities.as_ref().map(|s| s.iter().map(|s| s.as_str().to_string()).collect());
    let fields: [(&str, Option<Vec<String>>); 5] = [
        ("f.rule_id", q.rule_ids.clone()),
        ("f.agent_id", q.agent_ids.clone()),
        ("f.run_id", q.run_ids.clone()),
        ("f.package", q.packages.clone()),
        ("f.severity", severities),
    ];
    let (column, values) = fields.into_iter().find_map(|(column, values)| Some((column, values?)))?;
    // The ranges are UNION ALL'd: a value listed twice would list its findings twice.
    let mut values = values;
    values.sort();
    values.dedup();
    if values.len() < 2 || values.len() > MAX_RANGES {
        return None;
    }
    let mut rest = q.clone();
    match column {
        "f.rule_id" => rest.rule_ids = None,
        "f.agent_id" => rest.agent_ids = None,
        "f.run_id" => rest.run_ids = None,
        "f.package" => rest.packages = None,
        _ => rest.severities = None,
    }
    Some((column, values, rest))
}

/// The page query and its bound values; `None` when nothing can match.
///
/// With several values in one field, `IN (a, b)` would make SQLite read every
/// match of every value after the cursor and sort them (the cost grew with
/// the matches: 19 ms at 100k). Instead each value is its own range, cut at
/// the page (`LIMIT` a range), and the ranges are merged: a page costs about
/// what a page of one value costs, times the number of values.
fn page_sql(q: &FindingPageQuery) -> Option<(String, Vec<Value>)> {
    if q.limit == 0 {
        return None;
    }
    let limit = Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX));
    let (page, args) = match split_field(q) {
        None => {
            let mut cond = conditions(q)?;
            cond.args.push(limit);
            (format!("SELECT f.id, f.run_id FROM findings AS f WHERE {} ORDER BY f.id LIMIT ?", cond.sql), cond.args)
        }
        Some((column, values, rest)) => {
            let cond = conditions(&rest)?;
            let range = format!(
                "SELECT * FROM (SELECT f.id, f.run_id FROM findings AS f WHERE {column} = ? AND {} ORDER BY f.id LIMIT ?)",
                cond.sql
            );
            let mut args = Vec::with_capacity(values.len() * (cond.args.len() + 2) + 1);
            for value in &values {
                args.push(Value::Text(value.clone()));
                args.extend(cond.args.iter().cloned());
                args.push(limit.clone());
            }
            args.push(limit);
            (format!("{} ORDER BY 1 LIMIT ?", vec![range; values.len()].join(" UNION ALL ")), args)
        }
    };
    // The page is chosen in the subquery (LIMIT keeps SQLite from flattening
    // it), so the joins that name the ARN's parents run for the page only.
    let sql = format!(
        "SELECT p.id, p.run_id, r.template_id, t.target_id FROM ({page}) AS p \
         JOIN runs AS r ON r.id = p.run_id JOIN templates AS t ON t.id = r.template_id ORDER BY p.id"
    );
    Some((sql, args))
}

pub(super) fn list_finding_keys(c: &Connection, q: &FindingPageQuery) -> rusqlite::Result<Vec<FindingKey>> {
    let Some((sql, args)) = page_sql(q) else { return Ok(Vec::new()) };
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
        Ok(FindingKey { id: r.get(0)?, run_id: r.get(1)?, template_id: r.get(2)?, target_id: r.get(3)? })
    })?;
    rows.collect()
}

pub(super) fn describe_findings(c: &Connection, ids: &[String]) -> rusqlite::Result<Vec<FindingDetail>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = Conditions::placeholders(ids.len());
    let sql = format!(
        "SELECT x.*, r.template_id, t.target_id FROM (SELECT {FINDING_COLUMNS} FROM findings WHERE id IN ({marks})) AS x \
         JOIN runs AS r ON r.id = x.run_id JOIN templates AS t ON t.id = r.template_id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let found = stmt.query_map(params_from_iter(ids.iter()), |r| {
        let finding = finding_from(r)?;
        let key = FindingKey {
            id: finding.id.clone(),
            run_id: finding.run_id.clone(),
            template_id: r.get(16)?,
            target_id: r.get(17)?,
        };
        Ok(FindingDetail { key, finding, system_attributes: Vec::new() })
    })?;
    let mut found = found.collect::<rusqlite::Result<Vec<_>>>()?;
    let sql = format!(
        "SELECT finding_id, key, value FROM finding_attributes WHERE kind = {SYSTEM} AND finding_id IN ({marks}) \
         ORDER BY finding_id, position"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(ids.iter()))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        if let Some(detail) = found.iter_mut().find(|d| d.finding.id == id) {
            detail.system_attributes.push(Attribute { key: row.get(1)?, value: row.get(2)? });
        }
    }
    Ok(found)
}

/// `current` with `remove`'s keys dropped and `add` applied in order (a key
/// already present takes the new value in place).
pub(crate) fn edited_attributes(current: &[Attribute], add: &[Attribute], remove: &[String]) -> Vec<Attribute> {
    let mut out: Vec<Attribute> = current.iter().filter(|a| !remove.contains(&a.key)).cloned().collect();
    for a in add {
        match out.iter_mut().find(|o| o.key == a.key) {
            Some(existing) => existing.value = a.value.clone(),
            None => out.push(a.clone()),
        }
    }
    out
}

pub(super) fn edit_user_attributes(
    c: &mut Connection,
    ids: &[String],
    add: &[Attribute],
    remove: &[String],
    max: usize,
    now: UnixMillis,
) -> rusqlite::Result<Vec<UserAttributeEdit>> {
    let tx = c.transaction()?;
    let mut outcomes = Vec::with_capacity(ids.len());
    {
        let mut read = tx.prepare_cached("SELECT user_attributes FROM findings WHERE id = ?1")?;
        let mut write = tx.prepare_cached("UPDATE findings SET user_attributes = ?2, updated_at = ?3 WHERE id = ?1")?;
        for id in ids {
            let Some(text) = read.query_row([id], |r| r.get::<_, String>(0)).optional()? else {
                outcomes.push(UserAttributeEdit::NotFound);
                continue;
            };
            let current: Vec<Attribute> = from_json("findings.user_attributes", &text)?;
            let edited = edited_attributes(&current, add, remove);
            // Only growth past the limit is refused: a finding that already
            // holds more (the fleet API does not limit) can still shrink.
            if edited.len() > max && edited.len() > current.len() {
                outcomes.push(UserAttributeEdit::LimitExceeded);
                continue;
            }
            write.execute(params![id, json(&edited), now])?;
            outcomes.push(UserAttributeEdit::Updated);
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

#[cfg(test)]
#[path = "sqlite_inspector_findings_paging_tests.rs"]
mod paging_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(k: &str, v: Option<&str>) -> Attribute {
        Attribute { key: k.into(), value: v.map(Into::into) }
    }

    #[test]
    fn edits_replace_by_key_in_place_and_remove_whole_pairs() {
        let current = vec![attr("a", Some("1")), attr("b", None), attr("c", Some("3"))];
        let out = edited_attributes(&current, &[attr("a", Some("9")), attr("d", Some("4"))], &["b".to_string()]);
        assert_eq!(out, vec![attr("a", Some("9")), attr("c", Some("3")), attr("d", Some("4"))]);
        // Adding the same again changes nothing.
        assert_eq!(edited_attributes(&out, &[attr("a", Some("9"))], &[]), out);
    }

    #[test]
    fn an_empty_list_matches_nothing_and_none_does_not_constrain() {
        let q = FindingPageQuery { agent_ids: Some(vec![]), limit: 10, ..Default::default() };
        assert!(conditions(&q).is_none());
        let q = FindingPageQuery { limit: 10, ..Default::default() };
        let c = conditions(&q).expect("unconstrained");
        assert_eq!(c.sql, "1");
        assert!(c.args.is_empty());
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let hostile = "x') OR 1=1 --".to_string();
        let q = FindingPageQuery {
            rule_ids: Some(vec![hostile.clone()]),
            attributes: vec![attr(&hostile, Some(&hostile))],
            auto_scaling_groups: Some(vec![hostile.clone()]),
            after: Some(hostile.clone()),
            limit: 10,
            ..Default::default()
        };
        let c = conditions(&q).unwrap();
        assert!(!c.sql.contains(&hostile), "{}", c.sql);
        assert_eq!(c.args.iter().filter(|v| **v == Value::Text(hostile.clone())).count(), 5);
    }

    fn plan(c: &Connection, q: &FindingPageQuery) -> Vec<String> {
        let (sql, args) = page_sql(q).unwrap();
        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    #[test]
    fn every_filter_is_answered_from_an_index() {
        let store = super::super::SqliteStore::open_in_memory().unwrap();
        let conn = store.conn.lock().unwrap();
        let list = |v: &str| Some(vec![v.to_string()]);
        let page = |edit: &dyn Fn(&mut FindingPageQuery)| {
            let mut q = FindingPageQuery { limit: 101, after: Some("0-00000000".into()), ..Default::default() };
            edit(&mut q);
            q
        };
        let cases: Vec<(&str, FindingPageQuery, &str)> = vec![
            ("none", page(&|_| {}), "sqlite_autoindex_findings_1"),
            ("runs", page(&|q| q.run_ids = list("0-r")), "findings_run_page"),
            ("agents", page(&|q| q.agent_ids = list("i-1")), "findings_agent_page"),
            ("rules", page(&|q| q.rule_ids = list("CVE-1")), "findings_rule_page"),
            (
                "severities",
                page(&|q| q.severities = Some(vec![warden_model::Severity::High])),
                "findings_severity_page",
            ),
            ("packages", page(&|q| q.packages = list("cve")), "findings_package_page"),
            ("attributes", page(&|q| q.attributes = vec![attr("CVE_ID", Some("CVE-1"))]), "finding_attributes_pair"),
            ("user attributes", page(&|q| q.user_attributes = vec![attr("team", None)]), "finding_attributes_pair"),
            ("groups", page(&|q| q.auto_scaling_groups = list("asg")), "finding_attributes_pair"),
        ];
        for (name, q, index) in cases {
            let plan = plan(&conn, &q);
            assert!(plan.iter().any(|l| l.contains(index)), "{name}: {plan:?}");
            // No step reads the findings table (or the attributes) row by row.
            assert!(
                !plan.iter().any(|l| l.starts_with("SCAN f") && !l.contains("INDEX")),
                "{name}: full scan in {plan:?}"
            );
            assert!(!plan.iter().any(|l| l.starts_with("SCAN finding_attributes")), "{name}: {plan:?}");
        }
    }

    /// Several values in a field are one index range each, cut at the page:
    /// no step sorts every match after the cursor.
    #[test]
    fn several_values_are_one_bounded_range_each() {
        let store = super::super::SqliteStore::open_in_memory().unwrap();
        let conn = store.conn.lock().unwrap();
        let q = FindingPageQuery {
            agent_ids: Some(vec!["i-1".into(), "i-2".into(), "i-1".into()]),
            severities: Some(vec![warden_model::Severity::High, warden_model::Severity::Medium]),
            after: Some("0-00000000".into()),
            limit: 101,
            ..Default::default()
        };
        let plan = plan(&conn, &q);
        // One range a distinct agent, each read in id order from its index
        // from the cursor on. (The merge sorts each range's rows again, at
        // most a page of them: the LIMIT a range bounds it.)
        let ranges: Vec<&String> = plan.iter().filter(|l| l.starts_with("SEARCH f")).collect();
        assert_eq!(ranges.len(), 2, "{plan:?}");
        assert!(ranges.iter().all(|l| l.contains("findings_agent_page (agent_id=? AND id>?)")), "{plan:?}");
        let (sql, args) = page_sql(&q).unwrap();
        assert_eq!(sql.matches("LIMIT ?").count(), 3, "{sql}");
        assert_eq!(args.last(), Some(&Value::Integer(101)));
    }

    /// A database made before migration 0003 gets its findings' attribute rows.
    #[test]
    fn migration_0003_indexes_findings_stored_before_it() {
        let conn = Connection::open_in_memory().unwrap();
        for (version, _, sql) in &super::super::MIGRATIONS[..1] {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute_batch(
            r#"INSERT INTO targets VALUES ('0-target01', 't', NULL, '[]', 1, 1);
               INSERT INTO templates VALUES ('0-templ001', '0-target01', 'p', 3600, 30, '["cve"]', '[]', 1);
               INSERT INTO runs (id, template_id, name, state, duration_seconds, sampling_interval_seconds,
                                 packages, user_attributes, created_at, state_changed_at)
                    VALUES ('0-run00001', '0-templ001', 'r', 'COMPLETED', 3600, 30, '["cve"]', '[]', 1, 1);
               INSERT INTO findings VALUES ('0-find0001', '0-run00001', 'i-1', 'cve', 'CVE-1', 't', 'High', 9, 'd', 'r',
                   '[{"message":"m","path":"/etc/x","line":3}]', '[{"key":"CVE_ID","value":"CVE-1"}]',
                   '[{"key":"team","value":"web"}]',
                   '{"agent_id":"i-1","hostname":null,"ipv4_addresses":[],"tags":[{"key":"aws:autoscaling:groupName","value":"g"}]}',
                   5, 5);"#,
        )
        .unwrap();
        let store = super::super::SqliteStore {
            conn: std::sync::Mutex::new(conn),
            path: None,
            limits: crate::Limits::UNLIMITED,
        };
        store.setup().unwrap();
        let conn = store.conn.lock().unwrap();
        let found = |q: FindingPageQuery| list_finding_keys(&conn, &FindingPageQuery { limit: 10, ..q }).unwrap().len();
        assert_eq!(
            found(FindingPageQuery { attributes: vec![attr("CVE_ID", Some("CVE-1"))], ..Default::default() }),
            1
        );
        assert_eq!(
            found(FindingPageQuery { attributes: vec![attr("EVIDENCE_1_FILE", Some("/etc/x"))], ..Default::default() }),
            1
        );
        assert_eq!(
            found(FindingPageQuery { user_attributes: vec![attr("team", Some("web"))], ..Default::default() }),
            1
        );
        assert_eq!(found(FindingPageQuery { auto_scaling_groups: Some(vec!["g".into()]), ..Default::default() }), 1);
        let detail = describe_findings(&conn, &["0-find0001".to_string()]).unwrap().remove(0);
        assert_eq!(detail.key.target_id, "0-target01");
        let keys: Vec<&str> = detail.system_attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["CVE_ID", "EVIDENCE_COUNT", "EVIDENCE_1", "EVIDENCE_1_FILE", "EVIDENCE_1_LINE"]);
    }
}
