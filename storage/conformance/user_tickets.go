package conformance

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// testUserTickets: a user ticket is read while open, redeemed exactly once (also by concurrent callers), never
// after it expires or is revoked, and never through another tenant or another purpose.
func testUserTickets(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	u := newUser(t, s, ctx)
	mk := func(t *testing.T, purpose string, expiresIn time.Duration) storage.UserTicket {
		t.Helper()
		tk := storage.UserTicket{ID: "tkt_" + rnd(t), Purpose: purpose, UserID: u.ID, Email: u.Email, TokenHash: "hash-" + rnd(t),
			FlowID: "flw_" + rnd(t), Source: "forgot", ResultURL: "https://app.test/done", MarkEmailVerified: true,
			IncludeEmail: true, CreatedAt: now(), ExpiresAt: at(expiresIn)}
		mustNil(t, "CreateUserTicket", s.CreateUserTicket(ctx, tk))
		return tk
	}

	t.Run("open then redeem once", func(t *testing.T) {
		tk := mk(t, storage.TicketPasswordReset, 30*time.Minute)
		got, err := s.OpenUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
		mustNil(t, "OpenUserTicket", err)
		if got.ID != tk.ID || got.UserID != u.ID || got.Email != u.Email || got.FlowID != tk.FlowID || got.Source != "forgot" ||
			got.ResultURL != tk.ResultURL || !got.MarkEmailVerified || !got.IncludeEmail || got.ConsumedAt != nil ||
			!got.ExpiresAt.Equal(tk.ExpiresAt) {
			t.Fatalf("OpenUserTicket = %+v, want %+v", got, tk)
		}
		_, err = s.OpenUserTicket(ctx, storage.TicketVerifyEmail, tk.TokenHash, now())
		wantErr(t, "OpenUserTicket for another purpose", err, storage.ErrNotFound)
		_, err = s.RedeemUserTicket(ctx, storage.TicketVerifyEmail, tk.TokenHash, now())
		wantErr(t, "RedeemUserTicket for another purpose", err, storage.ErrAlreadyUsed)

		red, err := s.RedeemUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
		mustNil(t, "RedeemUserTicket", err)
		if red.ID != tk.ID || red.ConsumedAt == nil {
			t.Fatalf("RedeemUserTicket = %+v, want %s consumed", red, tk.ID)
		}
		_, err = s.RedeemUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
		wantErr(t, "RedeemUserTicket again", err, storage.ErrAlreadyUsed)
		_, err = s.OpenUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
		wantErr(t, "OpenUserTicket after redeeming", err, storage.ErrNotFound)
	})

	t.Run("expired", func(t *testing.T) {
		tk := mk(t, storage.TicketVerifyEmail, time.Minute)
		later := now().Add(time.Minute + time.Second)
		_, err := s.OpenUserTicket(ctx, storage.TicketVerifyEmail, tk.TokenHash, later)
		wantErr(t, "OpenUserTicket after expiry", err, storage.ErrNotFound)
		_, err = s.RedeemUserTicket(ctx, storage.TicketVerifyEmail, tk.TokenHash, later)
		wantErr(t, "RedeemUserTicket after expiry", err, storage.ErrAlreadyUsed)
		_, err = s.RedeemUserTicket(ctx, storage.TicketVerifyEmail, "hash-unknown-"+rnd(t), now())
		wantErr(t, "RedeemUserTicket of an unknown token", err, storage.ErrAlreadyUsed)
	})

	t.Run("concurrent redeems: exactly one wins", func(t *testing.T) {
		tk := mk(t, storage.TicketPasswordReset, 30*time.Minute)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.RedeemUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrAlreadyUsed):
				t.Errorf("a losing redeem failed with %v, want ErrAlreadyUsed", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent redeems succeeded, want exactly 1", won, n)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		a, b := mk(t, storage.TicketPasswordReset, time.Hour), mk(t, storage.TicketPasswordReset, time.Hour)
		keep := mk(t, storage.TicketVerifyEmail, time.Hour)
		n, err := s.RevokeUserTickets(ctx, u.ID, storage.TicketPasswordReset, now())
		mustNil(t, "RevokeUserTickets", err)
		if n != 2 {
			t.Errorf("RevokeUserTickets revoked %d tickets, want the 2 open reset tickets", n)
		}
		for _, tk := range []storage.UserTicket{a, b} {
			_, err := s.RedeemUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
			wantErr(t, "RedeemUserTicket of a revoked ticket", err, storage.ErrAlreadyUsed)
		}
		_, err = s.OpenUserTicket(ctx, storage.TicketVerifyEmail, keep.TokenHash, now())
		mustNil(t, "a ticket of another purpose after RevokeUserTickets", err)
	})

	t.Run("tenant isolation", func(t *testing.T) {
		tk := mk(t, storage.TicketPasswordReset, time.Hour)
		_, err := s.OpenUserTicket(ctxB, storage.TicketPasswordReset, tk.TokenHash, now())
		wantErr(t, "OpenUserTicket as B", err, storage.ErrNotFound)
		_, err = s.RedeemUserTicket(ctxB, storage.TicketPasswordReset, tk.TokenHash, now())
		wantErr(t, "RedeemUserTicket as B", err, storage.ErrAlreadyUsed)
		n, err := s.RevokeUserTickets(ctxB, u.ID, storage.TicketPasswordReset, now())
		mustNil(t, "RevokeUserTickets as B", err)
		if n != 0 {
			t.Errorf("RevokeUserTickets as B revoked %d of A's tickets", n)
		}
		// B may hold a ticket with the same id and token hash: they are B's, and A's stays A's.
		dup := tk
		dup.TenantID = ""
		mustNil(t, "CreateUserTicket as B with A's id and hash", s.CreateUserTicket(ctxB, dup))
		_, err = s.RedeemUserTicket(ctxB, storage.TicketPasswordReset, tk.TokenHash, now())
		mustNil(t, "RedeemUserTicket of B's own ticket", err)
		_, err = s.OpenUserTicket(ctx, storage.TicketPasswordReset, tk.TokenHash, now())
		mustNil(t, "A's ticket after B redeemed its own", err)
	})
}
