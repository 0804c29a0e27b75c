package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/config"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// providerConfig is fosite's configuration with the per-tenant parts read from the request context: the
// issuer comes from the host the request arrived on, lifetimes from the tenant's settings.
type providerConfig struct {
	*fosite.Config
	defaults config.Config
	// canonicalAudience is Service.CanonicalAudience: the audience strategy compares audiences by it.
	canonicalAudience func(ctx context.Context, aud string) (string, error)
}

// GetAudienceStrategy matches requested audiences against those a client (or a grant) allows, exactly, except
// that two names of one audience match each other (a tenant's Management API URL in Auth0's form and the
// Management API's identifier): a client allowed urn:authio:management may ask for https://{its tenant's
// domain}/api/v2/, as Auth0's SDKs do, and the token names the audience as asked. Another tenant's Management API
// URL is access_denied (RFC 6749 §5.2 has no better code for a refused audience; Auth0 answers the same), an
// audience allowed under neither name invalid_request, as fosite's exact strategy answers it.
func (c *providerConfig) GetAudienceStrategy(ctx context.Context) fosite.AudienceMatchingStrategy {
	exact := c.Config.GetAudienceStrategy(ctx)
	return func(haystack []string, needle []string) error {
		if c.canonicalAudience == nil {
			return exact(haystack, needle)
		}
		// Another tenant's Management API is refused even when a client lists its URL among its audiences.
		names := make([]string, len(needle))
		for i, n := range needle {
			cn, err := c.canonicalAudience(ctx, n)
			switch {
			case errors.Is(err, ErrForeignAudience):
				return fosite.ErrAccessDenied.WithHintf("The audience '%s' is another tenant's API.", n)
			case err != nil:
				return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
			}
			names[i] = cn
		}
		if exact(haystack, needle) == nil {
			return nil
		}
		allowed := map[string]bool{}
		for _, h := range haystack {
			allowed[h] = true
			if ch, err := c.canonicalAudience(ctx, h); err == nil {
				allowed[ch] = true
			} else if !errors.Is(err, ErrForeignAudience) {
				return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
			}
		}
		for i, n := range needle {
			if !allowed[n] && !allowed[names[i]] {
				return fosite.ErrInvalidRequest.WithHintf("Requested audience '%s' has not been whitelisted by the OAuth 2.0 Client.", n)
			}
		}
		return nil
	}
}

// tenant is the resolved tenant of the request in ctx; nil for a scope that did not come from a request (its
// lifetimes are the server defaults). Without any tenancy scope it panics with tenancy.ErrNoScope: fosite was
// called outside a tenant, a programming error the recovery middleware answers with a 500.
func (c *providerConfig) tenant(ctx context.Context) *storage.Tenant {
	if _, err := tenancy.TenantID(ctx); err != nil {
		panic(err)
	}
	return tenantOf(ctx)
}

// GetAccessTokenIssuer is the issuer of the request's tenant domain (tenancy.Scope.Issuer). It never returns ""
// : without a request scope it panics with tenancy.ErrNoScope.
func (c *providerConfig) GetAccessTokenIssuer(ctx context.Context) string {
	return tenancy.MustIssuer(ctx)
}

func (c *providerConfig) GetIDTokenIssuer(ctx context.Context) string {
	return c.GetAccessTokenIssuer(ctx)
}

// GetTokenURLs is the token endpoint of the request's tenant domain (the audience fosite accepts in client
// assertions): the issuer carries a trailing slash, the endpoint one slash.
func (c *providerConfig) GetTokenURLs(ctx context.Context) []string {
	return []string{strings.TrimSuffix(c.GetAccessTokenIssuer(ctx), "/") + "/oauth/token"}
}

func ttl(tenantSeconds int, def time.Duration) time.Duration {
	if tenantSeconds > 0 {
		return time.Duration(tenantSeconds) * time.Second
	}
	return def
}

func (c *providerConfig) GetAccessTokenLifespan(ctx context.Context) time.Duration {
	if t := c.tenant(ctx); t != nil {
		return ttl(t.AccessTokenTTL, c.defaults.AccessTokenTTL)
	}
	return c.defaults.AccessTokenTTL
}

func (c *providerConfig) GetRefreshTokenLifespan(ctx context.Context) time.Duration {
	if t := c.tenant(ctx); t != nil {
		return ttl(t.RefreshTokenTTL, c.defaults.RefreshTokenTTL)
	}
	return c.defaults.RefreshTokenTTL
}

func (c *providerConfig) GetIDTokenLifespan(ctx context.Context) time.Duration {
	if t := c.tenant(ctx); t != nil {
		return ttl(t.IDTokenTTL, c.defaults.IDTokenTTL)
	}
	return c.defaults.IDTokenTTL
}

// MaxTokenLifetime is the longest a token signed by a tenant key can stay valid: how long a rotated-out key
// must stay published.
func (c *providerConfig) MaxTokenLifetime(t storage.Tenant) time.Duration {
	at := ttl(t.AccessTokenTTL, c.defaults.AccessTokenTTL)
	id := ttl(t.IDTokenTTL, c.defaults.IDTokenTTL)
	if id > at {
		at = id
	}
	return at + 5*time.Minute // clock skew allowance for verifiers
}

// newProvider composes fosite explicitly with the flows Authio serves.
// now is the clock the token paths stamp and judge expiry with (Server.Now).
// It also returns the access and refresh token strategy and the ID token strategy, with which switching mints.
func newProvider(cfg config.Config, store *storage.Store, secrets *keys.Secrets, signer *keys.Signer, now func() time.Time) (
	fosite.OAuth2Provider, *providerConfig, switchStrategy, openid.OpenIDConnectTokenStrategy) {
	fc := &fosite.Config{
		GlobalSecret:                   secrets.Derive("fosite-hmac"),
		ClientSecretsHasher:            keys.NewSecretHasher(secrets),
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		RefreshTokenScopes:             []string{"offline_access"},
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		SendDebugMessagesToClients:     false,
		AuthorizeCodeLifespan:          5 * time.Minute,
		MinParameterEntropy:            fosite.MinParameterEntropy,
		AllowedPromptValues:            []string{"login", "none", "consent", "select_account"},
		TokenEntropy:                   32,
	}
	fc.ResponseModeHandlerExtension = webMessageMode{}
	pc := &providerConfig{Config: fc, defaults: cfg}

	hmacStrategy := compose.NewOAuth2HMACStrategy(pc)
	core := &oauth2.DefaultJWTStrategy{Signer: tokenSigner{signer}, HMACSHAStrategy: hmacStrategy, Config: pc}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               core,
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: tokenSigner{signer}, Config: pc},
		Signer:                     signer,
	}
	provider := fosite.NewOAuth2Provider(store, pc)
	// The grants' handlers come from the grant registry (registry.go), in its order; introspection and
	// revocation serve every grant's tokens.
	var factories []compose.Factory
	for _, g := range GrantTypes() {
		factories = append(factories, g.Factories...)
	}
	factories = append(factories, compose.OAuth2TokenIntrospectionFactory, compose.OAuth2TokenRevocationFactory)
	for _, factory := range factories {
		h := factory(pc, store, strategy)
		// The code and refresh grants consume their single-use record with one conditional write; these
		// wrappers answer a lost race as replay (see grants.go).
		switch g := h.(type) {
		case *oauth2.AuthorizeExplicitGrantHandler:
			h = &codeGrant{AuthorizeExplicitGrantHandler: g, store: store}
		case *oauth2.RefreshTokenGrantHandler:
			h = &refreshGrant{RefreshTokenGrantHandler: g, store: store, secrets: secrets, now: now}
		}
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			fc.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			// Appended directly: fosite's Append skips a handler whose type is already listed, and every
			// wrapper has the same type.
			fc.TokenEndpointHandlers = append(fc.TokenEndpointHandlers, quietTokenHandler{th})
		}
		if ti, ok := h.(fosite.TokenIntrospector); ok {
			fc.TokenIntrospectionHandlers.Append(ti)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			fc.RevocationHandlers.Append(rh)
		}
	}
	return provider, pc, core, strategy.OpenIDConnectTokenStrategy
}

// addTokenHandler appends one of Authio's own token endpoint handlers after fosite's.
func (c *providerConfig) addTokenHandler(h fosite.TokenEndpointHandler) {
	c.TokenEndpointHandlers = append(c.TokenEndpointHandlers, quietTokenHandler{h})
}

// quietTokenHandler skips a token endpoint handler that does not serve the request's grant. fosite asks every
// handler to populate every token response, and the ones that do not apply answer with an error carrying a
// stack trace: several per issued token, a measurable share of issuance CPU. fosite's request side already
// asks CanHandleTokenEndpointRequest first; this does the same on the response side.
type quietTokenHandler struct {
	fosite.TokenEndpointHandler
}

func (q quietTokenHandler) PopulateTokenEndpointResponse(ctx context.Context, req fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !q.CanHandleTokenEndpointRequest(ctx, req) {
		return fosite.ErrUnknownRequest
	}
	return q.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, req, resp)
}

// ResponseModeWebMessage is Auth0's response mode for authorization in a hidden iframe (silent authentication,
// usually with prompt=none) or a popup: the authorization response is an HTML page that posts it to the window
// that opened it or holds it (window.postMessage), to the client's registered web origin only.
const ResponseModeWebMessage fosite.ResponseModeType = "web_message"

// webMessageMode makes fosite accept response_mode=web_message (a mode it does not know is refused before the
// redirect URI is looked at). The page is the authorization endpoint's to write (handlers/oauth owns the pages
// and checks the target origin), so fosite's writers are never asked for one; if they were, they would answer
// with a server_error page rather than write a response nobody checked.
type webMessageMode struct{}

var _ fosite.ResponseModeHandler = webMessageMode{}

func (webMessageMode) ResponseModes() fosite.ResponseModeTypes {
	return fosite.ResponseModeTypes{ResponseModeWebMessage}
}

func (webMessageMode) WriteAuthorizeResponse(_ context.Context, rw http.ResponseWriter, _ fosite.AuthorizeRequester, _ fosite.AuthorizeResponder) {
	http.Error(rw, "server_error: web_message responses are written by the authorization endpoint", http.StatusInternalServerError)
}

func (webMessageMode) WriteAuthorizeError(_ context.Context, rw http.ResponseWriter, _ fosite.AuthorizeRequester, _ error) {
	http.Error(rw, "server_error: web_message responses are written by the authorization endpoint", http.StatusInternalServerError)
}
