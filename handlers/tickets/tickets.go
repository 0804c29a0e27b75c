// Package tickets serves the hosted pages of email verification and password reset on each tenant domain:
// "Forgot password?" (/login/forgot), the new-password form a reset link opens (/login/reset), the verification
// link (/login/verify-email) and "send the verification email again" (/login/verify-email/resend). Forms are
// CSRF-protected like the sign-in page's (same key and cookie), and nothing a page says depends on whether an
// address has an account.
package tickets

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gorilla/csrf"
	"github.com/gorilla/mux"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Paths of the pages.
const (
	ForgotPath = "/login/forgot"
	ResetPath  = tickets.PasswordResetPath
	VerifyPath = tickets.VerifyEmailPath
	ResendPath = tickets.VerifyEmailPath + "/resend"
)

// Services is what the pages use of Authio's services (*server.Server implements it).
type Services interface {
	// ResendVerification, RequestPasswordReset, VerifyEmail, OpenPasswordReset and ResetPassword are
	// tickets.Service's.
	ResendVerification(ctx context.Context, email, flowID, ip string) error
	RequestPasswordReset(ctx context.Context, email, flowID, ip string) error
	VerifyEmail(ctx context.Context, token string) (tickets.Result, error)
	OpenPasswordReset(ctx context.Context, token string) (storage.UserTicket, storage.User, error)
	ResetPassword(ctx context.Context, token, password string) (tickets.Result, error)
	// OpenFlow returns the open sign-in flow id names when it is this browser's.
	OpenFlow(ctx context.Context, r *http.Request, id string) (storage.AuthFlow, error)
	// ClientIP is the request's client address.
	ClientIP(r *http.Request) string
}

// Handler serves the pages. Routes must run behind server.ResolveTenant.
type Handler struct {
	S Services
	// CSRFKey and Secure are the sign-in pages' (handlers/login): one CSRF cookie serves both.
	CSRFKey []byte
	Secure  bool
	Pages   *templates.Renderer
	Logger  *slog.Logger
}

// Mount registers the pages on r, wrapped in CSRF protection.
func (h *Handler) Mount(r *mux.Router) {
	protect := csrf.Protect(h.CSRFKey,
		csrf.Secure(h.Secure), csrf.SameSite(csrf.SameSiteLaxMode), csrf.Path("/"), csrf.HttpOnly(true),
		csrf.CookieName("authio_csrf"), csrf.FieldName("csrf_token"),
		csrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.Logger.Info("csrf check failed", "request_id", httpx.RequestIDFromContext(r.Context()), "reason", csrf.FailureReason(r))
			h.errorPage(w, r, http.StatusForbidden, "Your form expired", "Please go back, reload the page and try again.")
		})))
	pages := r.NewRoute().Subrouter()
	pages.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !h.Secure {
				r = csrf.PlaintextHTTPRequest(r)
			}
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:")
			// The reset and verification links carry their token in the URL: never send it to another site.
			w.Header().Set("Referrer-Policy", "same-origin")
			protect(next).ServeHTTP(w, r)
		})
	})
	pages.HandleFunc(ForgotPath, h.forgotPage).Methods(http.MethodGet)
	pages.HandleFunc(ForgotPath, h.forgotSubmit).Methods(http.MethodPost)
	pages.HandleFunc(ResetPath, h.resetPage).Methods(http.MethodGet)
	pages.HandleFunc(ResetPath, h.resetSubmit).Methods(http.MethodPost)
	pages.HandleFunc(VerifyPath, h.verify).Methods(http.MethodGet)
	pages.HandleFunc(ResendPath, h.resend).Methods(http.MethodPost)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p templates.Page) {
	t := server.TenantFromContext(r.Context())
	p.TenantName = t.Name
	p.CSRFField = csrf.TemplateField(r)
	p.RequestID = httpx.RequestIDFromContext(r.Context())
	p.LoginURL = "/login"
	if p.Flow != "" {
		p.LoginURL += "?" + url.Values{"state": {p.Flow}}.Encode()
	}
	if err := h.Pages.Render(w, status, name, p); err != nil {
		h.Logger.Error("rendering page failed", "page", name, "request_id", p.RequestID, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, templates.PageError, templates.Page{Title: title, Message: msg})
}

// failed answers a failure on our side: an error log line, and 503 (database or cache) or 500; never a form error.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	if httpx.IsUnavailable(err) {
		httpx.SetRetryAfter(w, http.StatusServiceUnavailable)
		h.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "We cannot complete this right now. Please try again in a moment.")
		return
	}
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}

// flowIDRE is the shape of a sign-in flow id (authn: "flw_" and a random part).
var flowIDRE = regexp.MustCompile(`^flw_[A-Za-z0-9_-]{1,100}$`)

// flowOf returns the sign-in flow id the request names (state) when it is an open flow of this browser, else "":
// the pages then lead back to a plain sign-in.
func (h *Handler) flowOf(r *http.Request, id string) string {
	if !flowIDRE.MatchString(id) {
		return ""
	}
	if _, err := h.S.OpenFlow(r.Context(), r, id); err != nil {
		return ""
	}
	return id
}

// throttled answers a refused request for another mail: 429 with Retry-After.
func (h *Handler) throttled(w http.ResponseWriter, r *http.Request, p templates.Page, page string, t *tickets.ThrottledError) {
	secs := int(t.RetryAfter.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	p.Error = "Too many emails were asked for. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."
	h.Logger.Info("mail request throttled", "request_id", httpx.RequestIDFromContext(r.Context()))
	h.render(w, r, http.StatusTooManyRequests, page, p)
}

// sendFailed answers a request for a mail when no mail can be sent at all: the form again, with the error every
// address gets (503, never a 500 page).
func (h *Handler) sendFailed(w http.ResponseWriter, r *http.Request, p templates.Page, page string) {
	p.Error = "We could not send the email. Try again."
	h.render(w, r, http.StatusServiceUnavailable, page, p)
}

// checkEmail returns the error text of an email field, or "" when it holds an address (its shape only: nothing
// is looked up).
func checkEmail(email string) string {
	switch {
	case email == "":
		return "Enter your email address."
	case len(email) > 254:
		return "Enter a valid email address."
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email, "@") {
		return "Enter a valid email address."
	}
	return ""
}

func (h *Handler) forgotPage(w http.ResponseWriter, r *http.Request) {
	p := templates.Page{Flow: h.flowOf(r, r.URL.Query().Get("state")), FieldErrors: map[string]string{}}
	if e := strings.TrimSpace(r.URL.Query().Get("email")); checkEmail(e) == "" {
		p.Email = e
	}
	h.render(w, r, http.StatusOK, templates.PageForgot, p)
}

// forgotSubmit is POST /login/forgot: every well-formed address gets the same answer, in the same time (the
// mail, if any, is made in the background and goes to the account's stored address).
func (h *Handler) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	p := templates.Page{Flow: h.flowOf(r, r.PostFormValue("state")), Email: email, FieldErrors: map[string]string{}}
	if msg := checkEmail(email); msg != "" {
		p.FieldErrors["email"] = msg
		h.render(w, r, http.StatusBadRequest, templates.PageForgot, p)
		return
	}
	err := h.S.RequestPasswordReset(r.Context(), email, p.Flow, h.S.ClientIP(r))
	var throttled *tickets.ThrottledError
	switch {
	case errors.As(err, &throttled):
		h.throttled(w, r, p, templates.PageForgot, throttled)
		return
	case errors.Is(err, tickets.ErrSendFailed):
		h.sendFailed(w, r, p, templates.PageForgot)
		return
	case err != nil:
		h.failed(w, r, "password reset request failed", err)
		return
	}
	p.Title = "Check your email"
	p.Message = "If an account exists for " + email + ", we have sent a link to reset its password. The link works once, for " +
		strconv.Itoa(int(tickets.PasswordResetTTL.Minutes())) + " minutes."
	h.render(w, r, http.StatusOK, templates.PageForgot, p)
}

// invalidLink answers a link that cannot be used (410).
func (h *Handler) invalidLink(w http.ResponseWriter, r *http.Request, again string) {
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusGone, templates.PageError, templates.Page{Title: "This link cannot be used",
		Message: "The link has expired or was already used. " + again, LinkURL: "/login", LinkText: "Go to sign in"})
}

// resetPage is GET /login/reset?token=…: the new-password form of an open reset link (nothing is used up yet, so
// a mail scanner that opens the link changes nothing).
func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	t, u, err := h.S.OpenPasswordReset(r.Context(), token)
	switch {
	case errors.Is(err, tickets.ErrInvalidTicket):
		h.invalidLink(w, r, "Ask for a new one with \"Forgot password?\" on the sign-in page.")
		return
	case err != nil:
		h.failed(w, r, "opening a password reset link failed", err)
		return
	}
	p := templates.Page{Hidden: map[string]string{"token": token}, Email: u.Email, FieldErrors: map[string]string{}}
	if f := h.flowOf(r, t.FlowID); f != "" {
		p.Hidden["state"] = f
	}
	h.render(w, r, http.StatusOK, templates.PageReset, p)
}

// resetSubmit is POST /login/reset: the new password, twice. On success every session of the user ends (this
// browser's too) and every token issued to them is revoked; the user signs in again with the new password (or
// the browser goes to the ticket's result URL).
func (h *Handler) resetSubmit(w http.ResponseWriter, r *http.Request) {
	token, password := r.PostFormValue("token"), r.PostFormValue("password")
	p := templates.Page{Hidden: map[string]string{"token": token}, FieldErrors: map[string]string{}}
	flow := h.flowOf(r, r.PostFormValue("state"))
	if flow != "" {
		p.Hidden["state"] = flow
	}
	switch {
	case password == "":
		p.FieldErrors["password"] = "Enter a new password."
	case r.PostFormValue("password_confirm") != password:
		p.FieldErrors["password_confirm"] = "The two passwords do not match."
	}
	if len(p.FieldErrors) > 0 {
		h.render(w, r, http.StatusBadRequest, templates.PageReset, p)
		return
	}
	res, err := h.S.ResetPassword(r.Context(), token, password)
	var verr *directory.ValidationError
	switch {
	case errors.As(err, &verr):
		p.FieldErrors["password"] = strings.ToUpper(verr.Message[:1]) + verr.Message[1:] + "."
		h.render(w, r, http.StatusBadRequest, templates.PageReset, p)
		return
	case errors.Is(err, tickets.ErrInvalidTicket):
		h.invalidLink(w, r, "Your password has not changed. Ask for a new link with \"Forgot password?\" on the sign-in page.")
		return
	case err != nil:
		h.failed(w, r, "password reset failed", err)
		return
	}
	h.Logger.Info("password reset", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", res.User.ID)
	if res.Redirect != "" {
		http.Redirect(w, r, res.Redirect, http.StatusSeeOther)
		return
	}
	login := "/login"
	if flow != "" {
		login += "?" + url.Values{"state": {flow}}.Encode()
	}
	h.render(w, r, http.StatusOK, templates.PageError, templates.Page{Title: "Your password has been changed",
		Message: "You have been signed out everywhere. Sign in with your new password.",
		LinkURL: login, LinkText: "Sign in"})
}

// verify is GET /login/verify-email?token=…: the link of a verification email marks the address verified.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	res, err := h.S.VerifyEmail(r.Context(), r.URL.Query().Get("token"))
	switch {
	case errors.Is(err, tickets.ErrInvalidTicket):
		h.invalidLink(w, r, "If your address is not verified yet, sign in to get a new link.")
		return
	case err != nil:
		h.failed(w, r, "email verification failed", err)
		return
	}
	h.Logger.Info("email verified", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", res.User.ID)
	if res.Redirect != "" {
		http.Redirect(w, r, res.Redirect, http.StatusSeeOther)
		return
	}
	login := "/login"
	if f := h.flowOf(r, res.Ticket.FlowID); f != "" {
		login += "?" + url.Values{"state": {f}}.Encode()
	}
	h.render(w, r, http.StatusOK, templates.PageError, templates.Page{Title: "Your email address is verified",
		Message: "Thank you. You can now sign in.", LinkURL: login, LinkText: "Continue to sign in"})
}

// resend is POST /login/verify-email/resend: another verification mail for the address the form names (the
// account's stored address gets it). The answer is the same for every address.
func (h *Handler) resend(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	p := templates.Page{Flow: h.flowOf(r, r.PostFormValue("state")), Email: email}
	if checkEmail(email) != "" {
		p.Error = "We could not tell which address to send the email to. Sign in again to get a new link."
		h.render(w, r, http.StatusBadRequest, templates.PageVerifyEmail, p)
		return
	}
	err := h.S.ResendVerification(r.Context(), email, p.Flow, h.S.ClientIP(r))
	var throttled *tickets.ThrottledError
	switch {
	case errors.As(err, &throttled):
		h.throttled(w, r, p, templates.PageVerifyEmail, throttled)
		return
	case errors.Is(err, tickets.ErrSendFailed):
		h.sendFailed(w, r, p, templates.PageVerifyEmail)
		return
	case err != nil:
		h.failed(w, r, "verification email request failed", err)
		return
	}
	p.Title = "Check your email"
	p.Message = "If " + email + " still needs verifying, we have sent a new link to it. Open it, then sign in."
	h.render(w, r, http.StatusOK, templates.PageVerifyEmail, p)
}
