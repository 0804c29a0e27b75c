// Package keys holds Authio's key material: the secrets derived from AUTHIO_SECRET_KEY (encryption at rest,
// token and client-secret hashing, the database's check value of the key) and every tenant's signing keys —
// generated, loaded through the server's cache and rotated — with the JWT signer fosite uses.
package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"

	"github.com/ory/fosite"
)

// Secrets derives purpose-specific keys from AUTHIO_SECRET_KEY, so one configured secret never serves two
// purposes directly.
type Secrets struct {
	master []byte
}

// NewSecrets wraps the configured secret key.
func NewSecrets(secretKey string) *Secrets { return &Secrets{master: []byte(secretKey)} }

// Derive returns a 32-byte key for purpose (HMAC-SHA256 of the purpose under the master key).
func (s *Secrets) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, s.master)
	m.Write([]byte("authio/v1/" + purpose))
	return m.Sum(nil)
}

// Encrypt seals plaintext with AES-256-GCM under the key for purpose.
func (s *Secrets) Encrypt(purpose string, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(s.Derive(purpose))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, []byte(purpose)), nil
}

// ErrDecrypt means the ciphertext was not made with this secret key (or was altered).
var ErrDecrypt = errors.New("decryption failed: wrong AUTHIO_SECRET_KEY or corrupted data")

// Decrypt opens what Encrypt sealed.
func (s *Secrets) Decrypt(purpose string, ciphertext []byte) ([]byte, error) {
	block, err := aes.NewCipher(s.Derive(purpose))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < gcm.NonceSize() {
		return nil, ErrDecrypt
	}
	out, err := gcm.Open(nil, ciphertext[:gcm.NonceSize()], ciphertext[gcm.NonceSize():], []byte(purpose))
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// SecretHasher hashes Authio-generated client secrets with keyed SHA-256. The secrets carry 256 bits of
// entropy, so a slow password hash adds nothing but latency on every token request.
type SecretHasher struct {
	key []byte
}

var _ fosite.Hasher = (*SecretHasher)(nil)

// NewSecretHasher returns the hasher keyed from s.
func NewSecretHasher(s *Secrets) *SecretHasher { return &SecretHasher{key: s.Derive("client-secret")} }

// Hash implements fosite.Hasher.
func (h *SecretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	m := hmac.New(sha256.New, h.key)
	m.Write(data)
	return []byte("hs256$" + hex.EncodeToString(m.Sum(nil))), nil
}

// Compare implements fosite.Hasher in constant time.
func (h *SecretHasher) Compare(ctx context.Context, hash, data []byte) error {
	want, _ := h.Hash(ctx, data)
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, want) != 1 {
		return errors.New("secret mismatch")
	}
	return nil
}

// Token hashes opaque tokens (session cookies) for storage.
func (s *Secrets) TokenHash(token string) string {
	m := hmac.New(sha256.New, s.Derive("token-hash"))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckValue is what a database records of the secret key: HMAC-SHA256 under the key of a label of its own,
// in hex. It tells keys apart and reveals nothing of the key, nor of the keys derived for other purposes.
func (s *Secrets) CheckValue() string { return hex.EncodeToString(s.Derive("secret-key-check")) }
