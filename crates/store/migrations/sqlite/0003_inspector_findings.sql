-- Findings for the Inspector API: every attribute a `FindingFilter` can ask
-- for, indexed, so `ListFindings` is index range scans in finding-id order
-- (keyset paging) instead of reading every finding's JSON.
--
-- `finding_attributes` is derived from the `findings` row by the triggers
-- below, so every writer (evaluation, user-attribute edits, future importers)
-- keeps it right without knowing it exists. Kinds:
--   0  system attributes: the finding's `attributes`; WARDEN_SEVERITY =
--      Critical for Warden's Critical (Inspector has no such severity and
--      shows it as High); then its evidence as
--      EVIDENCE_COUNT and EVIDENCE_<n>[_FILE|_LINE|_TEXT|_DEFAULT] for the
--      first five items (Inspector's `Finding.attributes` holds at most 50)
--   1  user attributes (`user_attributes`)
--   2  asset tags (`asset.tags`; `aws:autoscaling:groupName` is the
--      autoScalingGroup of Inspector's asset attributes)
-- Values are cut to 256 characters (the model's AttributeValue); a missing
-- or empty value is NULL. `position` keeps the order DescribeFindings shows.

CREATE TABLE finding_attributes (
    finding_id  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    kind        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT,
    PRIMARY KEY (finding_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX finding_attributes_pair ON finding_attributes (kind, key, value, finding_id);

-- One index per FindingFilter field, each ending in the paging key `id`, so a
-- filtered page is a range scan that stops after the page.
CREATE INDEX findings_run_page ON findings (run_id, id);
CREATE INDEX findings_agent_page ON findings (agent_id, id);
CREATE INDEX findings_rule_page ON findings (rule_id, id);
CREATE INDEX findings_severity_page ON findings (severity, id);
CREATE INDEX findings_package_page ON findings (package, id);
CREATE INDEX findings_created_page ON findings (created_at, id);

-- What `finding_attributes` holds for each finding, defined once: the
-- triggers and the backfill select from it (SQLite pushes `finding_id = ?`
-- into every branch, so a trigger reads one findings row).
CREATE VIEW finding_attribute_rows (finding_id, kind, position, key, value) AS
SELECT f.id, 0, CAST(a.key AS INTEGER), json_extract(a.value, '$.key'),
       NULLIF(substr(json_extract(a.value, '$.value'), 1, 256), '')
  FROM findings AS f, json_each(f.attributes) AS a
UNION ALL
SELECT f.id, 0, 99999, 'WARDEN_SEVERITY', f.severity
  FROM findings AS f
 WHERE f.severity = 'Critical'
UNION ALL
SELECT f.id, 0, 100000, 'EVIDENCE_COUNT', CAST(json_array_length(f.evidence) AS TEXT)
  FROM findings AS f
 WHERE json_array_length(f.evidence) > 0
UNION ALL
SELECT finding_id, 0, 100001 + item * 8 + field, 'EVIDENCE_' || (item + 1) || suffix, NULLIF(substr(value, 1, 256), '')
  FROM (SELECT f.id AS finding_id, CAST(e.key AS INTEGER) AS item, p.field, p.suffix,
               CASE p.field
                   WHEN 0 THEN json_extract(e.value, '$.message')
                   WHEN 1 THEN json_extract(e.value, '$.path')
                   WHEN 2 THEN CAST(json_extract(e.value, '$.line') AS TEXT)
                   WHEN 3 THEN json_extract(e.value, '$.text')
                   WHEN 4 THEN CASE WHEN json_extract(e.value, '$.is_default') THEN 'true' END
               END AS value
          FROM findings AS f, json_each(f.evidence) AS e,
               (SELECT 0 AS field, '' AS suffix UNION ALL SELECT 1, '_FILE' UNION ALL SELECT 2, '_LINE'
                UNION ALL SELECT 3, '_TEXT' UNION ALL SELECT 4, '_DEFAULT') AS p
         WHERE CAST(e.key AS INTEGER) < 5)
 WHERE value IS NOT NULL AND value <> ''
UNION ALL
SELECT f.id, 1, CAST(a.key AS INTEGER), json_extract(a.value, '$.key'),
       NULLIF(substr(json_extract(a.value, '$.value'), 1, 256), '')
  FROM findings AS f, json_each(f.user_attributes) AS a
UNION ALL
SELECT f.id, 2, CAST(a.key AS INTEGER), json_extract(a.value, '$.key'),
       NULLIF(substr(json_extract(a.value, '$.value'), 1, 256), '')
  FROM findings AS f, json_each(f.asset, '$.tags') AS a;

CREATE TRIGGER findings_attributes_insert AFTER INSERT ON findings BEGIN
    INSERT INTO finding_attributes (finding_id, kind, position, key, value)
    SELECT finding_id, kind, position, key, value FROM finding_attribute_rows WHERE finding_id = NEW.id;
END;

-- Normally only user attributes change (AddAttributesToFindings,
-- RemoveAttributesFromFindings, the fleet API's edit); any edit of a source
-- column rebuilds the finding's rows.
CREATE TRIGGER findings_attributes_update AFTER UPDATE OF attributes, evidence, user_attributes, asset ON findings BEGIN
    DELETE FROM finding_attributes WHERE finding_id = OLD.id;
    INSERT INTO finding_attributes (finding_id, kind, position, key, value)
    SELECT finding_id, kind, position, key, value FROM finding_attribute_rows WHERE finding_id = NEW.id;
END;

-- Findings stored before this migration.
INSERT INTO finding_attributes (finding_id, kind, position, key, value)
SELECT finding_id, kind, position, key, value FROM finding_attribute_rows;
