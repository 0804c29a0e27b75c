// Package memo is Authio's one in-process cache of what requests read from the database on every call: tenants
// and the hosts they answer on, signing keys, clients, machine-client grants, resource servers, CORS origins, and
// the discovery and JWKS documents. Entries are keyed by tenant and bounded by an estimate of their size in bytes
// (a W-TinyLFU cache, github.com/maypok86/otter). They live until a committed change invalidates them (see
// ForChanges, kinds.go) or, should an invalidation be lost, until a long safety TTL ends.
package memo

import (
	"context"
	"math/rand/v2"
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
	c           *otter.Cache[ckey, entry]
	stats       *stats.Counter
	ttl         time.Duration
	shortTTL    time.Duration
	unannounced func() bool
	uncommitted func(ctx context.Context, sources []Source) bool

	// Invalidation is by generation: every entry carries the generation of its kind and tenant read before its
	// value was, and an invalidation moves the generation on, so the entries it names are never served again
	// (the next read loads the value anew, in place). A value loaded while an invalidation happens carries the
	// generation read before the load, which the invalidation has left behind: no stale value survives the race
	// between a load and a commit. An entry points at its tenant's generations, so a read checks them without
	// looking the tenant up.
	global  gens
	mu      sync.RWMutex
	tenants map[string]*gens

	// loads counts the misses that read the database, by kind (hits and misses are the library's, on counters
	// striped across cores: they are counted on every request).
	loads [numKinds]atomic.Uint64
	// seq numbers the entries made, so that an entry can be told from another with the same value.
	seq atomic.Uint64
}

// gens are the generations of one scope (every tenant, or one): all moves on for every kind, kind[k] for one.
type gens struct {
	all  atomic.Uint64
	kind [numKinds]atomic.Uint64
}

// ckey is where an entry is held: kind, tenant ("" for global kinds) and id within them.
type ckey struct {
	Tenant string
	ID     string
	Kind   Kind
}

// Key identifies an entry (kind, tenant, id) with the generation of its kind and tenant when the key was taken:
// take it before reading the value to store (Put), so that a change committed in between leaves the value
// behind.
type Key struct {
	Tenant string
	ID     string
	Kind   Kind
	scope  *gens
	gen    uint64
}

// entry is what the cache holds at a key, inline in the library's node: a read of a cached value touches the
// node and the value, not a third object between them (on a machine serving thousands of tenants every object
// a request touches is a likely cache and TLB miss).
type entry struct {
	v     any
	scope *gens  // the tenant's generations; nil for a global kind
	gen   uint64 // the generation of the entry's kind and tenant read before v was
	// deps, when not empty, are more kinds v was read from, of the tenant whose generations dep are (a host's
	// tenant record and keys, PutBound), and depGen their generation read before v was.
	dep    *gens
	depGen uint64
	deps   KindSet
	kind   Kind
	cost   uint32
	ttl    time.Duration
	seq    uint64
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
	m.c = otter.Must(&otter.Options[ckey, entry]{
		Clock:         clk,
		MaximumWeight: uint64(o.MaxBytes),
		Weigher: func(k ckey, e entry) uint32 {
			return e.cost + uint32(len(k.Tenant)+len(k.ID))
		},
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[ckey, entry]) time.Duration { return e.Value.ttl }),
		StatsRecorder:    m.stats,
	})
	return m
}

// Close stops the cache's background work. The cache still answers afterwards.
func (m *Memo) Close() { m.c.StopAllGoroutines() }

// SetUnannounced sets Options.Unannounced (before the cache is used).
func (m *Memo) SetUnannounced(f func() bool) { m.unannounced = f }

// genOf is the current generation of kind k in scope t (nil: a global kind, or every tenant).
func (m *Memo) genOf(k Kind, t *gens) uint64 {
	g := m.global.all.Load() + m.global.kind[k].Load()
	if t != nil {
		g += t.all.Load() + t.kind[k].Load()
	}
	return g
}

// scopeOf returns the generations entries of kind k of tenant answer to: nil for a global kind or no tenant.
func (m *Memo) scopeOf(k Kind, tenant string) *gens {
	if kinds[k].global || tenant == "" {
		return nil
	}
	return m.scope(tenant)
}

// fresh reports whether no invalidation has named e since its value was read. Generations only grow, so equal
// sums mean no change.
func (m *Memo) fresh(e *entry) bool {
	return e.gen == m.genOf(e.kind, e.scope) && (e.deps == 0 || e.depGen == m.depsGen(e.deps, e.dep))
}

// depsGen is the sum of the generations of kinds ks in scope t.
func (m *Memo) depsGen(ks KindSet, t *gens) uint64 {
	var g uint64
	for k := range numKinds {
		if ks.Has(k) {
			g += m.genOf(k, t)
		}
	}
	return g
}

// Dep names kinds of one tenant a value is also read from, with their generation when it was taken (Deps).
type Dep struct {
	scope *gens
	kinds KindSet
	gen   uint64
}

// Deps returns the current generation of tenant's entries of kinds ks. Take it before reading what of them a
// value holds (see PutBound).
func (m *Memo) Deps(tenant string, ks ...Kind) Dep {
	var set KindSet
	var t *gens
	for _, k := range ks {
		set |= 1 << k
		if !kinds[k].global && tenant != "" {
			t = m.scope(tenant)
		}
	}
	return Dep{scope: t, kinds: set, gen: m.depsGen(set, t)}
}

// Key returns the key of id among tenant's entries of kind k, in the current generation. Take it before reading
// what the entry will hold (see Put).
func (m *Memo) Key(k Kind, tenant, id string) Key {
	if kinds[k].global {
		tenant = ""
	}
	t := m.scopeOf(k, tenant)
	return Key{Tenant: tenant, ID: id, Kind: k, scope: t, gen: m.genOf(k, t)}
}

func (k Key) ckey() ckey { return ckey{Tenant: k.Tenant, ID: k.ID, Kind: k.Kind} }

// ttlSpread is the share of its life an entry may lose at random (see newEntry).
const ttlSpread = 5

// newEntry wraps v, read at key, with its cost (size in bytes, key and bookkeeping added) and its life: the
// safety TTL less up to a fifth of it at random, so that entries loaded together (every tenant's, after a restart
// or a warm-up) are not all read again at the same moment one TTL later.
func (m *Memo) newEntry(key Key, v any, size int) entry {
	ttl := m.ttl
	if m.unannounced != nil && m.unannounced() {
		ttl = m.shortTTL
	}
	if a := kinds[key.Kind].maxAge; a > 0 && a < ttl {
		ttl = a
	}
	ttl -= rand.N(ttl/ttlSpread + 1)
	cost := uint64(max(size, 0)) + entryOverhead
	return entry{v: v, scope: key.scope, gen: key.gen, kind: key.Kind, cost: uint32(min(cost, 1<<31)), ttl: ttl,
		seq: m.seq.Add(1)}
}

// lookup returns the entry held at k, fresh or not. Most reads leave the eviction policy alone: it learns of
// one read in quietSample (at random), which keeps the keys' relative frequencies and spares a request the
// policy's bookkeeping (its read buffer, and the reordering of entries scattered over the heap, which is what
// makes a read of one of many tenants cost more than a read of one). Hits are counted either way.
func (m *Memo) lookup(k ckey) (entry, bool) {
	if rand.Uint32()%quietSample != 0 {
		if en, ok := m.c.GetEntryQuietly(k); ok {
			m.stats.RecordHits(1)
			return en.Value, true
		}
	}
	return m.c.GetIfPresent(k)
}

// quietSample: one read in quietSample updates the eviction policy (see lookup).
const quietSample = 8

// Get returns id among tenant's entries of kind k, calling load on a miss (once for concurrent misses of the
// same key). load returns the value and an estimate of its size in bytes (what it holds on the heap). A load
// error is returned as it is and nothing is cached. When what ctx reads of k may be uncommitted
// (Options.Uncommitted), Get only calls load.
func Get[V any](ctx context.Context, m *Memo, k Kind, tenant, id string, load func(ctx context.Context) (V, int, error)) (V, error) {
	if m.bypass(ctx, k) {
		v, _, err := load(ctx)
		return v, err
	}
	if kinds[k].global {
		tenant = ""
	}
	ck := ckey{Tenant: tenant, ID: id, Kind: k}
	if e, ok := m.lookup(ck); ok && m.fresh(&e) {
		return e.v.(V), nil
	}
	key := m.Key(k, tenant, id)
	loader := otter.LoaderFunc[ckey, entry](func(ctx context.Context, _ ckey) (entry, error) {
		m.loads[k].Add(1)
		at := m.Key(k, tenant, id) // taken now, before the read: later than key
		v, size, err := load(ctx)
		if err != nil {
			return entry{}, err
		}
		return m.newEntry(at, v, size), nil
	})
	for range 3 {
		e, err := m.c.Get(ctx, ck, loader)
		if err != nil {
			var zero V
			return zero, err
		}
		if e.gen >= key.gen { // read after this call began (or cached since, and not invalidated before it)
			return e.v.(V), nil
		}
		// An entry an invalidation has named (or a load that began before it): drop it, unless a newer one has
		// taken its place meanwhile, and load again.
		m.c.ComputeIfPresent(ck, func(old entry) (entry, otter.ComputeOp) {
			if old.seq == e.seq {
				return entry{}, otter.InvalidateOp
			}
			return old, otter.CancelOp
		})
	}
	// Invalidations keep naming the key: read without the cache.
	v, _, err := load(ctx)
	return v, err
}

// bypass reports whether a read of k with ctx must neither use nor fill the cache.
func (m *Memo) bypass(ctx context.Context, k Kind) bool {
	return m.uncommitted != nil && len(kinds[k].sources) > 0 && m.uncommitted(ctx, kinds[k].sources)
}

// Peek returns id among tenant's entries of kind k, if it is cached, no invalidation has named it since, and
// what ctx reads of its kind is committed.
func Peek[V any](ctx context.Context, m *Memo, k Kind, tenant, id string) (V, bool) {
	var zero V
	if m.bypass(ctx, k) {
		return zero, false
	}
	if kinds[k].global {
		tenant = ""
	}
	e, ok := m.lookup(ckey{Tenant: tenant, ID: id, Kind: k})
	if !ok || !m.fresh(&e) {
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
	m.c.Set(key.ckey(), m.newEntry(key, v, size))
}

// PutBound is Put for a value read from more kinds than key's: dep's, whose generation was taken (Deps) before
// their part of v was read. An invalidation of any of them drops the entry. A host's entry holds its tenant's
// record and keys this way, so that one lookup resolves a request's tenant.
func (m *Memo) PutBound(ctx context.Context, key Key, v any, size int, dep Dep) {
	if m.bypass(ctx, key.Kind) {
		return
	}
	for k := range numKinds {
		if dep.kinds.Has(k) && m.bypass(ctx, k) {
			return
		}
	}
	m.loads[key.Kind].Add(1)
	e := m.newEntry(key, v, size)
	e.dep, e.depGen, e.deps = dep.scope, dep.gen, dep.kinds
	m.c.Set(key.ckey(), e)
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
	// Hits count the lookups the cache answered, Misses those that read the database (all kinds), Loads these
	// by kind name.
	Hits, Misses uint64
	Loads        map[string]uint64
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
	snap := m.stats.Snapshot()
	st := Stats{Hits: snap.Hits, Loads: map[string]uint64{}, Evictions: snap.Evictions,
		Entries: m.c.EstimatedSize(), Bytes: m.c.WeightedSize(), MaxBytes: m.c.GetMaximum()}
	for k := range numKinds {
		st.Loads[k.String()] = m.loads[k].Load()
		st.Misses += st.Loads[k.String()]
	}
	return st
}
