-- +goose Up
-- Auth0's user metadata: user_metadata (what the user may edit about themselves) and app_metadata (what
-- applications and operators keep about the user), each one JSON object.
ALTER TABLE users ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN app_metadata TEXT NOT NULL DEFAULT '{}';

-- Auth0's client fields: the application type (spa, native, regular_web, non_interactive; '' for clients made
-- before, which have only a type), how it authenticates at the token endpoint ('' derives it from the type),
-- the origins allowed to call Authio from a browser besides web_origins, and how a client that requires an
-- organization gets one at sign-in ('' is post_login_prompt, the picker after sign-in).
ALTER TABLE clients ADD COLUMN app_type TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN organization_require_behavior TEXT NOT NULL DEFAULT '';

-- Lists page in creation order: offset pages for users, checkpoint pages (keyset: after a (time, id) cursor) for
-- organizations and their members.
CREATE INDEX users_tenant_created ON users(tenant_id, created_at, id);
CREATE INDEX organizations_tenant_created ON organizations(tenant_id, created_at, id);
CREATE INDEX memberships_tenant_org_joined ON memberships(tenant_id, organization_id, joined_at, id);
