package management_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
)

func TestOrganizationsCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "viewer"}))

		acme := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{
			"name": "acme-corp", "display_name": "Acme Corp", "metadata": map[string]any{"plan": "pro"},
			"branding": map[string]any{"logo_url": "https://acme.test/logo.png"}, "default_role_id": role["id"]}))
		id, _ := acme["id"].(string)
		if !strings.HasPrefix(id, "org_") || acme["name"] != "acme-corp" || acme["display_name"] != "Acme Corp" ||
			acme["default_role_id"] != role["id"] || obj(t, acme["metadata"])["plan"] != "pro" {
			t.Errorf("created organization = %v", acme)
		}
		minimal := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "globex"}))
		if minimal["display_name"] != "globex" || minimal["default_role_id"] != nil || len(obj(t, minimal["metadata"])) != 0 {
			t.Errorf("organization with defaults = %v", minimal)
		}

		for _, path := range []string{"/organizations/" + id, "/organizations/acme-corp", "/organizations/name/acme-corp"} {
			got := obj(t, f.must(t, http.StatusOK, "GET", path, nil))
			if got["id"] != id || obj(t, got["branding"])["logo_url"] != "https://acme.test/logo.png" {
				t.Errorf("GET %s = %v", path, got)
			}
		}
		wantError(t, f.api(t, "GET", "/organizations/name/"+id, nil), http.StatusNotFound, "organization_not_found")
		wantError(t, f.api(t, "GET", "/organizations/org_nope", nil), http.StatusNotFound, "organization_not_found", "org_nope")

		// Paging: a bare array by default, Auth0's totals object on request.
		for i := 0; i < 3; i++ {
			f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "extra-" + string(rune('a'+i))})
		}
		all := ids(t, f.must(t, http.StatusOK, "GET", "/organizations", nil), "name")
		if !slices.Equal(all, []string{"acme-corp", "globex", "extra-a", "extra-b", "extra-c"}) {
			t.Errorf("organizations = %v", all)
		}
		page := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?page=1&per_page=2&include_totals=true", nil))
		if got := ids(t, page["organizations"], "name"); !slices.Equal(got, []string{"extra-a", "extra-b"}) ||
			page["start"] != 2.0 || page["limit"] != 2.0 || page["length"] != 2.0 || page["total"] != 5.0 {
			t.Errorf("page 1 of 2 = %v", page)
		}
		for _, q := range []string{"page=-1", "per_page=0", "per_page=101", "include_totals=maybe", "page=x"} {
			param := strings.SplitN(q, "=", 2)[0]
			wantError(t, f.api(t, "GET", "/organizations?"+q, nil), http.StatusBadRequest, "invalid_query_string", param)
		}

		otherOrgRole := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "globex-admin", "organization_id": "globex"}))
		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
			words  []string
		}{
			{name: "duplicate name", method: "POST", path: "/organizations", body: map[string]any{"name": "acme-corp"},
				status: http.StatusConflict, code: "conflict", words: []string{"name", "acme-corp"}},
			{name: "upper-case name", method: "POST", path: "/organizations", body: map[string]any{"name": "Acme"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "name with a space", method: "POST", path: "/organizations", body: map[string]any{"name": "a b"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "name too long", method: "POST", path: "/organizations", body: map[string]any{"name": strings.Repeat("a", 51)},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "no name", method: "POST", path: "/organizations", body: map[string]any{"display_name": "X"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "unknown default role", method: "POST", path: "/organizations", body: map[string]any{"name": "x", "default_role_id": "rol_nope"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"default_role_id"}},
			{name: "default role of another organization", method: "POST", path: "/organizations",
				body: map[string]any{"name": "x", "default_role_id": otherOrgRole["id"]}, status: http.StatusBadRequest, code: "invalid_body",
				words: []string{"default_role_id", "another organization"}},
			{name: "unknown field", method: "POST", path: "/organizations", body: map[string]any{"name": "x", "colour": "red"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"colour"}},
			{name: "wrong type", method: "POST", path: "/organizations", body: map[string]any{"name": 7},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name", "string"}},
			{name: "not JSON", method: "POST", path: "/organizations", body: "name=x", status: http.StatusBadRequest, code: "invalid_body"},
			{name: "an array", method: "POST", path: "/organizations", body: `[{"name":"x"}]`, status: http.StatusBadRequest, code: "invalid_body"},
			{name: "two objects", method: "POST", path: "/organizations", body: `{"name":"x"}{"name":"y"}`, status: http.StatusBadRequest, code: "invalid_body"},
			{name: "oversized body", method: "POST", path: "/organizations", body: map[string]any{"name": "x", "metadata": map[string]any{"blob": strings.Repeat("x", httpx.MaxBodyBytes)}},
				status: http.StatusRequestEntityTooLarge, code: "payload_too_large"},
			{name: "rename onto a taken name", method: "PATCH", path: "/organizations/" + id, body: map[string]any{"name": "globex"},
				status: http.StatusConflict, code: "conflict", words: []string{"globex"}},
			{name: "patch with a bad name", method: "PATCH", path: "/organizations/" + id, body: map[string]any{"name": "Bad!", "display_name": "Changed"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "patch an unknown organization", method: "PATCH", path: "/organizations/org_nope", body: map[string]any{"display_name": "x"},
				status: http.StatusNotFound, code: "organization_not_found"},
			{name: "delete an unknown organization", method: "DELETE", path: "/organizations/org_nope", status: http.StatusNotFound, code: "organization_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.words...)
			})
		}
		t.Run("content type must be JSON", func(t *testing.T) {
			r := f.acme.API(t, f.c, "POST", "/organizations", f.acmeKey, nil)
			wantError(t, r, http.StatusBadRequest, "invalid_body", "application/json")
		})
		// None of the refused requests changed anything.
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/organizations", nil), "name"); !slices.Equal(got, all) {
			t.Errorf("after bad requests organizations = %v, want %v", got, all)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/"+id, nil)); got["display_name"] != "Acme Corp" {
			t.Errorf("a refused PATCH changed the organization: %v", got)
		}

		updated := obj(t, f.must(t, http.StatusOK, "PATCH", "/organizations/acme-corp", map[string]any{"display_name": "ACME",
			"metadata": map[string]any{"plan": "enterprise"}, "default_role_id": ""}))
		if updated["id"] != id || updated["name"] != "acme-corp" || updated["display_name"] != "ACME" ||
			obj(t, updated["metadata"])["plan"] != "enterprise" || updated["default_role_id"] != nil {
			t.Errorf("updated = %v", updated)
		}
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/"+id, nil)
		wantError(t, f.api(t, "GET", "/organizations/"+id, nil), http.StatusNotFound, "organization_not_found")
		wantError(t, f.api(t, "GET", "/organizations/acme-corp/members", nil), http.StatusNotFound, "organization_not_found")
		wantError(t, f.api(t, "GET", "/nothing-here", nil), http.StatusNotFound, "not_found")
		wantError(t, f.api(t, "PUT", "/organizations", nil), http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

func TestMembersAndTheirRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		viewer := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "viewer"}))
		editor := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "editor"}))
		org := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp", "default_role_id": viewer["id"]}))
		orgID := org["id"].(string)
		other := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "globex"}))
		custom := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "owner", "organization_id": orgID}))
		foreign := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "owner", "organization_id": other["id"]}))
		users := newUsers(f.acme, "alice@acme.test", "bob@acme.test")
		alice, bob := users[0], users[1]
		stranger := f.globex.NewUser("eve@globex.test").ID

		// Bad input first: nothing may change.
		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
			word   string
		}{
			{name: "no members", body: map[string]any{"members": []string{}}, status: http.StatusBadRequest, code: "invalid_body", word: "members"},
			{name: "bad status", body: map[string]any{"members": []string{alice}, "status": "banned"}, status: http.StatusBadRequest, code: "invalid_body", word: "status"},
			{name: "unknown user among known", body: map[string]any{"members": []string{alice, "user_nope"}}, status: http.StatusNotFound, code: "user_not_found", word: "user_nope"},
			{name: "another tenant's user", body: map[string]any{"members": []string{stranger}}, status: http.StatusNotFound, code: "user_not_found"},
			{name: "members not a list", body: map[string]any{"members": alice}, status: http.StatusBadRequest, code: "invalid_body", word: "members"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, "POST", "/organizations/acme-corp/members", tc.body), tc.status, tc.code, tc.word)
			})
		}
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members", nil)); len(got) != 0 {
			t.Fatalf("refused requests added members: %v", got)
		}

		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": []string{alice}})
		f.must(t, http.StatusNoContent, "POST", "/organizations/"+orgID+"/members", map[string]any{"members": []string{bob, alice}, "status": "invited"})
		members := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members", nil))
		if len(members) != 2 {
			t.Fatalf("members = %v", members)
		}
		a, b := obj(t, members[0]), obj(t, members[1])
		if a["user_id"] != alice || a["email"] != "alice@acme.test" || a["status"] != "active" || !strings.HasPrefix(a["membership_id"].(string), "mem_") ||
			a["joined_at"] == nil {
			t.Errorf("alice's membership = %v", a)
		}
		if b["user_id"] != bob || b["status"] != "invited" {
			t.Errorf("bob's membership = %v (adding alice again must leave her alone)", b)
		}
		for _, m := range []map[string]any{a, b} {
			roles := arr(t, m["roles"])
			if len(roles) != 1 || obj(t, roles[0])["id"] != viewer["id"] || obj(t, roles[0])["source"] != "default" {
				t.Errorf("%v: roles = %v, want the default role with source default", m["user_id"], roles)
			}
		}
		totals := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members?per_page=1&include_totals=true", nil))
		if totals["total"] != 2.0 || len(arr(t, totals["members"])) != 1 {
			t.Errorf("members with totals = %v", totals)
		}

		// Status changes.
		m := obj(t, f.must(t, http.StatusOK, "PATCH", "/organizations/acme-corp/members/"+alice, map[string]any{"status": "suspended"}))
		if m["status"] != "suspended" || m["user_id"] != alice {
			t.Errorf("PATCH member = %v", m)
		}
		wantError(t, f.api(t, "PATCH", "/organizations/acme-corp/members/"+alice, map[string]any{"status": "gone"}), http.StatusBadRequest, "invalid_body", "status")
		wantError(t, f.api(t, "PATCH", "/organizations/acme-corp/members/"+alice, map[string]any{}), http.StatusBadRequest, "invalid_body", "status")
		wantError(t, f.api(t, "PATCH", "/organizations/globex/members/"+alice, map[string]any{"status": "active"}), http.StatusNotFound, "member_not_found")

		// Roles on memberships.
		path := "/organizations/acme-corp/members/" + alice + "/roles"
		f.must(t, http.StatusNoContent, "POST", path, map[string]any{"roles": []any{editor["id"], custom["id"]}})
		for _, tc := range []struct {
			name   string
			method string
			roles  []any
			status int
			code   string
		}{
			{name: "another organization's custom role", method: "POST", roles: []any{foreign["id"]}, status: http.StatusBadRequest, code: "invalid_body"},
			{name: "unknown role", method: "POST", roles: []any{"rol_nope"}, status: http.StatusNotFound, code: "role_not_found"},
			{name: "no roles", method: "POST", roles: []any{}, status: http.StatusBadRequest, code: "invalid_body"},
			{name: "remove an unknown role", method: "DELETE", roles: []any{viewer["id"], "rol_nope"}, status: http.StatusNotFound, code: "role_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.api(t, tc.method, path, map[string]any{"roles": tc.roles})
				wantError(t, r, tc.status, tc.code)
				if tc.code == "invalid_body" && !strings.Contains(r.Body, "roles") {
					t.Errorf("message does not name roles: %s", r.Body)
				}
			})
		}
		got := ids(t, f.must(t, http.StatusOK, "GET", path, nil), "name")
		if !slices.Equal(got, []string{"editor", "owner", "viewer"}) {
			t.Errorf("alice's roles = %v, want editor, owner, viewer", got)
		}
		f.must(t, http.StatusNoContent, "DELETE", path, map[string]any{"roles": []any{viewer["id"], editor["id"]}})
		got = ids(t, f.must(t, http.StatusOK, "GET", path, nil), "name")
		if !slices.Equal(got, []string{"owner"}) {
			t.Errorf("alice's roles after removal = %v, want owner", got)
		}
		wantError(t, f.api(t, "GET", "/organizations/globex/members/"+alice+"/roles", nil), http.StatusNotFound, "member_not_found")

		// The user's side.
		orgs := arr(t, f.must(t, http.StatusOK, "GET", "/users/"+alice+"/organizations", nil))
		if len(orgs) != 1 || obj(t, orgs[0])["id"] != orgID || obj(t, orgs[0])["name"] != "acme-corp" || obj(t, orgs[0])["status"] != "suspended" {
			t.Errorf("alice's organizations = %v", orgs)
		}

		// Removing members removes their roles; a non-member in the list is skipped.
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/acme-corp/members", map[string]any{"members": []string{alice, stranger}})
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members", nil), "user_id"); !slices.Equal(got, []string{bob}) {
			t.Errorf("members after removing alice = %v", got)
		}
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": []string{alice}})
		got = ids(t, f.must(t, http.StatusOK, "GET", path, nil), "name")
		if !slices.Equal(got, []string{"viewer"}) {
			t.Errorf("alice re-added has roles %v, want only the default role", got)
		}
	})
}

func TestOrganizationClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp"})
		machine := f.acme.NewClient(directory.ClientSpec{Name: "worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			OrganizationUsage: storage.OrgUsageRequire})
		spa := f.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{"https://app.acme.test/cb"}})
		foreign := f.globex.NewClient(directory.ClientSpec{Name: "worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})

		wantError(t, f.api(t, "POST", "/organizations/acme-corp/clients", map[string]any{"client_id": spa.ClientID}), http.StatusBadRequest, "invalid_body", "client_id")
		wantError(t, f.api(t, "POST", "/organizations/acme-corp/clients", map[string]any{"client_id": foreign.ClientID}), http.StatusNotFound, "client_not_found")
		wantError(t, f.api(t, "POST", "/organizations/acme-corp/clients", map[string]any{}), http.StatusBadRequest, "invalid_body", "client_id")
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/clients", map[string]any{"client_id": machine.ClientID})
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/clients", map[string]any{"client_id": machine.ClientID})
		got := ids(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/clients", nil), "client_id")
		if !slices.Equal(got, []string{machine.ClientID}) {
			t.Errorf("organization clients = %v", got)
		}
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/acme-corp/clients", map[string]any{"client_id": machine.ClientID})
		wantError(t, f.api(t, "DELETE", "/organizations/acme-corp/clients", map[string]any{"client_id": machine.ClientID}), http.StatusNotFound, "client_not_found")
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/clients", nil)); len(got) != 0 {
			t.Errorf("organization clients after removal = %v", got)
		}
	})
}
