package oauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/config"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// TestProviderGettersNeedTenancy: fosite's configuration getters read the tenant from the tenancy scope; called
// without one (or with a storage-only scope, which has no issuer) they fail loudly rather than answer an empty
// issuer that a token would carry.
func TestProviderGettersNeedTenancy(t *testing.T) {
	c := &providerConfig{Config: &fosite.Config{}, defaults: config.Config{AccessTokenTTL: time.Hour}}
	mustPanic := func(name string, ctx context.Context, call func(ctx context.Context)) {
		t.Helper()
		defer func() {
			p := recover()
			err, _ := p.(error)
			if !errors.Is(err, tenancy.ErrNoScope) {
				t.Errorf("%s: recovered %v, want a tenancy.ErrNoScope panic", name, p)
			}
		}()
		call(ctx)
	}
	getters := map[string]func(ctx context.Context){
		"GetAccessTokenIssuer":    func(ctx context.Context) { c.GetAccessTokenIssuer(ctx) },
		"GetIDTokenIssuer":        func(ctx context.Context) { c.GetIDTokenIssuer(ctx) },
		"GetTokenURLs":            func(ctx context.Context) { c.GetTokenURLs(ctx) },
		"GetAccessTokenLifespan":  func(ctx context.Context) { c.GetAccessTokenLifespan(ctx) },
		"GetRefreshTokenLifespan": func(ctx context.Context) { c.GetRefreshTokenLifespan(ctx) },
		"GetIDTokenLifespan":      func(ctx context.Context) { c.GetIDTokenLifespan(ctx) },
	}
	for name, call := range getters {
		mustPanic(name+" without a scope", context.Background(), call)
	}
	storageOnly := storage.WithTenant(context.Background(), "ten_a")
	for _, name := range []string{"GetAccessTokenIssuer", "GetIDTokenIssuer", "GetTokenURLs"} {
		mustPanic(name+" with a storage-only scope", storageOnly, getters[name])
	}
	if got := c.GetAccessTokenLifespan(storageOnly); got != time.Hour {
		t.Errorf("lifespan in a storage-only scope = %v, want the server default", got)
	}

	rec := &testTenant{storage.Tenant{ID: "ten_a", AccessTokenTTL: 60}}
	req := tenancy.With(context.Background(), tenancy.Scope{TenantID: "ten_a", Host: "acme.example",
		Issuer: "https://acme.example", Record: rec})
	if got := c.GetAccessTokenIssuer(req); got != "https://acme.example" {
		t.Errorf("issuer = %q", got)
	}
	if got := c.GetTokenURLs(req); len(got) != 1 || got[0] != "https://acme.example/oauth/token" {
		t.Errorf("token URLs = %v", got)
	}
	if got := c.GetAccessTokenLifespan(req); got != time.Minute {
		t.Errorf("tenant lifespan = %v, want the tenant's 60 s", got)
	}
}

// testTenant is a tenancy record as the server's resolver makes one (server.Tenant implements StoredTenant too).
type testTenant struct{ t storage.Tenant }

func (r *testTenant) StoredTenant() *storage.Tenant { return &r.t }
