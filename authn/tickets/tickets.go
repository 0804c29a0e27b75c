// Package tickets is email verification and password reset: single-use links (user tickets) mailed to a user's
// stored address, or made by the Management API (POST /api/v2/tickets/…), and what using them does. A
// verification marks the address verified; a reset sets a new password, ends every browser session of the user
// and revokes every token issued to them. Only a hash of a link's token is stored, and a link is used once (one
// conditional write). Every method works on the tenant in ctx's tenancy scope.
package tickets

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// Lifetimes of the links the hosted pages mail. The Management API chooses its tickets' own (ttl_sec).
const (
	// VerifyEmailTTL is how long a verification link mailed at sign-up (or sent again) works.
	VerifyEmailTTL = 24 * time.Hour
	// PasswordResetTTL is how long a password reset link mailed from "Forgot password?" works.
	PasswordResetTTL = 30 * time.Minute
	// DefaultTicketTTL is the lifetime of a Management API ticket that names none (Auth0's default, 5 days), and
	// MaxTicketTTL the longest one it may ask for (30 days).
	DefaultTicketTTL = 5 * 24 * time.Hour
	MaxTicketTTL     = 30 * 24 * time.Hour
)

// Rate limits of the mails a visitor can ask for (verification sent again, password reset): per address and per
// client IP, per purpose, within RequestWindow. They count what was asked, whether or not the address has an
// account, so they reveal nothing.
const (
	AddressRequestLimit = 5
	IPRequestLimit      = 30
	RequestWindow       = time.Hour
)

// Paths of the hosted pages a ticket's link opens (package handlers/tickets serves them).
const (
	VerifyEmailPath   = "/login/verify-email"
	PasswordResetPath = "/login/reset"
)

// Audit event types.
const (
	EventEmailVerified     = "user.email_verified"
	EventPasswordReset     = "user.password_reset"
	EventVerificationSent  = "user.verification_email_sent"
	EventPasswordResetSent = "user.password_reset_email_sent"
	EventTicketCreated     = "user.ticket_created"
)

var (
	// ErrInvalidTicket answers a link that cannot be used: unknown, expired, already used, another tenant's, or
	// void (its user is gone, or changed address since a verification link was sent).
	ErrInvalidTicket = errors.New("this link is invalid, has expired or was already used")
	// ErrSendFailed says a mail could not even be queued: the page asks to try again.
	ErrSendFailed = errors.New("we could not send the email")
)

// ThrottledError refuses a request for another mail for RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return "too many emails requested" }

// Store is what the service needs of storage.
type Store interface {
	storage.Users
	storage.Sessions
	storage.UserTickets
	storage.Clients
	storage.Transactions
	RevokeUserTokens(ctx context.Context, userID string) (int64, error)
	// GetConnection finds one of the tenant's connections by id or name.
	GetConnection(ctx context.Context, idOrName string) (storage.Connection, error)
}

// Deps are what the service needs from the rest of Authio.
type Deps struct {
	Store   Store
	Secrets *keys.Secrets
	// Counters hold the rate limits' counts (shared through Redis, local while it does not answer).
	Counters signin.Counters
	// Send hands a message to the mail package (queued, retried); an error means it could not be queued.
	Send func(ctx context.Context, m Mail) error
	// MailUsable reports whether mail can be sent at all (nil), whatever the address: without it, a request for
	// a mail is refused alike for every address (ErrSendFailed) instead of being silently dropped.
	MailUsable func() error
	Logger     *slog.Logger
	Now        func() time.Time
	Audit      func(ctx context.Context, e storage.AuditEvent) error
	// Settings are the tenant's settings in effect for the request in ctx.
	Settings func(ctx context.Context) storage.TenantSettings
	// HashPassword hashes a new password at the tenant's cost; CheckPassword applies the directory's rules (a
	// *directory.ValidationError on field "password").
	HashPassword  func(ctx context.Context, pw string) (string, error)
	CheckPassword func(pw string) error
	// BaseURL is {scheme}://{host} of the tenant domain the request in ctx came in on: links point there.
	BaseURL func(ctx context.Context) string
}

// Service is email verification and password reset. Build it with New.
type Service struct {
	d  Deps
	wg sync.WaitGroup
}

// New returns the service over d.
func New(d Deps) *Service { return &Service{d: d} }

// Wait returns once every mail requested in the background (RequestPasswordReset, ResendVerification) has been
// handed over or has failed. The server calls it when it closes; tests, before reading what was sent.
func (s *Service) Wait() { s.wg.Wait() }

// EmailVerificationRequired reports whether the tenant in ctx refuses password sign-ins of unverified users.
func (s *Service) EmailVerificationRequired(ctx context.Context) bool {
	return s.d.Settings(ctx).EmailVerification == storage.EmailVerificationRequired
}

// issue stores a new ticket and returns its link (on the domain of the request in ctx) with the ticket.
func (s *Service) issue(ctx context.Context, t storage.UserTicket, ttl time.Duration) (string, storage.UserTicket, error) {
	token := ids.Random(32)
	now := s.d.Now().UTC()
	t.ID, t.TokenHash, t.CreatedAt, t.ExpiresAt = ids.New("tkt"), s.d.Secrets.TokenHash(token), now, now.Add(ttl)
	if err := s.d.Store.CreateUserTicket(ctx, t); err != nil {
		return "", t, err
	}
	path := VerifyEmailPath
	if t.Purpose == storage.TicketPasswordReset {
		path = PasswordResetPath
	}
	return s.d.BaseURL(ctx) + path + "?" + url.Values{"token": {token}}.Encode(), t, nil
}

// SendVerification mails u a verification link (VerifyEmailTTL) at the address stored for u, now; source says
// why ("signup", "api"). flowID is the sign-in flow the user is in ("" for none). ErrSendFailed when the mail
// could not be queued; nothing is sent for a verified address.
func (s *Service) SendVerification(ctx context.Context, u storage.User, flowID, source string) error {
	if u.EmailVerified || u.Email == "" {
		return nil
	}
	link, t, err := s.issue(ctx, storage.UserTicket{Purpose: storage.TicketVerifyEmail, UserID: u.ID, Email: u.Email,
		FlowID: flowID, Source: source}, VerifyEmailTTL)
	if err != nil {
		return err
	}
	if err := s.send(ctx, Mail{To: u.Email, Kind: KindVerifyEmail, Link: link, Expires: duration(VerifyEmailTTL)}); err != nil {
		return err
	}
	return s.d.Audit(ctx, storage.AuditEvent{Type: EventVerificationSent, UserID: u.ID,
		Data: storage.JSONMap{"ticket_id": t.ID, "source": source}})
}

// send hands m over; a failure is logged (never with the link) and is ErrSendFailed.
func (s *Service) send(ctx context.Context, m Mail) error {
	if err := s.d.Send(ctx, m); err != nil {
		s.d.Logger.Error("sending an email failed", "kind", m.Kind, "err", err)
		return fmt.Errorf("%w: %v", ErrSendFailed, err)
	}
	return nil
}

// ResendVerification asks for another verification mail for the account of email (as typed), from ip. The
// answer is the same whether or not the address has an account: nil, a *ThrottledError once the address or the
// IP asked too often, or ErrSendFailed when no mail can be sent at all (no SMTP server). The mail itself, to the stored address of an unverified account, is made in the
// background (Wait), so the answer also takes the same time.
func (s *Service) ResendVerification(ctx context.Context, email, flowID, ip string) error {
	return s.request(ctx, storage.TicketVerifyEmail, email, ip, func(ctx context.Context, u storage.User) error {
		return s.SendVerification(ctx, u, flowID, "resend")
	})
}

// RequestPasswordReset asks for a password reset mail for the account of email (as typed), from ip: as
// ResendVerification, the answer (nil or a *ThrottledError) is the same for every address, and the mail, with a
// link valid PasswordResetTTL, goes in the background to the stored address of an account that is not blocked.
func (s *Service) RequestPasswordReset(ctx context.Context, email, flowID, ip string) error {
	return s.request(ctx, storage.TicketPasswordReset, email, ip, func(ctx context.Context, u storage.User) error {
		link, t, err := s.issue(ctx, storage.UserTicket{Purpose: storage.TicketPasswordReset, UserID: u.ID, Email: u.Email,
			FlowID: flowID, Source: "forgot"}, PasswordResetTTL)
		if err != nil {
			return err
		}
		if err := s.send(ctx, Mail{To: u.Email, Kind: KindPasswordReset, Link: link, Expires: duration(PasswordResetTTL)}); err != nil {
			return err
		}
		return s.d.Audit(ctx, storage.AuditEvent{Type: EventPasswordResetSent, UserID: u.ID,
			Data: storage.JSONMap{"ticket_id": t.ID, "source": "forgot"}})
	})
}

// request counts a visitor's request for a mail of purpose (per address and per IP), then, in the background,
// runs mailTo for the account email names when it exists, is not blocked, and (for a verification) is not
// verified yet. What the visitor typed only finds the account: mailTo writes to the stored address.
func (s *Service) request(ctx context.Context, purpose, email, ip string, mailTo func(ctx context.Context, u storage.User) error) error {
	if s.d.MailUsable != nil {
		if err := s.d.MailUsable(); err != nil {
			s.d.Logger.Error("a mail was asked for but none can be sent", "purpose", purpose, "err", err)
			return fmt.Errorf("%w: %v", ErrSendFailed, err)
		}
	}
	tid, _ := storage.TenantFromContext(ctx)
	account := canon.Email(email)
	m := hmac.New(sha256.New, s.d.Secrets.Derive("ticket-requests"))
	m.Write([]byte(tid + "\x00" + account))
	key := "tickets:" + tid + ":" + purpose + ":"
	for _, lim := range []struct {
		key   string
		limit int64
	}{
		{key + "addr:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]), AddressRequestLimit},
		{key + "ip:" + canon.ClientSource(ip), IPRequestLimit}, // an IPv6 client counts by its /64
	} {
		n, left, err := s.hit(ctx, lim.key)
		if err != nil {
			return err
		}
		if n > lim.limit {
			return &ThrottledError{RetryAfter: left}
		}
	}
	// The rest happens off the request path: the answer takes the same time for every address.
	bg := context.WithoutCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		u, err := s.d.Store.GetUserByEmail(ctx, account)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return
		case err != nil:
			s.d.Logger.Error("finding the account of a mail request failed", "purpose", purpose, "err", err)
			return
		case u.Blocked || (purpose == storage.TicketVerifyEmail && u.EmailVerified):
			return
		}
		if err := mailTo(ctx, u); err != nil && !errors.Is(err, ErrSendFailed) {
			s.d.Logger.Error("preparing a requested mail failed", "purpose", purpose, "user_id", u.ID, "err", err)
		}
	}()
	return nil
}

// hit counts one request at key within RequestWindow, on the shared counters or, while they do not answer, this
// process's own.
func (s *Service) hit(ctx context.Context, key string) (int64, time.Duration, error) {
	c := s.d.Counters
	if !c.Degraded() {
		n, left, err := c.Shared().Hit(ctx, key, RequestWindow)
		if err == nil || ctx.Err() != nil {
			return n, left, err
		}
		c.Failed(err)
		c.WarnDegraded(err)
	} else {
		c.WarnDegraded(nil)
	}
	return c.Local().Hit(ctx, key, RequestWindow)
}
