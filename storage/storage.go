package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends map driver errors onto these; callers compare with errors.Is.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrNoTenant is returned by tenant-owned queries whose context carries no tenant: a programming error
	// that must never turn into an unscoped query.
	ErrNoTenant = errors.New("storage: no tenant in context")
)

type tenantKey struct{}

// WithTenant returns a context whose tenant-owned queries are scoped to tenantID.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenantID)
}

// TenantFromContext returns the tenant id set by WithTenant.
func TenantFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(tenantKey{}).(string)
	return id, ok && id != ""
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
	ListDomains(ctx context.Context, tenantID string) ([]string, error)
}

// Keys manages the signing keys of the tenant in the context.
type Keys interface {
	// AddKey stores k. When k.Active, every other active key of the tenant is retired in the same transaction,
	// with ExpiresAt set to retireUntil: the moment after which no token it signed can still be valid.
	AddKey(ctx context.Context, k SigningKey, retireUntil time.Time) error
	// ListKeys returns the tenant's keys that are active or still published (ExpiresAt in the future), newest first.
	ListKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
}

// Clients manages OAuth clients of the tenant in the context.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClientByID(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient applies fn to the stored client inside a transaction.
	UpdateClient(ctx context.Context, id string, fn func(old Client) (Client, error)) error
	DeleteClient(ctx context.Context, id string) error
}

// Users manages the users of the tenant in the context. Emails are unique per tenant, compared lower-cased.
type Users interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	UpdateUser(ctx context.Context, id string, fn func(old User) (User, error)) error
	DeleteUser(ctx context.Context, id string) error
}

// Sessions manages browser sign-in sessions of the tenant in the context. Only a hash of the cookie is stored.
type Sessions interface {
	CreateSession(ctx context.Context, s LoginSession) error
	// SessionByCookieHash returns an unexpired session; ErrNotFound otherwise.
	SessionByCookieHash(ctx context.Context, cookieHash string, now time.Time) (LoginSession, error)
	DeleteSession(ctx context.Context, id string) error
}
