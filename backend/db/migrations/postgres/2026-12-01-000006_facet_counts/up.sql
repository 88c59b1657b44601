-- The filter pickers' counts, kept as events are written: how many events each action and actor
-- has, per tenant, split by what visibility looks at (admin-private, deleted). Reading a facet is
-- then a lookup over a few thousand rows instead of a scan of every event. Triggers on `events`
-- keep it exact in the same transaction as every insert (ingest and COPY), tombstone (which
-- blanks the actor) and retention delete. actor_email is '' when the events name none.
CREATE TABLE facet_counts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    action TEXT NOT NULL,
    module TEXT NOT NULL,
    verb TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    admin_private BOOLEAN NOT NULL,
    deleted BOOLEAN NOT NULL,
    event_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
);

INSERT INTO facet_counts
SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, ''), admin_private,
       deleted_at IS NOT NULL, COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

-- Statement-level: each INSERT (a whole batch, or a COPY), tombstone UPDATE or retention DELETE
-- adds its rows' groups once. A transition table is only visible here, so each op names its own.
CREATE FUNCTION facet_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO facet_counts AS f
        SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, ''), admin_private,
               deleted_at IS NOT NULL, -COUNT(*)
        FROM old_rows
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
        DO UPDATE SET event_count = f.event_count + EXCLUDED.event_count;
        DELETE FROM facet_counts f
        USING (SELECT DISTINCT tenant_id, action, actor_id FROM old_rows) o
        WHERE f.tenant_id = o.tenant_id AND f.action = o.action AND f.actor_id = o.actor_id AND f.event_count = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO facet_counts AS f
        SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, ''), admin_private,
               deleted_at IS NOT NULL, COUNT(*)
        FROM new_rows
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
        DO UPDATE SET event_count = f.event_count + EXCLUDED.event_count;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER events_facets_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_keep();
CREATE TRIGGER events_facets_update AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_keep();
CREATE TRIGGER events_facets_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_keep();
