package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/storage"
)

// TestRevocationCatchesARotationInFlight: a family revoked while one of its refresh tokens is being rotated loses
// the successor too. The revocation's first DELETE cannot see the successor the rotation has not committed yet;
// it waits on the rotated token's lock, and a later DELETE must find the successor once it is committed.
func TestRevocationCatchesARotationInFlight(t *testing.T) {
	for name, open := range migratedStores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := newStoreTenant(t, s)
			now := time.Now().UTC().Truncate(time.Second)
			c := storage.Client{ID: "cli_" + randomHex(t), Name: "app", Type: storage.ClientPublic, CreatedAt: now, UpdatedAt: now}
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			req := &fosite.Request{ID: "req_" + randomHex(t), RequestedAt: now, Client: &storage.FositeClient{Client: c},
				Session: &openid.DefaultSession{Subject: "user_1", ExpiresAt: map[fosite.TokenType]time.Time{fosite.RefreshToken: now.Add(time.Hour)}}}
			if err := s.CreateRefreshTokenSession(ctx, "rt1", "at1", req); err != nil {
				t.Fatal(err)
			}

			// The rotation: consumes rt1 and stores rt2 and at2, and has not committed yet.
			txCtx, err := s.BeginTX(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RotateRefreshTokenTo(txCtx, req.ID, "rt1", now, nil); err != nil {
				t.Fatal(err)
			}
			for _, create := range []error{s.CreateAccessTokenSession(txCtx, "at2", req), s.CreateRefreshTokenSession(txCtx, "rt2", "at2", req)} {
				if create != nil {
					t.Fatal(create)
				}
			}
			// The revocation starts meanwhile and waits (on rt1's row lock on Postgres, on the one connection on SQLite).
			revoked := make(chan error, 1)
			go func() { revoked <- s.RevokeRefreshToken(ctx, req.ID) }()
			if name == "postgres" {
				waitForLockWait(t, s, `%DELETE FROM "oauth_tokens"%request_id%`)
			}
			if err := s.Commit(txCtx); err != nil {
				t.Fatal(err)
			}
			if err := <-revoked; err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetRefreshTokenSession(ctx, "rt2", &openid.DefaultSession{}); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("the successor committed during the revocation: %v, want it revoked (not found)", err)
			}
			if _, err := s.GetAccessTokenSession(ctx, "at2", &openid.DefaultSession{}); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("the access token committed during the revocation: %v, want it revoked (not found)", err)
			}

			// A retry within the reuse interval mints an access token for a live successor under its lock: a
			// revocation that starts meanwhile revokes that access token too, and a revoked successor mints nothing.
			if err := s.CreateRefreshTokenSession(ctx, "rt3", "at3", req); err != nil {
				t.Fatal(err)
			}
			txCtx, err = s.BeginTX(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.LockLiveRefreshToken(txCtx, "rt3"); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAccessTokenSession(txCtx, "at4", req); err != nil {
				t.Fatal(err)
			}
			go func() { revoked <- s.RevokeRefreshToken(ctx, req.ID) }()
			if name == "postgres" {
				waitForLockWait(t, s, `%DELETE FROM "oauth_tokens"%request_id%`)
			}
			if err := s.Commit(txCtx); err != nil {
				t.Fatal(err)
			}
			if err := <-revoked; err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetAccessTokenSession(ctx, "at4", &openid.DefaultSession{}); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("the retry's access token committed during the revocation: %v, want it revoked", err)
			}
			if err := s.LockLiveRefreshToken(ctx, "rt3"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("LockLiveRefreshToken of a revoked token: %v, want ErrNotFound", err)
			}
		})
	}
}

// waitForLockWait returns once a statement of the database matching query (ILIKE) waits on a lock.
func waitForLockWait(t *testing.T, s *storage.Store, query string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int64
		if err := storage.DBForTest(s).Raw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()
			AND query ILIKE ?`, query).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no statement like %s waited on a lock", query)
}
