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

const portalRedirect = "https://portal.acme.test/callback"

// signIn runs the browser flow on acme for email through client (public, PKCE) with extra authorization
// parameters, and returns the access token.
func (f *fixture) signIn(t *testing.T, client directory.CreatedClient, email string, extra url.Values) string {
	t.Helper()
	browser := f.env.Client(testenv.ClientOptions{StopAt: []string{portalRedirect}})
	ar := testenv.NewAuthRequest(client.ClientID, portalRedirect)
	ar.Extra = extra
	code := ar.Code(t, f.acme, browser, email, testenv.Password)
	return testenv.TokensOf(t, ar.Exchange(t, f.acme, browser, code)).AccessToken
}

// orgTokenSetup is acme with organizations acme-corp (admin and member) and globex-corp (other), a role
// holding organization-level Management API permissions that admin holds in acme-corp, and a public portal
// client for the Management API audience that may use organizations.
type orgTokenSetup struct {
	acme, globex         map[string]any
	admin, member, other string
	portal               directory.CreatedClient
}

func newOrgTokenSetup(t *testing.T, f *fixture) orgTokenSetup {
	t.Helper()
	var o orgTokenSetup
	o.acme = obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp", "display_name": "Acme"}))
	o.globex = obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "globex-corp", "display_name": "Globex"}))
	users := newUsers(f.acme, "admin@acme.test", "member@acme.test", "other@globex.test")
	o.admin, o.member, o.other = users[0], users[1], users[2]
	f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": users[:2]})
	f.must(t, http.StatusNoContent, "POST", "/organizations/globex-corp/members", map[string]any{"members": users[1:]})
	role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "org-admin"}))
	var perms []any
	for _, p := range []string{"read:organizations", "update:organizations", "read:organization_members", "update:organization_members"} {
		perms = append(perms, map[string]any{"resource_server_identifier": directory.ManagementAudience, "permission_name": p})
	}
	f.must(t, http.StatusNoContent, "POST", "/roles/"+role["id"].(string)+"/permissions", map[string]any{"permissions": perms})
	f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members/"+o.admin+"/roles", map[string]any{"roles": []any{role["id"]}})
	o.portal = f.acme.NewClient(directory.ClientSpec{Name: "portal", Type: storage.ClientPublic, RedirectURIs: []string{portalRedirect},
		Audiences: []string{directory.ManagementAudience}, OrganizationUsage: storage.OrgUsageAllow})
	return o
}

// TestOrganizationScopedToken: a user's organization token for the Management API, from the real
// authorization code flow, reaches its own organization only.
func TestOrganizationScopedToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		o := newOrgTokenSetup(t, f)
		token := f.signIn(t, o.portal, "admin@acme.test", url.Values{"organization": {"acme-corp"}, "audience": {directory.ManagementAudience}})
		_, claims := testenv.DecodeJWT(t, token)
		if claims["org_id"] != o.acme["id"] {
			t.Fatalf("token org_id = %v, want %v", claims["org_id"], o.acme["id"])
		}

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
		}{
			{name: "own organization by id", method: "GET", path: "/organizations/" + o.acme["id"].(string), status: http.StatusOK},
			{name: "own organization by name", method: "GET", path: "/organizations/acme-corp", status: http.StatusOK},
			{name: "own members", method: "GET", path: "/organizations/acme-corp/members", status: http.StatusOK},
			{name: "own member's status", method: "PATCH", path: "/organizations/acme-corp/members/" + o.member, body: map[string]any{"status": "suspended"}, status: http.StatusOK},
			{name: "own member's roles without the permission", method: "GET", path: "/organizations/acme-corp/members/" + o.member + "/roles", status: http.StatusForbidden, code: "insufficient_scope"},
			{name: "add members without the permission", method: "POST", path: "/organizations/acme-corp/members", body: map[string]any{"members": []string{o.other}}, status: http.StatusForbidden, code: "insufficient_scope"},
			{name: "delete own organization", method: "DELETE", path: "/organizations/acme-corp", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "another organization by id", method: "GET", path: "/organizations/" + o.globex["id"].(string), status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "another organization by name", method: "GET", path: "/organizations/globex-corp", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "another organization's members", method: "GET", path: "/organizations/globex-corp/members", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "change another organization", method: "PATCH", path: "/organizations/globex-corp", body: map[string]any{"display_name": "Owned"}, status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "suspend another organization's member", method: "PATCH", path: "/organizations/globex-corp/members/" + o.other, body: map[string]any{"status": "suspended"}, status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "an unknown organization", method: "GET", path: "/organizations/org_nope", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "list every organization", method: "GET", path: "/organizations", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "organization by name route", method: "GET", path: "/organizations/name/acme-corp", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "tenant users", method: "GET", path: "/users/" + o.other, status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "tenant roles", method: "GET", path: "/roles", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "audit log", method: "GET", path: "/logs", status: http.StatusForbidden, code: "organization_forbidden"},
			{name: "update own organization", method: "PATCH", path: "/organizations/acme-corp", body: map[string]any{"display_name": "Acme Inc"}, status: http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.acme.API(t, f.c, tc.method, tc.path, token, tc.body)
				if tc.status == http.StatusOK {
					decode(t, r, http.StatusOK)
					if strings.Contains(r.Body, "globex") || strings.Contains(r.Body, o.other) {
						t.Errorf("answer carries another organization's data: %s", r.Body)
					}
					return
				}
				wantError(t, r, tc.status, tc.code)
				for _, leak := range []string{"Globex", o.other, "other@globex.test"} {
					if strings.Contains(r.Body, leak) {
						t.Errorf("refusal carries %q: %s", leak, r.Body)
					}
				}
			})
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/globex-corp", nil)); got["display_name"] != "Globex" {
			t.Errorf("globex changed through acme's token: %v", got)
		}
		members := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/globex-corp/members", nil))
		for _, m := range members {
			if obj(t, m)["status"] != "active" {
				t.Errorf("globex membership changed through acme's token: %v", m)
			}
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp", nil)); got["display_name"] != "Acme Inc" {
			t.Errorf("acme not updated by its own token: %v", got)
		}
		logs, _, _ := f.env.S.AuditLog(f.acme.Ctx, directory.LogQuery{Type: audit.EventMembershipUpdated})
		if len(logs) != 1 || logs[0].Actor != "user:"+o.admin {
			t.Errorf("membership update actor = %+v, want user:%s", logs, o.admin)
		}

		// The same user's token for the other organization has none of acme-corp's permissions there.
		member := f.signIn(t, o.portal, "other@globex.test", url.Values{"organization": {"globex-corp"}, "audience": {directory.ManagementAudience}})
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations/globex-corp", member, nil), http.StatusForbidden, "insufficient_scope")
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp", member, nil), http.StatusForbidden, "organization_forbidden")
	})
}

// TestOrganizationScopedClientToken: a machine client's organization token (client credentials with
// organization) reaches its organization only, with its granted scopes.
func TestOrganizationScopedClientToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		o := newOrgTokenSetup(t, f)
		worker := f.acme.NewClient(directory.ClientSpec{Name: "worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			Audiences: []string{directory.ManagementAudience}, Scopes: []string{"read:organizations", "read:organization_members"},
			OrganizationUsage: storage.OrgUsageAllow})
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/clients", map[string]any{"client_id": worker.ClientID})
		token := testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, worker.ClientID, worker.ClientSecret, url.Values{
			"audience": {directory.ManagementAudience}, "scope": {"read:organizations read:organization_members"}, "organization": {"acme-corp"}})).AccessToken

		if got := ids(t, decode(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp/members", token, nil), http.StatusOK), "user_id"); !slices.Equal(got, []string{o.admin, o.member}) {
			t.Errorf("members = %v", got)
		}
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations/globex-corp/members", token, nil), http.StatusForbidden, "organization_forbidden")
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", token, nil), http.StatusForbidden, "organization_forbidden")
		wantError(t, f.acme.API(t, f.c, "PATCH", "/organizations/acme-corp", token, map[string]any{"display_name": "x"}), http.StatusForbidden, "insufficient_scope")
		// A client not allowed into globex gets no token for it.
		r := f.acme.ClientCredentials(t, f.c, worker.ClientID, worker.ClientSecret, url.Values{
			"audience": {directory.ManagementAudience}, "scope": {"read:organizations"}, "organization": {"globex-corp"}})
		if r.StatusCode == http.StatusOK {
			t.Errorf("client credentials for an organization the client is not in: %s", r.Body)
		}
	})
}

// TestUserTokensUsePermissionsOnly: a user's internal (no organization) token carries the permissions of the
// user's tenant-level roles; scopes granted to the client count for nothing.
func TestUserTokensUsePermissionsOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		o := newOrgTokenSetup(t, f)
		support := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "support"}))
		f.must(t, http.StatusNoContent, "POST", "/roles/"+support["id"].(string)+"/permissions", map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": directory.ManagementAudience, "permission_name": "read:organizations"}}})
		f.must(t, http.StatusNoContent, "POST", "/users/"+o.member+"/roles", map[string]any{"roles": []any{support["id"]}})
		portal := f.acme.NewClient(directory.ClientSpec{Name: "console", Type: storage.ClientPublic, RedirectURIs: []string{portalRedirect},
			Audiences: []string{directory.ManagementAudience}, Scopes: []string{"openid", "profile", "email", "offline_access", "read:users"}})

		internal := f.signIn(t, portal, "member@acme.test", url.Values{"audience": {directory.ManagementAudience},
			"scope": {"openid profile email offline_access read:users"}})
		if _, claims := testenv.DecodeJWT(t, internal); claims["org_id"] != nil || !strings.Contains(claims["scope"].(string), "read:users") {
			t.Fatalf("internal token claims = %v", claims)
		}
		if got := ids(t, decode(t, f.acme.API(t, f.c, "GET", "/organizations", internal, nil), http.StatusOK), "name"); !slices.Equal(got, []string{"acme-corp", "globex-corp"}) {
			t.Errorf("organizations = %v", got)
		}
		wantError(t, f.acme.API(t, f.c, "GET", "/users/"+o.member, internal, nil), http.StatusForbidden, "insufficient_scope", "read:users")

		// A user without tenant-level roles reads nothing, whatever the client asked for.
		none := f.signIn(t, portal, "other@globex.test", url.Values{"audience": {directory.ManagementAudience},
			"scope": {"openid read:users"}})
		wantError(t, f.acme.API(t, f.c, "GET", "/users/"+o.other, none, nil), http.StatusForbidden, "insufficient_scope")
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", none, nil), http.StatusForbidden, "insufficient_scope")

		// A token for another audience is refused even with the right permissions.
		other := f.signIn(t, o.portal, "member@acme.test", nil)
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations", other, nil), http.StatusUnauthorized, "invalid_token", directory.ManagementAudience)
	})
}

func TestCrossTenantAccessFinds404(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		org := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp", "display_name": "Acme Secret"}))
		role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "acme-admin"}))
		user := f.acme.NewUser("alice@acme.test").ID
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": []string{user}})
		rs := obj(t, f.must(t, http.StatusCreated, "POST", "/resource-servers", map[string]any{"identifier": "urn:acme:secret", "name": "Acme Secret API"}))
		cl := f.acme.NewClient(directory.ClientSpec{Name: "acme-worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})

		// globex's own full-access credentials.
		gcl := f.globex.NewClient(directory.ClientSpec{Name: "globex-manager", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			Audiences: []string{directory.ManagementAudience}, Scopes: []string{"read:organizations", "read:organization_members", "read:roles",
				"read:users", "read:resource_servers", "read:clients", "delete:organizations", "update:users"}})
		gtoken := f.managementToken(t, f.globex, gcl, "read:organizations", "read:organization_members", "read:roles", "read:users",
			"read:resource_servers", "read:clients", "delete:organizations", "update:users")
		for _, cred := range []struct{ name, bearer string }{{"globex API key", f.globexKey}, {"globex token", gtoken}} {
			for _, tc := range []struct {
				method, path string
				body         any
				code         string
			}{
				{"GET", "/organizations/" + org["id"].(string), nil, "organization_not_found"},
				{"GET", "/organizations/acme-corp", nil, "organization_not_found"},
				{"GET", "/organizations/acme-corp/members", nil, "organization_not_found"},
				{"DELETE", "/organizations/" + org["id"].(string), nil, "organization_not_found"},
				{"GET", "/roles/" + role["id"].(string), nil, "role_not_found"},
				{"GET", "/users/" + user, nil, "user_not_found"},
				{"GET", "/users/" + user + "/organizations", nil, "user_not_found"},
				{"POST", "/users/" + user + "/roles", map[string]any{"roles": []any{role["id"]}}, "user_not_found"},
				{"GET", "/resource-servers/" + rs["id"].(string), nil, "resource_server_not_found"},
				{"GET", "/clients/" + cl.ClientID, nil, "client_not_found"},
			} {
				t.Run(cred.name+" "+tc.method+" "+tc.path, func(t *testing.T) {
					r := f.globex.API(t, f.c, tc.method, tc.path, cred.bearer, tc.body)
					wantError(t, r, http.StatusNotFound, tc.code)
					if strings.Contains(r.Body, "Acme Secret") || strings.Contains(r.Body, "alice@acme.test") {
						t.Errorf("answer carries acme's data: %s", r.Body)
					}
				})
			}
			if got := arr(t, decode(t, f.globex.API(t, f.c, "GET", "/organizations", cred.bearer, nil), http.StatusOK)); len(got) != 0 {
				t.Errorf("%s lists %v", cred.name, got)
			}
		}
		// And acme's credentials do not work on globex's host at all.
		wantError(t, f.globex.API(t, f.c, "GET", "/organizations", f.acmeKey, nil), http.StatusUnauthorized, "invalid_token")
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp", nil)); got["id"] != org["id"] {
			t.Errorf("acme's organization is gone: %v", got)
		}
	})
}

// TestWithdrawnAccessCountsAtOnce: the Management API reads a token's permissions and membership as they are
// now, so a role removal or a suspension takes effect on the next call, not when the token expires.
func TestWithdrawnAccessCountsAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		o := newOrgTokenSetup(t, f)
		token := f.signIn(t, o.portal, "admin@acme.test", url.Values{"organization": {"acme-corp"}, "audience": {directory.ManagementAudience}})
		decode(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp/members", token, nil), http.StatusOK)

		roles := arr(t, f.must(t, http.StatusOK, "GET", "/organizations/acme-corp/members/"+o.admin+"/roles", nil))
		roleID := obj(t, roles[0])["id"]
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/acme-corp/members/"+o.admin+"/roles", map[string]any{"roles": []any{roleID}})
		wantError(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp/members", token, nil), http.StatusForbidden, "insufficient_scope")

		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members/"+o.admin+"/roles", map[string]any{"roles": []any{roleID}})
		decode(t, f.acme.API(t, f.c, "GET", "/organizations/acme-corp/members", token, nil), http.StatusOK)

		f.must(t, http.StatusOK, "PATCH", "/organizations/acme-corp/members/"+o.admin, map[string]any{"status": "suspended"})
		r := f.acme.API(t, f.c, "GET", "/organizations/acme-corp/members", token, nil)
		wantError(t, r, http.StatusUnauthorized, "invalid_token")
		if strings.Contains(r.Body, "member@acme.test") {
			t.Errorf("a suspended member's token still reads members: %s", r.Body)
		}
	})
}
