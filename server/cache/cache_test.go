package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Short enough to keep the suite quick, long enough that nothing expires between two adjacent calls. Tests
// never assert how fast something happens, only that it happens before waitLimit.
const (
	shortTTL  = 300 * time.Millisecond
	longTTL   = time.Hour
	waitLimit = 10 * time.Second
	// quiet is how long a test listens for a message that must not arrive, after a control subscriber has
	// already received a message published later.
	quiet = 150 * time.Millisecond
)

func TestMemory(t *testing.T) {
	runCacheTests(t, perTest(func(t *testing.T) func(t *testing.T) Cache {
		m := NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		// One process is one node: every "replica" of a Memory is the Memory itself.
		return func(*testing.T) Cache { return m }
	}))
}

func TestRedis(t *testing.T) {
	url := redisTestURL(t)
	runCacheTests(t, perTest(func(t *testing.T) func(t *testing.T) Cache {
		prefix := testPrefix(t, url)
		return func(t *testing.T) Cache { return newTestRedis(t, url, prefix) }
	}))
}

// perTest turns a per-test setup into the factory runCacheTests wants: within one test every call returns another
// handle (replica) onto the same backend and namespace; different tests never share one.
func perTest(setup func(t *testing.T) func(t *testing.T) Cache) func(t *testing.T) Cache {
	var mu sync.Mutex
	replicas := map[*testing.T]func(t *testing.T) Cache{}
	return func(t *testing.T) Cache {
		mu.Lock()
		newReplica, ok := replicas[t]
		if !ok {
			newReplica = setup(t)
			replicas[t] = newReplica
			t.Cleanup(func() {
				mu.Lock()
				delete(replicas, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		return newReplica(t)
	}
}

// redisTestURL skips when no test Redis is configured. When one is, failing to reach it fails the test: a CI
// job that sets the variable must not pass by skipping.
func redisTestURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("AUTHIO_TEST_REDIS_URL")
	if url == "" {
		t.Skip("AUTHIO_TEST_REDIS_URL not set")
	}
	// Fail once, up front, rather than in every parallel subtest.
	r, err := NewRedis(url, "")
	if err != nil {
		t.Fatalf("AUTHIO_TEST_REDIS_URL is set but: %v", err)
	}
	_ = r.Close()
	return url
}

func newTestRedis(t *testing.T, url, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(url, prefix)
	if err != nil {
		t.Fatalf("AUTHIO_TEST_REDIS_URL is set but: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// testPrefix returns a namespace no other test or concurrent run uses, and deletes its keys when the test ends.
func testPrefix(t *testing.T, url string) string {
	t.Helper()
	prefix := "authio-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Errorf("parse AUTHIO_TEST_REDIS_URL: %v", err)
			return
		}
		raw := redis.NewClient(opts)
		defer raw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		iter := raw.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			raw.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
	})
	return prefix
}

// runCacheTests is the conformance suite every Cache implementation must pass. newCache returns, within one test,
// handles onto the same backend and namespace (two calls are two replicas); it fails the test if the backend is
// unreachable.
func runCacheTests(t *testing.T, newCache func(t *testing.T) Cache) {
	tests := []struct {
		name string
		run  func(t *testing.T, newCache func(t *testing.T) Cache)
	}{
		{"HitCounts", testHitCounts},
		{"HitWindowIsFixed", testHitWindowIsFixed},
		{"HitWindowExpires", testHitWindowExpires},
		{"HitIsAtomicAcrossReplicas", testHitAtomic},
		{"HitGivesExpiryToCounterWithout", testHitHealsCounterWithoutExpiry},
		{"HitRejectsBadInput", testHitRejectsBadInput},
		{"CountAndReset", testCountAndReset},
		{"UnhitTakesBackOne", testUnhit},
		{"GetSetDelete", testGetSetDelete},
		{"SetTTLExpires", testSetTTL},
		{"SetNX", testSetNX},
		{"SetNXHasOneWinnerAcrossReplicas", testSetNXOneWinner},
		{"PublishReachesEveryReplica", testPublishReachesEveryReplica},
		{"PublishKeepsOrder", testPublishKeepsOrder},
		{"ChannelsAreIndependent", testChannelsIndependent},
		{"StopEndsDelivery", testStopEndsDelivery},
		{"StopFromInsideFn", testStopFromInsideFn},
		{"ContextEndsDelivery", testContextEndsDelivery},
		{"SubscribeWithDoneContext", testSubscribeDoneContext},
		{"Ping", testPing},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newCache)
		})
	}
}

func testHitCounts(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	var prevLeft time.Duration
	for want := int64(1); want <= 3; want++ {
		n, left, err := c.Hit(ctx, "ip:203.0.113.9", longTTL)
		if err != nil {
			t.Fatalf("Hit #%d: %v", want, err)
		}
		if n != want {
			t.Errorf("Hit #%d: count = %d", want, n)
		}
		if left <= 0 || left > longTTL {
			t.Errorf("Hit #%d: retryAfter = %v, want in (0, %v]", want, left, longTTL)
		}
		if want > 1 && left > prevLeft {
			t.Errorf("Hit #%d: retryAfter grew from %v to %v; the window must not be extended", want, prevLeft, left)
		}
		prevLeft = left
	}
	if n, _, err := c.Hit(ctx, "ip:203.0.113.10", longTTL); err != nil || n != 1 {
		t.Errorf("Hit on another key = %d, %v; want 1, nil", n, err)
	}
}

// Hitting faster than the window must still see the count fall back to 1: a sliding or extended window never would.
func testHitWindowIsFixed(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	if _, _, err := c.Hit(ctx, "acct:a@acme.test", shortTTL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		n, _, err := c.Hit(ctx, "acct:a@acme.test", shortTTL)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("count still %d after %v of hits every %v with a %v window", n, waitLimit, shortTTL/6, shortTTL)
		}
		time.Sleep(shortTTL / 6)
	}
}

func testHitWindowExpires(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	for range 3 {
		if _, _, err := c.Hit(ctx, "k", shortTTL); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "counter to expire", func() bool {
		n, left, err := c.Count(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		return n == 0 && left == 0
	})
	if n, _, err := c.Hit(ctx, "k", shortTTL); err != nil || n != 1 {
		t.Errorf("Hit after expiry = %d, %v; want 1, nil", n, err)
	}
}

func testHitAtomic(t *testing.T, newCache func(t *testing.T) Cache) {
	replicas := []Cache{newCache(t), newCache(t)}
	ctx := t.Context()
	const hits = 64
	counts := make(chan int64, hits)
	var wg sync.WaitGroup
	for i := range hits {
		wg.Go(func() {
			n, _, err := replicas[i%2].Hit(ctx, "k", longTTL)
			if err != nil {
				t.Error(err)
				return
			}
			counts <- n
		})
	}
	wg.Wait()
	close(counts)
	var got []int64
	for n := range counts {
		got = append(got, n)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("concurrent Hit counts = %v, want each of 1..%d exactly once", got, hits)
		}
	}
	if n, _, err := replicas[0].Count(ctx, "k"); err != nil || n != hits {
		t.Errorf("Count = %d, %v; want %d", n, err, hits)
	}
}

// A counter written by Set without a ttl would otherwise lock an account out for good.
func testHitHealsCounterWithoutExpiry(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	if err := c.Set(ctx, "k", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	n, left, err := c.Hit(ctx, "k", shortTTL)
	if err != nil || n != 6 || left <= 0 || left > shortTTL {
		t.Fatalf("Hit = %d, %v, %v; want 6, (0, %v], nil", n, left, err, shortTTL)
	}
	eventually(t, "counter to expire", func() bool {
		n, _, err := c.Count(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

func testHitRejectsBadInput(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	for _, w := range []time.Duration{0, -time.Second} {
		if _, _, err := c.Hit(ctx, "k", w); err == nil {
			t.Errorf("Hit with window %v: no error", w)
		}
	}
	if err := c.Set(ctx, "text", []byte("not a number"), longTTL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Hit(ctx, "text", longTTL); err == nil {
		t.Error("Hit on a non-counter value: no error")
	}
	if _, _, err := c.Count(ctx, "text"); err == nil {
		t.Error("Count on a non-counter value: no error")
	}
	if v, _, _ := c.Get(ctx, "text"); string(v) != "not a number" {
		t.Errorf("value after failed Hit = %q", v)
	}
}

func testCountAndReset(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	if n, left, err := c.Count(ctx, "k"); err != nil || n != 0 || left != 0 {
		t.Errorf("Count of absent = %d, %v, %v; want 0, 0, nil", n, left, err)
	}
	for range 2 {
		if _, _, err := c.Hit(ctx, "k", longTTL); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // Count must not add
		n, left, err := c.Count(ctx, "k")
		if err != nil || n != 2 || left <= 0 || left > longTTL {
			t.Errorf("Count = %d, %v, %v; want 2, (0, %v], nil", n, left, err, longTTL)
		}
	}
	// Counters are plain values: another replica reads the same one.
	if v, ok, err := newCache(t).Get(ctx, "k"); err != nil || !ok || string(v) != "2" {
		t.Errorf("Get of counter = %q, %v, %v; want \"2\", true, nil", v, ok, err)
	}
	if err := c.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, left, err := c.Count(ctx, "k"); err != nil || n != 0 || left != 0 {
		t.Errorf("Count after Reset = %d, %v, %v; want 0, 0, nil", n, left, err)
	}
	if err := c.Reset(ctx, "k"); err != nil {
		t.Errorf("Reset of absent: %v", err)
	}
	if n, _, err := c.Hit(ctx, "k", longTTL); err != nil || n != 1 {
		t.Errorf("Hit after Reset = %d, %v; want 1, nil", n, err)
	}
}

func testUnhit(t *testing.T, newCache func(t *testing.T) Cache) {
	c, other, ctx := newCache(t), newCache(t), t.Context()
	if err := c.Unhit(ctx, "k"); err != nil {
		t.Fatalf("Unhit of absent: %v", err)
	}
	if n, _, err := c.Count(ctx, "k"); err != nil || n != 0 {
		t.Fatalf("Count after Unhit of absent = %d, %v; want 0 (Unhit creates nothing)", n, err)
	}
	for range 3 {
		if _, _, err := c.Hit(ctx, "k", longTTL); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Unhit(ctx, "k"); err != nil { // another replica takes one back
		t.Fatal(err)
	}
	n, left, err := c.Count(ctx, "k")
	if err != nil || n != 2 || left <= 0 || left > longTTL {
		t.Errorf("Count after Unhit = %d, %v, %v; want 2 within the same window", n, left, err)
	}
	for range 3 {
		if err := c.Unhit(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := c.Count(ctx, "k"); err != nil || n != 0 {
		t.Errorf("Count after more Unhits than Hits = %d, %v; want 0, never below", n, err)
	}
}

func testGetSetDelete(t *testing.T, newCache func(t *testing.T) Cache) {
	c, other, ctx := newCache(t), newCache(t), t.Context()
	if v, ok, err := c.Get(ctx, "k"); err != nil || ok || v != nil {
		t.Errorf("Get of absent = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"text", []byte(`{"kid":"key_1"}`)},
		{"binary", []byte{0, 0xff, '\n', 0}},
		{"empty", []byte{}},
	}
	for _, tc := range tests {
		in := bytes.Clone(tc.value)
		if err := c.Set(ctx, "k", in, longTTL); err != nil {
			t.Fatalf("%s: Set: %v", tc.name, err)
		}
		if len(in) > 0 {
			in[0]++ // the cache must have kept its own copy
		}
		v, ok, err := other.Get(ctx, "k")
		if err != nil || !ok || !bytes.Equal(v, tc.value) {
			t.Errorf("%s: Get = %q, %v, %v; want %q, true, nil", tc.name, v, ok, err, tc.value)
		}
		if len(v) > 0 {
			v[0]++
			if again, _, _ := c.Get(ctx, "k"); !bytes.Equal(again, tc.value) {
				t.Errorf("%s: changing a returned value changed the stored one", tc.name)
			}
		}
	}
	if err := other.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, "k"); err != nil || ok {
		t.Errorf("Get after Delete = %v, %v; want false, nil", ok, err)
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Errorf("Delete of absent: %v", err)
	}
}

func testSetTTL(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	set := func(key string, ttl time.Duration) {
		t.Helper()
		if err := c.Set(ctx, key, []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	set("short", shortTTL)
	set("forever", 0)
	set("renewed", shortTTL)
	set("renewed", 0) // Set replaces the expiry along with the value
	eventually(t, "short-lived key to expire", func() bool {
		_, ok, err := c.Get(ctx, "short")
		if err != nil {
			t.Fatal(err)
		}
		return !ok
	})
	for _, key := range []string{"forever", "renewed"} {
		if _, ok, err := c.Get(ctx, key); err != nil || !ok {
			t.Errorf("Get %q = %v, %v; want present (no ttl)", key, ok, err)
		}
	}
}

func testSetNX(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	setNX := func(value string, ttl time.Duration, want bool) {
		t.Helper()
		ok, err := c.SetNX(ctx, "jti:abc", []byte(value), ttl)
		if err != nil || ok != want {
			t.Fatalf("SetNX(%q) = %v, %v; want %v, nil", value, ok, err, want)
		}
	}
	setNX("first", longTTL, true)
	setNX("second", longTTL, false)
	if v, _, _ := c.Get(ctx, "jti:abc"); string(v) != "first" {
		t.Errorf("value = %q, want the first one", v)
	}
	if err := c.Delete(ctx, "jti:abc"); err != nil {
		t.Fatal(err)
	}
	setNX("third", shortTTL, true)
	eventually(t, "SetNX to succeed once the entry expired", func() bool {
		ok, err := c.SetNX(ctx, "jti:abc", []byte("fourth"), longTTL)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
}

func testSetNXOneWinner(t *testing.T, newCache func(t *testing.T) Cache) {
	replicas := []Cache{newCache(t), newCache(t)}
	ctx := t.Context()
	const tries = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range tries {
		wg.Go(func() {
			ok, err := replicas[i%2].SetNX(ctx, "nonce:n-1", []byte("x"), longTTL)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent SetNX stored %d times, want exactly once", tries, wins)
	}
}

func testPublishReachesEveryReplica(t *testing.T, newCache func(t *testing.T) Cache) {
	a, b, ctx := newCache(t), newCache(t), t.Context()
	onA, onB := subscribe(t, a, "keys:ten_1"), subscribe(t, b, "keys:ten_1")
	if err := a.Publish(ctx, "keys:ten_1", "rotated"); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "keys:ten_1", "revoked"); err != nil {
		t.Fatal(err)
	}
	onA.waitFor(t, "rotated", "revoked")
	onB.waitFor(t, "rotated", "revoked")
}

func testPublishKeepsOrder(t *testing.T, newCache func(t *testing.T) Cache) {
	pub, sub, ctx := newCache(t), newCache(t), t.Context()
	rec := subscribe(t, sub, "ch")
	var want []string
	for i := range 50 {
		msg := fmt.Sprint(i)
		want = append(want, msg)
		if err := pub.Publish(ctx, "ch", msg); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitFor(t, want...)
}

func testChannelsIndependent(t *testing.T, newCache func(t *testing.T) Cache) {
	pub, sub, ctx := newCache(t), newCache(t), t.Context()
	one, two := subscribe(t, sub, "one"), subscribe(t, sub, "two")
	if err := pub.Publish(ctx, "two", "for two"); err != nil {
		t.Fatal(err)
	}
	two.waitFor(t, "for two")
	one.expectNothing(t)
}

func testStopEndsDelivery(t *testing.T, newCache func(t *testing.T) Cache) {
	pub, sub, ctx := newCache(t), newCache(t), t.Context()
	control := subscribe(t, sub, "ch")
	rec := newRecorder()
	stop, err := sub.Subscribe(ctx, "ch", rec.add)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "ch", "before"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "before")
	stop()
	stop() // idempotent
	if err := pub.Publish(ctx, "ch", "after"); err != nil {
		t.Fatal(err)
	}
	control.waitFor(t, "before", "after")
	rec.expect(t, "before")
}

func testStopFromInsideFn(t *testing.T, newCache func(t *testing.T) Cache) {
	pub, sub, ctx := newCache(t), newCache(t), t.Context()
	control := subscribe(t, sub, "ch")
	rec := newRecorder()
	var stop func()
	ready := make(chan struct{})
	stop, err := sub.Subscribe(ctx, "ch", func(msg string) {
		<-ready
		rec.add(msg)
		stop()
	})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	for _, msg := range []string{"1", "2", "3"} {
		if err := pub.Publish(ctx, "ch", msg); err != nil {
			t.Fatal(err)
		}
	}
	control.waitFor(t, "1", "2", "3")
	rec.expect(t, "1")
}

func testContextEndsDelivery(t *testing.T, newCache func(t *testing.T) Cache) {
	pub, sub, ctx := newCache(t), newCache(t), t.Context()
	control := subscribe(t, sub, "ch")
	subCtx, cancel := context.WithCancel(ctx)
	rec := newRecorder()
	stop, err := sub.Subscribe(subCtx, "ch", rec.add)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := pub.Publish(ctx, "ch", "before"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "before")
	cancel()
	// Cancellation is noticed asynchronously, so keep publishing until the control subscriber has seen a
	// message that the cancelled one did not.
	deadline := time.Now().Add(waitLimit)
	for i := 0; ; i++ {
		msg := fmt.Sprint("after-", i)
		if err := pub.Publish(ctx, "ch", msg); err != nil {
			t.Fatal(err)
		}
		control.waitForLast(t, msg)
		if !slices.Contains(rec.got(), msg) {
			time.Sleep(quiet)
			if !slices.Contains(rec.got(), msg) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("still delivering %v after the context was cancelled", rec.got())
		}
	}
	n := len(rec.got())
	if err := pub.Publish(ctx, "ch", "last"); err != nil {
		t.Fatal(err)
	}
	control.waitForLast(t, "last")
	time.Sleep(quiet)
	if got := rec.got(); len(got) != n {
		t.Errorf("delivered %q after the context was cancelled", got[n:])
	}
}

func testSubscribeDoneContext(t *testing.T, newCache func(t *testing.T) Cache) {
	c := newCache(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if stop, err := c.Subscribe(ctx, "ch", func(string) {}); err == nil {
		stop()
		t.Error("Subscribe with a cancelled context: no error")
	}
}

func testPing(t *testing.T, newCache func(t *testing.T) Cache) {
	if err := newCache(t).Ping(t.Context()); err != nil {
		t.Error(err)
	}
}

func testClosed(t *testing.T, newCache func(t *testing.T) Cache) {
	c, ctx := newCache(t), t.Context()
	rec := newRecorder()
	stop, err := c.Subscribe(ctx, "ch", rec.add)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	stop() // after Close: must not panic or block
	calls := map[string]func() error{
		"Hit":       func() error { _, _, err := c.Hit(ctx, "k", time.Second); return err },
		"Count":     func() error { _, _, err := c.Count(ctx, "k"); return err },
		"Reset":     func() error { return c.Reset(ctx, "k") },
		"Unhit":     func() error { return c.Unhit(ctx, "k") },
		"Get":       func() error { _, _, err := c.Get(ctx, "k"); return err },
		"Set":       func() error { return c.Set(ctx, "k", nil, time.Second) },
		"Delete":    func() error { return c.Delete(ctx, "k") },
		"SetNX":     func() error { _, err := c.SetNX(ctx, "k", nil, time.Second); return err },
		"Publish":   func() error { return c.Publish(ctx, "ch", "m") },
		"Subscribe": func() error { _, err := c.Subscribe(ctx, "ch", rec.add); return err },
		"Ping":      func() error { return c.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder collects the messages a subscription delivers.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) add(msg string) {
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// waitFor waits until as many messages as want have arrived and checks they are exactly want.
func (r *recorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("messages %q", want), func() bool { return len(r.got()) >= len(want) })
	r.expect(t, want...)
}

// waitForLast waits until msg has arrived, whatever came before it.
func (r *recorder) waitForLast(t *testing.T, msg string) {
	t.Helper()
	eventually(t, fmt.Sprintf("message %q", msg), func() bool { return slices.Contains(r.got(), msg) })
}

// expect checks, after a short quiet period, that exactly want was delivered.
func (r *recorder) expect(t *testing.T, want ...string) {
	t.Helper()
	time.Sleep(quiet)
	if got := r.got(); !slices.Equal(got, want) {
		t.Errorf("delivered %q, want %q", got, want)
	}
}

func (r *recorder) expectNothing(t *testing.T) {
	t.Helper()
	r.expect(t)
}

func subscribe(t *testing.T, c Cache, channel string) *recorder {
	t.Helper()
	rec := newRecorder()
	stop, err := c.Subscribe(t.Context(), channel, rec.add)
	if err != nil {
		t.Fatalf("Subscribe %q: %v", channel, err)
	}
	t.Cleanup(stop)
	return rec
}
