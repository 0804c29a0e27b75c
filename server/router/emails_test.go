package router_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// One address, as different keyboards and input methods produce it.
const (
	jurgenNFC      = "j\u00fcrgen@acme.test"      // ü precomposed
	jurgenNFD      = "ju\u0308rgen@acme.test"     // u + combining diaeresis
	jurgenUpperNFD = "  JU\u0308RGEN@ACME.TEST\t" // and shouted, with stray white space
)

// TestEmailsCompareAsPeopleReadThem: every entry point (sign-up, sign-in, the Management API) treats spellings of
// one address that differ only in Unicode normalization, case or surrounding space as that one address.
func TestEmailsCompareAsPeopleReadThem(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		if err := env.S.SetSignup(context.Background(), acme.ID, true); err != nil {
			t.Fatal(err)
		}
		key := acme.APIKey(t)
		api := env.Client(testenv.ClientOptions{NoRedirects: true})

		signup := func(t *testing.T, email string) *testenv.Response {
			t.Helper()
			c := env.Client(testenv.ClientOptions{NoRedirects: true})
			// Sign-up was enabled before the first request; the wait only covers a slow cache announcement.
			var page *testenv.Response
			for deadline := time.Now().Add(3 * time.Second); ; {
				page = testenv.Get(t, c, acme.URL("/signup"))
				if page.StatusCode == http.StatusOK || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if page.StatusCode != http.StatusOK {
				t.Fatalf("GET /signup: %d", page.StatusCode)
			}
			return acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {email}, "password": {testenv.Password}})
		}
		users := func(t *testing.T) []string {
			t.Helper()
			us, _, err := env.S.Store.ListUsers(acme.Ctx, storage.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, u := range us {
				emails = append(emails, u.Email)
			}
			return emails
		}

		t.Run("sign-up twice in two normalization forms makes one account", func(t *testing.T) {
			if r := signup(t, jurgenNFC); r.StatusCode != http.StatusOK {
				t.Fatalf("first sign-up (NFC): status %d\n%s", r.StatusCode, r.Body)
			}
			r := signup(t, jurgenNFD)
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "If you already have one, sign in instead") {
				t.Errorf("second sign-up (NFD): status %d, want 400 with the page for an existing address\n%s", r.StatusCode, testenv.Alert(r.Body))
			}
			if r := signup(t, jurgenUpperNFD); r.StatusCode != http.StatusBadRequest {
				t.Errorf("third sign-up (upper case NFD): status %d, want 400", r.StatusCode)
			}
			if got := users(t); len(got) != 1 || got[0] != jurgenNFC {
				t.Errorf("users after three sign-ups = %+q, want only %+q", got, jurgenNFC)
			}
		})

		t.Run("sign-in in another spelling", func(t *testing.T) {
			// An account that only ever existed in NFC (no sign-up in another form to lean on).
			acme.NewUser("bj\u00f6rn@acme.test")
			for _, typed := range []string{jurgenNFD, jurgenUpperNFD, jurgenNFC, "bjo\u0308rn@acme.test", "BJO\u0308RN@Acme.Test "} {
				c := env.Client(testenv.ClientOptions{NoRedirects: true})
				r := acme.SignIn(t, c, typed, testenv.Password, "")
				if r.StatusCode != http.StatusOK || testenv.Cookie(c, acme.URL("/"), "authio_session") == "" {
					t.Errorf("sign-in typed %+q: status %d (session: %v), want signed in\n%s", typed, r.StatusCode,
						testenv.Cookie(c, acme.URL("/"), "authio_session") != "", testenv.Alert(r.Body))
				}
			}
			// A failure is audited under the canonical address, whatever was typed.
			c := env.Client(testenv.ClientOptions{NoRedirects: true})
			if r := acme.SignIn(t, c, "BJO\u0308RN@ACME.TEST", "wrong-password", ""); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: status %d", r.StatusCode)
			}
			r := acme.API(t, api, "GET", "/logs?include_totals=true&type=signin.failed", key, nil)
			var logs struct {
				Logs []struct {
					Data map[string]any `json:"data"`
				} `json:"logs"`
			}
			if err := json.Unmarshal([]byte(r.Body), &logs); err != nil || len(logs.Logs) != 1 {
				t.Fatalf("signin.failed events: %v\n%s", err, r.Body)
			}
			if got := logs.Logs[0].Data["email"]; got != "bj\u00f6rn@acme.test" {
				t.Errorf("signin.failed recorded email %+q, want the canonical bj\u00f6rn@acme.test", got)
			}
		})

		t.Run("management API", func(t *testing.T) {
			r := acme.API(t, api, "POST", "/users", key, map[string]any{"email": jurgenNFD, "password": testenv.Password})
			if r.StatusCode != http.StatusConflict {
				t.Errorf("POST /users with the NFD spelling of an existing user: status %d, want 409\n%s", r.StatusCode, r.Body)
			}
			r = acme.API(t, api, "GET", "/users-by-email?"+url.Values{"email": {jurgenUpperNFD}}.Encode(), key, nil)
			var found []struct {
				Email string `json:"email"`
			}
			if err := json.Unmarshal([]byte(r.Body), &found); err != nil || r.StatusCode != http.StatusOK || len(found) != 1 || found[0].Email != jurgenNFC {
				t.Errorf("users-by-email in another spelling: status %d %s, want the one user", r.StatusCode, r.Body)
			}
			// A new user is stored canonical, and an update cannot take another user's address in another spelling.
			r = acme.API(t, api, "POST", "/users", key, map[string]any{"email": "  STRA\u00dfE@acme.test ", "password": testenv.Password})
			var created struct {
				UserID string `json:"user_id"`
				Email  string `json:"email"`
			}
			if err := json.Unmarshal([]byte(r.Body), &created); err != nil || r.StatusCode != http.StatusCreated || created.Email != "strasse@acme.test" {
				t.Fatalf("POST /users STRAßE: status %d %s, want 201 with the canonical email", r.StatusCode, r.Body)
			}
			r = acme.API(t, api, "POST", "/users", key, map[string]any{"email": "STRASSE@ACME.TEST", "password": testenv.Password})
			if r.StatusCode != http.StatusConflict {
				t.Errorf("POST /users STRASSE after STRAßE: status %d, want 409", r.StatusCode)
			}
			other := acme.API(t, api, "POST", "/users", key, map[string]any{"email": "other@acme.test", "password": testenv.Password})
			var o struct {
				UserID string `json:"user_id"`
			}
			_ = json.Unmarshal([]byte(other.Body), &o)
			r = acme.API(t, api, "PATCH", "/users/"+o.UserID, key, map[string]any{"email": jurgenNFD})
			if r.StatusCode != http.StatusConflict {
				t.Errorf("PATCH another user to the NFD spelling: status %d, want 409\n%s", r.StatusCode, r.Body)
			}
			if got := users(t); len(got) != 4 {
				t.Errorf("users = %+q, want jürgen, björn, strasse and other", got)
			}
		})
	})
}
