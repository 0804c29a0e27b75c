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

// TestAuth0LogoutAttack3: /v2/logout as an open redirector and as a way to end someone else's session. returnTo
// must be one of the client's registered logout URLs exactly — a near miss (another scheme, port, case, path,
// encoding, a query or fragment added, another client's URL, globex's) is the 400 page and signs nobody out; a
// second spelling of the parameter (post_logout_redirect_uri, a repeat, the body of a POST) never sends the
// browser anywhere unregistered; state cannot add parameters or headers; and acme's session cookie presented to
// globex ends nothing of acme's.
func TestAuth0LogoutAttack3(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newFixtureOn(t, opts)
		other := f.acme.NewClient(directory.ClientSpec{Name: "other", Type: storage.ClientPublic, RedirectURIs: []string{"https://other.acme.test/cb"},
			PostLogoutRedirectURIs: []string{"https://other.acme.test/bye"}})
		globex := f.env.NewTenant("globex")
		foreign := globex.NewClient(directory.ClientSpec{Name: "globex-spa", Type: storage.ClientPublic, RedirectURIs: []string{"https://app.globex.test/cb"},
			PostLogoutRedirectURIs: []string{"https://app.globex.test/bye"}})

		refused := func(t *testing.T, s *session, r *testenv.Response) {
			t.Helper()
			if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
				t.Errorf("status %d Location %q, want the 400 error page", r.StatusCode, r.Header.Get("Location"))
			}
			if !f.signedIn(t, s.browser) {
				t.Error("a refused logout ended the session")
			}
		}

		for _, returnTo := range []string{
			spaBye + "/", spaBye + "?next=https://evil.example", spaBye + "#x", spaBye + "/../../evil", "https://app.acme.test/%62ye",
			"https://app.acme.test:444/bye", "http://app.acme.test/bye", "HTTPS://APP.ACME.TEST/bye", "https://app.acme.test./bye",
			"https://app.acme.test.evil.example/bye", "https://evil.example@app.acme.test/bye", "https://app.acme.test\\@evil.example/bye",
			" " + spaBye, spaBye + " ", spaBye + "\t", "//evil.example/bye", "/\\evil.example/bye", "javascript:alert(1)//app.acme.test/bye",
			"https://other.acme.test/bye", "https://app.globex.test/bye",
		} {
			t.Run("refused returnTo "+returnTo, func(t *testing.T) {
				s := f.signIn(t)
				refused(t, s, testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+url.Values{"client_id": {f.spa.ClientID}, "returnTo": {returnTo}}.Encode())))
			})
		}

		t.Run("refused: another client's URL with that client's id at another tenant", func(t *testing.T) {
			s := f.signIn(t)
			refused(t, s, testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+url.Values{"client_id": {foreign.ClientID},
				"returnTo": {"https://app.globex.test/bye"}}.Encode())))
		})

		// Two spellings of the destination: whatever is chosen, it is a registered one.
		for _, tc := range []struct {
			name string
			raw  string // the query string
		}{
			{"post_logout_redirect_uri registered, returnTo not", "client_id=" + f.spa.ClientID + "&post_logout_redirect_uri=" +
				url.QueryEscape(spaBye) + "&returnTo=" + url.QueryEscape("https://evil.example/")},
			{"returnTo registered, post_logout_redirect_uri not", "client_id=" + f.spa.ClientID + "&returnTo=" + url.QueryEscape(spaBye) +
				"&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/")},
			{"returnTo twice, registered first", "client_id=" + f.spa.ClientID + "&returnTo=" + url.QueryEscape(spaBye) +
				"&returnTo=" + url.QueryEscape("https://evil.example/")},
			{"returnTo twice, registered last", "client_id=" + f.spa.ClientID + "&returnTo=" + url.QueryEscape("https://evil.example/") +
				"&returnTo=" + url.QueryEscape(spaBye)},
			{"client_id twice, other's URL", "client_id=" + f.spa.ClientID + "&client_id=" + other.ClientID + "&returnTo=" +
				url.QueryEscape("https://other.acme.test/bye")},
			{"client_id twice, other's first", "client_id=" + other.ClientID + "&client_id=" + f.spa.ClientID + "&returnTo=" +
				url.QueryEscape(spaBye)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := f.signIn(t)
				r := testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+tc.raw))
				if loc := r.Header.Get("Location"); loc != "" && loc != spaBye && loc != "https://other.acme.test/bye" {
					t.Errorf("redirected to %q", loc)
				}
				if loc := r.Header.Get("Location"); strings.Contains(loc, "evil") {
					t.Errorf("redirected to %q", loc)
				}
			})
		}

		t.Run("POST: the body's returnTo against the query's", func(t *testing.T) {
			s := f.signIn(t)
			u := f.acme.URL("/v2/logout?" + url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye}}.Encode())
			r := testenv.PostForm(t, s.step, u, url.Values{"returnTo": {"https://evil.example/"}, "client_id": {f.spa.ClientID}})
			if loc := r.Header.Get("Location"); loc != "" && loc != spaBye {
				t.Errorf("redirected to %q", loc)
			}
		})

		t.Run("state adds no parameter and no header", func(t *testing.T) {
			s := f.signIn(t)
			state := "x&returnTo=https://evil.example/\r\nSet-Cookie: a=b"
			r := testenv.Get(t, s.step, f.acme.URL("/v2/logout?"+url.Values{"client_id": {f.spa.ClientID}, "returnTo": {spaBye},
				"state": {state}}.Encode()))
			if r.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302", r.StatusCode)
			}
			loc, err := url.Parse(r.Header.Get("Location"))
			if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != spaBye || len(loc.Query()) != 1 || loc.Query().Get("state") != state {
				t.Errorf("Location %q, want %s with state alone", r.Header.Get("Location"), spaBye)
			}
			for _, ck := range r.Cookies() {
				if ck.Name == "a" {
					t.Errorf("state injected a header: %v", r.Header)
				}
			}
		})

		t.Run("acme's session cookie at globex ends nothing of acme's", func(t *testing.T) {
			s := f.signIn(t)
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			gu, _ := url.Parse(globex.Issuer)
			c.Jar.SetCookies(gu, []*http.Cookie{{Name: "authio_session", Value: s.cookie, Path: "/"}})
			for _, q := range []url.Values{{}, {"client_id": {foreign.ClientID}}, {"client_id": {foreign.ClientID}, "returnTo": {"https://app.globex.test/bye"}}} {
				r := testenv.Get(t, c, globex.URL("/v2/logout?"+q.Encode()))
				if r.StatusCode >= 500 {
					t.Fatalf("globex logout: %d %s", r.StatusCode, r.Body)
				}
				testenv.PostForm(t, c, globex.URL("/oidc/logout"), url.Values{"client_id": {foreign.ClientID}})
			}
			if !f.signedIn(t, s.browser) {
				t.Error("acme's session ended by a logout at globex")
			}
		})
	})
}
