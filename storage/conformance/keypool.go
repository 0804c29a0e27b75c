package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// testKeyPool: pooled keys are handed out oldest first and each once, whatever the number of concurrent takers
// (each on a connection of its own, as replicas are); a kid cannot be pooled twice; the pool needs no tenant.
func testKeyPool(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	prefix := "key_pool" + rnd(t)
	now := time.Now()
	const n, takers = 12, 20
	var keys []storage.PooledKey
	for i := range n {
		keys = append(keys, storage.PooledKey{ID: fmt.Sprintf("%s%02d", prefix, i), Alg: "RS256", PrivateKey: []byte{byte(i), 1, 2},
			PublicJWK: `{"kid":"` + fmt.Sprintf("%s%02d", prefix, i) + `"}`, CreatedAt: now.Add(time.Duration(i) * time.Second)})
	}
	mustNil(t, "AddPooledKeys", s.AddPooledKeys(ctx, keys))
	wantErr(t, "pooling a kid again", s.AddPooledKeys(ctx, keys[:1]), storage.ErrAlreadyExists)
	if c, err := s.CountPooledKeys(ctx, "RS256"); err != nil || c != n {
		t.Fatalf("CountPooledKeys = %d, %v; want %d", c, err, n)
	}
	if _, err := s.TakePooledKey(ctx, "ES256"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TakePooledKey(ES256) from a pool of RS256 keys: %v, want ErrNotFound", err)
	}
	first, err := s.TakePooledKey(ctx, "RS256")
	mustNil(t, "TakePooledKey", err)
	if first.ID != keys[0].ID || string(first.PrivateKey) != string(keys[0].PrivateKey) || first.PublicJWK != keys[0].PublicJWK {
		t.Fatalf("first key taken: %+v, want the oldest, %+v", first, keys[0])
	}

	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		got      = map[string]int{first.ID: 1}
		notFound int
		start    = make(chan struct{})
	)
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, err := s.TakePooledKey(ctx, "RS256")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got[k.ID]++
			case errors.Is(err, storage.ErrNotFound):
				notFound++
			default:
				t.Errorf("TakePooledKey: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(got) != n || notFound != takers-(n-1) {
		t.Errorf("%d concurrent takers of %d keys: %d distinct keys handed out, %d found none", takers, n-1, len(got)-1, notFound)
	}
	for id, c := range got {
		if c != 1 {
			t.Errorf("key %s handed out %d times", id, c)
		}
	}
	if c, err := s.CountPooledKeys(ctx, "RS256"); err != nil || c != 0 {
		t.Errorf("after every key was taken the pool holds %d (%v)", c, err)
	}

	// A taken key goes back only while no tenant holds it: one whose tenant committed after all (a commit whose
	// answer was lost) must never be handed out again.
	_, tctx := newTenant(t, s)
	held, unused := keys[1], keys[2]
	mustNil(t, "AddKey", s.AddKey(tctx, held.SigningKey(), at(time.Hour)))
	if back, err := s.ReturnPooledKey(ctx, held); err != nil || back {
		t.Errorf("ReturnPooledKey of a key a tenant holds = %v, %v; want false", back, err)
	}
	if back, err := s.ReturnPooledKey(ctx, unused); err != nil || !back {
		t.Errorf("ReturnPooledKey of a key no tenant holds = %v, %v; want true", back, err)
	}
	again, err := s.TakePooledKey(ctx, "RS256")
	mustNil(t, "TakePooledKey", err)
	if again.ID != unused.ID || string(again.PrivateKey) != string(unused.PrivateKey) {
		t.Errorf("the key given back is %+v, want %+v", again, unused)
	}
	if c, err := s.CountPooledKeys(ctx, "RS256"); err != nil || c != 0 {
		t.Errorf("the pool holds %d (%v), want none: the held key must not have gone back", c, err)
	}
}
