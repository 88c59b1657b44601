-- Back to one plain table with the earlier keys.
ALTER SEQUENCE events_id_seq OWNED BY NONE;
CREATE TABLE events_plain (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO events_plain SELECT * FROM events;
DROP TABLE events CASCADE;
DROP FUNCTION events_prepare_partitions(INTEGER);
DROP FUNCTION events_add_partition(DATE);
ALTER TABLE events_plain RENAME TO events;
ALTER SEQUENCE events_id_seq OWNED BY events.id;
ALTER TABLE events ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE events ADD UNIQUE (tenant_id, seq);
ALTER TABLE events ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id);
ALTER TABLE event_related ADD FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id);
CREATE UNIQUE INDEX events_tenant_external_id ON events (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX events_tenant_time ON events (tenant_id, occurred_at, id);
CREATE INDEX events_tenant_actor ON events (tenant_id, actor_id, occurred_at, id);
CREATE INDEX events_tenant_actor_name ON events (tenant_id, actor_name, occurred_at, id);
CREATE INDEX events_tenant_module ON events (tenant_id, module, occurred_at, id);
CREATE INDEX events_tenant_verb ON events (tenant_id, verb, occurred_at, id);
CREATE INDEX events_tenant_action ON events (tenant_id, action, occurred_at, id);
CREATE INDEX events_tenant_entity ON events (tenant_id, entity_type, entity_id, occurred_at, id);
CREATE INDEX events_tenant_ip ON events (tenant_id, ip, occurred_at, id);
CREATE INDEX events_search_trgm ON events USING gin (search_text public.gin_trgm_ops);
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_guard();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_no_truncate();
