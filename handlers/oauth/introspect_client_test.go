package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// RFC 7662 §2.1 has the caller of the introspection endpoint authenticate as an RFC 6749 client; when that
// fails, the answer is RFC 6749 §5.2's invalid_client (401, with a challenge), as at the token endpoint — not
// fosite's non-standard request_unauthorized.
func TestIntrospectionRefusesUnauthenticatedClientsWithInvalidClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	token := testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, f.svc.ClientID, f.svc.ClientSecret, url.Values{"audience": {api}})).AccessToken
	for _, tc := range []struct {
		name string
		opts []testenv.RequestOption
	}{
		{"wrong secret", []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, "wrong")}},
		{"unknown client", []testenv.RequestOption{testenv.BasicAuth("cli_unknown", f.svc.ClientSecret)}},
		{"public client", []testenv.RequestOption{testenv.BasicAuth(f.spa.ClientID, "")}},
		{"no credentials", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/introspect"), url.Values{"token": {token}}, tc.opts...)
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401\n%s", r.StatusCode, r.Body)
			}
			if got := testenv.OAuthError(t, r); got != "invalid_client" {
				t.Errorf("error = %q, want invalid_client\n%s", got, r.Body)
			}
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", r.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(r.Body, `"active"`) {
				t.Errorf("a refused caller learned about the token: %s", r.Body)
			}
		})
	}
	// The right client still gets its answer.
	if got := f.acme.Introspect(t, f.c, f.other.ClientID, f.other.ClientSecret, token); got["active"] != true {
		t.Errorf("authenticated introspection: %v", got)
	}
}
