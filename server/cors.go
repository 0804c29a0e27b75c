package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authio/authio/storage"
)

// originCache remembers each tenant's registered web origins for a few seconds.
type originCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]originEntry
}

type originEntry struct {
	set     map[string]bool
	expires time.Time
}

func newOriginCache(ttl time.Duration) *originCache {
	return &originCache{ttl: ttl, m: map[string]originEntry{}}
}

func (c *originCache) flush() {
	c.mu.Lock()
	c.m = map[string]originEntry{}
	c.mu.Unlock()
}

// AllowedOrigin reports whether origin is a web origin registered by any client of the tenant in ctx.
func (s *Server) AllowedOrigin(ctx context.Context, origin string) bool {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok || origin == "" {
		return false
	}
	now := s.Now()
	s.origins.mu.RLock()
	e, ok := s.origins.m[tid]
	s.origins.mu.RUnlock()
	if !ok || now.After(e.expires) {
		clients, err := s.Store.ListClients(ctx)
		if err != nil {
			return false
		}
		e = originEntry{set: map[string]bool{}, expires: now.Add(s.origins.ttl)}
		for _, c := range clients {
			for _, o := range c.WebOrigins {
				e.set[strings.ToLower(o)] = true
			}
		}
		s.origins.mu.Lock()
		s.origins.m[tid] = e
		s.origins.mu.Unlock()
	}
	return e.set[strings.ToLower(origin)]
}
