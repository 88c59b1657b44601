-- SQLite twin of the PostgreSQL migration: the counts kept as events are written, by per-row
-- triggers here (each adds its row with +1 or -1; a removal drops the counts it brought to zero).

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

CREATE TABLE slot_counts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    slot BIGINT NOT NULL,
    admin_private BOOLEAN NOT NULL,
    deleted BOOLEAN NOT NULL,
    event_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, admin_private, deleted)
);

INSERT INTO facet_counts
SELECT tenant_id, action, module, verb, actor_id, actor_name, COALESCE(actor_email, ''), admin_private,
       deleted_at IS NOT NULL, COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
INSERT INTO slot_counts
SELECT tenant_id, CAST(strftime('%s', occurred_at) AS INTEGER) / 900, admin_private, deleted_at IS NOT NULL,
       COUNT(*)
FROM events
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER events_counts_insert AFTER INSERT ON events BEGIN
    INSERT INTO facet_counts
    VALUES (NEW.tenant_id, NEW.action, NEW.module, NEW.verb, NEW.actor_id, NEW.actor_name,
            COALESCE(NEW.actor_email, ''), NEW.admin_private, NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + excluded.event_count;
    INSERT INTO slot_counts
    VALUES (NEW.tenant_id, CAST(strftime('%s', NEW.occurred_at) AS INTEGER) / 900, NEW.admin_private,
            NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + excluded.event_count;
END;

CREATE TRIGGER events_counts_delete AFTER DELETE ON events BEGIN
    INSERT INTO facet_counts
    VALUES (OLD.tenant_id, OLD.action, OLD.module, OLD.verb, OLD.actor_id, OLD.actor_name,
            COALESCE(OLD.actor_email, ''), OLD.admin_private, OLD.deleted_at IS NOT NULL, -1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + excluded.event_count;
    INSERT INTO slot_counts
    VALUES (OLD.tenant_id, CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900, OLD.admin_private,
            OLD.deleted_at IS NOT NULL, -1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + excluded.event_count;
    DELETE FROM facet_counts
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND actor_id = OLD.actor_id AND event_count = 0;
    DELETE FROM slot_counts
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND event_count = 0;
END;

CREATE TRIGGER events_counts_update
AFTER UPDATE OF tenant_id, occurred_at, action, module, verb, actor_id, actor_name, actor_email, admin_private,
    deleted_at
ON events BEGIN
    INSERT INTO facet_counts
    VALUES (OLD.tenant_id, OLD.action, OLD.module, OLD.verb, OLD.actor_id, OLD.actor_name,
            COALESCE(OLD.actor_email, ''), OLD.admin_private, OLD.deleted_at IS NOT NULL, -1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + excluded.event_count;
    INSERT INTO slot_counts
    VALUES (OLD.tenant_id, CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900, OLD.admin_private,
            OLD.deleted_at IS NOT NULL, -1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + excluded.event_count;
    DELETE FROM facet_counts
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND actor_id = OLD.actor_id AND event_count = 0;
    DELETE FROM slot_counts
    WHERE tenant_id = OLD.tenant_id AND slot = CAST(strftime('%s', OLD.occurred_at) AS INTEGER) / 900
      AND event_count = 0;
    INSERT INTO facet_counts
    VALUES (NEW.tenant_id, NEW.action, NEW.module, NEW.verb, NEW.actor_id, NEW.actor_name,
            COALESCE(NEW.actor_email, ''), NEW.admin_private, NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + excluded.event_count;
    INSERT INTO slot_counts
    VALUES (NEW.tenant_id, CAST(strftime('%s', NEW.occurred_at) AS INTEGER) / 900, NEW.admin_private,
            NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, slot, admin_private, deleted) DO UPDATE SET event_count = event_count + excluded.event_count;
END;
