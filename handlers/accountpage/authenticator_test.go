package accountpage_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/internal/testenv"
)

var (
	secretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)
	codesRE  = regexp.MustCompile(`<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>`)
)

func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func notCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+500001)%1000000)
}

// formAt returns the page's form posting to action.
func formAt(t *testing.T, page, action string) testenv.Form {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?is)<form\b[^>]*>.*?</form>`).FindAllString(page, -1) {
		if strings.Contains(m, `action="`+action+`"`) {
			return testenv.ParseForm(t, m)
		}
	}
	t.Fatalf("no form posting to %s\n%s", action, page)
	return testenv.Form{}
}

// TestAuthenticatorSection: set up an authenticator app from the account page (QR code and key, a wrong code
// refused, the right one turns it on and shows ten recovery codes once), a one-factor session is then asked for
// the app before the page opens, recovery codes are regenerated with a code (the old ones stop working), and the
// app is removed with a recovery code; each change is audited, and another tenant's domain changes nothing.
func TestAuthenticatorSection(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		t0 := time.Now().Add(-10 * time.Minute).Truncate(30 * time.Second).Add(5 * time.Second)
		f.env.Clock.Freeze(t0)
		c := f.browser(t, f.acme, "alice@acme.test", "")

		body := page(t, f.acme, c)
		if !strings.Contains(body, `id="authenticator"`) {
			t.Fatalf("no authenticator section\n%s", body)
		}
		r := f.acme.Submit(t, c, formAt(t, body, "/account/authenticator/start"), nil)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Security-Policy"), "img-src 'self' data:") {
			t.Fatalf("start: status %d, CSP %q", r.StatusCode, r.Header.Get("Content-Security-Policy"))
		}
		m := secretRE.FindStringSubmatch(r.Body)
		if m == nil || !strings.Contains(r.Body, `src="data:image/png;base64,`) {
			t.Fatalf("no QR code and key after starting the setup\n%s", r.Body)
		}
		secret := m[1]
		code := totpAt(t, secret, t0)
		r = f.acme.Submit(t, c, formAt(t, r.Body, "/account/authenticator/confirm"), url.Values{"code": {notCode(code)}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, `aria-invalid="true" aria-describedby="authenticator-code-error"`) {
			t.Fatalf("wrong confirming code: status %d\n%s", r.StatusCode, r.Body)
		}
		r = f.acme.Submit(t, c, formAt(t, r.Body, "/account/authenticator/confirm"), url.Values{"code": {code}})
		codes := codesRE.FindAllStringSubmatch(r.Body, -1)
		if r.StatusCode != http.StatusOK || len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("confirm: status %d, %d codes\n%s", r.StatusCode, len(codes), r.Body)
		}
		if n := len(events(t, f.acme, mfa.EventTOTPEnrolled, f.alice.ID)); n != 1 {
			t.Errorf("%d %s events, want 1", n, mfa.EventTOTPEnrolled)
		}
		// This browser proved the app: its page opens.
		body = page(t, f.acme, c)
		if !strings.Contains(body, "unused recovery codes") {
			t.Errorf("the section does not show the app as on\n%s", body)
		}

		// A browser signed in with the password alone is asked for the app first, then comes back.
		c2 := f.browser(t, f.acme, "alice@acme.test", "")
		r = testenv.Get(t, c2, f.acme.URL("/account"))
		if r.Request.URL.Path != "/login/mfa" || r.Request.URL.Query().Get("return_to") != "/account" {
			t.Fatalf("a one-factor session opened %s, want /login/mfa?return_to=/account", r.Request.URL)
		}
		f.env.Clock.Advance(30 * time.Second)
		r = f.acme.Submit(t, c2, testenv.ParseFormWith(t, r.Body, "code"), url.Values{"code": {totpAt(t, secret, t0.Add(30*time.Second))}})
		if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/account" {
			t.Fatalf("after the code: status %d at %s, want the account page", r.StatusCode, r.Request.URL)
		}

		// Regenerate: a wrong code is refused, the right one replaces every code.
		r = f.acme.Submit(t, c, formAt(t, page(t, f.acme, c), "/account/authenticator/recovery-codes"), url.Values{"regenerate_code": {"000000x"}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("regenerate with a wrong code: status %d\n%s", r.StatusCode, r.Body)
		}
		f.env.Clock.Advance(30 * time.Second)
		r = f.acme.Submit(t, c, formAt(t, page(t, f.acme, c), "/account/authenticator/recovery-codes"),
			url.Values{"regenerate_code": {totpAt(t, secret, t0.Add(time.Minute))}})
		fresh := codesRE.FindAllStringSubmatch(r.Body, -1)
		if r.StatusCode != http.StatusOK || len(fresh) != mfa.RecoveryCodeCount {
			t.Fatalf("regenerate: status %d, %d codes\n%s", r.StatusCode, len(fresh), r.Body)
		}
		if err := f.env.S.CheckRecoveryCode(f.acme.Ctx, f.alice, codes[0][1]); err == nil {
			t.Error("an old recovery code still works after regeneration")
		}
		if n := len(events(t, f.acme, mfa.EventRecoveryCodesRegenerated, f.alice.ID)); n != 1 {
			t.Errorf("%d %s events, want 1", n, mfa.EventRecoveryCodesRegenerated)
		}

		// Another tenant's domain: acme's cookies are not sent there, nothing changes.
		nr := f.env.Client(testenv.ClientOptions{Jar: c.Jar, NoRedirects: true})
		r = testenv.PostForm(t, nr, f.globex.URL("/account/authenticator/remove"), url.Values{"remove_code": {fresh[1][1]}},
			testenv.Header("Origin", f.globex.URL("")))
		if r.StatusCode == http.StatusOK || r.StatusCode == http.StatusSeeOther && r.Location(t).Path == "/account" {
			t.Errorf("globex's remove answered %d (%s)", r.StatusCode, r.Header.Get("Location"))
		}
		if st, err := f.env.S.MFAStatus(f.acme.Ctx, f.alice.ID); err != nil || !st.TOTP {
			t.Fatalf("after globex's attempt: %+v (%v), want the app on", st, err)
		}

		// Remove: a wrong code is refused; a recovery code removes the app and its codes.
		r = f.acme.Submit(t, c, formAt(t, page(t, f.acme, c), "/account/authenticator/remove"), url.Values{"remove_code": {"nope-nope1"}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("remove with a wrong code: status %d", r.StatusCode)
		}
		r = f.acme.Submit(t, c, formAt(t, page(t, f.acme, c), "/account/authenticator/remove"), url.Values{"remove_code": {fresh[1][1]}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Set up an authenticator app") {
			t.Fatalf("remove: status %d\n%s", r.StatusCode, r.Body)
		}
		if st, err := f.env.S.MFAStatus(f.acme.Ctx, f.alice.ID); err != nil || st.TOTP || st.RecoveryCodesLeft != 0 {
			t.Errorf("after removal: %+v (%v)", st, err)
		}
		if n := len(events(t, f.acme, mfa.EventTOTPRemoved, f.alice.ID)); n != 1 {
			t.Errorf("%d %s events, want 1", n, mfa.EventTOTPRemoved)
		}
	})
}
