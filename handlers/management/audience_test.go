package management_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestManagementAudienceAuth0Form: Auth0's SDKs ask for a Management API token with audience
// https://{domain}/api/v2/ and no scope. Such a request is the Management API's audience on the tenant's own
// domains only; the token names the audience as asked, carries every Management API scope the client is granted,
// and opens /api/v2 on that tenant and nowhere else.
func TestManagementAudienceAuth0Form(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.env.S.AddDomain(ctx, f.acme.ID, "auth.acme.test"); err != nil {
			t.Fatal(err)
		}
		// read:invoices belongs to another API, openid to OpenID Connect: neither is a Management API scope.
		cl := managementClient(f.acme, "read:organizations", "create:organizations", "read:users", "read:invoices", "openid")
		if _, err := f.env.S.CreateResourceServer(f.acme.Ctx, directory.ResourceServerSpec{Identifier: "https://api.acme.test",
			Name: "Invoices", Scopes: []storage.Scope{{Value: "read:invoices"}, {Value: "write:invoices"}}}); err != nil {
			t.Fatal(err)
		}
		acmeURL := func(scheme, host string) string { return scheme + "://" + host + "/api/v2/" }
		globexURL := acmeURL("https", f.globex.Host)
		mgmtScopes := "read:organizations create:organizations read:users"

		cc := func(form url.Values) *testenv.Response {
			return f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret, form)
		}
		for _, tc := range []struct {
			name, audience, scope string
			wantScope             string
		}{
			{name: "https URL of the domain asked on, no scope", audience: acmeURL("https", f.acme.Host), wantScope: mgmtScopes},
			{name: "URL in the server's public scheme (http)", audience: acmeURL("http", f.acme.Host), wantScope: mgmtScopes},
			{name: "URL without the port", audience: acmeURL("https", "acme.localhost"), wantScope: mgmtScopes},
			{name: "URL of the tenant's other domain", audience: acmeURL("https", "auth.acme.test"), wantScope: mgmtScopes},
			{name: "host in another spelling", audience: acmeURL("https", "ACME.localhost."), wantScope: mgmtScopes},
			{name: "identifier, no scope", audience: directory.ManagementAudience, wantScope: mgmtScopes},
			{name: "URL with a scope subset", audience: acmeURL("https", f.acme.Host), scope: "read:organizations", wantScope: "read:organizations"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"audience": {tc.audience}}
				if tc.scope != "" {
					form.Set("scope", tc.scope)
				}
				tk := testenv.TokensOf(t, cc(form))
				if got := strings.Fields(tk.Scope); !slices.Equal(got, strings.Fields(tc.wantScope)) {
					t.Errorf("scope = %q, want %q", tk.Scope, tc.wantScope)
				}
				_, claims := testenv.DecodeJWT(t, tk.AccessToken)
				if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != tc.audience {
					t.Errorf("aud = %v, want [%s] (the audience as asked)", claims["aud"], tc.audience)
				}
				if tk.ExpiresIn > 3600 || tk.ExpiresIn < 3500 {
					t.Errorf("expires_in = %d, want the Management API's lifetime (3600)", tk.ExpiresIn)
				}
				if r := f.acme.API(t, f.c, "GET", "/organizations", tk.AccessToken, nil); r.StatusCode != http.StatusOK {
					t.Errorf("GET /organizations with the token: %d %s", r.StatusCode, r.Body)
				}
				if strings.Contains(tc.wantScope, "create:organizations") {
					decode(t, f.acme.API(t, f.c, "POST", "/organizations", tk.AccessToken, map[string]any{"name": "o-" + strings.ToLower(strings.Trim(strings.NewReplacer("_", "", "-", "").Replace(testenv.RandomString(9)), "-"))}), http.StatusCreated)
				} else {
					wantError(t, f.acme.API(t, f.c, "POST", "/organizations", tk.AccessToken, map[string]any{"name": "nope"}), http.StatusForbidden, "insufficient_scope")
				}
				wantError(t, f.acme.API(t, f.c, "DELETE", "/users/user_x", tk.AccessToken, nil), http.StatusForbidden, "insufficient_scope")
				// Cross-tenant: the token is acme's, whatever its audience says; globex refuses it.
				wantError(t, f.globex.API(t, f.c, "GET", "/organizations", tk.AccessToken, nil), http.StatusUnauthorized, "invalid_token")
			})
		}

		// Another API's audience without scope: the client's scopes that API defines, nothing else.
		if tk := testenv.TokensOf(t, cc(url.Values{"audience": {"https://api.acme.test"}})); tk.Scope != "read:invoices" {
			t.Errorf("scope for https://api.acme.test without scope = %q, want read:invoices", tk.Scope)
		}
		// No audience, no scope: nothing is granted (a token for the client itself).
		if tk := testenv.TokensOf(t, cc(url.Values{})); tk.Scope != "" {
			t.Errorf("scope without audience = %q, want none", tk.Scope)
		}

		for _, tc := range []struct {
			name, audience, scope string
			status                int
			code                  string
		}{
			{name: "another tenant's Management API URL", audience: globexURL, status: http.StatusForbidden, code: "access_denied"},
			{name: "another tenant's URL among others", audience: directory.ManagementAudience + " " + globexURL, status: http.StatusForbidden, code: "access_denied"},
			{name: "a URL on a host no tenant has", audience: "https://elsewhere.example/api/v2/", status: http.StatusBadRequest, code: "invalid_request"},
			{name: "the URL without the trailing slash", audience: "https://" + f.acme.Host + "/api/v2", status: http.StatusBadRequest, code: "invalid_request"},
			{name: "the URL with a query", audience: "https://" + f.acme.Host + "/api/v2/?x=1", status: http.StatusBadRequest, code: "invalid_request"},
			{name: "another path", audience: "https://" + f.acme.Host + "/api/v3/", status: http.StatusBadRequest, code: "invalid_request"},
			{name: "a scope the client is not granted", audience: acmeURL("https", f.acme.Host), scope: "read:organizations delete:users",
				status: http.StatusBadRequest, code: "invalid_scope"},
			{name: "an unknown scope", audience: acmeURL("https", f.acme.Host), scope: "fly:away", status: http.StatusBadRequest, code: "invalid_scope"},
			{name: "a scope the client holds but the API does not define", audience: acmeURL("https", f.acme.Host),
				scope: "read:users read:invoices", status: http.StatusBadRequest, code: "invalid_scope"},
			{name: "another API's scope on the invoices API", audience: "https://api.acme.test", scope: "read:users",
				status: http.StatusBadRequest, code: "invalid_scope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"audience": {tc.audience}}
				if tc.scope != "" {
					form.Set("scope", tc.scope)
				}
				r := cc(form)
				if r.StatusCode != tc.status || testenv.OAuthError(t, r) != tc.code {
					t.Fatalf("status %d error %q, want %d %s\n%s", r.StatusCode, testenv.OAuthError(t, r), tc.status, tc.code, r.Body)
				}
			})
		}

		// A client that lists another tenant's Management API URL among its audiences still gets no token for it.
		sly := f.acme.NewClient(directory.ClientSpec{Name: "sly", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			Audiences: []string{globexURL}, Scopes: []string{"read:organizations"}})
		r := f.acme.ClientCredentials(t, f.c, sly.ClientID, sly.ClientSecret, url.Values{"audience": {globexURL}})
		if r.StatusCode != http.StatusForbidden || testenv.OAuthError(t, r) != "access_denied" {
			t.Fatalf("token for another tenant's URL listed by the client: %d %s", r.StatusCode, r.Body)
		}
		// A token of globex for globex's own URL works on globex only.
		gcl := managementClient(f.globex, "read:organizations")
		gtk := testenv.TokensOf(t, f.globex.ClientCredentials(t, f.c, gcl.ClientID, gcl.ClientSecret, url.Values{"audience": {globexURL}}))
		decode(t, f.globex.API(t, f.c, "GET", "/organizations", gtk.AccessToken, nil), http.StatusOK)
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", gtk.AccessToken, nil), http.StatusUnauthorized, "invalid_token")
	})
}

// TestManagementAudienceUserToken: a user's token from the authorization code flow for audience
// https://{domain}/api/v2/ is a Management API token like one for urn:authio:management: it names the audience as
// asked, carries the permissions of the user's roles on the Management API, and opens what they allow.
func TestManagementAudienceUserToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		o := newOrgTokenSetup(t, f)
		aud := "https://" + f.acme.Host + "/api/v2/"
		token := f.signIn(t, o.portal, "admin@acme.test", url.Values{"organization": {"acme-corp"}, "audience": {aud}})
		_, claims := testenv.DecodeJWT(t, token)
		if a, _ := claims["aud"].([]any); len(a) != 1 || a[0] != aud {
			t.Errorf("aud = %v, want [%s]", claims["aud"], aud)
		}
		if p, _ := claims["permissions"].([]any); !slices.Contains(p, any("read:organizations")) {
			t.Errorf("permissions = %v, want the role's Management API permissions", claims["permissions"])
		}
		decode(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp", token, nil), http.StatusOK)
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations/globex-corp", token, nil), http.StatusForbidden, "organization_forbidden")
		wantError(t, f.globex.API(t, f.c, "GET", "/organizations", token, nil), http.StatusUnauthorized, "invalid_token")
		// Another tenant's URL is refused at /authorize before anyone signs in.
		browser := f.env.Client(testenv.ClientOptions{StopAt: []string{portalRedirect}})
		ar := testenv.NewAuthRequest(o.portal.ClientID, portalRedirect)
		ar.Extra = url.Values{"audience": {"https://" + f.globex.Host + "/api/v2/"}}
		if q := ar.Callback(t, f.acme, testenv.Get(t, browser, ar.URL(f.acme))); q.Get("error") != "access_denied" || q.Get("code") != "" {
			t.Errorf("authorize for another tenant's Management API: %v, want access_denied", q)
		}
	})
}
