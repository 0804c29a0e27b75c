package server

import (
	"context"

	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// Tenant is the resolved tenant of a request, with the issuer derived from the host the request came in on.
type Tenant struct {
	storage.Tenant
	// Issuer is the OIDC issuer for this request, {scheme}://{Host}/ with the trailing slash Auth0 issues and
	// its SDKs compare byte for byte (OIDC Discovery §4.3 and RFC 8414 §3 compare it exactly as published).
	Issuer string
	// BaseURL is {scheme}://{Host} without the trailing slash: endpoint URLs are BaseURL + path.
	BaseURL string
	Host    string // the request's Host in canonical form (canon.Host): name, or name:port when not the default
	// JWKS is the tenant's published key set as resolved with the host (ResolvedHost.JWKS): "" when unknown.
	// Only what serves a request without changing anything may answer from it (the JWKS endpoint); a request
	// that changes keys reads them through the key manager.
	JWKS string
}

// NewTenant returns the request view of stored tenant t as reached over scheme ("http"/"https") on host
// (canonical form): BaseURL {scheme}://{host}, Issuer BaseURL + "/".
func NewTenant(t storage.Tenant, scheme, host string) *Tenant {
	base := scheme + "://" + host
	return &Tenant{Tenant: t, Host: host, BaseURL: base, Issuer: base + "/"}
}

// URL is the absolute URL of path (which starts with "/") on the tenant domain the request came in on.
func (t *Tenant) URL(path string) string { return t.BaseURL + path }

// WithTenant returns ctx carrying t as its tenancy scope (tenancy.Scope, the one context key): storage queries
// made with it are scoped to t, and fosite's getters read t's issuer.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return tenancy.With(ctx, tenancy.Scope{TenantID: t.ID, Slug: t.Slug, Issuer: t.Issuer, Host: t.Host, Record: t})
}

// TenantFromContext returns the request's resolved tenant; nil when the context's scope did not come from a
// request on a tenant domain (or there is none).
func TenantFromContext(ctx context.Context) *Tenant {
	t, _ := tenancy.Record(ctx).(*Tenant)
	return t
}

// StoredTenant is the tenant's stored record (implements oauth.StoredTenant).
func (t *Tenant) StoredTenant() *storage.Tenant { return &t.Tenant }
