package tickets_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// apiError checks a Management API error: status and errorCode, and that the message names word.
func apiError(t *testing.T, r *testenv.Response, status int, code, word string) {
	t.Helper()
	var e struct {
		StatusCode int    `json:"statusCode"`
		ErrorCode  string `json:"errorCode"`
		Message    string `json:"message"`
	}
	if r.StatusCode != status || json.Unmarshal([]byte(r.Body), &e) != nil || e.StatusCode != status ||
		(code != "" && e.ErrorCode != code) || !strings.Contains(e.Message, word) {
		t.Errorf("%s %s: %d %s, want %d %s naming %q", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body, status, code, word)
	}
}

// ticket creates a ticket and returns its URL.
func ticket(t *testing.T, r *testenv.Response) string {
	t.Helper()
	var b map[string]any
	if r.StatusCode != http.StatusCreated || json.Unmarshal([]byte(r.Body), &b) != nil || len(b) != 1 {
		t.Fatalf("%s: %d %s, want 201 {\"ticket\": …}", r.Request.URL.Path, r.StatusCode, r.Body)
	}
	u, _ := b["ticket"].(string)
	return u
}

// TestTicketsAPI: POST /api/v2/tickets/password-change and /tickets/email-verification in Auth0's shapes: the
// ticket URL opens the hosted page on the tenant's domain and sends the browser to the registered result_url
// afterwards; result_url must be registered, the user must be the tenant's, and the scope create:user_tickets is
// needed.
func TestTicketsAPI(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		c := f.browser()
		key := f.acme.APIKey(t)
		api := func(path string, body any) *testenv.Response {
			return f.acme.API(t, c, "POST", path, key, body)
		}

		t.Run("password change by user_id, with result_url", func(t *testing.T) {
			link := ticket(t, api("/tickets/password-change", map[string]any{"user_id": f.alice.ID, "result_url": appRedirect,
				"ttl_sec": 3600, "includeEmailInRedirect": true}))
			if !strings.HasPrefix(link, f.acme.URL("/login/reset?token=")) {
				t.Fatalf("ticket = %s, want the reset page on acme's domain", link)
			}
			r := f.reset(t, f.browser(), f.acme, link, newPassword)
			loc := r.Location(t)
			if r.StatusCode != http.StatusSeeOther || loc.Scheme+"://"+loc.Host+loc.Path != appRedirect ||
				loc.Query().Get("success") != "true" || loc.Query().Get("email") != "alice@acme.test" {
				t.Fatalf("after the reset: %d to %s, want 303 to the result URL with success and email", r.StatusCode, loc)
			}
			if !f.passwordWorks(t, "alice@acme.test", newPassword) {
				t.Error("the ticket did not change the password")
			}
			// An API ticket marks the address verified only when asked to.
			if u, _ := f.env.S.Store.GetUser(f.acme.Ctx, f.alice.ID); u.EmailVerified {
				t.Error("a password change ticket without mark_email_as_verified verified the address")
			}
		})

		t.Run("password change by email and connection, marking the address verified", func(t *testing.T) {
			cons := f.acme.API(t, c, "GET", "/connections?strategy=auth0", key, nil)
			var list []map[string]any
			if err := json.Unmarshal([]byte(cons.Body), &list); err != nil || len(list) == 0 {
				t.Fatalf("connections: %s", cons.Body)
			}
			link := ticket(t, api("/tickets/password-change", map[string]any{"email": "ALICE@acme.test",
				"connection_id": list[0]["id"], "mark_email_as_verified": true}))
			if r := f.reset(t, f.browser(), f.acme, link, newPassword+"2"); r.StatusCode != http.StatusOK {
				t.Fatalf("reset with the ticket: %d\n%s", r.StatusCode, r.Body)
			}
			if u, _ := f.env.S.Store.GetUser(f.acme.Ctx, f.alice.ID); !u.EmailVerified {
				t.Error("mark_email_as_verified did not verify the address")
			}
		})

		t.Run("email verification", func(t *testing.T) {
			bob := f.acme.NewUser("bob@acme.test")
			link := ticket(t, api("/tickets/email-verification", map[string]any{"user_id": bob.ID, "result_url": appOrigin + "/welcome"}))
			r := testenv.Get(t, f.browser(), link)
			if loc := r.Location(t); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), appOrigin+"/welcome?") ||
				loc.Query().Get("email") != "" {
				t.Fatalf("verification ticket: %d to %s", r.StatusCode, loc)
			}
			if u, _ := f.env.S.Store.GetUser(f.acme.Ctx, bob.ID); !u.EmailVerified {
				t.Error("the verification ticket did not verify the address")
			}
			if r := testenv.Get(t, f.browser(), link); r.StatusCode != http.StatusGone {
				t.Errorf("the verification ticket used twice: %d, want 410", r.StatusCode)
			}
		})

		t.Run("refused", func(t *testing.T) {
			carol := f.globex.NewUser("carol@globex.test")
			for _, tc := range []struct {
				name, path   string
				body         any
				status       int
				code, naming string
			}{
				{"another tenant's user", "/tickets/password-change", map[string]any{"user_id": carol.ID}, 404, "user_not_found", carol.ID},
				{"another tenant's user (verification)", "/tickets/email-verification", map[string]any{"user_id": carol.ID}, 404, "user_not_found", carol.ID},
				{"unknown connection", "/tickets/password-change", map[string]any{"email": "carol@globex.test", "connection_id": "con_nope"}, 400, "invalid_body", "connection_id"},
				{"no user", "/tickets/password-change", map[string]any{"result_url": appRedirect}, 400, "invalid_body", "user_id"},
				{"user_id and email", "/tickets/password-change", map[string]any{"user_id": f.alice.ID, "email": "alice@acme.test"}, 400, "invalid_body", "user_id"},
				{"unregistered result_url", "/tickets/password-change", map[string]any{"user_id": f.alice.ID, "result_url": "https://evil.test/callback"}, 400, "invalid_body", "result_url"},
				{"result_url on a look-alike host", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "result_url": "https://app.acme.test.evil.test/"}, 400, "invalid_body", "result_url"},
				{"result_url with user info", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "result_url": "https://app.acme.test@evil.test/"}, 400, "invalid_body", "result_url"},
				{"javascript result_url", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "result_url": "javascript:alert(1)"}, 400, "invalid_body", "result_url"},
				{"scheme-relative result_url", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "result_url": "//evil.test/"}, 400, "invalid_body", "result_url"},
				{"negative ttl", "/tickets/password-change", map[string]any{"user_id": f.alice.ID, "ttl_sec": -1}, 400, "invalid_body", "ttl_sec"},
				{"ttl over 30 days", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "ttl_sec": 31 * 24 * 3600}, 400, "invalid_body", "ttl_sec"},
				{"unknown field", "/tickets/email-verification", map[string]any{"user_id": f.alice.ID, "mark_email_as_verified": true}, 400, "", "mark_email_as_verified"},
			} {
				t.Run(tc.name, func(t *testing.T) { apiError(t, api(tc.path, tc.body), tc.status, tc.code, tc.naming) })
			}
			if es := f.events(t, "user.ticket_created"); len(es) != 3 {
				t.Errorf("%d tickets audited, want the 3 created", len(es))
			}
		})

		t.Run("scope", func(t *testing.T) {
			mk := func(name string, scopes ...string) string {
				cl := f.acme.NewClient(directory.ClientSpec{Name: name, Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
					Audiences: []string{directory.ManagementAudience}, Scopes: scopes})
				form := url.Values{"audience": {directory.ManagementAudience}}
				if len(scopes) > 0 {
					form.Set("scope", strings.Join(scopes, " "))
				}
				return testenv.TokensOf(t, f.acme.ClientCredentials(t, c, cl.ClientID, cl.ClientSecret, form)).AccessToken
			}
			reader := mk("reader", "read:users")
			ticketer := mk("ticketer", "create:user_tickets")
			for _, p := range []string{"/tickets/password-change", "/tickets/email-verification"} {
				apiError(t, f.acme.API(t, c, "POST", p, reader, map[string]any{"user_id": f.alice.ID}), http.StatusForbidden,
					"insufficient_scope", "create:user_tickets")
				apiError(t, f.acme.API(t, c, "POST", p, "", map[string]any{"user_id": f.alice.ID}), http.StatusUnauthorized, "", "")
				ticket(t, f.acme.API(t, c, "POST", p, ticketer, map[string]any{"user_id": f.alice.ID}))
				// acme's key is nobody on globex.
				apiError(t, f.globex.API(t, c, "POST", p, key, map[string]any{"user_id": f.alice.ID}), http.StatusUnauthorized, "invalid_token", "")
			}
		})
	})
}

// TestCreateUserVerifyEmail: POST /api/v2/users with Auth0's verify_email mails the new user a verification link;
// without it, no mail.
func TestCreateUserVerifyEmail(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		key := f.acme.APIKey(t)
		for _, tc := range []struct {
			email string
			body  map[string]any
			mails int
		}{
			{"dave@acme.test", map[string]any{"verify_email": true}, 1},
			{"erin@acme.test", map[string]any{}, 0},
			{"frank@acme.test", map[string]any{"verify_email": true, "email_verified": true}, 0},
		} {
			tc.body["email"], tc.body["password"] = tc.email, testenv.Password
			if r := f.acme.API(t, f.browser(), "POST", "/users", key, tc.body); r.StatusCode != http.StatusCreated {
				t.Fatalf("POST /users %v: %d %s", tc.body, r.StatusCode, r.Body)
			}
			if n := f.sent(tc.email); n != tc.mails {
				t.Errorf("%s: %d mails, want %d", tc.email, n, tc.mails)
			}
		}
		_, link := f.mailTo(t, "dave@acme.test", 0)
		if r := testenv.Get(t, f.browser(), link); r.StatusCode != http.StatusOK {
			t.Errorf("dave's link: %d", r.StatusCode)
		}
	})
}
