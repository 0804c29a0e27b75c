-- +goose Up
-- The connection a sign-in flow handed the browser to (an upstream redirect or POST-binding provider): its
-- callback is accepted only for that connection. Empty until such a step starts.
ALTER TABLE auth_flows ADD COLUMN connection_id TEXT NOT NULL DEFAULT '';
