// Package management serves a tenant's Management API under /api/v2, shaped like Auth0's: organizations,
// members and their roles, roles and permissions, resource servers, users, clients and the audit log.
// Callers authenticate with a secret API key (sk_live_…/sk_test_…) or an access token for the Management API's
// audience (urn:authio:management, or https://{tenant domain}/api/v2/ as Auth0's SDKs ask for it); an
// organization-scoped token reaches only its own organization.
package management

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// Organizations is the organizations part of the directory: organizations, their members and the
// member roles, and the machine clients allowed into them.
type Organizations interface {
	ListOrganizations(ctx context.Context, p storage.Page) ([]storage.Organization, int64, error)
	ListOrganizationsFrom(ctx context.Context, from string, take int) ([]storage.Organization, string, error)
	CreateOrganization(ctx context.Context, spec directory.OrganizationSpec) (storage.Organization, error)
	Organization(ctx context.Context, idOrName string) (storage.Organization, error)
	OrganizationByName(ctx context.Context, name string) (storage.Organization, error)
	UpdateOrganization(ctx context.Context, idOrName string, upd directory.OrganizationUpdate) (storage.Organization, error)
	DeleteOrganization(ctx context.Context, idOrName string) error
	ListMembers(ctx context.Context, orgRef string, p storage.Page) ([]directory.MemberInfo, int64, error)
	ListMembersFrom(ctx context.Context, orgRef, from string, take int) ([]directory.MemberInfo, string, error)
	AddMembers(ctx context.Context, orgRef string, userIDs []string, status string) ([]storage.Membership, error)
	RemoveMembers(ctx context.Context, orgRef string, userIDs []string) error
	SetMemberStatus(ctx context.Context, orgRef, userID, status string) (storage.Membership, error)
	MemberRoles(ctx context.Context, orgRef, userID string) ([]storage.AssignedRole, error)
	AssignMemberRoles(ctx context.Context, orgRef, userID string, roleIDs []string, source string) ([]storage.Role, error)
	RemoveMemberRoles(ctx context.Context, orgRef, userID string, roleIDs []string) ([]storage.Role, error)
	OrganizationClients(ctx context.Context, orgRef string) ([]storage.Client, error)
	AddOrganizationClient(ctx context.Context, orgRef, clientID string) (storage.Organization, error)
	RemoveOrganizationClient(ctx context.Context, orgRef, clientID string) error
}

// Roles is roles with their permissions, and their assignment to users and clients.
type Roles interface {
	ListRoles(ctx context.Context, p storage.Page) ([]storage.Role, int64, error)
	CreateRole(ctx context.Context, spec directory.RoleSpec) (storage.Role, error)
	Role(ctx context.Context, id string) (storage.Role, error)
	UpdateRole(ctx context.Context, id string, upd directory.RoleUpdate) (storage.Role, error)
	DeleteRole(ctx context.Context, id string) error
	RolePermissions(ctx context.Context, roleID string) ([]storage.Permission, error)
	AddRolePermissions(ctx context.Context, roleID string, ps []storage.Permission) error
	RemoveRolePermissions(ctx context.Context, roleID string, ps []storage.Permission) error
	UserRoles(ctx context.Context, userID string) ([]storage.AssignedRole, error)
	AssignUserRoles(ctx context.Context, userID string, roleIDs []string, source string) ([]storage.Role, error)
	RemoveUserRoles(ctx context.Context, userID string, roleIDs []string) ([]storage.Role, error)
	ClientRoles(ctx context.Context, clientID string) ([]storage.AssignedRole, error)
	AssignClientRoles(ctx context.Context, clientID string, roleIDs []string, source string) ([]storage.Role, error)
	RemoveClientRoles(ctx context.Context, clientID string, roleIDs []string) ([]storage.Role, error)
}

// Users is the tenant's users.
type Users interface {
	ListUsers(ctx context.Context, p storage.Page) ([]storage.User, int64, error)
	AddUser(ctx context.Context, spec directory.UserSpec) (storage.User, error)
	User(ctx context.Context, id string) (storage.User, error)
	UserByEmail(ctx context.Context, email string) (storage.User, error)
	UpdateUser(ctx context.Context, id string, upd directory.UserUpdate) (storage.User, error)
	DeleteUser(ctx context.Context, id string) error
	UserOrganizations(ctx context.Context, id string) ([]storage.UserMembership, error)
	// UserIdentities returns the identities (passwords on connections, linked upstream accounts) of the users
	// with ids, by user id.
	UserIdentities(ctx context.Context, ids []string) (map[string][]storage.UserLink, error)
}

// Applications is the tenant's clients and resource servers (APIs).
type Applications interface {
	ListClientPage(ctx context.Context, p storage.Page) ([]storage.Client, int64, error)
	CreateClient(ctx context.Context, spec directory.ClientSpec) (directory.CreatedClient, error)
	Client(ctx context.Context, id string) (storage.Client, error)
	UpdateClient(ctx context.Context, id string, upd directory.ClientUpdate) (storage.Client, error)
	RotateClientSecret(ctx context.Context, id string) (directory.CreatedClient, error)
	DeleteClient(ctx context.Context, id string) error
	ListResourceServers(ctx context.Context, p storage.Page) ([]storage.ResourceServer, int64, error)
	CreateResourceServer(ctx context.Context, spec directory.ResourceServerSpec) (storage.ResourceServer, error)
	ResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error)
	ResourceServerByRef(ctx context.Context, ref string) (storage.ResourceServer, error)
	UpdateResourceServer(ctx context.Context, ref string, upd directory.ResourceServerUpdate) (storage.ResourceServer, error)
	DeleteResourceServer(ctx context.Context, ref string) error
}

// Tenant is the tenant's own configuration: settings, connections and the audit log.
type Tenant interface {
	TenantSettings(ctx context.Context) (storage.TenantSettings, error)
	UpdateTenantSettings(ctx context.Context, upd server.TenantSettingsUpdate) (storage.TenantSettings, error)
	ListConnections(ctx context.Context, name, strategy string) ([]storage.Connection, error)
	GetConnection(ctx context.Context, id string) (storage.Connection, error)
	CreateConnection(ctx context.Context, spec signin.ConnectionSpec) (storage.Connection, error)
	UpdateConnection(ctx context.Context, id string, upd signin.ConnectionUpdate) (storage.Connection, error)
	DeleteConnection(ctx context.Context, id string) error
	AuditLogPage(ctx context.Context, q directory.LogQuery, p storage.Page) ([]storage.AuditEvent, int64, error)
	AuditLogAfter(ctx context.Context, q directory.LogQuery) ([]storage.AuditEvent, error)
	AuditEvent(ctx context.Context, id string) (storage.AuditEvent, error)
}

// Access authenticates Management API callers.
type Access interface {
	// AuthenticateAPIKey checks a secret API key (sk_live_…/sk_test_…) of the tenant in scope.
	AuthenticateAPIKey(ctx context.Context, key string) (storage.APIKey, error)
	// IsManagementAudience reports whether an access token's audience names this tenant's Management API: its
	// identifier (urn:authio:management) or its URL on one of the tenant's domains (https://{domain}/api/v2/).
	IsManagementAudience(ctx context.Context, aud string) (bool, error)
	// LivePermissions re-reads what a management access token's subject may still do on audience.
	LivePermissions(ctx context.Context, sess *oauth.Session, audience string) ([]string, error)
	// ResolveTenant is the tenant-resolution middleware (for the API's own 404 handler).
	ResolveTenant(next http.Handler) http.Handler
	// CORS answers preflights and adds CORS headers for the tenant's registered web origins.
	CORS(next http.Handler, methods string) http.Handler
}

// Services is what the Management API uses of Authio's services, and nothing more (*server.Server implements
// it).
type Services interface {
	Organizations
	Roles
	Users
	Applications
	Tenant
	Access
}

// Introspector validates management access tokens (fosite's IntrospectToken, RFC 7662 semantics).
type Introspector interface {
	IntrospectToken(ctx context.Context, token string, tokenUse fosite.TokenUse, session fosite.Session,
		scope ...string) (fosite.TokenUse, fosite.AccessRequester, error)
}

// Handler serves the Management API. Routes must run behind server.ResolveTenant.
type Handler struct {
	S        Services
	Provider Introspector
	Logger   *slog.Logger
	Now      func() time.Time
}

// route is one endpoint: its method and path under /api/v2, what it asks of the caller, and its handler, which
// returns an error instead of writing one.
type route struct {
	method, path string
	access
	serve func(w http.ResponseWriter, r *http.Request) error
}

// routes lists every endpoint with the Management API scope it needs. Routes marked org serve
// organization-scoped tokens on their own organization.
func (h *Handler) routes() []route {
	const org = true
	return []route{
		{"GET", "/organizations", access{"read:organizations", !org}, h.listOrganizations},
		{"POST", "/organizations", access{"create:organizations", !org}, h.createOrganization},
		{"GET", "/organizations/name/{name}", access{"read:organizations", !org}, h.getOrganizationByName},
		{"GET", "/organizations/{id}", access{"read:organizations", org}, h.getOrganization},
		{"PATCH", "/organizations/{id}", access{"update:organizations", org}, h.updateOrganization},
		{"DELETE", "/organizations/{id}", access{"delete:organizations", !org}, h.deleteOrganization},
		{"GET", "/organizations/{id}/members", access{"read:organization_members", org}, h.listMembers},
		{"POST", "/organizations/{id}/members", access{"create:organization_members", org}, h.addMembers},
		{"DELETE", "/organizations/{id}/members", access{"delete:organization_members", org}, h.removeMembers},
		{"PATCH", "/organizations/{id}/members/{user_id}", access{"update:organization_members", org}, h.updateMember},
		{"GET", "/organizations/{id}/members/{user_id}/roles", access{"read:organization_member_roles", org}, h.listMemberRoles},
		{"POST", "/organizations/{id}/members/{user_id}/roles", access{"create:organization_member_roles", org}, h.assignMemberRoles},
		{"DELETE", "/organizations/{id}/members/{user_id}/roles", access{"delete:organization_member_roles", org}, h.removeMemberRoles},
		{"GET", "/organizations/{id}/clients", access{"read:organizations", org}, h.listOrganizationClients},
		{"POST", "/organizations/{id}/clients", access{"update:organizations", org}, h.addOrganizationClient},
		{"DELETE", "/organizations/{id}/clients", access{"update:organizations", org}, h.removeOrganizationClient},

		{"GET", "/roles", access{"read:roles", !org}, h.listRoles},
		{"POST", "/roles", access{"create:roles", !org}, h.createRole},
		{"GET", "/roles/{id}", access{"read:roles", !org}, h.getRole},
		{"PATCH", "/roles/{id}", access{"update:roles", !org}, h.updateRole},
		{"DELETE", "/roles/{id}", access{"delete:roles", !org}, h.deleteRole},
		{"GET", "/roles/{id}/permissions", access{"read:roles", !org}, h.listRolePermissions},
		{"POST", "/roles/{id}/permissions", access{"update:roles", !org}, h.addRolePermissions},
		{"DELETE", "/roles/{id}/permissions", access{"update:roles", !org}, h.removeRolePermissions},

		{"GET", "/resource-servers", access{"read:resource_servers", !org}, h.listResourceServers},
		{"POST", "/resource-servers", access{"create:resource_servers", !org}, h.createResourceServer},
		{"GET", "/resource-servers/{id}", access{"read:resource_servers", !org}, h.getResourceServer},
		{"PATCH", "/resource-servers/{id}", access{"update:resource_servers", !org}, h.updateResourceServer},
		{"DELETE", "/resource-servers/{id}", access{"delete:resource_servers", !org}, h.deleteResourceServer},

		{"GET", "/users", access{"read:users", !org}, h.listUsers},
		{"POST", "/users", access{"create:users", !org}, h.createUser},
		{"GET", "/users-by-email", access{"read:users", !org}, h.usersByEmail},
		{"GET", "/users/{id}", access{"read:users", !org}, h.getUser},
		{"PATCH", "/users/{id}", access{"update:users", !org}, h.updateUser},
		{"DELETE", "/users/{id}", access{"delete:users", !org}, h.deleteUser},
		{"GET", "/users/{id}/organizations", access{"read:users", !org}, h.listUserOrganizations},
		{"GET", "/users/{id}/roles", access{"read:users", !org}, h.listUserRoles},
		{"POST", "/users/{id}/roles", access{"update:users", !org}, h.assignUserRoles},
		{"DELETE", "/users/{id}/roles", access{"update:users", !org}, h.removeUserRoles},

		{"GET", "/clients", access{"read:clients", !org}, h.listClients},
		{"POST", "/clients", access{"create:clients", !org}, h.createClient},
		{"GET", "/clients/{id}", access{"read:clients", !org}, h.getClient},
		{"PATCH", "/clients/{id}", access{"update:clients", !org}, h.updateClient},
		{"DELETE", "/clients/{id}", access{"delete:clients", !org}, h.deleteClient},
		{"POST", "/clients/{id}/rotate-secret", access{"update:client_keys", !org}, h.rotateClientSecret},
		{"GET", "/clients/{id}/roles", access{"read:clients", !org}, h.listClientRoles},
		{"POST", "/clients/{id}/roles", access{"update:clients", !org}, h.assignClientRoles},
		{"DELETE", "/clients/{id}/roles", access{"update:clients", !org}, h.removeClientRoles},

		{"GET", "/logs", access{"read:logs", !org}, h.listLogs},
		{"GET", "/logs/{id}", access{"read:logs", !org}, h.getLog},

		{"GET", "/tenants/settings", access{"read:tenant_settings", !org}, h.getTenantSettings},
		{"PATCH", "/tenants/settings", access{"update:tenant_settings", !org}, h.updateTenantSettings},

		{"GET", "/connections", access{"read:connections", !org}, h.listConnections},
		{"POST", "/connections", access{"create:connections", !org}, h.createConnection},
		{"GET", "/connections/{id}", access{"read:connections", !org}, h.getConnection},
		{"PATCH", "/connections/{id}", access{"update:connections", !org}, h.updateConnection},
		{"DELETE", "/connections/{id}", access{"delete:connections", !org}, h.deleteConnection},
	}
}

// Mount registers the Management API on r.
func (h *Handler) Mount(r *mux.Router) {
	// Matching on the escaped path lets /resource-servers/{id} take a URL-escaped identifier with slashes.
	api := r.PathPrefix("/api/v2").Subrouter().UseEncodedPath()
	// One mux route per path, dispatching on the method: mux loses a method mismatch inside a subrouter and
	// would answer 404 where 405 is right.
	var paths []string
	byPath := map[string]map[string]http.Handler{}
	for _, rt := range h.routes() {
		if byPath[rt.path] == nil {
			paths = append(paths, rt.path)
			byPath[rt.path] = map[string]http.Handler{}
		}
		byPath[rt.path][rt.method] = h.endpoint(rt)
	}
	for _, p := range paths {
		methods := byPath[p]
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		sort.Strings(allow)
		// CORS for the tenant's registered web origins: a customer's admin portal calls this from the browser
		// with an organization-scoped token.
		api.Handle(p, h.S.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if e, ok := methods[r.Method]; ok {
				e.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			h.fail(w, r, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed; use %s.", strings.Join(allow, ", ")))
		}), strings.Join(allow, ", ")))
	}
	// Misses under /api/v2 answer in the API's shape; they bypass r's middleware, so resolve the tenant here.
	api.NotFoundHandler = h.S.ResolveTenant(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, errorf(http.StatusNotFound, "not_found", "No such endpoint."))
	}))
}

// endpoint authenticates the caller, checks what the route asks of it, records it as the actor of audit events
// and runs the route.
func (h *Handler) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.authenticate(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		targetOrg := ""
		if p.orgID != "" && rt.org {
			o, err := h.S.Organization(r.Context(), pathVar(r, "id"))
			if err == nil {
				targetOrg = o.ID
			} else if !errors.Is(err, storage.ErrNotFound) {
				h.fail(w, r, err)
				return
			}
		}
		if ae := authorize(p, rt.access, targetOrg); ae != nil {
			h.fail(w, r, ae)
			return
		}
		r = r.WithContext(withPrincipal(audit.WithActor(r.Context(), p.actor), p))
		if err := rt.serve(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// pathVar returns a path variable, unescaped (routes match on the escaped path).
func pathVar(r *http.Request, name string) string {
	v := mux.Vars(r)[name]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// created answers 201 with v; noContent answers 204.
func created(w http.ResponseWriter, v any) error {
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func ok(w http.ResponseWriter, v any) error {
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
