-- +goose Up
-- A user's OpenID Connect standard profile claims other than name (OIDC Core §5.1: given_name, family_name,
-- nickname, picture, locale and the others) as one JSON object. The profile scope returns every member present.
ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
