package login_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/authio/authio/config"
	"github.com/authio/authio/internal/testenv"
)

// TestMFACodeGuessesCappedPerUser_attack4: whoever holds a user's password can guess her TOTP code on the
// second-factor page. The guesses go through the password throttling unchanged, keyed by the user: 10 in a row
// per (user, IP) and 100 per IP, but 1000 an hour per user (the tenant's account_failure_limit, sized for
// passwords). An attacker with a pool of addresses therefore gets about 1000 guesses an hour at a code that 3 in
// 10^6 values open (the step before, the current one, the step after): ~7% a day, better than even in ten days,
// for a factor meant to hold after the password is lost. A second factor needs a per-user cap on wrong codes that
// does not grow with the attacker's IPs (brute_force_threshold, 10, across all IPs, is the one the tenant set).
func TestMFACodeGuessesCappedPerUser_attack4(t *testing.T) {
	f := newFixtureOn(t, testenv.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}})
	now := freeze(f)
	secret, _ := enrol(t, f, f.user)
	f.env.Clock.Advance(30 * time.Second)
	wrong := wrongCode(totpCode(t, secret, now.Add(30*time.Second)))

	c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	form := testenv.ParseForm(t, toMFAPage(t, f, c, ar).Body)
	judged := 0
	for i := 1; i <= 25; i++ {
		v := url.Values{}
		for k, vs := range form.Fields {
			v[k] = vs
		}
		v.Set("code", wrong)
		r := testenv.PostForm(t, c, f.acme.URL(form.Action), v, testenv.Header("Origin", f.acme.URL("")),
			testenv.Header("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)))
		switch r.StatusCode {
		case http.StatusUnauthorized:
			judged++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("guess %d: status %d\n%s", i, r.StatusCode, r.Body)
		}
	}
	if judged > 10 {
		t.Errorf("%d of 25 wrong TOTP codes for one user from 25 IPs were checked, none refused: a second factor's "+
			"guesses are capped only by account_failure_limit (1000/hour)", judged)
	}
}
