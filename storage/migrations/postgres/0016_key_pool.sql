-- +goose Up
-- Signing keys generated ahead of need (an RSA-2048 key costs 50-100 ms of CPU to generate, a tenant's creation
-- otherwise milliseconds): each row is a whole key as a tenant's signing_keys row will hold it, with the kid it
-- will be published under and its private key encrypted under the server's secret key. Shared by every process
-- on the database and kept across restarts. A key is handed out once: taking one deletes its row in the same
-- statement (FOR UPDATE SKIP LOCKED, so concurrent takers get different keys without waiting on each other).
CREATE TABLE key_pool (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX key_pool_alg ON key_pool(alg, created_at);

