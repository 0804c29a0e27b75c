package management_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestClientsAuth0Fields: POST /api/v2/clients takes Auth0's client fields, fills Auth0's defaults from app_type
// and answers in Auth0's shape, with the secret only for a confidential client at creation; GET, PATCH, DELETE and
// the list follow. Contradictions and unknown fields are 400s naming the field; another tenant neither sees nor
// changes the client.
func TestClientsAuth0Fields(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		const cb = "https://app.acme.test/callback"
		spa := obj(t, f.must(t, http.StatusCreated, "POST", "/clients", map[string]any{
			"name": "Acme SPA", "app_type": "spa", "callbacks": []string{cb}, "allowed_logout_urls": []string{"https://app.acme.test/"},
			"web_origins": []string{"https://app.acme.test"}, "allowed_origins": []string{"https://admin.acme.test/"},
			"organization_usage": "require", "organization_require_behavior": "no_prompt",
		}))
		want := map[string]any{
			"name": "Acme SPA", "app_type": "spa", "token_endpoint_auth_method": "none", "type": "public", "is_first_party": true,
			"grant_types": []any{"authorization_code", "refresh_token"}, "callbacks": []any{cb},
			"allowed_logout_urls": []any{"https://app.acme.test/"}, "web_origins": []any{"https://app.acme.test"},
			"allowed_origins": []any{"https://admin.acme.test"}, "organization_usage": "require", "organization_require_behavior": "no_prompt",
		}
		check := func(t *testing.T, what string, got, want map[string]any) {
			t.Helper()
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], v)
				}
			}
		}
		check(t, "created spa", spa, want)
		if _, has := spa["client_secret"]; has {
			t.Errorf("a public client got a secret: %v", spa)
		}
		spaID, _ := spa["client_id"].(string)
		check(t, "GET spa", obj(t, f.must(t, http.StatusOK, "GET", "/clients/"+spaID, nil)), want)

		// Defaults by application type; a confidential client's secret is shown once.
		for _, tc := range []struct {
			name string
			body map[string]any
			want map[string]any
		}{
			{name: "non_interactive", body: map[string]any{"name": "worker", "app_type": "non_interactive"},
				want: map[string]any{"type": "confidential", "token_endpoint_auth_method": "client_secret_post", "grant_types": []any{"client_credentials"}}},
			{name: "regular_web with basic", body: map[string]any{"name": "web", "app_type": "regular_web", "token_endpoint_auth_method": "client_secret_basic",
				"callbacks": []string{cb}},
				want: map[string]any{"type": "confidential", "token_endpoint_auth_method": "client_secret_basic", "grant_types": []any{"authorization_code", "refresh_token"}}},
			{name: "native", body: map[string]any{"name": "mobile", "app_type": "native", "callbacks": []string{"com.acme.app:/callback"}},
				want: map[string]any{"type": "public", "token_endpoint_auth_method": "none", "grant_types": []any{"authorization_code", "refresh_token"}}},
			{name: "a method alone", body: map[string]any{"name": "svc", "token_endpoint_auth_method": "client_secret_post", "grant_types": []string{"client_credentials"}},
				want: map[string]any{"type": "confidential", "app_type": nil, "grant_types": []any{"client_credentials"}}},
			{name: "Authio's type alone", body: map[string]any{"name": "legacy", "type": "confidential", "grant_types": []string{"client_credentials"}, "scopes": []string{"read:x"}},
				want: map[string]any{"type": "confidential", "app_type": nil, "token_endpoint_auth_method": "client_secret_post", "scopes": []any{"read:x"},
					"organization_require_behavior": "post_login_prompt", "organization_usage": "deny"}},
		} {
			t.Run("create/"+tc.name, func(t *testing.T) {
				got := obj(t, f.must(t, http.StatusCreated, "POST", "/clients", tc.body))
				check(t, tc.name, got, tc.want)
				secret, _ := got["client_secret"].(string)
				if (tc.want["type"] == "confidential") != (len(secret) >= 40) {
					t.Errorf("client_secret = %q for a %v client", secret, tc.want["type"])
				}
				if g, _ := got["grant_types"].([]any); tc.want["type"] == "confidential" && len(g) == 1 && g[0] == "client_credentials" {
					// The secret works at the token endpoint, sent in the body as Auth0's SDKs send it.
					r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"},
						"client_id": {got["client_id"].(string)}, "client_secret": {secret}})
					testenv.TokensOf(t, r)
				}
			})
		}

		// Allowed origins may call the tenant from a browser (CORS), as web origins may.
		for origin, allowed := range map[string]bool{"https://admin.acme.test": true, "https://app.acme.test": true, "https://evil.test": false} {
			r := testenv.Do(t, f.c, "OPTIONS", f.acme.URL("/oauth/token"), nil, testenv.Header("Origin", origin),
				testenv.Header("Access-Control-Request-Method", "POST"))
			if got := r.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
				t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want allowed=%v", origin, r.Header.Get("Access-Control-Allow-Origin"), allowed)
			}
		}

		// organization_require_behavior no_prompt: the client must name the organization; the user gets no picker.
		f.acme.NewUser("jane@acme.test")
		browser := f.env.Client(testenv.ClientOptions{StopAt: []string{cb}})
		ar := testenv.NewAuthRequest(spaID, cb)
		resp := testenv.Get(t, browser, ar.URL(f.acme))
		if resp.Request.URL.Path == "/login" {
			resp = f.acme.Submit(t, browser, testenv.ParseForm(t, resp.Body), url.Values{"email": {"jane@acme.test"}, "password": {testenv.Password}})
		}
		if q := ar.Callback(t, f.acme, resp); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "organization") {
			t.Errorf("no_prompt without organization: callback %v, want invalid_request about the organization", q)
		}

		// PATCH: fields change within the client's type; the type itself never changes.
		patched := obj(t, f.must(t, http.StatusOK, "PATCH", "/clients/"+spaID, map[string]any{"app_type": "native",
			"allowed_origins": []string{}, "organization_require_behavior": "post_login_prompt", "callbacks": []string{cb, "https://app.acme.test/cb2"}}))
		check(t, "patched", patched, map[string]any{"app_type": "native", "allowed_origins": []any{}, "organization_require_behavior": "post_login_prompt",
			"callbacks": []any{cb, "https://app.acme.test/cb2"}, "token_endpoint_auth_method": "none", "web_origins": []any{"https://app.acme.test"}})
		if _, has := patched["client_secret"]; has {
			t.Errorf("PATCH shows a secret: %v", patched)
		}
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
			words              []string
		}{
			{name: "unknown app_type", method: "POST", path: "/clients", body: map[string]any{"name": "x", "app_type": "tv"}, words: []string{"app_type"}},
			{name: "no type of any kind", method: "POST", path: "/clients", body: map[string]any{"name": "x"}, words: []string{"app_type"}},
			{name: "unknown method", method: "POST", path: "/clients", body: map[string]any{"name": "x", "token_endpoint_auth_method": "private_key_jwt"},
				words: []string{"token_endpoint_auth_method"}},
			{name: "method against type", method: "POST", path: "/clients", body: map[string]any{"name": "x", "type": "public", "token_endpoint_auth_method": "client_secret_post"},
				words: []string{"token_endpoint_auth_method"}},
			{name: "app_type against type", method: "POST", path: "/clients", body: map[string]any{"name": "x", "type": "confidential", "app_type": "spa"},
				words: []string{"app_type"}},
			{name: "public client credentials", method: "POST", path: "/clients", body: map[string]any{"name": "x", "token_endpoint_auth_method": "none",
				"grant_types": []string{"client_credentials"}}, words: []string{"grant_types"}},
			{name: "unknown organization_require_behavior", method: "POST", path: "/clients", body: map[string]any{"name": "x", "app_type": "non_interactive",
				"organization_require_behavior": "ask"}, words: []string{"organization_require_behavior"}},
			{name: "bad allowed origin", method: "POST", path: "/clients", body: map[string]any{"name": "x", "app_type": "non_interactive",
				"allowed_origins": []string{"https://a.test/path"}}, words: []string{"allowed_origins"}},
			{name: "third party", method: "POST", path: "/clients", body: map[string]any{"name": "x", "app_type": "non_interactive", "is_first_party": false},
				words: []string{"is_first_party"}},
			{name: "unknown field", method: "POST", path: "/clients", body: map[string]any{"name": "x", "app_type": "non_interactive", "jwt_configuration": map[string]any{}},
				words: []string{"jwt_configuration"}},
			{name: "public to confidential by app_type", method: "PATCH", path: "/clients/" + spaID, body: map[string]any{"app_type": "regular_web"}, words: []string{"app_type"}},
			{name: "public to confidential by method", method: "PATCH", path: "/clients/" + spaID, body: map[string]any{"token_endpoint_auth_method": "client_secret_basic"},
				words: []string{"token_endpoint_auth_method"}},
			{name: "unknown field on PATCH", method: "PATCH", path: "/clients/" + spaID, body: map[string]any{"name": "y", "logo_uri": "https://x"}, words: []string{"logo_uri"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), http.StatusBadRequest, "invalid_body", tc.words...)
			})
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/clients/"+spaID, nil)); got["name"] != "Acme SPA" || got["app_type"] != "native" {
			t.Errorf("refused PATCHes changed the client: %v", got)
		}
		listed := obj(t, f.must(t, http.StatusOK, "GET", "/clients?include_totals=true&per_page=2&page=1", nil))
		if listed["total"] != 6.0 || listed["start"] != 2.0 || listed["limit"] != 2.0 || listed["length"] != 2.0 || len(arr(t, listed["clients"])) != 2 {
			t.Errorf("second page of clients = %v", listed)
		}

		// Cross-tenant: globex neither reads, lists, changes nor deletes acme's client.
		wantError(t, f.globex.API(t, f.c, "GET", "/clients/"+spaID, f.globexKey, nil), http.StatusNotFound, "client_not_found")
		wantError(t, f.globex.API(t, f.c, "PATCH", "/clients/"+spaID, f.globexKey, map[string]any{"name": "mine"}), http.StatusNotFound, "client_not_found")
		wantError(t, f.globex.API(t, f.c, "DELETE", "/clients/"+spaID, f.globexKey, nil), http.StatusNotFound, "client_not_found")
		if l := arr(t, decode(t, f.globex.API(t, f.c, "GET", "/clients", f.globexKey, nil), http.StatusOK)); len(l) != 0 {
			t.Errorf("globex lists acme's clients: %v", l)
		}

		f.must(t, http.StatusNoContent, "DELETE", "/clients/"+spaID, nil)
		wantError(t, f.api(t, "GET", "/clients/"+spaID, nil), http.StatusNotFound, "client_not_found")
	})
}
