-- Assessment reports (GetAssessmentReport, `warden report RUN`).
--
-- run_rule_outcomes: every rule checked per run, agent and package, passed
-- ones included, so that a FULL report lists them (findings hold only the
-- failures). Written once per evaluation, replaced when a run is evaluated again.
CREATE TABLE run_rule_outcomes (
    run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    agent_id  TEXT NOT NULL,
    package   TEXT NOT NULL,              -- package id: best-practices, cve, cis, runtime, ...
    position  INTEGER NOT NULL,           -- evaluation order within (run, agent)
    rule_id   TEXT NOT NULL,
    outcome   TEXT NOT NULL,              -- pass | fail | not_applicable | could_not_evaluate | manual
    body      TEXT NOT NULL,              -- JSON warden_model::RuleOutcome
    PRIMARY KEY (run_id, agent_id, position)
) WITHOUT ROWID;

-- One report job per (run, file format, report type): repeated polls reuse
-- it. `source_revision` is the run's findings revision the file was made
-- from; a different current revision makes the next poll regenerate.
CREATE TABLE report_jobs (
    id               TEXT PRIMARY KEY,
    run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    file_format      TEXT NOT NULL,       -- html | pdf | json | csv | sarif | markdown
    report_type      TEXT NOT NULL,       -- FINDING | FULL
    status           TEXT NOT NULL,       -- WORK_IN_PROGRESS | COMPLETED | FAILED
    source_revision  TEXT NOT NULL,
    file_name        TEXT,                -- under the server's reports directory, when COMPLETED
    file_bytes       INTEGER,
    failure          TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (run_id, file_format, report_type)
);

-- Counts updates of a run's stored findings (user attributes, any later
-- update path), so a report made before the change is not reused. Inserts
-- and deletes are not counted: they happen only while a run is evaluated (or
-- deleted), and the run's state change after that is part of the revision.
CREATE TABLE run_finding_revisions (
    run_id    TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    revision  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER findings_updated_revision AFTER UPDATE ON findings
BEGIN
    INSERT OR IGNORE INTO run_finding_revisions (run_id, revision) VALUES (NEW.run_id, 0);
    UPDATE run_finding_revisions SET revision = revision + 1 WHERE run_id = NEW.run_id;
END;

