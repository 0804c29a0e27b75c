package storage_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestLostAnswerStillAnnounced: a write whose answer is lost (the connection drops after Postgres did it) fails
// as a database failure, yet it is announced to the commit hooks as a done one is, so caches do not go on serving
// what it replaced: a write made alone and a transaction whose COMMIT answer is lost alike.
func TestLostAnswerStillAnnounced(t *testing.T) {
	p := testenv.NewAnswerLoser(t)
	s := testenv.PostgresStore(t, p.DSN)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		seen []storage.Change
	)
	defer s.OnCommit([]string{"tenant_domains"}, func(_ context.Context, cs []storage.Change) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, cs...)
	})()
	now := time.Now().UTC()
	ten := storage.Tenant{ID: "ten_lostanswer", Slug: "lostanswer", Name: "lostanswer", SigningAlg: "RS256", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateTenant(ctx, ten, []string{"lostanswer.localhost"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, arm, domain string
		write             func(domain string) error
	}{
		// The statement runs on the message that carries its values (the domain); its text went ahead, prepared.
		{"a write alone", "alone.lostanswer.test", "alone.lostanswer.test", func(d string) error { return s.AddDomain(ctx, ten.ID, d) }},
		{"a transaction's COMMIT", "commit", "tx.lostanswer.test", func(d string) error {
			return s.InTx(ctx, func(ctx context.Context) error { return s.AddDomain(ctx, ten.ID, d) })
		}},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		p.Arm(tc.arm)
		err := tc.write(tc.domain)
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("%s: %v, want ErrUnavailable (the answer was lost)", tc.name, err)
		}
		ds, err := s.ListDomains(ctx, ten.ID)
		if err != nil || !slices.Contains(ds, tc.domain) {
			t.Fatalf("%s: domains %v (%v): the write did not take effect, so the test proves nothing", tc.name, ds, err)
		}
		mu.Lock()
		announced := slices.ContainsFunc(seen, func(c storage.Change) bool { return c.Table == "tenant_domains" && c.Tenant == ten.ID })
		mu.Unlock()
		if !announced {
			t.Errorf("%s: the write whose answer was lost was not announced (%+v)", tc.name, seen)
		}
	}
}
