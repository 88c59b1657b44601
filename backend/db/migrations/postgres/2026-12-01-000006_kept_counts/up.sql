-- Counts kept as events are written, so that the filter pickers, the activity chart and many page
-- totals are lookups instead of scans. Both are split by what visibility looks at (admin-private,
-- deleted) and kept exact in the same transaction as every insert (ingest and COPY), tombstone
-- (which blanks the actor) and retention delete, by one statement-level trigger per operation.

-- Events per action and actor (actor_email is '' when the events name none): the facets.
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

-- Events per 15-minute UTC slot of occurred_at (epoch seconds / 900, the chart's grain): date
-- ranges add up whole slots and read only their partial end slots from the events.
CREATE TABLE slot_counts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    slot BIGINT NOT NULL,
    admin_private BOOLEAN NOT NULL,
    deleted BOOLEAN NOT NULL,
    event_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, admin_private, deleted)
);

-- What is there already.
INSERT INTO facet_counts
SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, ''), admin_private,
       deleted_at IS NOT NULL, COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
INSERT INTO slot_counts
SELECT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT), admin_private,
       deleted_at IS NOT NULL, COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4;

-- Each statement's rows, grouped, are added to both counts: an UPDATE (a tombstone) or DELETE
-- (retention) subtracts its old rows and drops the counts that reached zero; an INSERT or UPDATE
-- adds its new rows. A transition table is visible only to this function's own statements, so
-- they name it through EXECUTE.
CREATE FUNCTION kept_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change RECORD;
BEGIN
    FOR change IN
        SELECT c.rows, c.sign FROM (VALUES ('old_rows', -1), ('new_rows', 1)) AS c (rows, sign)
        WHERE CASE WHEN c.sign < 0 THEN TG_OP IN ('UPDATE', 'DELETE') ELSE TG_OP IN ('INSERT', 'UPDATE') END
    LOOP
        EXECUTE format(
            'INSERT INTO facet_counts AS f
             SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, %L),
                    admin_private, deleted_at IS NOT NULL, %s * COUNT(*)
             FROM %I GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
             ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private,
                          deleted)
             DO UPDATE SET event_count = f.event_count + EXCLUDED.event_count', '', change.sign, change.rows);
        EXECUTE format(
            'INSERT INTO slot_counts AS s
             SELECT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT), admin_private,
                    deleted_at IS NOT NULL, %s * COUNT(*)
             FROM %I GROUP BY 1, 2, 3, 4
             ON CONFLICT (tenant_id, slot, admin_private, deleted)
             DO UPDATE SET event_count = s.event_count + EXCLUDED.event_count', change.sign, change.rows);
        IF change.sign < 0 THEN
            EXECUTE format(
                'DELETE FROM facet_counts f USING (SELECT DISTINCT tenant_id, action, actor_id FROM %I) o
                 WHERE f.tenant_id = o.tenant_id AND f.action = o.action AND f.actor_id = o.actor_id
                   AND f.event_count = 0', change.rows);
            EXECUTE format(
                'DELETE FROM slot_counts s
                 USING (SELECT DISTINCT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT) AS slot
                        FROM %I) o
                 WHERE s.tenant_id = o.tenant_id AND s.slot = o.slot AND s.event_count = 0', change.rows);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER events_counts_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_keep();
CREATE TRIGGER events_counts_update AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_keep();
CREATE TRIGGER events_counts_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kept_counts_keep();
