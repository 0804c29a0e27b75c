package server_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// freshSchema is testenv.PostgresSchema: a schema of the test's own, dropped when it ends.
func freshSchema(t *testing.T, dsn string) string { return testenv.PostgresSchema(t, dsn) }

// twoReplicas starts two servers over one fresh Postgres schema and one Redis (the services the test variables
// name), as two replicas behind a load balancer: both answer on the same host names, so they share issuers; each
// test client dials one of them. It skips without both variables, as the other real-service suites do.
func twoReplicas(t *testing.T) (a, b *testenv.Env) {
	t.Helper()
	dsn, redisURL := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"), os.Getenv("AUTHIO_TEST_REDIS_URL")
	if dsn == "" || redisURL == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN and AUTHIO_TEST_REDIS_URL to run the replica tests against real services")
	}
	schemaDSN := freshSchema(t, dsn)
	prefix := "authio-test-" + testenv.RandomString(9) + ":"
	newReplica := func(port string) *testenv.Env {
		st, err := storage.Open(schemaDSN, storage.Options{MaxOpenConns: 8})
		if err != nil {
			t.Fatalf("AUTHIO_TEST_POSTGRES_DSN is set but unusable: %v", err)
		}
		if _, err := st.Migrate(context.Background()); err != nil {
			st.Close()
			t.Fatalf("migrate: %v", err)
		}
		c, err := cache.NewRedis(redisURL, prefix)
		if err != nil {
			st.Close()
			t.Fatalf("AUTHIO_TEST_REDIS_URL is set but Redis is unreachable: %v", err)
		}
		return testenv.New(t, testenv.Options{Store: st, Cache: c, Port: port, Configure: func(c *config.Config) {
			c.DatabaseURL, c.RedisURL = schemaDSN, redisURL
		}})
	}
	a = newReplica("")
	return a, newReplica(a.Port)
}

// TestReplicas runs two replicas (twoReplicas) and checks what they must share.
func TestReplicas(t *testing.T) {
	t.Parallel()
	a, b := twoReplicas(t)

	acmeA := a.NewTenant("acme")
	acmeB := b.Tenant("acme")
	if acmeA.Issuer != acmeB.Issuer {
		t.Fatalf("replicas disagree on the issuer: %s vs %s", acmeA.Issuer, acmeB.Issuer)
	}
	acmeA.NewUser("alice@acme.test")
	spa := acmeA.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	svc := acmeA.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})

	browserA := a.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	browserB := b.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}, Jar: browserA.Jar}) // same browser, other replica

	t.Run("code issued by A is redeemed at B", func(t *testing.T) {
		ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
		code := ar.Code(t, acmeA, browserA, "alice@acme.test", testenv.Password)
		tok := testenv.TokensOf(t, ar.Exchange(t, acmeB, browserB, code))
		testenv.VerifyJWT(t, tok.IDToken, acmeB.JWKS(t, browserB))
		if r := testenv.Get(t, browserA, acmeA.URL("/userinfo"), testenv.Bearer(tok.AccessToken)); r.StatusCode != http.StatusOK {
			t.Errorf("B's token at A's userinfo: %d", r.StatusCode)
		}
	})

	t.Run("session from A is honoured by B", func(t *testing.T) {
		ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
		ar.Extra.Set("prompt", "none")
		q := ar.Callback(t, acmeB, testenv.Get(t, browserB, ar.URL(acmeB)))
		if q.Get("code") == "" {
			t.Fatalf("B did not honour A's session: %v", q)
		}
		testenv.TokensOf(t, ar.Exchange(t, acmeA, browserA, q.Get("code")))
	})

	t.Run("client credentials token from A is active at B", func(t *testing.T) {
		tok := testenv.TokensOf(t, acmeA.ClientCredentials(t, browserA, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
		if got := acmeB.Introspect(t, browserB, svc.ClientID, svc.ClientSecret, tok.AccessToken); got["active"] != true {
			t.Errorf("introspection at B: %v", got)
		}
		testenv.PostForm(t, browserA, acmeA.URL("/oauth/revoke"), url.Values{"token": {tok.AccessToken}},
			testenv.BasicAuth(svc.ClientID, svc.ClientSecret))
		if got := acmeB.Introspect(t, browserB, svc.ClientID, svc.ClientSecret, tok.AccessToken); got["active"] != false {
			t.Errorf("revoked at A, still active at B: %v", got)
		}
	})

	t.Run("key rotated through A shows in B's JWKS within a second", func(t *testing.T) {
		before := testenv.KidsOf(t, acmeB.JWKS(t, browserB)) // B has the keys cached (until invalidated)
		k, err := a.S.RotateKey(context.Background(), acmeA.Stored(t))
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			kids := testenv.KidsOf(t, acmeB.JWKS(t, browserB))
			if slices.Contains(kids, k.ID) {
				for _, old := range before {
					if !slices.Contains(kids, old) {
						t.Errorf("B dropped the old key %s", old)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B's JWKS still %v a second after A rotated to %s", kids, k.ID)
			}
			time.Sleep(20 * time.Millisecond)
		}
		tok := testenv.TokensOf(t, acmeB.ClientCredentials(t, browserB, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
		if kid, _ := testenv.VerifyJWT(t, tok.AccessToken, acmeA.JWKS(t, browserA)); kid != k.ID {
			t.Errorf("B signs with %s after the rotation, want %s", kid, k.ID)
		}
	})

	t.Run("tenant created through A is served by B within a second", func(t *testing.T) {
		host := "http://globex.localhost:" + a.Port + "/.well-known/openid-configuration"
		if r := testenv.Get(t, browserB, host); r.StatusCode != http.StatusNotFound {
			t.Fatalf("globex before creation: %d", r.StatusCode)
		}
		a.NewTenant("globex")
		deadline := time.Now().Add(time.Second)
		for testenv.Get(t, browserB, host).StatusCode != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("B still answers 404 for globex a second after A created it")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("a role given to a client through A counts in B's next token", func(t *testing.T) {
		ctx := acmeA.Ctx
		rs, err := a.S.CreateResourceServer(ctx, directory.ResourceServerSpec{Identifier: api, Name: "API", Scopes: []storage.Scope{{Value: "read"}}})
		if err != nil {
			t.Fatal(err)
		}
		role, err := a.S.CreateRole(ctx, directory.RoleSpec{Name: "reader", Permissions: []storage.Permission{{ResourceServer: rs.Identifier, Name: "read"}}})
		if err != nil {
			t.Fatal(err)
		}
		perms := func() []string {
			tok := testenv.TokensOf(t, acmeB.ClientCredentials(t, browserB, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
			_, c := testenv.DecodeJWT(t, tok.AccessToken)
			var out []string
			for _, p := range c["permissions"].([]any) {
				out = append(out, p.(string))
			}
			return out
		}
		if got := perms(); len(got) != 0 {
			t.Fatalf("permissions before the assignment = %v", got) // B now has the client's grants cached
		}
		if _, err := a.S.AssignClientRoles(ctx, svc.ClientID, []string{role.ID}, storage.SourceManual); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for got := perms(); !slices.Equal(got, []string{"read"}); got = perms() {
			if time.Now().After(deadline) {
				t.Fatalf("B's tokens still carry %v a second after A gave the client the reader role", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("sign-in throttling is shared", func(t *testing.T) {
		acmeA.NewUser("bob@acme.test")
		for i := 0; i < server.DefaultBruteForceThreshold; i++ {
			acmeA.SignIn(t, a.Client(testenv.ClientOptions{NoRedirects: true, SourceIP: "127.0.0.31"}), "bob@acme.test", "wrong-password-1", "")
		}
		r := acmeB.SignIn(t, b.Client(testenv.ClientOptions{NoRedirects: true, SourceIP: "127.0.0.31"}), "bob@acme.test", testenv.Password, "")
		if r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("B, from the IP that failed %d times at A: status %d, want 429", server.DefaultBruteForceThreshold, r.StatusCode)
		}
		r = acmeB.SignIn(t, b.Client(testenv.ClientOptions{NoRedirects: true, SourceIP: "127.0.0.32"}), "bob@acme.test", testenv.Password, "")
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
			t.Errorf("B, from another IP: status %d, want a sign-in", r.StatusCode)
		}
	})
}
