package router_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestTenantIsolation runs acme and globex on one server and checks that nothing issued by one is accepted by
// the other.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	acme := s.acme
	globex := s.env.NewTenant("globex")
	const globexRedirect = "https://app.globex.test/callback"
	gSPA := globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{globexRedirect, spaRedirect}})
	gSvc := globex.NewClient(directory.ClientSpec{Name: "api", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})

	c := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect, globexRedirect}})
	ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
	acmeCode := ar.Code(t, acme, c, "alice@acme.test", testenv.Password)
	acmeUser := testenv.TokensOf(t, ar.Exchange(t, acme, c, acmeCode))
	acmeM2M := testenv.TokensOf(t, acme.ClientCredentials(t, c, s.svc.ClientID, s.svc.ClientSecret, nil))
	// A second code, not redeemed at acme, to try at globex.
	ar2 := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
	unredeemed := ar2.Code(t, acme, c, "", "")

	t.Run("issuers differ", func(t *testing.T) {
		a := testenv.Get(t, c, acme.URL("/.well-known/openid-configuration")).JSON(t)["issuer"]
		g := testenv.Get(t, c, globex.URL("/.well-known/openid-configuration")).JSON(t)["issuer"]
		if a == g || a != acme.Issuer || g != globex.Issuer {
			t.Errorf("issuers: acme %v, globex %v", a, g)
		}
		_, claims := testenv.DecodeJWT(t, acmeUser.AccessToken)
		if claims["iss"] != acme.Issuer {
			t.Errorf("acme token iss = %v", claims["iss"])
		}
	})

	for _, tc := range []struct {
		name  string
		token string
	}{
		{name: "user access token", token: acmeUser.AccessToken},
		{name: "refresh token", token: acmeUser.RefreshToken},
		{name: "client credentials token", token: acmeM2M.AccessToken},
	} {
		t.Run("globex introspection of acme "+tc.name, func(t *testing.T) {
			if got := globex.Introspect(t, c, gSvc.ClientID, gSvc.ClientSecret, tc.token); got["active"] != false || len(got) != 1 {
				t.Errorf("globex introspection = %v, want exactly {active:false}", got)
			}
			if got := acme.Introspect(t, c, s.svc.ClientID, s.svc.ClientSecret, tc.token); got["active"] != true {
				t.Errorf("acme introspection = %v, want active (the token itself is fine)", got)
			}
		})
	}

	t.Run("acme token at globex userinfo", func(t *testing.T) {
		r := testenv.Get(t, c, globex.URL("/userinfo"), testenv.Bearer(acmeUser.AccessToken))
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401\n%s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
		}
		if r := testenv.Get(t, c, acme.URL("/userinfo"), testenv.Bearer(acmeUser.AccessToken)); r.StatusCode != http.StatusOK {
			t.Errorf("acme userinfo: %d", r.StatusCode)
		}
	})

	t.Run("acme client_id on globex authorize", func(t *testing.T) {
		nr := s.env.Client(testenv.ClientOptions{Jar: c.Jar, NoRedirects: true})
		g := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
		r := testenv.Get(t, nr, g.URL(globex))
		if r.StatusCode < 400 || r.StatusCode > 499 {
			t.Errorf("status %d, want a 4xx error page", r.StatusCode)
		}
		if loc := r.Header.Get("Location"); loc != "" {
			t.Errorf("redirected to %s; an unknown client must get an error page", loc)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("Content-Type = %q, want an HTML page", r.Header.Get("Content-Type"))
		}
	})

	t.Run("acme code redeemed at globex", func(t *testing.T) {
		for _, clientID := range []string{s.spa.ClientID, gSPA.ClientID} {
			r := testenv.PostForm(t, c, globex.URL("/oauth/token"), url.Values{
				"grant_type": {"authorization_code"}, "code": {unredeemed}, "redirect_uri": {spaRedirect},
				"client_id": {clientID}, "code_verifier": {ar2.Verifier},
			})
			if r.StatusCode == http.StatusOK {
				t.Fatalf("globex redeemed an acme code with client %s: %s", clientID, r.Body)
			}
			if e := testenv.OAuthError(t, r); e != "invalid_grant" && e != "invalid_client" {
				t.Errorf("client %s: error %q, want invalid_grant or invalid_client", clientID, e)
			}
		}
		// The failed attempts did not burn the code at acme.
		if r := ar2.Exchange(t, acme, c, unredeemed); r.StatusCode != http.StatusOK {
			t.Errorf("acme could not redeem its own code afterwards: %d %s", r.StatusCode, r.Body)
		}
	})

	t.Run("acme refresh token at globex", func(t *testing.T) {
		r := testenv.PostForm(t, c, globex.URL("/oauth/token"), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {acmeUser.RefreshToken}, "client_id": {gSPA.ClientID},
		})
		if r.StatusCode == http.StatusOK {
			t.Fatalf("globex accepted an acme refresh token: %s", r.Body)
		}
	})

	t.Run("acme session is not a globex session", func(t *testing.T) {
		g := testenv.NewAuthRequest(gSPA.ClientID, globexRedirect)
		g.Extra.Set("prompt", "none")
		q := g.Callback(t, globex, testenv.Get(t, c, g.URL(globex)))
		if q.Get("error") != "login_required" {
			t.Errorf("prompt=none at globex with only an acme session: %v, want login_required", q)
		}
	})
}
