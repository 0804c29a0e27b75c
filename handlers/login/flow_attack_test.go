package login_test

// Attack review of issue 8's sign-in steps of an authorization flow (/login and /signup with state=<flow id>).

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestAttackLoginCSRFIntoAFlow: login CSRF aimed at a flow. Mallory's page auto-posts her own credentials to
// the victim's /login with the victim's flow id (she can learn it, e.g. from a shared link): without the CSRF
// token, or with Mallory's own token and cookie pair posted from her browser, the victim's flow does not record
// Mallory's sign-in and the victim's browser gets no session. Then the victim signs in normally and the flow is
// hers.
func TestAttackLoginCSRFIntoAFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("mallory@acme.test")
	victim := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, victim)

	creds := url.Values{"state": {flow}, "email": {"mallory@acme.test"}, "password": {testenv.Password}}
	// Cross-site auto-post from the victim's browser, no token.
	r := testenv.PostForm(t, victim, f.acme.URL("/login"), creds, testenv.Header("Origin", "https://evil.example"))
	if r.StatusCode != http.StatusForbidden || setsSession(r) {
		t.Errorf("cross-site post into the flow: %d (session set: %v), want 403 and no session", r.StatusCode, setsSession(r))
	}
	// Mallory's own token, posted from her browser with the victim's flow id: the flow is not hers.
	mallory := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	form := testenv.ParseForm(t, testenv.Get(t, mallory, f.acme.URL("/login")).Body)
	r = f.acme.Submit(t, mallory, form, creds)
	if setsSession(r) || r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "This sign-in link has expired") {
		t.Errorf("mallory signing in through the victim's flow: %d (session set: %v), want the expired page and no session\n%s",
			r.StatusCode, setsSession(r), r.Body)
	}
	// The victim's flow is still at its sign-in step, and completes for Alice.
	if r := testenv.Get(t, victim, f.acme.URL("/authorize/resume?state="+flow)); r.StatusCode != http.StatusFound || r.Location(t).Path != "/login" {
		t.Fatalf("victim's flow after the attempts: %d %s, want its sign-in step", r.StatusCode, r.Header.Get("Location"))
	}
	r = f.acme.SignIn(t, victim, "alice@acme.test", testenv.Password, flow)
	q := ar.Callback(t, f.acme, testenv.Get(t, victim, r.Location(t).String()))
	tk := testenv.TokensOf(t, ar.Exchange(t, f.acme, victim, q.Get("code")))
	if _, c := testenv.DecodeJWT(t, tk.IDToken); c["email"] != "alice@acme.test" {
		t.Errorf("the flow completed for %v, want alice", c["email"])
	}
}
