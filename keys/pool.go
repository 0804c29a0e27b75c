package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// RSA key generation is the one slow step of creating a tenant: an RSA-2048 key takes 50-100 ms of CPU (a random
// search for primes, so some take far longer), where an ES256 key takes about 15 µs; no choice of library makes
// it cheap, so it is done ahead of need. A KeyPool hands out RSA keys from the store's key pool (storage.KeyPool:
// generated beforehand, sealed, shared by every process on the database and kept across restarts), so a tenant
// created while the pool holds a key costs milliseconds. A running server keeps the pool at its target in the
// background, on one core; an operator preparing a burst fills it ahead (Fill, `authio key pool fill`, on every
// core). Every key is handed out once.

// RSABits is the size of generated RSA signing keys.
const RSABits = 2048

// GenerateSigningKey generates a fresh private key for alg (RS256: RSA-2048, ES256: P-256).
func GenerateSigningKey(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, RSABits)
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("unsupported signing algorithm %q (RS256 or ES256)", alg)
}

// SealSigningKey returns the row to store for priv, a key of alg: a new kid, the private key encrypted under the
// secret key, the public JWK, active.
func (m *KeyManager) SealSigningKey(priv crypto.Signer, alg string) (storage.SigningKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, err
	}
	enc, err := m.secrets.Encrypt("signing-key", der)
	if err != nil {
		return storage.SigningKey{}, err
	}
	id := ids.New("key")
	pub := jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: alg, Use: "sig"}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{ID: id, Alg: alg, PrivateKey: enc, PublicJWK: string(pubJSON), Active: true,
		CreatedAt: m.now().UTC()}, nil
}

// KeyPool hands out sealed signing keys for new tenants: RSA ones from the stored pool while it holds one, every
// other one (and RSA when the pool is empty) generated on the spot. Safe for concurrent use.
type KeyPool struct {
	store  storage.KeyPool
	km     *KeyManager
	target int
	wake   chan struct{} // a key was taken here: Run looks at the pool again
}

// NewKeyPool returns a pool over store whose Run keeps target RSA keys ready (0: Run does nothing, and keys are
// still taken while the store holds some); km seals the keys it generates.
func NewKeyPool(store storage.KeyPool, km *KeyManager, target int) *KeyPool {
	return &KeyPool{store: store, km: km, target: max(target, 0), wake: make(chan struct{}, 1)}
}

// Target is how many RSA keys Run keeps in the stored pool.
func (p *KeyPool) Target() int { return p.target }

// Ready returns how many RSA keys the stored pool holds now.
func (p *KeyPool) Ready(ctx context.Context) (int, error) {
	return p.store.CountPooledKeys(ctx, AlgRS256)
}

// Take returns a sealed signing key for alg, active, created now (to store with storage.Keys.AddKey): a pooled one
// for RS256 while the pool holds one, else a freshly generated one. A store failure is returned as it is.
func (p *KeyPool) Take(ctx context.Context, alg string) (storage.SigningKey, error) {
	if alg == AlgRS256 {
		k, err := p.store.TakePooledKey(ctx, alg)
		if err == nil {
			select {
			case p.wake <- struct{}{}:
			default:
			}
			sk := k.SigningKey()
			sk.CreatedAt = p.km.now().UTC()
			return sk, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return storage.SigningKey{}, fmt.Errorf("take a pooled signing key: %w", err)
		}
	}
	return p.km.NewSigningKey(alg)
}

// Return puts k, a key Take handed out that no tenant got (its tenant's creation or rotation was refused), back
// into the pool, so that a refused change costs no key. A key some tenant holds after all is not put back
// (storage.KeyPool.ReturnPooledKey checks in the same statement); Return reports whether k went back. Only RS256
// keys are pooled; others are dropped.
func (p *KeyPool) Return(ctx context.Context, k storage.SigningKey) (bool, error) {
	if k.Alg != AlgRS256 {
		return false, nil
	}
	return p.store.ReturnPooledKey(ctx, storage.PooledKey{ID: k.ID, Alg: k.Alg, PrivateKey: k.PrivateKey,
		PublicJWK: k.PublicJWK, CreatedAt: k.CreatedAt})
}

// poolCheck is how often Run looks at the stored pool when nothing was taken here (the CLI and other replicas take
// keys too): a key they take is made up within about this long.
const poolCheck = 10 * time.Second

// Run keeps the stored pool at Target RSA keys until ctx ends: while it is short, it generates one key at a time
// on this goroutine (one core at most) and adds it; then it waits until a key is taken here or poolCheck has
// passed. A store failure goes to report, and Run tries again after poolCheck. Several processes running it on
// one database may together add a few keys more than Target.
func (p *KeyPool) Run(ctx context.Context, report func(error)) {
	if p.target == 0 {
		return
	}
	for ctx.Err() == nil {
		n, err := p.store.CountPooledKeys(ctx, AlgRS256)
		if err == nil && n < p.target {
			_, err = p.Fill(ctx, 1, 1)
			if err == nil {
				continue
			}
		}
		if err != nil && ctx.Err() == nil {
			report(err)
		}
		timer := time.NewTimer(poolCheck)
		select {
		case <-p.wake:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
}

// Fill generates n RSA keys on workers goroutines (at least one) and adds them to the stored pool, in batches of
// up to 50; it returns how many it added before ctx ended or the store failed.
func (p *KeyPool) Fill(ctx context.Context, n, workers int) (int, error) {
	if n <= 0 {
		return 0, fmt.Errorf("keys: cannot fill the pool with %d keys", n)
	}
	workers = max(1, min(workers, n))
	// The generators stop as soon as the store fails: the keys they would make could not be kept.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	made := make(chan storage.PooledKey, workers)
	todo := make(chan struct{}, n)
	for range n {
		todo <- struct{}{}
	}
	close(todo)
	var wg sync.WaitGroup
	genErr := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range todo {
				if ctx.Err() != nil {
					return
				}
				k, err := p.km.NewSigningKey(AlgRS256)
				if err != nil {
					genErr <- err
					return
				}
				made <- storage.PooledKey{ID: k.ID, Alg: k.Alg, PrivateKey: k.PrivateKey, PublicJWK: k.PublicJWK, CreatedAt: k.CreatedAt}
			}
		}()
	}
	go func() { wg.Wait(); close(made) }()
	added := 0
	var batch []storage.PooledKey
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.store.AddPooledKeys(ctx, batch); err != nil {
			return fmt.Errorf("add keys to the pool: %w", err)
		}
		added += len(batch)
		batch = batch[:0]
		return nil
	}
	var failed error
	for k := range made {
		if failed != nil {
			continue // drain, so the generators end
		}
		batch = append(batch, k)
		if len(batch) == 50 || len(made) == 0 { // a full batch, or none other ready: store what there is
			if failed = flush(); failed != nil {
				cancel()
			}
		}
	}
	if failed == nil {
		failed = flush()
	}
	select {
	case err := <-genErr:
		if failed == nil {
			failed = err
		}
	default:
	}
	if err := context.Cause(ctx); failed == nil && err != nil {
		failed = err
	}
	return added, failed
}
