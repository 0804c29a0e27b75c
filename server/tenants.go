package server

import (
	"context"
	"errors"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// ErrUnknownHost means no tenant answers on the request's host.
var ErrUnknownHost = errors.New("unknown host")

// TenantResolver maps host names to tenants through the server's cache: a host to its tenant's id (memo.Host,
// or memo.UnknownHost for a host no tenant answers on), the id to the tenant's record (memo.Tenant). Committed
// changes to tenants and domains, here, on another replica or in the CLI, invalidate them (memo.ForChanges).
type TenantResolver struct {
	store *storage.Store
	memo  *memo.Memo
}

// NewTenantResolver returns a resolver over store, caching in m.
func NewTenantResolver(store *storage.Store, m *memo.Memo) *TenantResolver {
	return &TenantResolver{store: store, memo: m}
}

// Flush forgets every cached resolution and tenant record. Committed changes need no flush; a test that
// changes the database behind the store's back does.
func (r *TenantResolver) Flush() {
	r.memo.Invalidate(memo.Invalidation{Kinds: memo.Of(memo.Host, memo.UnknownHost, memo.Tenant)})
}

// Resolve returns the tenant answering on domain, a canonical domain name without port (canon.Domain, or
// the name part of canon.Host): the cache and the domain table both hold only that form.
func (r *TenantResolver) Resolve(ctx context.Context, domain string) (storage.Tenant, error) {
	// Both keys are taken before the database is read, so a change committed meanwhile leaves what this
	// reads behind (see memo.Memo).
	known := r.memo.Key(memo.Host, "", domain)
	id, ok := memo.Peek[string](ctx, r.memo, known)
	if !ok {
		unknown := r.memo.Key(memo.UnknownHost, "", domain)
		if _, ok := memo.Peek[struct{}](ctx, r.memo, unknown); ok {
			return storage.Tenant{}, ErrUnknownHost
		}
		t, err := r.store.TenantByDomain(ctx, domain)
		if errors.Is(err, storage.ErrNotFound) {
			r.memo.Put(ctx, unknown, struct{}{}, 0)
			return storage.Tenant{}, ErrUnknownHost
		} else if err != nil {
			return storage.Tenant{}, err
		}
		r.memo.Put(ctx, known, t.ID, len(t.ID))
		id = t.ID
	}
	// The record is cached apart (read again on a cold host), so a change to the tenant leaves its hosts be.
	t, err := r.Tenant(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return t, ErrUnknownHost
	}
	return t, err
}

// Tenant returns the record of the tenant with id.
func (r *TenantResolver) Tenant(ctx context.Context, id string) (storage.Tenant, error) {
	return memo.Get(ctx, r.memo, memo.Tenant, id, "", func(ctx context.Context) (storage.Tenant, int, error) {
		t, err := r.store.GetTenant(ctx, id)
		return t, memo.SizeOf(t), err
	})
}
