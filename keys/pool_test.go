package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/authio/authio/keys"
)

// waitReady polls until the pool holds n keys; the deadline bounds a correctness wait, not speed.
func waitReady(t *testing.T, p *keys.KeyPool, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.Ready() != n {
		if time.Now().After(deadline) {
			t.Fatalf("pool holds %d keys, want %d", p.Ready(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyPool(t *testing.T) {
	t.Parallel()
	p := keys.NewKeyPool(2)
	if p.Size() != 2 || p.Ready() != 0 {
		t.Fatalf("new pool: size %d ready %d, want 2 and 0", p.Size(), p.Ready())
	}
	// Empty: a key is generated on the spot.
	k, err := p.Take(keys.AlgRS256)
	if _, ok := k.(*rsa.PrivateKey); err != nil || !ok || k.(*rsa.PrivateKey).N.BitLen() != keys.RSABits {
		t.Fatalf("Take(RS256) from an empty pool = %T, %v; want an RSA-%d key", k, err, keys.RSABits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitReady(t, p, 2)

	// ES256 keys are cheap: never pooled, never taken from the RSA keys.
	e, err := p.Take(keys.AlgES256)
	if _, ok := e.(*ecdsa.PrivateKey); err != nil || !ok || p.Ready() != 2 {
		t.Fatalf("Take(ES256) = %T, %v, ready %d; want an ECDSA key and the pool untouched", e, err, p.Ready())
	}
	// Taken keys are handed out once, and the pool refills.
	seen := map[string]bool{k.(*rsa.PrivateKey).N.String(): true}
	for i := 0; i < 3; i++ {
		k, err := p.Take(keys.AlgRS256)
		if err != nil {
			t.Fatal(err)
		}
		n := k.(*rsa.PrivateKey).N.String()
		if seen[n] {
			t.Fatal("the pool handed out a key twice")
		}
		seen[n] = true
	}
	waitReady(t, p, 2)
	cancel()
	<-done

	if _, err := p.Take("HS256"); err == nil {
		t.Error("Take(HS256) succeeded")
	}
	// A pool of size zero keeps nothing and Run returns at once; a nil pool still hands out keys.
	zero := keys.NewKeyPool(0)
	zero.Run(context.Background())
	var none *keys.KeyPool
	if k, err := none.Take(keys.AlgES256); err != nil || k == nil {
		t.Errorf("nil pool Take = %v, %v", k, err)
	}
}
