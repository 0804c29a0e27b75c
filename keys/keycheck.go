package keys

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/authio/authio/storage"
)

// ErrSecretKeyMismatch means the configured AUTHIO_SECRET_KEY is not the one the database was created with:
// keys it encrypts could not be read by the others, and client secrets hashed under it would never verify.
var ErrSecretKeyMismatch = errors.New("AUTHIO_SECRET_KEY does not match this database")

// OpensOldestKey returns ErrSecretKeyMismatch unless the secret key decrypts the oldest signing key of the
// database (nil when there is none yet).
func (m *KeyManager) OpensOldestKey(ctx context.Context) error {
	k, err := m.store.OldestSigningKey(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("checking AUTHIO_SECRET_KEY against the database: %w", err)
	}
	// The purpose NewSigningKey encrypts under.
	der, err := m.secrets.Decrypt("signing-key", k.PrivateKey)
	if err != nil {
		return ErrSecretKeyMismatch
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		return fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	return nil
}
