-- Fleet store, first schema. Times are unix milliseconds (INTEGER), JSON
-- columns are TEXT holding JSON, ids are Inspector-shaped ("0-" + 8
-- alphanumerics; agents "i-" + 17 hex). The same tables, with BIGINT/JSONB,
-- are what the PostgreSQL migrations will create.

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,      -- SHA-256 of the token; the token itself is never stored
    created_at  INTEGER NOT NULL
);

CREATE TABLE enroll_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    uses_left   INTEGER NOT NULL,
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER,                  -- NULL: never
    created_at  INTEGER NOT NULL
);

CREATE TABLE agents (
    id                 TEXT PRIMARY KEY,
    public_key         BLOB NOT NULL,     -- Ed25519, 32 bytes; the server holds no agent secret
    tags               TEXT NOT NULL,     -- JSON object
    host               TEXT NOT NULL,     -- JSON AgentHost
    enrolled_at        INTEGER NOT NULL,
    last_heartbeat_at  INTEGER,
    activity           TEXT,              -- idle | running | throttled | shutdown | unhealthy
    activity_details   TEXT,
    retired_at         INTEGER
);

CREATE TABLE agent_nonces (
    agent_id  TEXT NOT NULL,
    nonce     TEXT NOT NULL,
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (agent_id, nonce)
) WITHOUT ROWID;
CREATE INDEX agent_nonces_seen ON agent_nonces (seen_at);

CREATE TABLE resource_groups (
    id          TEXT PRIMARY KEY,
    tags        TEXT NOT NULL,            -- JSON [{key, value?}]
    created_at  INTEGER NOT NULL
);

CREATE TABLE targets (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    resource_group_id  TEXT REFERENCES resource_groups (id),
    agent_ids          TEXT NOT NULL,     -- JSON [agent id]
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE templates (
    id                         TEXT PRIMARY KEY,
    target_id                  TEXT NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    duration_seconds           INTEGER NOT NULL,
    sampling_interval_seconds  INTEGER NOT NULL,
    packages                   TEXT NOT NULL, -- JSON [package id]
    user_attributes            TEXT NOT NULL, -- JSON [{key, value?}]
    created_at                 INTEGER NOT NULL,
    UNIQUE (target_id, name)
);

CREATE TABLE runs (
    id                         TEXT PRIMARY KEY,
    template_id                TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    state                      TEXT NOT NULL,
    duration_seconds           INTEGER NOT NULL,
    sampling_interval_seconds  INTEGER NOT NULL,
    packages                   TEXT NOT NULL,
    user_attributes            TEXT NOT NULL,
    created_at                 INTEGER NOT NULL,
    started_at                 INTEGER,
    collect_until              INTEGER,
    stop_requested_at          INTEGER,
    stop_action                TEXT,      -- START_EVALUATION | SKIP_EVALUATION
    completed_at               INTEGER,
    state_changed_at           INTEGER NOT NULL,
    data_collected             INTEGER NOT NULL DEFAULT 0,
    failure                    TEXT,
    UNIQUE (template_id, name)
);
CREATE INDEX runs_state ON runs (state);

CREATE TABLE run_state_changes (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    state       TEXT NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

CREATE TABLE run_agents (
    run_id              TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    agent_id            TEXT NOT NULL REFERENCES agents (id),
    status              TEXT NOT NULL,    -- pending | collecting | collected | failed | timed_out
    status_details      TEXT,
    reported_phase      TEXT,             -- collecting | finished | failed
    reported_last_seq   INTEGER,
    assigned_at         INTEGER NOT NULL,
    last_contact_at     INTEGER,
    first_telemetry_at  INTEGER,
    last_telemetry_at   INTEGER,
    PRIMARY KEY (run_id, agent_id)
) WITHOUT ROWID;
CREATE INDEX run_agents_agent ON run_agents (agent_id);

CREATE TABLE telemetry (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    agent_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,           -- JSON, opaque to the store
    size         INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, agent_id, seq)
);

CREATE TABLE findings (
    id                TEXT PRIMARY KEY,
    run_id            TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    agent_id          TEXT NOT NULL,
    package           TEXT NOT NULL,      -- package id: best-practices, cve, cis, runtime, ...
    rule_id           TEXT NOT NULL,
    title             TEXT NOT NULL,
    severity          TEXT NOT NULL,
    numeric_severity  REAL NOT NULL,
    description       TEXT NOT NULL,
    recommendation    TEXT NOT NULL,
    evidence          TEXT NOT NULL,      -- JSON [Evidence]
    attributes        TEXT NOT NULL,      -- JSON [{key, value?}]
    user_attributes   TEXT NOT NULL,
    asset             TEXT NOT NULL,      -- JSON AssetAttributes at evaluation time
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX findings_run ON findings (run_id, severity);

CREATE TABLE run_exclusions (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    agent_id    TEXT NOT NULL,
    package     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, agent_id, package)
) WITHOUT ROWID;
