package directory

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// API key prefixes: live keys for production, test keys for everything else. Both grant full Management API
// access to their tenant.
const (
	APIKeyLivePrefix = "sk_live_"
	APIKeyTestPrefix = "sk_test_"
)

// ErrInvalidAPIKey is the one answer for a malformed, unknown, deleted or other tenant's API key.
var ErrInvalidAPIKey = errors.New("invalid API key")

// IsAPIKey reports whether a bearer credential is shaped like an API key (rather than an access token).
func IsAPIKey(v string) bool {
	return strings.HasPrefix(v, APIKeyLivePrefix) || strings.HasPrefix(v, APIKeyTestPrefix)
}

// CreatedAPIKey is a new API key; Key is shown only here.
type CreatedAPIKey struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
	Mode string `json:"mode"`
}

// apiKeyHash is the keyed hash stored in place of an API key. Keys carry 256 random bits, so a fast keyed hash
// is as good as a slow one and keeps authentication cheap on every request.
func (s *Directory) apiKeyHash(key string) string {
	m := hmac.New(sha256.New, s.Secrets.Derive("api-key"))
	m.Write([]byte(key))
	return "hs256$" + hex.EncodeToString(m.Sum(nil))
}

// CreateAPIKey makes a secret Management API key for the tenant in ctx.
func (s *Directory) CreateAPIKey(ctx context.Context, name string, test bool) (CreatedAPIKey, error) {
	name, err := checkText("name", name, false, 100)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	mode, prefix := "live", APIKeyLivePrefix
	if test {
		mode, prefix = "test", APIKeyTestPrefix
	}
	key := prefix + ids.Random(32)
	k := storage.APIKey{ID: ids.New("apk"), Name: name, Mode: mode, KeyHash: s.apiKeyHash(key), Hint: key[len(key)-4:],
		CreatedAt: s.Now().UTC()}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventAPIKeyCreated, Data: storage.JSONMap{"key_id": k.ID, "name": name, "mode": mode}})
	})
	if err != nil {
		return CreatedAPIKey{}, err
	}
	return CreatedAPIKey{ID: k.ID, Key: key, Name: name, Mode: mode}, nil
}

// AuthenticateAPIKey returns the tenant's API key that key is, records its use (api_key.used) and touches its
// last-used time. Any failure of the key itself is ErrInvalidAPIKey.
func (s *Directory) AuthenticateAPIKey(ctx context.Context, key string) (storage.APIKey, error) {
	if !IsAPIKey(key) {
		return storage.APIKey{}, ErrInvalidAPIKey
	}
	k, err := s.Store.APIKeyByHash(ctx, s.apiKeyHash(key))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.APIKey{}, ErrInvalidAPIKey
	} else if err != nil {
		return storage.APIKey{}, err
	}
	now := s.Now().UTC()
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Audit(ctx, storage.AuditEvent{Type: audit.EventAPIKeyUsed, Actor: audit.Actor{Kind: "api_key", ID: k.ID}.String(),
			CreatedAt: now, Data: storage.JSONMap{"key_id": k.ID, "mode": k.Mode}}); err != nil {
			return err
		}
		return s.Store.TouchAPIKey(ctx, k.ID, now)
	})
	if err != nil {
		return storage.APIKey{}, err
	}
	k.LastUsedAt = &now
	return k, nil
}
