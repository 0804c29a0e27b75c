package keys

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// Signing algorithms a tenant may use.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Store is what the key manager needs of storage: the tenant's keys, and the oldest key of the database for the
// secret-key check.
type Store interface {
	storage.Keys
	OldestSigningKey(ctx context.Context) (storage.SigningKey, error)
}

// KeyManager loads and rotates each tenant's signing keys, through the server's cache (server/memo): the
// published public keys with their JWKS document (memo.PublicKeys), and apart from them the active private key
// (memo.SigningKey), decrypted and parsed only when the tenant signs something. A rotation anywhere is a
// committed change to signing_keys, which invalidates both on every replica.
type KeyManager struct {
	store   Store
	secrets *Secrets
	memo    *memo.Memo
	now     func() time.Time
}

// PublicKeys are a tenant's published keys (the active one and those still published after a rotation).
type PublicKeys struct {
	Keys map[string]*jose.JSONWebKey // kid -> public key
	JWKS []byte                      // the serialized JWKS document (RFC 7517 §5)
}

// NewKeyManager returns a manager that keeps what it loads in m.
func NewKeyManager(store Store, secrets *Secrets, m *memo.Memo) *KeyManager {
	return &KeyManager{store: store, secrets: secrets, memo: m, now: time.Now}
}

// PublicKeys returns the published keys of the tenant in ctx. No private key is decrypted for them.
func (m *KeyManager) PublicKeys(ctx context.Context) (*PublicKeys, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return nil, storage.ErrNoTenant
	}
	return memo.Get(ctx, m.memo, memo.PublicKeys, tid, "", func(ctx context.Context) (*PublicKeys, int, error) {
		pk, err := m.loadPublic(ctx)
		return pk, memo.SizeOf(pk), err
	})
}

// JWKS returns the JWKS document of the tenant in ctx.
func (m *KeyManager) JWKS(ctx context.Context) ([]byte, error) {
	pk, err := m.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return pk.JWKS, nil
}

// SigningKey returns the active private key of the tenant in ctx, decrypted and parsed once per tenant for as
// long as the cache keeps it.
func (m *KeyManager) SigningKey(ctx context.Context) (*jose.JSONWebKey, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return nil, storage.ErrNoTenant
	}
	return memo.Get(ctx, m.memo, memo.SigningKey, tid, "", func(ctx context.Context) (*jose.JSONWebKey, int, error) {
		k, err := m.loadActive(ctx)
		return k, memo.SizeOf(k), err
	})
}

func (m *KeyManager) loadPublic(ctx context.Context) (*PublicKeys, error) {
	rows, err := m.store.ListKeys(ctx, m.now().UTC())
	if err != nil {
		return nil, err
	}
	pk := &PublicKeys{Keys: map[string]*jose.JSONWebKey{}}
	pubs := make([]jose.JSONWebKey, 0, len(rows))
	for _, row := range rows {
		var pub jose.JSONWebKey
		if err := json.Unmarshal([]byte(row.PublicJWK), &pub); err != nil {
			return nil, fmt.Errorf("key %s: %w", row.ID, err)
		}
		pk.Keys[row.ID] = &pub
		pubs = append(pubs, pub)
	}
	if len(pubs) == 0 {
		return nil, errors.New("tenant has no signing key")
	}
	pk.JWKS, err = json.Marshal(jose.JSONWebKeySet{Keys: pubs})
	if err != nil {
		return nil, err
	}
	return pk, nil
}

// loadActive decrypts and parses the tenant's active key: the one decryption a cold tenant costs.
func (m *KeyManager) loadActive(ctx context.Context) (*jose.JSONWebKey, error) {
	rows, err := m.store.ListKeys(ctx, m.now().UTC())
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		if !row.Active {
			continue
		}
		der, err := m.secrets.Decrypt("signing-key", row.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", row.ID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", row.ID, err)
		}
		return &jose.JSONWebKey{Key: priv, KeyID: row.ID, Algorithm: row.Alg, Use: "sig"}, nil
	}
	return nil, errors.New("tenant has no active signing key")
}

// NewSigningKey generates a key for alg and returns the row to store (private key encrypted).
func (m *KeyManager) NewSigningKey(alg string) (storage.SigningKey, error) {
	priv, err := GenerateSigningKey(alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return m.SealSigningKey(priv, alg)
}

// Rotate makes k, a sealed key (KeyPool.Take, NewSigningKey), the active key of the tenant in ctx; the previous
// key stays published until retireUntil. The committed change invalidates the tenant's cached keys on every
// replica. A store failure is returned as it is, and k is then no tenant's.
func (m *KeyManager) Rotate(ctx context.Context, k storage.SigningKey, retireUntil time.Time) error {
	return m.store.AddKey(ctx, k, retireUntil.UTC())
}

// Signer implements fosite's jwt.Signer with the tenant's keys: it signs with the active key and verifies
// with whichever published key the token's kid names, so tokens survive a rotation.
type Signer struct {
	Keys *KeyManager
}

var _ jwt.Signer = (*Signer)(nil)

// Generate signs claims with the tenant's active key.
func (s *Signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	active, err := s.Keys.SigningKey(ctx)
	if err != nil {
		return "", "", err
	}
	tok := jwt.NewWithClaims(jose.SignatureAlgorithm(active.Algorithm), claims)
	if header != nil {
		for k, v := range header.ToMap() {
			tok.Header[k] = v
		}
	}
	tok.Header["kid"] = active.KeyID
	raw, err := tok.SignedString(active)
	if err != nil {
		return "", "", err
	}
	return raw, raw[strings.LastIndexByte(raw, '.')+1:], nil
}

// Decode parses and verifies a token signed by one of the tenant's published keys. Callers must treat the
// returned token as read-only: a verified token is cached (memo.VerifiedToken, until the tenant's keys change)
// and shared between requests, because resource servers introspect the same token on every call; its expiry is
// checked on every use.
func (s *Signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return nil, storage.ErrNoTenant
	}
	h := sha256.Sum256([]byte(token))
	if t, ok := memo.Peek[*jwt.Token](ctx, s.Keys.memo, memo.VerifiedToken, tid, string(h[:])); ok && t.Claims.Valid() == nil {
		return t, nil
	}
	key := s.Keys.memo.Key(memo.VerifiedToken, tid, string(h[:]))
	pk, err := s.Keys.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	t, err := jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := pk.Keys[kid]
		if !ok {
			return nil, errors.New("unknown signing key")
		}
		if string(t.Method) != k.Algorithm {
			return nil, errors.New("algorithm does not match the key")
		}
		return k.Key, nil
	})
	if err == nil && t != nil && t.Valid() {
		s.Keys.memo.Put(ctx, key, t, memo.SizeOf(t)+len(key.ID))
	}
	return t, err
}

// Validate verifies token and returns its signature.
func (s *Signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// Hash returns SHA-256 of in.
func (s *Signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSignature returns the signature part of a compact JWT.
func (s *Signer) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("header, body and signature must all be set")
	}
	return parts[2], nil
}

// GetSigningMethodLength is the hash size used for at_hash/c_hash.
func (s *Signer) GetSigningMethodLength(context.Context) int { return sha256.Size }
