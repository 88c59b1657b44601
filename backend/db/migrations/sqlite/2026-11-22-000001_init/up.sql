-- SQLite twin of the PostgreSQL migration: same tables, columns and indexes. SQLite keeps its
-- rowid as the storage key (INTEGER PRIMARY KEY), so (tenant_id, id) is a UNIQUE key here.
-- Tenants: one row per company account. head_seq/head_hash are the tip of the tenant's hash chain;
-- ingest locks this row, so sequence numbers stay gap-free under concurrent writers.
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    head_seq BIGINT NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'member')),
    actor_id TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, email)
);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_tenant_actor ON users (tenant_id, actor_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    seq BIGINT NOT NULL,
    external_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_email TEXT,
    actor_role TEXT,
    admin_private BOOLEAN NOT NULL,
    action TEXT NOT NULL,
    module TEXT NOT NULL,
    verb TEXT NOT NULL,
    entity_type TEXT,
    entity_id TEXT,
    entity_label TEXT,
    description TEXT NOT NULL,
    changes TEXT NOT NULL,
    related TEXT NOT NULL,
    metadata TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT,
    search_text TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, seq)
);
CREATE UNIQUE INDEX events_tenant_external_id ON events (tenant_id, external_id) WHERE external_id IS NOT NULL;
-- One index per filter, each also serving the sort on that column (ties by occurred_at, then id).
CREATE INDEX events_tenant_time ON events (tenant_id, occurred_at, id);
CREATE INDEX events_tenant_actor ON events (tenant_id, actor_id, occurred_at, id);
CREATE INDEX events_tenant_actor_name ON events (tenant_id, actor_name, occurred_at, id);
CREATE INDEX events_tenant_module ON events (tenant_id, module, occurred_at, id);
CREATE INDEX events_tenant_verb ON events (tenant_id, verb, occurred_at, id);
CREATE INDEX events_tenant_action ON events (tenant_id, action, occurred_at, id);
CREATE INDEX events_tenant_entity ON events (tenant_id, entity_type, entity_id, occurred_at, id);
CREATE INDEX events_tenant_ip ON events (tenant_id, ip, occurred_at, id);

-- Which records an event also belongs to (its `related` list), so a record's history finds them.
CREATE TABLE event_related (
    tenant_id BIGINT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, entity_type, entity_id, event_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id)
);

-- Idempotency-Key replay store: a retried request gets the original response.
CREATE TABLE idempotency_keys (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
