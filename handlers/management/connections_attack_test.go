package management_test

// Attack review of issue 8's Management API for connections (/api/v2/connections).

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/authio/authio/storage"
)

// TestAttackConnectionsAcrossTenants: a tenant's API key names another tenant's connection by id or by name:
// GET and PATCH answer 404 (never the connection, never a change), the other tenant keeps signing in, and the
// caller's own connection cannot be reached by name through the {id} routes (GET refuses names, so PATCH must
// too). Also: renaming, re-typing or giving options to the default connection, and strategies without a kind.
func TestAttackConnectionsAcrossTenants(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		globexCon, err := f.env.S.Store.GetConnection(f.globex.Ctx, storage.DefaultPasswordConnection)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{globexCon.ID, url.PathEscape(storage.DefaultPasswordConnection)} {
			if r := f.api(t, "GET", "/connections/"+ref, nil); r.StatusCode != http.StatusNotFound && ref == globexCon.ID {
				t.Errorf("GET another tenant's connection %s: %d %s", ref, r.StatusCode, r.Body)
			}
			r := f.api(t, "PATCH", "/connections/"+ref, map[string]any{"enabled": false})
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("PATCH /connections/%s with acme's key: %d %s, want 404", ref, r.StatusCode, r.Body)
			}
		}
		if c, err := f.env.S.Store.GetConnection(f.globex.Ctx, globexCon.ID); err != nil || !c.Enabled {
			t.Errorf("globex's connection after acme's attempts: %+v %v", c, err)
		}
		if c, err := f.env.S.Store.GetConnection(f.acme.Ctx, storage.DefaultPasswordConnection); err != nil || !c.Enabled {
			t.Errorf("acme's connection changed through its name: %+v %v", c, err)
		}
		if lst := arr(t, f.must(t, http.StatusOK, "GET", "/connections?name="+url.QueryEscape(storage.DefaultPasswordConnection), nil)); len(lst) != 1 ||
			obj(t, lst[0])["id"] == globexCon.ID {
			t.Errorf("acme's list by name = %v", lst)
		}

		acmeCon, _ := f.env.S.Store.GetConnection(f.acme.Ctx, storage.DefaultPasswordConnection)
		for name, body := range map[string]map[string]any{
			"rename the default":          {"name": "Other"},
			"re-type the default":         {"strategy": "oidc"},
			"options on password":         {"options": map[string]any{"issuer": "https://evil.example"}},
			"unknown field":               {"tenant_id": f.globex.ID},
			"enabled as a string":         {"enabled": "false"},
			"strategy by type of another": {"strategy": "password"},
		} {
			if r := f.api(t, "PATCH", "/connections/"+acmeCon.ID, body); r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", name, r.StatusCode, r.Body)
			}
		}
		// The email kind is registered (authn/emailotp) and takes no options.
		if r := f.api(t, "POST", "/connections", map[string]any{"name": "mail-opts", "strategy": "email", "options": map[string]any{"from": "x"}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("create strategy email with options: %d %s, want 400", r.StatusCode, r.Body)
		}
		for i, strategy := range []string{"oidc", "samlp", "waad", "sms", "google-oauth2", "AUTH0", " auth0"} {
			if r := f.api(t, "POST", "/connections", map[string]any{"name": "corp" + strconv.Itoa(i), "strategy": strategy}); r.StatusCode != http.StatusBadRequest {
				t.Errorf("create strategy %q: %d %s, want 400 (no registered kind)", strategy, r.StatusCode, r.Body)
			}
		}
		if after, _ := f.env.S.Store.GetConnection(f.acme.Ctx, acmeCon.ID); after.Name != storage.DefaultPasswordConnection ||
			after.Type != storage.ConnectionPassword || len(after.Settings) != 0 || !after.Enabled {
			t.Errorf("refused changes changed the default connection: %+v", after)
		}
		// Another tenant may hold the same connection name: names are unique per tenant only.
		if r := f.globex.API(t, f.c, "POST", "/connections", f.globexKey, map[string]any{"name": "staff", "strategy": "auth0"}); r.StatusCode != http.StatusCreated {
			t.Fatalf("globex creates staff: %d %s", r.StatusCode, r.Body)
		}
		if r := f.api(t, "POST", "/connections", map[string]any{"name": "staff", "strategy": "auth0"}); r.StatusCode != http.StatusCreated {
			t.Errorf("acme creates staff after globex did: %d %s", r.StatusCode, r.Body)
		}
	})
}
