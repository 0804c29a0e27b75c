package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// The server's cache (Server.Memo) stays correct by invalidation: every write to a table the cache reads from is
// reported by the store once committed (storage.Store.OnCommit); committed drops what it invalidates in this
// process at once and announces it to the others on memo.Channel, where heard applies it. An announcement lost
// while Redis is away is made good by flushing on reconnection (cachehealth.go) and, at worst, by the safety TTL.

// committed is the store's commit hook.
func (s *Server) committed(ctx context.Context, changes []storage.Change) {
	invs := memo.ForChanges(changes)
	if len(invs) == 0 {
		return
	}
	s.Memo.Invalidate(invs...)
	s.announce(ctx, memo.Channel, memo.Encode(s.origin, invs))
}

// heard applies the invalidations another process announced.
func (s *Server) heard(msg string) {
	origin, invs, ok := memo.Decode(msg)
	if !ok {
		s.Logger.Warn("unreadable cache invalidation; dropping the whole cache", "channel", memo.Channel)
		s.Memo.Flush()
		return
	}
	if origin != s.origin {
		s.Memo.Invalidate(invs...)
	}
}

// uncommitted is the cache's Options.Uncommitted: whether ctx carries a transaction that wrote to one of sources.
func uncommitted(ctx context.Context, sources []memo.Source) bool {
	for _, s := range sources {
		if storage.WrittenInTransaction(ctx, s.Table) {
			return true
		}
	}
	return false
}

// memoClients is the store's client cache (storage.ClientCache) in the server's cache.
type memoClients struct{ m *memo.Memo }

func (c memoClients) Client(ctx context.Context, tid, id string,
	load func(ctx context.Context) (*storage.FositeClient, error)) (*storage.FositeClient, error) {
	return memo.Get(ctx, c.m, memo.Client, tid, id, func(ctx context.Context) (*storage.FositeClient, int, error) {
		fc, err := load(ctx)
		return fc, memo.SizeOf(fc), err
	})
}

// memoCollector exports the cache's counts to Prometheus.
type memoCollector struct{ m *memo.Memo }

var (
	memoRequestsDesc = prometheus.NewDesc("authio_cache_requests_total",
		"Lookups in the in-process cache, by kind of entry.", []string{"kind"}, nil)
	memoLoadsDesc = prometheus.NewDesc("authio_cache_loads_total",
		"Lookups that missed and read the database, by kind of entry.", []string{"kind"}, nil)
	memoEvictionsDesc = prometheus.NewDesc("authio_cache_evictions_total",
		"Entries pushed out of the in-process cache by its size bound.", nil, nil)
	memoBytesDesc = prometheus.NewDesc("authio_cache_bytes",
		"Estimated size of the in-process cache's entries (AUTHIO_CACHE_MAX_BYTES bounds it).", nil, nil)
	memoEntriesDesc = prometheus.NewDesc("authio_cache_entries", "Entries in the in-process cache.", nil, nil)
)

func (c memoCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{memoRequestsDesc, memoLoadsDesc, memoEvictionsDesc, memoBytesDesc, memoEntriesDesc} {
		ch <- d
	}
}

func (c memoCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.m.Stats()
	for kind, n := range st.Requests {
		ch <- prometheus.MustNewConstMetric(memoRequestsDesc, prometheus.CounterValue, float64(n), kind)
	}
	for kind, n := range st.Loads {
		ch <- prometheus.MustNewConstMetric(memoLoadsDesc, prometheus.CounterValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(memoEvictionsDesc, prometheus.CounterValue, float64(st.Evictions))
	ch <- prometheus.MustNewConstMetric(memoBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(memoEntriesDesc, prometheus.GaugeValue, float64(st.Entries))
}
