-- +goose Up
-- Connections (ways to sign in), credentials (what a user proves a connection with) and identities (an upstream
-- account linked to a user) move authentication out of the users table. Every tenant gets the password
-- connection, its users' password hashes become that connection's credentials, and users.password_hash goes.
CREATE TABLE connections (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    enabled    BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX connections_tenant_name ON connections(tenant_id, name);

CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    secret        TEXT NOT NULL DEFAULT '',
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_at    DATETIME NOT NULL,
    last_used_at  DATETIME
);
CREATE INDEX credentials_tenant_user ON credentials(tenant_id, user_id);
-- One password per user and connection (passkeys and recovery codes may be several).
CREATE UNIQUE INDEX credentials_password ON credentials(user_id, connection_id) WHERE type = 'password';

CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    profile       TEXT NOT NULL DEFAULT '{}',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX identities_tenant_connection_subject ON identities(tenant_id, connection_id, subject);
CREATE INDEX identities_tenant_user ON identities(tenant_id, user_id);

INSERT INTO connections (id, tenant_id, name, type, settings, enabled, created_at, updated_at)
SELECT 'con_' || lower(hex(randomblob(12))), id, 'Username-Password-Authentication', 'password', '{}', 1, created_at, created_at
FROM tenants;

INSERT INTO credentials (id, tenant_id, user_id, connection_id, type, secret, metadata, created_at)
SELECT 'crd_' || lower(hex(randomblob(12))), u.tenant_id, u.id, c.id, 'password', u.password_hash, '{}', u.updated_at
FROM users u JOIN connections c ON c.tenant_id = u.tenant_id AND c.name = 'Username-Password-Authentication'
WHERE u.password_hash <> '';

ALTER TABLE users DROP COLUMN password_hash;
