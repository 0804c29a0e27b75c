package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestTokenPathsUseTheInjectedClock: token expiry is stamped from the server's clock (Server.Now), not the
// machine's, so a test (or a replayed clock) moves issuance and expiry together.
func TestTokenPathsUseTheInjectedClock(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	const api = "https://api.clock.test"
	if _, err := env.S.CreateResourceServer(acme.Ctx, directory.ResourceServerSpec{Identifier: api, Name: "API",
		Scopes: []storage.Scope{{Value: "read"}}, TokenLifetime: 600}); err != nil {
		t.Fatal(err)
	}
	svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})
	frozen := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	env.Clock.Freeze(frozen)
	c := env.Client(testenv.ClientOptions{})
	tk := testenv.TokensOf(t, acme.ClientCredentials(t, c, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
	_, claims := testenv.DecodeJWT(t, tk.AccessToken)
	exp, _ := claims["exp"].(float64)
	if want := frozen.Add(600 * time.Second).Unix(); int64(exp) < want-1 || int64(exp) > want+1 {
		t.Errorf("exp = %v, want %d (the frozen clock + the API's 600 s), not the machine's clock", int64(exp), want)
	}
}
