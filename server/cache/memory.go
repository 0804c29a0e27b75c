package cache

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const (
	// The janitor samples at most sweepBatch entries per round and runs more rounds only while a quarter or more of
	// a sample was expired (the same heuristic as Redis's active expiry), so one tick never holds the lock for
	// long even when millions of per-IP counters have piled up.
	defaultSweepEvery = 10 * time.Second
	sweepBatch        = 1024
	sweepMaxRounds    = 16

	// subscriptionBuffer bounds how far a subscriber may fall behind before messages to it are dropped; Publish
	// never waits for a subscriber.
	subscriptionBuffer = 1024
)

// Memory is the in-process Cache for a single node. Values are copied in and out, so callers may reuse slices.
// Expired entries are removed when touched and by a background janitor that Close stops.
type Memory struct {
	mu     sync.Mutex
	closed bool
	items  map[string]memEntry
	subs   map[string]map[*memSub]struct{}

	now          func() time.Time
	stopJanitor  chan struct{}
	janitorEnded chan struct{}
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (e memEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

type memSub struct {
	msgs chan string
	done chan struct{}
	once sync.Once
}

// NewMemory returns an empty in-process cache with its janitor running.
func NewMemory() *Memory {
	return newMemory(defaultSweepEvery)
}

func newMemory(sweepEvery time.Duration) *Memory {
	m := &Memory{
		items:        make(map[string]memEntry),
		subs:         make(map[string]map[*memSub]struct{}),
		now:          time.Now,
		stopJanitor:  make(chan struct{}),
		janitorEnded: make(chan struct{}),
	}
	go m.janitor(sweepEvery)
	return m
}

func (m *Memory) janitor(every time.Duration) {
	defer close(m.janitorEnded)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stopJanitor:
			return
		case <-t.C:
			for range sweepMaxRounds {
				scanned, expired := m.sweep()
				if scanned < sweepBatch || expired*4 < scanned {
					break
				}
			}
		}
	}
}

// sweep removes expired entries among at most sweepBatch of them. Go starts each map iteration at a random
// position, so successive sweeps sample the whole map.
func (m *Memory) sweep() (scanned, expired int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, e := range m.items {
		if scanned == sweepBatch {
			break
		}
		scanned++
		if e.expired(now) {
			delete(m.items, k)
			expired++
		}
	}
	return scanned, expired
}

// lock takes the mutex after checking ctx and that the cache is open; on success the caller must unlock.
func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// live returns the unexpired entry at key, dropping it if it has expired. m.mu must be held.
func (m *Memory) live(key string, now time.Time) (memEntry, bool) {
	e, ok := m.items[key]
	if ok && e.expired(now) {
		delete(m.items, key)
		return memEntry{}, false
	}
	return e, ok
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

func remaining(e memEntry, now time.Time) time.Duration {
	if e.expires.IsZero() {
		return 0
	}
	return e.expires.Sub(now)
}

// Counters are stored as decimal text, as Redis stores them, so Get on a counter behaves the same on both backends.
func parseCounter(key string, value []byte) (int64, error) {
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cache: value at %q is not a counter", key)
	}
	return n, nil
}

func (m *Memory) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, errBadWindow
	}
	if err := m.lock(ctx); err != nil {
		return 0, 0, err
	}
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.live(key, now)
	var n int64
	if ok {
		var err error
		if n, err = parseCounter(key, e.value); err != nil {
			return 0, 0, err
		}
	}
	n++
	if !ok || e.expires.IsZero() {
		// A counter without an expiry (left by Set with ttl 0) would throttle forever; start a window instead.
		e.expires = now.Add(window)
	}
	e.value = strconv.AppendInt(nil, n, 10)
	m.items[key] = e
	return n, e.expires.Sub(now), nil
}

func (m *Memory) Unhit(ctx context.Context, key string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, ok := m.live(key, m.now())
	if !ok {
		return nil
	}
	n, err := parseCounter(key, e.value)
	if err != nil || n <= 0 {
		return err
	}
	e.value = strconv.AppendInt(nil, n-1, 10)
	m.items[key] = e
	return nil
}

func (m *Memory) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	if err := m.lock(ctx); err != nil {
		return 0, 0, err
	}
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.live(key, now)
	if !ok {
		return 0, 0, nil
	}
	n, err := parseCounter(key, e.value)
	if err != nil {
		return 0, 0, err
	}
	return n, remaining(e, now), nil
}

func (m *Memory) Reset(ctx context.Context, key string) error {
	return m.Delete(ctx, key)
}

func (m *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := m.lock(ctx); err != nil {
		return nil, false, err
	}
	defer m.mu.Unlock()
	e, ok := m.live(key, m.now())
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, e.value...), true, nil
}

func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.items[key] = memEntry{value: append([]byte{}, value...), expires: expiry(m.now(), ttl)}
	return nil
}

func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.items, key)
	return nil
}

func (m *Memory) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := m.lock(ctx); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	now := m.now()
	if _, ok := m.live(key, now); ok {
		return false, nil
	}
	m.items[key] = memEntry{value: append([]byte{}, value...), expires: expiry(now, ttl)}
	return true, nil
}

func (m *Memory) Publish(ctx context.Context, channel, msg string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for s := range m.subs[channel] {
		select {
		case s.msgs <- msg:
		default:
			// The subscriber is subscriptionBuffer messages behind; drop rather than stall the publisher, as
			// Redis does with a client past its output buffer limit.
		}
	}
	return nil
}

func (m *Memory) Subscribe(ctx context.Context, channel string, fn func(msg string)) (func(), error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	s := &memSub{msgs: make(chan string, subscriptionBuffer), done: make(chan struct{})}
	if m.subs[channel] == nil {
		m.subs[channel] = make(map[*memSub]struct{})
	}
	m.subs[channel][s] = struct{}{}
	m.mu.Unlock()

	stop := func() {
		s.once.Do(func() {
			close(s.done)
			m.mu.Lock()
			delete(m.subs[channel], s)
			if len(m.subs[channel]) == 0 {
				delete(m.subs, channel)
			}
			m.mu.Unlock()
		})
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				stop()
				return
			case <-s.done:
				return
			case msg := <-s.msgs:
				// select picks at random among ready cases; re-check so nothing is delivered after stop.
				select {
				case <-s.done:
					return
				default:
				}
				fn(msg)
			}
		}
	}()
	return stop, nil
}

func (m *Memory) Ping(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.items = nil
	subs := m.subs
	m.subs = nil
	m.mu.Unlock()

	close(m.stopJanitor)
	<-m.janitorEnded
	for _, set := range subs {
		for s := range set {
			s.once.Do(func() { close(s.done) })
		}
	}
	return nil
}
