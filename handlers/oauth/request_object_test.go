package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// A request object as a client would send it (OIDC Core §6.1); Authio never reads it.
const requestObject = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJjbGkiLCJhdWQiOiJodHRwOi8vYWNtZS5sb2NhbGhvc3QifQ."

// TestRequestObjectsAreRefusedToTheClient: discovery says request and request_uri are not supported, so an
// authorization request that carries one goes back to the client's validated redirect URI with
// request_not_supported or request_uri_not_supported (OIDC Core §6.1, §6.2), state and iss, in the response
// mode it asked for; with a client or redirect URI that is not valid, the error page stays the answer.
func TestRequestObjectsAreRefusedToTheClient(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		spa := acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
		c := env.Client(testenv.ClientOptions{NoRedirects: true})

		meta := testenv.Get(t, c, acme.URL("/.well-known/openid-configuration")).JSON(t)
		if meta["request_parameter_supported"] != false || meta["request_uri_parameter_supported"] != false {
			t.Fatalf("discovery: request_parameter_supported=%v request_uri_parameter_supported=%v, want both false",
				meta["request_parameter_supported"], meta["request_uri_parameter_supported"])
		}

		for _, tc := range []struct {
			name  string
			extra url.Values
			post  bool // parameters in a POST body instead of the query
			err   string
		}{
			{name: "request", extra: url.Values{"request": {requestObject}}, err: "request_not_supported"},
			{name: "request_uri", extra: url.Values{"request_uri": {"https://app.acme.test/request.jwt"}}, err: "request_uri_not_supported"},
			{name: "request_uri of a pushed request", extra: url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:abc"}}, err: "request_uri_not_supported"},
			{name: "request without openid", extra: url.Values{"request": {requestObject}, "scope": {"email"}}, err: "request_not_supported"},
			{name: "request_uri without openid", extra: url.Values{"request_uri": {"https://app.acme.test/r"}, "scope": {"email"}}, err: "request_uri_not_supported"},
			{name: "request in a POST body", extra: url.Values{"request": {requestObject}}, post: true, err: "request_not_supported"},
			{name: "both", extra: url.Values{"request": {requestObject}, "request_uri": {"https://app.acme.test/r"}}, err: "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
				ar.Extra = tc.extra
				var r *testenv.Response
				if tc.post {
					r = testenv.PostForm(t, c, acme.URL("/authorize"), ar.Query())
				} else {
					r = testenv.Get(t, c, ar.URL(acme))
				}
				q := ar.Callback(t, acme, r)
				if q.Get("error") != tc.err || q.Get("code") != "" {
					t.Errorf("callback = %v, want error=%s", q, tc.err)
				}
			})
		}

		t.Run("form_post", func(t *testing.T) {
			ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
			ar.Extra = url.Values{"request_uri": {"https://app.acme.test/request.jwt"}, "response_mode": {"form_post"}}
			r := testenv.Get(t, c, ar.URL(acme))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want the auto-submitting form\n%s", r.StatusCode, r.Body)
			}
			f := testenv.ParseForm(t, r.Body)
			if f.Action != spaRedirect || f.Fields.Get("error") != "request_uri_not_supported" ||
				f.Fields.Get("state") != ar.State || f.Fields.Get("iss") != acme.Issuer {
				t.Errorf("form to %s with %v, want error=request_uri_not_supported, state and iss to %s", f.Action, f.Fields, spaRedirect)
			}
		})

		for _, tc := range []struct {
			name   string
			modify func(q url.Values)
		}{
			{name: "unregistered redirect_uri", modify: func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
			{name: "unknown client", modify: func(q url.Values) { q.Set("client_id", "cli_nobody") }},
		} {
			for _, param := range []string{"request", "request_uri"} {
				t.Run(tc.name+" with "+param, func(t *testing.T) {
					q := testenv.NewAuthRequest(spa.ClientID, spaRedirect).Query()
					q.Set(param, "https://evil.example/request.jwt")
					tc.modify(q)
					r := testenv.Get(t, c, acme.URL("/authorize?"+q.Encode()))
					if r.StatusCode < 400 || r.StatusCode > 499 {
						t.Errorf("status %d, want 4xx", r.StatusCode)
					}
					if loc := r.Header.Get("Location"); loc != "" {
						t.Errorf("redirected to %q; errors must not go to an unvalidated redirect URI", loc)
					}
					if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || strings.Contains(r.Body, "evil.example") {
						t.Errorf("want an HTML error page that does not echo the URI: %s\n%s", r.Header.Get("Content-Type"), r.Body)
					}
				})
			}
		}
	})
}
