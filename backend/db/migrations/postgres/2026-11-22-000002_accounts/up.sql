-- Signed-out access tokens (by their jti), kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    jti TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);

-- Integrator API tokens. Only a SHA-256 of the secret is kept; the secret is shown once.
CREATE TABLE api_tokens (
    id BIGSERIAL NOT NULL,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP,
    PRIMARY KEY (tenant_id, id)
);

-- Failed sign-ins per account and per IP in a fixed window, shared by every worker and process.
-- Keys are not tenant data (an IP spans tenants): this table stays local to the coordinator.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL
);
