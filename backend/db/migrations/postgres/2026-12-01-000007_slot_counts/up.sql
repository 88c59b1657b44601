-- Events per tenant and 15-minute UTC slot of occurred_at (epoch seconds / 900, the activity
-- chart's grain), split by what a manager's or an admin's visibility looks at. The chart and the
-- total of a date range then add up slots instead of reading every event in the range; only the
-- partial slots at a range's ends are counted from the events. Kept like facet_counts: one
-- grouped upsert per INSERT, tombstone UPDATE or retention DELETE statement.
CREATE TABLE slot_counts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    slot BIGINT NOT NULL,
    admin_private BOOLEAN NOT NULL,
    deleted BOOLEAN NOT NULL,
    event_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, admin_private, deleted)
);

INSERT INTO slot_counts
SELECT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT), admin_private,
       deleted_at IS NOT NULL, COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4;

CREATE FUNCTION slot_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO slot_counts AS s
        SELECT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT), admin_private,
               deleted_at IS NOT NULL, -COUNT(*)
        FROM old_rows
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, slot, admin_private, deleted)
        DO UPDATE SET event_count = s.event_count + EXCLUDED.event_count;
        DELETE FROM slot_counts s
        USING (SELECT DISTINCT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT) AS slot
               FROM old_rows) o
        WHERE s.tenant_id = o.tenant_id AND s.slot = o.slot AND s.event_count = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO slot_counts AS s
        SELECT tenant_id, CAST(floor(extract(epoch FROM occurred_at) / 900) AS BIGINT), admin_private,
               deleted_at IS NOT NULL, COUNT(*)
        FROM new_rows
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, slot, admin_private, deleted)
        DO UPDATE SET event_count = s.event_count + EXCLUDED.event_count;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER events_slots_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_counts_keep();
CREATE TRIGGER events_slots_update AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_counts_keep();
CREATE TRIGGER events_slots_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_counts_keep();
