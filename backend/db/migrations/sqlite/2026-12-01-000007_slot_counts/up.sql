-- SQLite twin of the PostgreSQL migration: events per tenant and 15-minute UTC slot of
-- occurred_at (the slot the chart's query computes: epoch seconds / 900), split by admin-private
-- and deleted, kept by per-row triggers.
CREATE TABLE slot_counts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    slot BIGINT NOT NULL,
    admin_private BOOLEAN NOT NULL,
    deleted BOOLEAN NOT NULL,
    event_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, admin_private, deleted)
);

INSERT INTO slot_counts
SELECT tenant_id, CAST(strftime('%s', occurred_at) AS INTEGER) / 900, admin_private, deleted_at IS NOT NULL,
       COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER events_slots_insert AFTER INSERT ON events BEGIN
    INSERT INTO slot_counts
    VALUES (NEW.tenant_id, CAST(strftime('%s', NEW.occurred_at) AS INTEGER) / 900, NEW.admin_private,
            NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + 1;
END;

CREATE TRIGGER events_slots_delete AFTER DELETE ON events BEGIN
    UPDATE slot_counts SET event_count = event_count - 1
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND admin_private = OLD.admin_private AND deleted = (OLD.deleted_at IS NOT NULL);
    DELETE FROM slot_counts
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND event_count = 0;
END;

CREATE TRIGGER events_slots_update
AFTER UPDATE OF tenant_id, occurred_at, admin_private, deleted_at ON events BEGIN
    UPDATE slot_counts SET event_count = event_count - 1
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND admin_private = OLD.admin_private AND deleted = (OLD.deleted_at IS NOT NULL);
    DELETE FROM slot_counts
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND event_count = 0;
    INSERT INTO slot_counts
    VALUES (NEW.tenant_id, CAST(strftime('%s', NEW.occurred_at) AS INTEGER) / 900, NEW.admin_private,
            NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + 1;
END;
