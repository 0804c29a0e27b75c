package router_test

// Attack review of issue 8's server-side authorization flow, through the real router: each test plays an
// adversary against the flow (auth_flows, the authio_flow browser binding, /authorize/resume, the organization
// picker) and says what it proves.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// pickerFlow starts an authorization request of o.spa (a client that requires an organization) in a fresh
// browser, signs email in through the flow and returns the browser, the request and the flow id, at the picker.
func pickerFlow(t *testing.T, o *orgSetup, email string) (*http.Client, *testenv.AuthRequest, string) {
	t.Helper()
	browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	flow := ar.Flow(t, o.acme, browser)
	r := o.acme.SignIn(t, browser, email, testenv.Password, flow)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d\n%s", email, r.StatusCode, r.Body)
	}
	if p := testenv.Get(t, browser, r.Location(t).String()); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "Choose an organization") {
		t.Fatalf("%s after sign-in: %d, want the picker\n%s", email, p.StatusCode, p.Body)
	}
	return browser, ar, flow
}

// wantNoCode fails when r hands the client a code; a refusal is a redirect with an error, or a 4xx page.
func wantNoCode(t *testing.T, what string, r *testenv.Response) {
	t.Helper()
	if r.StatusCode >= 500 {
		t.Errorf("%s: status %d, want a refusal, never a 5xx\n%s", what, r.StatusCode, r.Body)
		return
	}
	if loc := r.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			t.Errorf("%s: bad Location %q", what, loc)
			return
		}
		if u.Query().Get("code") != "" {
			t.Errorf("%s: the client got a code: %s", what, loc)
		}
	}
}

// TestAttackPickerRefusesOrganizationsOfOthers: the picker's links carry the organization id in the URL, so a
// user can edit it. Bob (active in Globex only) picking Acme Corp by id or by name, an organization of another
// tenant, an unknown id, or Carol's suspended membership, never yields a code; the links of the picker still
// work for what the user may choose. Proves the choice is checked against the user's active memberships in the
// tenant, not trusted from the URL.
func TestAttackPickerRefusesOrganizationsOfOthers(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageRequire)
	other := o.env.NewTenant("initech")
	now := time.Now().UTC()
	foreign := storage.Organization{ID: ids.New("org"), Name: "initech-corp", CreatedAt: now, UpdatedAt: now}
	must(t, "foreign organization", o.env.S.Store.CreateOrganization(other.Ctx, foreign))
	// A membership of acme's Bob in the other tenant's organization cannot even be stored (the user is not
	// the other tenant's), so the foreign id can only be refused.
	if err := o.env.S.Store.CreateMembership(other.Ctx, storage.Membership{ID: ids.New("mem"), OrganizationID: foreign.ID,
		UserID: o.bob.ID, Status: storage.MembershipActive, JoinedAt: now, CreatedAt: now, UpdatedAt: now}); err == nil {
		t.Error("stored a membership of acme's user in another tenant's organization")
	}

	for name, org := range map[string]string{
		"another organization by id":    o.acmeOrg.ID,
		"another organization by name":  o.acmeOrg.Name,
		"another tenant's organization": foreign.ID,
		"an unknown organization":       "org_doesnotexist",
	} {
		t.Run(name, func(t *testing.T) {
			browser, _, flow := pickerFlow(t, o, o.bob.Email)
			r := testenv.Get(t, browser, o.acme.URL("/authorize/resume?"+url.Values{"state": {flow}, "organization": {org}}.Encode()))
			wantNoCode(t, "bob choosing "+org, r)
			// A refresh of the same URL (the choice is now stored in the flow) must not turn into a code either.
			wantNoCode(t, "the choice refreshed", testenv.Get(t, browser, o.acme.URL("/authorize/resume?state="+flow)))
		})
	}

	// Alice is active in both; Carol's Acme membership is suspended and she cannot borrow Alice's flow id.
	_, _, aliceFlow := pickerFlow(t, o, o.alice.Email)
	carol := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	o.acme.SignIn(t, carol, o.carol.Email, testenv.Password, "")
	r := testenv.Get(t, carol, o.acme.URL("/authorize/resume?"+url.Values{"state": {aliceFlow}, "organization": {o.acmeOrg.ID}}.Encode()))
	wantNoCode(t, "carol replaying alice's picker link", r)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "This sign-in link has expired") {
		t.Errorf("carol replaying alice's picker link: %d, want the expired page\n%s", r.StatusCode, r.Body)
	}
}

// TestAttackOrganizationBeforeSignIn: an attacker sends the victim a flow URL with organization= already set, or
// the victim's own browser opens one before signing in. The parameter is only a choice at the picker step: it is
// ignored before sign-in, so the victim still sees the picker (and cannot be steered into an organization).
func TestAttackOrganizationBeforeSignIn(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageRequire)
	browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	flow := ar.Flow(t, o.acme, browser)
	r := testenv.Get(t, browser, o.acme.URL("/authorize/resume?"+url.Values{"state": {flow}, "organization": {o.globex.ID}}.Encode()))
	if r.StatusCode != http.StatusFound || r.Location(t).Path != "/login" {
		t.Fatalf("organization before sign-in: %d %s, want the sign-in page", r.StatusCode, r.Header.Get("Location"))
	}
	r = o.acme.SignIn(t, browser, o.alice.Email, testenv.Password, flow)
	if p := testenv.Get(t, browser, r.Location(t).String()); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "Choose an organization") {
		t.Fatalf("after sign-in: %d, want the picker (the early organization= must not count)\n%s", p.StatusCode, p.Body)
	}
}

// TestAttackSignedInVictimOpensAttackersFlow: flow fixation. Mallory starts an authorization request in her
// browser (her state and PKCE verifier) and sends the flow URL to Alice, who is signed in. Alice's browser lacks
// Mallory's flow cookie, so neither step adopts Alice's session: no code for Mallory's request, no link back.
func TestAttackSignedInVictimOpensAttackersFlow(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	mallory := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	flow := ar.Flow(t, o.acme, mallory)

	alice := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	o.acme.SignIn(t, alice, o.alice.Email, testenv.Password, "")
	// Alice also has a flow cookie of her own.
	own := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	own.Extra.Set("prompt", "login")
	own.Flow(t, o.acme, alice)
	for _, u := range []string{"/authorize/resume?state=" + flow, "/login?state=" + flow,
		"/authorize/resume?" + url.Values{"state": {flow}, "organization": {o.acmeOrg.ID}}.Encode()} {
		r := testenv.Get(t, alice, o.acme.URL(u))
		wantNoCode(t, u, r)
		if r.StatusCode != http.StatusBadRequest || strings.Contains(r.Body, ar.State) || strings.Contains(r.Body, "/authorize?") {
			t.Errorf("%s in the victim's browser: %d, want the linkless expired page\n%s", u, r.StatusCode, r.Body)
		}
	}
	// Mallory's flow is untouched by the attempt: still at its sign-in step for her.
	if r := testenv.Get(t, mallory, o.acme.URL("/authorize/resume?state="+flow)); r.StatusCode != http.StatusFound || r.Location(t).Path != "/login" {
		t.Errorf("mallory's flow after the victim opened it: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestAttackFormPostStateInjection: response_mode=form_post renders the client's state into an HTML form. A
// state carrying markup completes through the flow (and through an error) escaped: no script reaches the page.
func TestAttackFormPostStateInjection(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	const payload = `"><script>alert(document.domain)</script><input value="`
	browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.State = payload
	ar.Extra.Set("response_mode", "form_post")
	flow := ar.Flow(t, o.acme, browser)
	r := o.acme.SignIn(t, browser, o.alice.Email, testenv.Password, flow)
	page := testenv.Get(t, browser, r.Location(t).String())
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "<form") {
		t.Fatalf("form_post completion: %d\n%s", page.StatusCode, page.Body)
	}
	if strings.Contains(page.Body, "<script>alert") {
		t.Errorf("form_post page carries the state's script unescaped:\n%s", page.Body)
	}
	// An error in form_post (scope the client lacks) renders the state too.
	ar = testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.State = payload
	ar.Extra.Set("response_mode", "form_post")
	ar.Extra.Set("scope", "openid admin:everything")
	if e := testenv.Get(t, browser, ar.URL(o.acme)); strings.Contains(e.Body, "<script>alert") {
		t.Errorf("form_post error page carries the state's script unescaped:\n%s", e.Body)
	}
}

// TestAttackFlowStoresBoundedRequests: /authorize stores every parameter of an anonymous request in auth_flows
// for 15 minutes. An anonymous client can pad a request with ~60 KB of parameters nobody reads (RFC 6749 §3.1:
// unrecognized parameters are ignored) and have the server keep all of it, request after request: storage
// amplification with no sign-in at all. The stored request must be bounded (the parameters the server uses,
// or a size cap refusing the request).
func TestAttackFlowStoresBoundedRequests(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra.Set("x_padding", strings.Repeat("A", 56<<10))
	r := testenv.Get(t, browser, ar.URL(o.acme))
	if r.StatusCode >= 500 {
		t.Fatalf("padded request: %d", r.StatusCode)
	}
	loc := r.Location(t)
	if !strings.HasPrefix(loc.String(), orgRedirect) || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("padded request answered %d %s, want invalid_request at the client's redirect URI", r.StatusCode, loc)
	}
	// A request of ordinary size still starts a flow.
	small := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	small.Extra.Set("x_padding", strings.Repeat("A", 4<<10))
	if id := small.Flow(t, o.acme, browser); id == "" {
		t.Error("a 4 KiB request started no flow")
	}
}

// TestAttackMalformedFlowIDs: flow ids are attacker-controlled strings reaching a primary-key lookup on every
// step. Oversized, NUL-bearing, invalid UTF-8, SQL-ish and prefix-only values get a 4xx page on both backends —
// never a 5xx (Postgres refuses NUL and invalid UTF-8 in text) and never a redirect.
func TestAttackMalformedFlowIDs(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
		testenv.NewAuthRequest(o.spa.ClientID, orgRedirect).Flow(t, o.acme, browser) // the browser has a flow cookie
		for _, id := range []string{
			strings.Repeat("f", 64), strings.Repeat("f", 65), strings.Repeat("f", 4000), "flw_\x00", "flw_\xff\xfe",
			"flw_' OR '1'='1", "flw_%", "flw_", " ", "flw_\u202e",
		} {
			for _, path := range []string{"/authorize/resume", "/login", "/signup"} {
				r := testenv.Get(t, browser, o.acme.URL(path+"?"+url.Values{"state": {id}}.Encode()))
				if r.StatusCode < 400 || r.StatusCode > 499 || r.Header.Get("Location") != "" {
					t.Errorf("%s?state=%q: %d %s, want a 4xx page", path, id, r.StatusCode, r.Header.Get("Location"))
				}
			}
		}
	})
}

// TestAttackRacingPickerChoices: two picker links of one flow clicked at once (two tabs, a double click on two
// choices) race AdvanceFlow and CompleteFlow: exactly one code comes out, on both backends, and its token is for
// the organization of the request that won — never a code carrying one choice and a token for the other.
func TestAttackRacingPickerChoices(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageRequire, opts)
		browser, ar, flow := pickerFlow(t, o, o.alice.Email)
		choices := []string{o.acmeOrg.ID, o.globex.ID}
		outs := testenv.Concurrently(8, func(int) *http.Client { return browser }, func(i int) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, o.acme.URL("/authorize/resume?"+url.Values{"state": {flow}, "organization": {choices[i%2]}}.Encode()), nil)
			return req
		})
		codes := 0
		var code string
		for i, out := range outs {
			switch {
			case out.Err != nil:
				t.Fatal(out.Err)
			case strings.HasPrefix(out.Location, orgRedirect):
				u, _ := url.Parse(out.Location)
				if c := u.Query().Get("code"); c != "" {
					codes++
					code = c
				}
			case out.Status >= 500:
				t.Errorf("request %d: %d\n%s", i, out.Status, out.Body)
			}
		}
		if codes != 1 {
			t.Fatalf("%d codes from one flow's racing picker choices, want 1", codes)
		}
		tk := testenv.TokensOf(t, ar.Exchange(t, o.acme, browser, code))
		if org := o.claims(t, tk.AccessToken)["org_id"]; org != o.acmeOrg.ID && org != o.globex.ID {
			t.Errorf("org_id %v, want one of alice's choices", org)
		}
	})
}
