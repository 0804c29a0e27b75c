package cache

import (
	"context"
	"errors"
	"time"
)

// Cache is the hot-state store shared by every replica. Keys and channels are opaque strings chosen by the caller;
// callers put the tenant in the key when the value is tenant-owned. Values may be evicted or lost at any time
// (restart, Redis failover), so nothing stored here may be the only copy of anything.
type Cache interface {
	// Hit adds one to the counter at key within a fixed window starting at the first hit; returns the count after
	// this hit and the time left in the window. Used for sign-in throttling (per account, per IP).
	// Later hits never extend the window. window must be positive. Hit on a key holding a non-counter value fails.
	Hit(ctx context.Context, key string, window time.Duration) (count int64, retryAfter time.Duration, err error)
	// Unhit takes back one Hit: it subtracts one from the counter at key, leaving its window alone; an absent or
	// expired counter, or one at zero, is left as it is. It lets a caller count an attempt before its outcome is
	// known (so concurrent attempts cannot all pass a limit) and take the count back when it turns out not to be
	// a failure.
	Unhit(ctx context.Context, key string) error
	// Count returns the current count at key and the time left (0, 0 if absent) without adding.
	Count(ctx context.Context, key string) (int64, time.Duration, error)
	// Reset deletes a counter (e.g. after a successful sign-in). Resetting an absent counter is not an error.
	Reset(ctx context.Context, key string) error
	// Get returns the value at key and whether it was present. An expired key is absent.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value at key, replacing any previous value and its expiry. ttl <= 0 means no expiry; the
	// caller then owns the Delete.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// SetNX stores value only if key is absent; true when stored (replay / nonce sets).
	// Exactly one of any number of concurrent SetNX calls on an absent key, on any replica, returns true.
	// ttl <= 0 means no expiry, as for Set.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Publish sends msg to every subscriber of channel on every replica (including this process).
	// Delivery is at most once: a subscriber that is reconnecting, or too far behind, misses the message, so
	// messages should say "something changed, reload it" rather than carry the only copy of a change.
	Publish(ctx context.Context, channel, msg string) error
	// Subscribe calls fn for every message published on channel until ctx is done or the returned stop func is called.
	// It returns once the subscription is live, so a Publish after Subscribe returns is never missed; when the
	// backend is unreachable it returns at once without error, and the subscription goes live by itself when the
	// backend answers (see Reconnecting).
	// fn runs on one goroutine per subscription, one message at a time, in publish order; a slow fn delays later
	// messages of that subscription only. stop may be called more than once and from inside fn; it does not wait
	// for a call of fn already under way, but no message published after stop returns reaches fn.
	Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error)
	// Ping reports whether the backend answers (the server's health monitor calls it every second).
	Ping(ctx context.Context) error
	// Close ends every subscription and releases the backend. Calls after Close fail with ErrClosed;
	// Close itself may be called more than once.
	Close() error
}

// ErrClosed is returned by every method of a Cache after Close.
var ErrClosed = errors.New("cache: closed")

// ErrUnavailable marks a failure of the cache backend (Redis refused, dropped or timed out a call). Every such
// error a Cache method returns matches it (errors.Is), with the client's error still in the chain for the
// log; a caller's own cancellation (context.Canceled) is returned as it is.
var ErrUnavailable = errors.New("cache: unavailable")

var (
	_ Cache        = (*Memory)(nil)
	_ Cache        = (*Redis)(nil)
	_ Reconnecting = (*Redis)(nil)
)

// Reconnecting is implemented by a Cache whose subscriptions can lose messages while their connection to the
// backend is down (Redis). The in-process cache never loses one and does not implement it.
type Reconnecting interface {
	// OnResubscribe registers f, called with the channel each time a subscription is live again after its
	// connection was lost, or goes live late because the backend was unreachable when Subscribe returned.
	// Messages published in between were lost, so whatever they keep fresh must be reloaded. f runs on the
	// subscription's goroutine before any later message of that subscription reaches its fn; it must not block.
	OnResubscribe(f func(channel string))
}

// Open returns the in-process cache when url is empty and a Redis cache otherwise. prefix namespaces Redis keys
// and channels so several deployments (or test runs) can share one Redis; the in-process cache ignores it.
// Open does not wait for Redis: an unreachable Redis is not an error (its calls fail, and Ping says so, until
// it answers; subscriptions go live when it does); only a malformed URL is.
func Open(url, prefix string) (Cache, error) {
	if url == "" {
		return NewMemory(), nil
	}
	return newRedis(url, prefix)
}

var errBadWindow = errors.New("cache: Hit window must be positive")
