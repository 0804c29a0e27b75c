package management_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// noSecrets fails when a body carries anything secret-looking (the password connection's name aside).
func noSecrets(t *testing.T, body string) {
	t.Helper()
	body = strings.ReplaceAll(body, storage.DefaultPasswordConnection, "")
	for _, w := range []string{"password", "hash", "$2a$", "hs256$"} {
		if strings.Contains(strings.ToLower(body), w) {
			t.Errorf("body mentions %q: %s", w, body)
		}
	}
}

func TestUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		r := f.api(t, "POST", "/users", map[string]any{"email": "Alice@Acme.test", "password": "correct horse", "name": "Alice", "email_verified": true})
		alice := obj(t, decode(t, r, http.StatusCreated))
		noSecrets(t, r.Body)
		id := alice["user_id"].(string)
		if !strings.HasPrefix(id, "user_") || alice["email"] != "alice@acme.test" || alice["name"] != "Alice" || alice["email_verified"] != true {
			t.Errorf("created user = %v", alice)
		}
		bob := f.acme.NewUser("bob@acme.test").ID

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
			word   string
		}{
			{name: "duplicate email", method: "POST", path: "/users", body: map[string]any{"email": "ALICE@acme.test", "password": "correct horse"}, status: http.StatusConflict, code: "conflict", word: "email"},
			{name: "bad email", method: "POST", path: "/users", body: map[string]any{"email": "nope", "password": "correct horse"}, status: http.StatusBadRequest, code: "invalid_body", word: "email"},
			{name: "short password", method: "POST", path: "/users", body: map[string]any{"email": "c@acme.test", "password": "short"}, status: http.StatusBadRequest, code: "invalid_body", word: "password"},
			{name: "no password", method: "POST", path: "/users", body: map[string]any{"email": "c@acme.test"}, status: http.StatusBadRequest, code: "invalid_body", word: "password"},
			{name: "email taken on update", method: "PATCH", path: "/users/" + bob, body: map[string]any{"email": "alice@acme.test"}, status: http.StatusConflict, code: "conflict", word: "email"},
			{name: "short password on update", method: "PATCH", path: "/users/" + bob, body: map[string]any{"password": "x", "name": "Bobby"}, status: http.StatusBadRequest, code: "invalid_body", word: "password"},
			{name: "unknown user", method: "GET", path: "/users/user_nope", status: http.StatusNotFound, code: "user_not_found"},
			{name: "update unknown user", method: "PATCH", path: "/users/user_nope", body: map[string]any{"name": "x"}, status: http.StatusNotFound, code: "user_not_found"},
			{name: "delete unknown user", method: "DELETE", path: "/users/user_nope", status: http.StatusNotFound, code: "user_not_found"},
			{name: "organizations of unknown user", method: "GET", path: "/users/user_nope/organizations", status: http.StatusNotFound, code: "user_not_found"},
			{name: "by email without email", method: "GET", path: "/users-by-email", status: http.StatusBadRequest, code: "invalid_query_string", word: "email"},
			{name: "by malformed email", method: "GET", path: "/users-by-email?email=nope", status: http.StatusBadRequest, code: "invalid_query_string", word: "email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.word)
			})
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/users/"+bob, nil)); got["name"] != "" || got["email"] != "bob@acme.test" {
			t.Errorf("refused updates changed bob: %v", got)
		}

		r = f.api(t, "GET", "/users/"+id, nil)
		noSecrets(t, r.Body)
		if got := obj(t, decode(t, r, http.StatusOK)); got["user_id"] != id {
			t.Errorf("GET user = %v", got)
		}
		for _, path := range []string{"/users-by-email?email=ALICE%40acme.test", "/users?email=alice%40acme.test"} {
			if got := ids(t, f.must(t, http.StatusOK, "GET", path, nil), "user_id"); !slices.Equal(got, []string{id}) {
				t.Errorf("GET %s = %v", path, got)
			}
		}
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/users?email=nobody%40acme.test", nil)); len(got) != 0 {
			t.Errorf("lookup of an unknown email = %v", got)
		}
		withTotals := obj(t, f.must(t, http.StatusOK, "GET", "/users?email=alice%40acme.test&include_totals=true", nil))
		if withTotals["total"] != 1.0 || len(arr(t, withTotals["users"])) != 1 {
			t.Errorf("email lookup with totals = %v", withTotals)
		}

		page := obj(t, f.must(t, http.StatusOK, "GET", "/users?per_page=1&include_totals=true", nil))
		if page["total"] != 2.0 || len(arr(t, page["users"])) != 1 || page["limit"] != 1.0 {
			t.Errorf("users page = %v", page)
		}
		second := obj(t, f.must(t, http.StatusOK, "GET", "/users?per_page=1&page=1&include_totals=true", nil))
		if len(arr(t, second["users"])) != 1 || second["start"] != 1.0 {
			t.Errorf("second users page = %v", second)
		}
		if firstID, secondID := arr(t, page["users"])[0].(map[string]any)["user_id"], arr(t, second["users"])[0].(map[string]any)["user_id"]; firstID == secondID {
			t.Errorf("both pages list %v", firstID)
		}

		updated := obj(t, f.must(t, http.StatusOK, "PATCH", "/users/"+bob, map[string]any{"name": "Bob", "email": "Robert@acme.test", "password": "a new password"}))
		if updated["name"] != "Bob" || updated["email"] != "robert@acme.test" || updated["email_verified"] != false {
			t.Errorf("updated = %v", updated)
		}
		signIn := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		if r := f.acme.SignIn(t, signIn, "robert@acme.test", "a new password", ""); r.StatusCode != http.StatusOK || testenv.Cookie(signIn, f.acme.Issuer, "authio_session") == "" {
			t.Errorf("sign-in with the new email and password: status %d", r.StatusCode)
		}

		// Tenant-level roles: tenant-wide only.
		support := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "support"}))
		f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp"})
		custom := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "owner", "organization_id": "acme-corp"}))
		wantError(t, f.api(t, "POST", "/users/"+id+"/roles", map[string]any{"roles": []any{support["id"], custom["id"]}}), http.StatusBadRequest, "invalid_body", "roles")
		wantError(t, f.api(t, "POST", "/users/user_nope/roles", map[string]any{"roles": []any{support["id"]}}), http.StatusNotFound, "user_not_found")
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/users/"+id+"/roles", nil)); len(got) != 0 {
			t.Errorf("refused assignment left roles %v", got)
		}
		f.must(t, http.StatusNoContent, "POST", "/users/"+id+"/roles", map[string]any{"roles": []any{support["id"]}})
		roles := arr(t, f.must(t, http.StatusOK, "GET", "/users/"+id+"/roles", nil))
		if len(roles) != 1 || obj(t, roles[0])["name"] != "support" || obj(t, roles[0])["source"] != "manual" {
			t.Errorf("user roles = %v", roles)
		}
		f.must(t, http.StatusNoContent, "DELETE", "/users/"+id+"/roles", map[string]any{"roles": []any{support["id"]}})
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/users/"+id+"/roles", nil)); len(got) != 0 {
			t.Errorf("roles after removal = %v", got)
		}

		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": []string{id}})
		f.must(t, http.StatusNoContent, "DELETE", "/users/"+id, nil)
		wantError(t, f.api(t, "GET", "/users/"+id, nil), http.StatusNotFound, "user_not_found")
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members", nil)); len(got) != 0 {
			t.Errorf("a deleted user is still a member: %v", got)
		}
	})
}

func TestClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		r := f.api(t, "POST", "/clients", map[string]any{"name": "worker", "type": "confidential", "grant_types": []string{"client_credentials"},
			"audiences": []string{"https://api.acme.test"}, "scopes": []string{"read:things"}, "organization_usage": "allow"})
		worker := obj(t, decode(t, r, http.StatusCreated))
		id := worker["client_id"].(string)
		secret, _ := worker["client_secret"].(string)
		if !strings.HasPrefix(id, "cli_") || len(secret) < 40 || worker["organization_usage"] != "allow" || worker["type"] != "confidential" {
			t.Errorf("created client = %v", worker)
		}
		spa := obj(t, f.must(t, http.StatusCreated, "POST", "/clients", map[string]any{"name": "spa", "type": "public",
			"callbacks": []string{"https://app.acme.test/cb"}, "web_origins": []string{"https://app.acme.test/"}, "grant_types": []string{"authorization_code", "token_exchange"}}))
		if _, has := spa["client_secret"]; has {
			t.Errorf("public client has a secret: %v", spa)
		}
		if got := spa["grant_types"].([]any); len(got) != 2 || got[1] != oauth.GrantTokenExchange {
			t.Errorf("grant types = %v, want token_exchange stored as the RFC 8693 URN", got)
		}
		if got := spa["web_origins"].([]any); got[0] != "https://app.acme.test" {
			t.Errorf("web origins = %v", got)
		}

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
			word   string
		}{
			{name: "bad callback", method: "PATCH", path: "/clients/" + spa["client_id"].(string), body: map[string]any{"callbacks": []string{"/relative"}}, status: http.StatusBadRequest, code: "invalid_body", word: "callbacks"},
			{name: "bad logout URL", method: "PATCH", path: "/clients/" + spa["client_id"].(string), body: map[string]any{"allowed_logout_urls": []string{"https://x.test/#frag"}}, status: http.StatusBadRequest, code: "invalid_body", word: "allowed_logout_urls"},
			{name: "code grant without callbacks", method: "PATCH", path: "/clients/" + spa["client_id"].(string), body: map[string]any{"callbacks": []string{}}, status: http.StatusBadRequest, code: "invalid_body", word: "callbacks"},
			{name: "client credentials on a public client", method: "PATCH", path: "/clients/" + spa["client_id"].(string), body: map[string]any{"grant_types": []string{"client_credentials"}}, status: http.StatusBadRequest, code: "invalid_body", word: "grant_types"},
			{name: "bad organization usage", method: "PATCH", path: "/clients/" + id, body: map[string]any{"organization_usage": "sometimes"}, status: http.StatusBadRequest, code: "invalid_body", word: "organization_usage"},
			{name: "change the type", method: "PATCH", path: "/clients/" + id, body: map[string]any{"type": "public"}, status: http.StatusBadRequest, code: "invalid_body", word: "type"},
			{name: "empty name", method: "PATCH", path: "/clients/" + id, body: map[string]any{"name": " "}, status: http.StatusBadRequest, code: "invalid_body", word: "name"},
			{name: "bad web origin on create", method: "POST", path: "/clients", body: map[string]any{"name": "x", "type": "public", "callbacks": []string{"https://a.test/cb"}, "web_origins": []string{"https://a.test/path"}},
				status: http.StatusBadRequest, code: "invalid_body", word: "web_origins"},
			{name: "no type", method: "POST", path: "/clients", body: map[string]any{"name": "x"}, status: http.StatusBadRequest, code: "invalid_body", word: "type"},
			{name: "unknown client", method: "GET", path: "/clients/cli_nope", status: http.StatusNotFound, code: "client_not_found"},
			{name: "rotate a public client", method: "POST", path: "/clients/" + spa["client_id"].(string) + "/rotate-secret", status: http.StatusBadRequest, code: "invalid_body", word: "type"},
			{name: "rotate an unknown client", method: "POST", path: "/clients/cli_nope/rotate-secret", status: http.StatusNotFound, code: "client_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.word)
			})
		}

		r = f.api(t, "GET", "/clients", nil)
		noSecrets(t, r.Body)
		if strings.Contains(r.Body, `"client_secret"`) {
			t.Errorf("client list carries secrets: %s", r.Body)
		}
		if got := ids(t, decode(t, r, http.StatusOK), "client_id"); !slices.Equal(got, []string{id, spa["client_id"].(string)}) {
			t.Errorf("clients = %v", got)
		}
		got := obj(t, f.must(t, http.StatusOK, "GET", "/clients/"+spa["client_id"].(string), nil))
		if got["name"] != "spa" || len(got["callbacks"].([]any)) != 1 {
			t.Errorf("refused updates changed the client: %v", got)
		}

		updated := obj(t, f.must(t, http.StatusOK, "PATCH", "/clients/"+id, map[string]any{"name": "worker-2", "scopes": []string{"read:things", "write:things"}}))
		if updated["name"] != "worker-2" || len(updated["scopes"].([]any)) != 2 || updated["organization_usage"] != "allow" {
			t.Errorf("updated = %v", updated)
		}

		// The secret works until it is rotated, then only the new one does.
		cc := url.Values{"audience": {"https://api.acme.test"}}
		testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, id, secret, cc))
		rotated := obj(t, f.must(t, http.StatusOK, "POST", "/clients/"+id+"/rotate-secret", nil))
		newSecret, _ := rotated["client_secret"].(string)
		if newSecret == "" || newSecret == secret || rotated["client_id"] != id {
			t.Fatalf("rotate = %v", rotated)
		}
		if r := f.acme.ClientCredentials(t, f.c, id, secret, cc); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("old secret after rotation: status %d", r.StatusCode)
		}
		testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, id, newSecret, cc))
		logs, _, _ := f.env.S.AuditLog(f.acme.Ctx, directory.LogQuery{Type: directory.EventClientSecretRotated})
		if len(logs) != 1 || logs[0].ClientID != id || strings.Contains(fmt.Sprint(logs[0].Data), newSecret) {
			t.Errorf("rotation audit = %+v", logs)
		}

		// Tenant-level roles of a machine client.
		role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "sync"}))
		f.must(t, http.StatusNoContent, "POST", "/clients/"+id+"/roles", map[string]any{"roles": []any{role["id"]}})
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/clients/"+id+"/roles", nil), "name"); !slices.Equal(got, []string{"sync"}) {
			t.Errorf("client roles = %v", got)
		}

		f.must(t, http.StatusNoContent, "DELETE", "/clients/"+id, nil)
		wantError(t, f.api(t, "GET", "/clients/"+id, nil), http.StatusNotFound, "client_not_found")
		if r := f.acme.ClientCredentials(t, f.c, id, newSecret, cc); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("deleted client still gets tokens: status %d", r.StatusCode)
		}
	})
}

// Standard profile claims through the Management API: set at creation, changed and removed by PATCH, returned
// under their OIDC names; a bad value is a 400 naming the field and changes nothing.
func TestUserProfileClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		r := f.api(t, "POST", "/users", map[string]any{"email": "alice@acme.test", "password": "correct horse", "name": "Alice Liddell",
			"given_name": "Alice", "family_name": "Liddell", "nickname": "Al", "picture": "https://img.acme.test/a.png",
			"locale": "en-GB", "birthdate": "1852-05-04"})
		alice := obj(t, decode(t, r, http.StatusCreated))
		id := alice["user_id"].(string)
		for k, v := range map[string]any{"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell", "nickname": "Al",
			"picture": "https://img.acme.test/a.png", "locale": "en-GB", "birthdate": "1852-05-04"} {
			if alice[k] != v {
				t.Errorf("created user %s = %v, want %v", k, alice[k], v)
			}
		}
		if _, ok := alice["middle_name"]; ok {
			t.Errorf("unset middle_name in the view: %v", alice)
		}
		got := obj(t, f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"nickname": "", "website": "https://alice.test", "zoneinfo": "Europe/London"}))
		if _, ok := got["nickname"]; ok || got["website"] != "https://alice.test" || got["zoneinfo"] != "Europe/London" || got["given_name"] != "Alice" {
			t.Errorf("patched user = %v", got)
		}

		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
			word               string
		}{
			{name: "picture not http(s)", method: "PATCH", path: "/users/" + id, body: map[string]any{"picture": "javascript:alert(1)"}, word: "picture"},
			{name: "website relative", method: "PATCH", path: "/users/" + id, body: map[string]any{"website": "/me", "given_name": "Eve"}, word: "website"},
			{name: "locale shape", method: "PATCH", path: "/users/" + id, body: map[string]any{"locale": "english"}, word: "locale"},
			{name: "zoneinfo shape", method: "PATCH", path: "/users/" + id, body: map[string]any{"zoneinfo": "Europe/../x"}, word: "zoneinfo"},
			{name: "birthdate", method: "PATCH", path: "/users/" + id, body: map[string]any{"birthdate": "yesterday"}, word: "birthdate"},
			{name: "not a string", method: "PATCH", path: "/users/" + id, body: map[string]any{"given_name": 7}, word: "given_name"},
			{name: "too long", method: "POST", path: "/users", body: map[string]any{"email": "b@acme.test", "password": "correct horse",
				"family_name": strings.Repeat("x", 256)}, word: "family_name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), http.StatusBadRequest, "invalid_body", tc.word)
			})
		}
		after := obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil))
		if after["given_name"] != "Alice" || after["picture"] != "https://img.acme.test/a.png" || after["locale"] != "en-GB" {
			t.Errorf("refused updates changed the user: %v", after)
		}
		if r := f.api(t, "GET", "/users-by-email?email=b@acme.test", nil); r.Body != "[]" {
			t.Errorf("a refused creation created the user: %s", r.Body)
		}
	})
}
