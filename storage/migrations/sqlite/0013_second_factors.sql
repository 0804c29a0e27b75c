-- +goose Up
-- Second factors (TOTP authenticator apps and recovery codes) are credentials rows too. A TOTP credential starts
-- pending (enrolled but not confirmed: it counts for nothing until a correct code confirms it); otp_step is the
-- last RFC 6238 time step accepted for it, so a code is accepted only for a later step, by one conditional update.
-- A user has at most one TOTP credential. A sign-in flow records whether its user must pass a second factor.
ALTER TABLE credentials ADD COLUMN pending BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN otp_step INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX credentials_totp ON credentials(tenant_id, user_id) WHERE type = 'totp';
ALTER TABLE auth_flows ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT 0;
