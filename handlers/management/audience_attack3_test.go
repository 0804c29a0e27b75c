package management_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestManagementAudienceAttack3: the Management API's Auth0-form audience https://{domain}/api/v2/ asked by a
// client of acme for a domain of globex in every spelling that names the same host (case, trailing dot, port,
// scheme, percent-encoding), directly or listed among the client's audiences, is never granted; and a client with
// no Management API scope that asks as the SDKs do (no scope) gets a token that opens nothing.
func TestManagementAudienceAttack3(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		if _, err := f.env.S.AddDomain(context.Background(), f.globex.ID, "auth.globex.test"); err != nil {
			t.Fatal(err)
		}
		gname := strings.Split(f.globex.Host, ":")[0]
		variants := []string{
			"https://" + strings.ToUpper(gname) + "/api/v2/",
			"https://" + gname + "./api/v2/",
			"https://" + gname + ":1/api/v2/",
			"https://" + gname + ":443/api/v2/",
			"http://" + f.globex.Host + "/api/v2/",
			"HTTPS://" + gname + "/api/v2/",
			"https://" + strings.Replace(gname, ".", "%2E", 1) + "/api/v2/",
			"https://AUTH.GLOBEX.TEST./api/v2/",
			"https://auth.globex.test/api/v2/",
		}
		granted := managementClient(f.acme, "read:organizations", "read:users")
		lister := f.acme.NewClient(directory.ClientSpec{Name: "lister", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			Audiences: variants, Scopes: []string{"read:organizations"}})
		for _, aud := range variants {
			for _, cl := range []directory.CreatedClient{granted, lister} {
				t.Run(aud+" by "+cl.ClientID, func(t *testing.T) {
					r := f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret, url.Values{"audience": {aud}})
					if r.StatusCode == http.StatusOK {
						tk := testenv.TokensOf(t, r)
						_, claims := testenv.DecodeJWT(t, tk.AccessToken)
						t.Errorf("acme issued a token for globex's Management API (aud %v, scope %q)", claims["aud"], tk.Scope)
						if g := f.globex.API(t, f.c, "GET", "/organizations", tk.AccessToken, nil); g.StatusCode == http.StatusOK {
							t.Errorf("and globex accepted it")
						}
						return
					}
					if r.StatusCode >= 500 {
						t.Fatalf("status %d %s", r.StatusCode, r.Body)
					}
				})
			}
		}

		t.Run("a client granted no Management API scope, asking as the SDKs do", func(t *testing.T) {
			bare := f.acme.NewClient(directory.ClientSpec{Name: "bare", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
				Audiences: []string{directory.ManagementAudience}})
			r := f.acme.ClientCredentials(t, f.c, bare.ClientID, bare.ClientSecret, url.Values{"audience": {"https://" + f.acme.Host + "/api/v2/"}})
			if r.StatusCode >= 500 {
				t.Fatalf("status %d %s", r.StatusCode, r.Body)
			}
			if r.StatusCode != http.StatusOK {
				return
			}
			tk := testenv.TokensOf(t, r)
			if tk.Scope != "" {
				t.Errorf("scope %q for a client granted none", tk.Scope)
			}
			for _, path := range []string{"/users", "/clients", "/organizations", "/roles", "/logs"} {
				if g := f.acme.API(t, f.c, "GET", path, tk.AccessToken, nil); g.StatusCode != http.StatusForbidden {
					t.Errorf("GET %s with a scope-less token: %d", path, g.StatusCode)
				}
			}
		})

		t.Run("a client not allowed the audience at all", func(t *testing.T) {
			none := f.acme.NewClient(directory.ClientSpec{Name: "none", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
				Scopes: []string{"read:users"}})
			for _, aud := range []string{"https://" + f.acme.Host + "/api/v2/", directory.ManagementAudience} {
				r := f.acme.ClientCredentials(t, f.c, none.ClientID, none.ClientSecret, url.Values{"audience": {aud}})
				if r.StatusCode == http.StatusOK || r.StatusCode >= 500 {
					t.Errorf("audience %s for a client that may not ask it: %d %s", aud, r.StatusCode, r.Body)
				}
			}
		})
	})
}
