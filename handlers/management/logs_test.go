package management_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
)

func TestAuditLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		// An hour ago on the server's clock, so the time filters have exact edges.
		t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		f.env.Clock.Freeze(t0)
		viewer := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "viewer"}))
		editor := obj(t, f.must(t, http.StatusCreated, "POST", "/roles", map[string]any{"name": "editor"}))
		org := obj(t, f.must(t, http.StatusCreated, "POST", "/organizations", map[string]any{"name": "acme-corp", "default_role_id": viewer["id"]}))
		orgID := org["id"].(string)
		users := newUsers(f.acme, "alice@acme.test", "bob@acme.test")
		alice := users[0]
		f.env.Clock.Advance(time.Minute)
		start := t0.Add(time.Minute)

		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members", map[string]any{"members": users})
		f.must(t, http.StatusOK, "PATCH", "/organizations/acme-corp/members/"+alice, map[string]any{"status": "suspended"})
		f.must(t, http.StatusNoContent, "POST", "/organizations/acme-corp/members/"+alice+"/roles", map[string]any{"roles": []any{editor["id"]}})
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/acme-corp/members/"+alice+"/roles", map[string]any{"roles": []any{editor["id"]}})
		f.must(t, http.StatusNoContent, "DELETE", "/organizations/acme-corp/members", map[string]any{"members": []string{alice}})
		// Refused changes leave no trace.
		wantError(t, f.api(t, "PATCH", "/organizations/acme-corp/members/"+users[1], map[string]any{"status": "bogus"}), http.StatusBadRequest, "invalid_body")

		logs := func(t *testing.T, q url.Values) (types []string, page map[string]any) {
			t.Helper()
			page = obj(t, f.must(t, http.StatusOK, "GET", "/logs?"+q.Encode(), nil))
			for _, e := range arr(t, page["logs"]) {
				types = append(types, obj(t, e)["type"].(string))
			}
			return types, page
		}
		aliceOrg := url.Values{"user_id": {alice}, "organization_id": {orgID}}
		types, page := logs(t, aliceOrg)
		want := []string{audit.EventMembershipDeleted, audit.EventRoleRemoved, audit.EventRoleAssigned, audit.EventMembershipUpdated,
			audit.EventRoleAssigned, audit.EventMembershipCreated}
		if !slices.Equal(types, want) || page["next"] != nil {
			t.Fatalf("alice's events, newest first = %v (next %v), want %v", types, page["next"], want)
		}
		events := arr(t, page["logs"])
		created, updated, assigned, defaultRole := obj(t, events[5]), obj(t, events[3]), obj(t, events[2]), obj(t, events[4])
		if created["user_id"] != alice || created["organization_id"] != orgID || created["actor"] == "" || obj(t, created["data"])["status"] != "active" {
			t.Errorf("membership.created = %v", created)
		}
		if d := obj(t, updated["data"]); d["from"] != "active" || d["to"] != "suspended" {
			t.Errorf("membership.updated data = %v", d)
		}
		if d := obj(t, assigned["data"]); d["role_id"] != editor["id"] || d["role_name"] != "editor" || d["source"] != "manual" || d["subject"] != "membership" ||
			assigned["user_id"] != alice || assigned["organization_id"] != orgID {
			t.Errorf("role.assigned = %v", assigned)
		}
		if d := obj(t, defaultRole["data"]); d["role_id"] != viewer["id"] || d["source"] != "default" {
			t.Errorf("default role assignment = %v", defaultRole)
		}
		if a, _ := assigned["actor"].(string); len(a) < len("api_key:apk_") || a[:len("api_key:apk_")] != "api_key:apk_" {
			t.Errorf("actor = %q, want the API key", a)
		}
		if _, err := time.Parse(time.RFC3339, assigned["date"].(string)); err != nil || assigned["log_id"] == "" {
			t.Errorf("log entry date/id = %v/%v", assigned["date"], assigned["log_id"])
		}

		// Filters by type and time.
		if types, _ := logs(t, url.Values{"type": {audit.EventMembershipCreated}}); len(types) != 2 {
			t.Errorf("membership.created events = %v, want alice's and bob's", types)
		}
		if types, _ := logs(t, url.Values{"type": {audit.EventRoleAssigned}, "user_id": {alice}}); len(types) != 2 {
			t.Errorf("role.assigned for alice = %v", types)
		}
		if types, _ := logs(t, url.Values{"organization_id": {orgID}, "since": {start.Format(time.RFC3339)}, "until": {start.Add(time.Second).Format(time.RFC3339)}}); len(types) != 8 {
			t.Errorf("events of the organization in the window = %v, want 8", types)
		}
		if types, _ := logs(t, url.Values{"organization_id": {orgID}, "until": {start.Format(time.RFC3339)}}); len(types) != 1 || types[0] != directory.EventOrganizationCreated {
			t.Errorf("events before the window = %v, want only organization.created", types)
		}

		// Cursor paging: two at a time through alice's six events.
		var paged []string
		q := url.Values{"user_id": {alice}, "organization_id": {orgID}, "take": {"2"}}
		for i := 0; ; i++ {
			types, page := logs(t, q)
			paged = append(paged, types...)
			next, _ := page["next"].(string)
			if next == "" {
				break
			}
			if i > 5 {
				t.Fatal("paging does not end")
			}
			q.Set("from", next)
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged = %v, want %v", paged, want)
		}

		for _, tc := range []struct{ query, param string }{
			{"take=0", "take"}, {"take=101", "take"}, {"take=x", "take"}, {"since=yesterday", "since"}, {"from=abc", "from"},
			{"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
		} {
			t.Run(tc.query, func(t *testing.T) {
				wantError(t, f.api(t, "GET", "/logs?"+tc.query, nil), http.StatusBadRequest, "invalid_query_string", tc.param)
			})
		}
		// Another tenant's log holds none of it.
		g := obj(t, decode(t, f.globex.API(t, f.c, "GET", "/logs?type="+audit.EventMembershipCreated, f.globexKey, nil), http.StatusOK))
		if len(arr(t, g["logs"])) != 0 {
			t.Errorf("globex sees acme's events: %v", g)
		}
	})
}
