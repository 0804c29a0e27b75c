package tickets_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/internal/testenv"
)

// csrfRE matches a page's CSRF token, which differs on every page.
var csrfRE = regexp.MustCompile(`name="csrf_token" value="[^"]*"`)

// signUp creates an account for email in browser c on acme's sign-up page (sign-up enabled first).
func (f *fixture) signUp(t *testing.T, c *http.Client, email string) *testenv.Response {
	t.Helper()
	if err := f.env.S.SetSignup(context.Background(), f.acme.ID, true); err != nil {
		t.Fatal(err)
	}
	var page *testenv.Response
	for i := 0; i < 150; i++ { // the change reaches the resolver through the cache's invalidation
		if page = testenv.Get(t, c, f.acme.URL("/signup")); page.StatusCode == http.StatusOK {
			break
		}
	}
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /signup: %d", page.StatusCode)
	}
	return f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {email}, "password": {testenv.Password}})
}

// TestEmailVerificationOptional: sign-up mails a verification link to the address and signs the user in; the
// link marks the address verified once (audited), and the next ID token says email_verified.
func TestEmailVerificationOptional(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		c := f.browser()
		r := f.signUp(t, c, "Bob@Acme.test")
		if r.StatusCode != http.StatusOK || testenv.Cookie(c, f.acme.URL("/"), oauth.SessionCookie) == "" {
			t.Fatalf("sign-up: %d (session cookie %q), want 200 signed in\n%s", r.StatusCode,
				testenv.Cookie(c, f.acme.URL("/"), oauth.SessionCookie), r.Body)
		}
		m, link := f.mailTo(t, "bob@acme.test", 0)
		if !strings.HasPrefix(link, f.acme.URL("/login/verify-email?token=")) || !strings.Contains(m.Text, "24 hours") {
			t.Fatalf("verification mail: link %s\n%s", link, m.Text)
		}
		tk, _ := f.signIn(t, "bob@acme.test", testenv.Password)
		if _, claims := testenv.DecodeJWT(t, tk.IDToken); claims["email_verified"] != false {
			t.Fatalf("ID token before verification: email_verified = %v, want false", claims["email_verified"])
		}

		v := testenv.Get(t, f.browser(), link)
		if v.StatusCode != http.StatusOK || !strings.Contains(v.Body, "Your email address is verified") {
			t.Fatalf("GET the verification link: %d\n%s", v.StatusCode, v.Body)
		}
		u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "bob@acme.test")
		if err != nil || !u.EmailVerified {
			t.Fatalf("after the link: %+v, %v; want the address verified", u, err)
		}
		if es := f.events(t, tickets.EventEmailVerified); len(es) != 1 || es[0].UserID != u.ID {
			t.Errorf("%s events = %+v", tickets.EventEmailVerified, es)
		}
		if r := testenv.Get(t, f.browser(), link); r.StatusCode != http.StatusGone {
			t.Errorf("GET the used link: %d, want 410", r.StatusCode)
		}
		if r := testenv.Get(t, f.browser(), f.globex.URL(pathOf(t, link))); r.StatusCode != http.StatusGone {
			t.Errorf("GET acme's link on globex: %d, want 410", r.StatusCode)
		}
		tk, _ = f.signIn(t, "bob@acme.test", testenv.Password)
		if _, claims := testenv.DecodeJWT(t, tk.IDToken); claims["email_verified"] != true {
			t.Errorf("ID token after verification: email_verified = %v, want true", claims["email_verified"])
		}
	})
}

// TestEmailVerificationRequired: with email_verification "required", sign-up opens no session and says to open the
// link; the right password of an unverified user is refused (403, no session) with an offer to send the mail
// again, which sends it; a wrong password stays a plain 401; once verified, the user signs in.
func TestEmailVerificationRequired(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		f.patchSettings(t, map[string]any{"email_verification": "required"})
		c := f.browser()
		r := f.signUp(t, c, "bob@acme.test")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Verify your email address") ||
			testenv.Cookie(c, f.acme.URL("/"), oauth.SessionCookie) != "" {
			t.Fatalf("sign-up when verification is required: %d, want the verify page and no session\n%s", r.StatusCode, r.Body)
		}
		_, first := f.mailTo(t, "bob@acme.test", 0)

		c = f.browser()
		r = f.acme.SignIn(t, c, "bob@acme.test", testenv.Password, "")
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "not verified") ||
			testenv.Cookie(c, f.acme.URL("/"), oauth.SessionCookie) != "" {
			t.Fatalf("sign-in of an unverified user: %d, want 403 without a session\n%s", r.StatusCode, r.Body)
		}
		if w := f.acme.SignIn(t, f.browser(), "bob@acme.test", "wrong-password", ""); w.StatusCode != http.StatusUnauthorized ||
			strings.Contains(w.Body, "not verified") {
			t.Errorf("wrong password of an unverified user: %d, want the plain 401\n%s", w.StatusCode, w.Body)
		}
		// The refusal page sends the mail again.
		resend := f.acme.Submit(t, c, testenv.ParseForm(t, r.Body), nil)
		if resend.StatusCode != http.StatusOK || !strings.Contains(resend.Body, "Check your email") {
			t.Fatalf("send again: %d\n%s", resend.StatusCode, resend.Body)
		}
		_, second := f.mailTo(t, "bob@acme.test", 1)
		if second == first {
			t.Error("the second mail carries the first link")
		}
		// An unknown address asking for a new mail gets the same page and no mail.
		ghost := f.acme.Submit(t, c, testenv.ParseForm(t, r.Body), url.Values{"email": {"ghost@acme.test"}})
		same := func(body, email string) string {
			return csrfRE.ReplaceAllString(strings.ReplaceAll(body, email, "X"), "CSRF")
		}
		if ghost.StatusCode != resend.StatusCode || same(ghost.Body, "ghost@acme.test") != same(resend.Body, "bob@acme.test") {
			t.Errorf("send again for an unknown address differs:\n%s\n---\n%s", ghost.Body, resend.Body)
		}
		if n := f.sent("ghost@acme.test"); n != 0 {
			t.Errorf("%d mails to an unknown address", n)
		}

		if v := testenv.Get(t, f.browser(), second); v.StatusCode != http.StatusOK {
			t.Fatalf("GET the verification link: %d\n%s", v.StatusCode, v.Body)
		}
		// Every other verification link of the user is used up with it.
		if v := testenv.Get(t, f.browser(), first); v.StatusCode != http.StatusGone {
			t.Errorf("GET the first link after verifying with the second: %d, want 410", v.StatusCode)
		}
		if r := f.acme.SignIn(t, f.browser(), "bob@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK {
			t.Errorf("sign-in after verification: %d\n%s", r.StatusCode, r.Body)
		}
		if es := f.events(t, "signin.failed"); len(es) == 0 || es[0].Data["reason"] == nil {
			t.Errorf("the refused sign-in was not audited: %+v", es)
		} else {
			found := false
			for _, e := range es {
				found = found || e.Data["reason"] == "email_unverified"
			}
			if !found {
				t.Errorf("no signin.failed event with reason email_unverified: %+v", es)
			}
		}
	})
}
