package signin

import (
	"context"
	"errors"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/storage"
)

var (
	// ErrInvalidCredentials is the one answer for an unknown email and a wrong password.
	ErrInvalidCredentials = errors.New("wrong email or password")
	ErrSignupDisabled     = errors.New("sign-up is disabled for this tenant")
	// ErrUserBlocked answers the right password of a blocked user; only someone who knows it learns the block.
	ErrUserBlocked = errors.New("this account is blocked")
	// ErrConnectionDisabled answers a sign-in through a connection the tenant has disabled (PATCH
	// /api/v2/connections/{id} {"enabled": false}); no credential is checked.
	ErrConnectionDisabled = errors.New("this sign-in method is disabled")
	// ErrEmailUnverified answers the right password of a user whose email address is not verified, in a tenant
	// whose setting email_verification is "required": no session is opened. Only someone who knows the password
	// learns it.
	ErrEmailUnverified = errors.New("the email address is not verified")
)

// ThrottledError says sign-in is refused for RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return "too many failed sign-in attempts" }

// SignIn checks email and password for the tenant in ctx through its password connection
// (storage.DefaultPasswordConnection, kind authn/password), throttling failures per (account, IP), per IP and per
// account (throttle.go). It returns ErrInvalidCredentials for an unknown email and a wrong password alike, a
// *ThrottledError for an attempt refused before its password was checked, and ErrConnectionDisabled when the
// tenant has disabled password sign-in (audited, with no password checked).
func (s *SignInService) SignIn(ctx context.Context, email, password string, ip string) (storage.User, error) {
	con, err := s.passwordConnection(ctx)
	if errors.Is(err, ErrConnectionDisabled) {
		if err := s.auditSignIn(ctx, audit.EventSignInFailed, "", email, "connection_disabled"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, ErrConnectionDisabled
	} else if err != nil {
		return storage.User{}, err
	}
	return s.signInPassword(ctx, con, email, password, ip)
}

// signInPassword is SignIn through password connection con (the default one or another of the tenant's).
func (s *SignInService) signInPassword(ctx context.Context, con *password.Connection, email, secret string, ip string) (storage.User, error) {
	tid, _ := storage.TenantFromContext(ctx)
	rec := con.Record()
	// The user comes first: the account's throttling keys depend on its password hash ("" when unknown).
	u, err := con.Lookup(ctx, email)
	if err != nil {
		return storage.User{}, err
	}
	policy := s.throttlePolicyOf(ctx)
	keys := s.throttleKeysFor(tid, email, u.PasswordHash, ip)
	if wait, refused, err := s.signInRefused(ctx, keys, policy); err != nil {
		return storage.User{}, err
	} else if refused {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, email, "throttled"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, &ThrottledError{RetryAfter: wait}
	}
	// Counted before the password is checked, so parallel attempts cannot all slip under a limit.
	a, over, err := s.reserveSignIn(ctx, keys, policy)
	if err != nil {
		return storage.User{}, err
	} else if over {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, email, "throttled"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, &ThrottledError{RetryAfter: time.Second} // the attempts ahead settle the counts within a second
	}
	if !con.Verify(ctx, u, secret) {
		if err := a.failed(ctx); err != nil {
			return storage.User{}, err
		}
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, email, "invalid_credentials"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, ErrInvalidCredentials
	}
	// The right password: whatever follows, the attempt was no failure.
	a.succeeded(ctx)
	if u.Blocked {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, email, "blocked"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, ErrUserBlocked
	}
	if !u.EmailVerified && s.settings(ctx).EmailVerification == storage.EmailVerificationRequired {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, email, "email_unverified"); err != nil {
			return storage.User{}, err
		}
		return storage.User{}, ErrEmailUnverified
	}
	if err := s.auditSignInThrough(ctx, rec, audit.EventSignInSucceeded, u.ID, u.Email, ""); err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// auditSignIn records a sign-in attempt. userID is empty for an unknown email; the email is recorded as typed
// (put in canonical form, canon.Email) so a security team can see what was tried.
func (s *SignInService) auditSignIn(ctx context.Context, event, userID, email, reason string) error {
	return s.auditSignInThrough(ctx, storage.Connection{Name: storage.DefaultPasswordConnection, Type: storage.ConnectionPassword},
		event, userID, email, reason)
}

// auditSignInThrough records a sign-in attempt through connection rec: its name and Auth0 strategy, and the
// email tried ("" when the kind names none; then no email is recorded).
func (s *SignInService) auditSignInThrough(ctx context.Context, rec storage.Connection, event, userID, email, reason string) error {
	data := storage.JSONMap{"connection": rec.Name, "strategy": StrategyOfConnection(rec)}
	if email != "" {
		data["email"] = canon.Email(email)
	}
	if rec.ID != "" {
		data["connection_id"] = rec.ID
	}
	if reason != "" {
		data["reason"] = reason
	}
	actor := ""
	if userID != "" {
		actor = audit.Actor{Kind: "user", ID: userID}.String()
	}
	return s.audit(ctx, storage.AuditEvent{Type: event, UserID: userID, Actor: actor, Data: data})
}

// SignUp creates a user when the tenant allows sign-up and its password connection is enabled.
func (s *SignInService) SignUp(ctx context.Context, email, password string) (storage.User, error) {
	if !s.signupEnabled(ctx) {
		return storage.User{}, ErrSignupDisabled
	}
	if _, err := s.passwordConnection(ctx); errors.Is(err, ErrConnectionDisabled) {
		return storage.User{}, ErrSignupDisabled
	} else if err != nil {
		return storage.User{}, err
	}
	return s.createUser(ctx, email, password, "")
}
