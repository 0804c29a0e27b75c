package management_test

import (
	"net/http"
	"testing"

	"github.com/authio/authio/directory"
)

// TestRoleEscalation: the other ways to hand out Management API power — adding its permissions to a role, and
// assigning a role that holds them to a user, a member or a client — need the caller to hold each such permission
// (403 insufficient_scope naming it); roles holding only another API's permissions are assigned as before (Auth0's
// update:users assigns roles). globex's token does nothing at acme.
func TestRoleEscalation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		user := newUsers(f.acme, "member@acme.test")[0]
		f.must(t, http.StatusCreated, "POST", "/resource-servers", map[string]any{"identifier": "https://billing.acme.test",
			"name": "billing", "scopes": []map[string]any{{"value": "read:invoices"}}})
		role := func(name, api, perm string) string {
			id, _ := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": name}))["id"].(string)
			f.must(t, http.StatusNoContent, "POST", "/roles/"+id+"/permissions", map[string]any{"permissions": []map[string]any{
				{"resource_server_identifier": api, "permission_name": perm}}})
			return id
		}
		admin := role("admin", directory.ManagementAudience, "delete:users")
		billing := role("billing", "https://billing.acme.test", "read:invoices")
		org, _ := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "esc"}))["id"].(string)
		f.must(t, http.StatusNoContent, "POST", "/organizations/"+org+"/members", map[string]any{"members": []string{user}})

		caller := managementClient(f.acme, "update:roles", "update:users", "update:clients", "create:organization_member_roles")
		tok := f.managementToken(t, f.acme, caller, "update:roles", "update:users", "update:clients", "create:organization_member_roles")
		target := managementClient(f.acme, "read:users")
		for _, tc := range []struct {
			name, path string
			body       map[string]any
		}{
			{"add a Management API permission to a role", "/roles/" + billing + "/permissions", map[string]any{"permissions": []map[string]any{
				{"resource_server_identifier": directory.ManagementAudience, "permission_name": "delete:users"}}}},
			{"assign it to a user", "/users/" + user + "/roles", map[string]any{"roles": []string{admin}}},
			{"assign it to a client", "/clients/" + target.ClientID + "/roles", map[string]any{"roles": []string{admin}}},
			{"assign it to a member", "/organizations/" + org + "/members/" + user + "/roles", map[string]any{"roles": []string{admin}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.acme.API(t, f.c, "POST", tc.path, tok, tc.body), http.StatusForbidden, "insufficient_scope", "delete:users")
			})
		}
		if got := arr(t, f.must(t, http.StatusOK, "GET", "/users/"+user+"/roles", nil)); len(got) != 0 {
			t.Errorf("the user has roles: %v", got)
		}
		t.Run("another API's role is assigned", func(t *testing.T) {
			r := f.acme.API(t, f.c, "POST", "/users/"+user+"/roles", tok, map[string]any{"roles": []string{billing}})
			if r.StatusCode != http.StatusNoContent {
				t.Errorf("assign billing: %d %s", r.StatusCode, r.Body)
			}
		})
		t.Run("cross-tenant: globex's token assigns nothing at acme", func(t *testing.T) {
			g := managementClient(f.globex, "update:users")
			gtok := f.managementToken(t, f.globex, g, "update:users")
			wantError(t, f.acme.API(t, f.c, "POST", "/users/"+user+"/roles", gtok, map[string]any{"roles": []string{admin}}),
				http.StatusUnauthorized, "invalid_token")
		})
	})
}
