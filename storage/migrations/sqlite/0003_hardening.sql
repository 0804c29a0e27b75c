-- +goose Up
-- Tenant settings: one JSON object of tunable policies (refresh-token reuse interval, sign-in throttling, …).
ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

-- A blocked user (Auth0's "blocked") can neither sign in nor obtain tokens.
ALTER TABLE users ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT 0;

-- Refresh-token rotation: when a refresh token was rotated, and its successor (encrypted) so that a client
-- whose network lost the answer can get the same successor within the tenant's reuse interval.
ALTER TABLE oauth_tokens ADD COLUMN rotated_at DATETIME;
ALTER TABLE oauth_tokens ADD COLUMN successor BLOB;

-- Facts about the installation rather than a tenant, e.g. the check value of AUTHIO_SECRET_KEY.
CREATE TABLE authio_meta (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
