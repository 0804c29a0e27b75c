package login_test

// Attack review 2 of the sign-in pipeline over connection kinds (issue 8). Every test drives the real router
// (internal/testenv) on every backend. The ones named as findings fail on the code they were written against;
// the others pin down an attack that held.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

const attack2Type = "attack2-idp"

// attack2IdP is a redirect kind whose "provider" says whatever the callback's query says (sub, email, ev=1 for a
// verified email, amr as a comma list): the test plays a provider that an attacker has an account at, and that
// reports what the attacker typed into their profile there.
type attack2IdP struct{ rec storage.Connection }

func (c *attack2IdP) Type() string               { return attack2Type }
func (c *attack2IdP) Record() storage.Connection { return c.rec }
func (c *attack2IdP) DisplayName() string {
	n, _ := c.rec.Settings["display_name"].(string)
	return n
}

func (c *attack2IdP) LoginURL(_ context.Context, state, callbackURL string) (string, error) {
	return fakeProvider + "?" + url.Values{"state": {state}, "redirect_uri": {callbackURL}}.Encode(), nil
}

func (c *attack2IdP) HandleCallback(_ context.Context, r *http.Request) (authn.Identity, error) {
	q := r.URL.Query()
	if q.Get("sub") == "" {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	var amr []string
	if a := q.Get("amr"); a != "" {
		amr = strings.Split(a, ",")
	}
	return authn.Identity{Subject: q.Get("sub"), Email: q.Get("email"), EmailVerified: q.Get("ev") == "1", AMR: amr}, nil
}

// attack2Fixture is kindsFixture plus the scriptable provider, as connection "atk" of acme.
type attack2Fixture struct {
	*kindsFixture
	atk storage.Connection
}

func newAttack2Fixture(t *testing.T, opts testenv.Options) *attack2Fixture {
	t.Helper()
	f := newKindsFixture(t, opts)
	f.env.S.Connections.Register(attack2Type, func(rec storage.Connection, _ authn.Deps) (authn.Connection, error) {
		return &attack2IdP{rec: rec}, nil
	})
	return &attack2Fixture{kindsFixture: f, atk: f.connection(t, f.acme, "atk", attack2Type, map[string]any{"display_name": "Scriptable IdP"})}
}

// upstreamSignIn runs one sign-in through "atk" in browser c (a fresh flow of acme's spa) with the provider
// answering answer, and returns the callback's response.
func (f *attack2Fixture) upstreamSignIn(t *testing.T, c *http.Client, answer url.Values) (*testenv.AuthRequest, string, *testenv.Response) {
	t.Helper()
	ar := f.request()
	flow := ar.Flow(t, f.acme, c)
	r := testenv.Get(t, c, f.acme.URL("/login/atk/start?"+url.Values{"state": {flow}}.Encode()))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d\n%s", r.StatusCode, r.Body)
	}
	answer.Set("state", flow)
	return ar, flow, testenv.Get(t, c, f.acme.URL("/login/callback?"+answer.Encode()))
}

func (f *attack2Fixture) linkedUserID(t *testing.T, subject string) string {
	t.Helper()
	link, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.atk.ID, subject)
	if err != nil {
		t.Fatalf("identity %s: %v", subject, err)
	}
	return link.UserID
}

// TestAttack2UnverifiedUpstreamPreHijacksAccount — FINDING (high): account pre-hijacking. The attacker signs in
// first through a provider that lets them put the victim's address in their profile unverified: Authio creates a
// user with the victim's email, linked to the attacker's subject. When the victim later signs in through a
// provider that does verify the address, ResolveIdentity links the victim's identity into that same user, so the
// attacker's upstream account keeps signing into the victim's account for good. A first sign-in with an
// unverified email should not create a user that a later verified identity is merged into (refuse, or create no
// email-keyed user, or drop the unverified links when a verified proof claims the address).
func TestAttack2UnverifiedUpstreamPreHijacksAccount(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		attacker := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		_, _, r := f.upstreamSignIn(t, attacker, url.Values{"sub": {"evil|1"}, "email": {"victim@acme.test"}})
		if r.StatusCode == http.StatusSeeOther || setsSession(r) {
			t.Errorf("the attacker's unverified first sign-in: status %d (session %v), want it refused", r.StatusCode, setsSession(r))
		}
		if _, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "victim@acme.test"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an unverified upstream identity created a user for victim@acme.test (%v)", err)
		}
		victim := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		_, _, r = f.upstreamSignIn(t, victim, url.Values{"sub": {"good|victim"}, "email": {"victim@acme.test"}, "ev": {"1"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the victim's verified sign-in: status %d", r.StatusCode)
		}
		v := f.linkedUserID(t, "good|victim")
		if link, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.atk.ID, "evil|1"); err == nil && link.UserID == v {
			t.Errorf("the victim's verified identity was linked into user %s, which the attacker's unverified identity signs into", v)
		}
	})
}

// TestAttack2VerifiedUpstreamMergesIntoUnverifiedPasswordAccount — FINDING (high): the classic-federated merge.
// Someone who does not own victim2@acme.test registers it with a password of theirs (sign-up or any path that
// leaves email_verified false). The owner then signs in through a provider that verifies the address, and
// ResolveIdentity links them into that account: the squatter's password now opens the owner's account. Linking on
// a verified email should require the local account's email to be verified too (or drop its credentials).
func TestAttack2VerifiedUpstreamMergesIntoUnverifiedPasswordAccount(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		squatted := f.acme.NewUser("victim2@acme.test") // password testenv.Password, known to the squatter
		if squatted.EmailVerified {
			t.Fatal("precondition: the squatted account's email must be unverified")
		}
		owner := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		f.upstreamSignIn(t, owner, url.Values{"sub": {"good|owner"}, "email": {"victim2@acme.test"}, "ev": {"1"}})
		link, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.atk.ID, "good|owner")
		if err == nil && link.UserID == squatted.ID {
			t.Errorf("the owner's verified identity was merged into the unverified account %s, whose password someone else set", squatted.ID)
		}
	})
}

// TestAttack2CaseFoldingLinksAnotherMailbox — FINDING (medium): linking by a verified email compares canon.Email
// forms, which fold case with full Unicode folding. A provider vouches for the mailbox it verified; the Kelvin
// sign K (U+212A) or "ß" spell a different mailbox on a mail server, yet "\u212aate@…" is linked into
// kate@… and "straße@…" into strasse@…. Linking should require the address the provider verified to be the
// stored one (at most ASCII case differences), not only its folded form.
func TestAttack2CaseFoldingLinksAnotherMailbox(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		for i, tc := range []struct{ stored, asserted string }{
			{"kate@acme.test", "\u212aate@acme.test"},
			{"strasse@acme.test", "stra\u00dfe@acme.test"},
		} {
			victim := f.acme.NewUser(tc.stored)
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			sub := "evil|fold" + string(rune('0'+i))
			f.upstreamSignIn(t, c, url.Values{"sub": {sub}, "email": {tc.asserted}, "ev": {"1"}})
			if link, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.atk.ID, sub); err == nil && link.UserID == victim.ID {
				t.Errorf("a provider's verified %q was linked into %s's account", tc.asserted, tc.stored)
			}
		}
	})
}

// TestAttack2UnverifiedEmailEnumeratesAccounts — FINDING (low): anyone with an account at an upstream provider
// that reports unverified addresses learns whether an email has an account on the tenant: an existing one is a
// 409 "An account with this email address already exists", an unknown one signs in (303, and creates a user).
// The two answers should not differ in a way that tells the one from the other.
func TestAttack2UnverifiedEmailEnumeratesAccounts(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		probe := func(sub, email string) int {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			_, _, r := f.upstreamSignIn(t, c, url.Values{"sub": {sub}, "email": {email}})
			return r.StatusCode
		}
		known, unknown := probe("probe|1", f.alice.Email), probe("probe|2", "nobody@acme.test")
		if known != unknown {
			t.Errorf("unverified upstream email: existing account → %d, unknown → %d; the status tells them apart", known, unknown)
		}
	})
}

// TestAttack2UpstreamAMRLosesFed — FINDING (medium): the amr a redirect kind returns reaches the ID token as is.
// A kind that passes the upstream's own amr on (["mfa","hwk"]) makes Authio assert, without "fed", that it saw a
// hardware key itself; relying parties and any later "mfa" org policy cannot tell the methods happened at a
// provider the tenant may not control. An upstream proof's amr should always include "fed" (RFC 8176).
func TestAttack2UpstreamAMRLosesFed(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		ar, flow, r := f.upstreamSignIn(t, f.browser, url.Values{"sub": {"idp|amr"}, "email": {"amr@acme.test"}, "ev": {"1"}, "amr": {"mfa,hwk"}})
		claims := f.finish(t, ar, flow, r)
		if amr := amrOf(claims); !slices.Contains(amr, "fed") {
			t.Errorf("ID token amr %v of an upstream sign-in, want it to include \"fed\"", amr)
		}
	})
}

// TestAttack2BlockedUserFirstSignInLinksAnyway — FINDING (low): a first upstream sign-in whose verified email is a
// blocked user's is refused (403), but ResolveIdentity has already stored the link: a refused attempt changed
// the account (a new identity on it that survives an unblock), against "bad input changes nothing".
func TestAttack2BlockedUserFirstSignInLinksAnyway(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		blocked := f.acme.NewUser("blocked@acme.test")
		if err := f.env.S.Store.UpdateUser(f.acme.Ctx, blocked.ID, func(u storage.User) (storage.User, error) {
			u.Blocked = true
			return u, nil
		}); err != nil {
			t.Fatal(err)
		}
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		_, _, r := f.upstreamSignIn(t, c, url.Values{"sub": {"idp|blk"}, "email": {"blocked@acme.test"}, "ev": {"1"}})
		if r.StatusCode != http.StatusForbidden || setsSession(r) {
			t.Fatalf("blocked user's first upstream sign-in: status %d session %v, want 403 and none", r.StatusCode, setsSession(r))
		}
		if _, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.atk.ID, "idp|blk"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the refused sign-in left an identity link on the blocked user (%v)", err)
		}
	})
}

// TestAttack2LoginCSRFWithAttackersFlow — held: the attacker starts a provider sign-in in their own browser and
// lures the victim's browser to the callback with the attacker's state and the attacker's provider answer (or
// the POST-binding answer, posted cross-site and re-posted by our page). The flow is bound to the attacker's
// browser, so the victim is not signed in as the attacker.
func TestAttack2LoginCSRFWithAttackersFlow(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		f.env.S.Connections.Register(fakePostType, func(rec storage.Connection, _ authn.Deps) (authn.Connection, error) {
			return &fakePost{rec: rec}, nil
		})
		f.connection(t, f.acme, "fake-saml", fakePostType, nil)
		attacker := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		flow := f.request().Flow(t, f.acme, attacker)
		if r := testenv.Get(t, attacker, f.acme.URL("/login/atk/start?state="+flow)); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("attacker's start: %d", r.StatusCode)
		}
		victim := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		f.request().Flow(t, f.acme, victim) // the victim has a flow cookie of their own
		r := testenv.Get(t, victim, f.acme.URL("/login/callback?"+url.Values{"state": {flow}, "sub": {"evil|csrf"},
			"email": {"evil@acme.test"}, "ev": {"1"}}.Encode()))
		if setsSession(r) || r.StatusCode < 400 {
			t.Errorf("redirect callback of the attacker's flow in the victim's browser: status %d session %v", r.StatusCode, setsSession(r))
		}

		// POST binding: the attacker's flow, started at fake-saml, answered in the victim's browser.
		pflow := f.request().Flow(t, f.acme, attacker)
		page := testenv.Get(t, attacker, f.acme.URL("/login?state="+pflow))
		start := testenv.PostForm(t, attacker, f.acme.URL("/login/fake-saml/start"), url.Values{
			"csrf_token": {csrfRE.FindStringSubmatch(page.Body)[1]}, "state": {pflow}}, testenv.Header("Origin", f.acme.Issuer))
		_, fields := hiddenFields(t, start.Body)
		reqID, _, _ := strings.Cut(fields.Get("SAMLRequest"), "|")
		cross := testenv.PostForm(t, victim, f.acme.URL("/login/callback/post"), url.Values{
			"SAMLResponse": {"alice|" + reqID}, "RelayState": {pflow}}, testenv.Header("Origin", "https://evil.example"))
		// A real browser leaves the Lax flow cookie off the cross-site POST and gets our re-post page; the test
		// client sends it, and the answer is refused at once. Either way the same-site POST must sign nobody in.
		final := cross
		if strings.Contains(cross.Body, "<form") && cross.StatusCode == http.StatusOK {
			action, again := hiddenFields(t, cross.Body)
			if action != "/login/callback/post" {
				t.Fatalf("re-post page posts to %q", action)
			}
			final = testenv.PostForm(t, victim, f.acme.URL(action), again, testenv.Header("Origin", f.acme.Issuer))
		}
		if setsSession(final) || final.StatusCode < 400 {
			t.Errorf("POST-binding answer of the attacker's flow in the victim's browser: status %d session %v", final.StatusCode, setsSession(final))
		}
		// And the re-post page's own resubmission, carrying the victim's cookie, is refused too.
		again := url.Values{"SAMLResponse": {"alice|" + reqID}, "RelayState": {pflow}, "authio_resubmit": {"1"}}
		if r := testenv.PostForm(t, victim, f.acme.URL("/login/callback/post"), again, testenv.Header("Origin", f.acme.Issuer)); setsSession(r) || r.StatusCode < 400 {
			t.Errorf("resubmitted answer of the attacker's flow: status %d session %v", r.StatusCode, setsSession(r))
		}
	})
}

// TestAttack2RepostPageEscapesAndStaysHome — held: the re-post page echoes every field of a cross-site POST;
// markup in names and values stays text, the form posts only to our own callback, and the attacker cannot pick
// the action.
func TestAttack2RepostPageEscapesAndStaysHome(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		const xss = `"><script>alert(1)</script><form action="https://evil.example">`
		r := testenv.PostForm(t, c, f.acme.URL("/login/callback/post"), url.Values{
			"RelayState": {xss}, xss: {"x"}, "action": {"https://evil.example"}}, testenv.Header("Origin", "https://evil.example"))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("re-post page: status %d", r.StatusCode)
		}
		if strings.Contains(r.Body, "<script>alert(1)") || strings.Contains(r.Body, `action="https://evil.example"`) {
			t.Errorf("re-post page reflects markup:\n%s", r.Body)
		}
		if action, fields := hiddenFields(t, r.Body); action != "/login/callback/post" || fields.Get("RelayState") != xss {
			t.Errorf("re-post page: action %q RelayState %q, want our callback with the value as text", action, fields.Get("RelayState"))
		}
	})
}

// TestAttack2DisplayNameAndOddPathsAreHarmless — held: a display name with markup (connection settings are
// an administrator's input) is escaped on the sign-in page, and connection names with odd characters, another
// kind's name or a flow id in the path are 404s that open no session.
func TestAttack2DisplayNameAndOddPathsAreHarmless(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		f.connection(t, f.acme, "xss-idp", attack2Type, map[string]any{"display_name": `<img src=x onerror=alert(1)>`})
		flow := f.request().Flow(t, f.acme, f.browser)
		page := testenv.Get(t, f.browser, f.acme.URL("/login?state="+flow))
		if strings.Contains(page.Body, "<img src=x") || !strings.Contains(page.Body, "&lt;img src=x") {
			t.Errorf("display name not escaped on the login page:\n%s", page.Body)
		}
		for _, name := range []string{"codes", storage.DefaultPasswordConnection, "..%2fcodes", "atk%00", "%20atk", flow} {
			r := testenv.Get(t, f.browser, f.acme.URL("/login/"+name+"/start?state="+flow))
			if r.StatusCode == http.StatusSeeOther || setsSession(r) || r.StatusCode >= 500 {
				t.Errorf("start via %q: status %d session %v, want a 4xx page", name, r.StatusCode, setsSession(r))
			}
		}
	})
}

// TestAttack2HugeRepostIsRefused — held: the re-post page echoes what it is posted, but a body over the server's
// bound is a 400 page that echoes nothing and opens no session.
func TestAttack2HugeRepostIsRefused(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newAttack2Fixture(t, opts)
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		big := strings.Repeat("A", 200<<10)
		r := testenv.PostForm(t, c, f.acme.URL("/login/callback/post"), url.Values{"SAMLResponse": {big}, "RelayState": {"x"}},
			testenv.Header("Origin", "https://evil.example"))
		if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("200 KiB answer: status %d, want 400 or 413", r.StatusCode)
		}
		if strings.Contains(r.Body, "AAAAAAAAAAAAAAAA") || setsSession(r) {
			t.Errorf("the oversized answer was echoed (or signed someone in)")
		}
	})
}
