-- +goose Up
ALTER TABLE clients ADD COLUMN organization_usage TEXT NOT NULL DEFAULT 'deny';

CREATE TABLE organizations (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    metadata        TEXT NOT NULL DEFAULT '{}',
    branding        TEXT NOT NULL DEFAULT '{}',
    default_role_id TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX organizations_tenant_name ON organizations(tenant_id, name);

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    joined_at       DATETIME NOT NULL,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX memberships_tenant_org_user ON memberships(tenant_id, organization_id, user_id);
CREATE INDEX memberships_tenant_user ON memberships(tenant_id, user_id);

CREATE TABLE resource_servers (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    identifier       TEXT NOT NULL,
    name             TEXT NOT NULL,
    scopes           TEXT NOT NULL DEFAULT '[]',
    token_lifetime   INTEGER NOT NULL,
    refresh_lifetime INTEGER NOT NULL,
    metadata         TEXT NOT NULL DEFAULT '{}',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE UNIQUE INDEX resource_servers_tenant_identifier ON resource_servers(tenant_id, identifier);

CREATE TABLE roles (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX roles_tenant_org_name ON roles(tenant_id, organization_id, name);

CREATE TABLE role_permissions (
    tenant_id       TEXT NOT NULL,
    role_id         TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    resource_server TEXT NOT NULL,
    permission      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, role_id, resource_server, permission)
);

CREATE TABLE role_assignments (
    tenant_id    TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    role_id      TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, subject_kind, subject_id, role_id)
);
CREATE INDEX role_assignments_role ON role_assignments(tenant_id, role_id);

CREATE TABLE client_organizations (
    tenant_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, client_id, organization_id)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    mode         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE audit_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL,
    type            TEXT NOT NULL,
    actor           TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL DEFAULT '',
    organization_id TEXT NOT NULL DEFAULT '',
    client_id       TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      DATETIME NOT NULL
);
CREATE INDEX audit_events_tenant_seq ON audit_events(tenant_id, seq);
