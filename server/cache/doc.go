// Package cache is Authio's shared hot state: sign-in throttling counters, short-lived values, replay and nonce
// sets, and a publish/subscribe bus that reaches every replica. It is backed by Redis when one is configured and by
// an in-process implementation of the same interface otherwise (single node only). PostgreSQL stays the source of
// truth, so losing the cache loses throttling history and pending invalidations, never data.
package cache
