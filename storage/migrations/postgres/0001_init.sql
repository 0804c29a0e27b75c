-- +goose Up
CREATE TABLE tenants (
    id                TEXT PRIMARY KEY,
    slug              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    signing_alg       TEXT NOT NULL DEFAULT 'RS256',
    signup_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    access_token_ttl  INTEGER NOT NULL DEFAULT 0,
    refresh_token_ttl INTEGER NOT NULL DEFAULT 0,
    id_token_ttl      INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE tenant_domains (
    domain     TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tenant_domains_tenant ON tenant_domains(tenant_id);

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    alg         TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ
);
CREATE INDEX signing_keys_tenant ON signing_keys(tenant_id);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    tenant_id                 TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    type                      TEXT NOT NULL,
    secret_hash               TEXT NOT NULL DEFAULT '',
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types               TEXT NOT NULL DEFAULT '[]',
    scopes                    TEXT NOT NULL DEFAULT '[]',
    audiences                 TEXT NOT NULL DEFAULT '[]',
    web_origins               TEXT NOT NULL DEFAULT '[]',
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL
);
CREATE INDEX clients_tenant ON clients(tenant_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_tenant_email ON users(tenant_id, email);

CREATE TABLE login_sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    cookie_hash TEXT NOT NULL UNIQUE,
    auth_time   TIMESTAMPTZ NOT NULL,
    amr         TEXT NOT NULL DEFAULT '[]',
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_sessions_tenant_user ON login_sessions(tenant_id, user_id);

CREATE TABLE oauth_tokens (
    signature    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    data         BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, kind, signature)
);
CREATE INDEX oauth_tokens_request ON oauth_tokens(tenant_id, request_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens(expires_at);
