-- +goose Up
-- The connection a browser session signed in through (its name; '' for sessions older than this column): the ID
-- token's idp claim says it, and an account page can show it.
ALTER TABLE login_sessions ADD COLUMN connection_name TEXT NOT NULL DEFAULT '';
