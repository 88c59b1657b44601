-- `events` becomes a table partitioned by month of `recorded_at` (the ingest clock, which grows
-- with `seq`: a month is a contiguous stretch of every tenant's chain). Partitions are named
-- events_YYYY_MM; `events_prepare_partitions` creates the coming ones ahead (the server calls it at
-- start and daily), `events_default` catches anything outside them, and retention drops a closed
-- month once every tenant's events in it have been archived.
--
-- A partitioned table's keys must include the partition column, so the primary key becomes
-- (tenant_id, id, recorded_at) and the seq key (tenant_id, seq, recorded_at); uniqueness of `seq`
-- and of `external_id` per tenant is kept by ingest, which writes a tenant's events under the lock
-- of its chain head. `event_related` can no longer reference `events` with a foreign key.

ALTER SEQUENCE events_id_seq OWNED BY NONE;

CREATE TABLE events_partitioned (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (recorded_at);
CREATE TABLE events_default PARTITION OF events_partitioned DEFAULT;

-- One month's partition, unless it exists; it refuses TRUNCATE as the parent does.
CREATE FUNCTION events_add_partition(month DATE) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    parent TEXT := CASE WHEN to_regclass('events_partitioned') IS NOT NULL THEN 'events_partitioned' ELSE 'events' END;
    name TEXT := 'events_' || to_char(month, 'YYYY_MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   name, parent, month, (month + INTERVAL '1 month')::DATE);
    EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION events_no_truncate()', name);
    RETURN TRUE;
END
$$;

-- The current month and `months_ahead` more; returns how many partitions were created.
CREATE FUNCTION events_prepare_partitions(months_ahead INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    first DATE := date_trunc('month', now() AT TIME ZONE 'UTC')::DATE;
    created INTEGER := 0;
BEGIN
    FOR i IN 0..months_ahead LOOP
        IF events_add_partition((first + make_interval(months => i))::DATE) THEN
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

-- Every month that already holds events, then the coming ones.
DO $$
DECLARE
    month DATE;
BEGIN
    FOR month IN SELECT DISTINCT date_trunc('month', recorded_at)::DATE FROM events LOOP
        PERFORM events_add_partition(month);
    END LOOP;
    PERFORM events_prepare_partitions(3);
END
$$;

INSERT INTO events_partitioned SELECT * FROM events;
DROP TABLE events CASCADE;
ALTER TABLE events_partitioned RENAME TO events;
ALTER SEQUENCE events_id_seq OWNED BY events.id;

ALTER TABLE events ADD PRIMARY KEY (tenant_id, id, recorded_at);
ALTER TABLE events ADD UNIQUE (tenant_id, seq, recorded_at);
ALTER TABLE events ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id);
-- Not unique any more (see above); ingest looks external ids up through it.
CREATE INDEX events_tenant_external_id ON events (tenant_id, external_id) WHERE external_id IS NOT NULL;
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
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_default
    FOR EACH STATEMENT EXECUTE FUNCTION events_no_truncate();
