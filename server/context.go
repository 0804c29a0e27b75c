package server

import (
	"context"

	"github.com/authio/authio/storage"
)

// Tenant is the resolved tenant of a request, with the issuer derived from the host the request came in on.
type Tenant struct {
	storage.Tenant
	Issuer string // {scheme}://{Host}
	Host   string // the request's Host in canonical form (canon.Host): name, or name:port when not the default
}

type tenantKey struct{}

// WithTenant returns ctx carrying t; storage queries made with it are scoped to t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	ctx = storage.WithTenant(ctx, t.ID)
	return context.WithValue(ctx, tenantKey{}, t)
}

// TenantFromContext returns the request's tenant; nil when the request has none.
func TenantFromContext(ctx context.Context) *Tenant {
	t, _ := ctx.Value(tenantKey{}).(*Tenant)
	return t
}

type requestIDKey struct{}

// WithRequestID carries the request id for logs and error pages.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request id, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
