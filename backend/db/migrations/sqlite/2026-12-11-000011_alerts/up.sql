-- Alert rules: a filter of the list (as the admin wrote it, `query`, and resolved, `filter`: JSON
-- of `queries::events::EventFilter`) and where matching events go (a webhook or e-mail, as JSON:
-- `alerts::Destination`). `secret` signs webhook deliveries (Standard
-- Webhooks). A delivery carries up to `batch_max_events` events, waiting at most
-- `batch_max_seconds` for more. A paused rule matches nothing; a disabled one (its deliveries failed for too long)
-- matches nothing and sends nothing until an admin resumes it. A rule with a `schedule` (`daily`,
-- `weekly`) is a digest: it matches no single event, and sends a summary of each period instead
-- (`last_digest_at`: the end of the last period owed).
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    filter TEXT NOT NULL,
    destination TEXT NOT NULL,
    secret TEXT NOT NULL,
    batch_max_events INTEGER NOT NULL DEFAULT 1,
    batch_max_seconds INTEGER NOT NULL DEFAULT 0,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    schedule TEXT,
    last_digest_at TIMESTAMP,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX alert_rules_tenant_idx ON alert_rules (tenant_id);

-- The outbox: what each rule owes its destination, written in the transaction that stores the
-- events, so nothing matched is lost and nothing is owed for events that were not stored. A
-- delivery carries up to the rule's batch size of event ids; `message_id` is its
-- `webhook-id`, the same on every attempt. A worker leases a due delivery (`leased_until`)
-- before sending it: a process killed mid-send leaves a lease that runs out, and the delivery is
-- sent again (at least once; receivers dedupe by the id). A digest's delivery names its period.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    rule_id BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    event_ids TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMP,
    response_code INTEGER,
    latency_ms INTEGER,
    error TEXT,
    delivered_at TIMESTAMP,
    period_start TIMESTAMP,
    period_end TIMESTAMP,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, message_id),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES alert_rules (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_rule_idx ON deliveries (rule_id, id);
