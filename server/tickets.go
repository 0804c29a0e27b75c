package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/mail"
	"github.com/authio/authio/storage"
)

// newTickets builds the email verification and password reset service over the server's store, mail and
// throttling counters.
func (s *Server) newTickets() *tickets.Service {
	return tickets.New(tickets.Deps{Store: s.Store, Secrets: s.Secrets, Counters: throttleCounters{s}, Send: s.sendTicketMail,
		MailUsable: func() error { return mail.Usable(s.Mail) },
		Logger:     s.Logger, Now: func() time.Time { return s.Now() }, Audit: s.Audit,
		Settings: func(ctx context.Context) storage.TenantSettings {
			var ts storage.TenantSettings
			if t := TenantFromContext(ctx); t != nil {
				ts = t.Settings
			}
			return EffectiveSettings(ts)
		},
		HashPassword: s.HashPassword, CheckPassword: directory.CheckPasswordPolicy,
		BaseURL: func(ctx context.Context) string {
			if t := TenantFromContext(ctx); t != nil {
				return t.BaseURL
			}
			return ""
		}})
}

// sendTicketMail renders a ticket's mail with the tenant's templates and branding and sends it (SendMail).
func (s *Server) sendTicketMail(ctx context.Context, m tickets.Mail) error {
	err := s.SendMail(ctx, m.Kind, mail.Content{To: m.To, Link: m.Link, Expires: m.Expires})
	if err != nil && !errors.Is(err, mail.ErrNotSent) {
		return fmt.Errorf("%w: %v", mail.ErrNotSent, err)
	}
	return err
}

// EmailVerificationRequired reports whether the tenant in ctx refuses password sign-ins of unverified users.
func (s *Server) EmailVerificationRequired(ctx context.Context) bool {
	return s.Tickets.EmailVerificationRequired(ctx)
}

// SendVerification mails u a verification link (tickets.Service.SendVerification).
func (s *Server) SendVerification(ctx context.Context, u storage.User, flowID, source string) error {
	return s.Tickets.SendVerification(ctx, u, flowID, source)
}

// ResendVerification is tickets.Service.ResendVerification.
func (s *Server) ResendVerification(ctx context.Context, email, flowID, ip string) error {
	return s.Tickets.ResendVerification(ctx, email, flowID, ip)
}

// RequestPasswordReset is tickets.Service.RequestPasswordReset.
func (s *Server) RequestPasswordReset(ctx context.Context, email, flowID, ip string) error {
	return s.Tickets.RequestPasswordReset(ctx, email, flowID, ip)
}

// VerifyEmail is tickets.Service.VerifyEmail.
func (s *Server) VerifyEmail(ctx context.Context, token string) (tickets.Result, error) {
	return s.Tickets.VerifyEmail(ctx, token)
}

// OpenPasswordReset is tickets.Service.OpenPasswordReset.
func (s *Server) OpenPasswordReset(ctx context.Context, token string) (storage.UserTicket, storage.User, error) {
	return s.Tickets.OpenPasswordReset(ctx, token)
}

// ResetPassword is tickets.Service.ResetPassword.
func (s *Server) ResetPassword(ctx context.Context, token, password string) (tickets.Result, error) {
	return s.Tickets.ResetPassword(ctx, token, password)
}

// CreatePasswordChangeTicket is tickets.Service.CreatePasswordChangeTicket.
func (s *Server) CreatePasswordChangeTicket(ctx context.Context, spec tickets.TicketSpec) (string, error) {
	return s.Tickets.CreatePasswordChangeTicket(ctx, spec)
}

// CreateEmailVerificationTicket is tickets.Service.CreateEmailVerificationTicket.
func (s *Server) CreateEmailVerificationTicket(ctx context.Context, spec tickets.TicketSpec) (string, error) {
	return s.Tickets.CreateEmailVerificationTicket(ctx, spec)
}
