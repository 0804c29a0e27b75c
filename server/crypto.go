package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/ory/fosite"

	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/storage"
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

// PasswordCost is the bcrypt cost of user passwords when neither the tenant (setting password_hash) nor the
// configuration (AUTHIO_PASSWORD_COST) chooses one.
const PasswordCost = password.DefaultCost

// HashPassword hashes a user password with bcrypt at cost; Server.HashPassword picks the tenant's cost.
func HashPassword(pw string, cost int) (string, error) { return password.Hash(pw, cost) }

// CheckPassword compares pw with a bcrypt hash; an empty hash still spends the time of a hash of cost dummyCost.
func CheckPassword(hash, pw string, dummyCost int) bool { return password.Check(hash, pw, dummyCost) }

// PasswordCostFor is the bcrypt cost for passwords set in the tenant in ctx: the tenant's password_hash setting,
// else the configured AUTHIO_PASSWORD_COST, else PasswordCost.
func (s *Server) PasswordCostFor(ctx context.Context) int {
	var ts storage.TenantSettings
	if t := TenantFromContext(ctx); t != nil {
		ts = t.Settings
	} else if tid, ok := storage.TenantFromContext(ctx); ok { // the CLI has no request tenant
		if t, err := s.Store.GetTenant(ctx, tid); err == nil {
			ts = t.Settings
		}
	}
	if ts.PasswordHash != nil && ts.PasswordHash.Cost > 0 {
		return ts.PasswordHash.Cost
	}
	if s.Config.PasswordCost > 0 {
		return s.Config.PasswordCost
	}
	return PasswordCost
}

// HashPassword hashes a password for the tenant in ctx at its cost (PasswordCostFor).
func (s *Server) HashPassword(ctx context.Context, pw string) (string, error) {
	return password.Hash(pw, s.PasswordCostFor(ctx))
}

// RandomToken returns n random bytes, base64url-encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err) // the system's randomness source failing is not recoverable
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a prefixed opaque id such as "user_3kTm…".
func NewID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz"
	b := make([]byte, 20)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('_')
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}
