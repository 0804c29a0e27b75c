// Package mail sends Authio's email (sign-in links and codes, address verification, password reset): messages
// rendered from embedded templates with the tenant's branding, delivered over SMTP (AUTHIO_SMTP_URL) by a Queue
// that retries temporary failures with exponential backoff, or, in --dev, written to the log and to an in-memory
// Outbox that the tenant's /dev/outbox page lists.
//
// Delivery contract (what a page can promise the user): Queue.Send makes one synchronous attempt bounded by a
// short timeout. Delivered: nil. A temporary failure (a 4xx reply, a refused or timed-out connection): the
// message is queued for retries in this process and Send returns nil, since the mail is on its way. A permanent
// failure (a 5xx reply, an address the server refuses), no SMTP server configured, or a full queue: Send
// returns an error matching ErrNotSent (and ErrNotConfigured for the missing server), which pages show as "We
// could not send the email. Try again." (never a 500). Failures are logged at error level without the body or
// the link, which are secrets.
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
)

// Message kinds (Message.Kind), one template pair per kind under templates/.
const (
	KindMagicLink     = "magic_link"
	KindVerifyEmail   = "verify_email"
	KindPasswordReset = "password_reset"
)

// Message is one email, rendered and addressed.
type Message struct {
	To      string // one recipient address
	Subject string
	Text    string // the text/plain body
	HTML    string // the text/html alternative ("" for text only)
	// Tenant is the id of the tenant the message is sent for: the dev outbox lists a tenant's messages on that
	// tenant's hosts only, and logs name it.
	Tenant string
	// Kind is the message kind (KindMagicLink, KindVerifyEmail, KindPasswordReset), for logs and the outbox.
	Kind string
	// Link is the message's main link, shown by the dev outbox; never logged outside --dev (it is a secret).
	Link string
	// From is the sender, "Name <address>" or an address; "" sends from the server's default (AUTHIO_SMTP_FROM).
	From string
}

// Sender sends messages. Send either hands the message on (delivered, or queued for retries after a temporary
// failure) and returns nil, or returns an error matching ErrNotSent when the message cannot even be queued: the
// caller then tells the user that the email could not be sent. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	// ErrNotSent matches every error of Send: the message was neither delivered nor queued.
	ErrNotSent = errors.New("mail: the message could not be sent")
	// ErrNotConfigured is returned (wrapped with ErrNotSent) by a Queue without an SMTP server, outside --dev.
	ErrNotConfigured = fmt.Errorf("%w: no SMTP server is configured (AUTHIO_SMTP_URL)", ErrNotSent)
)

// Usable reports whether s can send at all: nil, or ErrNotConfigured when s is a Queue without a transport. A
// caller that must treat every request alike whether or not it sends (sign-in codes for known and unknown
// addresses) asks it for every request.
func Usable(s Sender) error {
	if u, ok := s.(interface{ Usable() error }); ok {
		return u.Usable()
	}
	if s == nil {
		return ErrNotConfigured
	}
	return nil
}

// check refuses a message no server could deliver: no single valid recipient, no subject, no body.
func check(m Message) error {
	if _, err := netmail.ParseAddress(m.To); err != nil || strings.ContainsAny(m.To, ",;") {
		return fmt.Errorf("%w: the recipient is not one email address", ErrNotSent)
	}
	if m.Subject == "" || m.Text == "" {
		return fmt.Errorf("%w: the message has no subject or no text", ErrNotSent)
	}
	return nil
}
