package keys

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// Signing algorithms a tenant may use.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Channel is the cache pub/sub channel on which rotations are announced (the message is the tenant id).
const Channel = "keys"

// Store is what the key manager needs of storage: the tenant's keys, and the oldest key of the database for the
// secret-key check.
type Store interface {
	storage.Keys
	OldestSigningKey(ctx context.Context) (storage.SigningKey, error)
}

// KeyManager loads, caches and rotates each tenant's signing keys. A rotation on any replica (or in the CLI)
// is announced over the cache's pub/sub so every replica reloads at once; the TTL bounds staleness when no
// Redis connects the processes.
type KeyManager struct {
	store   Store
	secrets *Secrets
	cache   cache.Cache
	ttl     time.Duration
	now     func() time.Time
	// Unannounced, when set, reports whether rotations made by other processes may currently go unannounced
	// (Redis does not answer); cached keys are then trusted for unannouncedTTL at most.
	Unannounced func() bool
	// UnannouncedTTL is how long cached keys are trusted while Unannounced reports true (default 2 s).
	UnannouncedTTL time.Duration

	mu   sync.RWMutex
	sets map[string]*KeySet
	load sync.Mutex
}

// KeySet is one tenant's keys, ready to use.
type KeySet struct {
	Active *jose.JSONWebKey            // private signing key
	Public map[string]*jose.JSONWebKey // kid -> public key, active and still-published
	JWKS   []byte                      // serialised JWKS document
	loaded time.Time

	// verified remembers tokens whose signature this key set already checked (keyed by a hash of the whole
	// token), because resource servers introspect the same token on every call. It lives and dies with the
	// key set, so a rotation or reload starts it afresh; expiry is still checked on every use.
	mu       sync.Mutex
	verified map[[32]byte]*jwt.Token
}

const maxVerified = 10000

func (ks *KeySet) cached(h [32]byte) (*jwt.Token, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	t, ok := ks.verified[h]
	return t, ok
}

func (ks *KeySet) remember(h [32]byte, t *jwt.Token) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.verified == nil || len(ks.verified) >= maxVerified {
		ks.verified = make(map[[32]byte]*jwt.Token)
	}
	ks.verified[h] = t
}

// NewKeyManager returns a manager; call Subscribe to hear rotations from other processes.
func NewKeyManager(store Store, secrets *Secrets, c cache.Cache, ttl time.Duration) *KeyManager {
	return &KeyManager{store: store, secrets: secrets, cache: c, ttl: ttl, now: time.Now, sets: map[string]*KeySet{}}
}

// Subscribe listens for rotations announced by other processes until ctx ends.
func (m *KeyManager) Subscribe(ctx context.Context) (func(), error) {
	return m.cache.Subscribe(ctx, Channel, func(tenantID string) { m.Invalidate(tenantID) })
}

// Invalidate drops the cached keys of a tenant.
func (m *KeyManager) Invalidate(tenantID string) {
	m.mu.Lock()
	delete(m.sets, tenantID)
	m.mu.Unlock()
}

// Flush drops every tenant's cached keys.
func (m *KeyManager) Flush() {
	m.mu.Lock()
	m.sets = map[string]*KeySet{}
	m.mu.Unlock()
}

// maxAge is how long a loaded key set is trusted: the TTL, or UnannouncedTTL while rotations elsewhere may go
// unannounced (Unannounced reports true).
func (m *KeyManager) maxAge() time.Duration {
	if m.Unannounced != nil && m.Unannounced() {
		u := m.UnannouncedTTL
		if u <= 0 {
			u = 2 * time.Second
		}
		return min(m.ttl, u)
	}
	return m.ttl
}

// ForTenant returns the keys of the tenant in ctx.
func (m *KeyManager) ForTenant(ctx context.Context) (*KeySet, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return nil, storage.ErrNoTenant
	}
	now := m.now()
	m.mu.RLock()
	ks, ok := m.sets[tid]
	m.mu.RUnlock()
	if ok && now.Sub(ks.loaded) < m.maxAge() {
		return ks, nil
	}
	m.load.Lock()
	defer m.load.Unlock()
	m.mu.RLock()
	ks, ok = m.sets[tid]
	m.mu.RUnlock()
	if ok && now.Sub(ks.loaded) < m.maxAge() {
		return ks, nil
	}
	ks, err := m.loadSet(ctx, now)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.sets[tid] = ks
	m.mu.Unlock()
	return ks, nil
}

func (m *KeyManager) loadSet(ctx context.Context, now time.Time) (*KeySet, error) {
	rows, err := m.store.ListKeys(ctx, now.UTC())
	if err != nil {
		return nil, err
	}
	ks := &KeySet{Public: map[string]*jose.JSONWebKey{}, loaded: now}
	var pubs []jose.JSONWebKey
	for _, row := range rows {
		var pub jose.JSONWebKey
		if err := json.Unmarshal([]byte(row.PublicJWK), &pub); err != nil {
			return nil, fmt.Errorf("key %s: %w", row.ID, err)
		}
		ks.Public[row.ID] = &pub
		pubs = append(pubs, pub)
		if row.Active && ks.Active == nil {
			der, err := m.secrets.Decrypt("signing-key", row.PrivateKey)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", row.ID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", row.ID, err)
			}
			ks.Active = &jose.JSONWebKey{Key: priv, KeyID: row.ID, Algorithm: row.Alg, Use: "sig"}
		}
	}
	if ks.Active == nil {
		return nil, errors.New("tenant has no active signing key")
	}
	ks.JWKS, err = json.Marshal(jose.JSONWebKeySet{Keys: pubs})
	if err != nil {
		return nil, err
	}
	return ks, nil
}

// NewSigningKey generates a key for alg and returns the row to store (private key encrypted).
func (m *KeyManager) NewSigningKey(alg string) (storage.SigningKey, error) {
	priv, err := GenerateSigningKey(alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return m.SealSigningKey(priv, alg)
}

// Rotate makes a new active key for the tenant in ctx; the previous key stays published until retireUntil.
// It drops this process's cached keys; the caller announces the rotation to the others (Server.announce), which
// must not fail a rotation that is already stored.
func (m *KeyManager) Rotate(ctx context.Context, alg string, retireUntil time.Time) (storage.SigningKey, error) {
	k, err := m.NewSigningKey(alg)
	if err != nil {
		return k, err
	}
	if err := m.store.AddKey(ctx, k, retireUntil.UTC()); err != nil {
		return k, err
	}
	tid, _ := storage.TenantFromContext(ctx)
	m.Invalidate(tid)
	return k, nil
}

// Signer implements fosite's jwt.Signer with the tenant's keys: it signs with the active key and verifies
// with whichever published key the token's kid names, so tokens survive a rotation.
type Signer struct {
	Keys *KeyManager
}

var _ jwt.Signer = (*Signer)(nil)

// Generate signs claims with the tenant's active key.
func (s *Signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	ks, err := s.Keys.ForTenant(ctx)
	if err != nil {
		return "", "", err
	}
	tok := jwt.NewWithClaims(jose.SignatureAlgorithm(ks.Active.Algorithm), claims)
	if header != nil {
		for k, v := range header.ToMap() {
			tok.Header[k] = v
		}
	}
	tok.Header["kid"] = ks.Active.KeyID
	raw, err := tok.SignedString(ks.Active)
	if err != nil {
		return "", "", err
	}
	return raw, raw[strings.LastIndexByte(raw, '.')+1:], nil
}

// Decode parses and verifies a token signed by one of the tenant's published keys. Callers must treat the
// returned token as read-only: a verified token may be shared between requests.
func (s *Signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	ks, err := s.Keys.ForTenant(ctx)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(token))
	if t, ok := ks.cached(h); ok && t.Claims.Valid() == nil {
		return t, nil
	}
	t, err := jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := ks.Public[kid]
		if !ok {
			return nil, errors.New("unknown signing key")
		}
		if string(t.Method) != k.Algorithm {
			return nil, errors.New("algorithm does not match the key")
		}
		return k.Key, nil
	})
	if err == nil && t != nil && t.Valid() {
		ks.remember(h, t)
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
