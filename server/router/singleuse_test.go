package router_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// Single use under concurrency: every single-use thing is consumed by one conditional write, so of several
// requests presenting it at once exactly one succeeds and the others get the RFC's refusal — never a 500, and
// never a second set of working tokens. These run on every backend (SQLite; Postgres + Redis in CI).

// concurrently sends the n requests mk builds all at once through c.
func concurrently(c *http.Client, n int, mk func(i int) *http.Request) []testenv.Outcome {
	return testenv.Concurrently(n, func(int) *http.Client { return c }, mk)
}

var formRequest = testenv.FormRequest

var oneWinner = testenv.OneWinner

func tokensIn(t *testing.T, body string) testenv.Tokens {
	t.Helper()
	var tk testenv.Tokens
	if err := json.Unmarshal([]byte(body), &tk); err != nil || tk.AccessToken == "" {
		t.Fatalf("not a token response: %v %s", err, body)
	}
	return tk
}

func (o *orgSetup) refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {o.spa.ClientID}}
}

// setReuseInterval sets the tenant's refresh_token_reuse_interval and drops the cached tenant.
func (o *orgSetup) setReuseInterval(t *testing.T, seconds int) {
	t.Helper()
	must(t, "tenant settings", o.env.S.Store.UpdateTenant(context.Background(), o.acme.ID, func(old storage.Tenant) (storage.Tenant, error) {
		old.Settings.RefreshTokenReuseInterval = seconds
		return old, nil
	}))
	o.env.S.Tenants.Flush()
}

const racers = 8

func TestConcurrentRefreshIsSingleUse(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		for round := range 5 {
			_, tk := o.signIn(t, o.browser, o.alice.Email, nil)
			outs := concurrently(o.browser, racers, func(int) *http.Request {
				return formRequest(o.acme.URL("/oauth/token"), o.refreshForm(tk.RefreshToken))
			})
			won := tokensIn(t, oneWinner(t, "refresh round "+string(rune('1'+round)), outs))
			// The losers were reuse: the family is revoked, the winner's tokens included.
			r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(won.RefreshToken))
			if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
				t.Errorf("the winner's refresh token after concurrent reuse: %d %s, want invalid_grant", r.StatusCode, r.Body)
			}
			if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(won.AccessToken)); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("the winner's access token after concurrent reuse: %d, want 401", r.StatusCode)
			}
		}
	})
}

func TestConcurrentCodeRedemptionIsSingleUse(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		for range 5 {
			ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
			code := ar.Code(t, o.acme, o.browser, o.alice.Email, testenv.Password)
			outs := concurrently(o.browser, racers, func(int) *http.Request {
				return formRequest(o.acme.URL("/oauth/token"), url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {ar.RedirectURI}, "client_id": {ar.ClientID}, "code_verifier": {ar.Verifier}})
			})
			oneWinner(t, "code redemption", outs)
			// A later replay is refused too.
			if r := ar.Exchange(t, o.acme, o.browser, code); r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
				t.Errorf("replayed code: %d %s", r.StatusCode, r.Body)
			}
		}
	})
}

func TestRefreshTokenReuseInterval(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		token := o.acme.URL("/oauth/token")

		o.setReuseInterval(t, 60)
		_, tk := o.signIn(t, o.browser, o.alice.Email, nil)
		// A client whose network lost the answer retries, several times at once: every retry gets the same
		// successor, and the family does not fork.
		outs := concurrently(o.browser, racers, func(int) *http.Request { return formRequest(token, o.refreshForm(tk.RefreshToken)) })
		successor := ""
		for i, out := range outs {
			if out.Err != nil || out.Status != http.StatusOK {
				t.Fatalf("retry %d within the reuse interval: %v %d %s", i, out.Err, out.Status, out.Body)
			}
			got := tokensIn(t, out.Body)
			if successor == "" {
				successor = got.RefreshToken
			}
			if got.RefreshToken != successor {
				t.Fatalf("retries within the reuse interval got different refresh tokens: the family forked")
			}
			if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(got.AccessToken)); r.StatusCode != http.StatusOK {
				t.Errorf("access token of retry %d: %d", i, r.StatusCode)
			}
		}
		if successor == tk.RefreshToken {
			t.Fatal("the refresh token was not rotated")
		}
		// The successor works, once.
		next := testenv.TokensOf(t, testenv.PostForm(t, o.browser, token, o.refreshForm(successor)))
		// The first token is now two generations old: presenting it is reuse, and the family goes.
		r := testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken))
		if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Fatalf("a refresh token two rotations old: %d %s, want invalid_grant", r.StatusCode, r.Body)
		}
		if r := testenv.PostForm(t, o.browser, token, o.refreshForm(next.RefreshToken)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("the family survived the reuse of an old generation: %d %s", r.StatusCode, r.Body)
		}

		// After the interval, reuse revokes as with strict rotation.
		o.setReuseInterval(t, 1)
		_, tk = o.signIn(t, o.browser, o.alice.Email, nil)
		rotated := testenv.TokensOf(t, testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)))
		time.Sleep(1500 * time.Millisecond)
		if r := testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)); r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Fatalf("reuse after the interval: %d %s, want invalid_grant", r.StatusCode, r.Body)
		}
		if r := testenv.PostForm(t, o.browser, token, o.refreshForm(rotated.RefreshToken)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("reuse after the interval left the family alive: %d %s", r.StatusCode, r.Body)
		}

		// Strict rotation (0, the default): one retry is reuse.
		o.setReuseInterval(t, 0)
		_, tk = o.signIn(t, o.browser, o.alice.Email, nil)
		testenv.TokensOf(t, testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)))
		if r := testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("strict rotation accepted a retry: %d %s", r.StatusCode, r.Body)
		}
	})
}

// TestFlowCompletionIsSingleUse: a sign-in flow completes with one conditional write. Its last step, opened
// several times at once (tabs, a replayed history entry, a double click), yields exactly one code; the other
// requests get the "expired" page, never a 500 and never a second code.
func TestFlowCompletionIsSingleUse(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		browser := o.env.Client(testenv.ClientOptions{NoRedirects: true})
		ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
		ar.Extra.Set("prompt", "login")
		flow := ar.Flow(t, o.acme, browser)
		r := o.acme.SignIn(t, browser, o.alice.Email, testenv.Password, flow)
		last := r.Location(t)
		if r.StatusCode != http.StatusSeeOther || last.Path != "/authorize/resume" || last.Query().Get("state") != flow {
			t.Fatalf("sign-in did not continue the flow: %d %s", r.StatusCode, last)
		}
		outs := concurrently(browser, racers, func(int) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, last.String(), nil)
			return req
		})
		var code string
		codes := 0
		for i, out := range outs {
			switch {
			case out.Err != nil:
				t.Fatal(out.Err)
			case (out.Status == http.StatusFound || out.Status == http.StatusSeeOther) && strings.HasPrefix(out.Location, orgRedirect):
				loc, err := url.Parse(out.Location)
				if err != nil || loc.Query().Get("code") == "" {
					t.Errorf("request %d went to %s", i, out.Location)
					continue
				}
				codes++
				code = loc.Query().Get("code")
			case out.Status == http.StatusGone && strings.Contains(out.Body, "This sign-in link has expired"):
			default:
				t.Errorf("request %d: %d %s %s, want one code and the expired page otherwise", i, out.Status, out.Location, out.Body)
			}
		}
		if codes != 1 {
			t.Fatalf("%d codes from one flow completed %d times at once, want 1", codes, racers)
		}
		testenv.TokensOf(t, ar.Exchange(t, o.acme, browser, code))
	})
}

func TestSignOutEndsASessionOnce(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		_, tk := o.signIn(t, o.browser, o.alice.Email, nil)
		logout := o.acme.URL("/oidc/logout?" + url.Values{"id_token_hint": {tk.IDToken}}.Encode())
		outs := concurrently(o.browser, racers, func(int) *http.Request {
			req, _ := http.NewRequest(http.MethodGet, logout, nil)
			return req
		})
		for i, out := range outs {
			if out.Err != nil || out.Status != http.StatusOK {
				t.Errorf("sign-out %d: %v %d %s", i, out.Err, out.Status, out.Body)
			}
		}
		events, err := o.env.S.Store.ListAudit(o.acme.Ctx, storage.AuditFilter{Type: "session.ended", UserID: o.alice.ID})
		must(t, "audit", err)
		if len(events) != 1 {
			t.Fatalf("%d session.ended events for one session signed out %d times at once, want 1", len(events), racers)
		}
		// The session is gone: prompt=none now needs a sign-in.
		ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
		ar.Extra.Set("prompt", "none")
		if q := ar.Callback(t, o.acme, testenv.Get(t, o.browser, ar.URL(o.acme))); q.Get("error") != "login_required" {
			t.Errorf("after sign-out, prompt=none: %v", q)
		}
	})
}

// TestAnotherTenantCannotConsume: a code or refresh token presented on another tenant's token endpoint (with that
// tenant's client, or with the issuing client's id) is refused, and stays usable on its own tenant: another
// tenant can neither redeem nor burn it.
func TestAnotherTenantCannotConsume(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		other := o.env.NewTenant("initech")
		otherSPA := other.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{orgRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}})
		ar, tk := o.signIn(t, o.browser, o.alice.Email, nil)
		code := ar.Code(t, o.acme, o.browser, o.alice.Email, testenv.Password)
		for _, clientID := range []string{otherSPA.ClientID, o.spa.ClientID} {
			r := testenv.PostForm(t, o.browser, other.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tk.RefreshToken}, "client_id": {clientID}})
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("acme's refresh token at initech with client %s: %d %s", clientID, r.StatusCode, r.Body)
			}
			r = testenv.PostForm(t, o.browser, other.URL("/oauth/token"), url.Values{"grant_type": {"authorization_code"},
				"code": {code}, "redirect_uri": {ar.RedirectURI}, "client_id": {clientID}, "code_verifier": {ar.Verifier}})
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("acme's code at initech with client %s: %d %s", clientID, r.StatusCode, r.Body)
			}
		}
		testenv.TokensOf(t, testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(tk.RefreshToken)))
		testenv.TokensOf(t, ar.Exchange(t, o.acme, o.browser, code))
	})
}
