package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// session is a browser signed in through the SPA, with the ID token the SPA received.
type session struct {
	browser *http.Client // stops at the SPA's URIs
	step    *http.Client // same jar, no redirects
	idToken string
	cookie  string // the session cookie's value
}

func (f *fixture) signIn(t *testing.T) *session {
	t.Helper()
	b := f.env.Client(testenv.ClientOptions{StopAt: []string{spaOrigin}})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	tok := testenv.TokensOf(t, ar.Exchange(t, f.acme, b, ar.Code(t, f.acme, b, "alice@acme.test", testenv.Password)))
	return &session{
		browser: b,
		step:    f.env.Client(testenv.ClientOptions{Jar: b.Jar, NoRedirects: true}),
		idToken: tok.IDToken,
		cookie:  testenv.Cookie(b, f.acme.Issuer, "authio_session"),
	}
}

// ended checks that the session is over on the server, not only that the browser dropped the cookie.
func (f *fixture) ended(t *testing.T, s *session) {
	t.Helper()
	if f.signedIn(t, s.browser) {
		t.Error("still signed in after logout")
	}
	replay := f.env.Client(testenv.ClientOptions{})
	u, _ := url.Parse(f.acme.Issuer)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "authio_session", Value: s.cookie, Path: "/"}})
	if f.signedIn(t, replay) {
		t.Error("the old session cookie still signs in: the session was not ended on the server")
	}
}

func TestRPInitiatedLogoutWithHint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		path   string
		param  string
		status int
	}{
		{name: "oidc", path: "/oidc/logout", param: "post_logout_redirect_uri", status: http.StatusSeeOther},
		{name: "auth0", path: "/v2/logout", param: "returnTo", status: http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.signIn(t)
			q := url.Values{"id_token_hint": {s.idToken}, tc.param: {spaBye}, "state": {"st-123"}}
			r := testenv.Get(t, s.step, f.acme.URL(tc.path+"?"+q.Encode()))
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.StatusCode, tc.status, r.Body)
			}
			loc := r.Location(t)
			if loc.Scheme+"://"+loc.Host+loc.Path != spaBye || loc.Query().Get("state") != "st-123" {
				t.Errorf("redirected to %s, want %s?state=st-123", loc, spaBye)
			}
			f.ended(t, s)
		})
	}
}

func TestLogoutRefusesUnregisteredRedirects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.signIn(t)
	for _, tc := range []struct {
		name string
		path string
		q    url.Values
	}{
		{name: "unregistered post_logout_redirect_uri", path: "/oidc/logout",
			q: url.Values{"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}}},
		{name: "unregistered returnTo", path: "/v2/logout",
			q: url.Values{"id_token_hint": {s.idToken}, "returnTo": {"https://evil.example/bye"}}},
		{name: "unknown client_id", path: "/oidc/logout", q: url.Values{"client_id": {"cli_nobody"}}},
		{name: "login redirect URI is not a logout URI", path: "/oidc/logout",
			q: url.Values{"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {spaRedirect}}},
		{name: "registered URI without a client", path: "/oidc/logout",
			q: url.Values{"post_logout_redirect_uri": {spaBye}}},
		{name: "forged id_token_hint", path: "/oidc/logout",
			q: url.Values{"id_token_hint": {forge(t, s.idToken)}, "post_logout_redirect_uri": {spaBye}}},
		{name: "hint for another client", path: "/oidc/logout",
			q: url.Values{"id_token_hint": {s.idToken}, "client_id": {"cli_other"}, "post_logout_redirect_uri": {spaBye}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Get(t, s.step, f.acme.URL(tc.path+"?"+tc.q.Encode()))
			if r.StatusCode < 400 || r.StatusCode > 499 {
				t.Errorf("status %d, want a 4xx error page", r.StatusCode)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s", loc)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
			}
			if !f.signedIn(t, s.browser) {
				t.Error("a refused logout ended the session")
			}
		})
	}
}

// forge re-signs nothing: it swaps the claims of a genuine token, so the signature no longer matches.
func forge(t *testing.T, idToken string) string {
	parts := strings.Split(idToken, ".")
	other := strings.Split(testenv.RandomString(30)+"."+testenv.RandomString(30), ".")
	return parts[0] + "." + other[0] + "." + parts[2]
}

func TestLogoutWithoutHintAsksForConfirmation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		path string
		q    url.Values
		want string // where the confirmed logout goes; "" for the signed-out page
	}{
		{name: "oidc with redirect", path: "/oidc/logout",
			q: url.Values{"client_id": {f.spa.ClientID}, "post_logout_redirect_uri": {spaBye}, "state": {"s1"}}, want: spaBye + "?state=s1"},
		{name: "oidc with client_id alone", path: "/oidc/logout", q: url.Values{"client_id": {f.spa.ClientID}}},
		{name: "bare", path: "/oidc/logout", q: url.Values{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.signIn(t)
			r := testenv.Get(t, s.step, f.acme.URL(tc.path+"?"+tc.q.Encode()))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want the confirmation page", r.StatusCode)
			}
			form := testenv.ParseForm(t, r.Body)
			if form.Method != "POST" || form.Fields.Get("csrf_token") == "" || !form.HasSubmit {
				t.Fatalf("confirmation form: %+v", form)
			}
			if !f.signedIn(t, s.browser) {
				t.Fatal("showing the confirmation ended the session")
			}

			// Posting without the CSRF token (as an RP may) is treated like a GET without a hint: it asks for
			// confirmation again and does not end the session.
			noCSRF := url.Values{}
			for k, v := range form.Fields {
				if k != "csrf_token" {
					noCSRF[k] = v
				}
			}
			action := form.Action
			if action == "" {
				action = tc.path
			}
			if r := testenv.PostForm(t, s.step, f.acme.URL(action), noCSRF, testenv.Header("Origin", f.acme.Issuer)); r.StatusCode != http.StatusOK || r.Header.Get("Location") != "" {
				t.Errorf("POST without CSRF token: status %d Location %q, want the confirmation page again", r.StatusCode, r.Header.Get("Location"))
			} else if again := testenv.ParseForm(t, r.Body); again.Fields.Get("csrf_token") == "" {
				t.Errorf("POST without CSRF token did not show the confirmation form: %+v", again)
			}
			if !f.signedIn(t, s.browser) {
				t.Fatal("a logout POST without CSRF token ended the session")
			}

			form.Action = action
			r = f.acme.Submit(t, s.step, form, nil)
			if tc.want == "" {
				if r.StatusCode != http.StatusOK || r.Header.Get("Location") != "" {
					t.Errorf("status %d Location %q, want the signed-out page", r.StatusCode, r.Header.Get("Location"))
				}
			} else if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
				t.Errorf("status %d Location %q, want 303 to %s", r.StatusCode, r.Header.Get("Location"), tc.want)
			}
			f.ended(t, s)
		})
	}
}

// TestRPInitiatedLogoutByPost: OpenID Connect RP-Initiated Logout 1.0 section 2: "OpenID Providers MUST support
// the use of the HTTP GET and POST methods at the Logout Endpoint". A relying party's POST comes from its own
// origin and carries no CSRF token of ours; the id_token_hint is what vouches for it.
func TestRPInitiatedLogoutByPost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.signIn(t)
	r := testenv.PostForm(t, s.step, f.acme.URL("/oidc/logout"), url.Values{
		"id_token_hint": {s.idToken}, "post_logout_redirect_uri": {spaBye}, "state": {"st-9"},
	}, testenv.Header("Origin", spaOrigin))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != spaBye+"?state=st-9" {
		t.Fatalf("status %d Location %q, want 303 to %s?state=st-9", r.StatusCode, r.Header.Get("Location"), spaBye)
	}
	f.ended(t, s)
}

// TestAuth0LogoutSignsOutAtOnce: Auth0's /v2/logout, as its SDKs call it (client_id and returnTo, no
// id_token_hint), ends the session at once and redirects (302) to returnTo when it is registered for the client
// (exact match), or to the client's first post-logout redirect URI without returnTo; without client_id it shows
// the signed-out page. federated is ignored. An unregistered returnTo, returnTo without client_id, or a client_id
// of another tenant is the error page (400): no redirect, and the session lives on.
func TestAuth0LogoutSignsOutAtOnce(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newFixtureOn(t, opts)
		noLogoutURIs := f.acme.NewClient(directory.ClientSpec{Name: "no-logout", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
		second := f.acme.NewClient(directory.ClientSpec{Name: "two-logouts", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			PostLogoutRedirectURIs: []string{spaOrigin + "/first", spaBye}})
		globex := f.env.NewTenant("globex")
		foreign := globex.NewClient(directory.ClientSpec{Name: "globex-spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			PostLogoutRedirectURIs: []string{spaBye}})

		for _, tc := range []struct {
			name string
			q    url.Values
			want string // the redirect; "" for the signed-out page
		}{
			{name: "client_id and returnTo", q: url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye}}, want: spaBye},
			{name: "federated is ignored", q: url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye}, "federated": {""}}, want: spaBye},
			{name: "client_id alone: the first logout URL", q: url.Values{"client_id": {second.ClientID}}, want: spaOrigin + "/first"},
			{name: "client_id alone, no logout URL", q: url.Values{"client_id": {noLogoutURIs.ClientID}}},
			{name: "no client_id", q: url.Values{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := f.signIn(t)
				r := testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+tc.q.Encode()))
				if tc.want == "" {
					if r.StatusCode != http.StatusOK || r.Header.Get("Location") != "" || strings.Contains(r.Body, "<form") {
						t.Errorf("status %d Location %q, want the signed-out page without a form\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
					}
				} else if r.StatusCode != http.StatusFound || r.Header.Get("Location") != tc.want {
					t.Errorf("status %d Location %q, want 302 to %s", r.StatusCode, r.Header.Get("Location"), tc.want)
				}
				f.ended(t, s)
			})
		}

		t.Run("not signed in", func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			r := testenv.Get(t, c, f.acme.URL("/v2/logout?"+url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye}}.Encode()))
			if r.StatusCode != http.StatusFound || r.Header.Get("Location") != spaBye {
				t.Errorf("status %d Location %q, want 302 to %s", r.StatusCode, r.Header.Get("Location"), spaBye)
			}
		})

		for _, tc := range []struct {
			name string
			q    url.Values
		}{
			{name: "unregistered returnTo", q: url.Values{"client_id": {f.spa.ClientID}, "returnTo": {"https://evil.example/bye"}}},
			{name: "returnTo that only prefixes a registered one", q: url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye + "/more"}}},
			{name: "a login redirect URI is not a logout URI", q: url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaRedirect}}},
			{name: "returnTo without client_id", q: url.Values{"returnTo": {spaBye}}},
			{name: "unknown client_id", q: url.Values{"client_id": {"cli_nobody"}, "returnTo": {spaBye}}},
			{name: "another tenant's client_id", q: url.Values{"client_id": {foreign.ClientID}, "returnTo": {spaBye}}},
			{name: "another tenant's client_id alone", q: url.Values{"client_id": {foreign.ClientID}}},
		} {
			t.Run("refused: "+tc.name, func(t *testing.T) {
				s := f.signIn(t)
				r := testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+tc.q.Encode()))
				if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
					t.Errorf("status %d Location %q, want the 400 error page", r.StatusCode, r.Header.Get("Location"))
				}
				if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || strings.Contains(r.Body, "evil.example") {
					t.Errorf("Content-Type %q; the page must be HTML and not echo the URI", r.Header.Get("Content-Type"))
				}
				if !f.signedIn(t, s.browser) {
					t.Error("a refused logout ended the session")
				}
			})
		}
	})
}
