package server

import (
	"context"
	"errors"

	"github.com/authio/authio/keys"
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
	keys  *keys.KeyManager
}

// NewTenantResolver returns a resolver over store, caching in m; km gives the tenants' published keys, which a
// host's entry holds with its tenant's record (ResolveHost).
func NewTenantResolver(store *storage.Store, m *memo.Memo, km *keys.KeyManager) *TenantResolver {
	return &TenantResolver{store: store, memo: m, keys: km}
}

// ResolvedHost is what a host resolves to: its tenant's record and that tenant's JWKS document (RFC 7517 §5), as
// committed when the host's cache entry was made and until a change to either drops it. Read-only: it is shared
// by every request on the host.
type ResolvedHost struct {
	Tenant storage.Tenant
	// JWKS is the tenant's published key set, serialized; "" when it could not be read with the record (the key
	// manager then answers, and reports why).
	JWKS string
}

// Flush forgets every cached resolution and tenant record. Committed changes need no flush; a test that
// changes the database behind the store's back does.
func (r *TenantResolver) Flush() {
	r.memo.Invalidate(memo.Invalidation{Kinds: memo.Of(memo.Host, memo.UnknownHost, memo.Tenant)})
}

// Resolve returns the tenant answering on domain, a canonical domain name without port (canon.Domain, or
// the name part of canon.Host): the cache and the domain table both hold only that form. ErrUnknownHost when no
// tenant answers on it.
func (r *TenantResolver) Resolve(ctx context.Context, domain string) (storage.Tenant, error) {
	h, err := r.ResolveHost(ctx, domain)
	if err != nil {
		return storage.Tenant{}, err
	}
	return h.Tenant, nil
}

// ResolveHost is Resolve with the tenant's JWKS document. A known host's cache entry holds both (memo.PutBound)
// in one allocation, so a request finds its tenant, and a JWKS request its answer, with one cache lookup; a
// committed change to the tenant, its keys or the host's domain drops the entry.
func (r *TenantResolver) ResolveHost(ctx context.Context, domain string) (*ResolvedHost, error) {
	if h, ok := memo.Peek[*ResolvedHost](ctx, r.memo, memo.Host, "", domain); ok {
		return h, nil
	}
	if _, ok := memo.Peek[struct{}](ctx, r.memo, memo.UnknownHost, "", domain); ok {
		return nil, ErrUnknownHost
	}
	// Both keys are taken before the database is read, so a change committed meanwhile leaves what this reads
	// behind (see memo.Memo).
	known, unknown := r.memo.Key(memo.Host, "", domain), r.memo.Key(memo.UnknownHost, "", domain)
	t, err := r.store.TenantByDomain(ctx, domain)
	if errors.Is(err, storage.ErrNotFound) {
		r.memo.Put(ctx, unknown, struct{}{}, 0)
		return nil, ErrUnknownHost
	} else if err != nil {
		return nil, err
	}
	// The record and the keys come from the tenant's own entries (read again on a cold host), under generations
	// taken first, so that a change to the tenant or its keys drops the host's entry too.
	dep := r.memo.Deps(t.ID, memo.Tenant, memo.PublicKeys)
	rec, err := r.tenant(ctx, t.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnknownHost
	} else if err != nil {
		return nil, err
	}
	h := &ResolvedHost{Tenant: *rec}
	var jwks []byte
	if pk, err := r.keys.PublicKeys(storage.WithTenant(ctx, t.ID)); err == nil {
		jwks = pk.JWKS
	}
	known.ID = compactStrings(h, domain, jwks)
	r.memo.PutBound(ctx, known, h, memo.SizeOf(*h)+len(domain), dep)
	return h, nil
}

// compactStrings puts the strings a request reads from a host's entry — the host name it is found by, the
// tenant's id, slug and signing algorithm, and the JWKS document — into one allocation, in that order, and returns
// the host name's copy: every object a request touches is a likely cache and TLB miss when requests spread over
// thousands of tenants, and the lookup's key comparison brings in the rest.
func compactStrings(h *ResolvedHost, domain string, jwks []byte) string {
	t := &h.Tenant
	buf := domain + t.ID + t.Slug + t.SigningAlg + string(jwks)
	cut := func(n int) string {
		s := buf[:n]
		buf = buf[n:]
		return s
	}
	domain = cut(len(domain))
	t.ID, t.Slug, t.SigningAlg = cut(len(t.ID)), cut(len(t.Slug)), cut(len(t.SigningAlg))
	h.JWKS = cut(len(jwks))
	return domain
}

// Tenant returns the record of the tenant with id.
func (r *TenantResolver) Tenant(ctx context.Context, id string) (storage.Tenant, error) {
	t, err := r.tenant(ctx, id)
	if err != nil {
		return storage.Tenant{}, err
	}
	return *t, nil
}

// tenant returns the cached record of the tenant with id, shared with the hosts that answer for it: read-only.
func (r *TenantResolver) tenant(ctx context.Context, id string) (*storage.Tenant, error) {
	return memo.Get(ctx, r.memo, memo.Tenant, id, "", func(ctx context.Context) (*storage.Tenant, int, error) {
		t, err := r.store.GetTenant(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		return &t, memo.SizeOf(t), nil
	})
}
