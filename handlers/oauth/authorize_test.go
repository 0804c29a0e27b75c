package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
)

func TestAuthorizeRejectsBadRequestsWithAPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})

	for _, tc := range []struct {
		name   string
		modify func(q url.Values)
	}{
		{name: "unregistered redirect_uri", modify: func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
		{name: "redirect_uri with another path", modify: func(q url.Values) { q.Set("redirect_uri", spaRedirect+"/../evil") }},
		{name: "redirect_uri with an added query", modify: func(q url.Values) { q.Set("redirect_uri", spaRedirect+"?next=https://evil.example") }},
		{name: "redirect_uri on another scheme", modify: func(q url.Values) { q.Set("redirect_uri", "http://app.acme.test/callback") }},
		{name: "unknown client", modify: func(q url.Values) { q.Set("client_id", "cli_nobody") }},
		{name: "no client_id", modify: func(q url.Values) { q.Del("client_id") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			q := ar.Query()
			tc.modify(q)
			r := testenv.Get(t, c, f.acme.URL("/authorize?"+q.Encode()))
			if r.StatusCode < 400 || r.StatusCode > 499 {
				t.Errorf("status %d, want 4xx", r.StatusCode)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %q; errors must not go to an unvalidated redirect URI", loc)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type = %q, want an HTML error page", r.Header.Get("Content-Type"))
			}
			if strings.Contains(r.Body, "evil.example") {
				t.Errorf("error page echoes the attacker's URI")
			}
		})
	}

	for _, tc := range []struct {
		name  string
		extra url.Values
		err   string
	}{
		{name: "prompt=none without a session", extra: url.Values{"prompt": {"none"}}, err: "login_required"},
		{name: "scope the client was not created with", extra: url.Values{"scope": {"openid admin"}}, err: "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			ar.Extra = tc.extra
			q := ar.Callback(t, f.acme, testenv.Get(t, c, ar.URL(f.acme)))
			if q.Get("error") != tc.err || q.Get("code") != "" {
				t.Errorf("callback = %v, want error=%s", q, tc.err)
			}
		})
	}
}

// TestAdvertisedResponseModesWork: every response mode discovery advertises must work for a registered client,
// and, since discovery also advertises authorization_response_iss_parameter_supported, carry iss (RFC 9207).
func TestAdvertisedResponseModesWork(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	signedIn := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	if r := f.acme.SignIn(t, signedIn, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d", r.StatusCode)
	}
	anonymous := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	var modes []string
	for _, m := range testenv.Get(t, signedIn, f.acme.URL("/.well-known/openid-configuration")).JSON(t)["response_modes_supported"].([]any) {
		modes = append(modes, m.(string))
	}
	for _, mode := range modes {
		for _, tc := range []struct {
			name  string
			c     *http.Client
			field string
			flow  bool // through a sign-in flow: the stored request answers in its own response mode
		}{
			{name: "code", c: signedIn, field: "code"},
			{name: "error", c: anonymous, field: "error"},
			{name: "code after a sign-in flow", c: f.env.Client(testenv.ClientOptions{NoRedirects: true}), field: "code", flow: true},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
				ar.Extra = url.Values{"response_mode": {mode}, "prompt": {"none"}}
				var r *testenv.Response
				if tc.flow {
					ar.Extra.Set("prompt", "login")
					signIn := f.acme.SignIn(t, tc.c, "alice@acme.test", testenv.Password, ar.Flow(t, f.acme, tc.c))
					r = testenv.Get(t, tc.c, signIn.Location(t).String())
				} else {
					r = testenv.Get(t, tc.c, ar.URL(f.acme))
				}
				var got url.Values
				switch mode {
				case "query":
					got = ar.Callback(t, f.acme, r)
				case "form_post":
					if r.StatusCode != http.StatusOK {
						t.Fatalf("status %d, want the auto-submitting form\n%s", r.StatusCode, r.Body)
					}
					form := testenv.ParseForm(t, r.Body)
					if form.Action != spaRedirect {
						t.Errorf("form action = %q, want %q", form.Action, spaRedirect)
					}
					got = form.Fields
				case "web_message":
					msg := wantWebMessage(t, r, appOrigin)
					if msg.TargetOrigin != appOrigin {
						t.Errorf("targetOrigin = %q, want %q", msg.TargetOrigin, appOrigin)
					}
					got = url.Values{}
					for k, v := range msg.Response {
						got.Set(k, v)
					}
				default:
					t.Fatalf("discovery advertises response mode %q that this test does not know", mode)
				}
				if got.Get(tc.field) == "" || got.Get("state") != ar.State {
					t.Errorf("response = %v, want %s and state", got, tc.field)
				}
				if tc.field == "code" && got.Get("error") != "" {
					t.Errorf("advertised response_mode=%s refused: %s: %s", mode, got.Get("error"), got.Get("error_description"))
				}
				if got.Get("iss") != f.acme.Issuer {
					t.Errorf("iss = %q, want %q (RFC 9207)", got.Get("iss"), f.acme.Issuer)
				}
			})
		}
	}
}

// TestReauthentication: prompt=login and max_age make a signed-in user sign in again, after which the flow
// completes with a new session.
func TestReauthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acme := f.acme
	acme.NewUser("alice@acme.test")
	// The clock runs in the past: fosite refuses an auth_time later than its own time.Now.
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)

	for _, tc := range []struct {
		name      string
		extra     url.Values
		elapsed   time.Duration // between the first sign-in and the request
		mustLogin bool
	}{
		{name: "prompt=login right after signing in", extra: url.Values{"prompt": {"login"}}, mustLogin: true},
		{name: "max_age=0 right after signing in", extra: url.Values{"max_age": {"0"}}, mustLogin: true},
		{name: "max_age=0 a minute after signing in", extra: url.Values{"max_age": {"0"}}, elapsed: time.Minute, mustLogin: true},
		{name: "max_age=60 two minutes after signing in", extra: url.Values{"max_age": {"60"}}, elapsed: 2 * time.Minute, mustLogin: true},
		{name: "max_age=600 two minutes after signing in", extra: url.Values{"max_age": {"600"}}, elapsed: 2 * time.Minute},
		{name: "prompt=none with a session", extra: url.Values{"prompt": {"none"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.env.Clock.Freeze(base)
			browser := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
			step := f.env.Client(testenv.ClientOptions{Jar: browser.Jar, NoRedirects: true})
			first := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			firstTokens := testenv.TokensOf(t, first.Exchange(t, acme, browser, first.Code(t, acme, browser, "alice@acme.test", testenv.Password)))
			_, firstID := testenv.DecodeJWT(t, firstTokens.IDToken)

			f.env.Clock.Advance(tc.elapsed)
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			ar.Extra = tc.extra
			r := testenv.Get(t, step, ar.URL(acme))
			loc := r.Location(t)
			if !tc.mustLogin {
				ar.Callback(t, acme, r)
				return
			}
			if loc.Path != "/login" {
				t.Fatalf("signed-in user was not asked to sign in again: redirected to %s", loc)
			}
			code := ar.Code(t, acme, browser, "alice@acme.test", testenv.Password)
			_, id := testenv.DecodeJWT(t, testenv.TokensOf(t, ar.Exchange(t, acme, browser, code)).IDToken)
			if id["sid"] == firstID["sid"] {
				t.Errorf("sid unchanged (%v): no new sign-in was recorded", id["sid"])
			}
			if at, _ := id["auth_time"].(float64); int64(at) != f.env.Clock.Now().Unix() {
				t.Errorf("auth_time = %v, want the re-authentication time %d", id["auth_time"], f.env.Clock.Now().Unix())
			}
		})
	}
}
