package directory

import (
	"net/url"
	"strings"

	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// ManagementAudience is the identifier of Authio's own Management API (/api/v2). Every tenant has it as a
// built-in resource server: clients are allowed its audience like any other, and roles may hold its scopes.
const ManagementAudience = "urn:authio:management"

// ManagementScopes are the scopes of the Management API. Each endpoint names the one it needs.
var ManagementScopes = []storage.Scope{
	{Value: "read:organizations", Description: "Read organizations"},
	{Value: "create:organizations", Description: "Create organizations"},
	{Value: "update:organizations", Description: "Update organizations"},
	{Value: "delete:organizations", Description: "Delete organizations"},
	{Value: "read:organization_members", Description: "Read organization members"},
	{Value: "create:organization_members", Description: "Add organization members"},
	{Value: "update:organization_members", Description: "Change organization members' status"},
	{Value: "delete:organization_members", Description: "Remove organization members"},
	{Value: "read:organization_member_roles", Description: "Read organization members' roles"},
	{Value: "create:organization_member_roles", Description: "Assign roles to organization members"},
	{Value: "delete:organization_member_roles", Description: "Remove roles from organization members"},
	{Value: "read:roles", Description: "Read roles and their permissions"},
	{Value: "create:roles", Description: "Create roles"},
	{Value: "update:roles", Description: "Update roles and their permissions"},
	{Value: "delete:roles", Description: "Delete roles"},
	{Value: "read:resource_servers", Description: "Read resource servers"},
	{Value: "create:resource_servers", Description: "Create resource servers"},
	{Value: "update:resource_servers", Description: "Update resource servers"},
	{Value: "delete:resource_servers", Description: "Delete resource servers"},
	{Value: "read:users", Description: "Read users, their organizations and roles"},
	{Value: "create:users", Description: "Create users"},
	{Value: "update:users", Description: "Update users and their tenant-level roles"},
	{Value: "delete:users", Description: "Delete users"},
	{Value: "read:clients", Description: "Read clients"},
	{Value: "create:clients", Description: "Create clients"},
	{Value: "update:clients", Description: "Update clients"},
	{Value: "update:client_keys", Description: "Rotate clients' secrets"},
	{Value: "delete:clients", Description: "Delete clients"},
	{Value: "read:logs", Description: "Read the audit log"},
	{Value: "read:tenant_settings", Description: "Read the tenant's settings"},
	{Value: "read:connections", Description: "Read sign-in connections"},
	{Value: "create:connections", Description: "Create sign-in connections"},
	{Value: "update:connections", Description: "Enable, disable and configure sign-in connections"},
	{Value: "delete:connections", Description: "Delete sign-in connections"},
	{Value: "update:tenant_settings", Description: "Update the tenant's settings"},
}

// Token lifetimes of resource servers (seconds), oauth's: the defaults of those that set none, and the bound.
const (
	DefaultResourceTokenLifetime   = oauth.DefaultResourceTokenLifetime
	DefaultResourceRefreshLifetime = oauth.DefaultResourceRefreshLifetime
	MaxResourceTokenLifetime       = oauth.MaxResourceTokenLifetime
)

// ManagementResourceServer is the built-in resource server for ManagementAudience.
func ManagementResourceServer(tenantID string) storage.ResourceServer {
	return storage.ResourceServer{
		ID: "api_management", TenantID: tenantID, Identifier: ManagementAudience, Name: "Authio Management API",
		Scopes: ManagementScopes, TokenLifetime: 3600, RefreshLifetime: DefaultResourceRefreshLifetime,
		Metadata: storage.JSONMap{"internal": true, "sync": false, "system": true},
	}
}

// ManagementAPIPath is where the Management API answers on every tenant domain. Auth0's SDKs take
// https://{domain}/api/v2/ (with the trailing slash) as the API's audience; Authio accepts that form for each of
// the tenant's own domains as another name of ManagementAudience.
const ManagementAPIPath = "/api/v2/"

// ManagementURLHost reports whether aud is shaped like a tenant's Management API URL in Auth0's form,
// https://{domain}/api/v2/ (or, when the server's public scheme is http, http://{domain}/api/v2/): no user
// information, query or fragment, the path exactly /api/v2/. It returns the domain as tenant domains are stored
// (canon.Host's name part: lower case, ASCII, no port); which tenant it belongs to is the caller's question.
func ManagementURLHost(aud, publicScheme string) (domain string, ok bool) {
	if !strings.HasSuffix(aud, ManagementAPIPath) {
		return "", false // the common case, an API identifier of another shape: no parsing
	}
	u, err := url.Parse(aud)
	if err != nil || (u.Scheme != "https" && u.Scheme != publicScheme) || u.Opaque != "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Path != ManagementAPIPath || u.RawPath != "" {
		return "", false
	}
	host, err := canon.Host(u.Host, u.Scheme)
	if err != nil {
		return "", false
	}
	name, _, _ := strings.Cut(host, ":")
	return name, true
}

// MalformedManagementURL reports whether aud ends like a Management API URL (…/api/v2/) and names a host, but not
// cleanly: a URL that does not parse, or whose host is percent-encoded or not a valid host name. Such an audience
// could name another tenant's domain in a spelling ManagementURLHost does not read (https://globex%2Eexample/api/v2/),
// so it is refused everywhere — when a client or API is registered with it and when a token is asked for it —
// rather than treated as an ordinary API identifier.
func MalformedManagementURL(aud string) bool {
	if !strings.HasSuffix(aud, ManagementAPIPath) || !strings.Contains(aud, "://") {
		return false
	}
	u, err := url.Parse(aud)
	if err != nil {
		return true
	}
	if strings.Contains(u.Host, "%") || u.RawPath != "" || u.User != nil {
		return true
	}
	if u.Host == "" {
		return false
	}
	_, err = canon.Host(u.Host, u.Scheme)
	return err != nil
}
