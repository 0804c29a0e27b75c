package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// TestActOnTenant: crossing tenants is one explicit call that leaves an event in both audit logs and commits
// or rolls back with the work it wraps.
func TestActOnTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		ops, acme := env.NewTenant("ops"), env.NewTenant("acme")
		s := env.S
		events := func(tn *testenv.Tenant) []storage.AuditEvent {
			t.Helper()
			es, err := s.Store.ListAudit(tn.Ctx, storage.AuditFilter{Type: server.EventTenantAccessed})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		actor := audit.WithActor(ops.Ctx, audit.Actor{Kind: "user", ID: "user_support"})
		err := s.ActOnTenant(actor, acme.ID, "ticket 42", func(ctx context.Context) error {
			if id, _ := tenancy.TenantID(ctx); id != acme.ID {
				t.Errorf("fn ran in tenant %q, want %q", id, acme.ID)
			}
			return s.Store.CreateUser(ctx, storage.User{ID: ids.New("user"), Email: "x@acme.test",
				CreatedAt: s.Now().UTC(), UpdatedAt: s.Now().UTC()})
		})
		if err != nil {
			t.Fatalf("ActOnTenant: %v", err)
		}
		src, dst := events(ops), events(acme)
		if len(src) != 1 || src[0].Data["target_tenant_id"] != acme.ID || src[0].Actor != "user:user_support" {
			t.Errorf("acting tenant's events = %+v", src)
		}
		if len(dst) != 1 || dst[0].Data["source_tenant_id"] != ops.ID || dst[0].Actor != "user:user_support" {
			t.Errorf("target tenant's events = %+v", dst)
		}
		if _, err := s.Store.GetUserByEmail(acme.Ctx, "x@acme.test"); err != nil {
			t.Errorf("work done through ActOnTenant is not in the target tenant: %v", err)
		}
		if _, err := s.Store.GetUserByEmail(ops.Ctx, "x@acme.test"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("work done through ActOnTenant leaked into the acting tenant: %v", err)
		}

		// A failing fn rolls back both events with its own writes.
		boom := errors.New("boom")
		if err := s.ActOnTenant(ops.Ctx, acme.ID, "x", func(context.Context) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if n, m := len(events(ops)), len(events(acme)); n != 1 || m != 1 {
			t.Errorf("after a failed act: %d and %d events, want 1 and 1 (rolled back)", n, m)
		}

		if err := s.ActOnTenant(context.Background(), acme.ID, "x", func(context.Context) error { return nil }); !errors.Is(err, tenancy.ErrNoScope) {
			t.Errorf("without an acting scope: err = %v, want ErrNoScope", err)
		}
		if err := s.ActOnTenant(acme.Ctx, acme.ID, "x", func(context.Context) error { return nil }); !errors.Is(err, server.ErrSameTenant) {
			t.Errorf("onto itself: err = %v, want ErrSameTenant", err)
		}
		if err := s.ActOnTenant(ops.Ctx, "ten_nope", "x", func(context.Context) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown target: err = %v, want ErrNotFound", err)
		}
	})
}
