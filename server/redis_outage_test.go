package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
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

// outageDeadline bounds every wait for Redis to be noticed gone or back, or for a change to reach a replica. It
// is generous on purpose (a loaded CI machine), yet far below the cache's safety TTL with Redis (10 minutes), so
// a change seen within it was announced, not expired.
const outageDeadline = 15 * time.Second

// outageBackend is one database for the servers of an outage test: a SQLite file, or a fresh Postgres schema when
// AUTHIO_TEST_POSTGRES_DSN is set.
func outageBackend(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"); dsn != "" {
		return freshSchema(t, dsn)
	}
	st, dsn := testenv.NewSQLiteStore(t) // migrated
	st.Close()
	return dsn
}

// outageConfig is the configuration every process of an outage test shares, as replicas and the CLI do.
func outageConfig(dsn, redisURL string) config.Config {
	c := testenv.Config(dsn)
	c.RedisURL = redisURL
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	c.LogLevel = "error"
	return c
}

// outageServer starts a server over dsn and the private Redis, as `authio serve` would: the cache is opened with
// cache.Open and the "authio:" prefix, which the CLI's server.New uses too.
func outageServer(t *testing.T, dsn string, rs *testenv.RedisServer, port string) *testenv.Env {
	t.Helper()
	st, err := storage.Open(dsn, storage.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		st.Close()
		t.Fatalf("migrate: %v", err)
	}
	c, err := cache.Open(rs.URL(), "authio:")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	cfg := outageConfig(dsn, rs.URL())
	return testenv.New(t, testenv.Options{Store: st, Cache: c, Port: port, Configure: func(c *config.Config) { *c = cfg }})
}

// readiness fetches /readyz, which must answer 200 whatever Redis does.
func readiness(t *testing.T, e *testenv.Env) server.Readiness {
	t.Helper()
	r := testenv.Get(t, e.Client(testenv.ClientOptions{}), "http://127.0.0.1:"+e.Port+"/readyz")
	var rd server.Readiness
	if err := json.Unmarshal([]byte(r.Body), &rd); err != nil || r.StatusCode != http.StatusOK || rd.Status != "ready" {
		t.Fatalf("GET /readyz: status %d %q, want 200 and ready", r.StatusCode, r.Body)
	}
	return rd
}

// waitCache polls /readyz until it reports the cache in state want.
func waitCache(t *testing.T, e *testenv.Env, want string) {
	t.Helper()
	deadline := time.Now().Add(outageDeadline)
	for {
		rd := readiness(t, e)
		if rd.Checks["cache"] == want {
			if rd.Checks["database"] != "ok" {
				t.Errorf("readyz database = %q", rd.Checks["database"])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %+v %v after Redis changed, want cache %q", rd, outageDeadline, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signInAndGetTokens runs the authorization code flow on tn through c (one browser) and redeems the code at
// redeem (the same tenant on another replica, or itself).
func signInAndGetTokens(t *testing.T, tn, redeem *testenv.Tenant, c *http.Client, clientID string) testenv.Tokens {
	t.Helper()
	ar := testenv.NewAuthRequest(clientID, spaRedirect)
	code := ar.Code(t, tn, c, "alice@acme.test", testenv.Password)
	return testenv.TokensOf(t, ar.Exchange(t, redeem, c, code))
}

// rotateFromCLI rotates the tenant's key as `authio key rotate` does: a separate process (server.New, never
// started) announcing over Redis. It must succeed whether or not Redis answers.
func rotateFromCLI(t *testing.T, cfg config.Config, tenantID string) string {
	t.Helper()
	cli, err := server.New(cfg, testenv.Logger())
	if err != nil {
		t.Fatalf("server.New as the CLI does: %v", err)
	}
	defer cli.Close()
	tn, err := cli.Store.GetTenant(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := cli.RotateKey(context.Background(), tn)
	if err != nil {
		t.Fatalf("key rotate: %v", err)
	}
	return k.ID
}

// waitForKid polls tn's JWKS until it publishes kid.
func waitForKid(t *testing.T, tn *testenv.Tenant, c *http.Client, kid string) {
	t.Helper()
	deadline := time.Now().Add(outageDeadline)
	for !slices.Contains(testenv.KidsOf(t, tn.JWKS(t, c)), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s's JWKS still lacks %s %v after the rotation", tn.Issuer, kid, outageDeadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisOutage: with Redis killed, a server keeps signing users in and issuing tokens, throttles wrong
// passwords in-process, stays ready (cache degraded), and the CLI still works; when Redis returns, readyz says
// ok and announcements reach the server again.
func TestRedisOutage(t *testing.T) {
	rs := testenv.StartRedis(t)
	t.Parallel()
	dsn := outageBackend(t)
	env := outageServer(t, dsn, rs, "")
	cfg := outageConfig(dsn, rs.URL())
	acme := env.NewTenant("acme")
	acme.NewUser("alice@acme.test")
	spa := acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})
	apiKey := acme.APIKey(t)
	c := env.Client(testenv.ClientOptions{NoRedirects: true})
	waitCache(t, env, server.CacheOK)

	rs.Stop()
	waitCache(t, env, server.CacheDegraded)

	t.Run("sign-in and tokens work", func(t *testing.T) {
		tok := signInAndGetTokens(t, acme, acme, env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}}), spa.ClientID)
		testenv.VerifyJWT(t, tok.IDToken, acme.JWKS(t, c))
		testenv.TokensOf(t, acme.ClientCredentials(t, c, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
	})

	try := func(t *testing.T, ip, password string) int {
		t.Helper()
		page := testenv.Get(t, c, acme.URL("/login"))
		form := testenv.ParseForm(t, page.Body)
		form.Fields.Set("email", "alice@acme.test")
		form.Fields.Set("password", password)
		return testenv.PostForm(t, c, acme.URL("/login"), form.Fields, testenv.Header("Origin", acme.Issuer),
			testenv.Header("X-Forwarded-For", ip)).StatusCode
	}
	t.Run("wrong passwords are still throttled", func(t *testing.T) {
		// The Management API works too; the settings change cannot be announced and is not an error for that.
		if r := acme.API(t, c, "PATCH", "/tenants/settings", apiKey, map[string]any{"brute_force_threshold": 2}); r.StatusCode != http.StatusOK {
			t.Fatalf("PATCH /tenants/settings with Redis down: %d\n%s", r.StatusCode, r.Body)
		}
		for range 2 {
			if got := try(t, "203.0.113.5", "wrong-password-1"); got != http.StatusUnauthorized {
				t.Fatalf("wrong password: status %d, want 401", got)
			}
		}
		if got := try(t, "203.0.113.5", testenv.Password); got != http.StatusTooManyRequests {
			t.Errorf("after 2 failures with a threshold of 2: status %d, want 429", got)
		}
		if got := try(t, "203.0.113.6", testenv.Password); got != http.StatusSeeOther && got != http.StatusOK {
			t.Errorf("from another IP: status %d, want a sign-in", got)
		}
	})

	t.Run("the CLI works", func(t *testing.T) {
		waitForKid(t, acme, c, rotateFromCLI(t, cfg, acme.ID)) // seen when the short TTL of the outage ends
	})

	rs.Start()
	waitCache(t, env, server.CacheOK)

	t.Run("a block made during the outage outlives it", func(t *testing.T) {
		if got := try(t, "203.0.113.5", testenv.Password); got != http.StatusTooManyRequests {
			t.Errorf("status %d, want 429", got)
		}
	})

	t.Run("announcements reach the server again", func(t *testing.T) {
		// Twice: the first may be served by the flush that follows a resubscription; the second can only
		// arrive as an announcement (the keys are cached until invalidated now).
		for range 2 {
			testenv.KidsOf(t, acme.JWKS(t, c))
			waitForKid(t, acme, c, rotateFromCLI(t, cfg, acme.ID))
		}
	})
}

// TestReplicasRedisOutage runs two replicas over one Postgres schema and a private Redis: with Redis down both
// sign users in, issue tokens and stay ready; when it returns, changes made through one reach the other again.
func TestReplicasRedisOutage(t *testing.T) {
	dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN")
	if dsn == "" || os.Getenv("AUTHIO_TEST_REDIS_URL") == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN and AUTHIO_TEST_REDIS_URL to run the replica tests against real services")
	}
	rs := testenv.StartRedis(t)
	t.Parallel()
	schemaDSN := freshSchema(t, dsn)
	a := outageServer(t, schemaDSN, rs, "")
	b := outageServer(t, schemaDSN, rs, a.Port)
	acmeA := a.NewTenant("acme")
	acmeB := b.Tenant("acme")
	acmeA.NewUser("alice@acme.test")
	spa := acmeA.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	svc := acmeA.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})
	apiKey := acmeA.APIKey(t)
	ca, cb := a.Client(testenv.ClientOptions{NoRedirects: true}), b.Client(testenv.ClientOptions{NoRedirects: true})
	waitCache(t, a, server.CacheOK)
	waitCache(t, b, server.CacheOK)

	rs.Stop()
	waitCache(t, a, server.CacheDegraded)
	waitCache(t, b, server.CacheDegraded)

	t.Run("both replicas sign in and issue tokens", func(t *testing.T) {
		for _, p := range []struct{ signIn, redeem *testenv.Tenant }{{acmeA, acmeB}, {acmeB, acmeA}} {
			browser := p.signIn.Env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
			tok := signInAndGetTokens(t, p.signIn, p.redeem, browser, spa.ClientID)
			testenv.VerifyJWT(t, tok.AccessToken, p.redeem.JWKS(t, browser))
			cc := testenv.TokensOf(t, p.signIn.ClientCredentials(t, browser, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
			if got := p.redeem.Introspect(t, browser, svc.ClientID, svc.ClientSecret, cc.AccessToken); got["active"] != true {
				t.Errorf("token from %s introspected at %s: %v", p.signIn.Issuer, p.redeem.Env, got)
			}
		}
		readiness(t, a)
		readiness(t, b)
	})

	rs.Start()
	waitCache(t, a, server.CacheOK)
	waitCache(t, b, server.CacheOK)

	t.Run("a key rotated through A reaches B", func(t *testing.T) {
		for range 2 { // the second can only arrive as an announcement, see TestRedisOutage
			testenv.KidsOf(t, acmeB.JWKS(t, cb))
			k, err := a.S.RotateKey(context.Background(), acmeA.Stored(t))
			if err != nil {
				t.Fatal(err)
			}
			waitForKid(t, acmeB, cb, k.ID)
		}
	})

	t.Run("a role given to a client through A counts at B", func(t *testing.T) {
		rs, err := a.S.CreateResourceServer(acmeA.Ctx, directory.ResourceServerSpec{Identifier: api, Name: "API", Scopes: []storage.Scope{{Value: "read"}}})
		if err != nil {
			t.Fatal(err)
		}
		role, err := a.S.CreateRole(acmeA.Ctx, directory.RoleSpec{Name: "reader", Permissions: []storage.Permission{{ResourceServer: rs.Identifier, Name: "read"}}})
		if err != nil {
			t.Fatal(err)
		}
		perms := func() []any {
			tok := testenv.TokensOf(t, acmeB.ClientCredentials(t, cb, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}}))
			_, claims := testenv.DecodeJWT(t, tok.AccessToken)
			p, _ := claims["permissions"].([]any)
			return p
		}
		if got := perms(); len(got) != 0 {
			t.Fatalf("permissions before the assignment = %v", got) // B has the grants cached now, until invalidated
		}
		if _, err := a.S.AssignClientRoles(acmeA.Ctx, svc.ClientID, []string{role.ID}, storage.SourceManual); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(outageDeadline)
		for got := perms(); !slices.Equal(got, []any{"read"}); got = perms() {
			if time.Now().After(deadline) {
				t.Fatalf("B's tokens still carry %v %v after A gave the client a role", got, outageDeadline)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("tenant settings changed through A count at B", func(t *testing.T) {
		if got := acmeB.SignIn(t, cb, "alice@acme.test", testenv.Password, ""); got.StatusCode != http.StatusOK {
			t.Fatalf("sign-in at B: %d", got.StatusCode) // B has the tenant cached now, until invalidated
		}
		if r := acmeA.API(t, ca, "PATCH", "/tenants/settings", apiKey, map[string]any{"brute_force_threshold": 1}); r.StatusCode != http.StatusOK {
			t.Fatalf("PATCH at A: %d\n%s", r.StatusCode, r.Body)
		}
		deadline := time.Now().Add(outageDeadline)
		for i := 0; ; i++ {
			// One failure for a fresh account blocks it at a threshold of 1, and not at the default of 10.
			email := "nobody" + string(rune('a'+i%26)) + testenv.RandomString(4) + "@acme.test"
			acmeB.SignIn(t, cb, email, "wrong-password-1", "")
			if acmeB.SignIn(t, cb, email, "wrong-password-1", "").StatusCode == http.StatusTooManyRequests {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B still uses the old threshold %v after A changed it", outageDeadline)
			}
		}
	})
}
