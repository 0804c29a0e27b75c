package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

const (
	spaRedirect = "https://app.acme.test/callback"
	api         = "https://api.acme.test"
)

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	user := acme.NewUser("alice@acme.test")
	spa := acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}})
	c := env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	ctx := oidc.ClientContext(context.Background(), c)
	m2m := func() string {
		return testenv.TokensOf(t, acme.ClientCredentials(t, c, svc.ClientID, svc.ClientSecret, url.Values{"audience": {api}})).AccessToken
	}

	ar := testenv.NewAuthRequest(spa.ClientID, spaRedirect)
	before := testenv.TokensOf(t, ar.Exchange(t, acme, c, ar.Code(t, acme, c, "alice@acme.test", testenv.Password)))
	beforeM2M := m2m()
	oldKids := testenv.KidsOf(t, acme.JWKS(t, c))
	if len(oldKids) != 1 {
		t.Fatalf("JWKS before rotation: %v, want one key", oldKids)
	}
	oldKid := oldKids[0]

	rotated, err := env.S.RotateKey(context.Background(), acme.Stored(t))
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	newKid := rotated.ID
	if newKid == oldKid {
		t.Fatal("rotation kept the kid")
	}

	jwks := acme.JWKS(t, c)
	if kids := testenv.KidsOf(t, jwks); !slices.Contains(kids, oldKid) || !slices.Contains(kids, newKid) || len(kids) != 2 {
		t.Fatalf("JWKS after rotation: %v, want the old %s and the new %s", kids, oldKid, newKid)
	}

	t.Run("tokens signed before rotation still verify", func(t *testing.T) {
		for name, tok := range map[string]string{"access token": before.AccessToken, "client credentials token": beforeM2M, "ID token": before.IDToken} {
			if kid, _ := testenv.VerifyJWT(t, tok, jwks); kid != oldKid {
				t.Errorf("%s kid = %s, want the old %s", name, kid, oldKid)
			}
		}
		provider, err := oidc.NewProvider(ctx, acme.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := provider.Verifier(&oidc.Config{ClientID: spa.ClientID}).Verify(ctx, before.IDToken); err != nil {
			t.Errorf("go-oidc rejects the pre-rotation ID token: %v", err)
		}
		if got := acme.Introspect(t, c, svc.ClientID, svc.ClientSecret, before.AccessToken); got["active"] != true {
			t.Errorf("pre-rotation access token introspects as %v", got)
		}
		if r := testenv.Get(t, c, acme.URL("/userinfo"), testenv.Bearer(before.AccessToken)); r.StatusCode != http.StatusOK || r.JSON(t)["sub"] != user.ID {
			t.Errorf("userinfo with the pre-rotation token: %d %s", r.StatusCode, r.Body)
		}
	})

	t.Run("new tokens use the new key", func(t *testing.T) {
		if kid, _ := testenv.VerifyJWT(t, m2m(), jwks); kid != newKid {
			t.Errorf("client credentials token kid = %s, want %s", kid, newKid)
		}
		refreshed := testenv.TokensOf(t, testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {before.RefreshToken}, "client_id": {spa.ClientID}}))
		for name, tok := range map[string]string{"access token": refreshed.AccessToken, "ID token": refreshed.IDToken} {
			if kid, _ := testenv.VerifyJWT(t, tok, jwks); kid != newKid {
				t.Errorf("refreshed %s kid = %s, want %s", name, kid, newKid)
			}
		}
	})

	t.Run("a second rotation keeps every unexpired key", func(t *testing.T) {
		third, err := env.S.RotateKey(context.Background(), acme.Stored(t))
		if err != nil {
			t.Fatal(err)
		}
		kids := testenv.KidsOf(t, acme.JWKS(t, c))
		for _, k := range []string{oldKid, newKid, third.ID} {
			if !slices.Contains(kids, k) {
				t.Errorf("JWKS %v lacks %s", kids, k)
			}
		}
		if kid, _ := testenv.VerifyJWT(t, m2m(), acme.JWKS(t, c)); kid != third.ID {
			t.Errorf("new token kid = %s, want %s", kid, third.ID)
		}
	})
}

func TestES256Tenant(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if _, err := env.S.CreateTenant(context.Background(), "initech", "Initech", keys.AlgES256, nil); err != nil {
		t.Fatal(err)
	}
	tn := env.Tenant("initech")
	tn.NewUser("peter@initech.test")
	const redirect = "https://app.initech.test/callback"
	spa := tn.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{redirect}})
	c := env.Client(testenv.ClientOptions{StopAt: []string{redirect}})
	ctx := oidc.ClientContext(context.Background(), c)

	provider, err := oidc.NewProvider(ctx, tn.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil || !slices.Equal(meta.Algs, []string{"ES256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v (%v), want [ES256]", meta.Algs, err)
	}
	ar := testenv.NewAuthRequest(spa.ClientID, redirect)
	tok := testenv.TokensOf(t, ar.Exchange(t, tn, c, ar.Code(t, tn, c, "peter@initech.test", testenv.Password)))
	for name, raw := range map[string]string{"ID token": tok.IDToken, "access token": tok.AccessToken} {
		if h, _ := testenv.DecodeJWT(t, raw); h["alg"] != "ES256" {
			t.Errorf("%s alg = %v, want ES256", name, h["alg"])
		}
		testenv.VerifyJWT(t, raw, tn.JWKS(t, c))
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: spa.ClientID, SupportedSigningAlgs: []string{oidc.ES256}}).Verify(ctx, tok.IDToken); err != nil {
		t.Errorf("verify ES256 ID token: %v", err)
	}
	k, err := env.S.RotateKey(context.Background(), tn.Stored(t))
	if err != nil || k.Alg != "ES256" {
		t.Errorf("rotation of an ES256 tenant: alg %q, err %v", k.Alg, err)
	}
}

// TestRotationByAnotherProcess: `authio key rotate` runs in its own process with its own Server; without Redis
// nothing announces the rotation, so the serving process must pick the new key up once the safety TTL of its
// cache (AUTHIO_CACHE_TTL, a second here) has passed: a lost invalidation heals.
func TestRotationByAnotherProcess(t *testing.T) {
	t.Parallel()
	store, dsn := testenv.NewSQLiteStore(t)
	env := testenv.New(t, testenv.Options{Store: store, Configure: func(c *config.Config) { c.CacheTTL = time.Second }})
	acme := env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{})
	acme.JWKS(t, c) // load the keys into the server's cache

	cliStore, err := storage.Open(dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cli := server.NewWith(testenv.Config(dsn), testenv.Logger(), cliStore, cache.NewMemory())
	defer cli.Close()
	k, err := cli.RotateKey(context.Background(), acme.Stored(t))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(testenv.KidsOf(t, acme.JWKS(t, c)), k.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never published key %s rotated by another process", k.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRotationWindowCoversResourceServerLifetimes: a retired key stays published as long as the longest-lived
// token it may have signed, and a resource server may give tokens a longer life than the tenant's default.
func TestRotationWindowCoversResourceServerLifetimes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	expiry := func() time.Duration {
		t.Helper()
		old := acme.KeyIDs(t)[0]
		if _, err := env.S.RotateKey(context.Background(), acme.Stored(t)); err != nil {
			t.Fatal(err)
		}
		ks, err := env.S.Store.ListKeys(acme.Ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if k.ID == old && k.ExpiresAt != nil {
				return time.Until(*k.ExpiresAt)
			}
		}
		t.Fatalf("retired key %s is not published with an expiry: %+v", old, ks)
		return 0
	}
	// Tenant defaults (1 h access and ID tokens) and the Management API (1 h): about 1 h 5 min.
	if d := expiry(); d < time.Hour || d > time.Hour+6*time.Minute {
		t.Errorf("retired key published for %v, want about 1h5m", d)
	}
	now := time.Now().UTC()
	if err := env.S.Store.CreateResourceServer(acme.Ctx, storage.ResourceServer{ID: ids.New("api"), Identifier: "https://long.acme.test",
		Name: "Long", TokenLifetime: 6 * 3600, RefreshLifetime: 3600, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if d := expiry(); d < 6*time.Hour || d > 6*time.Hour+6*time.Minute {
		t.Errorf("retired key published for %v, want about 6h5m (the resource server's token lifetime)", d)
	}
}
