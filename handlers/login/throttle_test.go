package login_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/authio/authio/config"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// throttleFixture is a tenant behind a trusted proxy (127.0.0.1), so each attempt names its client address in
// X-Forwarded-For, with users alice and bob and a Management API key for its settings.
type throttleFixture struct {
	env    *testenv.Env
	acme   *testenv.Tenant
	alice  storage.User
	apiKey string
	c      *http.Client
}

// eachThrottleBackend runs fn on a fresh fixture per storage backend: SQLite with the in-process cache, and
// Postgres with Redis when configured.
func eachThrottleBackend(t *testing.T, fn func(t *testing.T, f *throttleFixture)) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := opts
		o.Configure = func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}
		env := testenv.New(t, o)
		acme := env.NewTenant("acme")
		f := &throttleFixture{env: env, acme: acme, alice: acme.NewUser("alice@acme.test"), apiKey: acme.APIKey(t),
			c: env.Client(testenv.ClientOptions{NoRedirects: true})}
		acme.NewUser("bob@acme.test")
		fn(t, f)
	})
}

// try posts the sign-in form as the client at ip.
func (f *throttleFixture) try(t *testing.T, ip, email, password string) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, f.c, f.acme.URL("/login"), testenv.Header("X-Forwarded-For", ip))
	form := testenv.ParseForm(t, page.Body)
	form.Fields.Set("email", email)
	form.Fields.Set("password", password)
	return testenv.PostForm(t, f.c, f.acme.URL("/login"), form.Fields,
		testenv.Header("Origin", f.acme.Issuer), testenv.Header("X-Forwarded-For", ip))
}

// fail makes a failed attempt and checks it was judged (401), not refused.
func (f *throttleFixture) fail(t *testing.T, ip, email string) {
	t.Helper()
	if r := f.try(t, ip, email, "wrong-password-1"); r.StatusCode != http.StatusUnauthorized || testenv.Alert(r.Body) != "Wrong email or password." {
		t.Fatalf("wrong password for %s from %s: status %d %q, want 401 and the usual message", email, ip, r.StatusCode, testenv.Alert(r.Body))
	}
}

// signsIn checks that the right password from ip signs in.
func (f *throttleFixture) signsIn(t *testing.T, ip, email, password string) {
	t.Helper()
	if r := f.try(t, ip, email, password); (r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther) || !setsSession(r) {
		t.Fatalf("%s from %s with the right password: status %d %q, want a sign-in", email, ip, r.StatusCode, testenv.Alert(r.Body))
	}
}

// refused checks that the right password from ip is refused with 429 and Retry-After, and returns the message.
func (f *throttleFixture) refused(t *testing.T, ip, email, password string) string {
	t.Helper()
	r := f.try(t, ip, email, password)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s from %s: status %d %q, want 429", email, ip, r.StatusCode, testenv.Alert(r.Body))
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs <= 0 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", r.Header.Get("Retry-After"))
	}
	if setsSession(r) {
		t.Error("a refused sign-in set a session")
	}
	return testenv.Alert(r.Body)
}

// settings changes the tenant's settings through the Management API.
func (f *throttleFixture) settings(t *testing.T, body map[string]any) {
	t.Helper()
	if r := f.acme.API(t, f.c, "PATCH", "/tenants/settings", f.apiKey, body); r.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /tenants/settings %v: status %d\n%s", body, r.StatusCode, r.Body)
	}
}

// TestThrottlePerAccountAndIP: ten failures in a row for alice from one IP block that IP for alice only; alice
// signs in from elsewhere, and others from that IP. An unknown email is throttled just the same.
func TestThrottlePerAccountAndIP(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		// Any spelling that finds alice counts against alice.
		spellings := []string{"alice@acme.test", "Alice@ACME.test", " alice@acme.test "}
		for i := range server.DefaultBruteForceThreshold {
			f.fail(t, "203.0.113.1", spellings[i%len(spellings)])
		}
		blocked := f.refused(t, "203.0.113.1", "alice@acme.test", testenv.Password)
		f.signsIn(t, "203.0.113.2", "alice@acme.test", testenv.Password)
		f.signsIn(t, "203.0.113.1", "bob@acme.test", testenv.Password)

		for range server.DefaultBruteForceThreshold {
			f.fail(t, "203.0.113.3", "nobody@acme.test")
		}
		if got := f.refused(t, "203.0.113.3", "nobody@acme.test", testenv.Password); got != blocked {
			t.Errorf("unknown email refused with %q, known with %q: must be the same", got, blocked)
		}
	})
}

// TestThrottleSuccessResets: a successful sign-in from an IP ends its run of failures for that account.
func TestThrottleSuccessResets(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		f.settings(t, map[string]any{"brute_force_threshold": 3})
		for range 2 {
			f.fail(t, "203.0.113.1", "alice@acme.test")
			f.fail(t, "203.0.113.1", "alice@acme.test")
			f.signsIn(t, "203.0.113.1", "alice@acme.test", testenv.Password)
		}
	})
}

// TestThrottlePerIP: failures for many accounts from one IP block nobody until the per-IP limit; then that
// IP is refused for every account, and other IPs are not.
func TestThrottlePerIP(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		f.settings(t, map[string]any{"ip_failure_limit": 5, "brute_force_threshold": 3})
		for i := range 4 {
			f.fail(t, "203.0.113.1", "user"+strconv.Itoa(i)+"@acme.test")
		}
		f.signsIn(t, "203.0.113.1", "bob@acme.test", testenv.Password)
		f.fail(t, "203.0.113.1", "user4@acme.test")
		ipMsg := f.refused(t, "203.0.113.1", "alice@acme.test", testenv.Password)
		f.refused(t, "203.0.113.1", "bob@acme.test", testenv.Password)
		f.signsIn(t, "203.0.113.2", "alice@acme.test", testenv.Password)

		// The per-(account, IP) block answers with the same message.
		for range 3 {
			f.fail(t, "203.0.113.9", "bob@acme.test")
		}
		if got := f.refused(t, "203.0.113.9", "bob@acme.test", testenv.Password); got != ipMsg {
			t.Errorf("per-IP refusal %q, per-(account, IP) refusal %q: must be the same", ipMsg, got)
		}
	})
}

// TestThrottlePerAccount: failures for one account from many IPs refuse that account everywhere at the
// per-account limit, and nobody else.
func TestThrottlePerAccount(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		f.settings(t, map[string]any{"account_failure_limit": 4})
		for i := range 4 {
			f.fail(t, "203.0.113."+strconv.Itoa(10+i), "alice@acme.test")
		}
		f.refused(t, "198.51.100.7", "alice@acme.test", testenv.Password)
		f.signsIn(t, "198.51.100.7", "bob@acme.test", testenv.Password)
	})
}

// TestThrottlePasswordChangeLiftsBlocks: a new password set through the Management API lifts the account's
// blocks from every IP.
func TestThrottlePasswordChangeLiftsBlocks(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		for range server.DefaultBruteForceThreshold {
			f.fail(t, "203.0.113.1", "alice@acme.test")
		}
		f.refused(t, "203.0.113.1", "alice@acme.test", testenv.Password)
		const newPassword = "a-brand-new-password"
		if r := f.acme.API(t, f.c, "PATCH", "/users/"+f.alice.ID, f.apiKey, map[string]any{"password": newPassword}); r.StatusCode != http.StatusOK {
			t.Fatalf("PATCH /users/%s: status %d\n%s", f.alice.ID, r.StatusCode, r.Body)
		}
		f.signsIn(t, "203.0.113.1", "alice@acme.test", newPassword)
	})
}

// TestThrottleSettingsChangeTheNumbers: the tenant's settings decide the threshold, at once.
func TestThrottleSettingsChangeTheNumbers(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		for range 2 {
			f.fail(t, "203.0.113.1", "alice@acme.test")
		}
		f.signsIn(t, "203.0.113.2", "bob@acme.test", testenv.Password) // 2 failures block nobody by default
		f.settings(t, map[string]any{"brute_force_threshold": 2})
		for range 2 {
			f.fail(t, "203.0.113.1", "bob@acme.test")
		}
		f.refused(t, "203.0.113.1", "bob@acme.test", testenv.Password)
		f.signsIn(t, "203.0.113.2", "bob@acme.test", testenv.Password)
	})
}
