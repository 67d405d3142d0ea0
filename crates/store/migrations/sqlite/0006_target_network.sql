-- Per-target AWS network data for the Network Reachability package
-- (PUT /v1/targets/{id}/network, `warden target network-load`).
--
-- One row per target at most: an upload replaces the earlier one. `bundle`
-- is the uploaded describe-* files as one JSON object {relative path: the
-- file's JSON}, compressed as `encoding` says; `sha256` and `bytes` are of
-- that JSON before compression (what the uploader can recompute). The
-- counts and load warnings are from loading it at upload time, so showing
-- the metadata needs no decompression. A plain rowid table: rows hold large
-- blobs, which WITHOUT ROWID tables store badly.
CREATE TABLE target_networks (
    target_id           TEXT PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,
    encoding            TEXT NOT NULL,        -- gzip
    bundle              BLOB NOT NULL,
    sha256              TEXT NOT NULL,        -- lowercase hex
    bytes               INTEGER NOT NULL,
    stored_bytes        INTEGER NOT NULL,
    files               INTEGER NOT NULL,
    instances           INTEGER NOT NULL,
    network_interfaces  INTEGER NOT NULL,
    warnings            TEXT NOT NULL,        -- JSON [TargetNetworkWarning]
    uploaded_at         INTEGER NOT NULL
);
