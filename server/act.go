package server

import (
	"context"
	"errors"

	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// EventTenantAccessed records that one tenant (the acting scope) acted on another: written in both tenants'
// audit logs, with the other tenant's id in Data.
const EventTenantAccessed = "tenant.accessed"

// ErrSameTenant is returned by ActOnTenant when the target is the tenant already in scope: no cross-tenant act.
var ErrSameTenant = errors.New("act on tenant: the target is the tenant already in scope")

// ActOnTenant runs fn in the scope of another tenant (target, by id) on behalf of the tenant in ctx's scope: the
// one way to cross tenants (the control plane will manage customer tenants with it). In one transaction it
// records EventTenantAccessed, with reason, in the acting tenant's audit log (data.target_tenant_id) and in the
// target's (data.source_tenant_id), then runs fn with a storage-only scope of the target; fn's writes commit or
// roll back with both events. The actor (WithActor) is carried into the target scope. tenancy.ErrNoScope
// when ctx has no acting tenant, ErrSameTenant when target is it, storage.ErrNotFound for an unknown target.
func (s *Server) ActOnTenant(ctx context.Context, target, reason string, fn func(ctx context.Context) error) error {
	source, err := tenancy.TenantID(ctx)
	if err != nil {
		return err
	}
	t, err := s.Store.GetTenant(ctx, target)
	if err != nil {
		return err
	}
	if t.ID == source {
		return ErrSameTenant
	}
	return s.Store.InTx(ctx, func(tx context.Context) error {
		if err := s.Audit(tx, storage.AuditEvent{Type: EventTenantAccessed,
			Data: storage.JSONMap{"target_tenant_id": t.ID, "reason": reason}}); err != nil {
			return err
		}
		tctx := storage.WithTenant(tx, t.ID)
		if err := s.Audit(tctx, storage.AuditEvent{Type: EventTenantAccessed,
			Data: storage.JSONMap{"source_tenant_id": source, "reason": reason}}); err != nil {
			return err
		}
		return fn(tctx)
	})
}
