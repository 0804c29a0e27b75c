package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// testMeta: installation facts are recorded once and never overwritten, also when several processes race to
// record different values; the oldest signing key is found whatever its tenant.
func testMeta(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	name := "test-" + rnd(t) // the suite may share one database: a name of this test's own
	if _, err := s.MetaValue(ctx, name); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("MetaValue of a name never recorded: %v, want ErrNotFound", err)
	}
	now := time.Now().UTC()
	if got, err := s.RecordMeta(ctx, name, "first", now); err != nil || got != "first" {
		t.Fatalf("RecordMeta = %q, %v; want first", got, err)
	}
	if got, err := s.RecordMeta(ctx, name, "second", now); err != nil || got != "first" {
		t.Errorf("RecordMeta over a recorded value = %q, %v; want the first value back, unchanged", got, err)
	}
	if got, err := s.MetaValue(ctx, name); err != nil || got != "first" {
		t.Errorf("MetaValue = %q, %v; want first", got, err)
	}

	race := "test-" + rnd(t)
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.RecordMeta(ctx, race, "value-"+string(rune('a'+i)), now)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Errorf("racing RecordMeta %d = %q, %v; want every caller to get %q", i, got[i], errs[i], got[0])
		}
	}

	// The oldest key: created before every other key of any tenant.
	old := now.Add(-100 * 365 * 24 * time.Hour).Truncate(time.Second)
	var keyIDs []string
	for i, created := range []time.Time{now, old, old.Add(time.Hour)} {
		_, tctx := newTenant(t, s)
		k := storage.SigningKey{ID: "key_" + rnd(t), Alg: "RS256", PrivateKey: []byte{byte(i)}, PublicJWK: "{}", Active: true, CreatedAt: created}
		mustNil(t, "AddKey", s.AddKey(tctx, k, now))
		keyIDs = append(keyIDs, k.ID)
	}
	k, err := s.OldestSigningKey(ctx)
	if err != nil || k.ID != keyIDs[1] || len(k.PrivateKey) != 1 || k.PrivateKey[0] != 1 {
		t.Errorf("OldestSigningKey = %s, %v; want %s with its private key", k.ID, err, keyIDs[1])
	}
}
