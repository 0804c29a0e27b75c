-- +goose Up
-- Passkeys (WebAuthn credentials) are credentials of type 'webauthn'. A passkey belongs to one relying party id (the
-- tenant domain it was registered on) and is found by its credential id during a discoverable sign-in, so both
-- get columns and a unique index per tenant; the sign count is a column because a sign-in advances it with a
-- conditional write. The rest (public key, transports, AAGUID, flags, attestation, user handle, name) is metadata.
ALTER TABLE credentials ADD COLUMN webauthn_rp_id TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN webauthn_credential_id TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN webauthn_sign_count BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX credentials_webauthn ON credentials(tenant_id, webauthn_rp_id, webauthn_credential_id) WHERE type = 'webauthn';

-- The challenges of WebAuthn ceremonies under way: bound to a sign-in flow or a browser session, used once,
-- expiring within minutes.
CREATE TABLE passkey_challenges (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    binding     TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    challenge   TEXT NOT NULL,
    rp_id       TEXT NOT NULL,
    user_id     TEXT NOT NULL DEFAULT '',
    session     TEXT NOT NULL DEFAULT '{}',
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    consumed_at DATETIME
);
CREATE INDEX passkey_challenges_binding ON passkey_challenges(tenant_id, binding, purpose, challenge);
CREATE INDEX passkey_challenges_expires ON passkey_challenges(expires_at);
