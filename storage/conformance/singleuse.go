package conformance

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// race runs fn n times at once, each in its own transaction when inTx, and returns how many calls returned nil
// and the first error that is neither nil nor want.
func race(s storage.Storage, ctx context.Context, n int, inTx bool, want error, fn func(ctx context.Context) error) (ok int, unexpected error) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if inTx {
				err = s.InTx(ctx, fn)
			} else {
				err = fn(ctx)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, want) && unexpected == nil:
				unexpected = err
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok, unexpected
}

// testSingleUse: every single-use record is consumed by one conditional write, so of several concurrent
// consumers exactly one succeeds and the others get ErrAlreadyUsed (never another error).
func testSingleUse(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, otherCtx := newTenant(t, s)
	c := newClient(t, s, ctx)
	const n = 8

	t.Run("authorization code", func(t *testing.T) {
		code := "code-" + rnd(t)
		mustNil(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, newRequest(t, c)))
		wantErr(t, "another tenant consuming the code", s.InvalidateAuthorizeCodeSession(otherCtx, code), storage.ErrAlreadyUsed)
		ok, err := race(s, ctx, n, true, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.InvalidateAuthorizeCodeSession(ctx, code)
		})
		mustNil(t, "concurrent redemption", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent redemptions consumed the code, want 1", ok, n)
		}
	})

	t.Run("refresh token", func(t *testing.T) {
		grant := newRequest(t, c)
		rt := "rt-" + rnd(t)
		mustNil(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, rt, "at", grant))
		rot, err := s.RefreshTokenRotation(ctx, rt)
		mustNil(t, "RefreshTokenRotation of a live token", err)
		if !rot.Active || rot.RotatedAt != nil || rot.Successor != nil || rot.ClientID != c.ID {
			t.Fatalf("rotation record of a live token: %+v", rot)
		}
		_, err = s.RefreshTokenRotation(otherCtx, rt)
		wantErr(t, "another tenant's rotation record", err, storage.ErrNotFound)

		rotatedAt := at(-time.Second)
		ok, err := race(s, ctx, n, true, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.RotateRefreshTokenTo(ctx, grant.ID, rt, rotatedAt, []byte("sealed-successor"))
		})
		mustNil(t, "concurrent rotation", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent rotations consumed the refresh token, want 1", ok, n)
		}
		rot, err = s.RefreshTokenRotation(ctx, rt)
		mustNil(t, "RefreshTokenRotation of a rotated token", err)
		if rot.Active || rot.RotatedAt == nil || !rot.RotatedAt.Equal(rotatedAt) || string(rot.Successor) != "sealed-successor" {
			t.Fatalf("rotation record after rotation: %+v", rot)
		}
	})

	t.Run("one-time secret", func(t *testing.T) {
		secret := "ticket-" + rnd(t)
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.UseOnce(ctx, "test", secret, at(time.Hour))
		})
		mustNil(t, "concurrent use", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent uses of a one-time secret succeeded, want 1", ok, n)
		}
		mustNil(t, "the same secret in another tenant", s.UseOnce(otherCtx, "test", secret, at(time.Hour)))
		mustNil(t, "the same secret for another purpose", s.UseOnce(ctx, "other", secret, at(time.Hour)))
	})

	t.Run("session", func(t *testing.T) {
		u := newUser(t, s, ctx)
		ls := newSession(t, s, ctx, u.ID, at(time.Hour))
		wantErr(t, "another tenant ending the session", s.DeleteSession(otherCtx, ls.ID), storage.ErrNotFound)
		ok, err := race(s, ctx, n, false, storage.ErrNotFound, func(ctx context.Context) error {
			return s.DeleteSession(ctx, ls.ID)
		})
		mustNil(t, "concurrent sign-out", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent sign-outs ended the session, want 1", ok, n)
		}
	})
}

// testNoLostUpdates: the UpdateX read-modify-writes of concurrent callers all count.
func testNoLostUpdates(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	u := newUser(t, s, ctx)
	const n = 8
	ok, err := race(s, ctx, n, false, nil, func(ctx context.Context) error {
		return s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			old.Name += "+"
			return old, nil
		})
	})
	mustNil(t, "concurrent UpdateUser", err)
	got, err := s.GetUser(ctx, u.ID)
	mustNil(t, "GetUser", err)
	if ok != n || got.Name != u.Name+strings.Repeat("+", n) {
		t.Fatalf("after %d concurrent updates (%d succeeded) the name is %q, want %q", n, ok, got.Name, u.Name+strings.Repeat("+", n))
	}
}
