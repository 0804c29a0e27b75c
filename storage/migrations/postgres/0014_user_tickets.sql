-- +goose Up
-- User tickets: the single-use links Authio mails to a user (verify the email address, reset the password) and
-- the Management API's tickets for the same (POST /api/v2/tickets/…). Only a hash of the link's token is kept.
-- email is the stored address the ticket was issued for: a verification proves that address and no other.
-- A ticket is consumed once (consumed_at goes from NULL to a time in one conditional update).
CREATE TABLE user_tickets (
    id                  TEXT NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    purpose             TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    email               TEXT NOT NULL,
    token_hash          TEXT NOT NULL,
    flow_id             TEXT NOT NULL DEFAULT '',
    source              TEXT NOT NULL DEFAULT '',
    result_url          TEXT NOT NULL DEFAULT '',
    mark_email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    include_email       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    consumed_at         TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX user_tickets_token ON user_tickets(tenant_id, token_hash);
CREATE INDEX user_tickets_user ON user_tickets(tenant_id, user_id, purpose);
CREATE INDEX user_tickets_expires ON user_tickets(expires_at);

-- A password reset revokes every token of the user (Store.RevokeUserTokens), found by subject.
CREATE INDEX oauth_tokens_subject ON oauth_tokens(tenant_id, subject);
