// Package demoapp is the small browser application that `authio serve --dev` serves on an origin of its own
// (app.<base domain>): a public OAuth client that signs in to a tenant with the authorization code flow and
// PKCE, shows the ID and access tokens decoded and the user's memberships, and refreshes, switches organization
// and signs out. Everything it does with the tenant happens in the browser, over HTTP and CORS, as any single-page
// app would; the Go side only serves the embedded page and tells it which tenant and client to use.
package demoapp

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed static
var files embed.FS

// Config is what the app is told about the tenant it signs in to. It reaches the browser as /config.json.
type Config struct {
	// Issuer is the tenant's issuer with its trailing slash, e.g. "http://demo.localhost:8080/".
	Issuer string `json:"issuer"`
	// ClientID is a public client of that tenant whose redirect URI is this app's /callback, post-logout
	// redirect URI its / and web origin its origin.
	ClientID string `json:"client_id"`
	// Audience is the API the access token is asked for ("" for none).
	Audience string `json:"audience,omitempty"`
	// TenantHosts is the host suffix (".localhost:8080") of the tenants the app may be pointed at with
	// /?issuer=…&client_id=… (the README's organization walkthrough); another issuer is refused.
	TenantHosts string `json:"tenant_hosts"`
}

// New returns the app's handler: the page at / and /callback, its script and stylesheet, and /config.json. The
// page may only connect to itself and to tenant hosts (Content-Security-Policy), and sends no Referer: the
// callback URL carries the authorization code.
func New(c Config) (http.Handler, error) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
	if u, err := url.Parse(c.Issuer); err == nil && u.Scheme != "" {
		csp += " " + u.Scheme + "://*" + c.TenantHosts
	}
	csp += "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	}
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /callback", page)
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(cfg)
	})
	assets := http.FileServerFS(static)
	mux.Handle("GET /app.js", assets)
	mux.Handle("GET /app.css", assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasSuffix(r.URL.Path, "/index.html") {
			http.NotFound(w, r) // FileServer would redirect it to /; the page has its own routes
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}
