package management

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	key := principal{actor: audit.Actor{Kind: "api_key", ID: "apk_1"}, all: true}
	reader := principal{scopes: map[string]bool{"read:organizations": true}}
	orgAdmin := principal{orgID: "org_a", scopes: map[string]bool{"read:organizations": true, "update:organization_members": true}}
	orgKey := principal{orgID: "org_a", all: true} // no such caller today; the organization limit must still hold

	for _, tc := range []struct {
		name      string
		p         principal
		a         access
		targetOrg string
		code      string // "" for allowed
	}{
		{name: "API key, any route", p: key, a: access{scope: "delete:clients"}},
		{name: "scope held", p: reader, a: access{scope: "read:organizations"}},
		{name: "scope missing", p: reader, a: access{scope: "create:organizations"}, code: "insufficient_scope"},
		{name: "no scopes at all", p: principal{}, a: access{scope: "read:organizations"}, code: "insufficient_scope"},
		{name: "org token on its organization", p: orgAdmin, a: access{scope: "read:organizations", org: true}, targetOrg: "org_a"},
		{name: "org token on its organization, scope missing", p: orgAdmin, a: access{scope: "update:organizations", org: true}, targetOrg: "org_a", code: "insufficient_scope"},
		{name: "org token on another organization", p: orgAdmin, a: access{scope: "read:organizations", org: true}, targetOrg: "org_b", code: "organization_forbidden"},
		{name: "org token on an unresolved organization", p: orgAdmin, a: access{scope: "read:organizations", org: true}, code: "organization_forbidden"},
		{name: "org token on a tenant route", p: orgAdmin, a: access{scope: "read:organizations"}, targetOrg: "org_a", code: "organization_forbidden"},
		{name: "org limit beats every scope", p: orgKey, a: access{scope: "read:users"}, code: "organization_forbidden"},
		{name: "org limit beats every scope, other organization", p: orgKey, a: access{scope: "read:organizations", org: true}, targetOrg: "org_b", code: "organization_forbidden"},
		{name: "tenant token on an organization route", p: reader, a: access{scope: "read:organizations", org: true}, targetOrg: "org_b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := authorize(tc.p, tc.a, tc.targetOrg)
			if tc.code == "" {
				if e != nil {
					t.Fatalf("refused: %v", e)
				}
				return
			}
			if e == nil {
				t.Fatalf("allowed, want %s", tc.code)
			}
			if e.code != tc.code || e.status != http.StatusForbidden {
				t.Errorf("got %d %s, want 403 %s", e.status, e.code, tc.code)
			}
			if tc.code == "insufficient_scope" && (e.scope != tc.a.scope || !strings.Contains(e.message, tc.a.scope)) {
				t.Errorf("insufficient_scope names %q / %q, want %q", e.scope, e.message, tc.a.scope)
			}
		})
	}
}

// Every route names a Management API scope that exists, and only organization routes are open to
// organization-scoped tokens.
func TestRoutesNameRealScopes(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, s := range directory.ManagementScopes {
		known[s.Value] = true
	}
	seen := map[string]bool{}
	for _, rt := range (&Handler{}).routes() {
		if !known[rt.scope] {
			t.Errorf("%s %s asks for unknown scope %q", rt.method, rt.path, rt.scope)
		}
		// Deleting the organization is the tenant's call, not its own token's.
		wantOrg := strings.HasPrefix(rt.path, "/organizations/{id}") && !(rt.method == http.MethodDelete && rt.path == "/organizations/{id}")
		if rt.org != wantOrg {
			t.Errorf("%s %s: org = %v", rt.method, rt.path, rt.org)
		}
		if seen[rt.method+" "+rt.path] {
			t.Errorf("%s %s registered twice", rt.method, rt.path)
		}
		seen[rt.method+" "+rt.path] = true
	}
}
