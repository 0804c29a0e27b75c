package tickets

import (
	"context"
	"errors"
	"net/url"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/storage"
)

// Result is what using a ticket did, for the page that follows.
type Result struct {
	User   storage.User
	Ticket storage.UserTicket
	// Redirect is where the browser goes now: the ticket's result URL with Auth0's success parameters (and the
	// address when the ticket says so); "" for Authio's own page.
	Redirect string
}

// VerifyEmail uses a verification link's token: the user's address is marked verified (audited as
// EventEmailVerified), once. ErrInvalidTicket for a token that is unknown (here: another tenant's is unknown),
// expired or used, or whose user is gone, blocked or has another address now; then nothing changes.
func (s *Service) VerifyEmail(ctx context.Context, token string) (Result, error) {
	var res Result
	err := s.d.Store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.redeem(ctx, storage.TicketVerifyEmail, token)
		if err != nil {
			return err
		}
		u, err := s.ticketUser(ctx, t)
		if err != nil {
			return err
		}
		if !u.EmailVerified {
			err = s.d.Store.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
				if old.Email != t.Email {
					return old, ErrInvalidTicket // changed meanwhile
				}
				old.EmailVerified = true
				return old, nil
			})
			if err != nil {
				return err
			}
			u.EmailVerified = true
		}
		if _, err := s.d.Store.RevokeUserTickets(ctx, u.ID, storage.TicketVerifyEmail, s.d.Now()); err != nil {
			return err
		}
		res = Result{User: u, Ticket: t, Redirect: resultURL(t, u, "Your email was verified. You can continue using the application.")}
		return s.d.Audit(audit.WithActor(ctx, audit.Actor{Kind: "user", ID: u.ID}), storage.AuditEvent{
			Type: EventEmailVerified, UserID: u.ID, Data: storage.JSONMap{"ticket_id": t.ID, "source": t.Source}})
	})
	return res, err
}

// OpenPasswordReset returns the open password reset ticket of token and its user, changing nothing (the page
// shows the new-password form). ErrInvalidTicket as for VerifyEmail.
func (s *Service) OpenPasswordReset(ctx context.Context, token string) (storage.UserTicket, storage.User, error) {
	if token == "" {
		return storage.UserTicket{}, storage.User{}, ErrInvalidTicket
	}
	t, err := s.d.Store.OpenUserTicket(ctx, storage.TicketPasswordReset, s.d.Secrets.TokenHash(token), s.d.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return t, storage.User{}, ErrInvalidTicket
	} else if err != nil {
		return t, storage.User{}, err
	}
	u, err := s.ticketUser(ctx, t)
	return t, u, err
}

// ResetPassword uses a password reset link's token to set password, which must pass the directory's rules
// (checked first: a refused password uses nothing up). In one transaction: the ticket is consumed (one
// conditional write: of concurrent resets with one token exactly one succeeds, the others get ErrInvalidTicket
// and change nothing), the password changes, the address is marked verified (a reset link mailed by Authio
// proves the mailbox; an API ticket only with mark_email_as_verified), every browser session of the user ends,
// every token issued to the user (codes, access and refresh tokens) is revoked, the user's other reset links
// die, and EventPasswordReset is audited.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (Result, error) {
	if err := s.d.CheckPassword(password); err != nil {
		return Result{}, err
	}
	if _, _, err := s.OpenPasswordReset(ctx, token); err != nil {
		return Result{}, err // no bcrypt work for a dead link
	}
	hash, err := s.d.HashPassword(ctx, password)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = s.d.Store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.redeem(ctx, storage.TicketPasswordReset, token)
		if err != nil {
			return err
		}
		u, err := s.ticketUser(ctx, t)
		if err != nil {
			return err
		}
		verify := t.Source != "api" || t.MarkEmailVerified
		var changed []string
		err = s.d.Store.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			if old.Email != t.Email {
				return old, ErrInvalidTicket // the address changed meanwhile: the link went to the old one
			}
			old.PasswordHash = hash
			changed = append(changed, "password")
			if verify && !old.EmailVerified {
				old.EmailVerified = true
				changed = append(changed, "email_verified")
			}
			u = old
			return old, nil
		})
		if err != nil {
			return err
		}
		if err := s.d.Store.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
		revoked, err := s.d.Store.RevokeUserTokens(ctx, u.ID)
		if err != nil {
			return err
		}
		if _, err := s.d.Store.RevokeUserTickets(ctx, u.ID, storage.TicketPasswordReset, s.d.Now()); err != nil {
			return err
		}
		res = Result{User: u, Ticket: t, Redirect: resultURL(t, u, "Your password has been changed successfully.")}
		return s.d.Audit(audit.WithActor(ctx, audit.Actor{Kind: "user", ID: u.ID}), storage.AuditEvent{
			Type: EventPasswordReset, UserID: u.ID, Data: storage.JSONMap{"ticket_id": t.ID, "source": t.Source,
				"changed": changed, "sessions_ended": true, "tokens_revoked": revoked}})
	})
	return res, err
}

// redeem consumes the open ticket of purpose whose token is token; ErrInvalidTicket when there is none.
func (s *Service) redeem(ctx context.Context, purpose, token string) (storage.UserTicket, error) {
	if token == "" {
		return storage.UserTicket{}, ErrInvalidTicket
	}
	t, err := s.d.Store.RedeemUserTicket(ctx, purpose, s.d.Secrets.TokenHash(token), s.d.Now())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return t, ErrInvalidTicket
	}
	return t, err
}

// ticketUser returns the user of t while it still exists, is not blocked and has the address t was made for;
// ErrInvalidTicket otherwise.
func (s *Service) ticketUser(ctx context.Context, t storage.UserTicket) (storage.User, error) {
	u, err := s.d.Store.GetUser(ctx, t.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return u, ErrInvalidTicket
	} else if err != nil {
		return u, err
	}
	if u.Blocked || u.Email != t.Email {
		return u, ErrInvalidTicket
	}
	return u, nil
}

// resultURL is where the browser goes after using t: its result URL with Auth0's parameters (success, message,
// and email when t says so); "" when it has none.
func resultURL(t storage.UserTicket, u storage.User, message string) string {
	if t.ResultURL == "" {
		return ""
	}
	r, err := url.Parse(t.ResultURL)
	if err != nil {
		return ""
	}
	q := r.Query()
	q.Set("success", "true")
	q.Set("message", message)
	if t.IncludeEmail {
		q.Set("email", u.Email)
	}
	r.RawQuery = q.Encode()
	return r.String()
}
