-- SQLite twin of the PostgreSQL migration.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);

CREATE TABLE sign_in_addresses (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    user_id BIGINT NOT NULL,
    ip TEXT NOT NULL,
    last_success_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, user_id, ip),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE idempotency_keys_new (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    submitted_by TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, submitted_by, idempotency_key)
);
INSERT INTO idempotency_keys_new (tenant_id, submitted_by, idempotency_key, request_hash, response, created_at)
    SELECT tenant_id, '', idempotency_key, request_hash, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
