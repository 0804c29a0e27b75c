package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

const tenantsChannel = "tenants"

// ErrUnknownHost means no tenant answers on the request's host.
var ErrUnknownHost = errors.New("unknown host")

// TenantResolver maps Host headers to tenants with a short-lived cache. Changes made elsewhere (CLI, another
// replica) are announced on the cache's pub/sub; unknown hosts are remembered only briefly so a domain added
// by the CLI is served within a second or two.
type TenantResolver struct {
	store  *storage.Store
	cache  cache.Cache
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time
	// Unannounced, when set, reports whether changes made by other processes may currently go unannounced (Redis
	// does not answer); resolutions are then cached for unannouncedTTL at most.
	Unannounced func() bool

	mu sync.RWMutex
	m  map[string]resolved
}

type resolved struct {
	t       storage.Tenant
	found   bool
	expires time.Time
}

// NewTenantResolver returns a resolver over store.
func NewTenantResolver(store *storage.Store, c cache.Cache) *TenantResolver {
	return &TenantResolver{store: store, cache: c, ttl: 30 * time.Second, negTTL: time.Second, now: time.Now, m: map[string]resolved{}}
}

// Subscribe drops the cache whenever any process announces a tenant or domain change.
func (r *TenantResolver) Subscribe(ctx context.Context) (func(), error) {
	return r.cache.Subscribe(ctx, tenantsChannel, func(string) { r.Flush() })
}

// Flush forgets every cached resolution.
func (r *TenantResolver) Flush() {
	r.mu.Lock()
	r.m = map[string]resolved{}
	r.mu.Unlock()
}

// Resolve returns the tenant answering on domain, a canonical domain name without port (canon.Domain, or
// the name part of canon.Host): the cache and the domain table both hold only that form.
func (r *TenantResolver) Resolve(ctx context.Context, domain string) (storage.Tenant, error) {
	name := domain
	now := r.now()
	r.mu.RLock()
	e, ok := r.m[name]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		if !e.found {
			return storage.Tenant{}, ErrUnknownHost
		}
		return e.t, nil
	}
	t, err := r.store.TenantByDomain(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		r.put(name, resolved{expires: now.Add(r.negTTL)})
		return storage.Tenant{}, ErrUnknownHost
	} else if err != nil {
		return storage.Tenant{}, err
	}
	ttl := r.ttl
	if r.Unannounced != nil && r.Unannounced() {
		ttl = min(ttl, unannouncedTTL)
	}
	r.put(name, resolved{t: t, found: true, expires: now.Add(ttl)})
	return t, nil
}

func (r *TenantResolver) put(name string, e resolved) {
	r.mu.Lock()
	if len(r.m) > 100000 {
		r.m = map[string]resolved{}
	}
	r.m[name] = e
	r.mu.Unlock()
}
