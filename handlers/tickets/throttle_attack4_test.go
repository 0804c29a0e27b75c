package tickets_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/config"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/mail/mailtest"
)

// TestForgotPerIPLimitCountsIPv6Networks_attack4: "Forgot password?" (and the verification resend, which shares
// the code) limits each client IP to tickets.IPRequestLimit requests an hour, but counts the address exactly as
// it came: a client with an IPv6 /64 — what any home or cloud host gets — has 2^64 "IPs", so the per-IP limit
// never applies to it and it can have the service mail reset links to any number of addresses (5 each, the
// per-address limit). The sign-in throttling (authn/signin throttleIP) counts an IPv6 client by its /64; the
// ticket requests must too.
func TestForgotPerIPLimitCountsIPv6Networks_attack4(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	env := testenv.New(t, testenv.Options{Configure: func(c *config.Config) {
		c.SMTPURL = smtp.URL()
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}})
	acme := env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{NoRedirects: true})
	ask := func(ip, email string) int {
		page := testenv.Get(t, c, acme.URL("/login/forgot"), testenv.Header("X-Forwarded-For", ip))
		f := testenv.ParseForm(t, page.Body)
		f.Fields.Set("email", email)
		return testenv.PostForm(t, c, acme.URL(f.Action), f.Fields, testenv.Header("Origin", acme.URL("")),
			testenv.Header("X-Forwarded-For", ip)).StatusCode
	}
	// The per-IP limit works for one address of the network...
	for i := 1; i <= tickets.IPRequestLimit; i++ {
		if st := ask("2001:db8:1:1::1", fmt.Sprintf("a%d@acme.test", i)); st != http.StatusOK {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	if st := ask("2001:db8:1:1::1", "a-last@acme.test"); st != http.StatusTooManyRequests {
		t.Fatalf("request %d from one IPv6 address: %d, want 429", tickets.IPRequestLimit+1, st)
	}
	// ...and not at all for the same client using the next address of its /64.
	over := 0
	for i := 1; i <= 10; i++ {
		if st := ask(fmt.Sprintf("2001:db8:1:1::%x", i+1), url.QueryEscape(fmt.Sprintf("b%d", i))+"@acme.test"); st == http.StatusOK {
			over++
		}
	}
	if over > 0 {
		t.Errorf("%d more reset requests accepted from the same IPv6 /64 after its limit of %d (one per address of the "+
			"network): the per-IP limit is per address, not per network", over, tickets.IPRequestLimit)
	}
}
