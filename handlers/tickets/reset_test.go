package tickets_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/internal/testenv"
)

const newPassword = "a-brand-new-password"

// TestPasswordReset: "Forgot password?" on the sign-in page → a mail to the stored address → the link's form →
// the password changes, every session of the user ends, every refresh token is refused (invalid_grant), the link
// works once, and the reset is audited.
func TestPasswordReset(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		// Alice is signed in on another device with a refresh token.
		tokens, other := f.signIn(t, "alice@acme.test", testenv.Password)
		if tokens.RefreshToken == "" {
			t.Fatal("the sign-in gave no refresh token")
		}
		otherSession := testenv.Cookie(other, f.acme.URL("/"), oauth.SessionCookie)

		c := f.browser()
		// The link is on the methods step, after the email step.
		login := f.acme.IdentifyStep(t, c, testenv.Get(t, c, f.acme.URL("/login")), "alice@acme.test")
		if !strings.Contains(login.Body, `href="/login/forgot"`) {
			t.Fatalf("the sign-in page has no \"Forgot password?\" link:\n%s", login.Body)
		}
		// The address as typed only finds the account: the mail goes to the stored one.
		r := f.forgot(t, c, f.acme, "  ALICE@Acme.test ")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
			t.Fatalf("POST /login/forgot: %d\n%s", r.StatusCode, r.Body)
		}
		m, link := f.mailTo(t, "alice@acme.test", 0)
		if m.To != f.alice.Email {
			t.Errorf("the reset mail went to %q, want the stored address %q", m.To, f.alice.Email)
		}
		if !strings.HasPrefix(link, f.acme.URL("/login/reset?token=")) || !strings.Contains(m.Text, "30 minutes") {
			t.Fatalf("reset mail: link %s, text:\n%s", link, m.Text)
		}

		// Opening the link changes nothing (a mail scanner may open it).
		page := testenv.Get(t, c, link)
		if page.StatusCode != http.StatusOK {
			t.Fatalf("GET the reset link: %d\n%s", page.StatusCode, page.Body)
		}
		form := testenv.ParseForm(t, page.Body)
		for _, tc := range []struct {
			name, password, confirm, field string
		}{
			{name: "no password", password: "", confirm: "", field: "password"},
			{name: "confirmation differs", password: newPassword, confirm: newPassword + "x", field: "password_confirm"},
			{name: "too short for the directory's rules", password: "short", confirm: "short", field: "password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.acme.Submit(t, c, form, url.Values{"password": {tc.password}, "password_confirm": {tc.confirm}})
				if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="`+tc.field+`-error"`) ||
					!strings.Contains(r.Body, `aria-invalid="true"`) {
					t.Errorf("status %d, want 400 with an error on %s\n%s", r.StatusCode, tc.field, r.Body)
				}
			})
		}
		if !f.passwordWorks(t, "alice@acme.test", testenv.Password) {
			t.Fatal("a refused new password changed the password")
		}

		r = f.acme.Submit(t, c, form, url.Values{"password": {newPassword}, "password_confirm": {newPassword}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Your password has been changed") {
			t.Fatalf("POST /login/reset: %d\n%s", r.StatusCode, r.Body)
		}
		if f.passwordWorks(t, "alice@acme.test", testenv.Password) || !f.passwordWorks(t, "alice@acme.test", newPassword) {
			t.Error("after the reset, the old password should fail and the new one work")
		}
		// The other device's session ended and its refresh token is dead.
		if _, _, err := f.env.S.SessionFromCookie(f.acme.Ctx, otherSession); err == nil {
			t.Error("the other device's session survived the reset")
		}
		if r := f.refresh(t, tokens.RefreshToken); r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Errorf("refresh with a token issued before the reset: %d %s, want 400 invalid_grant", r.StatusCode, r.Body)
		}
		// The link works once.
		if r := testenv.Get(t, c, link); r.StatusCode != http.StatusGone {
			t.Errorf("GET the used link: %d, want 410", r.StatusCode)
		}
		if r := f.acme.Submit(t, c, form, url.Values{"password": {"yet-another-password"}, "password_confirm": {"yet-another-password"}}); r.StatusCode != http.StatusGone {
			t.Errorf("POST the used link again: %d, want 410", r.StatusCode)
		}
		if !f.passwordWorks(t, "alice@acme.test", newPassword) {
			t.Error("a second use of the link changed the password")
		}
		events := f.events(t, tickets.EventPasswordReset)
		if len(events) != 1 || events[0].UserID != f.alice.ID || events[0].Data["tokens_revoked"] == float64(0) {
			t.Errorf("%s events = %+v, want one for alice with revoked tokens", tickets.EventPasswordReset, events)
		}
		if len(f.events(t, tickets.EventPasswordResetSent)) != 1 {
			t.Errorf("the reset mail was not audited")
		}
		// A reset link mailed by Authio proves the mailbox.
		if u, _ := f.env.S.Store.GetUser(f.acme.Ctx, f.alice.ID); !u.EmailVerified {
			t.Error("the address is not verified after a reset through it")
		}
	})
}

// TestPasswordResetNoEnumeration: a known and an unknown address get the same status and page, and only the
// known one gets a mail; a malformed address is a 400 naming the field.
func TestPasswordResetNoEnumeration(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		known := f.forgot(t, f.browser(), f.acme, "alice@acme.test")
		unknown := f.forgot(t, f.browser(), f.acme, "nobody@acme.test")
		// globex's alice does not exist in acme either.
		f.globex.NewUser("carol@globex.test")
		elsewhere := f.forgot(t, f.browser(), f.acme, "carol@globex.test")
		norm := func(r *testenv.Response, email string) string {
			return strings.ReplaceAll(r.Body, email, "EMAIL")
		}
		if known.StatusCode != http.StatusOK || unknown.StatusCode != known.StatusCode || elsewhere.StatusCode != known.StatusCode {
			t.Fatalf("statuses: known %d, unknown %d, another tenant's %d", known.StatusCode, unknown.StatusCode, elsewhere.StatusCode)
		}
		if norm(known, "alice@acme.test") != norm(unknown, "nobody@acme.test") || norm(known, "alice@acme.test") != norm(elsewhere, "carol@globex.test") {
			t.Errorf("the pages differ:\n--- known ---\n%s\n--- unknown ---\n%s", known.Body, unknown.Body)
		}
		if n := f.sent("alice@acme.test"); n != 1 {
			t.Errorf("%d mails to the known address, want 1", n)
		}
		if n := f.sent("nobody@acme.test") + f.sent("carol@globex.test"); n != 0 {
			t.Errorf("%d mails to addresses without an acme account", n)
		}
		c := f.browser()
		page := testenv.Get(t, c, f.acme.URL("/login/forgot"))
		r := f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {"not-an-address"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="email-error"`) {
			t.Errorf("malformed address: %d, want 400 with an email error\n%s", r.StatusCode, r.Body)
		}
	})
}

// TestPasswordResetThrottled: one address asks for mails at most tickets.AddressRequestLimit times an hour; then
// it gets a 429 whether or not it has an account.
func TestPasswordResetThrottled(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		for _, email := range []string{"alice@acme.test", "nobody@acme.test"} {
			for i := 0; i < tickets.AddressRequestLimit; i++ {
				if r := f.forgot(t, f.browser(), f.acme, email); r.StatusCode != http.StatusOK {
					t.Fatalf("request %d for %s: %d", i+1, email, r.StatusCode)
				}
			}
			r := f.forgot(t, f.browser(), f.acme, email)
			if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
				t.Errorf("request %d for %s: %d, want 429 with Retry-After", tickets.AddressRequestLimit+1, email, r.StatusCode)
			}
		}
		if n := f.sent("alice@acme.test"); n != tickets.AddressRequestLimit {
			t.Errorf("%d mails to alice, want %d", n, tickets.AddressRequestLimit)
		}
	})
}

// TestPasswordResetSingleUseInParallel: the same link submitted by several browsers at once changes the password
// exactly once.
func TestPasswordResetSingleUseInParallel(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		f.forgot(t, f.browser(), f.acme, "alice@acme.test")
		_, link := f.mailTo(t, "alice@acme.test", 0)
		const n = 6
		type attempt struct {
			c    *http.Client
			form testenv.Form
		}
		attempts := make([]attempt, n)
		for i := range attempts {
			c := f.browser()
			page := testenv.Get(t, c, link)
			if page.StatusCode != http.StatusOK {
				t.Fatalf("GET the link: %d", page.StatusCode)
			}
			attempts[i] = attempt{c: c, form: testenv.ParseForm(t, page.Body)}
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i, a := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := newPassword + "-" + string(rune('a'+i))
				statuses[i] = f.acme.Submit(t, a.c, a.form, url.Values{"password": {pw}, "password_confirm": {pw}}).StatusCode
			}()
		}
		wg.Wait()
		winner := -1
		for i, s := range statuses {
			switch s {
			case http.StatusOK:
				if winner >= 0 {
					t.Fatalf("two resets with one link succeeded: %v", statuses)
				}
				winner = i
			case http.StatusGone:
			default:
				t.Errorf("attempt %d: status %d, want 200 or 410", i, s)
			}
		}
		if winner < 0 {
			t.Fatalf("no reset succeeded: %v", statuses)
		}
		if !f.passwordWorks(t, "alice@acme.test", newPassword+"-"+string(rune('a'+winner))) {
			t.Error("the stored password is not the winner's")
		}
		if events := f.events(t, tickets.EventPasswordReset); len(events) != 1 {
			t.Errorf("%d password resets audited, want 1", len(events))
		}
	})
}

// TestPasswordResetExpired: a link older than 30 minutes is refused and changes nothing.
func TestPasswordResetExpired(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		f.env.Clock.Freeze(time.Now().Add(-tickets.PasswordResetTTL - time.Minute))
		f.forgot(t, f.browser(), f.acme, "alice@acme.test")
		_, link := f.mailTo(t, "alice@acme.test", 0)
		f.env.Clock.Freeze(time.Now())
		c := f.browser()
		if r := testenv.Get(t, c, link); r.StatusCode != http.StatusGone {
			t.Errorf("GET an expired link: %d, want 410", r.StatusCode)
		}
		// Posting the form anyway (a page opened before it expired) changes nothing either.
		login := testenv.Get(t, c, f.acme.URL("/login"))
		form := testenv.ParseForm(t, login.Body)
		token, _ := url.Parse(link)
		r := testenv.PostForm(t, c, f.acme.URL("/login/reset"), url.Values{"csrf_token": {form.Fields.Get("csrf_token")},
			"token": {token.Query().Get("token")}, "password": {newPassword}, "password_confirm": {newPassword}},
			testenv.Header("Origin", f.acme.URL("")))
		if r.StatusCode != http.StatusGone {
			t.Errorf("POST an expired link: %d, want 410\n%s", r.StatusCode, r.Body)
		}
		if !f.passwordWorks(t, "alice@acme.test", testenv.Password) {
			t.Error("an expired link changed the password")
		}
	})
}

// TestPasswordResetOtherTenant: acme's link opened on globex's host is unknown there, and changes nothing.
func TestPasswordResetOtherTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		f.globex.NewUser("alice@acme.test") // the same address has an account in globex too
		f.forgot(t, f.browser(), f.acme, "alice@acme.test")
		_, link := f.mailTo(t, "alice@acme.test", 0)
		c := f.browser()
		onGlobex := f.globex.URL(pathOf(t, link))
		if r := testenv.Get(t, c, onGlobex); r.StatusCode != http.StatusGone {
			t.Errorf("GET acme's link on globex: %d, want 410", r.StatusCode)
		}
		login := testenv.Get(t, c, f.globex.URL("/login"))
		form := testenv.ParseForm(t, login.Body)
		u, _ := url.Parse(link)
		r := testenv.PostForm(t, c, f.globex.URL("/login/reset"), url.Values{"csrf_token": {form.Fields.Get("csrf_token")},
			"token": {u.Query().Get("token")}, "password": {newPassword}, "password_confirm": {newPassword}},
			testenv.Header("Origin", f.globex.URL("")))
		if r.StatusCode != http.StatusGone {
			t.Errorf("POST acme's token on globex: %d, want 410", r.StatusCode)
		}
		// And acme's link still works on acme.
		if r := f.reset(t, f.browser(), f.acme, link, newPassword); r.StatusCode != http.StatusOK {
			t.Errorf("acme's link on acme after globex's attempts: %d\n%s", r.StatusCode, r.Body)
		}
	})
}

// TestNoMailServer: without an SMTP server, asking for a reset or a new verification mail says that the email could
// not be sent (503, never a 500 page), alike for every address; sign-up in "required" mode creates the account and
// says so too.
func TestNoMailServer(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o) // no AUTHIO_SMTP_URL, no --dev
		acme := env.NewTenant("acme")
		acme.NewUser("alice@acme.test")
		f := &fixture{env: env, acme: acme}
		for _, email := range []string{"alice@acme.test", "nobody@acme.test"} {
			r := f.forgot(t, f.browser(), acme, email)
			if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.Body, "We could not send the email. Try again.") {
				t.Errorf("forgot for %s without a mail server: %d\n%s", email, r.StatusCode, r.Body)
			}
		}
		f.patchSettings(t, map[string]any{"email_verification": "required"})
		r := f.signUp(t, f.browser(), "bob@acme.test")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "We could not send the email. Try again.") ||
			!strings.Contains(r.Body, `action="/login/verify-email/resend"`) {
			t.Errorf("sign-up without a mail server: %d\n%s", r.StatusCode, r.Body)
		}
		if _, err := env.S.Store.GetUserByEmail(acme.Ctx, "bob@acme.test"); err != nil {
			t.Errorf("the account was not created: %v", err)
		}
	})
}
