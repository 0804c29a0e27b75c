package management_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

func TestConnections(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		list := arr(t, f.must(t, http.StatusOK, "GET", "/connections", nil))
		if len(list) != 1 {
			t.Fatalf("a new tenant's connections = %v, want the password connection alone", list)
		}
		db := obj(t, list[0])
		id, _ := db["id"].(string)
		if len(id) < 5 || id[:4] != "con_" || db["name"] != storage.DefaultPasswordConnection || db["strategy"] != "auth0" ||
			db["enabled"] != true {
			t.Fatalf("password connection = %v", db)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/connections/"+id, nil)); got["id"] != id {
			t.Errorf("GET /connections/{id} = %v", got)
		}
		for _, tc := range []struct {
			name, query string
			want        int
		}{
			{name: "by name", query: "?name=" + url.QueryEscape(storage.DefaultPasswordConnection), want: 1},
			{name: "by Auth0 strategy", query: "?strategy=auth0", want: 1},
			{name: "by another strategy", query: "?strategy=oidc", want: 0},
			{name: "by unknown name", query: "?name=nope", want: 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := arr(t, f.must(t, http.StatusOK, "GET", "/connections"+tc.query, nil)); len(got) != tc.want {
					t.Errorf("GET /connections%s = %v, want %d", tc.query, got, tc.want)
				}
			})
		}

		// Create: only strategies with a registered kind; names unique; the kind validates options.
		made := obj(t, f.must(t, http.StatusCreated, "POST", "/connections", map[string]any{"name": "staff-db", "strategy": "auth0"}))
		if made["strategy"] != "auth0" || made["enabled"] != true || made["name"] != "staff-db" {
			t.Errorf("created = %v", made)
		}
		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
			words  []string
		}{
			{name: "strategy without a kind", body: map[string]any{"name": "corp", "strategy": "samlp"}, status: 400, code: "invalid_body", words: []string{"strategy", "samlp"}},
			{name: "no strategy", body: map[string]any{"name": "corp"}, status: 400, code: "invalid_body", words: []string{"strategy"}},
			{name: "no name", body: map[string]any{"strategy": "auth0"}, status: 400, code: "invalid_body", words: []string{"name"}},
			{name: "bad name", body: map[string]any{"name": "has space", "strategy": "auth0"}, status: 400, code: "invalid_body", words: []string{"name"}},
			{name: "taken name", body: map[string]any{"name": "staff-db", "strategy": "auth0"}, status: 409, code: "conflict", words: []string{"name"}},
			{name: "options the kind does not take", body: map[string]any{"name": "x-db", "strategy": "auth0", "options": map[string]any{"mfa": true}},
				status: 400, code: "invalid_body", words: []string{"options", "mfa"}},
			{name: "unknown field", body: map[string]any{"name": "y-db", "strategy": "auth0", "realm": "x"}, status: 400, code: "invalid_body", words: []string{"realm"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, "POST", "/connections", tc.body), tc.status, tc.code, tc.words...)
			})
		}
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/connections", nil)); len(got) != 2 {
			t.Errorf("after one accepted and several refused creations: %v", got)
		}
		// Auth0's "connection" on POST /users names the password connection the password is a credential of.
		staffID := made["id"].(string)
		for _, tc := range []struct{ email, connection string }{
			{"dflt@acme.test", storage.DefaultPasswordConnection},
			{"staff@acme.test", "staff-db"},
		} {
			u := obj(t, f.must(t, http.StatusCreated, "POST", "/users", map[string]any{"email": tc.email, "password": "correct horse battery",
				"connection": tc.connection}))
			uid := u["user_id"].(string)
			_, errDefault := f.env.S.Store.PasswordCredential(f.acme.Ctx, uid, id)
			_, errStaff := f.env.S.Store.PasswordCredential(f.acme.Ctx, uid, staffID)
			if onDefault := tc.connection == storage.DefaultPasswordConnection; (errDefault == nil) != onDefault || (errStaff == nil) == onDefault {
				t.Errorf("user created on %s: credential on the default connection %v, on staff-db %v", tc.connection, errDefault, errStaff)
			}
		}
		wantError(t, f.api(t, "POST", "/users", map[string]any{"email": "x@acme.test", "password": "correct horse battery", "connection": "nope"}),
			400, "invalid_body", "connection", "nope")
		wantError(t, f.globex.API(t, f.c, "POST", "/users", f.globexKey, map[string]any{"email": "x@acme.test", "password": "correct horse battery",
			"connection": staffID}), 400, "invalid_body", "connection")

		wantError(t, f.api(t, "PATCH", "/connections/"+id, map[string]any{"name": "renamed"}), 400, "invalid_body", "name")
		wantError(t, f.api(t, "PATCH", "/connections/"+id, map[string]any{"strategy": "oidc"}), 400, "invalid_body", "strategy")
		wantError(t, f.api(t, "GET", "/connections/con_nope", nil), 404, "connection_not_found")

		// Another tenant neither reads nor changes acme's connections, by its own host or acme's.
		globexDB := obj(t, arr(t, decode(t, f.globex.API(t, f.c, "GET", "/connections", f.globexKey, nil), http.StatusOK))[0])
		if globexDB["id"] == id {
			t.Fatal("two tenants share a connection id")
		}
		wantError(t, f.globex.API(t, f.c, "GET", "/connections/"+id, f.globexKey, nil), 404, "connection_not_found")
		wantError(t, f.globex.API(t, f.c, "PATCH", "/connections/"+id, f.globexKey, map[string]any{"enabled": false}), 404, "connection_not_found")
		wantError(t, f.acme.API(t, f.c, "PATCH", "/connections/"+id, f.globexKey, map[string]any{"enabled": false}), 401, "invalid_token")
		if c, _ := f.env.S.Store.GetConnection(f.acme.Ctx, id); !c.Enabled {
			t.Fatal("another tenant's attempts disabled acme's password connection")
		}
	})
}

// TestDisabledPasswordConnection: disabling the password connection refuses password sign-in (audited) and
// sign-up, without checking any password; enabling it again lets the same password in.
func TestDisabledPasswordConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		f.acme.NewUser("alice@acme.test")
		f.globex.NewUser("alice@acme.test")
		id := obj(t, arr(t, f.must(t, http.StatusOK, "GET", "/connections?strategy=auth0", nil))[0])["id"].(string)
		// Sign-up is on for acme here, so that only the connection can refuse it.
		acme := f.acme.Stored(t)
		acme.SignupEnabled = true
		ctx := server.WithTenant(f.acme.Ctx, &server.Tenant{Tenant: acme})
		if _, err := f.env.S.SignIn(ctx, "alice@acme.test", testenv.Password, "192.0.2.1"); err != nil {
			t.Fatalf("sign-in while enabled: %v", err)
		}
		got := obj(t, f.must(t, http.StatusOK, "PATCH", "/connections/"+id, map[string]any{"enabled": false}))
		if got["enabled"] != false {
			t.Fatalf("PATCH enabled=false answered %v", got)
		}
		if _, err := f.env.S.SignIn(ctx, "alice@acme.test", testenv.Password, "192.0.2.1"); !errors.Is(err, signin.ErrConnectionDisabled) {
			t.Errorf("sign-in through the disabled connection: %v, want ErrConnectionDisabled", err)
		}
		logs := arr(t, obj(t, f.must(t, http.StatusOK, "GET", "/logs?include_totals=true&type="+audit.EventSignInFailed, nil))["logs"])
		if len(logs) != 1 || obj(t, obj(t, logs[0])["data"])["reason"] != "connection_disabled" {
			t.Errorf("audit of the refused sign-in = %v", logs)
		}
		if _, err := f.env.S.SignUp(ctx, "new@acme.test", "correct horse battery"); !errors.Is(err, signin.ErrSignupDisabled) {
			t.Errorf("sign-up through the disabled connection: %v", err)
		}
		// Globex's password connection is its own: still enabled.
		gctx := server.WithTenant(f.globex.Ctx, &server.Tenant{Tenant: f.globex.Stored(t)})
		if _, err := f.env.S.SignIn(gctx, "alice@acme.test", testenv.Password, "192.0.2.1"); err != nil {
			t.Errorf("globex sign-in after acme disabled its connection: %v", err)
		}
		audits := arr(t, obj(t, f.must(t, http.StatusOK, "GET", "/logs?include_totals=true&type="+signin.EventConnectionUpdated, nil))["logs"])
		if len(audits) != 1 {
			t.Errorf("connection.updated events = %v", audits)
		}
		f.must(t, http.StatusOK, "PATCH", "/connections/"+id, map[string]any{"enabled": true})
		if _, err := f.env.S.SignIn(ctx, "alice@acme.test", testenv.Password, "192.0.2.1"); err != nil {
			t.Errorf("sign-in after enabling again: %v", err)
		}
	})
}

// TestConnectionScopes: reading, creating and changing connections are separate Management API scopes.
func TestConnectionScopes(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		cl := managementClient(f.acme, "read:connections")
		reader := testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret,
			url.Values{"audience": {directory.ManagementAudience}, "scope": {"read:connections"}})).AccessToken
		list := arr(t, decode(t, f.acme.API(t, f.c, "GET", "/connections", reader, nil), http.StatusOK))
		id := obj(t, list[0])["id"].(string)
		wantError(t, f.acme.API(t, f.c, "PATCH", "/connections/"+id, reader, map[string]any{"enabled": false}),
			http.StatusForbidden, "insufficient_scope", "update:connections")
		wantError(t, f.acme.API(t, f.c, "POST", "/connections", reader, map[string]any{"name": "x", "strategy": "auth0"}),
			http.StatusForbidden, "insufficient_scope", "create:connections")
		if c, _ := f.env.S.Store.GetConnection(f.acme.Ctx, id); !c.Enabled {
			t.Error("a refused PATCH disabled the connection")
		}
	})
}
