package oauth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/config"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// Deps are what the OAuth composition needs from the rest of Authio.
type Deps struct {
	Config  config.Config
	Store   *storage.Store
	Secrets *keys.Secrets
	Signer  *keys.Signer
	// Now is the server's clock: token paths stamp and judge expiry with it.
	Now func() time.Time
	// Audit appends an event to the tenant's audit log (switches are audited with the tokens they mint).
	Audit func(ctx context.Context, e storage.AuditEvent) error
	// ResourceServer finds the tenant's API by audience, the built-in Management API included (cached).
	ResourceServer func(ctx context.Context, audience string) (storage.ResourceServer, bool, error)
	// ClientGrants returns a machine client's roles and permissions on audiences (cached).
	ClientGrants func(ctx context.Context, clientID string, audiences []string) (storage.Grants, error)
	// CanonicalAudience returns the name an audience's resource server, roles and permissions are recorded
	// under: a tenant's Management API URL in Auth0's form (https://{domain}/api/v2/) becomes the Management API's
	// identifier; any other audience is its own name. An audience naming another tenant's Management API is
	// ErrForeignAudience. nil: every audience is its own name.
	CanonicalAudience func(ctx context.Context, aud string) (string, error)
}

// ErrForeignAudience means a requested audience is another tenant's API (its Management API URL): no token of this
// tenant can be for it. The token endpoint answers access_denied.
var ErrForeignAudience = errors.New("the audience is another tenant's API")

// Service is Authio's OAuth 2.0 / OpenID Connect composition: fosite with Authio's grants (single-use code and
// refresh rotation, token exchange to switch organization) and the one claims builder that runs last in the token
// handler chain, plus the reads every grant re-does (user, membership, organization policy, roles, lifetimes).
// Every method works on the tenant in ctx's tenancy scope.
type Service struct {
	// Provider is the fosite composition every standard flow goes through.
	Provider fosite.OAuth2Provider
	// OrgPolicy checks an organization's auth policy when a session acts in it; nil asks for nothing more.
	OrgPolicy OrgPolicy

	Store          *storage.Store
	now            func() time.Time
	audit          func(ctx context.Context, e storage.AuditEvent) error
	resourceServer func(ctx context.Context, audience string) (storage.ResourceServer, bool, error)
	clientGrants   func(ctx context.Context, clientID string, audiences []string) (storage.Grants, error)
	canonicalAud   func(ctx context.Context, aud string) (string, error)
	pc             *providerConfig
	strategy       switchStrategy
	idTokens       openid.OpenIDConnectTokenStrategy
}

// NewService composes fosite over d.
func NewService(d Deps) *Service {
	s := &Service{Store: d.Store, now: d.Now, audit: d.Audit, resourceServer: d.ResourceServer, clientGrants: d.ClientGrants,
		canonicalAud: d.CanonicalAudience}
	if s.canonicalAud == nil {
		s.canonicalAud = func(_ context.Context, aud string) (string, error) { return aud, nil }
	}
	s.Provider, s.pc, s.strategy, s.idTokens = newProvider(d.Config, d.Store, d.Secrets, d.Signer, d.Now)
	s.pc.canonicalAudience = s.canonicalAud
	s.pc.addTokenHandler(&tokenExchangeHandler{s: s})
	s.pc.addTokenHandler(&claimsHandler{s: s}) // last: it builds the claims of a request every handler above has validated
	return s
}

// Now is the service's clock (the server's).
func (s *Service) Now() time.Time { return s.now() }

// Audit appends e to the audit log of the tenant in ctx.
func (s *Service) Audit(ctx context.Context, e storage.AuditEvent) error { return s.audit(ctx, e) }

// ResourceServer finds the tenant's API by audience (found false for an audience that is none).
func (s *Service) ResourceServer(ctx context.Context, audience string) (storage.ResourceServer, bool, error) {
	return s.resourceServer(ctx, audience)
}

// MaxTokenLifetime is the longest a token signed by a tenant key can stay valid: how long a rotated-out key must
// stay published.
func (s *Service) MaxTokenLifetime(t storage.Tenant) time.Duration { return s.pc.MaxTokenLifetime(t) }

// StoredTenant is implemented by the tenancy scope's record (server.Tenant).
type StoredTenant interface {
	StoredTenant() *storage.Tenant
}

// tenantOf is the stored tenant of the request in ctx; nil for a scope that did not come from a request.
func tenantOf(ctx context.Context) *storage.Tenant {
	if r, ok := tenancy.Record(ctx).(StoredTenant); ok {
		return r.StoredTenant()
	}
	return nil
}

// CanonicalAudience returns the name audience aud is recorded under (Deps.CanonicalAudience): the Management API's
// identifier for one of the tenant's Management API URLs, aud itself otherwise; ErrForeignAudience for another
// tenant's Management API URL.
func (s *Service) CanonicalAudience(ctx context.Context, aud string) (string, error) {
	return s.canonicalAud(ctx, aud)
}

// canonicalAudiences is CanonicalAudience over a list, in order, without repeats.
func (s *Service) canonicalAudiences(ctx context.Context, auds []string) ([]string, error) {
	out := make([]string, 0, len(auds))
	for _, a := range auds {
		c, err := s.canonicalAud(ctx, a)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}
