package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authio/authio/server/cache"
)

// Redis is a coordinator, not a dependency for availability. While it does not answer, every replica keeps
// serving: sign-in throttling counts failures in this process (throttleCounters), the cache (Server.Memo) keeps
// what it loads for unannouncedTTL at most, announcements are dropped with a warning
// (announce), and /readyz stays ready, reporting the cache as degraded. When Redis answers again, each replica
// drops its local caches once (announcements may have been missed) and its subscriptions, which reconnect by
// themselves, carry invalidations again.

// Cache states as /readyz reports them.
const (
	CacheOK        = "ok"         // Redis answers
	CacheDegraded  = "degraded"   // Redis is configured but does not answer
	CacheInProcess = "in-process" // no Redis: the in-process cache of a single node
)

const (
	// healthEvery is how often the monitor pings Redis; healthTimeout bounds one ping.
	healthEvery   = time.Second
	healthTimeout = time.Second
	// unannouncedTTL is how long the cache keeps what it loads while announcements from other processes may not
	// arrive because Redis does not answer.
	unannouncedTTL = 2 * time.Second
	// announceBudget bounds the retries of one announcement, so a CLI command never waits long for Redis.
	announceBudget = time.Second
	// degradedLogEvery rate-limits the warning that throttling runs on in-process counters.
	degradedLogEvery = time.Minute
)

// cacheHealth tracks whether the shared cache answers, from a monitor that pings it every healthEvery and from
// the failures of calls made meanwhile. Only a remote cache (Redis) can be down.
type cacheHealth struct {
	c        cache.Cache
	remote   bool
	logger   *slog.Logger
	onChange func() // after every transition, with mu held: drops the local caches

	down       atomic.Bool
	mu         sync.Mutex // orders transitions, their log lines and onChange calls
	lastWarned atomic.Int64
}

func newCacheHealth(c cache.Cache, logger *slog.Logger, onChange func()) *cacheHealth {
	_, local := c.(*cache.Memory)
	return &cacheHealth{c: c, remote: !local, logger: logger, onChange: onChange}
}

// status is the cache's state for /readyz: CacheOK, CacheDegraded or CacheInProcess.
func (h *cacheHealth) status() string {
	switch {
	case !h.remote:
		return CacheInProcess
	case h.down.Load():
		return CacheDegraded
	}
	return CacheOK
}

// degraded reports whether Redis is configured and known not to answer.
func (h *cacheHealth) degraded() bool {
	return h.remote && h.down.Load()
}

// check pings the cache once and records the outcome; it returns the ping's error.
func (h *cacheHealth) check(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	err := h.c.Ping(pctx)
	if ctx.Err() != nil || errors.Is(err, cache.ErrClosed) {
		return err // shutting down, not an outage
	}
	h.set(err != nil, err)
	return err
}

// run checks the cache every healthEvery until ctx ends.
func (h *cacheHealth) run(ctx context.Context) {
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = h.check(ctx)
		}
	}
}

// failed records that a call to the cache failed with err. The monitor's next ping says whether it is back.
func (h *cacheHealth) failed(err error) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, cache.ErrClosed) {
		return
	}
	h.set(true, err)
}

func (h *cacheHealth) set(down bool, err error) {
	if !h.remote || h.down.Load() == down {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down.Load() == down {
		return
	}
	h.down.Store(down)
	if down {
		h.logger.Warn("Redis is unreachable; Authio runs degraded until it answers: sign-in throttling counts on this "+
			"replica alone, caches refresh every few seconds, changes are not announced to other replicas",
			"err", err)
	} else {
		h.logger.Info("Redis answers again; throttling and cache invalidation are shared across replicas again")
	}
	if h.onChange != nil {
		h.onChange()
	}
}

// warnDegradedThrottling logs, at most once per degradedLogEvery, that throttling runs on in-process counters.
func (h *cacheHealth) warnDegradedThrottling(err error) {
	now := time.Now().UnixNano()
	last := h.lastWarned.Load()
	if now-last < int64(degradedLogEvery) || !h.lastWarned.CompareAndSwap(last, now) {
		return
	}
	attrs := []any{}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	h.logger.Warn("sign-in throttling is degraded: Redis does not answer, so this replica counts failures on its own", attrs...)
}

// flushLocalCaches drops everything this process caches on the strength of announcements: when Redis goes
// away (entries cached for long must not outlive the outage by much) and when it, or one of the subscriptions,
// comes back (announcements may have been missed meanwhile).
func (s *Server) flushLocalCaches() {
	s.Memo.Flush()
}

// sleepCtx waits for d, or returns ctx's error if it ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
