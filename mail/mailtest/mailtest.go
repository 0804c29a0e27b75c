// Package mailtest runs an in-process SMTP server (github.com/emersion/go-smtp) for tests: it listens on
// 127.0.0.1:0, keeps every message it accepts, and can be told to answer the next messages with a temporary (4xx)
// or permanent (5xx) failure, to offer STARTTLS with a self-signed certificate, and to require a password.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/authio/authio/mail"
)

// Message is one message the server accepted.
type Message struct {
	From, To string
	Subject  string
	Text     string // the text/plain part
	HTML     string // the text/html part
	Raw      []byte
}

// Options change the server.
type Options struct {
	// StartTLS offers STARTTLS with a self-signed certificate for 127.0.0.1 (Server.TLSConfig trusts it).
	StartTLS bool
	// Username and Password, when set, are required (AUTH PLAIN, only after STARTTLS unless the connection is
	// already on loopback without TLS and StartTLS is off).
	Username, Password string
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // 127.0.0.1:port
	// TLSConfig trusts the server's certificate (set with Options.StartTLS).
	TLSConfig *tls.Config

	srv  *smtp.Server
	o    Options
	mu   sync.Mutex
	msgs []Message
	// fail are the errors the next DATA commands answer with, in order.
	fail   []error
	notify chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{o: o, notify: make(chan struct{}, 1)}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil })
	s.srv = smtp.NewServer(be)
	s.srv.Domain = "127.0.0.1"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.AllowInsecureAuth = !o.StartTLS
	if o.StartTLS {
		ts := httptest.NewUnstartedServer(nil) // its certificate is valid for 127.0.0.1
		ts.StartTLS()
		cert := ts.TLS.Certificates[0]
		pool := x509.NewCertPool()
		pool.AddCert(ts.Certificate())
		ts.Close()
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = l.Addr().String()
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// URL is the AUTHIO_SMTP_URL of the server (smtp://, with the credentials of Options).
func (s *Server) URL() string {
	u := "smtp://"
	if s.o.Username != "" {
		u += s.o.Username + ":" + s.o.Password + "@"
	}
	return u + s.Addr
}

// Config is the mail.SMTPConfig of the server, trusting its certificate.
func (s *Server) Config() mail.SMTPConfig {
	c, err := mail.ParseURL(s.URL())
	if err != nil {
		panic(err)
	}
	c.From, c.TLSConfig, c.Timeout = "Authio Test <no-reply@authio.test>", s.TLSConfig, 5*time.Second
	return c
}

// FailNext makes the next len(errs) messages be answered with errs, in order: a code 4xx is temporary, 5xx
// permanent (TempFailure and PermFailure build them).
func (s *Server) FailNext(errs ...error) {
	s.mu.Lock()
	s.fail = append(s.fail, errs...)
	s.mu.Unlock()
}

// TempFailure is a 451 answer, PermFailure a 550 one.
var (
	TempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	PermFailure = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
)

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the first message accepted for to after (the index in Messages) at or after index after, waiting
// up to 10 seconds.
func (s *Server) Wait(t testing.TB, to string, after int) Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		msgs := s.Messages()
		for i := after; i < len(msgs); i++ {
			if strings.EqualFold(msgs[i].To, to) {
				return msgs[i]
			}
		}
		select {
		case <-s.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("mailtest: no message to %s within 10s (%d accepted)", to, len(msgs))
			return Message{}
		}
	}
}

type session struct {
	s        *Server
	from, to string
	authed   bool
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.o.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.o.Username || password != ss.s.o.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.o.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = to
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	if len(ss.s.fail) > 0 {
		err := ss.s.fail[0]
		ss.s.fail = ss.s.fail[1:]
		ss.s.mu.Unlock()
		return err
	}
	ss.s.mu.Unlock()
	m := Message{From: ss.from, To: ss.to, Raw: raw}
	if err := parse(&m); err != nil {
		return &smtp.SMTPError{Code: 554, Message: "mailtest: unreadable message: " + err.Error()}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	select {
	case ss.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        {}
func (ss *session) Logout() error { return nil }

// parse fills in the subject and the text and HTML parts of m.Raw.
func parse(m *Message) error {
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return err
	}
	return parts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, m)
}

func parts(contentType, encoding string, body io.Reader, m *Message) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			if err := parts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	b, err := decode(encoding, body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}
