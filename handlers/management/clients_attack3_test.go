package management_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
)

// TestClientScopesEscalationAttack3: a client's Management API scopes are what its client-credentials token may
// carry — and, since a request without scope now gets every one of them, what the token does carry. A caller that
// may create or update clients but holds few Management API scopes itself must not be able to mint a client (or
// turn itself or another client into one) whose token holds scopes the caller lacks: that would make create:clients
// or update:clients worth every scope of the API (Auth0 keeps client grants behind scopes of their own).
func TestClientScopesEscalationAttack3(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		victim := newUsers(f.acme, "victim@acme.test")[0]
		mgmtURL := "https://" + f.acme.Host + "/api/v2/"

		// canDelete reports whether a client-credentials token of (id, secret) for the Management API, asked as
		// Auth0's SDKs ask (no scope), may delete users.
		canDelete := func(t *testing.T, id, secret string) bool {
			t.Helper()
			r := f.acme.ClientCredentials(t, f.c, id, secret, url.Values{"audience": {mgmtURL}})
			if r.StatusCode != http.StatusOK {
				return false
			}
			tk := testenv.TokensOf(t, r)
			return f.acme.API(t, f.c, "DELETE", "/users/user_nobody", tk.AccessToken, nil).StatusCode != http.StatusForbidden
		}

		t.Run("create:clients alone mints a client with delete:users", func(t *testing.T) {
			creator := managementClient(f.acme, "create:clients")
			tok := f.managementToken(t, f.acme, creator, "create:clients")
			r := f.acme.API(t, f.c, "POST", "/clients", tok, map[string]any{"name": "minted", "app_type": "non_interactive",
				"audiences": []string{directory.ManagementAudience, mgmtURL}, "scopes": []string{"delete:users", "read:users", "update:users"}})
			if r.StatusCode >= 500 {
				t.Fatalf("POST /clients: %d %s", r.StatusCode, r.Body)
			}
			if r.StatusCode != http.StatusCreated {
				return // refused: the caller could not grant what it does not hold
			}
			c := obj(t, decode(t, r, http.StatusCreated))
			id, _ := c["client_id"].(string)
			secret, _ := c["client_secret"].(string)
			if canDelete(t, id, secret) {
				t.Errorf("a token holding only create:clients created client %s whose token may DELETE /users (scopes %v)", id, c["scopes"])
			}
		})

		t.Run("update:clients grants itself delete:users", func(t *testing.T) {
			self := managementClient(f.acme, "update:clients")
			tok := f.managementToken(t, f.acme, self, "update:clients")
			r := f.acme.API(t, f.c, "PATCH", "/clients/"+self.ClientID, tok, map[string]any{
				"scopes": []string{"update:clients", "delete:users"}})
			if r.StatusCode >= 500 {
				t.Fatalf("PATCH /clients/self: %d %s", r.StatusCode, r.Body)
			}
			if canDelete(t, self.ClientID, self.ClientSecret) {
				t.Errorf("a client holding only update:clients gave itself delete:users (PATCH answered %d)", r.StatusCode)
			}
		})

		t.Run("update:clients takes over a more powerful client by rotating its secret", func(t *testing.T) {
			admin := managementClient(f.acme, "delete:users", "read:users")
			self := managementClient(f.acme, "update:clients")
			tok := f.managementToken(t, f.acme, self, "update:clients")
			r := f.acme.API(t, f.c, "POST", "/clients/"+admin.ClientID+"/rotate-secret", tok, nil)
			if r.StatusCode >= 500 {
				t.Fatalf("rotate-secret: %d %s", r.StatusCode, r.Body)
			}
			if r.StatusCode != http.StatusOK {
				return
			}
			secret, _ := obj(t, decode(t, r, http.StatusOK))["client_secret"].(string)
			if canDelete(t, admin.ClientID, secret) {
				t.Errorf("a client holding only update:clients obtained the secret of a client that may delete users")
			}
		})

		// The user is still there: nothing above deleted anyone.
		f.must(t, http.StatusOK, "GET", "/users/"+victim, nil)

		t.Run("a confidential machine client cannot be made public", func(t *testing.T) {
			m := managementClient(f.acme, "read:users")
			for _, body := range []map[string]any{{"token_endpoint_auth_method": "none"}, {"app_type": "spa"}, {"app_type": "native"},
				{"type": "public"}, {"app_type": "spa", "token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code"},
					"callbacks": []string{"https://x.acme.test"}}} {
				r := f.api(t, "PATCH", "/clients/"+m.ClientID, body)
				if r.StatusCode != http.StatusBadRequest {
					t.Errorf("PATCH %v: %d, want 400\n%s", body, r.StatusCode, r.Body)
				}
			}
			r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"},
				"client_id": {m.ClientID}, "audience": {directory.ManagementAudience}})
			if r.StatusCode == http.StatusOK {
				t.Errorf("client credentials without a secret: %s", r.Body)
			}
		})

		t.Run("cross-tenant: globex's token creates nothing at acme", func(t *testing.T) {
			g := managementClient(f.globex, "create:clients")
			gtok := f.managementToken(t, f.globex, g, "create:clients")
			r := f.acme.API(t, f.c, "POST", "/clients", gtok, map[string]any{"name": "x", "app_type": "spa", "callbacks": []string{"https://x.test"}})
			wantError(t, r, http.StatusUnauthorized, "invalid_token")
			if strings.Contains(r.Body, "client_id") {
				t.Errorf("a client was created: %s", r.Body)
			}
		})
	})
}
