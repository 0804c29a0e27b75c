package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// ErrSecretKeyMismatch is keys.ErrSecretKeyMismatch: the configured AUTHIO_SECRET_KEY is not the database's.
var ErrSecretKeyMismatch = keys.ErrSecretKeyMismatch

// secretCheckName is the authio_meta row holding the check value of the secret key.
const secretCheckName = "secret_key_check"

// CheckSecretKey makes sure the configured secret key is the database's, before a process creates, rotates or
// serves anything: it records the key's check value in a database that has none, and returns
// ErrSecretKeyMismatch when the recorded value is another key's. A database from before check values (one
// that already holds signing keys) gets the value recorded only when the key decrypts the oldest signing key,
// the one made with the key the database was created with. Run it after migrations. Processes that start at
// once against a fresh database agree: the first value recorded wins and the others compare against it.
func (s *Server) CheckSecretKey(ctx context.Context) error {
	want := s.Secrets.CheckValue()
	got, err := s.Store.MetaValue(ctx, secretCheckName)
	if errors.Is(err, storage.ErrNotFound) {
		if err := s.Keys.OpensOldestKey(ctx); err != nil {
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
