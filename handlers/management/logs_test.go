package management_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
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

		// logs lists with include_totals: {"logs": [...], "start", "limit", "length", "total"}.
		logs := func(t *testing.T, q url.Values) (types []string, page map[string]any) {
			t.Helper()
			q = cloneValues(q)
			q.Set("include_totals", "true")
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
		if !slices.Equal(types, want) || page["total"] != 6.0 || page["start"] != 0.0 || page["limit"] != 50.0 || page["length"] != 6.0 {
			t.Fatalf("alice's events, newest first = %v (totals %v), want %v", types, page, want)
		}
		// Without include_totals, the same events as a bare array, as Auth0 answers.
		if bare := arr(t, f.must(t, http.StatusOK, "GET", "/logs?"+aliceOrg.Encode(), nil)); len(bare) != 6 {
			t.Fatalf("bare list = %v", bare)
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

		// Offset pages, two at a time, newest first; the page after the last is empty (Auth0's SDKs stop there).
		var paged []string
		for page := 0; page < 4; page++ {
			q := cloneValues(aliceOrg)
			q.Set("per_page", "2")
			q.Set("page", fmt.Sprint(page))
			types, body := logs(t, q)
			paged = append(paged, types...)
			if body["total"] != 6.0 || body["start"] != float64(2*page) || body["limit"] != 2.0 {
				t.Errorf("page %d totals = %v", page, body)
			}
			if page == 3 && len(types) != 0 {
				t.Errorf("page past the end = %v", types)
			}
		}
		if !slices.Equal(paged, want) {
			t.Errorf("offset pages = %v, want %v", paged, want)
		}

		// Checkpoints: take two at a time from the oldest, following the Link header's next URL, until an empty
		// array, whose next URL is the same again.
		var forward, seen []string
		next := f.acme.URL("/api/v2/logs?" + url.Values{"user_id": {alice}, "organization_id": {orgID}, "take": {"2"}}.Encode())
		for i := 0; ; i++ {
			r := testenv.Get(t, f.c, next, testenv.Bearer(f.acmeKey))
			batch := arr(t, decode(t, r, http.StatusOK))
			link := r.Header.Get("Link")
			m := linkNextRE.FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("Link header %q has no rel=next URL", link)
			}
			if len(batch) == 0 {
				if m[1] != next {
					t.Errorf("next after an empty page = %s, want the same URL %s", m[1], next)
				}
				break
			}
			for _, e := range batch {
				forward = append(forward, obj(t, e)["type"].(string))
				seen = append(seen, obj(t, e)["log_id"].(string))
			}
			if i > 5 {
				t.Fatal("checkpoint paging does not end")
			}
			next = m[1]
		}
		backward := slices.Clone(want)
		slices.Reverse(backward)
		if !slices.Equal(forward, backward) {
			t.Errorf("checkpoint pages = %v, want oldest first %v", forward, backward)
		}
		// From a given event: the ones after it.
		after := arr(t, f.must(t, http.StatusOK, "GET", "/logs?"+url.Values{"user_id": {alice}, "from": {seen[3]}, "take": {"10"}}.Encode(), nil))
		if len(after) != 2 || obj(t, after[0])["log_id"] != seen[4] {
			t.Errorf("events after %s = %v, want %v", seen[3], after, seen[4:])
		}
		// One event by id.
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/logs/"+seen[0], nil)); got["log_id"] != seen[0] || got["type"] != audit.EventMembershipCreated {
			t.Errorf("GET /logs/%s = %v", seen[0], got)
		}
		wantError(t, f.api(t, "GET", "/logs/evt_nope", nil), http.StatusNotFound, "log_not_found")

		for _, tc := range []struct{ query, param string }{
			{"take=0", "take"}, {"take=101", "take"}, {"take=x", "take"}, {"since=yesterday", "since"}, {"from=abc", "from"},
			{"from=evt_nope&take=2", "from"}, {"per_page=0", "per_page"}, {"per_page=101", "per_page"}, {"page=-1", "page"},
			{"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
		} {
			t.Run(tc.query, func(t *testing.T) {
				wantError(t, f.api(t, "GET", "/logs?"+tc.query, nil), http.StatusBadRequest, "invalid_query_string", tc.param)
			})
		}
		// Another tenant's log holds none of it: no listing, no event by id, no checkpoint from acme's event.
		if g := arr(t, decode(t, f.globex.API(t, f.c, "GET", "/logs?type="+audit.EventMembershipCreated, f.globexKey, nil), http.StatusOK)); len(g) != 0 {
			t.Errorf("globex sees acme's events: %v", g)
		}
		for _, e := range arr(t, decode(t, f.globex.API(t, f.c, "GET", "/logs?take=100", f.globexKey, nil), http.StatusOK)) {
			if id := obj(t, e)["log_id"].(string); slices.Contains(seen, id) || obj(t, e)["type"] != audit.EventAPIKeyUsed && obj(t, e)["type"] != directory.EventAPIKeyCreated {
				t.Errorf("globex's checkpoint from the start holds %v, not one of its own API key events", e)
			}
		}
		wantError(t, f.globex.API(t, f.c, "GET", "/logs/"+seen[0], f.globexKey, nil), http.StatusNotFound, "log_not_found")
		wantError(t, f.globex.API(t, f.c, "GET", "/logs?from="+seen[0], f.globexKey, nil), http.StatusBadRequest, "invalid_query_string", "from")
	})
}

// linkNextRE reads the rel="next" URL of a Link header.
var linkNextRE = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// cloneValues copies a query.
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
