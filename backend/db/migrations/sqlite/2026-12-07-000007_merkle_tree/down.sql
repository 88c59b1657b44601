DROP TRIGGER merkle_nodes_no_delete;
DROP TRIGGER merkle_nodes_no_update;
DROP TABLE verifications;
DROP TABLE merkle_nodes;
DROP INDEX event_related_event;
ALTER TABLE tenants DROP COLUMN tree_size;
ALTER TABLE events DROP COLUMN salt;
ALTER TABLE events DROP COLUMN submitted_by;
ALTER TABLE events DROP COLUMN leaf_version;
