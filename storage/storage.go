package storage

import (
	"context"
	"errors"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fstorage "github.com/ory/fosite/storage"

	"github.com/authio/authio/tenancy"
)

// Sentinel errors. Backends map driver errors onto these; callers compare with errors.Is.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrNoTenant is returned by tenant-owned queries whose context carries no tenant: a programming error
	// that must never turn into an unscoped query.
	ErrNoTenant = errors.New("storage: no tenant in context")
	// ErrAlreadyUsed is returned when a single-use record (an authorization code, a refresh token, a login
	// ticket) was consumed by another request first: the conditional write that consumes it changed nothing.
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrCredentialsChanged means a user's password changed (or the user was blocked or deleted) between a
	// sign-in's password check and the session it was opening.
	ErrCredentialsChanged = errors.New("storage: credentials changed meanwhile")
)

// WithTenant returns a context whose tenant-owned queries are scoped to tenantID: a storage-only tenancy scope
// (tenancy.Scope with the id alone, no issuer), for CLI commands and background work. Requests get their
// scope, with host and issuer, from the tenant-resolution middleware.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return tenancy.With(ctx, tenancy.Scope{TenantID: tenantID})
}

// TenantFromContext returns the id of the tenant in ctx's tenancy scope.
func TenantFromContext(ctx context.Context) (string, bool) {
	id, err := tenancy.TenantID(ctx)
	return id, err == nil
}

// Tenants manages tenants and the host names they answer on. These queries are not tenant-scoped:
// they are how a request finds its tenant.
type Tenants interface {
	// CreateTenant stores t with its domains (at least one). ErrAlreadyExists when the slug or a domain is taken.
	CreateTenant(ctx context.Context, t Tenant, domains []string) error
	// GetTenant finds a tenant by id ("ten_…") or slug.
	GetTenant(ctx context.Context, idOrSlug string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	// TenantByDomain resolves a host name (without port, lower case) to its tenant.
	TenantByDomain(ctx context.Context, domain string) (Tenant, error)
	// AddDomain attaches domain to tenantID. ErrAlreadyExists when any tenant already has it.
	AddDomain(ctx context.Context, tenantID, domain string) error
	// RemoveDomain detaches domain from tenantID (id or slug). ErrNotFound when the tenant does not have it.
	RemoveDomain(ctx context.Context, tenantID, domain string) error
	ListDomains(ctx context.Context, tenantID string) ([]string, error)
	// UpdateTenant applies fn to the tenant with id (or slug) in a transaction; id and slug cannot change.
	UpdateTenant(ctx context.Context, id string, fn func(old Tenant) (Tenant, error)) error
}

// Keys manages the signing keys of the tenant in the context.
type Keys interface {
	// AddKey stores k. When k.Active, every other active key of the tenant is retired in the same transaction,
	// with ExpiresAt set to retireUntil: the moment after which no token it signed can still be valid. Concurrent
	// calls for one tenant run one after the other, so the tenant keeps exactly one active key.
	AddKey(ctx context.Context, k SigningKey, retireUntil time.Time) error
	// ListKeys returns the tenant's keys that are active or still published (ExpiresAt in the future), newest first.
	ListKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
}

// Clients manages OAuth clients of the tenant in the context.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClientByID(ctx context.Context, id string) (Client, error)
	// ListClients returns every client of the tenant, oldest first.
	ListClients(ctx context.Context) ([]Client, error)
	// ListClientPage returns a page of the tenant's clients, oldest first, and their total count.
	ListClientPage(ctx context.Context, p Page) ([]Client, int64, error)
	// UpdateClient applies fn to the stored client inside a transaction.
	UpdateClient(ctx context.Context, id string, fn func(old Client) (Client, error)) error
	DeleteClient(ctx context.Context, id string) error
}

// Users manages the users of the tenant in the context. Emails are unique per tenant and always stored and
// looked up in canonical form (canon.Email: trimmed, NFC, case-folded), whatever form callers pass.
type Users interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns a page of the tenant's users ordered by creation, and the total count.
	ListUsers(ctx context.Context, p Page) ([]User, int64, error)
	UpdateUser(ctx context.Context, id string, fn func(old User) (User, error)) error
	DeleteUser(ctx context.Context, id string) error
}

// Sessions manages browser sign-in sessions of the tenant in the context. Only a hash of the cookie is stored.
type Sessions interface {
	CreateSession(ctx context.Context, s LoginSession) error
	// CreateSessionFor stores s only while passwordHash is still the user's password and the user is not
	// blocked; ErrCredentialsChanged otherwise (the check and the insert are one transaction).
	CreateSessionFor(ctx context.Context, s LoginSession, passwordHash string) error
	// SessionByCookieHash returns an unexpired session; ErrNotFound otherwise.
	SessionByCookieHash(ctx context.Context, cookieHash string, now time.Time) (LoginSession, error)
	// DeleteSession ends a session; ErrNotFound when it was already ended (by a concurrent sign-out, say), so
	// exactly one of several concurrent calls succeeds.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every browser session of a user (after a password change, say).
	DeleteUserSessions(ctx context.Context, userID string) error
	// ListUserSessions returns the user's unexpired sessions at now, newest first.
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]LoginSession, error)
	// DeleteOtherUserSessions ends every session of the user but keepID and returns how many it ended.
	DeleteOtherUserSessions(ctx context.Context, userID, keepID string) (int64, error)
	// TouchSession records the session's use at now, at most once per SessionTouchInterval (one conditional
	// write); it reports whether it wrote.
	TouchSession(ctx context.Context, id string, now time.Time) (bool, error)
}

// Organizations manages the organizations of the tenant in the context. Names are unique per tenant.
type Organizations interface {
	// CreateOrganization stores o. ErrAlreadyExists when the tenant has an organization of that name.
	CreateOrganization(ctx context.Context, o Organization) error
	// GetOrganization finds an organization by id ("org_…") or name.
	GetOrganization(ctx context.Context, idOrName string) (Organization, error)
	// ListOrganizations returns a page ordered by creation, and the total count.
	ListOrganizations(ctx context.Context, p Page) ([]Organization, int64, error)
	// ListOrganizationsAfter returns a checkpoint page in the same order and the cursor of the next page ("" when
	// none follows); ErrBadCursor for a cursor no page of this list produced.
	ListOrganizationsAfter(ctx context.Context, c Checkpoint) ([]Organization, string, error)
	UpdateOrganization(ctx context.Context, id string, fn func(old Organization) (Organization, error)) error
	// DeleteOrganization removes the organization with its memberships, their role assignments, its custom
	// roles and its client links.
	DeleteOrganization(ctx context.Context, id string) error
}

// Memberships manages user ↔ organization links of the tenant in the context.
type Memberships interface {
	// CreateMembership stores m. ErrAlreadyExists when the user is already in the organization; ErrNotFound
	// when the organization or the user is not the tenant's.
	CreateMembership(ctx context.Context, m Membership) error
	GetMembership(ctx context.Context, orgID, userID string) (Membership, error)
	GetMembershipByID(ctx context.Context, id string) (Membership, error)
	// ListMembers returns a page of an organization's members (any status) ordered by joining, and the total.
	ListMembers(ctx context.Context, orgID string, p Page) ([]Member, int64, error)
	// ListMembersAfter returns a checkpoint page of an organization's members in the same order and the cursor of
	// the next page ("" when none follows); ErrBadCursor for a cursor no page of a member list produced.
	ListMembersAfter(ctx context.Context, orgID string, c Checkpoint) ([]Member, string, error)
	// ListUserMemberships returns every membership of one user, with organization names, ordered by joining.
	ListUserMemberships(ctx context.Context, userID string) ([]UserMembership, error)
	UpdateMembership(ctx context.Context, id string, fn func(old Membership) (Membership, error)) error
	// DeleteMembership removes a membership and its role assignments.
	DeleteMembership(ctx context.Context, id string) error
	// OrganizationMembership finds, in one query, the organization (id or name), userID's membership in it and
	// the user. ErrNotFound when any is missing.
	OrganizationMembership(ctx context.Context, idOrName, userID string) (Organization, Membership, User, error)
	// ListUserMembershipsWithRoles is ListUserMemberships with each membership's role names.
	ListUserMembershipsWithRoles(ctx context.Context, userID string) ([]MembershipWithRoles, error)
}

// ResourceServers manages the APIs of the tenant in the context. Identifiers are unique per tenant.
type ResourceServers interface {
	CreateResourceServer(ctx context.Context, rs ResourceServer) error
	// GetResourceServer finds a resource server by id or identifier (its audience).
	GetResourceServer(ctx context.Context, idOrIdentifier string) (ResourceServer, error)
	ListResourceServers(ctx context.Context, p Page) ([]ResourceServer, int64, error)
	UpdateResourceServer(ctx context.Context, id string, fn func(old ResourceServer) (ResourceServer, error)) error
	// DeleteResourceServer removes it and every role permission on it.
	DeleteResourceServer(ctx context.Context, id string) error
	// MaxTokenLifetime is the longest access token lifetime (seconds) of the tenant's resource servers, 0 for none.
	MaxTokenLifetime(ctx context.Context) (int, error)
}

// Roles manages roles, their permissions and their assignments in the tenant in the context.
type Roles interface {
	// CreateRole stores r. ErrAlreadyExists for a second role of the same name in the same scope (tenant-wide,
	// or one organization).
	CreateRole(ctx context.Context, r Role) error
	GetRole(ctx context.Context, id string) (Role, error)
	ListRoles(ctx context.Context, p Page) ([]Role, int64, error)
	UpdateRole(ctx context.Context, id string, fn func(old Role) (Role, error)) error
	// DeleteRole removes the role with its permissions and assignments.
	DeleteRole(ctx context.Context, id string) error
	// AddRolePermissions adds permissions; ones the role already has are left alone.
	AddRolePermissions(ctx context.Context, roleID string, ps []Permission) error
	RemoveRolePermissions(ctx context.Context, roleID string, ps []Permission) error
	ListRolePermissions(ctx context.Context, roleID string) ([]Permission, error)
	// AssignRoles gives the subject each role it does not hold yet, recording source, and returns the ids
	// newly assigned. ErrNotFound (nothing assigned) when a role is not the tenant's.
	AssignRoles(ctx context.Context, kind, subjectID string, roleIDs []string, source string) ([]string, error)
	// UnassignRoles removes the roles the subject holds among roleIDs and returns the ids removed.
	UnassignRoles(ctx context.Context, kind, subjectID string, roleIDs []string) ([]string, error)
	ListAssignedRoles(ctx context.Context, kind, subjectID string) ([]AssignedRole, error)
	// GrantsFor returns the subject's role names and the permissions those roles hold on the given audiences.
	GrantsFor(ctx context.Context, kind, subjectID string, audiences []string) (Grants, error)
}

// ClientOrganizations records which machine clients may ask for tokens of which organizations.
type ClientOrganizations interface {
	// AddClientOrganization allows the client into the organization (idempotent); ErrNotFound when either is
	// not the tenant's.
	AddClientOrganization(ctx context.Context, clientID, orgID string) error
	RemoveClientOrganization(ctx context.Context, clientID, orgID string) error
	ClientInOrganization(ctx context.Context, clientID, orgID string) (bool, error)
	OrganizationClients(ctx context.Context, orgID string) ([]string, error)
}

// APIKeys manages the tenant's secret management API keys (stored as hashes).
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, id string) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Audit is the tenant's append-only audit log.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit returns matching events newest first (oldest first with f.Ascending), f.Offset skipped, at most
	// f.Limit (default 50).
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// CountAudit counts the events f selects (its filters and cursors; not its offset or limit).
	CountAudit(ctx context.Context, f AuditFilter) (int64, error)
	// GetAuditEvent finds an event by its id ("evt_…").
	GetAuditEvent(ctx context.Context, id string) (AuditEvent, error)
}

// ClientCache is a read-through cache of the fosite clients GetClient returns (Store.SetClientCache): the
// server's, which the changes Store.OnCommit reports keep correct.
type ClientCache interface {
	// Client returns the client id of tenant tid, calling load on a miss. load's error (ErrNotFound for an
	// unknown client) is returned as it is, and then nothing is cached.
	Client(ctx context.Context, tid, id string, load func(ctx context.Context) (*FositeClient, error)) (*FositeClient, error)
}

// OAuth is what fosite needs from storage: clients, authorization codes, access and refresh tokens, PKCE and
// OpenID Connect sessions, JWT assertion ids (RFC 7523 replay), revocation (RFC 7009) and transactions. Every
// method is scoped to the tenant in ctx; signatures are stored hashed.
type OAuth interface {
	fosite.Storage
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	openid.OpenIDConnectRequestStorage
	pkce.PKCERequestStorage
	fstorage.Transactional
}

// TokenLineage is Authio's refresh-token rotation on top of fosite's storage: one conditional write per rotation
// (ErrAlreadyUsed for the losers), the rotation record that reuse detection and retries read, and housekeeping.
type TokenLineage interface {
	// RotateRefreshTokenTo consumes the refresh token with signature (ErrAlreadyUsed when it was already
	// consumed), recording rotatedAt and the encrypted successor (nil for none), and revokes the grant's earlier
	// access tokens.
	RotateRefreshTokenTo(ctx context.Context, requestID, signature string, rotatedAt time.Time, successor []byte) error
	// RefreshTokenRotation returns the rotation record of a refresh token; ErrNotFound when unknown or revoked.
	RefreshTokenRotation(ctx context.Context, signature string) (RefreshRotation, error)
	// LockLiveRefreshToken locks a live refresh token's row for the rest of the transaction in ctx; ErrNotFound
	// when it was rotated, revoked or never existed.
	LockLiveRefreshToken(ctx context.Context, signature string) error
	// DeleteExpired removes token records and sessions that expired before cutoff, in every tenant, and returns
	// how many rows went.
	DeleteExpired(ctx context.Context, cutoff time.Time) (int64, error)
	// RevokeUserTokens revokes every grant of user userID in the tenant in ctx: its authorization codes, access
	// and refresh tokens (what a password reset must end). It returns how many records went.
	RevokeUserTokens(ctx context.Context, userID string) (int64, error)
}

// SingleUse records one-time secrets as used.
type SingleUse interface {
	// UseOnce records that secret (of purpose) is used, with one conditional insert: exactly one call succeeds,
	// every other gets ErrAlreadyUsed. Only a hash is stored, kept until expiresAt.
	UseOnce(ctx context.Context, purpose, secret string, expiresAt time.Time) error
}

// Transactions groups storage calls.
type Transactions interface {
	// InTx runs fn in a transaction that every storage call made with fn's ctx joins; a ctx already carrying a
	// transaction reuses it. fn's error rolls everything back and is returned.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InReadTx runs fn's reads in one read-only transaction; fn must not write.
	InReadTx(ctx context.Context, fn func(ctx context.Context) error) error
	// WriteTogether runs fn and then stores the token records and audit events fn stored with its ctx in one
	// transaction (on Postgres one statement, batched with concurrent callers'), or none of them when fn or the
	// write fails. fn stores nothing else.
	WriteTogether(ctx context.Context, fn func(ctx context.Context) error) error
}

// Lifecycle is the database as a whole: schema, health, clock and shutdown.
type Lifecycle interface {
	// Migrate applies pending schema migrations and returns the versions applied.
	Migrate(ctx context.Context) ([]int, error)
	// Ping checks the database answers; a failure matches ErrUnavailable.
	Ping(ctx context.Context) error
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// Now is the storage clock (Options.Now), in UTC: what created_at and updated_at are stamped with.
	Now() time.Time
	// Close flushes pending writes and releases the connections.
	Close() error
}

// Storage is everything the services use from storage, as one interface; *Store implements it. Handlers and
// services should take the narrow interfaces above that they need.
type Storage interface {
	Tenants
	Keys
	KeyPool
	Clients
	Users
	Sessions
	Organizations
	Memberships
	ResourceServers
	Roles
	ClientOrganizations
	APIKeys
	Audit
	Connections
	Credentials
	Identities
	SecondFactors
	Passkeys
	Flows
	Meta
	OAuth
	TokenLineage
	SingleUse
	UserTickets
	OneTimeSecrets
	Transactions
	Lifecycle
}
