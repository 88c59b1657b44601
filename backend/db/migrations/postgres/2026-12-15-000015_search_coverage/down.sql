CREATE OR REPLACE FUNCTION events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION auditlog_tombstone(p_tenant BIGINT, p_record BIGINT, p_digests TEXT) RETURNS INTEGER
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

ALTER TABLE tenants DROP COLUMN derived_format;
DROP INDEX events_tenant_ip_key;
ALTER TABLE events DROP COLUMN ip_key;
CREATE INDEX events_tenant_ip ON events (tenant_id, ip, occurred_at, id);
