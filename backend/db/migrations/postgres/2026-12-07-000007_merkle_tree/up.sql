-- Tamper evidence against the database's own administrators (docs/INTEGRITY.md).
--
-- Each tenant's events are the leaves of an RFC 9162 Merkle tree in seq order. `hash` of an event
-- stored from now on is its leaf hash (format 2: `leaf_version` 2); older events keep their chain
-- hash and enter the tree through a format-1 leaf that commits to it. `merkle_nodes` keeps every
-- complete subtree of level 1 and up (and the few leaves a retention boundary needs), so any root
-- or proof is O(log n) reads. `tree_size` says how far a tenant's nodes are built (`auditlog
-- migrate` builds them for events stored before this migration).
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
    hash BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, level, idx)
);

-- Every verification run, for "verified 3 h ago".
CREATE TABLE verifications (
    id BIGSERIAL NOT NULL,
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
    PRIMARY KEY (tenant_id, id)
);

-- A stored node never changes: the same position always has the same hash.
CREATE FUNCTION merkle_nodes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'merkle nodes are immutable';
END
$$;
CREATE TRIGGER merkle_nodes_immutable BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION merkle_nodes_guard();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION merkle_nodes_guard();

-- The only ways to change stored events, for a role that may not UPDATE or DELETE them (the
-- application's role in a two-role set-up). They run as this migration's owner and open the
-- guarded door themselves; `search_path` is fixed to this schema's.
--
-- A tombstone needs its deletion record: an `auditlog.deleted` event, stored before, naming the
-- ids in `metadata.ids`. Only events before it (by seq), not yet deleted and not the product's own
-- records are blanked: their personal data and its salt go, the digests of that data (computed by
-- the caller, `p_digests`: `[{"id", "digests"}]`) stay so that the leaf still recomputes, and the
-- record's time and actor become `deleted_at` and `deleted_by`. Returns how many were blanked.
CREATE FUNCTION auditlog_tombstone(p_tenant BIGINT, p_record BIGINT, p_digests TEXT) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    rec RECORD;
    blanked BIGINT[];
BEGIN
    SELECT id, seq, recorded_at, actor_id, metadata INTO rec FROM events
    WHERE tenant_id = p_tenant AND id = p_record AND action = 'auditlog.deleted' AND deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event % of tenant % is not a deletion record', p_record, p_tenant;
    END IF;
    INSERT INTO mutation_guard (mode) VALUES ('tombstone');
    WITH named AS (
        SELECT DISTINCT value::BIGINT AS id FROM jsonb_array_elements_text(rec.metadata::jsonb -> 'ids')
    ), digests AS (
        SELECT d.id, d.digests FROM jsonb_to_recordset(p_digests::jsonb) AS d (id BIGINT, digests TEXT)
    ), done AS (
        UPDATE events e SET external_id = NULL, actor_id = '', actor_name = '', actor_email = NULL,
            entity_id = NULL, entity_label = NULL, description = '', changes = '[]', related = '[]',
            metadata = '{}', ip = '', user_agent = NULL, search_text = '',
            salt = d.digests, deleted_at = rec.recorded_at, deleted_by = rec.actor_id
        FROM digests d
        WHERE e.tenant_id = p_tenant AND e.id = d.id AND e.id IN (SELECT id FROM named) AND e.seq < rec.seq
          AND e.deleted_at IS NULL AND e.module NOT IN ('auditlog', 'auth', 'integrity', 'token', 'user')
        RETURNING e.id
    )
    SELECT array_agg(id) INTO blanked FROM done;
    DELETE FROM mutation_guard WHERE mode = 'tombstone';
    DELETE FROM event_related WHERE tenant_id = p_tenant AND event_id = ANY (blanked);
    RETURN coalesce(array_length(blanked, 1), 0);
END
$$;

-- Retention: removes the archived prefix up to `p_last_seq`, which must follow the current base
-- and be recorded in `archives` (written by the caller, with the file), and moves the base.
CREATE FUNCTION auditlog_retain(p_tenant BIGINT, p_last_seq BIGINT, p_last_hash TEXT) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    base BIGINT;
    removed BIGINT;
BEGIN
    SELECT chain_base_seq INTO base FROM tenants WHERE id = p_tenant FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM archives WHERE tenant_id = p_tenant AND first_seq = base + 1 AND last_seq = p_last_seq
                   AND last_hash = p_last_hash) THEN
        RAISE EXCEPTION 'no archive of seq % to % for tenant %', base + 1, p_last_seq, p_tenant;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM events WHERE tenant_id = p_tenant AND seq = p_last_seq AND hash = p_last_hash) THEN
        RAISE EXCEPTION 'seq % of tenant % does not have the hash %', p_last_seq, p_tenant, p_last_hash;
    END IF;
    DELETE FROM event_related WHERE tenant_id = p_tenant AND event_id IN (
        SELECT id FROM events WHERE tenant_id = p_tenant AND seq > base AND seq <= p_last_seq);
    INSERT INTO mutation_guard (mode) VALUES ('retention');
    DELETE FROM events WHERE tenant_id = p_tenant AND seq > base AND seq <= p_last_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM mutation_guard WHERE mode = 'retention';
    UPDATE tenants SET chain_base_seq = p_last_seq, chain_base_hash = p_last_hash WHERE id = p_tenant;
    RETURN removed;
END
$$;

-- Month partitions are created and dropped by the owner of `events`.
ALTER FUNCTION events_prepare_partitions(INTEGER) SECURITY DEFINER SET search_path FROM CURRENT;
ALTER FUNCTION events_add_partition(DATE) SET search_path FROM CURRENT;
CREATE FUNCTION events_drop_emptied_partition(p_name TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF p_name !~ '^events_[0-9]{4}_[0-9]{2}$' OR p_name >= to_char(now() AT TIME ZONE 'UTC', '"events_"YYYY_MM')
        OR to_regclass(p_name) IS NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', p_name);
    IF EXISTS (SELECT 1 FROM events WHERE tableoid = to_regclass(p_name)) THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('ALTER TABLE events DETACH PARTITION %I', p_name);
    EXECUTE format('DROP TABLE %I', p_name);
    RETURN TRUE;
END
$$;

-- The kept counts are written by their trigger, not by whoever inserts events.
ALTER FUNCTION kept_counts_keep() SECURITY DEFINER SET search_path FROM CURRENT;
