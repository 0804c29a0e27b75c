package keys_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/authio/authio/keys"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// poolFixture is a key pool over a migrated SQLite store of the test's own.
func poolFixture(t *testing.T, target int) (*keys.KeyPool, *storage.Store, *keys.Secrets) {
	t.Helper()
	st, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	secrets := keys.NewSecrets("test-secret-key-of-at-least-32-bytes!")
	m := memo.New(memo.Options{})
	t.Cleanup(m.Close)
	return keys.NewKeyPool(st, keys.NewKeyManager(st, secrets, m), target), st, secrets
}

// opens checks that k is a sealed RSA-2048 signing key whose public JWK is its private key's and names its kid.
func opens(t *testing.T, secrets *keys.Secrets, k storage.SigningKey) *rsa.PrivateKey {
	t.Helper()
	der, err := secrets.Decrypt("signing-key", k.PrivateKey)
	if err != nil {
		t.Fatalf("key %s does not decrypt: %v", k.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	rk, ok := priv.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() != keys.RSABits {
		t.Fatalf("key %s is %T, want RSA-%d", k.ID, priv, keys.RSABits)
	}
	var pub jose.JSONWebKey
	if err := json.Unmarshal([]byte(k.PublicJWK), &pub); err != nil {
		t.Fatal(err)
	}
	if pub.KeyID != k.ID || pub.Algorithm != keys.AlgRS256 || pub.Key.(*rsa.PublicKey).N.Cmp(rk.N) != 0 {
		t.Fatalf("key %s: public JWK %s does not match", k.ID, k.PublicJWK)
	}
	return rk
}

func TestKeyPoolTakesPooledKeysOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _, secrets := poolFixture(t, 0)
	if n, err := p.Ready(ctx); err != nil || n != 0 {
		t.Fatalf("new pool holds %d (%v)", n, err)
	}
	// Empty: an RSA key is generated on the spot.
	k, err := p.Take(ctx, keys.AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	opens(t, secrets, k)

	added, err := p.Fill(ctx, 3, 2)
	if err != nil || added != 3 {
		t.Fatalf("Fill(3) added %d: %v", added, err)
	}
	// ES256 keys are cheap: never pooled, never taken from the RSA keys.
	e, err := p.Take(ctx, keys.AlgES256)
	if err != nil || e.Alg != keys.AlgES256 {
		t.Fatalf("Take(ES256) = %s %v", e.Alg, err)
	}
	if n, _ := p.Ready(ctx); n != 3 {
		t.Fatalf("after an ES256 key the pool holds %d, want 3", n)
	}
	// The three pooled keys come out once each, sealed, active and dated now; then keys are generated again.
	seen := map[string]bool{k.ID: true}
	for i := range 4 {
		before := time.Now().Add(-time.Second)
		k, err := p.Take(ctx, keys.AlgRS256)
		if err != nil {
			t.Fatal(err)
		}
		opens(t, secrets, k)
		if seen[k.ID] || !k.Active || k.CreatedAt.Before(before) {
			t.Fatalf("take %d: key %s seen %v, active %v, created %v", i, k.ID, seen[k.ID], k.Active, k.CreatedAt)
		}
		seen[k.ID] = true
		if n, _ := p.Ready(ctx); n != max(2-i, 0) {
			t.Fatalf("after take %d the pool holds %d", i, n)
		}
	}
	if _, err := p.Take(ctx, "HS256"); err == nil {
		t.Error("Take(HS256) succeeded")
	}
}

func TestKeyPoolRunKeepsTheTarget(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p, _, _ := poolFixture(t, 2)
	done := make(chan struct{})
	go func() {
		p.Run(ctx, func(err error) { t.Errorf("Run reported %v", err) })
		close(done)
	}()
	waitReady := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second) // a correctness wait, not a speed bound
		for {
			got, err := p.Ready(ctx)
			if err == nil && got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("pool holds %d keys (%v), want %d", got, err, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitReady(2)
	if _, err := p.Take(ctx, keys.AlgRS256); err != nil {
		t.Fatal(err)
	}
	waitReady(2) // refilled after a take
	cancel()
	<-done

	// Target 0: Run returns at once.
	zero, _, _ := poolFixture(t, 0)
	zero.Run(context.Background(), func(error) {})
}

func TestKeyPoolFillStopsWithItsContext(t *testing.T) {
	t.Parallel()
	p, _, _ := poolFixture(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	added, err := p.Fill(ctx, 50, 2)
	if !errors.Is(err, context.Canceled) || added != 0 {
		t.Errorf("Fill with an ended context added %d: %v", added, err)
	}
}

// failingPool is a key pool store whose writes fail, as a database that went away.
type failingPool struct{ storage.KeyPool }

func (failingPool) AddPooledKeys(context.Context, []storage.PooledKey) error {
	return errors.New("connection refused")
}

// TestKeyPoolFillStopsWhenTheStoreFails: once a batch cannot be stored, no more keys are generated (each costs
// 50-100 ms of CPU and could not be kept), and the failure is returned; a count that is not positive is an error.
func TestKeyPoolFillStopsWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	_, st, secrets := poolFixture(t, 0)
	km := keys.NewKeyManager(st, secrets, memo.New(memo.Options{}))
	var generated atomic.Int32
	keys.SetClock(km, func() time.Time { generated.Add(1); return time.Now() })
	p := keys.NewKeyPool(failingPool{st}, km, 0)
	added, err := p.Fill(context.Background(), 40, 1)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || added != 0 {
		t.Fatalf("Fill over a failing store: added %d, %v", added, err)
	}
	if n := generated.Load(); n > 3 {
		t.Errorf("%d of 40 keys were generated after the store failed on the first", n)
	}
	for _, n := range []int{0, -1} {
		if _, err := p.Fill(context.Background(), n, 1); err == nil {
			t.Errorf("Fill(%d) succeeded", n)
		}
	}
}
