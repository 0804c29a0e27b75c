package management_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

func TestAPIKeyAuthentication(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		test, err := f.env.S.CreateAPIKey(f.acme.Ctx, "ci", true)
		if err != nil {
			t.Fatal(err)
		}
		testKey := test.Key
		if !strings.HasPrefix(testKey, "sk_test_") || test.Mode != "test" || !strings.HasPrefix(test.ID, "apk_") {
			t.Fatalf("test key = %+v", test)
		}

		for _, tc := range []struct {
			name   string
			tenant *testenv.Tenant
			header string // Authorization
			status int
			code   string
		}{
			{name: "live key on its tenant", tenant: f.acme, header: "Bearer " + f.acmeKey, status: http.StatusOK},
			{name: "test key on its tenant", tenant: f.acme, header: "Bearer " + testKey, status: http.StatusOK},
			{name: "scheme is case-insensitive", tenant: f.acme, header: "bearer " + f.acmeKey, status: http.StatusOK},
			{name: "key on another tenant's host", tenant: f.globex, header: "Bearer " + f.acmeKey, status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "garbage key", tenant: f.acme, header: "Bearer sk_live_" + testenv.RandomString(32), status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "key with a character changed", tenant: f.acme, header: "Bearer " + f.acmeKey[:len(f.acmeKey)-1] + flip(f.acmeKey[len(f.acmeKey)-1]),
				status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "live prefix on a test key", tenant: f.acme, header: "Bearer sk_live_" + strings.TrimPrefix(testKey, "sk_test_"),
				status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "garbage token", tenant: f.acme, header: "Bearer not-a-token", status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "no header", tenant: f.acme, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "basic credentials", tenant: f.acme, header: "Basic " + f.acmeKey, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "empty bearer", tenant: f.acme, header: "Bearer ", status: http.StatusUnauthorized, code: "missing_token"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				opts := []testenv.RequestOption{}
				if tc.header != "" {
					opts = append(opts, testenv.Header("Authorization", tc.header))
				}
				r := testenv.Get(t, f.c, tc.tenant.URL("/api/v2/organizations"), opts...)
				if tc.status == http.StatusOK {
					if r.StatusCode != http.StatusOK {
						t.Fatalf("status %d\n%s", r.StatusCode, r.Body)
					}
					return
				}
				wantError(t, r, tc.status, tc.code)
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
				if strings.Contains(r.Body, "sk_") {
					t.Errorf("error body echoes the key: %s", r.Body)
				}
			})
		}

		// A host no tenant answers on learns nothing, not even that the API exists.
		for _, path := range []string{"/api/v2/organizations", "/api/v2/nothing-here"} {
			r := testenv.Get(t, f.c, "http://nope.localhost:"+f.env.Port+path, testenv.Bearer(f.acmeKey))
			if r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "statusCode") {
				t.Errorf("unknown host %s: %d %s", path, r.StatusCode, r.Body)
			}
		}

		// Each use is on the record, under the key's id, never the key.
		events, _, err := f.env.S.AuditLog(f.acme.Ctx, directory.LogQuery{Type: audit.EventAPIKeyUsed, Take: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 3 {
			t.Errorf("%d api_key.used events in acme, want 3 (the three accepted calls)", len(events))
		}
		for _, e := range events {
			if !strings.HasPrefix(e.Actor, "api_key:apk_") || strings.Contains(e.Actor, "sk_") {
				t.Errorf("api_key.used actor = %q", e.Actor)
			}
		}
		keys, err := f.env.S.Store.ListAPIKeys(f.acme.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(k.KeyHash, strings.TrimPrefix(f.acmeKey, "sk_live_")) || k.KeyHash == f.acmeKey || len(k.Hint) != 4 {
				t.Errorf("stored key %s: hash %q hint %q", k.ID, k.KeyHash, k.Hint)
			}
			if k.LastUsedAt == nil {
				t.Errorf("key %s: last_used_at not set after use", k.ID)
			}
		}
		if ev, _, _ := f.env.S.AuditLog(f.globex.Ctx, directory.LogQuery{Type: audit.EventAPIKeyUsed}); len(ev) != 0 {
			t.Errorf("globex has %d api_key.used events after only failed attempts", len(ev))
		}
	})
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// managementClient registers a confidential client allowed the Management API audience with scopes.
func managementClient(tn *testenv.Tenant, scopes ...string) directory.CreatedClient {
	return tn.NewClient(directory.ClientSpec{Name: "manager", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{directory.ManagementAudience, "https://api.acme.test"}, Scopes: scopes})
}

func TestClientCredentialsTokenScopes(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		cl := managementClient(f.acme, "read:organizations", "create:organizations")
		token := func(t *testing.T, audience string, scopes ...string) string {
			t.Helper()
			return testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret,
				url.Values{"audience": {audience}, "scope": {strings.Join(scopes, " ")}})).AccessToken
		}
		f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "existing"})
		reader := token(t, directory.ManagementAudience, "read:organizations")

		r := f.acme.API(t, f.c, "GET", "/organizations", reader, nil)
		if got := ids(t, decode(t, r, http.StatusOK), "name"); !slices.Equal(got, []string{"existing"}) {
			t.Errorf("organizations = %v", got)
		}
		r = f.acme.API(t, f.c, "POST", "/organizations", reader, map[string]any{"name": "new-org"})
		wantError(t, r, http.StatusForbidden, "insufficient_scope", "create:organizations")
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="create:organizations"`) {
			t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
		}
		wantError(t, f.acme.API(t, f.c, "GET", "/roles", reader, nil), http.StatusForbidden, "insufficient_scope", "read:roles")
		if _, err := f.env.S.OrganizationByName(f.acme.Ctx, "new-org"); err == nil {
			t.Error("the refused POST created the organization")
		}

		writer := token(t, directory.ManagementAudience, "read:organizations", "create:organizations")
		created := obj(t, decode(t, f.acme.API(t, f.c, "POST", "/organizations", writer, map[string]any{"name": "new-org"}), http.StatusCreated))
		if created["name"] != "new-org" {
			t.Errorf("created = %v", created)
		}
		logs, _, _ := f.env.S.AuditLog(f.acme.Ctx, directory.LogQuery{Type: directory.EventOrganizationCreated, Take: 1})
		if len(logs) != 1 || logs[0].Actor != "client:"+cl.ClientID {
			t.Errorf("organization.created actor = %v, want client:%s", logs, cl.ClientID)
		}

		// A token for another audience is no Management API token, and a token is its tenant's only.
		other := token(t, "https://api.acme.test", "read:organizations")
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", other, nil), http.StatusUnauthorized, "invalid_token", directory.ManagementAudience)
		// Nor is a token for the Management API and another API at once.
		both := testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret,
			url.Values{"audience": {directory.ManagementAudience, "https://api.acme.test"}, "scope": {"read:organizations"}})).AccessToken
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", both, nil), http.StatusUnauthorized, "invalid_token", "alone")
		wantError(t, f.globex.API(t, f.c, "GET", "/organizations", reader, nil), http.StatusUnauthorized, "invalid_token")

		// A revoked token stops working.
		if r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/revoke"), url.Values{"token": {reader}},
			testenv.BasicAuth(cl.ClientID, cl.ClientSecret)); r.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
		}
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", reader, nil), http.StatusUnauthorized, "invalid_token")
	})
}
