DROP TRIGGER events_no_update;
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
ALTER TABLE tenants DROP COLUMN derived_format;
DROP INDEX events_tenant_ip_key;
ALTER TABLE events DROP COLUMN ip_key;
CREATE INDEX events_tenant_ip ON events (tenant_id, ip, occurred_at, id);
