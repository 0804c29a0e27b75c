package conformance

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// newFlow stores an open flow of the tenant in ctx that expires in ttl.
func newFlow(t *testing.T, s storage.Storage, ctx context.Context, clientID string, ttl time.Duration) storage.AuthFlow {
	t.Helper()
	f := storage.AuthFlow{
		ID: "flw_" + rnd(t), BrowserHash: "bh-" + rnd(t), ClientID: clientID,
		Params: "client_id=" + clientID + "&response_type=code&state=s1", Organization: "acme",
		CreatedAt: now().Truncate(time.Second), ExpiresAt: at(ttl).Truncate(time.Second),
	}
	mustNil(t, "CreateFlow", s.CreateFlow(ctx, f))
	got, err := s.GetFlow(ctx, f.ID)
	mustNil(t, "GetFlow", err)
	return got
}

// testFlows: sign-in flows round-trip, advance only while open, complete exactly once under concurrency, are
// their tenant's alone, and are cleaned up once expired.
func testFlows(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, otherCtx := newTenant(t, s)
	c := newClient(t, s, ctx)
	const n = 8

	t.Run("round trip and advance", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		if f.TenantID != tn.ID || f.UserID != "" || f.AuthTime != nil || f.CompletedAt != nil || f.OrgRequired {
			t.Fatalf("new flow = %+v", f)
		}
		if !f.ExpiresAt.Equal(at(15*time.Minute).Truncate(time.Second)) || !f.CreatedAt.Equal(now().Truncate(time.Second)) {
			t.Errorf("times: created %v expires %v", f.CreatedAt, f.ExpiresAt)
		}
		_, err := s.GetFlow(ctx, "flw_"+rnd(t))
		wantErr(t, "GetFlow unknown", err, storage.ErrNotFound)
		wantErr(t, "AdvanceFlow unknown", s.AdvanceFlow(ctx, "flw_"+rnd(t), now(), func(f storage.AuthFlow) (storage.AuthFlow, error) { return f, nil }), storage.ErrNotFound)

		authAt := at(time.Minute).Truncate(time.Second)
		mustNil(t, "AdvanceFlow", s.AdvanceFlow(ctx, f.ID, now(), func(old storage.AuthFlow) (storage.AuthFlow, error) {
			old.UserID, old.SessionID, old.AuthTime, old.AMR = "usr_1", "ses_1", &authAt, storage.StringList{"pwd"}
			old.OrgRequired, old.OrganizationID = true, "org_1"
			// What a step may not change:
			old.Params, old.BrowserHash, old.ClientID, old.ExpiresAt = "client_id=evil", "other", "cli_evil", at(time.Hour)
			return old, nil
		}))
		got, err := s.GetFlow(ctx, f.ID)
		mustNil(t, "GetFlow", err)
		if got.UserID != "usr_1" || got.SessionID != "ses_1" || got.AuthTime == nil || !got.AuthTime.Equal(authAt) ||
			!reflect.DeepEqual([]string(got.AMR), []string{"pwd"}) || !got.OrgRequired || got.OrganizationID != "org_1" {
			t.Errorf("advanced flow = %+v", got)
		}
		if got.Params != f.Params || got.BrowserHash != f.BrowserHash || got.ClientID != f.ClientID || !got.ExpiresAt.Equal(f.ExpiresAt) {
			t.Errorf("AdvanceFlow changed the request or its binding: %+v", got)
		}
	})

	t.Run("complete once, then closed", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			return s.CompleteFlow(ctx, f.ID, now())
		})
		mustNil(t, "unexpected error completing concurrently", err)
		if ok != 1 {
			t.Fatalf("%d of %d concurrent CompleteFlow calls succeeded, want 1", ok, n)
		}
		got, err := s.GetFlow(ctx, f.ID)
		mustNil(t, "GetFlow", err)
		if got.CompletedAt == nil {
			t.Error("completed flow has no completed_at")
		}
		wantErr(t, "AdvanceFlow after completion", s.AdvanceFlow(ctx, f.ID, now(), func(f storage.AuthFlow) (storage.AuthFlow, error) { return f, nil }), storage.ErrAlreadyUsed)
		wantErr(t, "CompleteFlow again", s.CompleteFlow(ctx, f.ID, now()), storage.ErrAlreadyUsed)
	})

	t.Run("advance races completion", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		ok, err := race(s, ctx, n, false, storage.ErrAlreadyUsed, func(ctx context.Context) error {
			if err := s.AdvanceFlow(ctx, f.ID, now(), func(old storage.AuthFlow) (storage.AuthFlow, error) {
				old.UserID = "usr_racer"
				return old, nil
			}); err != nil {
				return err
			}
			return s.CompleteFlow(ctx, f.ID, now())
		})
		mustNil(t, "unexpected error", err)
		if ok != 1 {
			t.Fatalf("%d of %d advance-then-complete calls completed the flow, want 1", ok, n)
		}
	})

	t.Run("expired", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, time.Minute)
		later := now().Add(time.Minute + time.Second)
		wantErr(t, "AdvanceFlow after expiry", s.AdvanceFlow(ctx, f.ID, later, func(f storage.AuthFlow) (storage.AuthFlow, error) { return f, nil }), storage.ErrAlreadyUsed)
		wantErr(t, "CompleteFlow after expiry", s.CompleteFlow(ctx, f.ID, later), storage.ErrAlreadyUsed)
		gone := newFlow(t, s, ctx, c.ID, -time.Hour)
		live := newFlow(t, s, ctx, c.ID, time.Hour)
		_, err := s.DeleteExpired(context.Background(), now())
		mustNil(t, "DeleteExpired", err)
		_, err = s.GetFlow(ctx, gone.ID)
		wantErr(t, "expired flow after DeleteExpired", err, storage.ErrNotFound)
		_, err = s.GetFlow(ctx, live.ID)
		mustNil(t, "live flow after DeleteExpired", err)
	})

	t.Run("tenant isolation", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		_, err := s.GetFlow(otherCtx, f.ID)
		wantErr(t, "another tenant reading the flow", err, storage.ErrNotFound)
		wantErr(t, "another tenant advancing the flow", s.AdvanceFlow(otherCtx, f.ID, now(), func(old storage.AuthFlow) (storage.AuthFlow, error) {
			old.UserID = "usr_intruder"
			return old, nil
		}), storage.ErrNotFound)
		wantErr(t, "another tenant completing the flow", s.CompleteFlow(otherCtx, f.ID, now()), storage.ErrAlreadyUsed)
		got, err := s.GetFlow(ctx, f.ID)
		mustNil(t, "GetFlow", err)
		if got.UserID != "" || got.CompletedAt != nil {
			t.Errorf("another tenant changed the flow: %+v", got)
		}
		mustNil(t, "the owner completes it", s.CompleteFlow(ctx, f.ID, now()))
	})

	t.Run("no tenant", func(t *testing.T) {
		f := newFlow(t, s, ctx, c.ID, 15*time.Minute)
		bare := context.Background()
		wantErr(t, "CreateFlow", s.CreateFlow(bare, storage.AuthFlow{ID: "flw_" + rnd(t), CreatedAt: now(), ExpiresAt: at(time.Hour)}), storage.ErrNoTenant)
		_, err := s.GetFlow(bare, f.ID)
		wantErr(t, "GetFlow", err, storage.ErrNoTenant)
		wantErr(t, "AdvanceFlow", s.AdvanceFlow(bare, f.ID, now(), func(f storage.AuthFlow) (storage.AuthFlow, error) { return f, nil }), storage.ErrNoTenant)
		wantErr(t, "CompleteFlow", s.CompleteFlow(bare, f.ID, now()), storage.ErrNoTenant)
	})
}
