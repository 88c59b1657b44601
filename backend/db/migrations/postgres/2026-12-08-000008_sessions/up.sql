-- Sessions end for good: a password change or a deactivation moves the user's session epoch,
-- and an access token is good only for the epoch it was issued in.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- Sign-in throttling counts an attempt before the password is checked (reserve, then settle),
-- so concurrent guesses can never exceed the limit; `version` makes each step a compare-and-set.
-- The old rows only counted failures in fixed windows: they are not carried over.
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);

-- Addresses an account has signed in from: a lock that strangers caused does not stop them.
CREATE TABLE sign_in_addresses (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    user_id BIGINT NOT NULL,
    ip TEXT NOT NULL,
    last_success_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, user_id, ip),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

-- Idempotency keys belong to the caller that used them: another user or token reusing a key
-- makes an independent request. Keys stored before belong to nobody.
ALTER TABLE idempotency_keys ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, submitted_by, idempotency_key);
