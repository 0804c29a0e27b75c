package server

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/authio/authio/storage"
)

// ErrSecretKeyMismatch means the configured AUTHIO_SECRET_KEY is not the one the database was created with:
// keys it encrypts could not be read by the others, and client secrets hashed under it would never verify.
var ErrSecretKeyMismatch = errors.New("AUTHIO_SECRET_KEY does not match this database")

// secretCheckName is the authio_meta row holding the check value of the secret key.
const secretCheckName = "secret_key_check"

// secretCheckValue is what the database records of the secret key: HMAC-SHA256 under the key of a label of its
// own, in hex. It tells keys apart and reveals nothing of the key, nor of the keys derived for other purposes.
func (s *Secrets) secretCheckValue() string { return hex.EncodeToString(s.Derive("secret-key-check")) }

// CheckSecretKey makes sure the configured secret key is the database's, before a process creates, rotates or
// serves anything: it records the key's check value in a database that has none, and returns
// ErrSecretKeyMismatch when the recorded value is another key's. A database from before check values (one
// that already holds signing keys) gets the value recorded only when the key decrypts the oldest signing key,
// the one made with the key the database was created with. Run it after migrations. Processes that start at
// once against a fresh database agree: the first value recorded wins and the others compare against it.
func (s *Server) CheckSecretKey(ctx context.Context) error {
	want := s.Secrets.secretCheckValue()
	got, err := s.Store.MetaValue(ctx, secretCheckName)
	if errors.Is(err, storage.ErrNotFound) {
		if err := s.Keys.opensOldestKey(ctx); err != nil {
			return err
		}
		got, err = s.Store.RecordMeta(ctx, secretCheckName, want, s.Now().UTC())
	}
	if err != nil {
		return fmt.Errorf("checking AUTHIO_SECRET_KEY against the database: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrSecretKeyMismatch
	}
	return nil
}

// opensOldestKey returns ErrSecretKeyMismatch unless the secret key decrypts the oldest signing key of the
// database (nil when there is none yet).
func (m *KeyManager) opensOldestKey(ctx context.Context) error {
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
