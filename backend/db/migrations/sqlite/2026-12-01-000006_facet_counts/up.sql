-- SQLite twin of the PostgreSQL migration: the filter pickers' counts, kept as events are
-- written (per-row triggers here, in the same transaction as the write). actor_email is '' when
-- the events name none.
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

CREATE TRIGGER events_facets_insert AFTER INSERT ON events BEGIN
    INSERT INTO facet_counts
    VALUES (NEW.tenant_id, NEW.action, NEW.module, NEW.verb, NEW.actor_id, NEW.actor_name,
            COALESCE(NEW.actor_email, ''), NEW.admin_private, NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + 1;
END;

CREATE TRIGGER events_facets_delete AFTER DELETE ON events BEGIN
    UPDATE facet_counts SET event_count = event_count - 1
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND module = OLD.module AND verb = OLD.verb
      AND actor_id = OLD.actor_id AND actor_name = OLD.actor_name
      AND actor_email = COALESCE(OLD.actor_email, '') AND admin_private = OLD.admin_private
      AND deleted = (OLD.deleted_at IS NOT NULL);
    DELETE FROM facet_counts
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND actor_id = OLD.actor_id AND event_count = 0;
END;

CREATE TRIGGER events_facets_update
AFTER UPDATE OF tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted_at
ON events BEGIN
    UPDATE facet_counts SET event_count = event_count - 1
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND module = OLD.module AND verb = OLD.verb
      AND actor_id = OLD.actor_id AND actor_name = OLD.actor_name
      AND actor_email = COALESCE(OLD.actor_email, '') AND admin_private = OLD.admin_private
      AND deleted = (OLD.deleted_at IS NOT NULL);
    DELETE FROM facet_counts
    WHERE tenant_id = OLD.tenant_id AND action = OLD.action AND actor_id = OLD.actor_id AND event_count = 0;
    INSERT INTO facet_counts
    VALUES (NEW.tenant_id, NEW.action, NEW.module, NEW.verb, NEW.actor_id, NEW.actor_name,
            COALESCE(NEW.actor_email, ''), NEW.admin_private, NEW.deleted_at IS NOT NULL, 1)
    ON CONFLICT (tenant_id, action, module, verb, actor_id, actor_name, actor_email, admin_private, deleted)
    DO UPDATE SET event_count = event_count + 1;
END;
