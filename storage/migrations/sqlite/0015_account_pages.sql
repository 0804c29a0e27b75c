-- +goose Up
-- The account page's session list: the browser a session was opened in (its User-Agent as sent, shortened) and
-- when the session was last used (written at most once a minute per session).
ALTER TABLE login_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN last_seen_at DATETIME;
-- The address typed at the email-first sign-in page's first step; NULL until one is given (the request's
-- login_hint stands in), '' once the user chose "Not you?".
ALTER TABLE auth_flows ADD COLUMN login_email TEXT;
