package tickets

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// TicketSpec is a Management API ticket request (POST /api/v2/tickets/password-change or
// /tickets/email-verification, Auth0's bodies).
type TicketSpec struct {
	// UserID names the user. A password-change ticket may name the user by Email and ConnectionID (a password
	// connection of the tenant) instead; exactly one of the two ways.
	UserID              string
	Email, ConnectionID string
	// ResultURL is where the browser goes once the ticket is used: "" for Authio's own page, else a URL the
	// tenant's clients registered (a callback URL exactly, or any URL on one of their web origins).
	ResultURL string
	// TTL is the ticket's lifetime: 0 for DefaultTicketTTL, at most MaxTicketTTL.
	TTL time.Duration
	// MarkEmailVerified (password change) marks the address verified when the ticket is used; IncludeEmail adds
	// the address to ResultURL's query.
	MarkEmailVerified, IncludeEmail bool
}

// CreatePasswordChangeTicket makes a password reset ticket for the user spec names and returns its URL, on the
// domain the request came in on. A bad spec is a *directory.ValidationError naming the field; an unknown user
// (another tenant's included) a *directory.NotFoundError. Audited as EventTicketCreated.
func (s *Service) CreatePasswordChangeTicket(ctx context.Context, spec TicketSpec) (string, error) {
	var u storage.User
	var err error
	switch {
	case spec.UserID != "" && (spec.Email != "" || spec.ConnectionID != ""):
		return "", directory.Invalid("user_id", "give either user_id, or email with connection_id, not both")
	case spec.UserID != "":
		u, err = s.d.Store.GetUser(ctx, spec.UserID)
		err = directory.NotFound(err, "user", spec.UserID)
	case spec.Email == "" || spec.ConnectionID == "":
		return "", directory.Invalid("user_id", "is required (or email with connection_id)")
	default:
		if err := s.checkPasswordConnection(ctx, spec.ConnectionID); err != nil {
			return "", err
		}
		email, nerr := directory.NormalizeEmail(spec.Email)
		if nerr != nil {
			return "", nerr
		}
		u, err = s.d.Store.GetUserByEmail(ctx, email)
		err = directory.NotFound(err, "user", email)
	}
	if err != nil {
		return "", err
	}
	return s.apiTicket(ctx, storage.TicketPasswordReset, u, spec)
}

// CreateEmailVerificationTicket makes a verification ticket for the user spec.UserID names and returns its URL;
// errors as CreatePasswordChangeTicket's.
func (s *Service) CreateEmailVerificationTicket(ctx context.Context, spec TicketSpec) (string, error) {
	if spec.UserID == "" {
		return "", directory.Invalid("user_id", "is required")
	}
	u, err := s.d.Store.GetUser(ctx, spec.UserID)
	if err != nil {
		return "", directory.NotFound(err, "user", spec.UserID)
	}
	spec.MarkEmailVerified = false
	return s.apiTicket(ctx, storage.TicketVerifyEmail, u, spec)
}

func (s *Service) apiTicket(ctx context.Context, purpose string, u storage.User, spec TicketSpec) (string, error) {
	ttl := spec.TTL
	switch {
	case ttl < 0 || ttl > MaxTicketTTL:
		return "", directory.Invalid("ttl_sec", "must be from 0 (the default, %d) to %d seconds",
			int(DefaultTicketTTL.Seconds()), int(MaxTicketTTL.Seconds()))
	case ttl == 0:
		ttl = DefaultTicketTTL
	}
	if spec.ResultURL != "" {
		if err := s.CheckResultURL(ctx, spec.ResultURL); err != nil {
			return "", err
		}
	}
	if u.Email == "" {
		return "", directory.Invalid("user_id", "the user has no email address")
	}
	link, t, err := s.issue(ctx, storage.UserTicket{Purpose: purpose, UserID: u.ID, Email: u.Email, Source: "api",
		ResultURL: spec.ResultURL, MarkEmailVerified: spec.MarkEmailVerified, IncludeEmail: spec.IncludeEmail}, ttl)
	if err != nil {
		return "", err
	}
	if err := s.d.Audit(ctx, storage.AuditEvent{Type: EventTicketCreated, UserID: u.ID, Data: storage.JSONMap{
		"purpose": purpose, "ticket_id": t.ID, "ttl_sec": int(ttl.Seconds()), "result_url": spec.ResultURL}}); err != nil {
		return "", err
	}
	return link, nil
}

// checkPasswordConnection refuses a connection id that is not one of the tenant's password connections.
func (s *Service) checkPasswordConnection(ctx context.Context, id string) error {
	con, err := s.d.Store.GetConnection(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && (con.ID != id || con.Type != storage.ConnectionPassword)):
		return directory.Invalid("connection_id", "the tenant has no password connection with id %q", id)
	case err != nil:
		return err
	}
	return nil
}

// CheckResultURL accepts a URL the browser may be sent to after a ticket: an absolute http(s) URL without user
// information or fragment that is a callback URL one of the tenant's clients registered, or lies on a web origin
// one of them registered. Anything else is a *directory.ValidationError on result_url: sending browsers to a
// URL nobody registered would make tickets an open redirect.
func (s *Service) CheckResultURL(ctx context.Context, raw string) error {
	bad := directory.Invalid("result_url", "must be a callback URL or on a web origin of one of the tenant's applications")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" ||
		u.Opaque != "" || strings.ContainsAny(raw, "\\\r\n\t ") {
		return bad
	}
	origin := originOf(u)
	clients, err := s.d.Store.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		for _, cb := range c.RedirectURIs {
			if cb == raw {
				return nil
			}
		}
		for _, o := range c.WebOrigins {
			if wo, err := url.Parse(o); err == nil && wo.Host != "" && originOf(wo) == origin {
				return nil
			}
		}
	}
	return bad
}

// originOf is u's origin, scheme://host[:port] in lower case, without the scheme's default port.
func originOf(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}
