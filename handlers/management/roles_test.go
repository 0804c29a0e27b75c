package management_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
)

const invoices = "https://invoices.acme.test"

func TestRolesAndPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		f.must(t, http.StatusCreated, "POST", "/resource-servers", map[string]any{"identifier": invoices, "name": "Invoices",
			"scopes": []any{map[string]any{"value": "read:invoices", "description": "Read invoices"}, map[string]any{"value": "write:invoices"}}})
		org := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp"}))

		admin := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "admin", "description": "Everything"}))
		id := admin["id"].(string)
		if !strings.HasPrefix(id, "rol_") || admin["name"] != "admin" || admin["description"] != "Everything" || admin["organization_id"] != nil {
			t.Errorf("created role = %v", admin)
		}
		custom := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "admin", "organization_id": "acme-corp"}))
		if custom["organization_id"] != org["id"] {
			t.Errorf("custom role organization_id = %v, want %v (resolved from the name)", custom["organization_id"], org["id"])
		}

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
			words  []string
		}{
			{name: "duplicate tenant-wide name", method: "POST", path: "/roles", body: map[string]any{"name": "admin"}, status: http.StatusConflict, code: "conflict", words: []string{"admin"}},
			{name: "duplicate name in the organization", method: "POST", path: "/roles", body: map[string]any{"name": "admin", "organization_id": org["id"]},
				status: http.StatusConflict, code: "conflict"},
			{name: "no name", method: "POST", path: "/roles", body: map[string]any{"description": "x"}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "name like an id", method: "POST", path: "/roles", body: map[string]any{"name": "rol_x"}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "unknown organization", method: "POST", path: "/roles", body: map[string]any{"name": "x", "organization_id": "org_nope"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"organization_id"}},
			{name: "organization cannot change", method: "PATCH", path: "/roles/" + id, body: map[string]any{"organization_id": org["id"]},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"organization_id"}},
			{name: "unknown role", method: "GET", path: "/roles/rol_nope", status: http.StatusNotFound, code: "role_not_found"},
			{name: "unknown resource server", method: "POST", path: "/roles/" + id + "/permissions",
				body:   map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": "https://nope.test", "permission_name": "read:invoices"}}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"permissions", "https://nope.test"}},
			{name: "scope the resource server lacks", method: "POST", path: "/roles/" + id + "/permissions",
				body: map[string]any{"permissions": []any{
					map[string]any{"resource_server_identifier": invoices, "permission_name": "read:invoices"},
					map[string]any{"resource_server_identifier": invoices, "permission_name": "delete:invoices"}}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"permissions", "delete:invoices"}},
			{name: "management scope that does not exist", method: "POST", path: "/roles/" + id + "/permissions",
				body:   map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": directory.ManagementAudience, "permission_name": "destroy:everything"}}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"permissions"}},
			{name: "permission without a name", method: "POST", path: "/roles/" + id + "/permissions",
				body: map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": invoices}}}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"permission_name"}},
			{name: "permissions of an unknown role", method: "POST", path: "/roles/rol_nope/permissions",
				body:   map[string]any{"permissions": []any{map[string]any{"resource_server_identifier": invoices, "permission_name": "read:invoices"}}},
				status: http.StatusNotFound, code: "role_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.words...)
			})
		}
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/roles/"+id+"/permissions", nil)); len(got) != 0 {
			t.Errorf("refused permission requests left %v", got)
		}
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/roles", nil), "id"); !slices.Equal(got, []string{id, custom["id"].(string)}) {
			t.Errorf("roles = %v", got)
		}

		f.must(t, http.StatusNoContent, "POST", "/roles/"+id+"/permissions", map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": invoices, "permission_name": "read:invoices"},
			map[string]any{"resource_server_identifier": invoices, "permission_name": "write:invoices"},
			map[string]any{"resource_server_identifier": directory.ManagementAudience, "permission_name": "read:organizations"},
		}})
		perms := arr(t, f.must(t, http.StatusOK, "GET", "/roles/"+id+"/permissions", nil))
		if len(perms) != 3 {
			t.Fatalf("permissions = %v", perms)
		}
		first := obj(t, perms[0])
		if first["resource_server_identifier"] != invoices || first["permission_name"] != "read:invoices" ||
			first["resource_server_name"] != "Invoices" || first["description"] != "Read invoices" {
			t.Errorf("first permission = %v", first)
		}
		f.must(t, http.StatusNoContent, "DELETE", "/roles/"+id+"/permissions", map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": invoices, "permission_name": "write:invoices"}}})
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/roles/"+id+"/permissions", nil), "permission_name"); !slices.Equal(got, []string{"read:invoices", "read:organizations"}) {
			t.Errorf("permissions after removal = %v", got)
		}

		renamed := obj(t, f.must(t, http.StatusOK, "PATCH", "/roles/"+id, map[string]any{"name": "administrator"}))
		if renamed["name"] != "administrator" || renamed["description"] != "Everything" {
			t.Errorf("renamed = %v", renamed)
		}

		// Deleting a role takes it from the organizations that had it as their default.
		f.must(t, http.StatusOK, "PATCH", "/organizations/acme-corp", map[string]any{"default_role_id": id})
		f.must(t, http.StatusNoContent, "DELETE", "/roles/"+id, nil)
		wantError(t, f.api(t, "GET", "/roles/"+id, nil), http.StatusNotFound, "role_not_found")
		wantError(t, f.api(t, "DELETE", "/roles/"+id, nil), http.StatusNotFound, "role_not_found")
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp", nil)); got["default_role_id"] != nil {
			t.Errorf("default_role_id after deleting the role = %v", got["default_role_id"])
		}
	})
}

func TestResourceServers(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		rs := obj(t, f.must(t, http.StatusCreated, "POST", "/resource-servers", map[string]any{"identifier": invoices, "name": "Invoices",
			"scopes": []any{map[string]any{"value": "read:invoices"}, map[string]any{"value": "write:invoices"}}, "metadata": map[string]any{"internal": true, "sync": false}}))
		id := rs["id"].(string)
		if !strings.HasPrefix(id, "api_") || rs["token_lifetime"] != float64(directory.DefaultResourceTokenLifetime) ||
			rs["refresh_token_lifetime"] != float64(directory.DefaultResourceRefreshLifetime) || rs["is_system"] != false ||
			obj(t, rs["metadata"])["internal"] != true {
			t.Errorf("created resource server = %v", rs)
		}
		urn := obj(t, f.must(t, http.StatusCreated, "POST", "/resource-servers", map[string]any{"identifier": "urn:acme:reports", "name": "Reports", "token_lifetime": 600}))
		if urn["token_lifetime"] != 600.0 {
			t.Errorf("urn resource server = %v", urn)
		}

		// By id or by URL-escaped identifier, "https://…" included.
		for _, tc := range []struct{ path, id string }{
			{"/resource-servers/" + id, id},
			{"/resource-servers/" + url.PathEscape(invoices), id},
			{"/resource-servers/" + url.QueryEscape(invoices), id},
			{"/resource-servers/" + urn["id"].(string), urn["id"].(string)},
			{"/resource-servers/" + url.PathEscape("urn:acme:reports"), urn["id"].(string)},
			{"/resource-servers/urn%3Aacme%3Areports", urn["id"].(string)},
		} {
			if got := obj(t, f.must(t, http.StatusOK, "GET", tc.path, nil)); got["id"] != tc.id {
				t.Errorf("GET %s = %v", tc.path, got)
			}
		}
		mgmt := obj(t, f.must(t, http.StatusOK, "GET", "/resource-servers/"+url.PathEscape(directory.ManagementAudience), nil))
		if mgmt["is_system"] != true || len(arr(t, mgmt["scopes"])) != len(directory.ManagementScopes) {
			t.Errorf("management API = %v", mgmt)
		}
		list := f.must(t, http.StatusOK, "GET", "/resource-servers", nil)
		if got := ids(t, list, "identifier"); !slices.Equal(got, []string{directory.ManagementAudience, invoices, "urn:acme:reports"}) {
			t.Errorf("resource servers = %v", got)
		}
		page := obj(t, f.must(t, http.StatusOK, "GET", "/resource-servers?page=1&per_page=1&include_totals=true", nil))
		if got := ids(t, page["resource_servers"], "identifier"); !slices.Equal(got, []string{invoices}) || page["total"] != 3.0 {
			t.Errorf("page 1 = %v", page)
		}
		page = obj(t, f.must(t, http.StatusOK, "GET", "/resource-servers?page=0&per_page=1&include_totals=true", nil))
		if got := ids(t, page["resource_servers"], "identifier"); !slices.Equal(got, []string{directory.ManagementAudience}) || page["total"] != 3.0 {
			t.Errorf("page 0 = %v", page)
		}

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
			words  []string
		}{
			{name: "duplicate identifier", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": invoices, "name": "x"}, status: http.StatusConflict, code: "conflict", words: []string{"identifier"}},
			{name: "the management API", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": directory.ManagementAudience, "name": "x"}, status: http.StatusConflict, code: "conflict", words: []string{"identifier"}},
			{name: "identifier with a space", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://a b", "name": "x"}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"identifier"}},
			{name: "relative identifier", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "invoices", "name": "x"}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"identifier"}},
			{name: "no name", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test"}, status: http.StatusBadRequest, code: "invalid_body", words: []string{"name"}},
			{name: "lifetime above the maximum", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test", "name": "x", "token_lifetime": directory.MaxResourceTokenLifetime + 1},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"token_lifetime"}},
			{name: "negative refresh lifetime", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test", "name": "x", "refresh_token_lifetime": -1},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"refresh_token_lifetime"}},
			{name: "scope with a space", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test", "name": "x", "scopes": []any{map[string]any{"value": "a b"}}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"scopes"}},
			{name: "repeated scope", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test", "name": "x", "scopes": []any{map[string]any{"value": "a"}, map[string]any{"value": "a"}}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"scopes"}},
			{name: "internal not a boolean", method: "POST", path: "/resource-servers", body: map[string]any{"identifier": "https://x.test", "name": "x", "metadata": map[string]any{"internal": "yes"}},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"metadata"}},
			{name: "change the identifier", method: "PATCH", path: "/resource-servers/" + id, body: map[string]any{"identifier": "https://other.test", "name": "Changed"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"identifier"}},
			{name: "change the management API", method: "PATCH", path: "/resource-servers/" + url.PathEscape(directory.ManagementAudience), body: map[string]any{"name": "Mine"},
				status: http.StatusBadRequest, code: "invalid_body", words: []string{"Management API"}},
			{name: "delete the management API", method: "DELETE", path: "/resource-servers/api_management", status: http.StatusBadRequest, code: "invalid_body", words: []string{"Management API"}},
			{name: "unknown", method: "GET", path: "/resource-servers/api_nope", status: http.StatusNotFound, code: "resource_server_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.words...)
			})
		}
		if got := ids(t, f.must(t, http.StatusOK, "GET", "/resource-servers", nil), "name"); !slices.Equal(got, []string{"Authio Management API", "Invoices", "Reports"}) {
			t.Errorf("after refused requests: %v", got)
		}

		// Dropping a scope drops the permissions on it.
		role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "clerk"}))
		rolePerms := "/roles/" + role["id"].(string) + "/permissions"
		f.must(t, http.StatusNoContent, "POST", rolePerms, map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": id, "permission_name": "read:invoices"},
			map[string]any{"resource_server_identifier": invoices, "permission_name": "write:invoices"}}})
		updated := obj(t, f.must(t, http.StatusOK, "PATCH", "/resource-servers/"+id, map[string]any{"identifier": invoices, "name": "Billing",
			"scopes": []any{map[string]any{"value": "read:invoices", "description": "Read"}}, "token_lifetime": 900}))
		if updated["name"] != "Billing" || updated["token_lifetime"] != 900.0 || len(arr(t, updated["scopes"])) != 1 || updated["identifier"] != invoices {
			t.Errorf("updated = %v", updated)
		}
		if got := ids(t, f.must(t, http.StatusOK, "GET", rolePerms, nil), "permission_name"); !slices.Equal(got, []string{"read:invoices"}) {
			t.Errorf("role permissions after dropping write:invoices = %v (a permission given by resource server id must be stored by identifier)", got)
		}
		f.must(t, http.StatusNoContent, "DELETE", "/resource-servers/"+id, nil)
		wantError(t, f.api(t, "GET", "/resource-servers/"+id, nil), http.StatusNotFound, "resource_server_not_found")
		if got := arr(t, f.must(t, http.StatusOK, "GET", rolePerms, nil)); len(got) != 0 {
			t.Errorf("permissions on a deleted resource server remain: %v", got)
		}
	})
}
