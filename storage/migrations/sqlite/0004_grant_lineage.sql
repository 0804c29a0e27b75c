-- +goose Up
-- The sign-in a token descends from: a token minted by switching organization (or by token exchange) starts a
-- rotation family of its own (request_id) but belongs to the same grant as the token it was switched from, so
-- revoking that grant (reuse detection, RFC 7009, a replayed code) reaches it too. Empty on rows written before.
ALTER TABLE oauth_tokens ADD COLUMN grant_id TEXT NOT NULL DEFAULT '';
CREATE INDEX oauth_tokens_grant ON oauth_tokens(tenant_id, grant_id);
