// Package router assembles Authio's HTTP surface: the server's middleware around every handlers package on the
// public listener, and the admin listener's metrics and TLS-ask endpoints.
package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/handlers/account"
	"github.com/authio/authio/handlers/accountpage"
	"github.com/authio/authio/handlers/admin"
	"github.com/authio/authio/handlers/login"
	"github.com/authio/authio/handlers/management"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/handlers/tickets"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/static"
	"github.com/authio/authio/templates"
)

// Options switch on optional surfaces.
type Options struct {
	// DevCallback serves /dev/callback on tenant hosts, a page that shows the authorization code (serve --dev).
	DevCallback bool
	// ListTenantHosts makes the 404 for a host no tenant answers on name the tenant hosts there are (serve --dev
	// only: anywhere else it would tell anyone the tenants' names).
	ListTenantHosts bool
	// DemoApp, when set, answers every request whose host name (any port) is DemoAppHost: the demo
	// application of serve --dev, on an origin of its own.
	DemoApp     http.Handler
	DemoAppHost string
	// DevOutbox serves /dev/outbox on tenant hosts: the latest email of that tenant, from the server's
	// mail.Outbox (serve --dev only; 404 otherwise).
	DevOutbox bool
}

// New returns the public handler.
func New(s *server.Server, pages *templates.Renderer, opts Options) http.Handler {
	r := mux.NewRouter()
	// Match on the path as sent, so an escaped slash stays inside one path segment: a resource server is
	// addressed by its URL identifier as /api/v2/resource-servers/https%3A%2F%2Fapi.example.com.
	r.UseEncodedPath()
	if opts.DemoApp != nil {
		r.MatcherFunc(hostNameIs(opts.DemoAppHost, s.Config.PublicScheme)).Handler(opts.DemoApp)
	}
	resolve := s.ResolveTenant
	if opts.ListTenantHosts {
		resolve = listTenantHosts(s, resolve, opts.DemoAppHost)
	}
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet, http.MethodHead)
	// Ready while the database answers, whatever Redis does: a load balancer must not drain every replica
	// because the coordinator is away while tokens still work. The body says which dependency is degraded.
	r.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		rd, err := s.Readiness(ctx)
		status := http.StatusOK
		if err != nil {
			s.Logger.Warn("not ready", "err", err)
			status = http.StatusServiceUnavailable
		}
		httpx.WriteJSON(w, status, rd)
	}).Methods(http.MethodGet, http.MethodHead)
	staticFiles := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	r.PathPrefix("/static/").Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/static/" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		staticFiles.ServeHTTP(w, req)
	})).Methods(http.MethodGet, http.MethodHead)

	tenant := r.NewRoute().Subrouter()
	oh := &oauth.Handler{S: s, Provider: s.Provider, Keys: s.Keys, Metrics: s.Metrics, Pages: pages, Logger: s.Logger,
		Now: s.Now, Memo: s.Memo}
	lh := &login.Handler{S: s, IDTokens: &keys.Signer{Keys: s.Keys}, CSRFKey: s.Secrets.Derive("csrf"),
		Secure: s.Config.PublicScheme == "https", SessionTTL: s.Config.SessionTTL, Pages: pages, Logger: s.Logger, Now: s.Now}
	ah := &account.Handler{S: s, Logger: s.Logger, Now: s.Now}
	mh := &management.Handler{S: s, Provider: s.Provider, Logger: s.Logger, Now: s.Now}
	aph := &accountpage.Handler{S: s, CSRFKey: s.Secrets.Derive("csrf"), Secure: s.Config.PublicScheme == "https",
		Pages: pages, Logger: s.Logger, Now: s.Now}
	// Every tenant route, whatever its surface, refuses input storage cannot keep before its handler runs.
	tenant.Use(resolve, httpx.RefuseBadInput(s.Logger, refuseInput(oh, lh, ah, mh)))
	oh.Mount(tenant)
	lh.Mount(tenant)
	(&tickets.Handler{S: s, CSRFKey: lh.CSRFKey, Secure: lh.Secure, Pages: pages, Logger: s.Logger}).Mount(tenant)
	ah.Mount(tenant)
	mh.Mount(tenant)
	aph.Mount(tenant)
	if opts.DevCallback {
		tenant.HandleFunc("/dev/callback", devCallback(pages)).Methods(http.MethodGet)
	}
	if opts.DevOutbox && s.Outbox != nil {
		tenant.HandleFunc("/dev/outbox", devOutbox(s, pages)).Methods(http.MethodGet)
	}
	// Unknown paths still go through tenant resolution, so an unknown host learns nothing about routes.
	notFound := resolve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No such endpoint."})
	}))
	r.NotFoundHandler = notFound
	r.MethodNotAllowedHandler = resolve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "Method not allowed."})
	}))
	return s.Observe(r)
}

// hostNameIs matches requests whose canonical host, port aside, is name.
func hostNameIs(name, scheme string) mux.MatcherFunc {
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		host, err := canon.Host(r.Host, scheme)
		h, _, _ := strings.Cut(host, ":")
		return err == nil && h == name
	}
}

// listTenantHosts wraps tenant resolution so that a request on a host no tenant answers on gets a 404 naming the
// hosts that do (with the request's port), and the demo app's host when there is one: in development, the
// answer to a mistyped host is where to go instead. The body keeps the shape of the production 404 ({"error":
// "not_found", "error_description"}) and adds "hosts".
func listTenantHosts(s *server.Server, resolve func(http.Handler) http.Handler, demoAppHost string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		resolved := resolve(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, err := canon.Host(r.Host, s.Config.PublicScheme)
			if err != nil {
				resolved.ServeHTTP(w, r) // resolution answers the 400
				return
			}
			name, port, _ := strings.Cut(host, ":")
			if _, err := s.Tenants.Resolve(r.Context(), name); !errors.Is(err, server.ErrUnknownHost) {
				resolved.ServeHTTP(w, r)
				return
			}
			infos, err := s.TenantInfos(r.Context())
			if err != nil {
				resolved.ServeHTTP(w, r) // the bare 404 then; this listing is a convenience
				return
			}
			withPort := func(h string) string {
				if port != "" {
					return h + ":" + port
				}
				return h
			}
			hosts := []string{}
			for _, t := range infos {
				for _, d := range t.Domains {
					hosts = append(hosts, withPort(d))
				}
			}
			sort.Strings(hosts)
			desc := fmt.Sprintf("No tenant answers on %s. Tenants answer on: %s.", host, strings.Join(hosts, ", "))
			if len(hosts) == 0 {
				desc = fmt.Sprintf("No tenant answers on %s, and there are no tenants yet.", host)
			}
			if demoAppHost != "" {
				desc += " The demo app is on " + withPort(demoAppHost) + "."
			}
			httpx.WriteJSON(w, http.StatusNotFound, map[string]any{"error": "not_found", "error_description": desc, "hosts": hosts})
		})
	}
}

// devCallback shows the code an authorization request returned, for trying the flow by hand in dev mode.
func devCallback(pages *templates.Renderer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		msg := "Authorization code: " + q.Get("code") + "   state: " + q.Get("state") + "   iss: " + q.Get("iss") +
			"   — exchange it at /oauth/token with grant_type=authorization_code, the code, your client_id, redirect_uri and code_verifier."
		title := "Signed in: authorization code received"
		if e := q.Get("error"); e != "" {
			title, msg = "Authorization error", e+": "+q.Get("error_description")
		}
		if err := pages.Render(w, http.StatusOK, templates.PageError, templates.Page{Title: title, Message: msg,
			TenantName: server.TenantFromContext(r.Context()).Name}); err != nil {
			http.Error(w, "internal server error", http.StatusInternalServerError)
		}
	}
}

// devOutbox lists the latest email of the request's tenant, newest first (serve --dev): as a page, or as JSON
// ({"messages": [{to, subject, kind, link, text, sent_at}]}) with ?format=json. Never another tenant's.
func devOutbox(s *server.Server, pages *templates.Renderer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := server.TenantFromContext(r.Context())
		msgs := s.Outbox.List(t.ID)
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Query().Get("format") == "json" {
			httpx.WriteJSON(w, http.StatusOK, map[string]any{"messages": msgs})
			return
		}
		p := templates.Page{TenantName: t.Name, Message: "The latest email sent for " + t.Name + " (development mode only). Add ?format=json for JSON."}
		for _, m := range msgs {
			p.Choices = append(p.Choices, templates.Choice{Label: m.Subject, URL: m.Link,
				Detail: "To " + m.To + " · " + m.Kind + " · " + m.SentAt.Format(time.RFC3339) + " · " + m.Text})
		}
		if err := pages.Render(w, http.StatusOK, templates.PageDevOutbox, p); err != nil {
			http.Error(w, "internal server error", http.StatusInternalServerError)
		}
	}
}

// Admin returns the admin handler: Prometheus metrics, profiles, the on-demand TLS ask endpoint and the control
// plane's tenant API (handlers/admin), each request with its id (server.Server.Identify). It must never be exposed
// on tenant domains.
func Admin(s *server.Server) http.Handler {
	r := mux.NewRouter()
	r.Handle("/metrics", s.Metrics.Handler()).Methods(http.MethodGet)
	// Profiles for operators; like everything here, never on a tenant domain.
	r.HandleFunc("/debug/pprof/", pprof.Index)
	r.HandleFunc("/debug/pprof/profile", pprof.Profile)
	r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	r.PathPrefix("/debug/pprof/").HandlerFunc(pprof.Index)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// Caddy's on_demand_tls asks here before obtaining a certificate: 200 only for tenant domains. The name is
	// canonicalized as tenant domains are stored (canon.Domain), so the answer matches what the public listener
	// serves; a name that is not a host name is 400.
	r.HandleFunc("/tls/ask", func(w http.ResponseWriter, req *http.Request) {
		domain := req.URL.Query().Get("domain")
		if domain == "" {
			http.Error(w, "domain is required", http.StatusBadRequest)
			return
		}
		name, err := canon.Domain(domain)
		if err != nil {
			http.Error(w, "domain is not a host name", http.StatusBadRequest)
			return
		}
		if _, err := s.Tenants.Resolve(req.Context(), name); errors.Is(err, server.ErrUnknownHost) {
			http.Error(w, "not a tenant domain", http.StatusNotFound)
			return
		} else if err != nil {
			// Not "not a tenant domain": Caddy would refuse a certificate for a domain that is one.
			httpx.LogFailure(req.Context(), s.Logger, "tls ask: resolving the domain failed", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet)
	// The tenant API of the control plane, behind AUTHIO_ADMIN_TOKEN.
	(&admin.Handler{S: s, Token: s.Config.AdminToken, Logger: s.Logger}).Mount(r)
	return s.Identify(r)
}
