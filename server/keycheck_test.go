package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// TestCheckSecretKeyRace: processes that start at once against a fresh database, some with one secret key and
// some with another, agree on one key: every process with the key recorded first goes on, every other one
// gets ErrSecretKeyMismatch. On SQLite, and on Postgres when AUTHIO_TEST_POSTGRES_DSN is set.
func TestCheckSecretKeyRace(t *testing.T) {
	t.Parallel()
	dsns := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "authio.db") },
	}
	if dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"); dsn != "" {
		dsns["postgres"] = func(t *testing.T) string { return freshSchema(t, dsn) }
	}
	keys := []string{testenv.SecretKey, "another-valid-secret-key-0123456789-ABCDEFGHIJKL"}
	for name, newDSN := range dsns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := newDSN(t)
			const n = 6
			servers := make([]*server.Server, n)
			for i := range servers {
				st, err := storage.Open(dsn, storage.Options{MaxOpenConns: 2})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := st.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				cfg := testenv.Config(dsn)
				cfg.SecretKey = keys[i%2]
				servers[i] = server.NewWith(cfg, testenv.Logger(), st, cache.NewMemory())
				t.Cleanup(func() { servers[i].Close() })
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i, s := range servers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.CheckSecretKey(context.Background())
				}()
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					winner = i % 2
				} else if !errors.Is(err, server.ErrSecretKeyMismatch) {
					t.Fatalf("process %d: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("every process was refused")
			}
			for i, err := range errs {
				if wantOK := i%2 == winner; (err == nil) != wantOK {
					t.Errorf("process %d (key %d): %v, want accepted=%v (key %d was recorded)", i, i%2, err, wantOK, winner)
				}
			}
		})
	}
}
