package management

import (
	"context"
	"net/http"
	"time"

	"github.com/authio/authio/authn/tickets"
)

// Tickets makes the single-use links of email verification and password reset (package authn/tickets).
type Tickets interface {
	CreatePasswordChangeTicket(ctx context.Context, spec tickets.TicketSpec) (string, error)
	CreateEmailVerificationTicket(ctx context.Context, spec tickets.TicketSpec) (string, error)
}

// passwordChangeTicketBody is Auth0's POST /tickets/password-change body: the user by user_id, or by email and
// connection_id (a password connection); result_url must be a URL one of the tenant's applications registered.
type passwordChangeTicketBody struct {
	UserID                 *string `json:"user_id"`
	Email                  *string `json:"email"`
	ConnectionID           *string `json:"connection_id"`
	ResultURL              *string `json:"result_url"`
	TTLSec                 *int    `json:"ttl_sec"`
	MarkEmailAsVerified    *bool   `json:"mark_email_as_verified"`
	IncludeEmailInRedirect *bool   `json:"includeEmailInRedirect"`
}

// emailVerificationTicketBody is Auth0's POST /tickets/email-verification body.
type emailVerificationTicketBody struct {
	UserID                 *string `json:"user_id"`
	ResultURL              *string `json:"result_url"`
	TTLSec                 *int    `json:"ttl_sec"`
	IncludeEmailInRedirect *bool   `json:"includeEmailInRedirect"`
}

// ticketView is a created ticket: the URL to hand the user.
type ticketView struct {
	Ticket string `json:"ticket"`
}

// createPasswordChangeTicket serves POST /tickets/password-change: 201 {"ticket": URL}; the URL opens the
// new-password page on the domain the request came in on.
func (h *Handler) createPasswordChangeTicket(w http.ResponseWriter, r *http.Request) error {
	var b passwordChangeTicketBody
	if err := decode(r, &b); err != nil {
		return err
	}
	u, err := h.S.CreatePasswordChangeTicket(r.Context(), tickets.TicketSpec{UserID: deref(b.UserID), Email: deref(b.Email),
		ConnectionID: deref(b.ConnectionID), ResultURL: deref(b.ResultURL), TTL: ticketTTL(b.TTLSec),
		MarkEmailVerified: deref(b.MarkEmailAsVerified), IncludeEmail: deref(b.IncludeEmailInRedirect)})
	if err != nil {
		return err
	}
	return created(w, ticketView{Ticket: u})
}

// createEmailVerificationTicket serves POST /tickets/email-verification: 201 {"ticket": URL}.
func (h *Handler) createEmailVerificationTicket(w http.ResponseWriter, r *http.Request) error {
	var b emailVerificationTicketBody
	if err := decode(r, &b); err != nil {
		return err
	}
	u, err := h.S.CreateEmailVerificationTicket(r.Context(), tickets.TicketSpec{UserID: deref(b.UserID),
		ResultURL: deref(b.ResultURL), TTL: ticketTTL(b.TTLSec),
		IncludeEmail: deref(b.IncludeEmailInRedirect)})
	if err != nil {
		return err
	}
	return created(w, ticketView{Ticket: u})
}

// ticketTTL is ttl_sec as a duration, checked before it is converted (a huge value would wrap around): a value
// out of range becomes -1 s, which the tickets service refuses naming ttl_sec.
func ticketTTL(sec *int) time.Duration {
	if sec == nil {
		return 0
	}
	if *sec < 0 || *sec > int(tickets.MaxTicketTTL/time.Second) {
		return -time.Second
	}
	return time.Duration(*sec) * time.Second
}
