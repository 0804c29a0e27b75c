package router_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server/router"
)

func TestDiscoveryDocuments(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{})

	for _, tc := range []struct {
		name string
		path string
	}{
		{name: "openid configuration", path: "/.well-known/openid-configuration"},
		{name: "oauth authorization server metadata", path: "/.well-known/oauth-authorization-server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Get(t, c, acme.URL(tc.path))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", r.StatusCode, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			doc := r.JSON(t)
			wantIssuer := "http://acme.localhost:" + env.Port + "/" // trailing slash, as Auth0 issues it
			if doc["issuer"] != wantIssuer {
				t.Errorf("issuer = %v, want %s", doc["issuer"], wantIssuer)
			}
			for key, path := range map[string]string{
				"authorization_endpoint": "/authorize",
				"token_endpoint":         "/oauth/token",
				"userinfo_endpoint":      "/userinfo",
				"jwks_uri":               "/.well-known/jwks.json",
				"introspection_endpoint": "/oauth/introspect",
				"revocation_endpoint":    "/oauth/revoke",
				"end_session_endpoint":   "/oidc/logout",
			} {
				if doc[key] != acme.URL(path) {
					t.Errorf("%s = %v, want %s", key, doc[key], acme.URL(path))
				}
			}
			var methods []string
			b, _ := json.Marshal(doc["code_challenge_methods_supported"])
			_ = json.Unmarshal(b, &methods)
			if !slices.Equal(methods, []string{"S256"}) {
				t.Errorf("code_challenge_methods_supported = %v, want [S256]", doc["code_challenge_methods_supported"])
			}
			if doc["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("authorization_response_iss_parameter_supported = %v, want true", doc["authorization_response_iss_parameter_supported"])
			}
		})
	}
}

func TestJWKSPublishesTheTenantKeyOnly(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	globex := env.NewTenant("globex")
	c := env.Client(testenv.ClientOptions{})

	jwks := acme.JWKS(t, c)
	kids := testenv.KidsOf(t, jwks)
	if want := acme.KeyIDs(t); !slices.Equal(kids, want) {
		t.Errorf("acme JWKS kids = %v, want %v", kids, want)
	}
	for _, kid := range globex.KeyIDs(t) {
		if slices.Contains(kids, kid) {
			t.Errorf("acme JWKS publishes globex key %s", kid)
		}
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v carries private member %q", k["kid"], private)
			}
		}
		if k["use"] != "sig" || k["alg"] != "RS256" {
			t.Errorf("JWKS key %v: use=%v alg=%v, want sig RS256", k["kid"], k["use"], k["alg"])
		}
	}
}

func TestUnknownHostLearnsNothing(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{NoRedirects: true})

	var bodies []string
	for _, tc := range []struct {
		name string
		host string
		path string
	}{
		{name: "discovery on an unknown subdomain", host: "unknown.localhost", path: "/.well-known/openid-configuration"},
		{name: "jwks on an unknown subdomain", host: "unknown.localhost", path: "/.well-known/jwks.json"},
		{name: "authorize on an unknown subdomain", host: "unknown.localhost", path: "/authorize?client_id=x"},
		{name: "login page on an unknown subdomain", host: "unknown.localhost", path: "/login"},
		{name: "unrouted path on an unknown subdomain", host: "unknown.localhost", path: "/no/such/path"},
		{name: "discovery by IP address", host: "127.0.0.1", path: "/.well-known/openid-configuration"},
		{name: "parent of a tenant domain", host: "localhost", path: "/.well-known/openid-configuration"},
		{name: "subdomain of a tenant domain", host: "x.acme.localhost", path: "/.well-known/openid-configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Get(t, c, "http://"+tc.host+":"+env.Port+tc.path)
			if r.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d, want 404\n%s", r.StatusCode, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			r.JSON(t)
			for _, secret := range append([]string{"acme", acme.ID, "Acme"}, acme.KeyIDs(t)...) {
				if strings.Contains(r.Body, secret) {
					t.Errorf("404 body mentions %q: %s", secret, r.Body)
				}
			}
			bodies = append(bodies, r.Body)
		})
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("unknown hosts get different answers per path, which reveals routes:\n%s\n%s", bodies[0], b)
		}
	}
}

func TestHealthOnAnyHost(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{NoRedirects: true})
	for _, host := range []string{"acme.localhost", "unknown.localhost", "127.0.0.1", "example.com"} {
		for _, path := range []string{"/healthz", "/readyz"} {
			t.Run(host+path, func(t *testing.T) {
				r := testenv.Get(t, c, "http://"+host+":"+env.Port+path)
				if r.StatusCode != http.StatusOK {
					t.Errorf("status %d, want 200\n%s", r.StatusCode, r.Body)
				}
			})
		}
	}
}

func TestCORSOnlyForRegisteredWebOrigins(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	globex := env.NewTenant("globex")
	const (
		spaOrigin    = "https://app.acme.test"
		globexOrigin = "https://app.globex.test"
		evilOrigin   = "https://evil.example"
	)
	acme.NewClient(directory.ClientSpec{Name: "spa", Type: "public", RedirectURIs: []string{spaOrigin + "/callback"},
		WebOrigins: []string{spaOrigin}})
	svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: "confidential", GrantTypes: []string{"client_credentials"}})
	globex.NewClient(directory.ClientSpec{Name: "spa", Type: "public", RedirectURIs: []string{globexOrigin + "/callback"},
		WebOrigins: []string{globexOrigin}})
	c := env.Client(testenv.ClientOptions{})

	requests := []struct {
		name string
		do   func(t *testing.T, origin string) *testenv.Response
	}{
		{name: "token", do: func(t *testing.T, origin string) *testenv.Response {
			return testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"}},
				testenv.BasicAuth(svc.ClientID, svc.ClientSecret), testenv.Header("Origin", origin))
		}},
		{name: "userinfo", do: func(t *testing.T, origin string) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/userinfo"), testenv.Bearer("not-a-token"), testenv.Header("Origin", origin))
		}},
		{name: "jwks", do: func(t *testing.T, origin string) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/.well-known/jwks.json"), testenv.Header("Origin", origin))
		}},
		{name: "discovery", do: func(t *testing.T, origin string) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/.well-known/openid-configuration"), testenv.Header("Origin", origin))
		}},
		{name: "preflight", do: func(t *testing.T, origin string) *testenv.Response {
			return testenv.Do(t, c, http.MethodOptions, acme.URL("/oauth/token"), nil, testenv.Header("Origin", origin),
				testenv.Header("Access-Control-Request-Method", "POST"),
				testenv.Header("Access-Control-Request-Headers", "content-type"))
		}},
	}
	for _, rq := range requests {
		for _, tc := range []struct {
			name    string
			origin  string
			allowed bool
		}{
			{name: "registered origin", origin: spaOrigin, allowed: true},
			{name: "unregistered origin", origin: evilOrigin},
			{name: "origin registered in another tenant", origin: globexOrigin},
			{name: "registered origin with another scheme", origin: "http://app.acme.test"},
		} {
			t.Run(rq.name+"/"+tc.name, func(t *testing.T) {
				r := rq.do(t, tc.origin)
				got := r.Header.Get("Access-Control-Allow-Origin")
				switch {
				case tc.allowed && got != tc.origin:
					t.Errorf("Access-Control-Allow-Origin = %q, want %q (status %d)", got, tc.origin, r.StatusCode)
				case !tc.allowed && got != "":
					t.Errorf("Access-Control-Allow-Origin = %q for an origin that is not registered", got)
				}
				if got == "*" {
					t.Errorf("wildcard CORS")
				}
				if rq.name == "preflight" && tc.allowed {
					if r.StatusCode != http.StatusNoContent && r.StatusCode != http.StatusOK {
						t.Errorf("preflight status %d", r.StatusCode)
					}
					if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
						t.Errorf("Access-Control-Allow-Methods = %q, want POST", m)
					}
					if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "content-type") {
						t.Errorf("Access-Control-Allow-Headers = %q, want Content-Type", h)
					}
				}
				if rq.name == "token" && tc.allowed && r.StatusCode != http.StatusOK {
					t.Errorf("token request failed: %d %s", r.StatusCode, r.Body)
				}
			})
		}
	}
}

func TestAdminListener(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	if _, err := env.S.AddDomain(acme.Ctx, acme.ID, "auth.acme.test"); err != nil {
		t.Fatal(err)
	}
	testenv.Get(t, env.Client(testenv.ClientOptions{}), acme.URL("/.well-known/openid-configuration"))
	admin := httptest.NewServer(router.Admin(env.S))
	t.Cleanup(admin.Close)
	c := admin.Client()

	for _, tc := range []struct {
		name   string
		path   string
		status int
		body   string
	}{
		{name: "tls ask for a default domain", path: "/tls/ask?domain=acme.localhost", status: http.StatusOK},
		{name: "tls ask for an added domain", path: "/tls/ask?domain=auth.acme.test", status: http.StatusOK},
		{name: "tls ask for an unknown domain", path: "/tls/ask?domain=evil.example", status: http.StatusNotFound},
		{name: "tls ask without a domain", path: "/tls/ask", status: http.StatusBadRequest},
		{name: "metrics", path: "/metrics", status: http.StatusOK, body: "authio_http_requests_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Get(t, c, admin.URL+tc.path)
			if r.StatusCode != tc.status {
				t.Errorf("status %d, want %d\n%s", r.StatusCode, tc.status, r.Body)
			}
			if !strings.Contains(r.Body, tc.body) {
				t.Errorf("body does not contain %q", tc.body)
			}
		})
	}
}
