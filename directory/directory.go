// Package directory is a tenant's directory: users, organizations and their memberships, roles with their
// permissions and assignments, clients, resource servers (APIs), API keys, and the audit log's query side. It
// validates every change (ValidationError, ConflictError, NotFoundError name the field or the resource),
// records it in the audit log in the same transaction; the server's cache hears of every committed change from
// storage itself (storage.Store.OnCommit), so nothing here announces anything. Every method works on the tenant
// in ctx's tenancy scope.
package directory

import (
	"context"
	"time"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// Deps are what the directory needs from the rest of Authio.
type Deps struct {
	Store storage.Storage
	// Audit appends an event to the tenant's audit log (audit.Recorder.Record).
	Audit func(ctx context.Context, e storage.AuditEvent) error
	// Now is the clock changes are stamped with.
	Now func() time.Time
	// Secrets hashes client secrets and API keys.
	Secrets *keys.Secrets
	// HashPassword hashes a password at the tenant's cost.
	HashPassword func(ctx context.Context, pw string) (string, error)
	// ResourceServer finds the tenant's API by audience, the built-in Management API included (cached).
	ResourceServer func(ctx context.Context, audience string) (storage.ResourceServer, bool, error)
}

// Directory serves a tenant's directory. Build it with New.
type Directory struct {
	Store          storage.Storage
	Secrets        *keys.Secrets
	Now            func() time.Time
	audit          func(ctx context.Context, e storage.AuditEvent) error
	hashPassword   func(ctx context.Context, pw string) (string, error)
	resourceServer func(ctx context.Context, audience string) (storage.ResourceServer, bool, error)
}

// New returns a directory over deps.
func New(d Deps) *Directory {
	return &Directory{Store: d.Store, Secrets: d.Secrets, Now: d.Now, audit: d.Audit, hashPassword: d.HashPassword,
		resourceServer: d.ResourceServer}
}

// Audit appends e to the audit log of the tenant in ctx.
func (s *Directory) Audit(ctx context.Context, e storage.AuditEvent) error { return s.audit(ctx, e) }

// HashPassword hashes a password for the tenant in ctx at its cost.
func (s *Directory) HashPassword(ctx context.Context, pw string) (string, error) {
	return s.hashPassword(ctx, pw)
}

// newID is ids.New, for functions with a local variable named ids.
func newID(prefix string) string { return ids.New(prefix) }
