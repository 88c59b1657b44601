-- Retention policy and the chain checkpoint left by archiving: the first live event links to
-- chain_base_hash, the hash of the last archived one (seq chain_base_seq).
ALTER TABLE tenants ADD COLUMN retention_days INTEGER;
ALTER TABLE tenants ADD COLUMN chain_base_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN chain_base_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

-- Tombstones: a deleted event keeps id, seq, hash and prev_hash; its payload is blanked.
ALTER TABLE events ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE events ADD COLUMN deleted_by TEXT;

-- Compressed files that hold archived events, one row per file.
CREATE TABLE archives (
    id BIGSERIAL NOT NULL,
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
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, first_seq)
);

-- The only doors through the immutability triggers: a transaction that may blank payloads
-- (`tombstone`) or remove archived events (`retention`) inserts its mode here, does its work and
-- deletes the row again before committing. Other transactions never see the row.
CREATE TABLE mutation_guard (
    mode TEXT NOT NULL
);

CREATE FUNCTION events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'retention') THEN
            RAISE EXCEPTION 'events are immutable: only retention may remove them';
        END IF;
        RETURN OLD;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'tombstone')
        OR OLD.deleted_at IS NOT NULL
        OR NEW.deleted_at IS NULL
        OR NEW.id IS DISTINCT FROM OLD.id
        OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
        OR NEW.seq IS DISTINCT FROM OLD.seq
        OR NEW.hash IS DISTINCT FROM OLD.hash
        OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash
        OR NEW.recorded_at IS DISTINCT FROM OLD.recorded_at THEN
        RAISE EXCEPTION 'events are immutable: only the tombstone path may blank a payload';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_guard();

CREATE FUNCTION events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: TRUNCATE is not allowed';
END
$$;

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_no_truncate();
