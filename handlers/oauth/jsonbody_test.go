package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
)

// postJSON posts body (a string, sent as is, or a value to encode) to path on tn as application/json with
// contentType's parameters ("" for plain application/json).
func postJSON(t *testing.T, c *http.Client, tn *testenv.Tenant, path string, body any, contentType string, opts ...testenv.RequestOption) *testenv.Response {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	opts = append([]testenv.RequestOption{testenv.Header("Content-Type", contentType)}, opts...)
	return testenv.Do(t, c, http.MethodPost, tn.URL(path), strings.NewReader(raw), opts...)
}

// TestTokenEndpointTakesJSON: the token endpoint takes a flat JSON object of string parameters as it takes a
// form, for every grant (auth0-spa-js posts JSON; Auth0's server SDKs too), with client_secret in the body
// authenticating as client_secret_post does; so does the revocation endpoint. Anything else in a JSON body is
// invalid_request naming what is wrong, and nothing is issued.
func TestTokenEndpointTakesJSON(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})

		var tk testenv.Tokens
		t.Run("authorization_code, as auth0-spa-js sends it", func(t *testing.T) {
			ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
			code := ar.Code(t, p.acme, b, "alice@acme.test", testenv.Password)
			r := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID,
				"grant_type": "authorization_code", "code": code, "code_verifier": ar.Verifier, "redirect_uri": appRedirect},
				"application/json; charset=utf-8", testenv.Header("Origin", appOrigin), testenv.Header("Auth0-Client", "eyJuYW1lIjoidGVzdCJ9"))
			tk = testenv.TokensOf(t, r)
			if tk.IDToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" {
				t.Errorf("tokens %+v, want an ID token, a refresh token and token_type Bearer", tk)
			}
			if r.Header.Get("Access-Control-Allow-Origin") != appOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want the app's origin", r.Header.Get("Access-Control-Allow-Origin"))
			}
		})
		if tk.RefreshToken == "" {
			t.FailNow()
		}

		t.Run("refresh_token", func(t *testing.T) {
			r := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID,
				"grant_type": "refresh_token", "refresh_token": tk.RefreshToken}, "")
			next := testenv.TokensOf(t, r)
			if next.RefreshToken == "" || next.RefreshToken == tk.RefreshToken {
				t.Errorf("refresh did not rotate the refresh token: %s", r.Body)
			}
			tk = next
		})

		t.Run("refresh_token with a number and a boolean, as auth0-spa-js forwards authorizationParams", func(t *testing.T) {
			body := `{"client_id": "` + p.spa.ClientID + `", "grant_type": "refresh_token", "refresh_token": "` +
				tk.RefreshToken + `", "max_age": 3600, "useless": true}`
			r := postJSON(t, b, p.acme, "/oauth/token", body, "")
			next := testenv.TokensOf(t, r)
			if next.RefreshToken == "" || next.RefreshToken == tk.RefreshToken {
				t.Errorf("refresh with numeric parameters refused: %s", r.Body)
			}
			tk = next
		})

		t.Run("client_credentials with client_secret in the body", func(t *testing.T) {
			r := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"grant_type": "client_credentials",
				"client_id": p.svc.ClientID, "client_secret": p.svc.ClientSecret, "audience": api}, "")
			_, claims := testenv.VerifyJWT(t, testenv.TokensOf(t, r).AccessToken, p.acme.JWKS(t, b))
			if aud := audiences(claims["aud"]); claims["sub"] != p.svc.ClientID || len(aud) != 1 || aud[0] != api {
				t.Errorf("sub/aud = %v/%v", claims["sub"], claims["aud"])
			}
			wrong := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"grant_type": "client_credentials",
				"client_id": p.svc.ClientID, "client_secret": "wrong", "audience": api}, "")
			if wrong.StatusCode != http.StatusUnauthorized || testenv.OAuthError(t, wrong) != "invalid_client" {
				t.Errorf("wrong client_secret: status %d\n%s", wrong.StatusCode, wrong.Body)
			}
		})

		t.Run("token exchange", func(t *testing.T) {
			form := p.exchangeForm(tk.AccessToken, oauth.TokenTypeAccess, "globex")
			body := map[string]string{}
			for k := range form {
				body[k] = form.Get(k)
			}
			r := postJSON(t, b, p.acme, "/oauth/token", body, "")
			if got := testenv.TokensOf(t, r); got.AccessToken == "" {
				t.Errorf("no access token: %s", r.Body)
			}
		})

		t.Run("revocation", func(t *testing.T) {
			r := postJSON(t, b, p.acme, "/oauth/revoke", map[string]string{"client_id": p.spa.ClientID, "token": tk.RefreshToken}, "")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("revoke: status %d\n%s", r.StatusCode, r.Body)
			}
			again := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID,
				"grant_type": "refresh_token", "refresh_token": tk.RefreshToken}, "")
			if testenv.OAuthError(t, again) != "invalid_grant" {
				t.Errorf("the revoked refresh token still works: %s", again.Body)
			}
			bad := postJSON(t, b, p.acme, "/oauth/revoke", `{"client_id": "`+p.spa.ClientID+`", "token": {"t": 42}}`, "")
			if bad.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, bad) != "invalid_request" ||
				!strings.Contains(bad.JSON(t)["error_description"].(string), "token") {
				t.Errorf("revoke with an object: status %d\n%s", bad.StatusCode, bad.Body)
			}
		})

		cc := func(extra string) string {
			return `{"grant_type": "client_credentials", "client_id": "` + p.svc.ClientID + `", "client_secret": "` +
				p.svc.ClientSecret + `"` + extra + `}`
		}
		for _, tc := range []struct {
			name, body, contentType string
			opts                    []testenv.RequestOption
			status                  int
			mention                 string // what error_description must name
		}{
			{name: "null", body: cc(`, "audience": null`), mention: "audience"},
			{name: "a nested object", body: cc(`, "audience": {"a": "b"}`), mention: "audience"},
			{name: "an array", body: cc(`, "audience": ["` + api + `"]`), mention: "audience"},
			{name: "a parameter twice", body: cc(`, "audience": "` + api + `", "audience": "` + api + `"`), mention: "audience"},
			{name: "not JSON", body: `grant_type=client_credentials`, mention: "JSON"},
			{name: "truncated JSON", body: `{"grant_type": "client_credentials"`, mention: "JSON"},
			{name: "an array body", body: `["client_credentials"]`, mention: "object"},
			{name: "null body", body: `null`, mention: "object"},
			{name: "empty body", body: ``, mention: "empty"},
			{name: "two objects", body: cc(``) + `{}`, mention: "one JSON object"},
			{name: "a NUL character", body: cc(`, "audience": "a\u0000b"`), mention: "audience"},
			{name: "too large", body: cc(`, "padding": "` + strings.Repeat("a", 70<<10) + `"`), mention: "larger"},
			{name: "Basic credentials and client_secret", body: cc(``), status: http.StatusBadRequest,
				opts: []testenv.RequestOption{testenv.BasicAuth(p.svc.ClientID, p.svc.ClientSecret)}, mention: "one client authentication"},
			{name: "another tenant's client", body: `{"grant_type": "authorization_code", "client_id": "` + p.foreign.ClientID +
				`", "code": "x", "redirect_uri": "` + appRedirect + `", "code_verifier": "` + strings.Repeat("v", 43) + `"}`,
				status: http.StatusUnauthorized},
		} {
			t.Run("refused: "+tc.name, func(t *testing.T) {
				r := postJSON(t, b, p.acme, "/oauth/token", tc.body, tc.contentType, tc.opts...)
				want := tc.status
				if want == 0 {
					want = http.StatusBadRequest
				}
				if r.StatusCode != want || strings.Contains(r.Body, "access_token") {
					t.Fatalf("status %d, want %d and no token\n%.400s", r.StatusCode, want, r.Body)
				}
				e := r.JSON(t)
				if want == http.StatusBadRequest && e["error"] != "invalid_request" {
					t.Errorf("error %v, want invalid_request", e["error"])
				}
				if want == http.StatusUnauthorized && e["error"] != "invalid_client" {
					t.Errorf("error %v, want invalid_client", e["error"])
				}
				if d, _ := e["error_description"].(string); !strings.Contains(d, tc.mention) {
					t.Errorf("error_description %q does not mention %s", d, tc.mention)
				}
			})
		}

		t.Run("forms still work", func(t *testing.T) {
			r := p.acme.ClientCredentials(t, b, p.svc.ClientID, p.svc.ClientSecret, url.Values{"audience": {api}})
			testenv.TokensOf(t, r)
		})
	})
}
