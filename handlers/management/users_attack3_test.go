package management_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestUsersAuth0FieldsAttack3: Auth0's user fields through the Management API under attack. A token without
// update:users cannot block a user or set app_metadata; a connection named after another tenant's creates nobody
// anywhere; metadata cannot grow past its limit through two PATCHes that are each under it, nor break the user's
// reads by nesting; a member name in another case is not a second spelling of a field (a filter in front of the API
// and the API would read different requests); and bad numbers are 400s, never 5xx.
func TestUsersAuth0FieldsAttack3(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		id := newUsers(f.acme, "target@acme.test")[0]
		get := func(t *testing.T) map[string]any {
			t.Helper()
			return obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil))
		}

		t.Run("read:users cannot block or set app_metadata", func(t *testing.T) {
			reader := managementClient(f.acme, "read:users", "create:users")
			tok := f.managementToken(t, f.acme, reader, "read:users", "create:users")
			for _, body := range []map[string]any{{"blocked": true}, {"app_metadata": map[string]any{"role": "admin"}},
				{"user_metadata": map[string]any{"x": 1}}} {
				wantError(t, f.acme.API(t, f.c, "PATCH", "/users/"+id, tok, body), http.StatusForbidden, "insufficient_scope", "update:users")
			}
			if u := get(t); u["blocked"] != false || len(obj(t, u["app_metadata"])) != 0 || len(obj(t, u["user_metadata"])) != 0 {
				t.Errorf("the user changed: %v", u)
			}
		})

		t.Run("another tenant's connection name creates nobody", func(t *testing.T) {
			decode(t, f.globex.API(t, f.c, "POST", "/connections", f.globexKey, map[string]any{"name": "globex-db", "strategy": "auth0"}), http.StatusCreated)
			r := f.api(t, "POST", "/users", map[string]any{"connection": "globex-db", "email": "smuggled@acme.test", "password": "correct horse battery"})
			wantError(t, r, http.StatusBadRequest, "", "connection")
			for _, tn := range []struct {
				name string
				list []any
			}{
				{"acme", arr(t, f.must(t, http.StatusOK, "GET", "/users-by-email?email=smuggled%40acme.test", nil))},
				{"globex", arr(t, decode(t, f.globex.API(t, f.c, "GET", "/users-by-email?email=smuggled%40acme.test", f.globexKey, nil), http.StatusOK))},
			} {
				if len(tn.list) != 0 {
					t.Errorf("%s has the user: %v", tn.name, tn.list)
				}
			}
		})

		t.Run("two PATCHes under the limit do not store metadata over it", func(t *testing.T) {
			half := strings.Repeat("a", 9*1024)
			f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"user_metadata": map[string]any{"one": half}})
			r := f.api(t, "PATCH", "/users/"+id, map[string]any{"user_metadata": map[string]any{"two": half}})
			wantError(t, r, http.StatusBadRequest, "", "user_metadata")
			if m := obj(t, get(t)["user_metadata"]); len(m) != 1 || m["one"] != half {
				t.Errorf("user_metadata after the refused PATCH has %d members", len(m))
			}
			f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"user_metadata": map[string]any{}})
		})

		t.Run("deep nesting is refused or harmless", func(t *testing.T) {
			deep := `{"app_metadata": {"a": ` + strings.Repeat("[", 8000) + strings.Repeat("]", 8000) + `}}`
			r := f.api(t, "PATCH", "/users/"+id, deep)
			if r.StatusCode >= 500 {
				t.Fatalf("PATCH with deep metadata: %d %s", r.StatusCode, r.Body)
			}
			if r := f.api(t, "GET", "/users/"+id, nil); r.StatusCode != http.StatusOK {
				t.Errorf("GET the user after deep metadata: %d %s", r.StatusCode, r.Body)
			}
			if r := f.api(t, "GET", "/users?include_totals=true", nil); r.StatusCode != http.StatusOK {
				t.Errorf("GET /users after deep metadata: %d %s", r.StatusCode, r.Body)
			}
			// Too deep for any JSON reader of ours: refused as bad input.
			deeper := `{"app_metadata": {"a": ` + strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + `}}`
			if r := f.api(t, "PATCH", "/users/"+id, deeper); r.StatusCode != http.StatusBadRequest {
				t.Errorf("PATCH with 12000 levels: %d %.200s", r.StatusCode, r.Body)
			}
			f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"app_metadata": map[string]any{}})
		})

		t.Run("numbers JSON cannot hold in a double", func(t *testing.T) {
			for _, n := range []string{"1e400", "-1e400", strings.Repeat("9", 400)} {
				r := f.api(t, "PATCH", "/users/"+id, `{"user_metadata": {"n": `+n+`}}`)
				if r.StatusCode != http.StatusBadRequest {
					t.Errorf("user_metadata n=%.20s…: %d %.200s", n, r.StatusCode, r.Body)
				}
			}
		})

		t.Run("a field in another case is not the field", func(t *testing.T) {
			for _, body := range []string{`{"BLOCKED": true}`, `{"Blocked": true}`, `{"App_Metadata": {"role": "admin"}}`,
				`{"blocked": false, "BLOCKED": true}`} {
				r := f.api(t, "PATCH", "/users/"+id, body)
				if r.StatusCode != http.StatusBadRequest {
					t.Errorf("PATCH %s: %d, want 400 (unknown field)", body, r.StatusCode)
				}
			}
			if u := get(t); u["blocked"] != false || len(obj(t, u["app_metadata"])) != 0 {
				t.Errorf("a differently-cased field changed the user: blocked=%v app_metadata=%v", u["blocked"], u["app_metadata"])
			}
			f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"blocked": false})
		})

		t.Run("a field given twice", func(t *testing.T) {
			r := f.api(t, "PATCH", "/users/"+id, `{"app_metadata": {"plan": "free"}, "app_metadata": {"plan": "enterprise"}}`)
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("a body with app_metadata twice: %d, want 400 (the token endpoint refuses a repeated parameter too)", r.StatusCode)
			}
			f.must(t, http.StatusOK, "PATCH", "/users/"+id, map[string]any{"app_metadata": map[string]any{}})
		})

		t.Run("cross-tenant: globex cannot block acme's user", func(t *testing.T) {
			wantError(t, f.globex.API(t, f.c, "PATCH", "/users/"+id, f.globexKey, map[string]any{"blocked": true,
				"app_metadata": map[string]any{"owned": true}}), http.StatusNotFound, "")
			u := get(t)
			if u["blocked"] != false || !reflect.DeepEqual(u["app_metadata"], map[string]any{}) {
				t.Errorf("globex changed acme's user: %v", u)
			}
		})
	})
}
