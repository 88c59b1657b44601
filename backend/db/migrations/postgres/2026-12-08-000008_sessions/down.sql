DELETE FROM idempotency_keys WHERE submitted_by <> '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys DROP COLUMN submitted_by;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, idempotency_key);
DROP TABLE sign_in_addresses;
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL
);
ALTER TABLE users DROP COLUMN session_epoch;
