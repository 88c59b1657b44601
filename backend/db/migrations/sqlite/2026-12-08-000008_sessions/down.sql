CREATE TABLE idempotency_keys_old (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
INSERT INTO idempotency_keys_old SELECT tenant_id, idempotency_key, request_hash, response, created_at
    FROM idempotency_keys WHERE submitted_by = '';
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_old RENAME TO idempotency_keys;
DROP TABLE sign_in_addresses;
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL
);
ALTER TABLE users DROP COLUMN session_epoch;
