-- SQLite twin of the PostgreSQL migration: the IP key, the tenants' derived format, and the
-- `reindex` door through the immutability trigger (every column but the derived ones unchanged).
ALTER TABLE events ADD COLUMN ip_key TEXT NOT NULL DEFAULT 'z';
DROP INDEX events_tenant_ip;
CREATE INDEX events_tenant_ip_key ON events (tenant_id, ip_key, occurred_at, id);

ALTER TABLE tenants ADD COLUMN derived_format INTEGER NOT NULL DEFAULT 2;
UPDATE tenants SET derived_format = 1;

DROP TRIGGER events_no_update;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT (
        EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'reindex')
        AND NEW.id IS OLD.id
        AND NEW.tenant_id IS OLD.tenant_id
        AND NEW.seq IS OLD.seq
        AND NEW.external_id IS OLD.external_id
        AND NEW.occurred_at IS OLD.occurred_at
        AND NEW.recorded_at IS OLD.recorded_at
        AND NEW.actor_id IS OLD.actor_id
        AND NEW.actor_type IS OLD.actor_type
        AND NEW.actor_name IS OLD.actor_name
        AND NEW.actor_email IS OLD.actor_email
        AND NEW.actor_role IS OLD.actor_role
        AND NEW.admin_private IS OLD.admin_private
        AND NEW.action IS OLD.action
        AND NEW.module IS OLD.module
        AND NEW.verb IS OLD.verb
        AND NEW.entity_type IS OLD.entity_type
        AND NEW.entity_id IS OLD.entity_id
        AND NEW.entity_label IS OLD.entity_label
        AND NEW.description IS OLD.description
        AND NEW.changes IS OLD.changes
        AND NEW.related IS OLD.related
        AND NEW.metadata IS OLD.metadata
        AND NEW.ip IS OLD.ip
        AND NEW.user_agent IS OLD.user_agent
        AND NEW.prev_hash IS OLD.prev_hash
        AND NEW.hash IS OLD.hash
        AND NEW.deleted_at IS OLD.deleted_at
        AND NEW.deleted_by IS OLD.deleted_by
        AND NEW.leaf_version IS OLD.leaf_version
        AND NEW.submitted_by IS OLD.submitted_by
        AND NEW.salt IS OLD.salt
        AND NEW.flags IS OLD.flags
        AND NEW.flag_reasons IS OLD.flag_reasons
    )
    AND (NOT EXISTS (SELECT 1 FROM mutation_guard WHERE mode = 'tombstone')
        OR OLD.deleted_at IS NOT NULL
        OR NEW.deleted_at IS NULL
        OR NEW.id IS NOT OLD.id
        OR NEW.tenant_id IS NOT OLD.tenant_id
        OR NEW.seq IS NOT OLD.seq
        OR NEW.hash IS NOT OLD.hash
        OR NEW.prev_hash IS NOT OLD.prev_hash
        OR NEW.recorded_at IS NOT OLD.recorded_at)
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: only the tombstone path may blank a payload');
END;
