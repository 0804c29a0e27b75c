package signin

import (
	"context"
	"errors"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/storage"
)

// SecondFactor runs one second-factor attempt of user u from ip: check proves it (a TOTP code, a recovery code,
// the code confirming an authenticator app) and returns mfa.ErrInvalidCode when it proves nothing. Attempts go
// through the sign-in throttling (throttle.go, the tenant's limits), counted per (user, IP), per IP — with password
// failures — and per user (capped at brute_force_threshold per brute_force_block_seconds across all IPs), before
// check runs; a refused attempt is a *ThrottledError and check does not run.
// method names the factor in the audit log ("totp", "recovery_code"): mfa.EventSucceeded, or mfa.EventFailed with
// reason "invalid_code" or "throttled". Errors: mfa.ErrInvalidCode, *ThrottledError, or the infrastructure's.
func (s *SignInService) SecondFactor(ctx context.Context, u storage.User, method, ip string, check func(ctx context.Context) error) error {
	tid, _ := storage.TenantFromContext(ctx)
	policy := s.throttlePolicyOf(ctx)
	// A second factor must hold after the password is lost, so its wrong codes are capped per user across every
	// IP at the brute-force threshold (10 by default) for the block time, not at the account limit sized for
	// passwords (1000 an hour): an attacker with many addresses still gets brute_force_threshold guesses.
	if policy.threshold > 0 && (policy.accountLimit == 0 || policy.threshold < policy.accountLimit) {
		policy.accountLimit, policy.accountWindow = policy.threshold, policy.block
	}
	keys := s.throttleKeysFor(tid, "mfa:"+u.ID, "", ip)
	record := func(event, reason string) error {
		data := storage.JSONMap{"method": method}
		if reason != "" {
			data["reason"] = reason
		}
		return s.audit(ctx, storage.AuditEvent{Type: event, UserID: u.ID,
			Actor: audit.Actor{Kind: "user", ID: u.ID}.String(), Data: data})
	}
	if wait, refused, err := s.signInRefused(ctx, keys, policy); err != nil {
		return err
	} else if refused {
		if err := record(mfa.EventFailed, "throttled"); err != nil {
			return err
		}
		return &ThrottledError{RetryAfter: wait}
	}
	a, over, err := s.reserveSignIn(ctx, keys, policy)
	if err != nil {
		return err
	} else if over {
		if err := record(mfa.EventFailed, "throttled"); err != nil {
			return err
		}
		return &ThrottledError{RetryAfter: time.Second}
	}
	err = check(ctx)
	if errors.Is(err, mfa.ErrInvalidCode) {
		if ferr := a.failed(ctx); ferr != nil {
			return ferr
		}
		if aerr := record(mfa.EventFailed, "invalid_code"); aerr != nil {
			return aerr
		}
		return err
	} else if err != nil {
		a.takeBack(ctx) // our failure, not the user's
		return err
	}
	a.succeeded(ctx)
	return record(mfa.EventSucceeded, "")
}
