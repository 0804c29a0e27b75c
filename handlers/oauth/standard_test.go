package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
)

// TestTokenTypeIsBearer: every grant's token response says token_type "Bearer", spelled as RFC 6750's scheme,
// so SDKs that compare it exactly (or put it in front of the token) work whatever the grant.
func TestTokenTypeIsBearer(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		signedIn := p.signIn(t, url.Values{"organization": {"acme-corp"}})
		for _, tc := range []struct {
			name string
			send func(t *testing.T) *testenv.Response
		}{
			{"authorization_code", func(t *testing.T) *testenv.Response {
				b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
				ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
				return ar.Exchange(t, p.acme, b, ar.Code(t, p.acme, b, "alice@acme.test", testenv.Password))
			}},
			{"refresh_token", func(t *testing.T) *testenv.Response {
				tk := p.signIn(t, nil)
				return testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
					"client_id": {p.spa.ClientID}, "refresh_token": {tk.RefreshToken}})
			}},
			{"client_credentials", func(t *testing.T) *testenv.Response {
				return p.acme.ClientCredentials(t, p.c, p.svc.ClientID, p.svc.ClientSecret, url.Values{"audience": {api}})
			}},
			{"token exchange of an access token", func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"),
					p.exchangeForm(signedIn.AccessToken, oauth.TokenTypeAccess, "globex"))
			}},
			{"token exchange of a refresh token", func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"),
					p.exchangeForm(signedIn.RefreshToken, oauth.TokenTypeRefresh, "globex"))
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send(t)
				tk := testenv.TokensOf(t, r)
				if tk.TokenType != "Bearer" {
					t.Errorf("token_type = %q, want \"Bearer\"\n%s", tk.TokenType, r.Body)
				}
			})
		}

		t.Run("switch-org", func(t *testing.T) {
			tk := p.signIn(t, url.Values{"organization": {"acme-corp"}})
			r := testenv.Do(t, p.c, http.MethodPost, p.acme.URL("/v1/sessions/switch-org"),
				strings.NewReader(`{"organization_id": "globex", "refresh_token": "`+tk.RefreshToken+`"}`),
				testenv.Bearer(tk.AccessToken), testenv.Header("Content-Type", "application/json"))
			if r.StatusCode != http.StatusOK || r.JSON(t)["token_type"] != "Bearer" {
				t.Errorf("switch-org: status %d, token_type %v\n%s", r.StatusCode, r.JSON(t)["token_type"], r.Body)
			}
		})
	})
}

// TestOnlyRegisteredErrorCodes: fosite's own error names (invalid_state for a state shorter than 8 characters,
// insufficient_entropy for such a nonce, scope_not_granted, request_unauthorized, token_inactive, …) never reach
// a client; it gets the registered code that means the same (RFC 6749 §4.1.2.1, §5.2) with a description that
// says what is wrong.
func TestOnlyRegisteredErrorCodes(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		step := p.env.Client(testenv.ClientOptions{NoRedirects: true})

		for _, tc := range []struct {
			name     string
			extra    url.Values
			describe string // a word the error_description must hold
		}{
			{"short state", url.Values{"state": {"abc"}}, "state"},
			{"short nonce", url.Values{"nonce": {"abc"}}, "nonce"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
				ar.Extra = tc.extra
				if s := tc.extra.Get("state"); s != "" {
					ar.State = s
				}
				q := ar.Callback(t, p.acme, testenv.Get(t, step, ar.URL(p.acme)))
				if q.Get("error") != "invalid_request" || q.Get("code") != "" {
					t.Errorf("callback %v, want error=invalid_request and no code", q)
				}
				if !strings.Contains(q.Get("error_description"), tc.describe) {
					t.Errorf("error_description %q does not mention the %s", q.Get("error_description"), tc.describe)
				}
			})
		}

		t.Run("short state, response_mode=form_post", func(t *testing.T) {
			ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
			ar.State = "abc"
			ar.Extra.Set("response_mode", "form_post")
			r := testenv.Get(t, step, ar.URL(p.acme))
			if !strings.Contains(r.Body, `value="invalid_request"`) || strings.Contains(r.Body, "invalid_state") {
				t.Errorf("form_post error page: %s", r.Body)
			}
		})

		t.Run("another tenant's client", func(t *testing.T) {
			ar := testenv.NewAuthRequest(p.foreign.ClientID, appRedirect)
			ar.State = "abc"
			r := testenv.Get(t, step, ar.URL(p.acme))
			if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnauthorized {
				t.Errorf("globex's client on acme: status %d, want an error page\n%s", r.StatusCode, r.Body)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("globex's client on acme redirected to %s", loc)
			}
		})
	})
}
