// Package memo is Authio's one in-process cache of what requests read from the database on every call: tenants
// and the hosts they answer on, signing keys, clients, machine-client grants, resource servers, CORS origins, and
// the discovery and JWKS documents. Entries are keyed by tenant and bounded by an estimate of their size in bytes
// (a W-TinyLFU cache, github.com/maypok86/otter). They live until a committed change invalidates them (see
// ForChanges, kinds.go) or, should an invalidation be lost, until a long safety TTL ends.
package memo

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"
)

// Defaults of Options.
const (
	DefaultMaxBytes = 128 << 20
	DefaultTTL      = 10 * time.Minute
	DefaultShortTTL = 2 * time.Second
)

// entryOverhead is what an entry costs besides its key's strings and its value: the cache's node and its
// bookkeeping (the frequency sketch, the eviction queues), the entry struct and the value's interface box.
const entryOverhead = 192

// Options configure a Memo. Zero values take the defaults.
type Options struct {
	// MaxBytes bounds the sum of the entries' estimated sizes (AUTHIO_CACHE_MAX_BYTES).
	MaxBytes int64
	// TTL is the safety TTL: the longest an entry lives when no invalidation reaches it (AUTHIO_CACHE_TTL).
	TTL time.Duration
	// ShortTTL is the life of entries loaded while Unannounced reports true.
	ShortTTL time.Duration
	// Unannounced reports whether invalidations from other processes may currently be lost (Redis does not
	// answer); entries loaded meanwhile live ShortTTL at most.
	Unannounced func() bool
	// Uncommitted reports whether what is read with ctx from sources may hold changes not committed yet: ctx
	// carries a transaction that wrote to one of their tables (storage.WrittenInTransaction). Such a read
	// neither uses nor fills the cache. A transaction's other reads are of committed rows, and go through it.
	Uncommitted func(ctx context.Context, sources []Source) bool
	// Now, when set, is the clock entries expire by (tests); the default is the system's.
	Now func() time.Time
}

// clock adapts Options.Now to the cache library; it has no ticks, so expired entries go at the next writes
// rather than on a timer (they are never served either way).
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                      { return c.now().UnixNano() }
func (c clock) Tick(time.Duration) <-chan time.Time { return nil }

// Memo is the cache. Its methods are safe for concurrent use.
type Memo struct {
	c           *otter.Cache[Key, *entry]
	stats       *stats.Counter
	ttl         time.Duration
	shortTTL    time.Duration
	unannounced func() bool
	uncommitted func(ctx context.Context, sources []Source) bool

	// Invalidation is by generation: every key carries the generation of its kind and tenant when it was
	// looked up, and an invalidation moves the generation on, so the old entries are never found again (the
	// eviction policy drops them as the coldest). A value loaded while an invalidation happens is stored under
	// the generation read before the load, which the invalidation has left behind: no stale value survives
	// the race between a load and a commit.
	global  gens
	mu      sync.RWMutex
	tenants map[string]*gens

	loads    [numKinds]atomic.Uint64
	requests [numKinds]atomic.Uint64
}

// gens are the generations of one scope (every tenant, or one): all moves on for every kind, kind[k] for one.
type gens struct {
	all  atomic.Uint64
	kind [numKinds]atomic.Uint64
}

// Key identifies an entry: kind, tenant ("" for global kinds), id within them, and the generation it was made
// under.
type Key struct {
	Tenant string
	ID     string
	gen    uint64
	Kind   Kind
}

type entry struct {
	v    any
	cost uint32
	ttl  time.Duration
}

// New returns an empty cache. Close stops its maintenance goroutine.
func New(o Options) *Memo {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.ShortTTL <= 0 {
		o.ShortTTL = DefaultShortTTL
	}
	m := &Memo{stats: stats.NewCounter(), ttl: o.TTL, shortTTL: min(o.ShortTTL, o.TTL), unannounced: o.Unannounced,
		uncommitted: o.Uncommitted, tenants: map[string]*gens{}}
	var clk otter.Clock
	if o.Now != nil {
		clk = clock{o.Now}
	}
	m.c = otter.Must(&otter.Options[Key, *entry]{
		Clock:         clk,
		MaximumWeight: uint64(o.MaxBytes),
		Weigher: func(k Key, e *entry) uint32 {
			return e.cost + uint32(len(k.Tenant)+len(k.ID))
		},
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[Key, *entry]) time.Duration { return e.Value.ttl }),
		StatsRecorder:    m.stats,
	})
	return m
}

// Close stops the cache's background work. The cache still answers afterwards.
func (m *Memo) Close() { m.c.StopAllGoroutines() }

// SetUnannounced sets Options.Unannounced (before the cache is used).
func (m *Memo) SetUnannounced(f func() bool) { m.unannounced = f }

// gen is the current generation of kind k for tenant.
func (m *Memo) gen(k Kind, tenant string) uint64 {
	g := m.global.all.Load() + m.global.kind[k].Load()
	if kinds[k].global || tenant == "" {
		return g
	}
	m.mu.RLock()
	t := m.tenants[tenant]
	m.mu.RUnlock()
	if t != nil {
		g += t.all.Load() + t.kind[k].Load()
	}
	return g
}

// Key returns the key of id among tenant's entries of kind k, in the current generation. Take it before reading
// what the entry will hold (see Peek and Put).
func (m *Memo) Key(k Kind, tenant, id string) Key {
	if kinds[k].global {
		tenant = ""
	}
	return Key{Tenant: tenant, ID: id, gen: m.gen(k, tenant), Kind: k}
}

// newEntry wraps v with its cost (size in bytes, key and bookkeeping added) and its life.
func (m *Memo) newEntry(k Kind, v any, size int) *entry {
	ttl := m.ttl
	if m.unannounced != nil && m.unannounced() {
		ttl = m.shortTTL
	}
	if a := kinds[k].maxAge; a > 0 && a < ttl {
		ttl = a
	}
	cost := uint64(max(size, 0)) + entryOverhead
	return &entry{v: v, cost: uint32(min(cost, 1<<31)), ttl: ttl}
}

// Get returns id among tenant's entries of kind k, calling load on a miss (once for concurrent misses of the
// same key). load returns the value and an estimate of its size in bytes (what it holds on the heap). A load
// error is returned as it is and nothing is cached. When what ctx reads of k may be uncommitted
// (Options.Uncommitted), Get only calls load.
func Get[V any](ctx context.Context, m *Memo, k Kind, tenant, id string, load func(ctx context.Context) (V, int, error)) (V, error) {
	if m.bypass(ctx, k) {
		v, _, err := load(ctx)
		return v, err
	}
	m.requests[k].Add(1)
	e, err := m.c.Get(ctx, m.Key(k, tenant, id), otter.LoaderFunc[Key, *entry](func(ctx context.Context, _ Key) (*entry, error) {
		m.loads[k].Add(1)
		v, size, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return m.newEntry(k, v, size), nil
	}))
	if err != nil {
		var zero V
		return zero, err
	}
	return e.v.(V), nil
}

// bypass reports whether a read of k with ctx must neither use nor fill the cache.
func (m *Memo) bypass(ctx context.Context, k Kind) bool {
	return m.uncommitted != nil && len(kinds[k].sources) > 0 && m.uncommitted(ctx, kinds[k].sources)
}

// Peek returns the value at key, if it is cached and what ctx reads of its kind is committed.
func Peek[V any](ctx context.Context, m *Memo, key Key) (V, bool) {
	if m.bypass(ctx, key.Kind) {
		var zero V
		return zero, false
	}
	m.requests[key.Kind].Add(1)
	e, ok := m.c.GetIfPresent(key)
	if !ok {
		var zero V
		return zero, false
	}
	return e.v.(V), true
}

// Put stores v, of the given size in bytes, at key: a key taken (Key) before v was read, so that an invalidation
// in between leaves v behind.
func (m *Memo) Put(ctx context.Context, key Key, v any, size int) {
	if m.bypass(ctx, key.Kind) {
		return
	}
	m.loads[key.Kind].Add(1)
	m.c.Set(key, m.newEntry(key.Kind, v, size))
}

// Invalidate drops the entries each invalidation names.
func (m *Memo) Invalidate(invs ...Invalidation) {
	for _, inv := range invs {
		var t *gens
		for k := range numKinds {
			if !inv.Kinds.Has(k) {
				continue
			}
			if kinds[k].global || inv.Tenant == "" {
				m.global.kind[k].Add(1)
				continue
			}
			if t == nil {
				t = m.scope(inv.Tenant)
			}
			t.kind[k].Add(1)
		}
	}
}

// DropTenant drops every entry of tenant.
func (m *Memo) DropTenant(tenant string) { m.scope(tenant).all.Add(1) }

// Flush drops every entry.
func (m *Memo) Flush() { m.global.all.Add(1) }

func (m *Memo) scope(tenant string) *gens {
	m.mu.RLock()
	t := m.tenants[tenant]
	m.mu.RUnlock()
	if t != nil {
		return t
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t = m.tenants[tenant]; t == nil {
		t = &gens{}
		m.tenants[tenant] = t
	}
	return t
}

// Stats are counts since the cache was made, and its size now.
type Stats struct {
	// Requests and Loads count lookups and the misses among them that read the database, by kind name.
	Requests, Loads map[string]uint64
	// Held and HeldBytes are the entries held now and their estimated size, by kind name (only from Held).
	Held, HeldBytes map[string]uint64
	Evictions       uint64 // entries the size bound pushed out
	Entries         int    // entries held now (expired ones not yet removed included)
	Bytes           uint64 // their estimated size
	MaxBytes        uint64
}

// Held returns Stats with Held and HeldBytes filled in, which takes a walk over every entry.
func (m *Memo) Held() Stats {
	st := m.Stats()
	st.Held, st.HeldBytes = map[string]uint64{}, map[string]uint64{}
	for k, e := range m.c.All() {
		st.Held[k.Kind.String()]++
		st.HeldBytes[k.Kind.String()] += uint64(e.cost) + uint64(len(k.Tenant)+len(k.ID))
	}
	return st
}

// Stats returns the cache's counts, after its pending maintenance (evictions) has run.
func (m *Memo) Stats() Stats {
	m.c.CleanUp()
	st := Stats{Requests: map[string]uint64{}, Loads: map[string]uint64{}, Evictions: m.stats.Snapshot().Evictions,
		Entries: m.c.EstimatedSize(), Bytes: m.c.WeightedSize(), MaxBytes: m.c.GetMaximum()}
	for k := range numKinds {
		st.Requests[k.String()] = m.requests[k].Load()
		st.Loads[k.String()] = m.loads[k].Load()
	}
	return st
}
