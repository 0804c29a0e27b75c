package server

import "github.com/authio/authio/server/cache"

// throttleCounters gives the sign-in pipeline its failure counters: Redis through the cache while it answers
// (the health monitor knows), this process's own counters while it does not.
type throttleCounters struct{ s *Server }

func (t throttleCounters) Degraded() bool         { return t.s.health.degraded() }
func (t throttleCounters) Failed(err error)       { t.s.health.failed(err) }
func (t throttleCounters) WarnDegraded(err error) { t.s.health.warnDegradedThrottling(err) }
func (t throttleCounters) Shared() cache.Cache    { return t.s.Cache }
func (t throttleCounters) Local() cache.Cache     { return t.s.localCounters }
