package router_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server/router"
	"github.com/authio/authio/templates"
)

// devRouter serves env's server through a router built with opts, and returns a client that reaches it whatever
// the URL's host.
func devRouter(t *testing.T, env *testenv.Env, opts router.Options) (*http.Client, string) {
	t.Helper()
	pages, err := templates.New(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(router.New(env.S, pages, opts))
	t.Cleanup(hs.Close)
	addr := hs.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}, port
}

// fetch returns the status and body of a GET.
func fetch(t *testing.T, c *http.Client, rawURL string) (int, string) {
	t.Helper()
	r, err := c.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestUnknownHostInDev: with ListTenantHosts (serve --dev), a host no tenant answers on gets a 404 whose body names
// the tenant hosts there are, on every kind of route; without it (production), the 404 is bare and names no
// tenant. Known hosts answer as always.
func TestUnknownHostInDev(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		env.NewTenant("acme")
		env.NewTenant("globex")
		dev, port := devRouter(t, env, router.Options{ListTenantHosts: true, DemoApp: http.NotFoundHandler(), DemoAppHost: "app.localhost"})
		prod, prodPort := devRouter(t, env, router.Options{})

		for _, path := range []string{"/.well-known/openid-configuration", "/oauth/token", "/no/such/route", "/api/v2/users"} {
			t.Run("dev "+path, func(t *testing.T) {
				status, body := fetch(t, dev, "http://nope.localhost:"+port+path)
				var b struct {
					ErrorDescription string `json:"error_description"`
					Hosts            []string
				}
				var raw map[string]any
				if err := json.Unmarshal([]byte(body), &raw); err != nil {
					t.Fatalf("body is not JSON: %s", body)
				}
				_ = json.Unmarshal([]byte(body), &b)
				want := []string{"acme.localhost:" + port, "globex.localhost:" + port}
				if status != http.StatusNotFound || raw["error"] != "not_found" || !slices.Equal(b.Hosts, want) {
					t.Errorf("status %d, body %s; want 404 not_found with hosts %v", status, body, want)
				}
				for _, h := range append(want, "app.localhost:"+port) {
					if !strings.Contains(b.ErrorDescription, h) {
						t.Errorf("error_description %q does not name %s", b.ErrorDescription, h)
					}
				}
			})
			t.Run("production "+path, func(t *testing.T) {
				status, body := fetch(t, prod, "http://nope.localhost:"+prodPort+path)
				var raw map[string]any
				_ = json.Unmarshal([]byte(body), &raw)
				if status != http.StatusNotFound || raw["error"] != "not_found" || len(raw) != 2 {
					t.Errorf("status %d, body %s; want a bare 404 {error, error_description}", status, body)
				}
				if strings.Contains(body, "acme") || strings.Contains(body, "globex") {
					t.Errorf("the production 404 names a tenant: %s", body)
				}
			})
		}
		t.Run("known hosts are unchanged", func(t *testing.T) {
			if status, body := fetch(t, dev, "http://acme.localhost:"+port+"/.well-known/openid-configuration"); status != http.StatusOK ||
				!strings.Contains(body, `"issuer":"http://acme.localhost:`+port+`/"`) {
				t.Errorf("acme discovery in dev: %d %s", status, body)
			}
			// An unknown path on a known host is the route's 404, not the host listing.
			if status, body := fetch(t, dev, "http://acme.localhost:"+port+"/no/such/route"); status != http.StatusNotFound || strings.Contains(body, "hosts") {
				t.Errorf("unknown path on acme in dev: %d %s", status, body)
			}
			if status, _ := fetch(t, dev, "http://nope.localhost:"+port+"/healthz"); status != http.StatusOK {
				t.Errorf("/healthz on an unknown host: %d", status)
			}
		})
	})
}

// TestDemoAppHost: the demo app answers every path on its host name, whatever the port and the case, and nowhere
// else; tenants keep their hosts.
func TestDemoAppHost(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	env.NewTenant("acme")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "demo app at "+r.URL.Path) })
	c, port := devRouter(t, env, router.Options{ListTenantHosts: true, DemoApp: app, DemoAppHost: "app.localhost"})
	for _, tc := range []struct {
		name, url, want string
	}{
		{name: "root", url: "http://app.localhost:" + port + "/", want: "demo app at /"},
		{name: "a tenant path on the app host", url: "http://app.localhost:" + port + "/oauth/token", want: "demo app at /oauth/token"},
		{name: "static on the app host", url: "http://APP.localhost.:" + port + "/static/authio.css", want: "demo app at /static/authio.css"},
		{name: "a tenant", url: "http://acme.localhost:" + port + "/.well-known/openid-configuration", want: `"issuer":"http://acme.localhost:`},
		{name: "a host that only starts like it", url: "http://app.localhost.example:" + port + "/", want: `"error":"not_found"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, body := fetch(t, c, tc.url); !strings.Contains(body, tc.want) {
				t.Errorf("GET %s: %s, want %q", tc.url, body, tc.want)
			}
		})
	}
}
