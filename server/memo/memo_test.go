package memo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// source counts the loads of each key and serves a value that changes when the test says so.
type source struct {
	mu      sync.Mutex
	version map[string]int
	loads   map[string]int
}

func newSource() *source { return &source{version: map[string]int{}, loads: map[string]int{}} }

func (s *source) change(key string) {
	s.mu.Lock()
	s.version[key]++
	s.mu.Unlock()
}

func (s *source) load(key string) func(context.Context) (string, int, error) {
	return func(context.Context) (string, int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.loads[key]++
		v := fmt.Sprintf("%s@%d", key, s.version[key])
		return v, len(v), nil
	}
}

func (s *source) loadsOf(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads[key]
}

func get(t *testing.T, m *memo.Memo, src *source, k memo.Kind, tenant, id string) string {
	t.Helper()
	v, err := memo.Get(context.Background(), m, k, tenant, id, src.load(k.String()+"/"+tenant+"/"+id))
	if err != nil {
		t.Fatalf("Get(%s, %s, %s): %v", k, tenant, id, err)
	}
	return v
}

func TestInvalidation(t *testing.T) {
	type read struct {
		kind   memo.Kind
		tenant string
	}
	acmeClient, acmeKeys, globexClient := read{memo.Client, "ten_acme"}, read{memo.PublicKeys, "ten_acme"}, read{memo.Client, "ten_globex"}
	for _, tc := range []struct {
		name       string
		invalidate func(m *memo.Memo)
		dropped    []read // the others stay cached
	}{
		{"one kind of one tenant", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Client)})
		}, []read{acmeClient}},
		{"two kinds of one tenant", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Client, memo.PublicKeys)})
		}, []read{acmeClient, acmeKeys}},
		{"one kind of every tenant", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Kinds: memo.Of(memo.Client)})
		}, []read{acmeClient, globexClient}},
		{"a tenant", func(m *memo.Memo) { m.DropTenant("ten_acme") }, []read{acmeClient, acmeKeys}},
		{"everything", func(m *memo.Memo) { m.Flush() }, []read{acmeClient, acmeKeys, globexClient}},
		{"nothing cached is named", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_initech", Kinds: memo.Of(memo.Client, memo.PublicKeys)})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := memo.New(memo.Options{})
			defer m.Close()
			src := newSource()
			all := []read{acmeClient, acmeKeys, globexClient}
			for _, r := range all {
				get(t, m, src, r.kind, r.tenant, "x")
				get(t, m, src, r.kind, r.tenant, "x")
				if n := src.loadsOf(r.kind.String() + "/" + r.tenant + "/x"); n != 1 {
					t.Fatalf("%v loaded %d times before any invalidation, want once", r, n)
				}
			}
			tc.invalidate(m)
			for _, r := range all {
				get(t, m, src, r.kind, r.tenant, "x")
				want := 1
				if slices.Contains(tc.dropped, r) {
					want = 2
				}
				if n := src.loadsOf(r.kind.String() + "/" + r.tenant + "/x"); n != want {
					t.Errorf("%v loaded %d times, want %d", r, n, want)
				}
			}
		})
	}
}

// TestGlobalKinds: host names are looked up before any tenant is known; a change of any tenant's domains drops
// them all, and an unknown-host entry goes when a domain is added.
func TestGlobalKinds(t *testing.T) {
	m := memo.New(memo.Options{})
	defer m.Close()
	known, unknown := m.Key(memo.Host, "ten_acme", "auth.acme.test"), m.Key(memo.UnknownHost, "", "new.acme.test")
	if known.Tenant != "" {
		t.Errorf("a host key names tenant %q: host keys belong to no tenant", known.Tenant)
	}
	m.Put(context.Background(), known, "ten_acme", 8)
	m.Put(context.Background(), unknown, struct{}{}, 0)
	for _, inv := range memo.ForChanges([]storage.Change{{Table: "tenant_domains", Op: storage.OpCreate, Tenant: "ten_globex"}}) {
		m.Invalidate(inv)
	}
	if _, ok := memo.Peek[string](context.Background(), m, memo.Host, "", "auth.acme.test"); !ok {
		t.Error("adding a domain to globex dropped acme's known host")
	}
	if _, ok := memo.Peek[struct{}](context.Background(), m, memo.UnknownHost, "", "new.acme.test"); ok {
		t.Error("adding a domain kept the unknown host: it may be the one added")
	}
	for _, inv := range memo.ForChanges([]storage.Change{{Table: "tenant_domains", Op: storage.OpDelete, Tenant: "ten_globex"}}) {
		m.Invalidate(inv)
	}
	if _, ok := memo.Peek[string](context.Background(), m, memo.Host, "", "auth.acme.test"); ok {
		t.Error("removing a domain kept a known host: it may be the one removed")
	}
}

// TestLoadRacingAnInvalidation: a value read before a change commits, and stored after its invalidation, is
// never served: the key it is stored under was taken before the invalidation.
func TestLoadRacingAnInvalidation(t *testing.T) {
	m := memo.New(memo.Options{})
	defer m.Close()
	loading, release := make(chan struct{}), make(chan struct{})
	done := make(chan string)
	go func() {
		v, _ := memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_1", func(context.Context) (string, int, error) {
			close(loading)
			<-release // the database answered with the old client; the change commits now
			return "old secret", 10, nil
		})
		done <- v
	}()
	<-loading
	m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Client)})
	close(release)
	if v := <-done; v != "old secret" {
		t.Fatalf("the racing load returned %q", v)
	}
	v, err := memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_1", func(context.Context) (string, int, error) {
		return "new secret", 10, nil
	})
	if err != nil || v != "new secret" {
		t.Errorf("after the invalidation: %q %v, want the new secret", v, err)
	}
}

// TestGetAfterAnInvalidationIgnoresAnOlderLoad: a read that begins after an invalidation, while a load begun
// before it is still running, does not take that load's value (it may predate the change), but reads again.
func TestGetAfterAnInvalidationIgnoresAnOlderLoad(t *testing.T) {
	m := memo.New(memo.Options{})
	defer m.Close()
	loading, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_1", func(context.Context) (string, int, error) {
			close(loading)
			<-release
			return "old secret", 10, nil
		})
	}()
	<-loading
	m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Client)})
	done := make(chan string)
	go func() {
		v, _ := memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_1", func(context.Context) (string, int, error) {
			return "new secret", 10, nil
		})
		done <- v
	}()
	time.Sleep(20 * time.Millisecond) // the second read waits for the first load, if the cache joins them
	close(release)
	if v := <-done; v != "new secret" {
		t.Errorf("a read begun after the invalidation returned %q, want the new secret", v)
	}
	if v, _ := memo.Peek[string](context.Background(), m, memo.Client, "ten_acme", "cli_1"); v != "new secret" {
		t.Errorf("cached afterwards: %q, want the new secret", v)
	}
}

// TestBoundEntries: a host's entry holds its tenant's record and keys (PutBound); a change to either of that
// tenant, to every tenant, or to the hosts drops it, and a change to another tenant does not.
func TestBoundEntries(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		invalidate func(m *memo.Memo)
		dropped    bool
	}{
		{"another tenant's record", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_globex", Kinds: memo.Of(memo.Tenant)})
		}, false},
		{"another kind of the tenant", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Client)})
		}, false},
		{"the tenant's record", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.Tenant)})
		}, true},
		{"the tenant's keys", func(m *memo.Memo) {
			m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.PublicKeys)})
		}, true},
		{"every tenant's record", func(m *memo.Memo) { m.Invalidate(memo.Invalidation{Kinds: memo.Of(memo.Tenant)}) }, true},
		{"the tenant", func(m *memo.Memo) { m.DropTenant("ten_acme") }, true},
		{"the hosts", func(m *memo.Memo) { m.Invalidate(memo.Invalidation{Kinds: memo.Of(memo.Host)}) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := memo.New(memo.Options{})
			defer m.Close()
			host, dep := m.Key(memo.Host, "", "auth.acme.test"), m.Deps("ten_acme", memo.Tenant, memo.PublicKeys)
			m.PutBound(ctx, host, "acme's record", 13, dep)
			if v, ok := memo.Peek[string](ctx, m, memo.Host, "", "auth.acme.test"); !ok || v != "acme's record" {
				t.Fatalf("just stored: %q %v", v, ok)
			}
			tc.invalidate(m)
			if _, ok := memo.Peek[string](ctx, m, memo.Host, "", "auth.acme.test"); ok == tc.dropped {
				t.Errorf("held afterwards: %v, want %v", ok, !tc.dropped)
			}
		})
	}
	// Keys read before a change to them, stored after it, are never served.
	m := memo.New(memo.Options{})
	defer m.Close()
	host, dep := m.Key(memo.Host, "", "auth.acme.test"), m.Deps("ten_acme", memo.Tenant, memo.PublicKeys)
	m.Invalidate(memo.Invalidation{Tenant: "ten_acme", Kinds: memo.Of(memo.PublicKeys)})
	m.PutBound(ctx, host, "acme's old record", 17, dep)
	if v, ok := memo.Peek[string](ctx, m, memo.Host, "", "auth.acme.test"); ok {
		t.Errorf("a record read before its tenant changed was served: %q", v)
	}
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	m := memo.New(memo.Options{})
	defer m.Close()
	var loads atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _ = memo.Get(context.Background(), m, memo.SigningKey, "ten_acme", "", func(context.Context) (string, int, error) {
				loads.Add(1)
				time.Sleep(20 * time.Millisecond) // a key decryption and parse
				return "key", 3, nil
			})
		}()
	}
	close(start)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("16 concurrent requests of a cold tenant loaded its key %d times, want once", n)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	m := memo.New(memo.Options{})
	defer m.Close()
	down := errors.New("database down")
	_, err := memo.Get(context.Background(), m, memo.Tenant, "ten_acme", "", func(context.Context) (string, int, error) {
		return "", 0, fmt.Errorf("load: %w", down)
	})
	if !errors.Is(err, down) {
		t.Fatalf("error %v, want the loader's", err)
	}
	v, err := memo.Get(context.Background(), m, memo.Tenant, "ten_acme", "", func(context.Context) (string, int, error) {
		return "acme", 4, nil
	})
	if err != nil || v != "acme" {
		t.Errorf("after a failed load: %q %v", v, err)
	}
}

// TestUncommittedReads: inside a transaction that wrote to a table a kind is read from, reads of that kind
// neither use nor fill the cache; reads of other kinds do.
func TestUncommittedReads(t *testing.T) {
	type wroteKey struct{}
	m := memo.New(memo.Options{Uncommitted: func(ctx context.Context, sources []memo.Source) bool {
		wrote, _ := ctx.Value(wroteKey{}).(string)
		return slices.ContainsFunc(sources, func(s memo.Source) bool { return s.Table == wrote })
	}})
	defer m.Close()
	tx := context.WithValue(context.Background(), wroteKey{}, "clients")
	load := func(v string) func(context.Context) (string, int, error) {
		return func(context.Context) (string, int, error) { return v, len(v), nil }
	}
	if v, _ := memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_1", load("committed")); v != "committed" {
		t.Fatalf("outside a transaction: %q", v)
	}
	if v, _ := memo.Get(tx, m, memo.Client, "ten_acme", "cli_1", load("uncommitted")); v != "uncommitted" {
		t.Errorf("a transaction that wrote clients read a client from the cache: %q", v)
	}
	if v, _ := memo.Get(tx, m, memo.Client, "ten_acme", "cli_2", load("uncommitted")); v != "uncommitted" {
		t.Fatalf("inside the transaction: %q", v)
	}
	if v, _ := memo.Get(context.Background(), m, memo.Client, "ten_acme", "cli_2", load("committed")); v != "committed" {
		t.Errorf("a read inside a transaction that wrote clients was cached: %q", v)
	}
	if v, _ := memo.Get(context.Background(), m, memo.Tenant, "ten_acme", "", load("tenant")); v != "tenant" {
		t.Fatal(v)
	}
	if v, _ := memo.Get(tx, m, memo.Tenant, "ten_acme", "", load("not read")); v != "tenant" {
		t.Errorf("a transaction that wrote only clients did not read the tenant from the cache: %q", v)
	}
}

func TestSafetyTTL(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	unannounced := atomic.Bool{}
	m := memo.New(memo.Options{TTL: 10 * time.Minute, ShortTTL: 2 * time.Second, Now: clk.Now, Unannounced: unannounced.Load})
	defer m.Close()
	src := newSource()
	get(t, m, src, memo.Tenant, "ten_acme", "")
	clk.Advance(7*time.Minute + 59*time.Second) // an entry lives at least four fifths of the TTL
	get(t, m, src, memo.Tenant, "ten_acme", "")
	if n := src.loadsOf("tenant/ten_acme/"); n != 1 {
		t.Fatalf("loaded %d times within the TTL, want once", n)
	}
	clk.Advance(2*time.Minute + 2*time.Second)
	get(t, m, src, memo.Tenant, "ten_acme", "")
	if n := src.loadsOf("tenant/ten_acme/"); n != 2 {
		t.Errorf("loaded %d times once the TTL passed, want twice", n)
	}

	unannounced.Store(true) // Redis does not answer: what is loaded now is kept briefly
	get(t, m, src, memo.Tenant, "ten_globex", "")
	clk.Advance(3 * time.Second)
	get(t, m, src, memo.Tenant, "ten_globex", "")
	if n := src.loadsOf("tenant/ten_globex/"); n != 2 {
		t.Errorf("an entry loaded while invalidations may be lost lived past the short TTL (%d loads)", n)
	}

	unannounced.Store(false)
	m.Put(context.Background(), m.Key(memo.UnknownHost, "", "nobody.test"), struct{}{}, 0)
	clk.Advance(6 * time.Second)
	if _, ok := memo.Peek[struct{}](context.Background(), m, memo.UnknownHost, "", "nobody.test"); ok {
		t.Error("an unknown host was remembered past its own bound (a domain added without Redis must be served soon)")
	}
}

// TestExpiryIsSpread: entries loaded at one moment do not all expire at the same moment one TTL later (the
// database would get every tenant's reads at once), and none outlives the TTL.
func TestExpiryIsSpread(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := memo.New(memo.Options{TTL: 10 * time.Minute, Now: clk.Now})
	defer m.Close()
	src := newSource()
	const n = 200
	for i := range n {
		get(t, m, src, memo.Client, "ten_acme", fmt.Sprint(i))
	}
	held := func() int {
		c := 0
		for i := range n {
			if _, ok := memo.Peek[string](context.Background(), m, memo.Client, "ten_acme", fmt.Sprint(i)); ok {
				c++
			}
		}
		return c
	}
	clk.Advance(7*time.Minute + 59*time.Second)
	if c := held(); c != n {
		t.Fatalf("%d of %d entries held before four fifths of the TTL, want all", c, n)
	}
	clk.Advance(62 * time.Second) // 9 minutes 1 second: about half are gone
	if c := held(); c < n/10 || c > n-n/10 {
		t.Errorf("%d of %d entries held at nine tenths of the TTL: their expiry is not spread", c, n)
	}
	clk.Advance(time.Minute)
	if c := held(); c != 0 {
		t.Errorf("%d entries outlived the TTL", c)
	}
}

func TestBoundedInBytes(t *testing.T) {
	const budget = 1 << 20
	m := memo.New(memo.Options{MaxBytes: budget})
	defer m.Close()
	doc := make([]byte, 2000)
	for i := range 5000 { // ten times the budget
		tenant := fmt.Sprintf("ten_%05d", i)
		if _, err := memo.Get(context.Background(), m, memo.PublicKeys, tenant, "", func(context.Context) ([]byte, int, error) {
			return doc, len(doc), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st := m.Stats()
	if st.Bytes > budget {
		t.Errorf("the cache holds %d bytes, over its budget of %d", st.Bytes, budget)
	}
	if st.Bytes < budget/2 || st.Entries < 250 {
		t.Errorf("the cache holds %d bytes in %d entries: it should use its budget", st.Bytes, st.Entries)
	}
	if st.Evictions == 0 {
		t.Error("no evictions counted")
	}
	if st.Misses != 5000 || st.Hits != 0 || st.Loads["public_keys"] != 5000 {
		t.Errorf("counted %d hits, %d misses and %d loads, want 0, 5000 and 5000", st.Hits, st.Misses, st.Loads["public_keys"])
	}
}

func TestForChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []storage.Change
		want    []memo.Invalidation
	}{
		{"a key rotation", []storage.Change{{Table: "signing_keys", Op: storage.OpUpdate, Tenant: "ten_a"},
			{Table: "signing_keys", Op: storage.OpCreate, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.SigningKey, memo.PublicKeys, memo.VerifiedToken)}}},
		{"a client update", []storage.Change{{Table: "clients", Op: storage.OpUpdate, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.Client, memo.Origins)}}},
		{"a role given to a client", []storage.Change{{Table: "role_assignments", Op: storage.OpCreate, Tenant: "ten_a"},
			{Table: "audit_events", Op: storage.OpCreate, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.ClientGrants)}}},
		{"a resource server change", []storage.Change{{Table: "resource_servers", Op: storage.OpDelete, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.ResourceServer, memo.ClientGrants)}}},
		{"tenant settings", []storage.Change{{Table: "tenants", Op: storage.OpUpdate, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.Tenant)}}},
		{"a new tenant", []storage.Change{{Table: "tenants", Op: storage.OpCreate, Tenant: "ten_b"},
			{Table: "tenant_domains", Op: storage.OpCreate, Tenant: "ten_b"}, {Table: "connections", Op: storage.OpCreate, Tenant: "ten_b"}},
			[]memo.Invalidation{{Tenant: "ten_b", Kinds: memo.Of(memo.Tenant, memo.UnknownHost)}}},
		{"a domain removal", []storage.Change{{Table: "tenant_domains", Op: storage.OpDelete, Tenant: "ten_a"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.Host)}}},
		{"a change without a tenant", []storage.Change{{Table: "clients", Op: storage.OpUpdate}},
			[]memo.Invalidation{{Kinds: memo.Of(memo.Client, memo.Origins)}}},
		{"two tenants", []storage.Change{{Table: "clients", Op: storage.OpCreate, Tenant: "ten_a"}, {Table: "roles", Op: storage.OpUpdate, Tenant: "ten_b"}},
			[]memo.Invalidation{{Tenant: "ten_a", Kinds: memo.Of(memo.Client, memo.Origins)}, {Tenant: "ten_b", Kinds: memo.Of(memo.ClientGrants)}}},
		{"nothing cached", []storage.Change{{Table: "users", Op: storage.OpUpdate, Tenant: "ten_a"},
			{Table: "oauth_tokens", Op: storage.OpCreate, Tenant: "ten_a"}}, []memo.Invalidation{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := memo.ForChanges(tc.changes)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ForChanges = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestEveryKindIsInvalidated: every kind is read from some table whose changes invalidate it, or is a function
// of its key alone (Discovery); a kind added without its sources fails here.
func TestEveryKindIsInvalidated(t *testing.T) {
	for _, k := range memo.Kinds() {
		if k == memo.Discovery {
			if len(k.Sources()) != 0 {
				t.Errorf("%s: a document keyed by everything it holds needs no sources", k)
			}
			continue
		}
		if len(k.Sources()) == 0 {
			t.Errorf("%s lists no table it is read from: nothing would ever invalidate it", k)
		}
		for _, s := range k.Sources() {
			if !slices.Contains(memo.Tables(), s.Table) {
				t.Errorf("%s: table %s is not among Tables()", k, s.Table)
			}
		}
	}
}

func TestMessages(t *testing.T) {
	invs := []memo.Invalidation{{Tenant: "ten_a1", Kinds: memo.Of(memo.Client, memo.Origins)}, {Kinds: memo.Of(memo.Host)}}
	origin, got, ok := memo.Decode(memo.Encode("replica-1", invs))
	if !ok || origin != "replica-1" || !slices.Equal(got, invs) {
		t.Errorf("round trip: %q %+v %v", origin, got, ok)
	}
	for _, bad := range []string{"", "replica-1 ten_a", "replica-1 ten_a:zz", "replica-1 :3"} {
		if _, _, ok := memo.Decode(bad); ok {
			t.Errorf("Decode(%q) accepted it", bad)
		}
	}
}
