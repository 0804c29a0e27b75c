package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// TestRotationLostCommitKeepsKeyOutOfPool: when the answer to a rotation's COMMIT is lost (the connection drops
// after Postgres committed), the rotation fails with a 5xx-class error, but the pooled key it took is the tenant's
// now and must not go back to the pool, where the next tenant or rotation would take it again; and the change is
// announced to the caches as if it had committed, since it may have.
func TestRotationLostCommitKeepsKeyOutOfPool(t *testing.T) {
	t.Parallel()
	p := testenv.NewAnswerLoser(t)
	env := testenv.New(t, testenv.Options{Store: testenv.PostgresStore(t, p.DSN)})
	s, ctx := env.S, context.Background()
	for _, slug := range []string{"lost-a", "lost-b"} {
		if _, err := s.CreateTenant(ctx, slug, "", keys.AlgRS256, nil); err != nil {
			t.Fatal(err)
		}
	}
	a, b := env.Tenant("lost-a").Stored(t), env.Tenant("lost-b").Stored(t)
	if added, err := s.KeyPool.Fill(ctx, 1, 1); err != nil || added != 1 {
		t.Fatalf("Fill: %d %v", added, err)
	}
	c := env.Client(testenv.ClientOptions{})
	before := testenv.KidsOf(t, env.Tenant("lost-a").JWKS(t, c)) // cached until a change is announced
	p.Arm("commit")
	_, err := s.RotateKey(ctx, a)
	if p.Lost() != 1 || err == nil {
		t.Fatalf("rotation through the proxy: %v with %d answers lost, want a failure after one lost COMMIT answer", err, p.Lost())
	}
	ks, err := s.Store.ListKeys(storage.WithTenant(ctx, a.ID), time.Now())
	if err != nil || len(ks) != 2 || !ks[0].Active {
		t.Fatalf("lost-a's keys after the rotation: %d (%v), want the pooled key active and the old one retired", len(ks), err)
	}
	kid := ks[0].ID // the pooled key: its commit happened
	poolHolds(t, s, 0, "after a rotation whose COMMIT answer was lost")
	// The change is announced all the same: the cached key set is dropped, and the new key published at once
	// instead of after the cache's safety TTL.
	if kids := testenv.KidsOf(t, env.Tenant("lost-a").JWKS(t, c)); !slices.Contains(kids, kid) {
		t.Errorf("lost-a's JWKS after the rotation: %v (before: %v), want it to publish %s", kids, before, kid)
	}
	k, err := s.RotateKey(ctx, b)
	if err != nil || k.ID == kid {
		t.Fatalf("the next rotation: %+v %v, want a key of its own", k.ID, err)
	}
}
