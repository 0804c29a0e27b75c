package management_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/authio/authio/storage"
)

// TestUsersAuth0Fields: POST /api/v2/users takes Auth0's body (a database connection by name, the profile fields,
// email_verified, blocked, user_metadata, app_metadata) and every answer is Auth0's user object, identities
// included; PATCH merges metadata as Auth0 does. Unknown connections and fields are 400s naming them, and nothing
// is created; another tenant neither sees nor changes the user.
func TestUsersAuth0Fields(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		f.must(t, http.StatusCreated, "POST", "/connections", map[string]any{"name": "staff-db", "strategy": "auth0"})
		// globex has a connection acme does not: its name means nothing on acme.
		decode(t, f.globex.API(t, f.c, "POST", "/connections", f.globexKey, map[string]any{"name": "globex-db", "strategy": "auth0"}), http.StatusCreated)

		body := map[string]any{
			"connection": storage.DefaultPasswordConnection, "email": "Jane@Acme.test", "password": "correct horse battery",
			"given_name": "Jane", "family_name": "Doe", "name": "Jane Doe", "nickname": "jd", "picture": "https://img.acme.test/jane.png",
			"email_verified": true, "blocked": false,
			"user_metadata": map[string]any{"theme": "dark", "addresses": map[string]any{"home": "1 Main St"}},
			"app_metadata":  map[string]any{"plan": "pro", "seats": 5},
		}
		jane := obj(t, f.must(t, http.StatusCreated, "POST", "/users", body))
		id, _ := jane["user_id"].(string)
		want := map[string]any{
			"user_id": id, "email": "jane@acme.test", "email_verified": true, "name": "Jane Doe", "given_name": "Jane",
			"family_name": "Doe", "nickname": "jd", "picture": "https://img.acme.test/jane.png", "blocked": false,
			"user_metadata": map[string]any{"theme": "dark", "addresses": map[string]any{"home": "1 Main St"}},
			"app_metadata":  map[string]any{"plan": "pro", "seats": 5.0},
			"identities": []any{map[string]any{"connection": storage.DefaultPasswordConnection, "provider": "auth0", "user_id": id,
				"isSocial": false}},
		}
		check := func(t *testing.T, what string, got map[string]any, want map[string]any) {
			t.Helper()
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], v)
				}
			}
			for _, k := range []string{"created_at", "updated_at"} {
				if s, _ := got[k].(string); s == "" {
					t.Errorf("%s: no %s", what, k)
				}
			}
			for _, k := range []string{"password", "password_hash", "connection"} {
				if _, ok := got[k]; ok {
					t.Errorf("%s carries %s", what, k)
				}
			}
		}
		check(t, "created", jane, want)
		check(t, "GET", obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil)), want)
		listed := arr(t, obj(t, f.must(t, http.StatusOK, "GET", "/users?include_totals=true", nil))["users"])
		if len(listed) != 1 {
			t.Fatalf("listed %d users", len(listed))
		}
		check(t, "listed", obj(t, listed[0]), want)
		check(t, "by email", obj(t, arr(t, f.must(t, http.StatusOK, "GET", "/users-by-email?email=jane%40acme.test", nil))[0]), want)

		// Another database connection by name: the identity names it.
		staff := obj(t, f.must(t, http.StatusCreated, "POST", "/users", map[string]any{"connection": "staff-db", "email": "sam@acme.test",
			"password": "correct horse battery"}))
		if ids := arr(t, staff["identities"]); len(ids) != 1 || obj(t, ids[0])["connection"] != "staff-db" || obj(t, ids[0])["provider"] != "auth0" {
			t.Errorf("identities of a staff-db user = %v", staff["identities"])
		}
		if staff["user_metadata"] == nil || len(obj(t, staff["user_metadata"])) != 0 || len(obj(t, staff["app_metadata"])) != 0 {
			t.Errorf("metadata of a user created without = %v / %v, want {}", staff["user_metadata"], staff["app_metadata"])
		}

		// PATCH merges metadata at the top level: members replace, null removes, {} clears.
		for _, tc := range []struct {
			name              string
			body              map[string]any
			wantUser, wantApp map[string]any
		}{
			{name: "add and replace members", body: map[string]any{"user_metadata": map[string]any{"lang": "fr", "addresses": map[string]any{"work": "2 High St"}}},
				wantUser: map[string]any{"theme": "dark", "lang": "fr", "addresses": map[string]any{"work": "2 High St"}},
				wantApp:  map[string]any{"plan": "pro", "seats": 5.0}},
			{name: "null removes a member", body: map[string]any{"user_metadata": map[string]any{"theme": nil}, "app_metadata": map[string]any{"seats": nil, "tier": 2}},
				wantUser: map[string]any{"lang": "fr", "addresses": map[string]any{"work": "2 High St"}},
				wantApp:  map[string]any{"plan": "pro", "tier": 2.0}},
			{name: "other fields leave metadata alone", body: map[string]any{"given_name": "Janet", "blocked": true},
				wantUser: map[string]any{"lang": "fr", "addresses": map[string]any{"work": "2 High St"}},
				wantApp:  map[string]any{"plan": "pro", "tier": 2.0}},
			{name: "an empty object clears", body: map[string]any{"app_metadata": map[string]any{}},
				wantUser: map[string]any{"lang": "fr", "addresses": map[string]any{"work": "2 High St"}},
				wantApp:  map[string]any{}},
		} {
			t.Run("PATCH/"+tc.name, func(t *testing.T) {
				got := obj(t, f.must(t, http.StatusOK, "PATCH", "/users/"+id, tc.body))
				if !reflect.DeepEqual(got["user_metadata"], tc.wantUser) || !reflect.DeepEqual(got["app_metadata"], tc.wantApp) {
					t.Errorf("metadata = %v / %v, want %v / %v", got["user_metadata"], got["app_metadata"], tc.wantUser, tc.wantApp)
				}
			})
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil)); got["given_name"] != "Janet" || got["blocked"] != true {
			t.Errorf("after PATCH: given_name %v, blocked %v", got["given_name"], got["blocked"])
		}

		big := map[string]any{}
		for i := range 600 {
			big[string(rune('a'+i%26))+string(rune('a'+i/26))] = "0123456789012345678901234567890"
		}
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
			status             int
			code               string
			words              []string
		}{
			{name: "unknown connection", method: "POST", path: "/users", body: map[string]any{"connection": "no-such-db", "email": "x@acme.test", "password": "correct horse battery"},
				status: 400, code: "invalid_body", words: []string{"connection", "no-such-db"}},
			{name: "another tenant's connection", method: "POST", path: "/users", body: map[string]any{"connection": "globex-db", "email": "x@acme.test", "password": "correct horse battery"},
				status: 400, code: "invalid_body", words: []string{"connection", "globex-db"}},
			{name: "unknown field", method: "POST", path: "/users", body: map[string]any{"email": "x@acme.test", "password": "correct horse battery", "favourite_colour": "blue"},
				status: 400, code: "invalid_body", words: []string{"favourite_colour"}},
			{name: "metadata not an object", method: "POST", path: "/users", body: map[string]any{"email": "x@acme.test", "password": "correct horse battery", "user_metadata": []any{1}},
				status: 400, code: "invalid_body", words: []string{"user_metadata"}},
			{name: "metadata too large", method: "POST", path: "/users", body: map[string]any{"email": "x@acme.test", "password": "correct horse battery", "app_metadata": big},
				status: 400, code: "invalid_body", words: []string{"app_metadata"}},
			{name: "metadata too large on PATCH", method: "PATCH", path: "/users/" + id, body: map[string]any{"user_metadata": big, "given_name": "Nope"},
				status: 400, code: "invalid_body", words: []string{"user_metadata"}},
			{name: "unknown field on PATCH", method: "PATCH", path: "/users/" + id, body: map[string]any{"given_name": "Nope", "favourite_colour": "blue"},
				status: 400, code: "invalid_body", words: []string{"favourite_colour"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.words...)
			})
		}
		if n := len(arr(t, f.must(t, http.StatusOK, "GET", "/users", nil))); n != 2 {
			t.Errorf("%d users after refused creations, want 2", n)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil)); got["given_name"] != "Janet" {
			t.Errorf("a refused PATCH changed given_name to %v", got["given_name"])
		}

		// Cross-tenant: globex's key neither reads, lists nor patches acme's user.
		wantError(t, f.globex.API(t, f.c, "GET", "/users/"+id, f.globexKey, nil), http.StatusNotFound, "user_not_found")
		wantError(t, f.globex.API(t, f.c, "PATCH", "/users/"+id, f.globexKey, map[string]any{"app_metadata": map[string]any{"x": 1}}),
			http.StatusNotFound, "user_not_found")
		if l := arr(t, decode(t, f.globex.API(t, f.c, "GET", "/users", f.globexKey, nil), http.StatusOK)); len(l) != 0 {
			t.Errorf("globex lists acme's users: %v", l)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/users/"+id, nil)); len(obj(t, got["app_metadata"])) != 0 {
			t.Errorf("globex changed acme's user: %v", got["app_metadata"])
		}
	})
}
