package management_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// TestListPaging: every list takes Auth0's offset paging (page from 0, per_page 1–100 defaulting to 50,
// include_totals giving {"<items>", start, limit, length, total}); organizations, members and connections also take
// checkpoint paging (from, take), answering {"<items>": [...], "next"} with next present until the last page, so an
// SDK iterating by next sees every item once (v7's organizations.list sends include_totals=true&take=50 and stopped
// at 50 before). Cursors are no way into another tenant.
func TestListPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		const orgCount = 120
		var orgIDs []string
		for i := range orgCount {
			o := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": fmt.Sprintf("org-%03d", i)}))
			orgIDs = append(orgIDs, o["id"].(string))
		}
		gOrg := obj(t, decode(t, f.globex.API(t, f.c, "POST", "/organizations", f.globexKey, map[string]any{"name": "globex-only"}), http.StatusCreated))

		// checkpointAll follows next from the first page; it returns the ids under key and the page sizes.
		checkpointAll := func(t *testing.T, path, query, key, idKey string) (got []string, sizes []int) {
			t.Helper()
			q, _ := url.ParseQuery(query)
			for i := 0; ; i++ {
				page := obj(t, f.must(t, http.StatusOK, "GET", path+"?"+q.Encode(), nil))
				items := arr(t, page[key])
				sizes = append(sizes, len(items))
				for _, it := range items {
					got = append(got, obj(t, it)[idKey].(string))
				}
				next, has := page["next"]
				if !has {
					return got, sizes
				}
				if s, _ := next.(string); s == "" || i > orgCount {
					t.Fatalf("next = %#v on page %d", next, i)
				}
				q.Set("from", next.(string))
			}
		}
		t.Run("organizations by checkpoint, as v7's iterator asks", func(t *testing.T) {
			got, sizes := checkpointAll(t, "/organizations", "include_totals=true&take=50", "organizations", "id")
			if !slices.Equal(got, orgIDs) || !slices.Equal(sizes, []int{50, 50, 20}) {
				t.Errorf("checkpoint pages: %d organizations in pages %v, want all %d in creation order in 50, 50, 20", len(got), sizes, orgCount)
			}
			got, sizes = checkpointAll(t, "/organizations", "take=100", "organizations", "id")
			if !slices.Equal(got, orgIDs) || !slices.Equal(sizes, []int{100, 20}) {
				t.Errorf("take=100: pages %v", sizes)
			}
			// from alone starts after that point with the default take of 50.
			first := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?take=10", nil))
			rest := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?from="+url.QueryEscape(first["next"].(string)), nil))
			if got := ids(t, rest["organizations"], "id"); len(got) != 50 || got[0] != orgIDs[10] {
				t.Errorf("from the 10th: %d organizations starting %v", len(got), got[:1])
			}
		})
		t.Run("organizations by offset", func(t *testing.T) {
			page := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?include_totals=true&page=2&per_page=50", nil))
			if page["start"] != 100.0 || page["limit"] != 50.0 || page["length"] != 20.0 || page["total"] != float64(orgCount) ||
				!slices.Equal(ids(t, page["organizations"], "id"), orgIDs[100:]) {
				t.Errorf("third page = start %v limit %v length %v total %v", page["start"], page["limit"], page["length"], page["total"])
			}
			if bare := arr(t, f.must(t, http.StatusOK, "GET", "/organizations", nil)); len(bare) != 50 {
				t.Errorf("default page = %d organizations, want 50", len(bare))
			}
		})

		// Members: 55 of one organization, by checkpoint and by offset.
		users := newUsers(f.acme, func() []string {
			var es []string
			for i := range 55 {
				es = append(es, fmt.Sprintf("m%02d@acme.test", i))
			}
			return es
		}()...)
		f.must(t, http.StatusNoContent, "POST", "/organizations/org-000/members", map[string]any{"members": users})
		t.Run("members", func(t *testing.T) {
			got, sizes := checkpointAll(t, "/organizations/org-000/members", "include_totals=true&take=50", "members", "user_id")
			if !slices.Equal(sortedCopy(got), sortedCopy(users)) || !slices.Equal(sizes, []int{50, 5}) {
				t.Errorf("member checkpoint pages %v, %d members", sizes, len(got))
			}
			page := obj(t, f.must(t, http.StatusOK, "GET", "/organizations/org-000/members?include_totals=true&page=1&per_page=50", nil))
			if page["total"] != 55.0 || page["length"] != 5.0 {
				t.Errorf("members offset page 1 = %v", page)
			}
		})

		t.Run("connections", func(t *testing.T) {
			for i := range 3 {
				f.must(t, http.StatusCreated, "POST", "/connections", map[string]any{"name": fmt.Sprintf("db-%d", i), "strategy": "auth0"})
			}
			got, sizes := checkpointAll(t, "/connections", "include_totals=true&take=2", "connections", "name")
			if !slices.Equal(got, []string{storage.DefaultPasswordConnection, "db-0", "db-1", "db-2"}) || !slices.Equal(sizes, []int{2, 2}) {
				t.Errorf("connection checkpoint pages %v: %v", sizes, got)
			}
			page := obj(t, f.must(t, http.StatusOK, "GET", "/connections?include_totals=true&per_page=3&page=1", nil))
			if page["total"] != 4.0 || !slices.Equal(ids(t, page["connections"], "name"), []string{"db-2"}) {
				t.Errorf("connections offset page = %v", page)
			}
		})

		// Every list: include_totals answers the totals object under Auth0's key; per_page over 100 is refused.
		role := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "viewer"}))
		roleID := role["id"].(string)
		f.must(t, http.StatusNoContent, "POST", "/roles/"+roleID+"/permissions", map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": directory.ManagementAudience, "permission_name": "read:users"}}})
		f.must(t, http.StatusNoContent, "POST", "/users/"+users[0]+"/roles", map[string]any{"roles": []string{roleID}})
		f.must(t, http.StatusNoContent, "POST", "/organizations/org-000/members/"+users[0]+"/roles", map[string]any{"roles": []string{roleID}})
		client := obj(t, f.must(t, http.StatusCreated, "POST", "/clients", map[string]any{"name": "worker", "app_type": "non_interactive"}))
		clientID := client["client_id"].(string)
		f.must(t, http.StatusNoContent, "POST", "/clients/"+clientID+"/roles", map[string]any{"roles": []string{roleID}})
		for _, tc := range []struct{ path, key string }{
			{"/organizations", "organizations"}, {"/organizations/org-000/members", "members"},
			{"/organizations/org-000/members/" + users[0] + "/roles", "roles"}, {"/organizations/org-000/clients", "clients"},
			{"/roles", "roles"}, {"/roles/" + roleID + "/permissions", "permissions"}, {"/resource-servers", "resource_servers"},
			{"/users", "users"}, {"/users/" + users[0] + "/organizations", "organizations"}, {"/users/" + users[0] + "/roles", "roles"},
			{"/clients", "clients"}, {"/clients/" + clientID + "/roles", "roles"}, {"/connections", "connections"}, {"/logs", "logs"},
		} {
			t.Run("totals "+tc.path, func(t *testing.T) {
				page := obj(t, f.must(t, http.StatusOK, "GET", tc.path+"?include_totals=true&per_page=1&page=0", nil))
				items := arr(t, page[tc.key])
				total, _ := page["total"].(float64)
				if page["start"] != 0.0 || page["limit"] != 1.0 || page["length"] != float64(len(items)) || len(items) > 1 || total < float64(len(items)) {
					t.Errorf("%s totals = %v", tc.path, page)
				}
				if total >= 1 && len(items) != 1 {
					t.Errorf("%s: total %v but %d items on the first page", tc.path, total, len(items))
				}
				bare := arr(t, f.must(t, http.StatusOK, "GET", tc.path+"?per_page=1", nil))
				if len(bare) != len(items) {
					t.Errorf("%s bare page = %v", tc.path, bare)
				}
				wantError(t, f.api(t, "GET", tc.path+"?per_page=101", nil), http.StatusBadRequest, "invalid_query_string", "per_page")
			})
		}
		for _, path := range []string{"/organizations", "/organizations/org-000/members", "/connections"} {
			t.Run("bad checkpoint "+path, func(t *testing.T) {
				wantError(t, f.api(t, "GET", path+"?from=not-a-cursor", nil), http.StatusBadRequest, "invalid_query_string", "from")
				wantError(t, f.api(t, "GET", path+"?take=0", nil), http.StatusBadRequest, "invalid_query_string", "take")
				wantError(t, f.api(t, "GET", path+"?take=101", nil), http.StatusBadRequest, "invalid_query_string", "take")
			})
		}

		// Cross-tenant: acme's cursor on globex pages globex's organizations only; acme's organization's members
		// are not globex's to page.
		mid := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?take=1", nil))["next"].(string)
		g := obj(t, decode(t, f.globex.API(t, f.c, "GET", "/organizations?take=100&from="+url.QueryEscape(mid), f.globexKey, nil), http.StatusOK))
		for _, id := range ids(t, g["organizations"], "id") {
			if id != gOrg["id"] {
				t.Errorf("globex's page with acme's cursor holds %s", id)
			}
		}
		wantError(t, f.globex.API(t, f.c, "GET", "/organizations/"+orgIDs[0]+"/members?take=10", f.globexKey, nil), http.StatusNotFound, "organization_not_found")
	})
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
