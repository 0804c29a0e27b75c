// Package tenancy owns the request's tenancy scope: which tenant a request (or a CLI command, or a background
// job) acts for — its id and slug, and for requests that came in on one of its domains the host and the issuer
// derived from it. It is a leaf package: storage scopes every tenant-owned query by it, fosite's configuration
// getters read the issuer from it, and handlers read the tenant from it. There is exactly one context key.
//
// A scope is set once, where the tenant is resolved (the host-resolution middleware, or a CLI command naming
// --tenant). Code that needs a tenant and finds none gets ErrNoScope: never an empty issuer, never an unscoped
// query. Acting on another tenant than the one in scope goes through one explicit, audited function
// (server.ActOnTenant), never through a second With.
package tenancy

import (
	"context"
	"errors"
)

// ErrNoScope is returned by the accessors when the context carries no tenancy scope (or, for Issuer, a scope
// without a request host): a programming error that must never become an unscoped query or an empty issuer.
var ErrNoScope = errors.New("tenancy: no tenant scope in context")

// Scope is one tenant as seen by one request.
type Scope struct {
	// TenantID is the tenant's id ("ten_…"); never empty in a scope set by With.
	TenantID string
	// Slug is the tenant's slug ("acme"); may be empty in scopes built from an id alone (storage-only work).
	Slug string
	// Issuer is the OIDC issuer for this request: {scheme}://{Host}/ (trailing slash, as Auth0 issues it). Empty when the scope did not come from a
	// request (CLI, background jobs): such scopes cannot mint tokens.
	Issuer string
	// Host is the request's host in canonical form (canon.Host): name, or name:port when not the default.
	Host string
	// Record is the resolved tenant record the scope was built from, for layers that need more than the
	// tenant's identity (the server package stores its *server.Tenant here); nil in storage-only scopes.
	Record any
}

type scopeKey struct{}

// With returns ctx carrying s, replacing any scope ctx had. A scope with an empty TenantID hides the outer one
// and counts as no scope: every accessor answers ErrNoScope.
func With(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, &s)
}

// From returns the scope in ctx and whether there is one.
func From(ctx context.Context) (Scope, bool) {
	s, ok := ctx.Value(scopeKey{}).(*Scope)
	if !ok || s.TenantID == "" {
		return Scope{}, false
	}
	return *s, true
}

// Record returns the scope's record (see Scope.Record), or nil when ctx has no scope. It does not copy the
// scope, so the hot path costs one context lookup.
func Record(ctx context.Context) any {
	if s, ok := ctx.Value(scopeKey{}).(*Scope); ok && s.TenantID != "" {
		return s.Record
	}
	return nil
}

// TenantID returns the id of the tenant in scope; ErrNoScope when there is none.
func TenantID(ctx context.Context) (string, error) {
	if s, ok := ctx.Value(scopeKey{}).(*Scope); ok && s.TenantID != "" {
		return s.TenantID, nil
	}
	return "", ErrNoScope
}

// Issuer returns the issuer of the request in scope; ErrNoScope when there is no scope or the scope did not
// come from a request on a tenant domain.
func Issuer(ctx context.Context) (string, error) {
	if s, ok := ctx.Value(scopeKey{}).(*Scope); ok && s.TenantID != "" && s.Issuer != "" {
		return s.Issuer, nil
	}
	return "", ErrNoScope
}

// MustIssuer is Issuer for getters whose signature has no error (fosite's configuration): without a scope it
// panics with ErrNoScope, which the HTTP recovery middleware turns into a 500 and one error log line.
func MustIssuer(ctx context.Context) string {
	iss, err := Issuer(ctx)
	if err != nil {
		panic(err)
	}
	return iss
}
