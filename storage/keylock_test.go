package storage_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// TestRotationDoesNotWaitForNewRows: on Postgres a rotation (AddKey) serializes with the tenant's other writers
// through the tenant row's lock, but not with a transaction that only adds a row pointing at the tenant (a domain
// here), which holds KEY SHARE on that row until it ends: such a transaction may stay open a while (a slow
// import), and a rotation behind it would wait as long. SQLite has one writer at a time, so this is Postgres's.
func TestRotationDoesNotWaitForNewRows(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " is not set")
	}
	s := newPostgresStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ten := storage.Tenant{ID: "ten_keylock", Slug: "keylock", Name: "keylock", SigningAlg: "RS256", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateTenant(ctx, ten, []string{"keylock.localhost"}); err != nil {
		t.Fatal(err)
	}
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(ctx context.Context) error {
			if err := s.AddDomain(ctx, ten.ID, "auth.keylock.test"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	// Bounded, so that the old lock (FOR UPDATE, which waits for the open transaction) fails instead of hanging.
	rctx, cancel := context.WithTimeout(storage.WithTenant(ctx, ten.ID), 10*time.Second)
	defer cancel()
	key := storage.SigningKey{ID: "key_keylock", Alg: "RS256", PrivateKey: []byte("sealed"), PublicJWK: `{"kid":"key_keylock"}`,
		Active: true, CreatedAt: now}
	err := s.AddKey(rctx, key, now.Add(time.Hour))
	close(release)
	if err != nil {
		t.Errorf("a rotation beside an open transaction that adds a domain: %v, want it to go through", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the domain's transaction: %v", err)
	}
}
