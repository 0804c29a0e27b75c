package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/internal/testenv"
)

// TestMFARecordedOnAnotherUsersSignIn_attack4: the second-factor step checks that the flow is its session's when
// it opens the flow (openMFAStep), then, after the code is checked, writes the session's amr into the flow
// (recordMFA) with a closure that sets AMR on whatever the flow holds by then — it does not check that the flow
// is still that session's. Mallory, who knows alice's password but not her authenticator, signs in to one flow
// as herself (her own authenticator app), and while her code is being checked signs the same flow in as alice
// with the password: alice's sign-in replaces the flow's user and session, then Mallory's step writes
// [pwd otp mfa] over it. The flow is alice's, one-factor, and multi-factor by its amr: it completes and the
// client gets alice's tokens with amr mfa. Raced here until it lands (it does within a few tries on SQLite).
func TestMFARecordedOnAnotherUsersSignIn_attack4(t *testing.T) {
	f := newFixture(t)
	now := freeze(f)
	mallory := f.acme.NewUser("mallory@acme.test")
	mSecret, _ := enrol(t, f, mallory)
	enrol(t, f, f.user) // alice has an authenticator app Mallory does not hold
	origin := testenv.Header("Origin", f.acme.URL(""))
	for try := 1; try <= 60; try++ {
		f.env.Clock.Advance(30 * time.Second)
		step := now.Add(time.Duration(try) * 30 * time.Second)
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		flow := ar.Flow(t, f.acme, c)
		if r := f.acme.SignIn(t, c, "mallory@acme.test", testenv.Password, flow); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("mallory's password: %d\n%s", r.StatusCode, r.Body)
		}
		mfaPage := testenv.Get(t, c, f.acme.URL("/login/mfa?state="+flow))
		mcsrf := csrfRE.FindStringSubmatch(mfaPage.Body)
		if mfaPage.StatusCode != http.StatusOK || mcsrf == nil {
			t.Fatalf("mallory's second-factor page: %d\n%s", mfaPage.StatusCode, mfaPage.Body)
		}
		// A second browser context holding the same flow (its cookie), for alice's password.
		c2 := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		base, _ := url.Parse(f.acme.URL("/"))
		c2.Jar.SetCookies(base, []*http.Cookie{{Name: authn.FlowCookie, Value: testenv.Cookie(c, f.acme.URL("/"), authn.FlowCookie), Path: "/"}})
		lp := testenv.Get(t, c2, f.acme.URL("/login?state="+flow))
		lcsrf := csrfRE.FindStringSubmatch(lp.Body)
		if lcsrf == nil {
			t.Fatalf("login page for alice: %d\n%s", lp.StatusCode, lp.Body)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		delay := time.Duration(try%12) * 500 * time.Microsecond
		go func() {
			defer wg.Done()
			testenv.PostForm(t, c2, f.acme.URL("/login"), url.Values{"csrf_token": {lcsrf[1]}, "state": {flow},
				"email": {"alice@acme.test"}, "password": {testenv.Password}}, origin)
		}()
		go func() {
			defer wg.Done()
			time.Sleep(delay)
			testenv.PostForm(t, c, f.acme.URL("/login/mfa"), url.Values{"csrf_token": {mcsrf[1]}, "state": {flow},
				"method": {"totp"}, "code": {totpCode(t, mSecret, step)}}, origin)
		}()
		wg.Wait()
		r := testenv.Get(t, c2, f.acme.URL("/authorize/resume?state="+flow))
		loc := r.Header.Get("Location")
		if !strings.HasPrefix(loc, spaRedirect) {
			continue // alice's sign-in came before Mallory's step opened the flow, or after it was recorded
		}
		code := r.Location(t).Query().Get("code")
		tok := testenv.TokensOf(t, ar.Exchange(t, f.acme, c2, code))
		_, claims := testenv.DecodeJWT(t, tok.IDToken)
		if claims["sub"] == f.user.ID {
			t.Fatalf("try %d: the flow completed for alice (sub %v, amr %v) without her second factor", try, claims["sub"], claims["amr"])
		}
	}
}
