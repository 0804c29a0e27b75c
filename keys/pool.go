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
	"fmt"

	"github.com/go-jose/go-jose/v3"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// RSA key generation is the one slow step of creating a tenant: an RSA-2048 key takes 50-100 ms of CPU (a random
// search for primes, so some take far longer), where an ES256 key takes about 15 µs. A KeyPool keeps a few RSA keys
// generated ahead of need by one background goroutine, so a tenant created through a running server takes a
// ready key and its creation costs milliseconds; the pool refills itself as keys are taken. Bulk imports generate
// what the pool cannot supply on several cores at once. Every key is handed out once.

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

// KeyPool hands out private signing keys, RSA ones from a few generated ahead of need. The zero size keeps none:
// every key is generated when asked for. Safe for concurrent use.
type KeyPool struct {
	rsa chan *rsa.PrivateKey
}

// NewKeyPool returns a pool that keeps up to size RSA keys ready once Run fills it.
func NewKeyPool(size int) *KeyPool {
	return &KeyPool{rsa: make(chan *rsa.PrivateKey, max(size, 0))}
}

// Size is how many RSA keys the pool keeps ready.
func (p *KeyPool) Size() int { return cap(p.rsa) }

// Ready is how many RSA keys are ready now.
func (p *KeyPool) Ready() int { return len(p.rsa) }

// Run fills the pool, one key at a time on one goroutine, and refills it as keys are taken, until ctx ends. A
// pool of size zero returns at once.
func (p *KeyPool) Run(ctx context.Context) {
	if cap(p.rsa) == 0 {
		return
	}
	for ctx.Err() == nil {
		k, err := rsa.GenerateKey(rand.Reader, RSABits)
		if err != nil {
			continue // crypto/rand does not fail on supported platforms; try again
		}
		select {
		case p.rsa <- k: // blocks while the pool is full
		case <-ctx.Done():
			return
		}
	}
}

// Take returns a private key for alg: a ready RSA key when there is one, else a freshly generated key.
func (p *KeyPool) Take(alg string) (crypto.Signer, error) {
	if alg == AlgRS256 && p != nil {
		select {
		case k := <-p.rsa:
			return k, nil
		default:
		}
	}
	return GenerateSigningKey(alg)
}
