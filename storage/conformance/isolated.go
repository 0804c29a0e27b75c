package conformance

// IsolatedTables are the tenant-owned tables (every table with a tenant_id column) whose isolation this suite
// proves, each with the isolation cases that prove it: testTenantIsolation ("TenantIsolation/…") and
// testOrgTenantIsolation ("OrgTenantIsolation/…") give tenant A rows in the table and show that tenant B reads
// none of them and changes none of them. storage's schema meta-test compares this list with the live schema both
// ways, so a new tenant table fails until its isolation cases are written and it is listed here.
var IsolatedTables = map[string]string{
	"tenant_domains":       "TenantIsolation/domains",
	"signing_keys":         "TenantIsolation/list (ListKeys), write/AddKey",
	"clients":              "TenantIsolation/read/GetClientByID, read/GetClient, list (ListClients, ListClientPage), write/UpdateClient, write/DeleteClient, write/CreateClient naming A",
	"users":                "TenantIsolation/read/GetUser, read/GetUserByEmail, list, write/UpdateUser, write/DeleteUser",
	"login_sessions":       "TenantIsolation/read/SessionByCookieHash, write/DeleteSession, write/DeleteUserSessions; Account/sessions (ListUserSessions, TouchSession, DeleteOtherUserSessions)",
	"oauth_tokens":         "TenantIsolation/read/Get*Session, read/ClientAssertionJWTValid, write/Delete*Session, write/Rotate*, write/Revoke*",
	"organizations":        "OrgTenantIsolation/GetOrganization by id, by name, ListOrganizations, ListOrganizationsAfter, UpdateOrganization, DeleteOrganization, CreateOrganization naming A",
	"memberships":          "OrgTenantIsolation/GetMembership, GetMembershipByID, ListMembers, ListMembersAfter, ListUserMemberships, UpdateMembership, DeleteMembership, CreateMembership",
	"resource_servers":     "OrgTenantIsolation/GetResourceServer by id, by identifier, ListResourceServers, UpdateResourceServer, DeleteResourceServer",
	"roles":                "OrgTenantIsolation/GetRole, ListRoles, UpdateRole, DeleteRole, CreateRole in A's organization, CreateRole naming A",
	"role_permissions":     "OrgTenantIsolation/ListRolePermissions of A's role, AddRolePermissions, RemoveRolePermissions",
	"role_assignments":     "OrgTenantIsolation/ListAssignedRoles of A's membership, user, client, UnassignRoles, AssignRoles of A's role",
	"client_organizations": "OrgTenantIsolation/OrganizationClients of A's organization, RemoveClientOrganization, AddClientOrganization",
	"api_keys":             "OrgTenantIsolation/APIKeyByHash, ListAPIKeys, DeleteAPIKey, TouchAPIKey, CreateAPIKey naming A",
	"audit_events":         "OrgTenantIsolation/ListAudit (by type, user, organization, cursor, checkpoint), CountAudit, GetAuditEvent, AppendAudit naming A",
	"connections":          "Connections/tenant isolation: GetConnection, UpdateConnection, DeleteConnection",
	"credentials":          "Connections/tenant isolation: SetPasswordCredential (A's user, A's connection), PasswordCredential, ListCredentials, ListUserLinks; Passkeys/tenant isolation: PasskeyByCredentialID, GetPasskey, ListPasskeys, UsePasskey, UpdatePasskey, DeletePasskey, CreatePasskey",
	"auth_flows":           "Flows/tenant isolation: GetFlow, AdvanceFlow, CompleteFlow of A's flow",
	"identities":           "Connections/tenant isolation: IdentityBySubject, ListIdentities, ListUserLinks, LinkIdentity to A's user; Account/unlink (UnlinkIdentity)",
	"user_tickets":         "UserTickets/tenant isolation: OpenUserTicket, RedeemUserTicket, RevokeUserTickets, CreateUserTicket with A's id and hash",
	"one_time_secrets":     "OneTimeSecrets/tenant isolation: OneTimeSecretByHash, OpenOneTimeSecretForFlow, ConsumeOneTimeSecret, ConsumeOneTimeSecretByID, RecordOneTimeCodeFailure, InvalidateOneTimeSecrets",
	"passkey_challenges":   "Passkeys/tenant isolation: ConsumePasskeyChallenge of A's challenge",
}
