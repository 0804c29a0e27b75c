package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/authio/authio/internal/testenv"
)

// TestJSONTokenBodyAttack3: the token endpoint reads a JSON body as the form it stands for, and nothing else. A
// parameter smuggled past the one-value rule (an escaped duplicate name, another spelling of a name), a credential
// from the query or from a differently-cased name, a JSON body under another media type (one a page may post
// cross-site without a preflight), a body in another encoding, and bodies built to exhaust the parser are each
// refused or ignored — never a token for a request the client did not make — and a failure is a 4xx, never a 5xx.
func TestJSONTokenBodyAttack3(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
		secret := p.svc.ClientSecret
		id := p.svc.ClientID

		noToken := func(t *testing.T, r *testenv.Response, statuses ...int) {
			t.Helper()
			if strings.Contains(r.Body, "access_token") {
				t.Fatalf("a token was issued: %d %s", r.StatusCode, r.Body)
			}
			if r.StatusCode >= 500 {
				t.Fatalf("status %d (a failure of ours) for bad input:\n%.300s", r.StatusCode, r.Body)
			}
			for _, s := range statuses {
				if r.StatusCode == s {
					return
				}
			}
			t.Errorf("status %d, want one of %v\n%.300s", r.StatusCode, statuses, r.Body)
		}

		for _, tc := range []struct {
			name, body, contentType string
			opts                    []testenv.RequestOption
			query                   string
			statuses                []int
		}{
			{name: "an escaped duplicate of client_secret", body: `{"grant_type":"client_credentials","client_id":"` + id +
				`","client_secret":"wrong","client\u005fsecret":"` + secret + `"}`, statuses: []int{400}},
			{name: "the secret under another case", body: `{"grant_type":"client_credentials","client_id":"` + id +
				`","Client_Secret":"` + secret + `"}`, statuses: []int{400, 401}},
			{name: "the secret in the query, JSON body without it", body: `{"grant_type":"client_credentials","client_id":"` + id + `"}`,
				query: "client_secret=" + url.QueryEscape(secret), statuses: []int{400, 401}},
			{name: "text/plain (a CORS simple request) with a JSON body", contentType: "text/plain",
				body: `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `"}`, statuses: []int{400}},
			{name: "application/jsonx", contentType: "application/jsonx",
				body: `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `"}`, statuses: []int{400}},
			{name: "application/json with a form body", body: "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret,
				statuses: []int{400}},
			{name: "a UTF-16 body", contentType: "application/json; charset=utf-16",
				body: utf16LE(`{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `"}`), statuses: []int{400}},
			{name: "a UTF-8 byte order mark", body: "\ufeff" + `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `"}`,
				statuses: []int{400}},
			{name: "deep nesting", body: `{"grant_type":"client_credentials","x":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}`,
				statuses: []int{400}},
			{name: "deep nesting, unclosed", body: `{"x":` + strings.Repeat(`{"a":`, 12000), statuses: []int{400}},
			{name: "a huge parameter name", body: `{"` + strings.Repeat("n", 60000) + `": {}}`, statuses: []int{400}},
			{name: "a huge number", body: `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret +
				`","audience":` + strings.Repeat("9", 50000) + `}`, statuses: []int{400, 403}},
			{name: "Basic credentials of one client and an empty client_secret in the body", body: `{"grant_type":"client_credentials","client_secret":""}`,
				opts: []testenv.RequestOption{testenv.BasicAuth(p.svc.ClientID, secret)}, statuses: []int{400}},
			{name: "Basic credentials of svc and the SPA's client_id in the body", body: `{"grant_type":"client_credentials","client_id":"` + p.spa.ClientID + `"}`,
				opts: []testenv.RequestOption{testenv.BasicAuth(p.svc.ClientID, secret)}, statuses: []int{400}},
			{name: "a grant type as a number", body: `{"grant_type":1,"client_id":"` + id + `","client_secret":"` + secret + `"}`, statuses: []int{400}},
			{name: "the secret as true", body: `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":true}`, statuses: []int{401}},
			{name: "globex's client at acme", body: `{"grant_type":"client_credentials","client_id":"` + p.foreign.ClientID + `"}`, statuses: []int{400, 401}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := "/oauth/token"
				if tc.query != "" {
					path += "?" + tc.query
				}
				noToken(t, postJSON(t, b, p.acme, path, tc.body, tc.contentType, tc.opts...), tc.statuses...)
			})
		}

		t.Run("a form body with the grant in the query", func(t *testing.T) {
			r := testenv.PostForm(t, b, p.acme.URL("/oauth/token?grant_type=client_credentials&client_id="+id+"&client_secret="+url.QueryEscape(secret)),
				url.Values{})
			noToken(t, r, 400, 401)
		})

		t.Run("JSON body and a form in the query: the body alone counts", func(t *testing.T) {
			// The body authenticates svc; the query asks for another client's grant and audience.
			r := postJSON(t, b, p.acme, "/oauth/token?client_id="+p.spa.ClientID+"&audience=urn:authio:management",
				`{"grant_type":"client_credentials","client_id":"`+id+`","client_secret":"`+secret+`","audience":"`+api+`"}`, "")
			tk := testenv.TokensOf(t, r)
			_, claims := testenv.DecodeJWT(t, tk.AccessToken)
			if aud := audiences(claims["aud"]); claims["sub"] != id || len(aud) != 1 || aud[0] != api {
				t.Errorf("sub/aud = %v/%v, want %s/[%s]: the query leaked into the request", claims["sub"], claims["aud"], id, api)
			}
		})

		t.Run("revoking another client's token through JSON leaves it working", func(t *testing.T) {
			tk := p.signIn(t, nil)
			r := postJSON(t, b, p.acme, "/oauth/revoke", map[string]string{"client_id": p.picker.ClientID, "token": tk.RefreshToken}, "")
			if r.StatusCode >= 500 {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			again := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID,
				"grant_type": "refresh_token", "refresh_token": tk.RefreshToken}, "")
			if again.StatusCode != http.StatusOK {
				t.Errorf("picker revoked spa's refresh token: %d %s", again.StatusCode, again.Body)
			}
		})

		t.Run("revocation at globex of acme's token", func(t *testing.T) {
			tk := p.signIn(t, nil)
			r := postJSON(t, b, p.globex, "/oauth/revoke", map[string]string{"client_id": p.foreign.ClientID, "token": tk.RefreshToken}, "")
			if r.StatusCode >= 500 {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			again := postJSON(t, b, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID,
				"grant_type": "refresh_token", "refresh_token": tk.RefreshToken}, "")
			if again.StatusCode != http.StatusOK {
				t.Errorf("globex revoked acme's refresh token: %d %s", again.StatusCode, again.Body)
			}
		})
	})
}

// utf16LE encodes s as UTF-16 little-endian with a byte order mark.
func utf16LE(s string) string {
	var sb strings.Builder
	sb.WriteString("\xff\xfe")
	for _, u := range utf16.Encode([]rune(s)) {
		sb.WriteByte(byte(u))
		sb.WriteByte(byte(u >> 8))
	}
	return sb.String()
}
