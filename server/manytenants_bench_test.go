package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// BenchmarkManyTenants serves client-credentials tokens, JWKS and discovery for one tenant and for requests
// spread at random over many (AUTHIO_BENCH_TENANTS, default 2,000), in process through the real router, and
// reports the cache's hit rate once every tenant was served once, and what it holds per kind. The tenants share
// one signing key's material (each has its own key row, decrypted and parsed on its own): generating thousands
// of RSA keys is not what this measures. Run it with (Postgres when AUTHIO_TEST_POSTGRES_DSN is set):
//
//	AUTHIO_BENCH_TENANTS=10000 go test ./server -run '^$' -bench ManyTenants -benchtime 20000x
func BenchmarkManyTenants(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("AUTHIO_BENCH_TENANTS")); err == nil && v > 0 {
		n = v
	}
	opts := testenv.Options{}
	if dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"); dsn != "" {
		opts.Store = testenv.PostgresStore(b, dsn)
	}
	env := testenv.New(b, opts)
	s := env.S
	ctx := context.Background()
	template, err := s.Keys.NewSigningKey(keys.AlgRS256)
	if err != nil {
		b.Fatal(err)
	}
	hasher := keys.NewSecretHasher(s.Secrets)
	secretHash, _ := hasher.Hash(ctx, []byte("bench-secret"))
	type tenant struct{ host, client string }
	tenants := make([]tenant, n)
	for i := range tenants {
		now := time.Now().UTC()
		slug := fmt.Sprintf("t%05d", i)
		t := storage.Tenant{ID: ids.New("ten"), Slug: slug, Name: slug, SigningAlg: keys.AlgRS256, CreatedAt: now, UpdatedAt: now}
		if err := s.Store.CreateTenant(ctx, t, []string{slug + ".localhost"}); err != nil {
			b.Fatal(err)
		}
		tctx := storage.WithTenant(ctx, t.ID)
		k := template
		k.ID = ids.New("key")
		k.PublicJWK = strings.Replace(template.PublicJWK, template.ID, k.ID, 1)
		if err := s.Store.AddKey(tctx, k, now); err != nil {
			b.Fatal(err)
		}
		c := storage.Client{ID: ids.New("cli"), Name: "svc", Type: storage.ClientConfidential, SecretHash: string(secretHash),
			GrantTypes: []string{"client_credentials"}, CreatedAt: now, UpdatedAt: now}
		if err := s.Store.CreateClient(tctx, c); err != nil {
			b.Fatal(err)
		}
		tenants[i] = tenant{host: slug + ".localhost:" + env.Port, client: c.ID}
	}
	h := env.HTTP.Config.Handler
	serve := func(b *testing.B, req *http.Request) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %s", req.Method, req.URL, w.Code, w.Body)
		}
	}
	requests := map[string]func(t tenant) *http.Request{
		"token": func(t tenant) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "http://"+t.host+"/oauth/token",
				strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(t.client, "bench-secret")
			return req
		},
		"jwks": func(t tenant) *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://"+t.host+"/.well-known/jwks.json", nil)
		},
		"discovery": func(t tenant) *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://"+t.host+"/.well-known/openid-configuration", nil)
		},
	}
	for _, what := range []string{"token", "jwks", "discovery"} {
		for _, spread := range []int{1, n} {
			b.Run(fmt.Sprintf("%s/tenants=%d", what, spread), func(b *testing.B) {
				// Warm with every tenant, whatever the spread: the figures are those of a server that has seen them
				// all (as the scale scenario's sweep does), so one tenant and all run with the same heap and cache.
				for _, t := range tenants {
					serve(b, requests[what](t))
				}
				b.ResetTimer()
				before := s.Memo.Stats()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						serve(b, requests[what](tenants[rand.IntN(spread)]))
					}
				})
				after := s.Memo.Held()
				hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
				if hits+misses > 0 {
					b.ReportMetric(100*float64(hits)/float64(hits+misses), "hit%")
				}
				b.ReportMetric(float64(after.Bytes)/(1<<20), "cacheMiB")
				kinds := make([]string, 0, len(after.Held))
				for k := range after.Held {
					kinds = append(kinds, k)
				}
				sort.Strings(kinds)
				var line []string
				for _, k := range kinds {
					line = append(line, fmt.Sprintf("%s %d×%dB", k, after.Held[k], after.HeldBytes[k]/max(after.Held[k], 1)))
				}
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				b.Logf("cache: %s; live heap %d MiB", strings.Join(line, ", "), ms.HeapAlloc>>20)
			})
		}
	}
}
