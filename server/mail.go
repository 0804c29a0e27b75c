package server

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"time"

	"github.com/authio/authio/config"
	"github.com/authio/authio/mail"
)

// setupMail builds the server's mail from s.Config (validated: a malformed AUTHIO_SMTP_URL never gets here): a
// mail.Queue over AUTHIO_SMTP_URL (without one, a Queue that refuses every message with mail.ErrNotConfigured), and
// in --dev a mail.Dev in front of it that writes every message to the log and to the outbox of /dev/outbox (and
// still delivers through SMTP when it is configured).
func (s *Server) setupMail() {
	cfg := s.Config
	var transport mail.Transport
	if cfg.SMTPURL != "" {
		if sc, err := mail.ParseURL(cfg.SMTPURL); err == nil {
			sc.From = DefaultMailFrom(cfg)
			transport = mail.NewSMTP(sc)
		}
	}
	s.mailQueue = mail.NewQueue(transport, s.Logger, mail.QueueOptions{})
	s.Mail = s.mailQueue
	if cfg.Dev {
		s.Outbox = mail.NewOutbox(50)
		d := &mail.Dev{Logger: s.Logger, Outbox: s.Outbox, Now: func() time.Time { return s.Now() }}
		if transport != nil {
			d.Next = s.mailQueue
		}
		s.Mail = d
	}
	t, err := mail.NewTemplates()
	if err != nil {
		panic(err) // embedded templates that do not parse: a broken build, caught by the mail package's tests
	}
	s.MailTemplates = t
}

// MailConfigured reports whether the server can send email: an SMTP server is configured, or it runs with --dev.
func (s *Server) MailConfigured() bool { return s.Config.SMTPURL != "" || s.Config.Dev }

// DefaultMailFrom is the server's default sender: AUTHIO_SMTP_FROM, or "Authio <no-reply@BASE_DOMAIN>".
func DefaultMailFrom(cfg config.Config) string {
	if cfg.SMTPFrom != "" {
		return cfg.SMTPFrom
	}
	return "Authio <no-reply@" + cfg.BaseDomain + ">"
}

// ErrMailNotSent is SendMail's error when the message was neither delivered nor queued (mail.ErrNotSent): the page
// says "We could not send the email. Try again."
var ErrMailNotSent = mail.ErrNotSent

// SendMail renders a message of kind for the tenant in ctx — its name, its email_brand_color and email_logo_url
// settings, and its email_from sender (else the server's, with the tenant's name as display name) — and sends it
// to c.To. Errors match mail.ErrNotSent when it cannot be sent; rendering failures are the server's.
func (s *Server) SendMail(ctx context.Context, kind string, c mail.Content) error {
	m, err := s.ComposeMail(ctx, kind, c)
	if err != nil {
		return err
	}
	return s.Mail.Send(ctx, m)
}

// ComposeMail renders a message of kind for the tenant in ctx (see SendMail) without sending it.
func (s *Server) ComposeMail(ctx context.Context, kind string, c mail.Content) (mail.Message, error) {
	t := TenantFromContext(ctx)
	if t == nil {
		return mail.Message{}, errors.New("server: composing an email outside a tenant's request")
	}
	c.Name = t.Name
	c.Color, c.LogoURL = t.Settings.EmailBrandColor, t.Settings.EmailLogoURL
	from := t.Settings.EmailFrom
	if from == "" {
		def, err := netmail.ParseAddress(DefaultMailFrom(s.Config))
		if err != nil {
			return mail.Message{}, fmt.Errorf("server: default sender: %w", err)
		}
		from = (&netmail.Address{Name: t.Name, Address: def.Address}).String()
	}
	return s.MailTemplates.Message(kind, c, t.ID, from)
}
