-- +goose Up
-- One-time secrets: sign-in links and codes sent by email, and later verification and reset links. Only keyed
-- hashes are stored (secret_hash for the link's token, code_hash for a short code). A secret is bound to a user
-- (NULL for an address with no account, so that unknown addresses cost the same work) and to a sign-in flow (NULL
-- when none). It is consumed once: consumed_at goes from NULL to a time in one conditional update, which also
-- happens when attempts (wrong codes) reaches the caller's limit.
CREATE TABLE one_time_secrets (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    user_id     TEXT,
    flow_id     TEXT,
    secret_hash TEXT NOT NULL,
    code_hash   TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX one_time_secrets_hash ON one_time_secrets(tenant_id, secret_hash);
CREATE INDEX one_time_secrets_flow ON one_time_secrets(tenant_id, flow_id, purpose);
CREATE INDEX one_time_secrets_user ON one_time_secrets(tenant_id, user_id, purpose);
CREATE INDEX one_time_secrets_expires ON one_time_secrets(expires_at);
