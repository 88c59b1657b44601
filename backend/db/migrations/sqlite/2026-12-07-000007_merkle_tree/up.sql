-- SQLite twin of the PostgreSQL migration. SQLite has no roles: tombstones and retention run
-- through the guarded doors from the application, and verification is the defence.
ALTER TABLE events ADD COLUMN leaf_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN submitted_by TEXT;
-- The key to the personal data's digests in the leaf: the salt (hex) while the values are there,
-- the digests themselves (a JSON object) once a tombstone removed values and salt.
ALTER TABLE events ADD COLUMN salt TEXT;
ALTER TABLE tenants ADD COLUMN tree_size BIGINT NOT NULL DEFAULT 0;

-- An event's related-record rows, by event: verification compares them with the event's
-- `related`, and tombstones and retention remove them.
CREATE INDEX event_related_event ON event_related (tenant_id, event_id);

CREATE TABLE merkle_nodes (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (tenant_id, level, idx)
) WITHOUT ROWID;

CREATE TABLE verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    tree_size BIGINT NOT NULL,
    ok BOOLEAN NOT NULL,
    events_checked BIGINT NOT NULL,
    checkpoints_checked BIGINT NOT NULL,
    first_bad_seq BIGINT,
    reason TEXT,
    trigger TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
BEGIN
    SELECT RAISE(ABORT, 'merkle nodes are immutable');
END;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
BEGIN
    SELECT RAISE(ABORT, 'merkle nodes are immutable');
END;
