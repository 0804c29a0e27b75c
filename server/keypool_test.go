package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// activeKid returns the kid of the active signing key of the tenant with id.
func activeKid(t *testing.T, s *server.Server, id string) string {
	t.Helper()
	ks, err := s.Store.ListKeys(storage.WithTenant(context.Background(), id), time.Now())
	if err != nil || len(ks) != 1 || !ks[0].Active {
		t.Fatalf("keys of %s: %+v %v, want one active key", id, ks, err)
	}
	return ks[0].ID
}

// poolHolds fails t unless the key pool of s holds n RSA keys.
func poolHolds(t *testing.T, s *server.Server, n int, when string) {
	t.Helper()
	if got, err := s.KeyPool.Ready(context.Background()); err != nil || got != n {
		t.Fatalf("%s: the key pool holds %d keys (%v), want %d", when, got, err, n)
	}
}

// importRS256 imports n RS256 tenants named prefix-i through s and returns their ids; every line must be created.
func importRS256(t *testing.T, s *server.Server, prefix string, n int) []string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"slug":"%s-%d","signing_alg":"RS256"}`+"\n", prefix, i)
	}
	var ids []string
	_, err := s.ImportTenants(context.Background(), strings.NewReader(b.String()), func(r server.ImportResult) error {
		if r.Status != server.ImportCreated {
			return fmt.Errorf("line %d: %s %+v", r.Line, r.Status, r.Error)
		}
		ids = append(ids, r.Tenant.ID)
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	return ids
}

// TestTenantsTakePooledKeys: an RS256 tenant, made one at a time or imported, takes a key from the key pool while
// it holds one, and a generated one after; ES256 tenants leave the pool alone; no two tenants share a key.
func TestTenantsTakePooledKeys(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		s, ctx := env.S, context.Background()
		if added, err := s.KeyPool.Fill(ctx, 3, 2); err != nil || added != 3 {
			t.Fatalf("Fill: %d %v", added, err)
		}
		es, err := s.CreateTenant(ctx, "pool-es", "", keys.AlgES256, nil)
		if err != nil {
			t.Fatal(err)
		}
		poolHolds(t, s, 3, "after an ES256 tenant")
		rs, err := s.CreateTenant(ctx, "pool-rs", "", keys.AlgRS256, []string{"auth.pool-rs.test"})
		if err != nil {
			t.Fatal(err)
		}
		poolHolds(t, s, 2, "after an RS256 tenant")
		// A line that fails (its domain is pool-rs's) gives its key back.
		_, err = s.ImportTenants(ctx, strings.NewReader(`{"slug":"pool-dup","domains":["auth.pool-rs.test"]}`+"\n"),
			func(r server.ImportResult) error {
				if r.Status != server.ImportFailed {
					t.Errorf("a line with another tenant's domain: %s", r.Status)
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		poolHolds(t, s, 2, "after a line that failed")
		ids := append([]string{es.ID, rs.ID}, importRS256(t, s, "pool-imp", 4)...)
		poolHolds(t, s, 0, "after importing 4 RS256 tenants from a pool of 2")
		kids := map[string]string{}
		for _, id := range ids {
			kid := activeKid(t, s, id)
			if other, ok := kids[kid]; ok {
				t.Fatalf("tenants %s and %s share key %s", other, id, kid)
			}
			kids[kid] = id
		}
		// The pooled key is the tenant's published one: its JWKS names it, and tokens verify against it.
		tn := env.Tenant("pool-rs")
		c := env.Client(testenv.ClientOptions{})
		if body := testenv.Get(t, c, tn.URL("/.well-known/jwks.json")).Body; !strings.Contains(body, activeKid(t, s, rs.ID)) {
			t.Errorf("pool-rs JWKS %s does not publish its key", body)
		}
	})
}

// poolGauge returns the authio_key_pool_keys metric of s; -1 when it is missing.
func poolGauge(t *testing.T, s *server.Server) float64 {
	t.Helper()
	fams, err := s.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "authio_key_pool_keys" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// TestRotationTakesPooledKey: rotating an RS256 tenant's key takes one from the key pool while it holds one (and
// generates one after); rotating an ES256 tenant's leaves the pool alone. The rotated key is the published,
// active one.
func TestRotationTakesPooledKey(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		s, ctx := env.S, context.Background()
		for slug, alg := range map[string]string{"rot-rs": keys.AlgRS256, "rot-es": keys.AlgES256} {
			if _, err := s.CreateTenant(ctx, slug, "", alg, nil); err != nil {
				t.Fatal(err)
			}
		}
		rs, es := env.Tenant("rot-rs").Stored(t), env.Tenant("rot-es").Stored(t)
		if added, err := s.KeyPool.Fill(ctx, 1, 1); err != nil || added != 1 {
			t.Fatalf("Fill: %d %v", added, err)
		}
		if n := poolGauge(t, s); n != 1 {
			t.Errorf("authio_key_pool_keys = %v, want 1", n)
		}
		if _, err := s.RotateKey(ctx, es); err != nil {
			t.Fatal(err)
		}
		poolHolds(t, s, 1, "after an ES256 rotation")
		// A rotation the database refuses (no such tenant) gives its pooled key back.
		ghost := storage.Tenant{ID: "ten_doesnotexist", Slug: "ghost", SigningAlg: keys.AlgRS256}
		if k, err := s.RotateKey(ctx, ghost); err == nil {
			t.Fatalf("rotating a tenant that does not exist made %s", k.ID)
		}
		poolHolds(t, s, 1, "after a refused RS256 rotation")
		c := env.Client(testenv.ClientOptions{})
		for i := range 2 { // the pooled key, then a generated one
			k, err := s.RotateKey(ctx, rs)
			if err != nil {
				t.Fatal(err)
			}
			poolHolds(t, s, 0, fmt.Sprintf("after RS256 rotation %d", i+1))
			if n := poolGauge(t, s); n != 0 {
				t.Errorf("authio_key_pool_keys = %v after rotation %d, want 0", n, i+1)
			}
			if k.Alg != keys.AlgRS256 || !k.Active {
				t.Errorf("rotation %d made %+v, want an active RS256 key", i+1, k)
			}
			if kids := testenv.KidsOf(t, env.Tenant("rot-rs").JWKS(t, c)); !slices.Contains(kids, k.ID) {
				t.Errorf("rotation %d: JWKS %v does not publish %s", i+1, kids, k.ID)
			}
		}
	})
}

// TestReplicasTakePooledKeysOnce: two replicas importing RS256 tenants at once from one key pool (one Postgres)
// never hand one key to two tenants, and every tenant is created.
func TestReplicasTakePooledKeysOnce(t *testing.T) {
	t.Parallel()
	a, b := twoReplicas(t)
	ctx := context.Background()
	if added, err := a.S.KeyPool.Fill(ctx, 10, 2); err != nil || added != 10 {
		t.Fatalf("Fill: %d %v", added, err)
	}
	poolHolds(t, b.S, 10, "the other replica's view of the filled pool")
	var (
		wg       sync.WaitGroup
		idsA     []string
		idsB     []string
		start    = make(chan struct{})
		replicaB = b.S
	)
	wg.Add(2)
	go func() { defer wg.Done(); <-start; idsA = importRS256(t, a.S, "rep-a", 8) }()
	go func() { defer wg.Done(); <-start; idsB = importRS256(t, replicaB, "rep-b", 8) }()
	close(start)
	wg.Wait()
	if len(idsA) != 8 || len(idsB) != 8 {
		t.Fatalf("created %d on A and %d on B, want 8 each", len(idsA), len(idsB))
	}
	poolHolds(t, a.S, 0, "after 16 RS256 tenants from a pool of 10")
	kids := map[string]string{}
	for _, id := range append(idsA, idsB...) {
		kid := activeKid(t, a.S, id)
		if other, ok := kids[kid]; ok {
			t.Fatalf("tenants %s and %s share key %s", other, id, kid)
		}
		kids[kid] = id
	}
}

// TestKeyPoolMetricWithoutDatabase: a scrape while the database is gone still answers, without the pool's count
// (which it could not read) but with the rest, and logs why.
func TestKeyPoolMetricWithoutDatabase(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	env := testenv.New(t, testenv.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if n := poolGauge(t, env.S); n != 0 {
		t.Fatalf("authio_key_pool_keys = %v with the database up, want 0", n)
	}
	if err := env.S.Store.Close(); err != nil {
		t.Fatal(err)
	}
	fams, err := env.S.Metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("a scrape without the database failed: %v", err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	if names["authio_key_pool_keys"] || !names["authio_key_pool_target_keys"] || !names["go_goroutines"] {
		t.Errorf("metrics without the database: pool count %v, target %v, Go's %v; want only the count missing",
			names["authio_key_pool_keys"], names["authio_key_pool_target_keys"], names["go_goroutines"])
	}
	if !strings.Contains(logs.String(), "counting the keys in the key pool failed") {
		t.Errorf("no error logged for the failed count: %s", logs.String())
	}
}

// lockedBuffer is a log destination the server's goroutines may write to while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
