-- +goose Up
-- Signing keys generated ahead of need (see the Postgres migration of the same number): a key is handed out once,
-- taking it deletes its row in the same statement.
CREATE TABLE key_pool (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key BLOB NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX key_pool_alg ON key_pool(alg, created_at);

