// Package oauth serves the standard OAuth 2.0 / OpenID Connect endpoints of a tenant: discovery, JWKS,
// authorize, token, userinfo, introspection and revocation, on Auth0's paths. Flows run through the server's
// fosite provider; errors are the RFCs' JSON (or redirect) errors.
package oauth

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/server"
	"github.com/authio/authio/templates"
)

// Handler serves the OAuth endpoints. Routes must run behind server.ResolveTenant.
type Handler struct {
	S      *server.Server
	Pages  *templates.Renderer
	Logger *slog.Logger
	Now    func() time.Time

	discoveryMu sync.Mutex
	discovery   map[string]cachedDoc // kind|tenant|issuer|alg -> document; bounded, see serveMetadata
}

// LoginPath is where a sign-in flow sends the browser to sign in: LoginPath?state=<flow id>.
const LoginPath = "/login"

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
