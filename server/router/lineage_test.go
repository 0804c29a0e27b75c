package router_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// Tokens minted by switching organization (the endpoint or RFC 8693 exchange) belong to the sign-in they were
// switched from: revoking it, or detecting reuse in it, revokes them too; and a switch never lengthens what it
// starts from. Before, each switch started an independent grant that outlived every revocation of the original,
// and an access token could renew itself forever by switching into its own organization.
func TestSwitchedTokensShareTheSignIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		token := o.acme.URL("/oauth/token")
		signIn := func(t *testing.T) testenv.Tokens {
			_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}})
			return tk
		}
		switched := func(t *testing.T, tk testenv.Tokens) (sw, x testenv.Tokens) {
			r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": "globex", "refresh_token": tk.RefreshToken})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("switch-org: %d %s", r.StatusCode, r.Body)
			}
			decodeInto(t, r.Body, &sw)
			x = testenv.TokensOf(t, o.exchange(t, url.Values{"subject_token": {tk.RefreshToken},
				"subject_token_type": {oauth.TokenTypeRefresh}, "organization": {"globex"}}))
			if sw.RefreshToken == "" || x.RefreshToken == "" {
				t.Fatalf("switches without refresh tokens: %+v %+v", sw, x)
			}
			return sw, x
		}
		revoked := func(t *testing.T, what string, tk testenv.Tokens) {
			t.Helper()
			wantInvalidGrant(t, what+": refresh", testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)))
			if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(tk.AccessToken)); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: access token at /v1/me: %d, want 401", what, r.StatusCode)
			}
		}

		t.Run("reuse of the original refresh token", func(t *testing.T) {
			tk := signIn(t)
			sw, x := switched(t, tk)
			testenv.TokensOf(t, testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)))
			wantInvalidGrant(t, "reuse", testenv.PostForm(t, o.browser, token, o.refreshForm(tk.RefreshToken)))
			revoked(t, "switch-org after reuse", sw)
			revoked(t, "token exchange after reuse", x)
		})

		t.Run("RFC 7009 revocation of a switched token", func(t *testing.T) {
			tk := signIn(t)
			sw, x := switched(t, tk)
			r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/revoke"), url.Values{"token": {x.RefreshToken}, "client_id": {o.spa.ClientID}})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			revoked(t, "the original sign-in", tk)
			revoked(t, "the sibling switch", sw)
		})

		t.Run("a switch never lengthens its token", func(t *testing.T) {
			tk := signIn(t)
			exp := func(raw string) float64 { return o.claims(t, raw)["exp"].(float64) }
			at := tk.AccessToken
			time.Sleep(1100 * time.Millisecond) // token times are in seconds: let one pass, or nothing could be longer
			for range 3 {                       // an access token switched into its own organization again and again
				r := o.switchOrg(t, at, map[string]string{"organization_id": "acme-corp"})
				var sw testenv.Tokens
				if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(r.Body), &sw) != nil {
					t.Fatalf("switch: %d %s", r.StatusCode, r.Body)
				}
				if exp(sw.AccessToken) > exp(tk.AccessToken) {
					t.Fatalf("a switched access token expires at %v, after the token it came from (%v)", exp(sw.AccessToken), exp(tk.AccessToken))
				}
				at = sw.AccessToken
			}
		})

		t.Run("no refresh token without offline_access", func(t *testing.T) {
			tk := signIn(t)
			x := testenv.TokensOf(t, o.exchange(t, url.Values{"subject_token": {tk.RefreshToken},
				"subject_token_type": {oauth.TokenTypeRefresh}, "organization": {"globex"}, "scope": {"openid email"}}))
			if x.RefreshToken != "" {
				t.Errorf("exchange narrowed to %q returned a refresh token", x.Scope)
			}
		})
	})
}
