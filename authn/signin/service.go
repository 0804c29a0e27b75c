// Package signin is the sign-in pipeline over connections: it opens the tenant's connections into their kinds
// (the registry, where adding a kind is one line), proves identities through them behind one throttling for every
// kind (per account and IP, per IP, per account), refuses blocked users and disabled connections, links upstream
// identities to users, audits every attempt, and manages connections through the Management API. Every method
// works on the tenant in ctx's tenancy scope.
package signin

import (
	"context"
	"log/slog"
	"time"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// Counters are where sign-in failures are counted: the cache shared by every replica (Redis), or this process's
// own while it does not answer.
type Counters interface {
	// Degraded reports whether the shared counters are known not to answer.
	Degraded() bool
	// Failed records that the shared counters just failed (err).
	Failed(err error)
	// WarnDegraded logs, at most once a minute, that throttling runs on local counters (err: why, or nil).
	WarnDegraded(err error)
	// Shared and Local are the two counter stores.
	Shared() cache.Cache
	Local() cache.Cache
}

// Deps are what the sign-in pipeline needs from the rest of Authio.
type Deps struct {
	Store    storage.Storage
	Secrets  *keys.Secrets
	Registry *authn.Registry
	Counters Counters
	Logger   *slog.Logger
	// Now is the server's clock.
	Now func() time.Time
	// Audit appends an event to the tenant's audit log.
	Audit func(ctx context.Context, e storage.AuditEvent) error
	// Settings are the tenant's settings in effect (defaults filled in) for the request in ctx.
	Settings func(ctx context.Context) storage.TenantSettings
	// SignupEnabled reports whether the tenant in ctx lets people sign up.
	SignupEnabled func(ctx context.Context) bool
	// PasswordCost is the bcrypt cost for the tenant in ctx (also the cost of the dummy hash checked for unknown
	// accounts, so both failures take the same time).
	PasswordCost func(ctx context.Context) int
	// CreateUser creates a user with a password (the directory's rules).
	CreateUser func(ctx context.Context, email, password, name string) (storage.User, error)
}

// SignInService is the sign-in pipeline. Build it with New.
type SignInService struct {
	Store         storage.Storage
	secrets       *keys.Secrets
	registry      *authn.Registry
	counters      Counters
	logger        *slog.Logger
	now           func() time.Time
	audit         func(ctx context.Context, e storage.AuditEvent) error
	settings      func(ctx context.Context) storage.TenantSettings
	signupEnabled func(ctx context.Context) bool
	passwordCost  func(ctx context.Context) int
	createUser    func(ctx context.Context, email, password, name string) (storage.User, error)
}

// New returns the sign-in pipeline over d.
func New(d Deps) *SignInService {
	return &SignInService{Store: d.Store, secrets: d.Secrets, registry: d.Registry, counters: d.Counters, logger: d.Logger,
		now: d.Now, audit: d.Audit, settings: d.Settings, signupEnabled: d.SignupEnabled, passwordCost: d.PasswordCost,
		createUser: d.CreateUser}
}
