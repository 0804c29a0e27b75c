package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/ory/fosite"

	"github.com/authio/authio/storage"
)

// testWriteTogether checks that a write group stores its token records and audit events all together or not at
// all, and only in its own tenant.
func testWriteTogether(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	c := newClient(t, s, ctx)
	event := func(id string) storage.AuditEvent {
		return storage.AuditEvent{ID: id, TenantID: tn.ID, Type: "session.org_switched", UserID: "usr_1", CreatedAt: now()}
	}
	// write stores an access and a refresh token and one audit event in one group; fail makes fn fail last.
	write := func(at, rt, eventID string, fail error) error {
		req := newRequest(t, c)
		return s.WriteTogether(ctx, func(ctx context.Context) error {
			if err := s.CreateAccessTokenSession(ctx, at, req); err != nil {
				return err
			}
			if err := s.CreateRefreshTokenSession(ctx, rt, at, req); err != nil {
				return err
			}
			if err := s.AppendAudit(ctx, event(eventID)); err != nil {
				return err
			}
			return fail
		})
	}
	stored := func(t *testing.T, ctx context.Context, at, rt, eventID string) (tokens, events int) {
		t.Helper()
		if _, err := s.GetAccessTokenSession(ctx, at, newSessionTarget()); err == nil {
			tokens++
		} else if !errors.Is(err, fosite.ErrNotFound) {
			t.Fatalf("GetAccessTokenSession: %v", err)
		}
		if _, err := s.GetRefreshTokenSession(ctx, rt, newSessionTarget()); err == nil {
			tokens++
		} else if !errors.Is(err, fosite.ErrNotFound) {
			t.Fatalf("GetRefreshTokenSession: %v", err)
		}
		evs, err := s.ListAudit(ctx, storage.AuditFilter{Type: "session.org_switched"})
		mustNil(t, "ListAudit", err)
		for _, e := range evs {
			if e.ID == eventID {
				events++
			}
		}
		return tokens, events
	}

	t.Run("stores everything", func(t *testing.T) {
		at, rt, id := "at-"+rnd(t), "rt-"+rnd(t), "evt_"+rnd(t)
		mustNil(t, "WriteTogether", write(at, rt, id, nil))
		if tokens, events := stored(t, ctx, at, rt, id); tokens != 2 || events != 1 {
			t.Fatalf("after the group: %d tokens and %d events stored, want 2 and 1", tokens, events)
		}
		// Another tenant sees none of it.
		if tokens, events := stored(t, ctxB, at, rt, id); tokens != 0 || events != 0 {
			t.Fatalf("tenant B sees %d tokens and %d events of tenant A's group, want none", tokens, events)
		}
	})
	t.Run("fn fails: nothing stored", func(t *testing.T) {
		at, rt, id := "at-"+rnd(t), "rt-"+rnd(t), "evt_"+rnd(t)
		boom := errors.New("boom")
		wantErr(t, "WriteTogether", write(at, rt, id, boom), boom)
		if tokens, events := stored(t, ctx, at, rt, id); tokens != 0 || events != 0 {
			t.Fatalf("after a failed fn: %d tokens and %d events stored, want none", tokens, events)
		}
	})
	t.Run("write fails: nothing stored", func(t *testing.T) {
		// An event id that is taken makes the group's write fail after its token rows were sent with it.
		taken := "evt_" + rnd(t)
		mustNil(t, "AppendAudit", s.AppendAudit(ctx, event(taken)))
		at, rt := "at-"+rnd(t), "rt-"+rnd(t)
		if err := write(at, rt, taken, nil); err == nil {
			t.Fatal("WriteTogether with a duplicate event id succeeded")
		}
		if tokens, _ := stored(t, ctx, at, rt, taken); tokens != 0 {
			t.Fatalf("after a failed write: %d tokens stored, want none", tokens)
		}
	})
	t.Run("inside a transaction joins it", func(t *testing.T) {
		at, rt, id := "at-"+rnd(t), "rt-"+rnd(t), "evt_"+rnd(t)
		rollback := errors.New("rollback")
		err := s.InTx(ctx, func(ctx context.Context) error {
			req := newRequest(t, c)
			err := s.WriteTogether(ctx, func(ctx context.Context) error {
				if err := s.CreateAccessTokenSession(ctx, at, req); err != nil {
					return err
				}
				return s.AppendAudit(ctx, event(id))
			})
			mustNil(t, "WriteTogether in a transaction", err)
			if _, err := s.GetAccessTokenSession(ctx, at, newSessionTarget()); err != nil {
				t.Fatalf("the transaction does not see its group's token: %v", err)
			}
			return rollback
		})
		wantErr(t, "InTx", err, rollback)
		if tokens, events := stored(t, ctx, at, rt, id); tokens != 0 || events != 0 {
			t.Fatalf("after the rollback: %d tokens and %d events stored, want none", tokens, events)
		}
	})
}

// testReadTx checks that InReadTx reads what is committed, in the tenant in scope only, and returns fn's error.
func testReadTx(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	c := newClient(t, s, ctx)
	sig := "at-" + rnd(t)
	req := newRequest(t, c)
	mustNil(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, sig, req))
	mustNil(t, "InReadTx", s.InReadTx(ctx, func(ctx context.Context) error {
		got, err := s.GetAccessTokenSession(ctx, sig, newSessionTarget())
		if err != nil {
			return err
		}
		assertRequest(t, req, got)
		fc, err := s.GetClient(ctx, c.ID)
		if err != nil {
			return err
		}
		if fc.GetID() != c.ID {
			t.Fatalf("GetClient in a read transaction = %s, want %s", fc.GetID(), c.ID)
		}
		return nil
	}))
	err := s.InReadTx(ctxB, func(ctx context.Context) error {
		_, err := s.GetAccessTokenSession(ctx, sig, newSessionTarget())
		return err
	})
	wantErr(t, "tenant B reading tenant A's token in a read transaction", err, fosite.ErrNotFound)
}
