package mail_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/mail"
	"github.com/authio/authio/mail/mailtest"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      mail.SMTPConfig
		err       string
	}{
		{name: "starttls default port", url: "smtp://mail.example.com", want: mail.SMTPConfig{Host: "mail.example.com", Port: 587}},
		{name: "credentials", url: "smtp://user%40x:p%3Ass@mail.example.com:2525",
			want: mail.SMTPConfig{Host: "mail.example.com", Port: 2525, Username: "user@x", Password: "p:ss"}},
		{name: "implicit tls", url: "smtps://u:p@mail.example.com", want: mail.SMTPConfig{Host: "mail.example.com", Port: 465, ImplicitTLS: true, Username: "u", Password: "p"}},
		{name: "other scheme", url: "http://mail.example.com", err: "scheme"},
		{name: "no host", url: "smtp://", err: "no host"},
		{name: "bad port", url: "smtp://mail.example.com:99999", err: "port"},
		{name: "path", url: "smtp://mail.example.com/x", err: "path"},
		{name: "password without user", url: "smtp://:secret@mail.example.com", err: "no user name"},
		{name: "not a URL", url: "smtp://u:p@[::1", err: "not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mail.ParseURL(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), ":p@") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseURL = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func message(to string) mail.Message {
	return mail.Message{To: to, Subject: "Hello", Text: "Body with https://acme.test/x?token=SECRET", HTML: "<p>Body</p>",
		Tenant: "ten_a", Kind: mail.KindMagicLink, Link: "https://acme.test/x?token=SECRET"}
}

// TestDelivery: a Queue delivers through SMTP, in clear when the server offers no STARTTLS, and over STARTTLS with
// a password when it does; the text and HTML parts and the sender arrive.
func TestDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    mailtest.Options
	}{
		{"no TLS offered", mailtest.Options{}},
		{"STARTTLS with a password", mailtest.Options{StartTLS: true, Username: "authio", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.o)
			q := mail.NewQueue(mail.NewSMTP(srv.Config()), discard(), mail.QueueOptions{})
			t.Cleanup(q.Close)
			m := message("alice@acme.test")
			m.From = "Acme <login@acme.test>"
			if err := q.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Wait(t, "alice@acme.test", 0)
			if got.Subject != "Hello" || !strings.Contains(got.Text, "token=SECRET") || !strings.Contains(got.HTML, "<p>Body</p>") ||
				got.From != "login@acme.test" {
				t.Errorf("received %+v", got)
			}
		})
	}
}

// TestCredentialsNeedTLS: with a password configured and a server that offers no STARTTLS, nothing is sent (the
// password would cross the network in clear) and Send reports it.
func TestCredentialsNeedTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	cfg := srv.Config()
	cfg.Username, cfg.Password = "authio", "s3cret"
	q := mail.NewQueue(mail.NewSMTP(cfg), discard(), mail.QueueOptions{})
	t.Cleanup(q.Close)
	if err := q.Send(context.Background(), message("alice@acme.test")); !errors.Is(err, mail.ErrNotSent) {
		t.Fatalf("Send = %v, want ErrNotSent", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered without TLS", n)
	}
}

// TestRetryAfterTemporaryFailure: a 4xx answer queues the message (Send reports success) and a retry delivers it.
func TestRetryAfterTemporaryFailure(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.FailNext(mailtest.TempFailure, mailtest.TempFailure)
	q := mail.NewQueue(mail.NewSMTP(srv.Config()), discard(), mail.QueueOptions{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	t.Cleanup(q.Close)
	if err := q.Send(context.Background(), message("bob@acme.test")); err != nil {
		t.Fatalf("Send after a temporary failure = %v, want nil (queued)", err)
	}
	got := srv.Wait(t, "bob@acme.test", 0)
	if got.Subject != "Hello" {
		t.Errorf("retried message %+v", got)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages delivered, want 1", n)
	}
}

// TestPermanentFailureReported: a 5xx answer is Send's error (ErrNotSent), and the message is not retried.
func TestPermanentFailureReported(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.FailNext(mailtest.PermFailure)
	q := mail.NewQueue(mail.NewSMTP(srv.Config()), discard(), mail.QueueOptions{InitialBackoff: time.Millisecond})
	t.Cleanup(q.Close)
	err := q.Send(context.Background(), message("carol@acme.test"))
	if !errors.Is(err, mail.ErrNotSent) {
		t.Fatalf("Send after a 550 = %v, want ErrNotSent", err)
	}
	if q.Pending() != 0 {
		t.Errorf("%d messages queued after a permanent failure", q.Pending())
	}
	if err := q.Send(context.Background(), message("carol@acme.test")); err != nil {
		t.Fatalf("the next Send: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages delivered, want only the second", n)
	}
}

// TestUnreachableServerIsQueued: a refused connection is temporary: Send queues the message.
func TestUnreachableServerIsQueued(t *testing.T) {
	cfg := mail.SMTPConfig{Host: "127.0.0.1", Port: 1, Timeout: time.Second, From: "no-reply@authio.test"}
	q := mail.NewQueue(mail.NewSMTP(cfg), discard(), mail.QueueOptions{InitialBackoff: time.Hour})
	if err := q.Send(context.Background(), message("dan@acme.test")); err != nil {
		t.Fatalf("Send to an unreachable server = %v, want nil (queued)", err)
	}
	if q.Pending() != 1 {
		t.Errorf("pending %d, want 1", q.Pending())
	}
	q.Close()
	if q.Pending() != 0 {
		t.Errorf("pending %d after Close", q.Pending())
	}
}

func TestNotConfigured(t *testing.T) {
	q := mail.NewQueue(nil, discard(), mail.QueueOptions{})
	defer q.Close()
	err := q.Send(context.Background(), message("eve@acme.test"))
	if !errors.Is(err, mail.ErrNotConfigured) || !errors.Is(err, mail.ErrNotSent) {
		t.Errorf("Send without SMTP = %v, want ErrNotConfigured (an ErrNotSent)", err)
	}
	if !errors.Is(mail.Usable(q), mail.ErrNotConfigured) {
		t.Errorf("Usable = %v", mail.Usable(q))
	}
}

func TestRefusesBadMessages(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	q := mail.NewQueue(mail.NewSMTP(srv.Config()), discard(), mail.QueueOptions{})
	defer q.Close()
	for _, to := range []string{"", "not an address", "a@acme.test, b@acme.test"} {
		if err := q.Send(context.Background(), message(to)); !errors.Is(err, mail.ErrNotSent) {
			t.Errorf("Send to %q = %v, want ErrNotSent", to, err)
		}
	}
}

// TestDevOutbox: --dev mail is kept per tenant, newest first, and a tenant lists only its own.
func TestDevOutbox(t *testing.T) {
	box := mail.NewOutbox(2)
	d := &mail.Dev{Logger: discard(), Outbox: box}
	for i, to := range []string{"a1@acme.test", "a2@acme.test", "a3@acme.test"} {
		m := message(to)
		m.Subject = "A" + string(rune('1'+i))
		if err := d.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	g := message("g@globex.test")
	g.Tenant = "ten_g"
	if err := d.Send(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	a := box.List("ten_a")
	if len(a) != 2 || a[0].To != "a3@acme.test" || a[1].To != "a2@acme.test" || a[0].Link == "" {
		t.Errorf("tenant a's outbox = %+v, want its two latest, newest first", a)
	}
	if gl := box.List("ten_g"); len(gl) != 1 || gl[0].To != "g@globex.test" {
		t.Errorf("tenant g's outbox = %+v", gl)
	}
	if other := box.List("ten_other"); len(other) != 0 {
		t.Errorf("an unknown tenant's outbox = %+v", other)
	}
}

// TestTemplates: every kind renders text and HTML with the tenant's branding; the HTML escapes the tenant's
// name, and a color or logo that is not one falls back to the default.
func TestTemplates(t *testing.T) {
	tpl, err := mail.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{mail.KindMagicLink, mail.KindVerifyEmail, mail.KindPasswordReset} {
		t.Run(kind, func(t *testing.T) {
			m, err := tpl.Message(kind, mail.Content{Branding: mail.Branding{Name: `Acme <script>`, Color: "red;x:url(y)", LogoURL: "http://x/logo.png"},
				To: "a@acme.test", Link: "https://acme.test/l?token=T", Code: "123456", Expires: "10 minutes"}, "ten_a", "")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Subject, "Acme <script>") || strings.Contains(m.Subject, "\n") {
				t.Errorf("subject %q", m.Subject)
			}
			if !strings.Contains(m.Text, "https://acme.test/l?token=T") || !strings.Contains(m.HTML, `href="https://acme.test/l?token=T"`) {
				t.Errorf("the link is missing:\n%s\n%s", m.Text, m.HTML)
			}
			if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Acme &lt;script&gt;") {
				t.Errorf("the tenant's name is not escaped in HTML:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, mail.DefaultColor) || strings.Contains(m.HTML, "url(y)") || strings.Contains(m.HTML, "http://x/logo.png") {
				t.Errorf("a bad color or logo was used:\n%s", m.HTML)
			}
			if m.Kind != kind || m.Tenant != "ten_a" || m.Link != "https://acme.test/l?token=T" {
				t.Errorf("message %+v", m)
			}
		})
	}
	m, err := tpl.Message(mail.KindMagicLink, mail.Content{Branding: mail.Branding{Name: "Acme", Color: "#112233", LogoURL: "https://acme.test/logo.png"},
		To: "a@acme.test", Link: "https://acme.test/l", Code: "042042", Expires: "10 minutes"}, "ten_a", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "#112233") || !strings.Contains(m.HTML, `src="https://acme.test/logo.png"`) || !strings.Contains(m.Text, "042042") {
		t.Errorf("branding or code missing:\n%s\n%s", m.Text, m.HTML)
	}
}
