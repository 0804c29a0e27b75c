package router_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// Every grant re-checks, when it mints, what /authorize saw: the user must still exist and not be blocked, the
// membership must still be active, and roles are read afresh. A withdrawn grant is invalid_grant.

func wantInvalidGrant(t *testing.T, what string, r *testenv.Response) {
	t.Helper()
	if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
		t.Errorf("%s: %d %s, want 400 invalid_grant", what, r.StatusCode, r.Body)
	}
}

func TestCodeRedemptionRereadsTheGrant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		key := o.acme.APIKey(t)
		api := func(t *testing.T, method, path string, body any) {
			t.Helper()
			if r := o.acme.API(t, o.browser, method, path, key, body); r.StatusCode >= 300 {
				t.Fatalf("%s %s: %d %s", method, path, r.StatusCode, r.Body)
			}
		}
		codeFor := func(t *testing.T, email string, extra url.Values) (*testenv.AuthRequest, string) {
			ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
			ar.Extra = extra
			return ar, ar.Code(t, o.acme, o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}}), email, testenv.Password)
		}
		acme := url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}}
		members := "/organizations/" + o.acmeOrg.ID + "/members"

		t.Run("membership suspended after /authorize", func(t *testing.T) {
			ar, code := codeFor(t, o.alice.Email, acme)
			api(t, http.MethodPatch, members+"/"+o.alice.ID, map[string]string{"status": "suspended"})
			wantInvalidGrant(t, "code of a member suspended since /authorize", ar.Exchange(t, o.acme, o.browser, code))
			api(t, http.MethodPatch, members+"/"+o.alice.ID, map[string]string{"status": "active"})
		})

		t.Run("roles changed after /authorize", func(t *testing.T) {
			ar, code := codeFor(t, o.alice.Email, acme)
			api(t, http.MethodDelete, members+"/"+o.alice.ID+"/roles", map[string][]string{"roles": {o.admin.ID}})
			api(t, http.MethodPost, members+"/"+o.alice.ID+"/roles", map[string][]string{"roles": {o.member.ID}})
			tk := testenv.TokensOf(t, ar.Exchange(t, o.acme, o.browser, code))
			wantOrgClaims(t, "token minted after a role change", o.claims(t, tk.AccessToken), o.acmeOrg, []string{"member"}, []string{"read:docs"})
		})

		t.Run("membership removed after /authorize", func(t *testing.T) {
			ar, code := codeFor(t, o.bob.Email, url.Values{"organization": {"globex"}})
			api(t, http.MethodDelete, "/organizations/"+o.globex.ID+"/members", map[string][]string{"members": {o.bob.ID}})
			wantInvalidGrant(t, "code of a member removed since /authorize", ar.Exchange(t, o.acme, o.browser, code))
		})

		t.Run("user changed, blocked or deleted after /authorize", func(t *testing.T) {
			dave := o.acme.NewUser("dave@acme.test")
			ar, code := codeFor(t, dave.Email, nil)
			api(t, http.MethodPatch, "/users/"+dave.ID, map[string]string{"name": "Dave Renamed"})
			tk := testenv.TokensOf(t, ar.Exchange(t, o.acme, o.browser, code))
			if id := o.claims(t, tk.IDToken); id["name"] != "Dave Renamed" {
				t.Errorf("ID token name = %v, want the name at redemption", id["name"])
			}

			ar, code = codeFor(t, dave.Email, nil)
			api(t, http.MethodPatch, "/users/"+dave.ID, map[string]bool{"blocked": true})
			wantInvalidGrant(t, "code of a user blocked since /authorize", ar.Exchange(t, o.acme, o.browser, code))
			wantInvalidGrant(t, "refresh of a blocked user", testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(tk.RefreshToken)))
			if r := testenv.Get(t, o.browser, o.acme.URL("/userinfo"), testenv.Bearer(tk.AccessToken)); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("userinfo of a blocked user: %d", r.StatusCode)
			}
			signIn := o.acme.SignIn(t, o.env.Client(testenv.ClientOptions{NoRedirects: true}), dave.Email, testenv.Password, "")
			if signIn.StatusCode != http.StatusForbidden {
				t.Errorf("sign-in of a blocked user: %d, want 403", signIn.StatusCode)
			}
			api(t, http.MethodPatch, "/users/"+dave.ID, map[string]bool{"blocked": false})

			ar, code = codeFor(t, dave.Email, nil)
			api(t, http.MethodDelete, "/users/"+dave.ID, nil)
			wantInvalidGrant(t, "code of a user deleted since /authorize", ar.Exchange(t, o.acme, o.browser, code))
		})

		t.Run("another tenant cannot block this tenant's user", func(t *testing.T) {
			other := o.env.NewTenant("initech")
			r := other.API(t, o.browser, http.MethodPatch, "/users/"+o.alice.ID, other.APIKey(t), map[string]bool{"blocked": true})
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("initech's key on acme's user: %d %s", r.StatusCode, r.Body)
			}
			if u, err := o.env.S.Store.GetUser(o.acme.Ctx, o.alice.ID); err != nil || u.Blocked {
				t.Errorf("alice after initech's attempt: blocked=%v err=%v", u.Blocked, err)
			}
		})
	})
}

func TestSwitchAndExchangeRefuseABlockedOrDeletedUser(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}})
		_, err := o.env.S.UpdateUser(o.acme.Ctx, o.alice.ID, directory.UserUpdate{Blocked: ptrTo(true)})
		must(t, "block alice", err)

		if r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": "globex"}); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("switch-org of a blocked user: %d %s, want 401", r.StatusCode, r.Body)
		}
		x := o.exchange(t, url.Values{"subject_token": {tk.RefreshToken}, "subject_token_type": {oauth.TokenTypeRefresh},
			"organization": {"globex"}})
		wantInvalidGrant(t, "token exchange of a blocked user", x)
		if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(tk.AccessToken)); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("/v1/me of a blocked user: %d", r.StatusCode)
		}
		// Blocking ended alice's browser session: prompt=none needs a sign-in.
		ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
		ar.Extra.Set("prompt", "none")
		if q := ar.Callback(t, o.acme, testenv.Get(t, o.browser, ar.URL(o.acme))); q.Get("error") != "login_required" {
			t.Errorf("prompt=none after the block: %v", q)
		}
		// A deleted user is no longer a member anywhere, but that is invalid_grant, not access_denied.
		_, bobTokens := o.signIn(t, o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}}), o.bob.Email, url.Values{"organization": {"globex"}})
		must(t, "delete bob", o.env.S.DeleteUser(o.acme.Ctx, o.bob.ID))
		wantInvalidGrant(t, "token exchange of a deleted user", o.exchange(t, url.Values{"subject_token": {bobTokens.RefreshToken},
			"subject_token_type": {oauth.TokenTypeRefresh}, "organization": {"globex"}}))

		events, err := o.env.S.Store.ListAudit(o.acme.Ctx, storage.AuditFilter{Type: directory.EventUserUpdated, UserID: o.alice.ID})
		must(t, "audit", err)
		if len(events) != 1 || !slices.Contains(strs(events[0].Data["changed"]), "blocked") {
			t.Errorf("user.updated events: %+v", events)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
