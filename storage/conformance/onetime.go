package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// newSecret stores an open one-time secret of purpose "email_signin" for user and flow (either may be "").
func newSecret(t *testing.T, s storage.Storage, ctx context.Context, userID, flowID string, ttl time.Duration) storage.OneTimeSecret {
	t.Helper()
	sec, err := s.CreateOneTimeSecret(ctx, storage.OneTimeSecret{ID: "ots_" + rnd(t), Purpose: "email_signin", UserID: userID,
		FlowID: flowID, SecretHash: "sh-" + rnd(t), CodeHash: "ch-" + rnd(t), ExpiresAt: at(ttl), CreatedAt: now()})
	mustNil(t, "CreateOneTimeSecret", err)
	return sec
}

// testOneTimeSecrets: one-time secrets round-trip with NULL user and flow, are consumed once under concurrency (by
// hash, by id), die at the attempts limit, carry their flow's attempts over when sent again, are invalidated per
// user and purpose, expire, and are their tenant's alone.
func testOneTimeSecrets(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, otherCtx := newTenant(t, s)
	c := newClient(t, s, ctx)
	u := newUser(t, s, ctx)
	const n = 8

	t.Run("round trip", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		sec := newSecret(t, s, ctx, u.ID, f.ID, 10*time.Minute)
		got, err := s.OneTimeSecretByHash(ctx, "email_signin", sec.SecretHash)
		mustNil(t, "OneTimeSecretByHash", err)
		if got.UserID != u.ID || got.FlowID != f.ID || got.CodeHash != sec.CodeHash || got.ConsumedAt != nil ||
			got.Attempts != 0 || !got.ExpiresAt.Equal(sec.ExpiresAt) {
			t.Errorf("stored %+v, created %+v", got, sec)
		}
		anon := newSecret(t, s, ctx, "", "", 10*time.Minute)
		got, err = s.OneTimeSecretByHash(ctx, "email_signin", anon.SecretHash)
		mustNil(t, "OneTimeSecretByHash without user and flow", err)
		if got.UserID != "" || got.FlowID != "" {
			t.Errorf("user %q flow %q, want empty", got.UserID, got.FlowID)
		}
		_, err = s.OneTimeSecretByHash(ctx, "password_reset", sec.SecretHash)
		wantErr(t, "another purpose", err, storage.ErrNotFound)
		open, err := s.OpenOneTimeSecretForFlow(ctx, "email_signin", f.ID, now())
		mustNil(t, "OpenOneTimeSecretForFlow", err)
		if open.ID != sec.ID {
			t.Errorf("open secret of the flow %s, want %s", open.ID, sec.ID)
		}
	})

	t.Run("consume by hash once", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		sec := newSecret(t, s, ctx, u.ID, f.ID, 10*time.Minute)
		_, err := s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, "flw_other", now())
		wantErr(t, "consuming with another flow", err, storage.ErrAlreadyUsed)
		_, err = s.ConsumeOneTimeSecret(ctx, "verify_email", sec.SecretHash, "", now())
		wantErr(t, "consuming for another purpose", err, storage.ErrAlreadyUsed)
		var winner storage.OneTimeSecret
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			got, err := s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, f.ID, now())
			if err == nil {
				winner = got
			}
			return err
		})
		mustNil(t, "unexpected error consuming concurrently", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent consumers succeeded, want 1", ok, n)
		}
		if winner.ID != sec.ID || winner.UserID != u.ID || winner.ConsumedAt == nil {
			t.Errorf("consumed secret %+v", winner)
		}
		_, err = s.OpenOneTimeSecretForFlow(ctx, "email_signin", f.ID, now())
		wantErr(t, "open secret after consumption", err, storage.ErrNotFound)
	})

	t.Run("consume by id once, under the attempts limit", func(t *testing.T) {
		sec := newSecret(t, s, ctx, u.ID, "", 10*time.Minute)
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.ConsumeOneTimeSecretByID(ctx, sec.ID, 5, now())
		})
		mustNil(t, "unexpected error", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent ConsumeOneTimeSecretByID succeeded, want 1", ok, n)
		}
		_, err = s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, "", now())
		wantErr(t, "the link after the code", err, storage.ErrAlreadyUsed)
	})

	t.Run("wrong codes kill the secret at the limit", func(t *testing.T) {
		sec := newSecret(t, s, ctx, u.ID, "", 10*time.Minute)
		for i := 1; i < 5; i++ {
			left, err := s.RecordOneTimeCodeFailure(ctx, sec.ID, 5, now())
			mustNil(t, "RecordOneTimeCodeFailure", err)
			if left != 5-i {
				t.Errorf("after %d failures %d left, want %d", i, left, 5-i)
			}
		}
		// Concurrent fifth failures: exactly one is counted, and it kills the secret.
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			_, err := s.RecordOneTimeCodeFailure(ctx, sec.ID, 5, now())
			return err
		})
		mustNil(t, "unexpected error", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent last failures were counted, want 1", ok, n)
		}
		got, err := s.OneTimeSecretByHash(ctx, "email_signin", sec.SecretHash)
		mustNil(t, "OneTimeSecretByHash", err)
		if got.Attempts != 5 || got.ConsumedAt == nil {
			t.Errorf("after 5 failures: attempts %d consumed %v, want 5 and consumed", got.Attempts, got.ConsumedAt)
		}
		wantErr(t, "consuming a dead secret by id", s.ConsumeOneTimeSecretByID(ctx, sec.ID, 5, now()), storage.ErrAlreadyUsed)
		_, err = s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, "", now())
		wantErr(t, "consuming a dead secret by hash", err, storage.ErrAlreadyUsed)
	})

	t.Run("sending again supersedes the flow's secret and keeps its attempts", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		first := newSecret(t, s, ctx, u.ID, f.ID, 10*time.Minute)
		for range 3 {
			_, err := s.RecordOneTimeCodeFailure(ctx, first.ID, 5, now())
			mustNil(t, "RecordOneTimeCodeFailure", err)
		}
		second := newSecret(t, s, ctx, u.ID, f.ID, 10*time.Minute)
		if second.Attempts != 3 {
			t.Errorf("second secret of the flow starts with %d attempts, want the first's 3", second.Attempts)
		}
		_, err := s.ConsumeOneTimeSecret(ctx, "email_signin", first.SecretHash, f.ID, now())
		wantErr(t, "the superseded secret", err, storage.ErrAlreadyUsed)
		open, err := s.OpenOneTimeSecretForFlow(ctx, "email_signin", f.ID, now())
		mustNil(t, "OpenOneTimeSecretForFlow", err)
		if open.ID != second.ID {
			t.Errorf("open secret %s, want the second %s", open.ID, second.ID)
		}
	})

	t.Run("invalidate a user's secrets of a purpose", func(t *testing.T) {
		other := newUser(t, s, ctx)
		a, b := newSecret(t, s, ctx, u.ID, "", time.Hour), newSecret(t, s, ctx, u.ID, "", time.Hour)
		keep := newSecret(t, s, ctx, other.ID, "", time.Hour)
		count, err := s.InvalidateOneTimeSecrets(ctx, "email_signin", u.ID, now())
		mustNil(t, "InvalidateOneTimeSecrets", err)
		if count < 2 {
			t.Errorf("invalidated %d, want at least 2", count)
		}
		for _, sec := range []storage.OneTimeSecret{a, b} {
			_, err := s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, "", now())
			wantErr(t, "an invalidated secret", err, storage.ErrAlreadyUsed)
		}
		_, err = s.ConsumeOneTimeSecret(ctx, "email_signin", keep.SecretHash, "", now())
		mustNil(t, "another user's secret stays open", err)
	})

	t.Run("expired", func(t *testing.T) {
		sec := newSecret(t, s, ctx, u.ID, "", time.Minute)
		later := now().Add(time.Minute + time.Second)
		_, err := s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, "", later)
		wantErr(t, "consuming after expiry", err, storage.ErrAlreadyUsed)
		wantErr(t, "consuming by id after expiry", s.ConsumeOneTimeSecretByID(ctx, sec.ID, 5, later), storage.ErrAlreadyUsed)
		gone := newSecret(t, s, ctx, u.ID, "", -time.Hour)
		_, err = s.DeleteExpired(context.Background(), now())
		mustNil(t, "DeleteExpired", err)
		_, err = s.OneTimeSecretByHash(ctx, "email_signin", gone.SecretHash)
		wantErr(t, "expired secret after DeleteExpired", err, storage.ErrNotFound)
	})

	t.Run("tenant isolation", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		sec := newSecret(t, s, ctx, u.ID, f.ID, 10*time.Minute)
		_, err := s.OneTimeSecretByHash(otherCtx, "email_signin", sec.SecretHash)
		wantErr(t, "another tenant reading by hash", err, storage.ErrNotFound)
		_, err = s.OpenOneTimeSecretForFlow(otherCtx, "email_signin", f.ID, now())
		wantErr(t, "another tenant reading the flow's secret", err, storage.ErrNotFound)
		_, err = s.ConsumeOneTimeSecret(otherCtx, "email_signin", sec.SecretHash, "", now())
		wantErr(t, "another tenant consuming by hash", err, storage.ErrAlreadyUsed)
		wantErr(t, "another tenant consuming by id", s.ConsumeOneTimeSecretByID(otherCtx, sec.ID, 5, now()), storage.ErrAlreadyUsed)
		_, err = s.RecordOneTimeCodeFailure(otherCtx, sec.ID, 5, now())
		wantErr(t, "another tenant counting a failure", err, storage.ErrAlreadyUsed)
		count, err := s.InvalidateOneTimeSecrets(otherCtx, "email_signin", u.ID, now())
		mustNil(t, "InvalidateOneTimeSecrets", err)
		if count != 0 {
			t.Errorf("another tenant invalidated %d secrets", count)
		}
		got, err := s.OneTimeSecretByHash(ctx, "email_signin", sec.SecretHash)
		mustNil(t, "OneTimeSecretByHash", err)
		if got.Attempts != 0 || got.ConsumedAt != nil {
			t.Errorf("another tenant changed the secret: %+v", got)
		}
		_, err = s.ConsumeOneTimeSecret(ctx, "email_signin", sec.SecretHash, f.ID, now())
		mustNil(t, "the owner consumes it", err)
	})

	t.Run("no tenant", func(t *testing.T) {
		bare := context.Background()
		_, err := s.CreateOneTimeSecret(bare, storage.OneTimeSecret{ID: "ots_" + rnd(t), Purpose: "email_signin", SecretHash: rnd(t),
			ExpiresAt: at(time.Hour), CreatedAt: now()})
		wantErr(t, "CreateOneTimeSecret", err, storage.ErrNoTenant)
		_, err = s.OneTimeSecretByHash(bare, "email_signin", "x")
		wantErr(t, "OneTimeSecretByHash", err, storage.ErrNoTenant)
		_, err = s.ConsumeOneTimeSecret(bare, "email_signin", "x", "", now())
		wantErr(t, "ConsumeOneTimeSecret", err, storage.ErrNoTenant)
	})
}
