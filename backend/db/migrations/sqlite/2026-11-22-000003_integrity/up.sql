-- SQLite twin of the PostgreSQL migration (same tables and columns; triggers in SQLite syntax).
ALTER TABLE tenants ADD COLUMN retention_days INTEGER;
ALTER TABLE tenants ADD COLUMN chain_base_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN chain_base_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

ALTER TABLE events ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE events ADD COLUMN deleted_by TEXT;

CREATE TABLE archives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    file_name TEXT NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    first_recorded_at TIMESTAMP NOT NULL,
    last_recorded_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, first_seq)
);

-- See the PostgreSQL migration: the guarded doors through the immutability triggers.
CREATE TABLE mutation_guard (
    mode TEXT NOT NULL
);

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'retention')
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: only retention may remove them');
END;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'tombstone')
    OR OLD.deleted_at IS NOT NULL
    OR NEW.deleted_at IS NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.tenant_id IS NOT OLD.tenant_id
    OR NEW.seq IS NOT OLD.seq
    OR NEW.hash IS NOT OLD.hash
    OR NEW.prev_hash IS NOT OLD.prev_hash
    OR NEW.recorded_at IS NOT OLD.recorded_at
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: only the tombstone path may blank a payload');
END;
