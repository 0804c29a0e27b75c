package storage

import (
	"context"

	"gorm.io/gorm"
)

// Tenant scoping, in one place. Every tenant-owned read starts from scoped, every create goes through create,
// every update of a whole record through update, and every delete through deleteWhere: each takes the tenant
// from ctx (ErrNoTenant without one) and never from the caller's value. The few joins that name their tables
// with aliases take the id from tenantOf and write "alias.tenant_id = ?" themselves.

// tenantOf returns the tenant id in ctx; ErrNoTenant when there is none.
func tenantOf(ctx context.Context) (string, error) {
	tid, ok := TenantFromContext(ctx)
	if !ok {
		return "", ErrNoTenant
	}
	return tid, nil
}

// scoped is the one place tenant scoping happens: every tenant-owned query starts here. The returned query is
// a gorm session, safe to start several queries from: each chain copies the tenant condition and nothing that
// another chain added.
func (s *Store) scoped(ctx context.Context) (*gorm.DB, string, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.conn(ctx).Where("tenant_id = ?", tid).Session(&gorm.Session{}), tid, nil
}

// create stores a tenant-owned row after stamping the context's tenant on it.
func (s *Store) create(ctx context.Context, row any, setTenant func(string)) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	setTenant(tid)
	return mapErr(s.conn(ctx).Create(row).Error)
}

// deleteWhere deletes the tenant's rows of model matching where; ErrNotFound when none matched.
func (s *Store) deleteWhere(ctx context.Context, model any, where string, args ...any) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := db.Where(where, args...).Delete(model)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// update writes every column of row, a tenant-owned model, to the record with id in the tenant of ctx. The
// caller has read the stored record in the same transaction and copied its id, tenant and creation time over.
func (s *Store) update(ctx context.Context, id string, row any) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return mapErr(db.Where("id = ?", id).Select("*").Updates(row).Error)
}
