package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authio/authio/storage"
)

const authzChannel = "authz"

// authzCache keeps what every client-credentials token asks of storage besides the client: the resource
// server an audience names (for its lifetimes) and the machine client's roles and permissions. Entries live
// for a short TTL and a tenant's are dropped at once when its roles or resource servers change here or, over
// the cache's pub/sub, on another replica. User grants are not cached: a membership change must count on the
// very next sign-in, refresh or switch.
type authzCache struct {
	ttl time.Duration
	// unannounced, when set, reports whether changes on other replicas may currently go unannounced (Redis does
	// not answer); entries then live unannouncedTTL at most.
	unannounced func() bool
	mu          sync.RWMutex
	m           map[string]*tenantAuthz // tenant id -> entries
}

type tenantAuthz struct {
	rs     map[string]rsEntry     // audience -> resource server
	grants map[string]grantsEntry // client id + audiences -> grants
}

type rsEntry struct {
	rs      storage.ResourceServer
	found   bool
	expires time.Time
}

type grantsEntry struct {
	g       storage.Grants
	expires time.Time
}

func newAuthzCache(ttl time.Duration) *authzCache {
	return &authzCache{ttl: ttl, m: map[string]*tenantAuthz{}}
}

func (c *authzCache) tenant(tid string) *tenantAuthz {
	t := c.m[tid]
	if t == nil {
		if len(c.m) > 10000 {
			c.m = map[string]*tenantAuthz{}
		}
		t = &tenantAuthz{rs: map[string]rsEntry{}, grants: map[string]grantsEntry{}}
		c.m[tid] = t
	}
	return t
}

func (c *authzCache) getRS(tid, aud string, now time.Time) (rsEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t := c.m[tid]; t != nil {
		if e, ok := t.rs[aud]; ok && now.Before(e.expires) {
			return e, true
		}
	}
	return rsEntry{}, false
}

func (c *authzCache) putRS(tid, aud string, e rsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tenant(tid)
	if len(t.rs) > 1000 {
		t.rs = map[string]rsEntry{}
	}
	t.rs[aud] = e
}

func (c *authzCache) getGrants(tid, key string, now time.Time) (storage.Grants, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t := c.m[tid]; t != nil {
		if e, ok := t.grants[key]; ok && now.Before(e.expires) {
			return e.g, true
		}
	}
	return storage.Grants{}, false
}

func (c *authzCache) putGrants(tid, key string, e grantsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tenant(tid)
	if len(t.grants) > 10000 {
		t.grants = map[string]grantsEntry{}
	}
	t.grants[key] = e
}

func (c *authzCache) forget(tid string) {
	c.mu.Lock()
	delete(c.m, tid)
	c.mu.Unlock()
}

// flush forgets every tenant's entries.
func (c *authzCache) flush() {
	c.mu.Lock()
	c.m = map[string]*tenantAuthz{}
	c.mu.Unlock()
}

// entryTTL is how long a new entry lives.
func (c *authzCache) entryTTL() time.Duration {
	if c.unannounced != nil && c.unannounced() {
		return min(c.ttl, unannouncedTTL)
	}
	return c.ttl
}

// cachedResourceServer is ResourceServer's storage lookup through the cache.
func (s *Server) cachedResourceServer(ctx context.Context, audience string) (storage.ResourceServer, bool, error) {
	tid, _ := storage.TenantFromContext(ctx)
	now := s.Now()
	if e, ok := s.authz.getRS(tid, audience, now); ok {
		return e.rs, e.found, nil
	}
	rs, found, err := s.lookupResourceServer(ctx, audience)
	if err != nil {
		return rs, false, err
	}
	s.authz.putRS(tid, audience, rsEntry{rs: rs, found: found, expires: now.Add(s.authz.entryTTL())})
	return rs, found, nil
}

// clientGrants returns a machine client's roles and permissions on audiences through the cache.
func (s *Server) clientGrants(ctx context.Context, clientID string, audiences []string) (storage.Grants, error) {
	tid, _ := storage.TenantFromContext(ctx)
	key := clientID + "\x00" + strings.Join(audiences, "\x00")
	now := s.Now()
	if g, ok := s.authz.getGrants(tid, key, now); ok {
		return g, nil
	}
	g, err := s.Store.GrantsFor(ctx, storage.SubjectClient, clientID, audiences)
	if err != nil {
		return g, err
	}
	s.authz.putGrants(tid, key, grantsEntry{g: g, expires: now.Add(s.authz.entryTTL())})
	return g, nil
}

// authzChanged drops the tenant's cached resource servers and client grants here and tells other replicas.
// Call it after any change to roles, their permissions or assignments, or resource servers.
func (s *Server) authzChanged(ctx context.Context) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return
	}
	s.authz.forget(tid)
	s.announce(ctx, authzChannel, tid)
}
