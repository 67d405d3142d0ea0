-- Inspector API: exclusions (ids and kinds), exclusion previews, run event
-- publication and notifications, and the cross-account role.

-- Exclusions get an Inspector-shaped id (the last segment of
-- `.../run/R/exclusion/E`) and a machine-readable kind (what title and
-- recommendation the API shows). Rows recorded before this migration get a
-- random id of the same shape and the kind `other`.
ALTER TABLE run_exclusions ADD COLUMN exclusion_id TEXT;
ALTER TABLE run_exclusions ADD COLUMN kind TEXT NOT NULL DEFAULT 'other';
UPDATE run_exclusions SET exclusion_id = '0-' || lower(hex(randomblob(4))) WHERE exclusion_id IS NULL;
-- ListExclusions pages by id within a run; DescribeExclusions looks ids up.
CREATE UNIQUE INDEX run_exclusions_id ON run_exclusions (run_id, exclusion_id);

-- Exclusion previews read each agent's newest host snapshot.
CREATE INDEX inspector_telemetry_agent_kind ON telemetry (agent_id, kind, received_at);

-- CreateExclusionsPreview jobs: a UUID token per template.
CREATE TABLE inspector_exclusion_previews (
    token         TEXT PRIMARY KEY,
    template_id   TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    status        TEXT NOT NULL CHECK (status IN ('WORK_IN_PROGRESS', 'COMPLETED')),
    created_at    INTEGER NOT NULL,
    completed_at  INTEGER
);
CREATE INDEX inspector_exclusion_previews_template ON inspector_exclusion_previews (template_id);

-- What a completed preview found, in the order computed (paged by position).
CREATE TABLE inspector_exclusion_preview_items (
    token     TEXT NOT NULL REFERENCES inspector_exclusion_previews (token) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    agent_id  TEXT NOT NULL,
    package   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (token, position)
) WITHOUT ROWID;

-- How far the event publisher got with each run, so that a restart neither
-- loses nor repeats events. `state_changes_published` counts entries of
-- run_state_changes (position 0, CREATED, is never an event);
-- `findings_after` is the last finding id published (findings go in id order).
CREATE TABLE inspector_run_event_progress (
    run_id                   TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    started_published        INTEGER NOT NULL DEFAULT 0,
    state_changes_published  INTEGER NOT NULL DEFAULT 1,
    findings_after           TEXT,
    findings_done            INTEGER NOT NULL DEFAULT 0,
    completed_published      INTEGER NOT NULL DEFAULT 0
);
-- FINDING_REPORTED walks a run's findings in id order: index findings_run_page (0003).

-- A run's notifications[] (what Events::publish returned), in publication order.
CREATE TABLE inspector_run_notifications (
    run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    date            INTEGER NOT NULL,   -- unix ms
    event           TEXT NOT NULL,
    message         TEXT,
    error           INTEGER NOT NULL,
    sns_topic_arn   TEXT,
    sns_status      TEXT,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

-- RegisterCrossAccountAccessRole: one role, replaced on each registration.
CREATE TABLE inspector_cross_account_role (
    singleton      INTEGER PRIMARY KEY CHECK (singleton = 1),
    role_arn       TEXT NOT NULL,
    registered_at  INTEGER NOT NULL
);
