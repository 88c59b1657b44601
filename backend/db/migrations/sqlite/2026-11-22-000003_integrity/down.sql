DROP TRIGGER events_no_update;
DROP TRIGGER events_no_delete;
DROP TABLE mutation_guard;
DROP TABLE archives;
ALTER TABLE events DROP COLUMN deleted_by;
ALTER TABLE events DROP COLUMN deleted_at;
ALTER TABLE tenants DROP COLUMN chain_base_hash;
ALTER TABLE tenants DROP COLUMN chain_base_seq;
ALTER TABLE tenants DROP COLUMN retention_days;
