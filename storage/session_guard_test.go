package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// TestSessionNeedsTheCheckedPassword: a sign-in opens its session only if the password it checked is still the
// user's and the user is not blocked — also when the change commits while the sign-in is opening the session.
func TestSessionNeedsTheCheckedPassword(t *testing.T) {
	for name, open := range migratedStores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := newStoreTenant(t, s)
			now := time.Now().UTC().Truncate(time.Second)
			u := storage.User{ID: "user_" + randomHex(t), Email: "a@example.test", PasswordHash: "old-hash", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			session := func() storage.LoginSession {
				return storage.LoginSession{ID: "ses_" + randomHex(t), UserID: u.ID, CookieHash: randomHex(t), AuthTime: now,
					ExpiresAt: now.Add(time.Hour), CreatedAt: now}
			}
			if err := s.CreateSessionFor(ctx, session(), "old-hash"); err != nil {
				t.Fatalf("session for the current password: %v", err)
			}
			if err := s.CreateSessionFor(ctx, session(), "another-hash"); !errors.Is(err, storage.ErrCredentialsChanged) {
				t.Errorf("session for a password that is not the user's: %v, want ErrCredentialsChanged", err)
			}

			// An administrator changes the password (ending the user's sessions) while a sign-in that checked the
			// old one opens its session.
			hold, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- s.InTx(ctx, func(ctx context.Context) error {
					if err := s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
						old.PasswordHash = "new-hash"
						return old, nil
					}); err != nil {
						return err
					}
					if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
						return err
					}
					close(hold)
					<-release
					return nil
				})
			}()
			<-hold
			opened := make(chan error, 1)
			go func() { opened <- s.CreateSessionFor(ctx, session(), "old-hash") }()
			if name == "postgres" {
				waitForLockWait(t, s, "%FOR SHARE%")
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := <-opened; !errors.Is(err, storage.ErrCredentialsChanged) {
				t.Errorf("a sign-in with the old password, finishing after the change: %v, want ErrCredentialsChanged", err)
			}

			if err := s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) { old.Blocked = true; return old, nil }); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateSessionFor(ctx, session(), "new-hash"); !errors.Is(err, storage.ErrCredentialsChanged) {
				t.Errorf("session for a blocked user: %v, want ErrCredentialsChanged", err)
			}
		})
	}
}
