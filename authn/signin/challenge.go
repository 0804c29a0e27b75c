package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/storage"
)

// EventCodeSent is audited when a Challenger (the email kind) was asked for a secret and did the work: it names the
// connection and the address typed, whether or not it has an account (only the audit log tells).
const EventCodeSent = "signin.code_sent"

// Limits on asking for emailed secrets (links and codes), counted in the cache like sign-in failures: per address
// typed (whether or not it has an account) and per IP (IPv6 by /64). A request over a limit is a ThrottledError,
// sends nothing and is audited as signin.failed with reason "throttled".
const (
	ChallengeAccountLimit  = 5
	ChallengeAccountWindow = 15 * time.Minute
	ChallengeIPLimit       = 30
	ChallengeIPWindow      = time.Hour
)

// StartChallenge asks challenger c for a new secret for the account form names (the email kind emails a link
// and a code), in the flow of ctx (authn.WithFlow). It refuses with a *ThrottledError over ChallengeAccountLimit
// requests per address or ChallengeIPLimit per IP; otherwise it returns c.Challenge's error: an error matching
// mail.ErrNotSent when the email could not be sent, authn.ErrTooManyAttempts, or the infrastructure's.
func (s *SignInService) StartChallenge(ctx context.Context, c authn.Challenger, form url.Values, ip string) error {
	tid, _ := storage.TenantFromContext(ctx)
	rec := c.Record()
	account := ""
	if a, ok := c.(authn.AccountNamer); ok {
		account = a.Account(form)
	}
	m := hmac.New(sha256.New, s.secrets.Derive("signin-challenge"))
	m.Write([]byte(tid + "\x00" + rec.ID + "\x00" + canon.Email(account)))
	p := "challenge:" + tid + ":"
	limits := []struct {
		key    string
		window time.Duration
		limit  int64
	}{
		{p + "acct:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]), ChallengeAccountWindow, ChallengeAccountLimit},
		{p + "ip:" + throttleIP(ip), ChallengeIPWindow, ChallengeIPLimit},
	}
	var wait time.Duration
	for _, l := range limits {
		n, _, err := s.hitFailure(ctx, l.key, l.window)
		if err != nil {
			return err
		}
		if n > l.limit {
			_, left, err := s.countFailures(ctx, l.key)
			if err != nil {
				return err
			}
			wait = max(wait, left, time.Second)
		}
	}
	if wait > 0 {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, "", account, "throttled"); err != nil {
			return err
		}
		return &ThrottledError{RetryAfter: wait}
	}
	if err := c.Challenge(ctx, form); err != nil {
		return err
	}
	return s.auditSignInThrough(ctx, rec, EventCodeSent, "", account, "")
}
