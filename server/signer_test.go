package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// TestSignerVerificationCache: a token verified once is served from the key set's cache, but the cache never
// outlives the token's expiry, never accepts a different token string, and never crosses tenants.
func TestSignerVerificationCache(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	globex := env.NewTenant("globex")
	signer := &keys.Signer{Keys: env.S.Keys}
	actx := storage.WithTenant(context.Background(), acme.ID)
	gctx := storage.WithTenant(context.Background(), globex.ID)

	exp := time.Now().Add(2 * time.Second).Unix()
	raw, _, err := signer.Generate(actx, jwt.MapClaims{"sub": "user_1", "exp": exp}, &jwt.Headers{})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	for i := 0; i < 2; i++ { // the second decode comes from the cache
		tok, err := signer.Decode(actx, raw)
		if err != nil || tok.Claims["sub"] != "user_1" {
			t.Fatalf("decode %d: %v %v", i, err, tok)
		}
	}
	// A different string with the same signature part (payload swapped) must not be served from the cache.
	parts := strings.Split(raw, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "=") + "A." + parts[2]
	if _, err := signer.Decode(actx, forged); err == nil {
		t.Error("a token with an altered payload verified")
	}
	// Another tenant never accepts it, cached or not.
	if _, err := signer.Decode(gctx, raw); err == nil {
		t.Error("globex accepted a token signed by acme")
	}
	// Once expired, the cached verification no longer counts.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := signer.Decode(actx, raw)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired token still verified from the cache")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
