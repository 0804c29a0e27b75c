package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/authio/authio/internal/canon"

	"github.com/authio/authio/server/cache"
)

// Sign-in throttling follows the model of the most used hosted identity services: three limits, checked before
// any password, each a tenant setting (storage.TenantSettings; defaults in tenant_settings.go).
//
//   - Per (account, IP): BruteForceThreshold failures in a row for one account from one IP (within
//     BruteForceBlockSeconds) block that IP for that account for BruteForceBlockSeconds (10, 1 hour). A successful
//     sign-in from that IP resets its count; a new password lifts every block of the account, from every IP.
//     Everyone else, and the user from anywhere else, still signs in.
//   - Per IP, across accounts: IPFailureLimit failures from one IP within IPFailureWindowSeconds refuse that IP for
//     the rest of the window (100 per hour): credential stuffing from one source stops there.
//   - Per account, across IPs: AccountFailureLimit failures within AccountFailureWindowSeconds refuse the account
//     for the rest of the window (1000 per hour). It is high on purpose: one attacker, held back by the two
//     limits above, cannot lock a user out from everywhere; only a distributed attack reaches it.
//
// An IPv6 client counts by its /64, which one subscriber gets whole. A refused attempt is a ThrottledError
// (429 with Retry-After on the sign-in page), the same whichever limit refused it, and it is not counted.
// Counters live in the cache, shared by every replica through Redis; while Redis does not answer they live in
// this process (throttleCounters), so losing Redis never fails a sign-in.

// throttlePolicy is a tenant's throttling numbers, defaults filled in.
type throttlePolicy struct {
	threshold     int64
	block         time.Duration
	ipLimit       int64
	ipWindow      time.Duration
	accountLimit  int64
	accountWindow time.Duration
}

func (s *SignInService) throttlePolicyOf(ctx context.Context) throttlePolicy {
	ts := s.settings(ctx)
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	return throttlePolicy{
		threshold: int64(ts.BruteForceThreshold), block: sec(ts.BruteForceBlockSeconds),
		ipLimit: int64(ts.IPFailureLimit), ipWindow: sec(ts.IPFailureWindowSeconds),
		accountLimit: int64(ts.AccountFailureLimit), accountWindow: sec(ts.AccountFailureWindowSeconds),
	}
}

// signInAccount is the account a sign-in names: the email as typed, normalized as storage compares emails
// (storage.Store.GetUserByEmail), so every spelling that finds a user counts against it, and an unknown email
// is counted just like a known one.
func signInAccount(email string) string {
	return canon.Email(email)
}

// throttleIP is the source a per-IP limit counts: the address for IPv4, its /64 for IPv6 (canon.ClientSource).
func throttleIP(ip string) string { return canon.ClientSource(ip) }

// throttleKeys are the cache counters of one sign-in attempt.
type throttleKeys struct {
	ip      string // failures from the IP, any account
	account string // failures for the account, any IP
	pair    string // failures in a row for the account from the IP
	block   string // present while the IP is blocked for the account
}

// throttleKeysFor names the counters of a sign-in. The account is named by a keyed hash of signInAccount(email)
// and the user's current password hash ("" for an unknown email), for three reasons: a new password changes every
// key of the account, which lifts its blocks from every IP at once with no state to update, whichever path
// changed it (Management API, a reset, the CLI) and even while Redis was down; unknown and known emails are
// treated alike; and no email reaches Redis in clear.
func (s *SignInService) throttleKeysFor(tenantID, email, passwordHash, ip string) throttleKeys {
	m := hmac.New(sha256.New, s.secrets.Derive("signin-throttle"))
	m.Write([]byte(tenantID + "\x00" + signInAccount(email) + "\x00" + passwordHash))
	acct := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
	src := throttleIP(ip)
	p := "signin:" + tenantID + ":"
	return throttleKeys{ip: p + "ip:" + src, account: p + "acct:" + acct, pair: p + "pair:" + acct + ":" + src,
		block: p + "block:" + acct + ":" + src}
}

// throttleCounters runs fn on the shared counters, or on this process's own while Redis does not answer (known
// from the health monitor, or from fn failing now), with a rate-limited warning that throttling is degraded.
// shared reports which it used.
func (s *SignInService) throttleCounters(ctx context.Context, fn func(c cache.Cache) error) (shared bool, err error) {
	if !s.counters.Degraded() {
		err := fn(s.counters.Shared())
		if err == nil || ctx.Err() != nil {
			return true, err
		}
		s.counters.Failed(err)
		s.counters.WarnDegraded(err)
	} else {
		s.counters.WarnDegraded(nil)
	}
	return false, fn(s.counters.Local())
}

// countFailures returns a counter and the time left in its window. Counts made in this process while Redis was
// away still count after it returns, until their windows end.
func (s *SignInService) countFailures(ctx context.Context, key string) (int64, time.Duration, error) {
	var n int64
	var left time.Duration
	shared, err := s.throttleCounters(ctx, func(c cache.Cache) (err error) {
		n, left, err = c.Count(ctx, key)
		return err
	})
	if err != nil || !shared {
		return n, left, err
	}
	ln, lleft, err := s.counters.Local().Count(ctx, key)
	if err != nil {
		return 0, 0, err
	}
	if ln > n {
		n, left = ln, lleft
	}
	return n, left, nil
}

// hitFailure counts one attempt at key and returns the count after it, and whether the shared counters took it
// (else this process's own: the take-back must go to the same place).
func (s *SignInService) hitFailure(ctx context.Context, key string, window time.Duration) (int64, bool, error) {
	var n int64
	shared, err := s.throttleCounters(ctx, func(c cache.Cache) (err error) {
		n, _, err = c.Hit(ctx, key, window)
		return err
	})
	return n, shared, err
}

// attempt is a sign-in attempt counted against its IP, account and (account, IP) pair before its password is
// checked: concurrent attempts take their places in the counts one by one, so no number of parallel requests
// gets more passwords checked than the limits allow. Whatever does not end as a failure is taken back.
type attempt struct {
	s    *SignInService
	k    throttleKeys
	p    throttlePolicy
	hits []attemptHit
	pair int64 // the pair's count, this attempt included
}

type attemptHit struct {
	key    string
	shared bool
}

// reserveSignIn counts an attempt that signInRefused let through. over reports that a concurrent attempt took
// the last place under a limit first: the attempt is then refused, and its counts are already taken back.
func (s *SignInService) reserveSignIn(ctx context.Context, k throttleKeys, p throttlePolicy) (a *attempt, over bool, err error) {
	a = &attempt{s: s, k: k, p: p}
	for _, l := range []struct {
		key    string
		window time.Duration
		limit  int64
	}{{k.ip, p.ipWindow, p.ipLimit}, {k.account, p.accountWindow, p.accountLimit}, {k.pair, p.block, p.threshold}} {
		n, shared, err := s.hitFailure(ctx, l.key, l.window)
		if err != nil {
			a.takeBack(ctx)
			return nil, false, err
		}
		a.hits = append(a.hits, attemptHit{key: l.key, shared: shared})
		if l.key == k.pair {
			a.pair = n
		}
		if n > l.limit {
			over = true
		}
	}
	if !over {
		// The attempt that reaches the threshold blocks the pair and then resets its count; an attempt that
		// passed signInRefused before the block and counts itself after the reset would start afresh. The block
		// is set before the reset, so looking for it after counting closes that gap.
		n, _, err := s.countFailures(ctx, k.block)
		if err != nil {
			a.takeBack(ctx)
			return nil, false, err
		}
		over = n >= 1
	}
	if over {
		a.takeBack(ctx)
		return nil, true, nil
	}
	return a, false, nil
}

// takeBack removes the attempt from every count it was added to: it was refused, or it was no failure.
func (a *attempt) takeBack(ctx context.Context) {
	for _, h := range a.hits {
		var c cache.Cache = a.s.counters.Local()
		if h.shared {
			c = a.s.counters.Shared()
		}
		if err := c.Unhit(ctx, h.key); err != nil {
			a.s.logger.Warn("taking back a sign-in attempt from the throttling counters failed", "err", err)
		}
	}
	a.hits = nil
}

// failed keeps the attempt in the counts as a failure, and blocks the pair when it reached the threshold: for the
// whole block time from this failure, counting afresh after it.
func (a *attempt) failed(ctx context.Context) error {
	if a.pair < a.p.threshold {
		return nil
	}
	if _, _, err := a.s.hitFailure(ctx, a.k.block, a.p.block); err != nil {
		return err
	}
	_, err := a.s.throttleCounters(ctx, func(c cache.Cache) error { return c.Reset(ctx, a.k.pair) })
	return err
}

// succeeded takes the attempt back from the IP and account counts (a success is no failure) and ends the pair's
// run of failures, here and in the shared counters.
func (a *attempt) succeeded(ctx context.Context) {
	a.takeBack(ctx)
	a.s.recordSignInSuccess(ctx, a.k)
}

// signInRefused reports whether an attempt is refused before its password is checked, and for how long: until
// every limit it is over has cleared.
func (s *SignInService) signInRefused(ctx context.Context, k throttleKeys, p throttlePolicy) (time.Duration, bool, error) {
	var wait time.Duration
	refused := false
	for _, l := range []struct {
		key   string
		limit int64
	}{{k.block, 1}, {k.ip, p.ipLimit}, {k.account, p.accountLimit}} {
		n, left, err := s.countFailures(ctx, l.key)
		if err != nil {
			return 0, false, err
		}
		if n >= l.limit {
			refused, wait = true, max(wait, left)
		}
	}
	return wait, refused, nil
}

// recordSignInSuccess ends the run of failures of the pair, here and in the shared counters.
func (s *SignInService) recordSignInSuccess(ctx context.Context, k throttleKeys) {
	_, err := s.throttleCounters(ctx, func(c cache.Cache) error { return c.Reset(ctx, k.pair) })
	if err == nil {
		err = s.counters.Local().Reset(ctx, k.pair)
	}
	if err != nil {
		s.logger.Warn("clearing the sign-in failure counter failed", "err", err)
	}
}
