-- +goose Up
-- Sign-in flows: an authorization request that needs the user (sign-in, organization choice) is stored here and
-- the browser carries only its id. browser_hash binds the flow to one browser (a hash of its flow cookie);
-- params is the validated request, form-encoded. A flow advances step by step and is completed once
-- (completed_at goes from NULL to a time in one conditional update).
CREATE TABLE auth_flows (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    browser_hash    TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    params          TEXT NOT NULL,
    organization    TEXT NOT NULL DEFAULT '',
    org_required    BOOLEAN NOT NULL DEFAULT 0,
    user_id         TEXT NOT NULL DEFAULT '',
    session_id      TEXT NOT NULL DEFAULT '',
    auth_time       DATETIME,
    amr             TEXT NOT NULL DEFAULT '[]',
    organization_id TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    completed_at    DATETIME
);
CREATE INDEX auth_flows_tenant ON auth_flows(tenant_id, id);
CREATE INDEX auth_flows_expires ON auth_flows(expires_at);
