package router_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// integerClaims fails the test unless every number in a JSON object (nested ones too) is written as an integer
// literal: NumericDate and updated_at are integers of seconds (RFC 7519 §2, OIDC Core §5.1), and strict
// decoders (Go's encoding/json into an int64, say) refuse 1.796065504e+09.
func integerClaims(t *testing.T, what string, raw []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, raw)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case json.Number:
			if strings.ContainsAny(x.String(), ".eE") {
				t.Errorf("%s: %s = %s, want an integer", what, path, x)
			}
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk(what, v)
}

// jwtPayload returns the raw JSON claims of a compact JWT.
func jwtPayload(t *testing.T, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// profileClaims are the integer claims a relying party decodes with encoding/json.
type profileClaims struct {
	UpdatedAt int64 `json:"updated_at"`
	AuthTime  int64 `json:"auth_time"`
	IssuedAt  int64 `json:"iat"`
	Expiry    int64 `json:"exp"`
}

// TestIntegerClaimsStayIntegers: claims are stored with the grant as JSON and come back when a code or a
// refresh token is redeemed; updated_at must still be an integer in the ID token of either grant, in every
// token and in userinfo, on every backend.
func TestIntegerClaimsStayIntegers(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		user := acme.NewUser("alice@acme.test")
		spa := acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
		c := env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})

		ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
		ar.Scope = "openid profile email offline_access"
		first := testenv.TokensOf(t, ar.Exchange(t, acme, c, ar.Code(t, acme, c, "alice@acme.test", testenv.Password)))
		second := testenv.TokensOf(t, testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}, "client_id": {spa.ClientID},
		}))

		for _, tc := range []struct {
			name, token string
		}{
			{name: "ID token of the code grant", token: first.IDToken},
			{name: "ID token of the refresh grant", token: second.IDToken},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.token == "" {
					t.Fatal("no ID token")
				}
				raw := jwtPayload(t, tc.token)
				integerClaims(t, "claims", raw)
				var got profileClaims
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("decoding the ID token claims into int64 fields: %v\n%s", err, raw)
				}
				if got.UpdatedAt != user.UpdatedAt.Unix() {
					t.Errorf("updated_at = %d, want %d", got.UpdatedAt, user.UpdatedAt.Unix())
				}
			})
		}
		for _, tc := range []struct {
			name, token string
		}{
			{name: "access token of the code grant", token: first.AccessToken},
			{name: "access token of the refresh grant", token: second.AccessToken},
		} {
			t.Run(tc.name, func(t *testing.T) { integerClaims(t, "claims", jwtPayload(t, tc.token)) })
		}

		t.Run("userinfo", func(t *testing.T) {
			r := testenv.Get(t, c, acme.URL("/userinfo"), testenv.Bearer(second.AccessToken))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("userinfo: status %d\n%s", r.StatusCode, r.Body)
			}
			integerClaims(t, "userinfo", []byte(r.Body))
			var got struct {
				UpdatedAt int64 `json:"updated_at"`
			}
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.UpdatedAt != user.UpdatedAt.Unix() {
				t.Errorf("userinfo updated_at = %d (%v), want %d", got.UpdatedAt, err, user.UpdatedAt.Unix())
			}
		})
	})
}
