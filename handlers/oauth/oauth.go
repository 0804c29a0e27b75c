// Package oauth serves the standard OAuth 2.0 / OpenID Connect endpoints of a tenant: discovery, JWKS,
// authorize, token, userinfo, introspection and revocation, on Auth0's paths. Flows run through the server's
// fosite provider; errors are the RFCs' JSON (or redirect) errors.
package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Sessions reads the browser's sign-in session.
type Sessions interface {
	// SessionFromCookie returns the live session and its user for a session cookie value; storage.ErrNotFound
	// when there is none, or its user was deleted or blocked.
	SessionFromCookie(ctx context.Context, cookie string) (storage.LoginSession, storage.User, error)
}

// Flows keeps authorization requests that need the user server-side (authn/flows.go).
type Flows interface {
	StartFlow(ctx context.Context, browser string, f storage.AuthFlow) (storage.AuthFlow, error)
	OpenFlow(ctx context.Context, r *http.Request, id string) (storage.AuthFlow, error)
	AdvanceFlow(ctx context.Context, f storage.AuthFlow, fn func(f storage.AuthFlow) storage.AuthFlow) (storage.AuthFlow, error)
	CompleteFlow(ctx context.Context, f storage.AuthFlow) error
	FlowBrowserCookie(value string) *http.Cookie
}

// Grants decides what an authorization grants: the organization, its policy, and the claims /userinfo shows.
type Grants interface {
	AuthorizeSession(ctx context.Context, ar fosite.AuthorizeRequester, user storage.User, ls storage.LoginSession,
		access *oauth.OrgAccess, requestedAt time.Time) (*oauth.Session, error)
	UserOrganization(ctx context.Context, userID, idOrName string) (oauth.OrgAccess, error)
	ActiveMemberships(ctx context.Context, userID string) ([]storage.UserMembership, error)
	CheckOrgPolicy(ctx context.Context, in oauth.PolicyInput) error
	UserInfo(ctx context.Context, sess *oauth.Session, scopes fosite.Arguments) (map[string]any, error)
}

// SecondFactors says whether a user must pass a second factor (authn/mfa).
type SecondFactors interface {
	// MFARequired reports whether u must pass a second factor to sign in (u has an authenticator app, or the
	// tenant requires a second factor).
	MFARequired(ctx context.Context, u storage.User) (bool, error)
}

// Services is what the OAuth endpoints use of Authio's services besides fosite, and nothing more
// (*server.Server implements it).
type Services interface {
	Sessions
	Flows
	Grants
	SecondFactors
	// CORS answers preflights and adds CORS headers for the tenant's registered web origins.
	CORS(next http.Handler, methods string) http.Handler
}

// KeySource gives the JWKS document of the tenant in scope (keys.KeyManager, which caches it).
type KeySource interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// Handler serves the OAuth endpoints. Routes must run behind server.ResolveTenant.
type Handler struct {
	S Services
	// Provider is the fosite composition (server.Server.Provider): every standard flow goes through it.
	Provider fosite.OAuth2Provider
	Keys     KeySource
	Metrics  *server.Metrics
	Pages    *templates.Renderer
	Logger   *slog.Logger
	Now      func() time.Time
	// Memo caches the serialized discovery documents (server.Server.Memo).
	Memo *memo.Memo

	bufs sync.Pool // *[]byte: discovery documents are written from here
}

// LoginPath is where a sign-in flow sends the browser to sign in: LoginPath?state=<flow id>.
const LoginPath = "/login"

// MFAPath is where a sign-in flow sends the browser to pass (or set up) a second factor: MFAPath?state=<flow id>
// (the page is handlers/login's).
const MFAPath = "/login/mfa"

// Mount registers the endpoints on r.
func (h *Handler) Mount(r *mux.Router) {
	r.Handle("/.well-known/openid-configuration", h.cors(http.HandlerFunc(h.openIDConfiguration), "GET")).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/.well-known/oauth-authorization-server", h.cors(http.HandlerFunc(h.authorizationServerMetadata), "GET")).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/.well-known/jwks.json", h.cors(http.HandlerFunc(h.jwks), "GET")).Methods(http.MethodGet, http.MethodOptions)
	r.HandleFunc("/authorize", h.authorize).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(ResumePath, h.resume).Methods(http.MethodGet)
	r.Handle("/oauth/token", h.cors(http.HandlerFunc(h.token), "POST")).Methods(http.MethodPost, http.MethodOptions)
	r.Handle("/userinfo", h.cors(http.HandlerFunc(h.userinfo), "GET, POST")).Methods(http.MethodGet, http.MethodPost, http.MethodOptions)
	r.HandleFunc("/oauth/introspect", h.introspect).Methods(http.MethodPost)
	r.Handle("/oauth/revoke", h.cors(http.HandlerFunc(h.revoke), "POST")).Methods(http.MethodPost, http.MethodOptions)
}

// cors answers preflights and adds CORS headers for origins registered as a client's web origin.
func (h *Handler) cors(next http.Handler, methods string) http.Handler {
	return h.S.CORS(next, methods)
}

// issWriter adds the RFC 9207 "iss" parameter to authorization redirects (successes and errors alike).
type issWriter struct {
	http.ResponseWriter
	iss string
}

func (w *issWriter) WriteHeader(code int) {
	if code >= 300 && code < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				if u.Fragment != "" && strings.Contains(u.Fragment, "=") {
					if q, err := url.ParseQuery(u.Fragment); err == nil && q.Get("iss") == "" {
						q.Set("iss", w.iss)
						u.Fragment = q.Encode()
					}
				} else {
					q := u.Query()
					if (q.Has("code") || q.Has("error")) && !q.Has("iss") {
						q.Set("iss", w.iss)
						u.RawQuery = q.Encode()
					}
				}
				w.Header().Set("Location", u.String())
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}
