package login_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn/passkey"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/internal/webauthntest"
	"github.com/authio/authio/storage"
)

// passkeyFixture: tenants acme and globex each with a passkey connection named "passkey", acme's spa and
// alice, and a browser signed in as alice on acme (a password sign-in without a flow).
type passkeyFixture struct {
	env           *testenv.Env
	acme, globex  *testenv.Tenant
	spa           directory.CreatedClient
	alice         storage.User
	browser       *http.Client // alice's, does not follow redirects
	follow        *http.Client // the same jar, follows redirects up to the client
	acmeConnectID string
}

func newPasskeyFixture(t testing.TB, opts testenv.Options) *passkeyFixture {
	t.Helper()
	env := testenv.New(t, opts)
	f := &passkeyFixture{env: env, acme: env.NewTenant("acme"), globex: env.NewTenant("globex")}
	for _, tn := range []*testenv.Tenant{f.acme, f.globex} {
		c, err := env.S.CreateConnection(tn.Ctx, signin.ConnectionSpec{Name: "passkey", Strategy: "passkey"})
		if err != nil {
			t.Fatalf("create the passkey connection of %s: %v", tn.Slug, err)
		}
		if tn == f.acme {
			f.acmeConnectID = c.ID
		}
	}
	f.spa = f.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	f.alice = f.acme.NewUser("alice@acme.test")
	f.browser = env.Client(testenv.ClientOptions{NoRedirects: true})
	f.follow = env.Client(testenv.ClientOptions{Jar: f.browser.Jar, StopAt: []string{spaOrigin}})
	if r := f.acme.SignIn(t, f.browser, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK || !setsSession(r) {
		t.Fatalf("password sign-in: status %d\n%s", r.StatusCode, r.Body)
	}
	return f
}

func origin(tn *testenv.Tenant) string { return "http://" + tn.Host }

func csrfOf(t testing.TB, page *testenv.Response) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("%s: no CSRF token (status %d):\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	return m[1]
}

// register adds authenticator a as a passkey of the browser c's user on tn, through the passkeys page's
// ceremony, and returns the finish step's response.
func register(t testing.TB, c *http.Client, tn *testenv.Tenant, a *webauthntest.Authenticator, name string) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, tn.URL("/account/passkeys"))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /account/passkeys: status %d\n%s", page.StatusCode, page.Body)
	}
	csrf := csrfOf(t, page)
	begin := testenv.PostForm(t, c, tn.URL("/account/passkeys/begin"), url.Values{"csrf_token": {csrf}},
		testenv.Header("Origin", origin(tn)))
	if begin.StatusCode != http.StatusOK {
		t.Fatalf("registration begin: status %d\n%s", begin.StatusCode, begin.Body)
	}
	att, err := a.Create([]byte(begin.Body), origin(tn))
	if err != nil {
		t.Fatal(err)
	}
	return testenv.PostForm(t, c, tn.URL("/account/passkeys/finish"), url.Values{"csrf_token": {csrf}, "name": {name},
		"credential": {string(att)}}, testenv.Header("Origin", origin(tn)))
}

// begin gets the sign-in options of flow on tn (email "" for a discoverable sign-in).
func beginPasskey(t testing.TB, c *http.Client, tn *testenv.Tenant, flow, email string) (csrf string, options []byte) {
	t.Helper()
	page := testenv.Get(t, c, tn.URL("/login?state="+flow))
	if !strings.Contains(page.Body, "data-passkey-login") || !strings.Contains(page.Body, "Sign in with a passkey") {
		t.Fatalf("the sign-in page offers no passkey:\n%s", page.Body)
	}
	csrf = csrfOf(t, page)
	r := testenv.PostForm(t, c, tn.URL("/login/passkey/begin"), url.Values{"csrf_token": {csrf}, "state": {flow},
		"email": {email}}, testenv.Header("Origin", origin(tn)))
	if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("sign-in begin: status %d (Cache-Control %q)\n%s", r.StatusCode, r.Header.Get("Cache-Control"), r.Body)
	}
	return csrf, []byte(r.Body)
}

func submitPasskey(t testing.TB, c *http.Client, tn *testenv.Tenant, csrf, flow string, assertion []byte) *testenv.Response {
	t.Helper()
	return testenv.PostForm(t, c, tn.URL("/login"), url.Values{"csrf_token": {csrf}, "state": {flow}, "connection": {"passkey"},
		passkey.Field: {string(assertion)}}, testenv.Header("Origin", origin(tn)))
}

// signInWith runs a whole passkey sign-in for a new flow of acme's spa in browser c and returns the flow, the
// request and the /login response.
func (f *passkeyFixture) signInWith(t testing.TB, c *http.Client, a *webauthntest.Authenticator, email string) (string, *testenv.AuthRequest, *testenv.Response) {
	t.Helper()
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("prompt", "login")
	flow := ar.Flow(t, f.acme, c)
	csrf, opts := beginPasskey(t, c, f.acme, flow, email)
	assertion, err := a.Get(opts, origin(f.acme))
	if err != nil {
		t.Fatal(err)
	}
	return flow, ar, submitPasskey(t, c, f.acme, csrf, flow, assertion)
}

// claimsAfter follows a successful sign-in to the client and returns the ID token's claims.
func (f *passkeyFixture) claimsAfter(t testing.TB, follow *http.Client, ar *testenv.AuthRequest, flow string, r *testenv.Response) map[string]any {
	t.Helper()
	back := "/authorize/resume?state=" + flow
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != back || !setsSession(r) {
		t.Fatalf("status %d Location %q session %v, want 303 to %s with a session\n%s",
			r.StatusCode, r.Header.Get("Location"), setsSession(r), back, r.Body)
	}
	q := ar.Callback(t, f.acme, testenv.Get(t, follow, f.acme.URL(back)))
	tok := testenv.TokensOf(t, ar.Exchange(t, f.acme, follow, q.Get("code")))
	_, claims := testenv.DecodeJWT(t, tok.IDToken)
	return claims
}

func (f *passkeyFixture) lastFailure(t testing.TB) storage.AuditEvent {
	t.Helper()
	evs, err := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: audit.EventSignInFailed, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no signin.failed event (%v)", err)
	}
	return evs[0]
}

func stranger(f *passkeyFixture) *http.Client {
	return f.env.Client(testenv.ClientOptions{NoRedirects: true})
}

// TestPasskeyRegisterAndSignIn: a signed-in user registers a passkey on the passkeys page; it is stored with its
// RP ID and what the authenticator reported; another browser then signs in with it discoverably (no email) and
// after the email step, and the ID token's amr says hwk+user for a device-bound passkey, swk+user for a synced one.
func TestPasskeyRegisterAndSignIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newPasskeyFixture(t, opts)
		laptop := webauthntest.New()
		r := register(t, f.browser, f.acme, laptop, "Work laptop")
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("registration finish: status %d\n%s", r.StatusCode, r.Body)
		}
		stored, err := f.env.S.Store.PasskeyByCredentialID(f.acme.Ctx, "acme.localhost",
			base64.RawURLEncoding.EncodeToString(laptop.CredentialID))
		if err != nil {
			t.Fatalf("the passkey is not stored for RP ID acme.localhost: %v", err)
		}
		if stored.UserID != f.alice.ID || stored.Type != storage.CredentialWebAuthn || stored.ConnectionID != f.acmeConnectID ||
			passkey.Name(stored) != "Work laptop" || stored.SignCount != 1 || stored.Metadata["public_key"] == "" ||
			stored.Metadata["attestation_format"] != "none" || stored.Metadata["backup_eligible"] != false ||
			stored.Metadata["user_handle"] != base64.RawURLEncoding.EncodeToString([]byte(f.alice.ID)) ||
			!slices.Equal(passkey.Transports(stored), []string{"internal", "hybrid"}) {
			t.Errorf("stored passkey = %+v", stored)
		}
		if evs, _ := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: passkey.EventRegistered}); len(evs) != 1 || evs[0].UserID != f.alice.ID {
			t.Errorf("passkey.registered events = %+v", evs)
		}
		page := testenv.Get(t, f.browser, f.acme.URL("/account"))
		if !strings.Contains(page.Body, "Work laptop") || !strings.Contains(page.Body, "never used") {
			t.Errorf("the account page does not list the new passkey:\n%s", page.Body)
		}

		t.Run("discoverable", func(t *testing.T) {
			c := stranger(f)
			follow := f.env.Client(testenv.ClientOptions{Jar: c.Jar, StopAt: []string{spaOrigin}})
			flow, ar, r := f.signInWith(t, c, laptop, "")
			claims := f.claimsAfter(t, follow, ar, flow, r)
			if claims["sub"] != f.alice.ID || !slices.Equal(amrOf(claims), []string{"hwk", "user"}) {
				t.Errorf("sub %v amr %v, want alice with [hwk user]", claims["sub"], amrOf(claims))
			}
			used, _ := f.env.S.Store.PasskeyByCredentialID(f.acme.Ctx, "acme.localhost", stored.CredentialID)
			if used.SignCount != 2 || used.LastUsedAt == nil {
				t.Errorf("after sign-in: count %d, last used %v; want 2 and set", used.SignCount, used.LastUsedAt)
			}
		})

		t.Run("after the email step", func(t *testing.T) {
			c := stranger(f)
			follow := f.env.Client(testenv.ClientOptions{Jar: c.Jar, StopAt: []string{spaOrigin}})
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			flow := ar.Flow(t, f.acme, c)
			csrf, opts := beginPasskey(t, c, f.acme, flow, "Alice@acme.test")
			var o struct {
				PublicKey struct {
					Allow []struct {
						ID string `json:"id"`
					} `json:"allowCredentials"`
					UV string `json:"userVerification"`
				} `json:"publicKey"`
			}
			if err := json.Unmarshal(opts, &o); err != nil || len(o.PublicKey.Allow) != 1 ||
				o.PublicKey.Allow[0].ID != stored.CredentialID || o.PublicKey.UV != "required" {
				t.Fatalf("options after the email step = %s (%v), want alice's passkey allowed and UV required", opts, err)
			}
			assertion, err := laptop.Get(opts, origin(f.acme))
			if err != nil {
				t.Fatal(err)
			}
			claims := f.claimsAfter(t, follow, ar, flow, submitPasskey(t, c, f.acme, csrf, flow, assertion))
			if claims["sub"] != f.alice.ID || !slices.Equal(amrOf(claims), []string{"hwk", "user"}) {
				t.Errorf("sub %v amr %v", claims["sub"], amrOf(claims))
			}
		})

		t.Run("synced passkey is swk", func(t *testing.T) {
			phone := webauthntest.New()
			phone.BackupEligible, phone.BackupState, phone.Counter, phone.Step = true, true, 0, 0
			if r := register(t, f.browser, f.acme, phone, ""); r.StatusCode != http.StatusCreated {
				t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
			}
			for i := range 2 { // a counter that stays 0 is no regression
				c := stranger(f)
				follow := f.env.Client(testenv.ClientOptions{Jar: c.Jar, StopAt: []string{spaOrigin}})
				flow, ar, r := f.signInWith(t, c, phone, "")
				if claims := f.claimsAfter(t, follow, ar, flow, r); !slices.Equal(amrOf(claims), []string{"swk", "user"}) {
					t.Errorf("sign-in %d: amr %v, want [swk user]", i, amrOf(claims))
				}
			}
		})

		t.Run("no user verification", func(t *testing.T) {
			lax := webauthntest.New()
			lax.NoUV = true
			if r := register(t, f.browser, f.acme, lax, ""); r.StatusCode != http.StatusBadRequest {
				t.Errorf("registration without UV: status %d, want 400\n%s", r.StatusCode, r.Body)
			}
			laptop.NoUV = true
			defer func() { laptop.NoUV = false }()
			if _, _, r := f.signInWith(t, stranger(f), laptop, ""); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Errorf("sign-in without UV: status %d, want 401", r.StatusCode)
			}
		})
	})
}

// TestPasskeyEmailStepGivesNothingAway: after the email step, an address that names nobody (or somebody without a
// passkey) gets options of the same shape as one that names a passkey user — one credential id of the usual
// size — and the same ones each time; alice's passkey cannot answer options asked for another address.
func TestPasskeyEmailStepGivesNothingAway(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t, testenv.Options{})
	laptop := webauthntest.New()
	if r := register(t, f.browser, f.acme, laptop, "Laptop"); r.StatusCode != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
	}
	f.acme.NewUser("bob@acme.test") // no passkey
	c := stranger(f)
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	shape := func(opts []byte) (keys []string, ids []string) {
		var o map[string]map[string]any
		if err := json.Unmarshal(opts, &o); err != nil {
			t.Fatal(err)
		}
		for k := range o["publicKey"] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		list, _ := o["publicKey"]["allowCredentials"].([]any)
		for _, d := range list {
			m := d.(map[string]any)
			id := m["id"].(string)
			raw, _ := base64.RawURLEncoding.DecodeString(id)
			ids = append(ids, id)
			if len(raw) != 16 || m["type"] != "public-key" {
				t.Errorf("allowed credential %v: want a 16-byte public-key id", m)
			}
		}
		return keys, ids
	}
	_, aliceOpts := beginPasskey(t, c, f.acme, flow, "alice@acme.test")
	aliceKeys, aliceIDs := shape(aliceOpts)
	for _, email := range []string{"nobody@acme.test", "bob@acme.test"} {
		_, opts := beginPasskey(t, c, f.acme, flow, email)
		keys, ids := shape(opts)
		if !slices.Equal(keys, aliceKeys) || len(ids) != len(aliceIDs) || ids[0] == aliceIDs[0] {
			t.Errorf("%s: options %s, want the shape of alice's %s", email, opts, aliceOpts)
		}
		_, again := beginPasskey(t, c, f.acme, flow, email)
		if _, ids2 := shape(again); !slices.Equal(ids, ids2) {
			t.Errorf("%s: the stand-in ids change between requests: %v, %v", email, ids, ids2)
		}
	}
	csrf, opts := beginPasskey(t, c, f.acme, flow, "bob@acme.test")
	assertion, err := laptop.Get(opts, origin(f.acme))
	if err != nil {
		t.Fatal(err)
	}
	if r := submitPasskey(t, c, f.acme, csrf, flow, assertion); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
		t.Errorf("alice's passkey for bob's email step: status %d, want 401", r.StatusCode)
	}
}

// TestPasskeyRefusals: each refusal is a 401 that opens no session; a sign-count regression and inconsistent
// backup flags are audited with their reason and the user; a challenge answers once; the flow binds it.
func TestPasskeyRefusals(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newPasskeyFixture(t, opts)
		key := webauthntest.New()
		if r := register(t, f.browser, f.acme, key, "Key"); r.StatusCode != http.StatusCreated {
			t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
		}
		okSignIn := func(t *testing.T) {
			t.Helper()
			if _, _, r := f.signInWith(t, stranger(f), key, ""); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: status %d\n%s", r.StatusCode, r.Body)
			}
		}
		refused := func(t *testing.T, reason string) {
			t.Helper()
			_, _, r := f.signInWith(t, stranger(f), key, "")
			if r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Fatalf("status %d (session %v), want 401 without a session\n%s", r.StatusCode, setsSession(r), r.Body)
			}
			ev := f.lastFailure(t)
			if ev.Data["reason"] != reason || ev.UserID != f.alice.ID || ev.Data["strategy"] != "passkey" {
				t.Errorf("signin.failed = %+v, want reason %s for alice", ev, reason)
			}
		}
		okSignIn(t)

		t.Run("sign count regression", func(t *testing.T) {
			key.Counter = 2 // the stored count is 2 after the sign-ins so far
			refused(t, passkey.ReasonSignCount)
			key.Counter = 1
			refused(t, passkey.ReasonSignCount)
			key.Counter = 10
			okSignIn(t)
		})

		t.Run("backup state without backup eligibility", func(t *testing.T) {
			key.BackupState = true
			refused(t, passkey.ReasonBackupFlags)
			key.BackupState = false
			okSignIn(t)
		})

		t.Run("backup eligibility changed", func(t *testing.T) {
			key.BackupEligible = true
			refused(t, passkey.ReasonBackupFlags)
			key.BackupEligible = false
			okSignIn(t)
		})

		t.Run("forged signature is not audited as flags", func(t *testing.T) {
			forger := webauthntest.New()
			forger.CredentialID, forger.RPID, forger.UserHandle, forger.BackupState = key.CredentialID, key.RPID, key.UserHandle, true
			forger.Counter = 1000
			_, _, r := f.signInWith(t, stranger(f), forger, "")
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.StatusCode)
			}
			if ev := f.lastFailure(t); ev.Data["reason"] != "invalid_credentials" || ev.UserID != "" {
				t.Errorf("signin.failed = %+v, want invalid_credentials without a user", ev)
			}
		})

		t.Run("a challenge answers once", func(t *testing.T) {
			c := stranger(f)
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			flow := ar.Flow(t, f.acme, c)
			csrf, opts := beginPasskey(t, c, f.acme, flow, "")
			assertion, err := key.Get(opts, origin(f.acme))
			if err != nil {
				t.Fatal(err)
			}
			if r := submitPasskey(t, c, f.acme, csrf, flow, assertion); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("first answer: %d", r.StatusCode)
			}
			ar2 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			ar2.Extra.Set("prompt", "login") // the browser has a session now
			flow2 := ar2.Flow(t, f.acme, c)
			csrf, _ = beginPasskey(t, c, f.acme, flow2, "")
			if r := submitPasskey(t, c, f.acme, csrf, flow2, assertion); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Errorf("a replayed assertion in another flow: status %d, want 401", r.StatusCode)
			}
			if r := submitPasskey(t, c, f.acme, csrf, flow2, nil); r.StatusCode != http.StatusBadRequest || setsSession(r) {
				t.Errorf("no assertion: status %d, want 400", r.StatusCode)
			}
		})

		t.Run("another browser cannot use the flow", func(t *testing.T) {
			c := stranger(f)
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			flow := ar.Flow(t, f.acme, c)
			other := stranger(f)
			page := testenv.Get(t, other, f.acme.URL("/login"))
			r := testenv.PostForm(t, other, f.acme.URL("/login/passkey/begin"), url.Values{"csrf_token": {csrfOf(t, page)},
				"state": {flow}}, testenv.Header("Origin", origin(f.acme)))
			if r.StatusCode != http.StatusBadRequest || strings.Contains(r.Body, "challenge") {
				t.Errorf("begin with another browser's flow: status %d, want 400\n%s", r.StatusCode, r.Body)
			}
		})
	})
}

// TestPasskeyParallelAssertions: two sign-ins that carry the same counter, each with a challenge of its own, race:
// the conditional write lets exactly one in, and the other is refused and audited as a counter regression.
func TestPasskeyParallelAssertions(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newPasskeyFixture(t, opts)
		key := webauthntest.New()
		if r := register(t, f.browser, f.acme, key, "Key"); r.StatusCode != http.StatusCreated {
			t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
		}
		const n = 4
		type attempt struct {
			c          *http.Client
			csrf, flow string
			assertion  []byte
			status     int
			err        error
		}
		attempts := make([]*attempt, n)
		for i := range attempts {
			c := stranger(f)
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			flow := ar.Flow(t, f.acme, c)
			csrf, opts := beginPasskey(t, c, f.acme, flow, "")
			key.Counter = 5 // every assertion carries 5
			a, err := key.Get(opts, origin(f.acme))
			if err != nil {
				t.Fatal(err)
			}
			attempts[i] = &attempt{c: c, csrf: csrf, flow: flow, assertion: a}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, a := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req := testenv.FormRequest(f.acme.URL("/login"), url.Values{"csrf_token": {a.csrf}, "state": {a.flow},
					"connection": {"passkey"}, passkey.Field: {string(a.assertion)}})
				req.Header.Set("Origin", origin(f.acme))
				resp, err := a.c.Do(req)
				if err != nil {
					a.err = err
					return
				}
				resp.Body.Close()
				a.status = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, a := range attempts {
			switch {
			case a.err != nil:
				t.Fatalf("attempt %d: %v", i, a.err)
			case a.status == http.StatusSeeOther:
				wins++
			case a.status != http.StatusUnauthorized:
				t.Errorf("attempt %d: status %d, want 303 once and 401 otherwise", i, a.status)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d parallel assertions with the same counter signed in, want exactly 1", wins, n)
		}
		evs, err := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: audit.EventSignInFailed})
		if err != nil {
			t.Fatal(err)
		}
		regressions := 0
		for _, ev := range evs {
			if ev.Data["reason"] == passkey.ReasonSignCount && ev.UserID == f.alice.ID {
				regressions++
			}
		}
		if regressions != n-1 {
			t.Errorf("%d sign-count refusals audited, want %d", regressions, n-1)
		}
	})
}

// TestPasskeyCrossDomain: a passkey registered on acme's default domain signs in nowhere else — not on globex's
// domain (another tenant, whose sign-in page has a passkey connection too) and not on acme's second domain (the
// same tenant, another RP ID).
func TestPasskeyCrossDomain(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newPasskeyFixture(t, opts)
		key := webauthntest.New()
		if r := register(t, f.browser, f.acme, key, "Key"); r.StatusCode != http.StatusCreated {
			t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
		}
		if _, err := f.env.S.AddDomain(context.Background(), f.acme.ID, "acme-login.localhost"); err != nil {
			t.Fatal(err)
		}
		second := &testenv.Tenant{TenantInfo: f.acme.TenantInfo, Env: f.env, Host: "acme-login.localhost:" + f.env.Port,
			Issuer: "http://acme-login.localhost:" + f.env.Port + "/", Ctx: f.acme.Ctx}
		globexSPA := f.globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
		for _, tc := range []struct {
			name   string
			tn     *testenv.Tenant
			client string
		}{
			{"another tenant", f.globex, globexSPA.ClientID},
			{"the same tenant's other domain", second, f.spa.ClientID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := stranger(f)
				ar := testenv.NewAuthRequest(tc.client, spaRedirect)
				flow := ar.Flow(t, tc.tn, c)
				for _, email := range []string{"", "alice@acme.test"} {
					csrf, opts := beginPasskey(t, c, tc.tn, flow, email)
					if strings.Contains(string(opts), base64.RawURLEncoding.EncodeToString(key.CredentialID)) {
						t.Errorf("options on %s list the passkey of acme.localhost: %s", tc.tn.Host, opts)
					}
					// The authenticator signs for the RP ID it knows; a browser would not even offer it here.
					assertion, err := key.Get(opts, origin(tc.tn))
					if err != nil {
						t.Fatal(err)
					}
					r := submitPasskey(t, c, tc.tn, csrf, flow, assertion)
					if r.StatusCode != http.StatusUnauthorized || setsSession(r) {
						t.Errorf("email %q: status %d (session %v), want 401 without a session", email, r.StatusCode, setsSession(r))
					}
				}
			})
		}
		// It still works where it was registered.
		if _, _, r := f.signInWith(t, stranger(f), key, ""); r.StatusCode != http.StatusSeeOther {
			t.Errorf("on acme.localhost: status %d, want 303", r.StatusCode)
		}
	})
}

// TestPasskeyAccountPage: rename and remove are the user's own (audited), another user's or tenant's passkey is a
// 404, the page needs a session, and registration checks its challenge once.
func TestPasskeyAccountPage(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t, testenv.Options{})
	key := webauthntest.New()
	if r := register(t, f.browser, f.acme, key, "  Old\tname  "); r.StatusCode != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.StatusCode, r.Body)
	}
	list, _ := f.env.S.Store.ListPasskeys(f.acme.Ctx, f.alice.ID)
	if len(list) != 1 || passkey.Name(list[0]) != "Oldname" {
		t.Fatalf("passkeys = %+v", list)
	}
	id := list[0].ID
	if r := register(t, f.browser, f.acme, key, "again"); r.StatusCode != http.StatusConflict {
		t.Errorf("the same authenticator twice: status %d, want 409", r.StatusCode)
	}
	page := testenv.Get(t, f.browser, f.acme.URL("/account/passkeys"))
	csrf := csrfOf(t, page)
	post := func(c *http.Client, path string, form url.Values) *testenv.Response {
		form.Set("csrf_token", csrf)
		return testenv.PostForm(t, c, f.acme.URL(path), form, testenv.Header("Origin", origin(f.acme)))
	}
	if r := post(f.browser, "/account/passkeys/rename", url.Values{"passkey": {id}, "name": {"YubiKey"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: status %d\n%s", r.StatusCode, r.Body)
	}
	if r := post(f.browser, "/account/passkeys/rename", url.Values{"passkey": {id}, "name": {" "}}); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, `aria-invalid="true"`) {
		t.Errorf("empty name: status %d, want 400 with the field marked", r.StatusCode)
	}
	if p, _ := f.env.S.Store.GetPasskey(f.acme.Ctx, f.alice.ID, id); passkey.Name(p) != "YubiKey" {
		t.Errorf("name after rename = %q", passkey.Name(p))
	}

	// Bob, signed in on acme, cannot touch alice's passkey; nor can anyone on globex.
	f.acme.NewUser("bob@acme.test")
	bob := stranger(f)
	f.acme.SignIn(t, bob, "bob@acme.test", testenv.Password, "")
	bobCSRF := csrfOf(t, testenv.Get(t, bob, f.acme.URL("/account/passkeys")))
	for _, action := range []string{"rename", "remove"} {
		r := testenv.PostForm(t, bob, f.acme.URL("/account/passkeys/"+action), url.Values{"csrf_token": {bobCSRF},
			"passkey": {id}, "name": {"mine"}}, testenv.Header("Origin", origin(f.acme)))
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("bob's %s of alice's passkey: status %d, want 404", action, r.StatusCode)
		}
	}
	globexBrowser := stranger(f)
	f.globex.NewUser("alice@acme.test")
	f.globex.SignIn(t, globexBrowser, "alice@acme.test", testenv.Password, "")
	gCSRF := csrfOf(t, testenv.Get(t, globexBrowser, f.globex.URL("/account/passkeys")))
	r := testenv.PostForm(t, globexBrowser, f.globex.URL("/account/passkeys/remove"), url.Values{"csrf_token": {gCSRF},
		"passkey": {id}}, testenv.Header("Origin", origin(f.globex)))
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("globex's delete of acme's passkey: status %d, want 404", r.StatusCode)
	}
	if p, err := f.env.S.Store.GetPasskey(f.acme.Ctx, f.alice.ID, id); err != nil || passkey.Name(p) != "YubiKey" {
		t.Errorf("alice's passkey after the others' attempts: %+v, %v", p, err)
	}

	// Without a session: the hosted sign-in, which comes back.
	anon := stranger(f)
	if r := testenv.Get(t, anon, f.acme.URL("/account/passkeys")); r.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), "/login?") {
		t.Errorf("anonymous page: status %d Location %q, want 303 to the sign-in", r.StatusCode, r.Header.Get("Location"))
	}
	// The account page lists the passkey with its forms.
	acct := testenv.Get(t, f.browser, f.acme.URL("/account"))
	if acct.StatusCode != http.StatusOK || !strings.Contains(acct.Body, "YubiKey") || !strings.Contains(acct.Body, "data-passkey-register") {
		t.Errorf("the account page: status %d, want the passkey and the add form\n%s", acct.StatusCode, acct.Body)
	}

	if r := post(f.browser, "/account/passkeys/remove", url.Values{"passkey": {id}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: status %d\n%s", r.StatusCode, r.Body)
	}
	if _, err := f.env.S.Store.GetPasskey(f.acme.Ctx, f.alice.ID, id); err == nil {
		t.Error("the passkey is still there")
	}
	for _, typ := range []string{passkey.EventRegistered, passkey.EventRenamed, passkey.EventRemoved} {
		evs, _ := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: typ})
		if len(evs) != 1 || evs[0].UserID != f.alice.ID {
			t.Errorf("%s events = %+v, want one of alice's", typ, evs)
		}
	}
	// A removed passkey signs in no more.
	if _, _, r := f.signInWith(t, stranger(f), key, ""); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in with a removed passkey: status %d, want 401", r.StatusCode)
	}
}

// TestPasskeyOfferedAtSignup: with a passkey connection, sign-up continues on the passkeys page (the flow's state
// carried), where the new user can add one and then continue the flow.
func TestPasskeyOfferedAtSignup(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t, testenv.Options{})
	if err := f.env.S.SetSignup(context.Background(), f.acme.ID, true); err != nil {
		t.Fatal(err)
	}
	c := stranger(f)
	follow := f.env.Client(testenv.ClientOptions{Jar: c.Jar, StopAt: []string{spaOrigin}})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	var page *testenv.Response
	// The sign-up setting reaches the server through the cache's pub/sub; give it a moment, but not forever.
	for deadline := time.Now().Add(3 * time.Second); ; {
		if page = testenv.Get(t, c, f.acme.URL("/signup?state="+flow)); page.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	form := testenv.ParseForm(t, page.Body)
	r := f.acme.Submit(t, c, form, url.Values{"email": {"carol@acme.test"}, "password": {"long-enough-password"}})
	want := "/account/passkeys?state=" + flow
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want || !setsSession(r) {
		t.Fatalf("sign-up: status %d Location %q, want 303 to %s with a session", r.StatusCode, r.Header.Get("Location"), want)
	}
	offer := testenv.Get(t, c, f.acme.URL(want))
	resume := `href="/authorize/resume?state=` + flow + `"`
	if offer.StatusCode != http.StatusOK || !strings.Contains(offer.Body, "Add a passkey") || !strings.Contains(offer.Body, resume) {
		t.Fatalf("the offer page: status %d, want the add button and a link to %s\n%s", offer.StatusCode, resume, offer.Body)
	}
	key := webauthntest.New()
	if r := register(t, c, f.acme, key, "Phone"); r.StatusCode != http.StatusCreated {
		t.Fatalf("registration at sign-up: %d %s", r.StatusCode, r.Body)
	}
	q := ar.Callback(t, f.acme, testenv.Get(t, follow, f.acme.URL("/authorize/resume?state="+flow)))
	if q.Get("code") == "" {
		t.Fatalf("the flow did not continue: %v", q)
	}
	carol, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "carol@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := f.env.S.Store.ListPasskeys(f.acme.Ctx, carol.ID); len(list) != 1 || passkey.Name(list[0]) != "Phone" {
		t.Errorf("carol's passkeys = %+v", list)
	}
}

// TestPasskeyBegin: the begin step answers JSON errors: no flow (400), a connection that is not a ceremony kind or
// is another tenant's (404), a disabled one (403).
func TestPasskeyBegin(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t, testenv.Options{})
	c := stranger(f)
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	csrf := csrfOf(t, testenv.Get(t, c, f.acme.URL("/login?state="+flow)))
	begin := func(conn, state string) *testenv.Response {
		return testenv.PostForm(t, c, f.acme.URL("/login/"+conn+"/begin"), url.Values{"csrf_token": {csrf}, "state": {state}},
			testenv.Header("Origin", origin(f.acme)))
	}
	gx, err := f.env.S.CreateConnection(f.globex.Ctx, signin.ConnectionSpec{Name: "globex-keys", Strategy: "passkey"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, conn, state string
		status            int
	}{
		{"no flow", "passkey", "", http.StatusBadRequest},
		{"unknown flow", "passkey", "flw_nope", http.StatusBadRequest},
		{"password connection", storage.DefaultPasswordConnection, flow, http.StatusNotFound},
		{"another tenant's by name", "globex-keys", flow, http.StatusNotFound},
		{"another tenant's by id", gx.ID, flow, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := begin(tc.conn, tc.state)
			if r.StatusCode != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("status %d %q, want %d JSON\n%s", r.StatusCode, r.Header.Get("Content-Type"), tc.status, r.Body)
			}
		})
	}
	off := false
	if _, err := f.env.S.UpdateConnection(f.acme.Ctx, f.acmeConnectID, signin.ConnectionUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if r := begin("passkey", flow); r.StatusCode != http.StatusForbidden {
		t.Errorf("disabled connection: status %d, want 403", r.StatusCode)
	}
	if page := testenv.Get(t, c, f.acme.URL("/login?state="+flow)); strings.Contains(page.Body, "data-passkey-login") {
		t.Error("the sign-in page offers a disabled passkey connection")
	}
}

// BenchmarkPasskeySignIn measures whole passkey sign-ins through the real HTTP handlers (SQLite, in-process
// cache): per sign-in a new flow (/authorize), the sign-in page, the begin step and the form post that checks the
// assertion and opens the session. Each parallel client has its own registered software authenticator.
//
//	go test ./handlers/login -run '^$' -bench BenchmarkPasskeySignIn -benchtime 2000x -cpu 1,4
func BenchmarkPasskeySignIn(b *testing.B) {
	f := newPasskeyFixture(b, testenv.Options{})
	keys := make([]*webauthntest.Authenticator, 64)
	for i := range keys {
		keys[i] = webauthntest.New()
		if r := register(b, f.browser, f.acme, keys[i], ""); r.StatusCode != http.StatusCreated {
			b.Fatalf("registration: %d %s", r.StatusCode, r.Body)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := keys[int(next.Add(1)-1)%len(keys)]
		c := stranger(f)
		for pb.Next() {
			_, _, r := f.signInWith(b, c, key, "")
			if r.StatusCode != http.StatusSeeOther {
				b.Errorf("sign-in: status %d", r.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}
