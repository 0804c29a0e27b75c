package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
)

// TestExchangeIssuesIDTokenForTheNewOrganization: switching organization (RFC 8693 token exchange, and
// /v1/sessions/switch-org) from a token whose grant has openid also returns an ID token for the organization
// switched to: the same sign-in (sub, sid, auth_time, amr), aud the client, org_id and org_name of the new
// organization, at_hash of the new access token, no nonce. Without openid in the switched scope, none.
func TestExchangeIssuesIDTokenForTheNewOrganization(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		jwks := p.acme.JWKS(t, p.c)
		orig := p.signIn(t, url.Values{"organization": {"acme-corp"}})
		_, origID := testenv.VerifyJWT(t, orig.IDToken, jwks)
		if origID["org_id"] != p.acmeOrg.ID || origID["sid"] == nil {
			t.Fatalf("the sign-in's ID token: %v", origID)
		}

		// wantSwitched verifies an ID token minted by a switch to globex with accessToken.
		wantSwitched := func(t *testing.T, origID map[string]any, idToken, accessToken string) map[string]any {
			t.Helper()
			if idToken == "" {
				t.Fatal("no id_token")
			}
			_, c := testenv.VerifyJWT(t, idToken, jwks)
			for _, claim := range []string{"sub", "sid", "auth_time", "amr", "iss", "email"} {
				if !equalJSON(c[claim], origID[claim]) {
					t.Errorf("%s = %v, want the sign-in's %v", claim, c[claim], origID[claim])
				}
			}
			if aud := audiences(c["aud"]); !slices.Equal(aud, []string{p.spa.ClientID}) {
				t.Errorf("aud = %v, want [%s]", c["aud"], p.spa.ClientID)
			}
			if c["org_id"] != p.globexOrg.ID || c["org_name"] != p.globexOrg.Name {
				t.Errorf("org_id/org_name = %v/%v, want globex's %s/%s", c["org_id"], c["org_name"], p.globexOrg.ID, p.globexOrg.Name)
			}
			if c["nonce"] != nil {
				t.Errorf("nonce %v in a token no authorization request asked for", c["nonce"])
			}
			sum := sha256.Sum256([]byte(accessToken))
			if want := base64.RawURLEncoding.EncodeToString(sum[:16]); c["at_hash"] != want {
				t.Errorf("at_hash = %v, want %s (the new access token's)", c["at_hash"], want)
			}
			if c["exp"] == nil || c["iat"] == nil {
				t.Errorf("exp/iat missing: %v", c)
			}
			return c
		}

		for _, tc := range []struct {
			name, subject, subjectType string
		}{
			{"access token subject", orig.AccessToken, oauth.TokenTypeAccess},
			{"refresh token subject", orig.RefreshToken, oauth.TokenTypeRefresh},
		} {
			t.Run("token exchange, "+tc.name, func(t *testing.T) {
				r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), p.exchangeForm(tc.subject, tc.subjectType, "globex"))
				tk := testenv.TokensOf(t, r)
				wantSwitched(t, origID, tk.IDToken, tk.AccessToken)
			})
		}

		t.Run("a nonce in the token request is not a sign-in's", func(t *testing.T) {
			form := p.exchangeForm(orig.AccessToken, oauth.TokenTypeAccess, "globex")
			form.Set("nonce", "attacker-chosen-nonce")
			form.Set("prompt", "none")
			tk := testenv.TokensOf(t, testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), form))
			wantSwitched(t, origID, tk.IDToken, tk.AccessToken)
		})

		t.Run("without openid, no ID token", func(t *testing.T) {
			form := p.exchangeForm(orig.AccessToken, oauth.TokenTypeAccess, "globex")
			form.Set("scope", "email")
			r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), form)
			if tk := testenv.TokensOf(t, r); tk.IDToken != "" || strings.Contains(r.Body, "id_token") {
				t.Errorf("an ID token without openid: %s", r.Body)
			}
		})

		t.Run("switch-org", func(t *testing.T) {
			tk := p.signIn(t, url.Values{"organization": {"acme-corp"}})
			_, signedIn := testenv.VerifyJWT(t, tk.IDToken, jwks)
			r := testenv.Do(t, p.c, http.MethodPost, p.acme.URL("/v1/sessions/switch-org"),
				strings.NewReader(`{"organization_id": "globex"}`), testenv.Bearer(tk.AccessToken),
				testenv.Header("Content-Type", "application/json"))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("switch-org: %d\n%s", r.StatusCode, r.Body)
			}
			body := r.JSON(t)
			idToken, _ := body["id_token"].(string)
			at, _ := body["access_token"].(string)
			wantSwitched(t, signedIn, idToken, at)
		})

		t.Run("another tenant's token", func(t *testing.T) {
			form := p.exchangeForm(orig.AccessToken, oauth.TokenTypeAccess, "globex")
			form.Set("client_id", p.foreign.ClientID)
			r := testenv.PostForm(t, p.c, p.globex.URL("/oauth/token"), form)
			if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_request" ||
				strings.Contains(r.Body, "id_token") || strings.Contains(r.Body, "access_token") {
				t.Errorf("acme's token exchanged at globex: %d %s", r.StatusCode, r.Body)
			}
		})
	})
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalJSON)
	default:
		return a == b
	}
}
