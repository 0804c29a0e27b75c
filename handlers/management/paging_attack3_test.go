package management_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	idgen "github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// TestPagingAttack3: the Management API's paging parameters under attack. A checkpoint cursor is opaque base64 of
// (time, id) that the caller can forge: whatever it decodes to — a NUL byte, bytes that are not UTF-8, a year
// the database cannot hold, an offset far from UTC — the answer is a page or a 400, never a 5xx, and never another
// tenant's rows. Offsets and sizes out of range are 400s or empty pages. Pages follow the (time, id) order exactly
// where times differ by fractions of a second or are equal.
func TestPagingAttack3(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		st := f.env.S.Store
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		offsets := []time.Duration{0, 500 * time.Millisecond, time.Second, time.Second + time.Microsecond, 1100 * time.Millisecond,
			2 * time.Second, 3 * time.Second, 3 * time.Second, 10 * time.Second}
		var want []string
		for i, d := range offsets {
			at := t0.Add(d)
			o := storage.Organization{ID: idgen.New("org"), Name: "paged-" + string(rune('a'+i)), DisplayName: "Paged", CreatedAt: at, UpdatedAt: at}
			if err := st.CreateOrganization(f.acme.Ctx, o); err != nil {
				t.Fatal(err)
			}
			want = append(want, o.ID)
		}
		// Equal times are ordered by id.
		if want[6] > want[7] {
			want[6], want[7] = want[7], want[6]
		}
		// globex has an organization at each of the same times.
		for i, d := range offsets {
			at := t0.Add(d)
			o := storage.Organization{ID: idgen.New("org"), Name: "g-" + string(rune('a'+i)), DisplayName: "G", CreatedAt: at, UpdatedAt: at}
			if err := st.CreateOrganization(f.globex.Ctx, o); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("take=1 walks every organization once, in (time, id) order", func(t *testing.T) {
			var got []string
			q := url.Values{"take": {"1"}}
			for i := 0; i < 20; i++ {
				page := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?"+q.Encode(), nil))
				got = append(got, ids(t, page["organizations"], "id")...)
				next, _ := page["next"].(string)
				if next == "" {
					break
				}
				q.Set("from", next)
			}
			if !slices.Equal(got, want) {
				t.Errorf("checkpoint walk:\n got %v\nwant %v", got, want)
			}
		})

		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, tc := range []struct{ name, from string }{
			{"a NUL in the id", cursor("2024-01-01T00:00:00Z|org_\x00x")},
			{"an id that is not UTF-8", cursor("2024-01-01T00:00:00Z|org_\xff\xfe")},
			{"year 0", cursor("0000-01-01T00:00:00Z|org_a")},
			{"year 9999", cursor("9999-12-31T23:59:59.999999999Z|org_a")},
			{"a far offset", cursor("2024-01-01T00:00:00+23:59|org_a")},
			{"a 64-byte id of quotes", cursor("2024-01-01T00:00:00Z|" + strings.Repeat("'", 64))},
			{"padding", base64.URLEncoding.EncodeToString([]byte("2024-01-01T00:00:00Z|org_a"))},
			{"standard alphabet", base64.StdEncoding.EncodeToString([]byte("2024-01-01T00:00:00Z|org_a?>"))},
			{"empty id", cursor("2024-01-01T00:00:00Z|")},
			{"huge", strings.Repeat("A", 4000)},
		} {
			for _, path := range []string{"/organizations", "/organizations/paged-a/members", "/connections"} {
				t.Run("forged cursor, "+tc.name+", "+path, func(t *testing.T) {
					r := f.api(t, "GET", path+"?from="+url.QueryEscape(tc.from), nil)
					if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusBadRequest {
						t.Fatalf("status %d, want a page or 400\n%.300s", r.StatusCode, r.Body)
					}
					if r.StatusCode == http.StatusOK && path == "/organizations" {
						for _, id := range ids(t, obj(t, decode(t, r, http.StatusOK))["organizations"], "id") {
							if !slices.Contains(want, id) && !strings.HasPrefix(id, "org_") {
								t.Errorf("unexpected id %s", id)
							}
						}
					}
				})
			}
		}

		t.Run("a forged cursor never reaches globex's rows", func(t *testing.T) {
			page := obj(t, f.must(t, http.StatusOK, "GET", "/organizations?take=100&from="+url.QueryEscape(cursor("0001-01-01T00:00:00Z|a")), nil))
			if got := ids(t, page["organizations"], "id"); !slices.Equal(got, want) {
				t.Errorf("from the beginning of time: %v, want acme's %v", got, want)
			}
		})

		for _, q := range []string{"per_page=-1", "per_page=0", "per_page=101", "per_page=1e2", "per_page=99999999999999999999",
			"page=-1", "page=99999999999999999999", "page=1.5", "take=-1", "take=0", "take=101", "take=99999999999999999999",
			"include_totals=yes", "include_totals=", "page=1000000&per_page=100&include_totals=true", "from=&take=1"} {
			for _, path := range []string{"/organizations", "/users", "/clients", "/roles", "/logs", "/connections", "/resource-servers"} {
				t.Run(path+"?"+q, func(t *testing.T) {
					r := f.api(t, "GET", path+"?"+q, nil)
					if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusBadRequest {
						t.Errorf("status %d, want 200 or 400\n%.300s", r.StatusCode, r.Body)
					}
				})
			}
		}

		for _, q := range []string{"since=0000-01-01T00:00:00%2B23:59", "until=9999-12-31T23:59:59-23:59", "since=9999-12-31T23:59:59Z&take=5",
			"until=0000-01-01T00:00:00Z&include_totals=true", "from=" + url.QueryEscape("evt_\u00e9\u00e9") + "&take=1"} {
			t.Run("/logs?"+q, func(t *testing.T) {
				r := f.api(t, "GET", "/logs?"+q, nil)
				if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, want 200 or 400\n%.300s", r.StatusCode, r.Body)
				}
			})
		}

		t.Run("globex's log id as from", func(t *testing.T) {
			glog := arr(t, decode(t, f.globex.API(t, f.c, "GET", "/logs?per_page=1", f.globexKey, nil), http.StatusOK))
			if len(glog) == 0 {
				decode(t, f.globex.API(t, f.c, "POST", "/organizations", f.globexKey, map[string]any{"name": "logged"}), http.StatusCreated)
				glog = arr(t, decode(t, f.globex.API(t, f.c, "GET", "/logs?per_page=1", f.globexKey, nil), http.StatusOK))
			}
			id, _ := obj(t, glog[0])["log_id"].(string)
			if id == "" {
				id, _ = obj(t, glog[0])["_id"].(string)
			}
			r := f.api(t, "GET", "/logs?take=10&from="+url.QueryEscape(id), nil)
			if r.StatusCode == http.StatusOK && strings.Contains(r.Body, "logged") {
				t.Errorf("acme's log read from globex's log id shows globex's events: %.300s", r.Body)
			}
			if r.StatusCode >= 500 {
				t.Errorf("status %d", r.StatusCode)
			}
		})
	})
}
