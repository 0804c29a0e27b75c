package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is where and how to deliver: an SMTP server reached with STARTTLS (smtp://) or implicit TLS
// (smtps://), with optional credentials, and the default sender.
type SMTPConfig struct {
	Host string
	Port int
	// ImplicitTLS: TLS from the first byte (smtps://, port 465 by default). Otherwise STARTTLS is used when the
	// server offers it, and required when credentials are given (they never cross the network in clear).
	ImplicitTLS bool
	Username    string
	Password    string
	// From is the default sender address ("Name <address>" or an address).
	From string
	// TLSConfig overrides the TLS settings (tests trust their own certificate); nil verifies the server's
	// certificate against the system roots for Host.
	TLSConfig *tls.Config
	// Timeout bounds one connection (dial, TLS, every command); 0 is 15 seconds.
	Timeout time.Duration
}

// ParseURL reads an AUTHIO_SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS when offered, required with
// credentials; port 587 by default) or smtps://[user:pass@]host[:port] (implicit TLS, port 465 by default).
// User and password are URL-decoded. The error says what is wrong without repeating the password.
func ParseURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("is not a URL (smtp://user:pass@host:port or smtps://…)")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.ImplicitTLS = 465, true
	default:
		return SMTPConfig{}, fmt.Errorf("scheme %q must be smtp or smtps", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, errors.New("has no host (smtp://user:pass@host:port)")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("port %q must be a number from 1 to 65535", p)
		}
		c.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return SMTPConfig{}, errors.New("must have no path, query or fragment")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" {
			return SMTPConfig{}, errors.New("has a password but no user name")
		}
	}
	return c, nil
}

// Transport delivers one message now, once. Its errors say whether trying again later may succeed (Temporary).
type Transport interface {
	Deliver(ctx context.Context, m Message) error
}

// SMTP is the Transport over an SMTP server (github.com/wneessen/go-mail): one connection per message, so a
// server that dropped an idle connection never fails a send.
type SMTP struct {
	cfg SMTPConfig
}

var _ Transport = (*SMTP)(nil)

// NewSMTP returns the transport to the server cfg names.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &SMTP{cfg: cfg}
}

// Deliver sends m through the server. from is m.From, or the configured default.
func (s *SMTP) Deliver(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.cfg.From
	}
	if err := msg.From(from); err != nil {
		return permanent(fmt.Errorf("sender %q: %w", from, err))
	}
	if err := msg.To(m.To); err != nil {
		return permanent(fmt.Errorf("recipient: %w", err))
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	if s.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLSConfig))
	}
	switch {
	case s.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.Username != "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return permanent(fmt.Errorf("smtp client: %w", err))
	}
	return classify(c.DialAndSendWithContext(ctx, msg))
}

// deliveryError is a failed delivery that trying again will not fix.
type deliveryError struct{ err error }

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

func permanent(err error) error { return &deliveryError{err: err} }

// Temporary reports whether a Transport's error may go away by itself: everything but a permanent failure.
func Temporary(err error) bool {
	var p *deliveryError
	return err != nil && !errors.As(err, &p)
}

// classify sorts go-mail's errors. Temporary: a 4xx answer (RFC 5321 §4.2.1: transient negative completion), a
// network failure, a timeout, a connection cut short. Permanent: a 5xx answer (a refused recipient or sender,
// failed authentication) and the rest, which are configuration problems no retry fixes (no STARTTLS while
// credentials require it, a certificate that does not verify).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.ErrorCode() >= 500 {
			return permanent(err)
		}
		return err
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 {
			return permanent(err)
		}
		return err
	}
	var ne net.Error
	var tlsErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tlsErr):
		return permanent(err)
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return err
	}
	return permanent(err)
}
