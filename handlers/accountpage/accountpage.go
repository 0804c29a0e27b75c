// Package accountpage serves the account page, /account on each tenant domain: what a user signed in to the
// hosted pages (the browser session cookie) may see and change about their own account. The page is a list of
// sections (Section), registered in one place (sections.go); each renders a partial templates/account/<name>.html
// and mounts its own forms under /account/<name>/, behind the page's session check and CSRF protection.
// (The JSON API for access tokens, /v1/me, is package handlers/account.)
package accountpage

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/gorilla/csrf"
	"github.com/gorilla/mux"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Path is the account page's path on every tenant domain.
const Path = "/account"

// Section is one part of the account page.
type Section interface {
	// Name is the section's id: its anchor on the page and its routes' prefix /account/<name>.
	Name() string
	// Template is the partial templates/account/<name>.html that renders the section with Data's value.
	Template() string
	// Data loads what the section shows for the signed-in user of session ls.
	Data(ctx context.Context, u storage.User, ls storage.LoginSession) (any, error)
	// Mount registers the section's own routes (POST forms, JSON for ceremonies) on r, already behind the
	// account page's session check and CSRF protection; handlers get the user with AccountUser(r).
	//
	// r is a subrouter for the prefix /account/<name>: paths given to it are relative to that prefix, so
	// r.HandleFunc("/remove", …).Methods(http.MethodPost) serves POST /account/<name>/remove.
	Mount(r *mux.Router)
}

// Services is what the account page uses of Authio's services (*server.Server implements it).
type Services interface {
	// SessionFromCookie returns the live session and its user for a session cookie value (storage.ErrNotFound
	// when there is none).
	SessionFromCookie(ctx context.Context, cookie string) (storage.LoginSession, storage.User, error)
	// UserSessions lists the user's live sessions, newest first.
	UserSessions(ctx context.Context, userID string) ([]storage.LoginSession, error)
	// EndUserSession ends one of the user's sessions (storage.ErrNotFound when it is not theirs or is gone).
	EndUserSession(ctx context.Context, userID, id string) error
	// EndOtherSessions ends every session of ls's user but ls; it returns how many.
	EndOtherSessions(ctx context.Context, ls storage.LoginSession) (int64, error)
	// UpdateUser changes a user's profile (audited as user.updated).
	UpdateUser(ctx context.Context, id string, upd directory.UserUpdate) (storage.User, error)
	// ChangePassword checks the current password and sets the new one (see server.Server.ChangePassword).
	ChangePassword(ctx context.Context, userID, sessionID, current, next, ip string) error
	// AccountIdentities lists the user's linked upstream identities.
	AccountIdentities(ctx context.Context, userID string) ([]server.AccountIdentity, error)
	// UnlinkIdentity unlinks one of them when another way to sign in remains (server.ErrLastSignInMethod).
	UnlinkIdentity(ctx context.Context, userID, id string) error
	// ClientIP is the request's client address (X-Forwarded-For only from trusted proxies).
	ClientIP(r *http.Request) string
	// SecondFactors: the authenticator section, and the session check's second factor.
	SecondFactors
	// LoginConnections lists the tenant's enabled sign-in connections, opened (the passkeys section uses the
	// passkey kind's).
	LoginConnections(ctx context.Context) ([]authn.Connection, error)
}

// Handler serves the account page. Routes must run behind server.ResolveTenant.
type Handler struct {
	S Services
	// CSRFKey keys the CSRF tokens of every form (the hosted pages' key: the same cookie serves both).
	CSRFKey []byte
	// Secure marks cookies Secure (AUTHIO_PUBLIC_SCHEME=https).
	Secure bool
	Pages  *templates.Renderer
	Logger *slog.Logger
	Now    func() time.Time

	sections []Section
}

type ctxKey struct{}

type signedIn struct {
	user    storage.User
	session storage.LoginSession
}

// AccountUser is the signed-in user of a request the account page's session check let through.
func AccountUser(r *http.Request) storage.User {
	v, _ := r.Context().Value(ctxKey{}).(signedIn)
	return v.user
}

// AccountSession is the browser session of a request the account page's session check let through.
func AccountSession(r *http.Request) storage.LoginSession {
	v, _ := r.Context().Value(ctxKey{}).(signedIn)
	return v.session
}

// Mount registers the account page and its sections' routes on r.
func (h *Handler) Mount(r *mux.Router) {
	h.sections = h.registered()
	protect := csrf.Protect(h.CSRFKey,
		csrf.Secure(h.Secure), csrf.SameSite(csrf.SameSiteLaxMode), csrf.Path("/"), csrf.HttpOnly(true),
		csrf.CookieName("authio_csrf"), csrf.FieldName("csrf_token"),
		csrf.ErrorHandler(http.HandlerFunc(h.csrfFailed)))
	acct := r.PathPrefix(Path).Subrouter()
	acct.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !h.Secure {
				r = csrf.PlaintextHTTPRequest(r)
			}
			pageHeaders(w)
			protect(h.requireSession(next)).ServeHTTP(w, r)
		})
	})
	acct.HandleFunc("", h.page).Methods(http.MethodGet)
	for _, s := range h.sections {
		s.Mount(acct.PathPrefix("/" + s.Name()).Subrouter())
	}
}

// pageHeaders sets the security headers of the page (as the sign-in pages do).
func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Frame-Options", "DENY")
	// data: images: the authenticator section's QR code is a PNG data URI the server makes.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
}

// returnToRE is what a sign-in may come back to: the account page or one of its paths, nothing else (no query,
// no other site, no "//").
var returnToRE = regexp.MustCompile(`^/account(?:/[a-z0-9][a-z0-9-]*)*$`)

// SafeReturnTo reports whether p may be a sign-in's return_to: /account or a path below it made of lower-case
// letters, digits and hyphens. Anything else (another site, a query, "//", "..") is refused.
func SafeReturnTo(p string) bool { return len(p) <= 200 && returnToRE.MatchString(p) }

// requireSession lets through requests with a live session of this tenant, with the user and session in the
// context and the user as the audit actor; others go to the hosted sign-in, which brings them back.
func (h *Handler) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var (
			ls  storage.LoginSession
			u   storage.User
			err = storage.ErrNotFound
		)
		if c, cerr := r.Cookie(oauth.SessionCookie); cerr == nil {
			ls, u, err = h.S.SessionFromCookie(ctx, c.Value)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound):
			back := Path
			if r.Method == http.MethodGet && SafeReturnTo(r.URL.Path) {
				back = r.URL.Path
			}
			http.Redirect(w, r, "/login?"+url.Values{"return_to": {back}}.Encode(), http.StatusSeeOther)
			return
		case err != nil:
			h.Failed(w, r, "account page: reading the browser session failed", err)
			return
		}
		if !authn.MultiFactor(ls.AMR) {
			// A session of one factor does not open the page of a user who must pass a second one.
			need, err := h.S.MFARequired(ctx, u)
			if err != nil {
				h.Failed(w, r, "account page: reading whether the user needs a second factor failed", err)
				return
			}
			if need {
				back := Path
				if r.Method == http.MethodGet && SafeReturnTo(r.URL.Path) {
					back = r.URL.Path
				}
				http.Redirect(w, r, oauth.MFAPath+"?"+url.Values{"return_to": {back}}.Encode(), http.StatusSeeOther)
				return
			}
		}
		ctx = audit.WithActor(ctx, audit.Actor{Kind: "user", ID: u.ID})
		ctx = context.WithValue(ctx, ctxKey{}, signedIn{user: u, session: ls})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (h *Handler) csrfFailed(w http.ResponseWriter, r *http.Request) {
	h.Logger.Info("csrf check failed", "request_id", httpx.RequestIDFromContext(r.Context()), "reason", csrf.FailureReason(r))
	h.errorPage(w, r, http.StatusForbidden, "Your form expired", "Please go back, reload the page and try again.")
}

// Outcome is what a section's form submission shows on the re-rendered page: a section-level Error, FieldErrors
// next to its inputs, the submitted Values to show again (never passwords), or a Notice.
type Outcome struct {
	Error       string
	FieldErrors map[string]string
	Values      map[string]string
	Notice      string
}

// Done answers a section's successful change: back to the page (303, so a reload does not post again), which
// shows the section's confirmation for notice, a key the section's Notice method turns into text ("Saved." for a
// section without one, or a key it does not know). The page never shows text taken from its URL.
func (h *Handler) Done(w http.ResponseWriter, r *http.Request, section, notice string) {
	q := url.Values{"done": {section}}
	if notice != "" {
		q.Set("notice", notice)
	}
	http.Redirect(w, r, Path+"?"+q.Encode()+"#"+section, http.StatusSeeOther)
}

// Noticer is implemented by a section whose confirmations say more than "Saved.": Notice returns the text for
// a key its handlers passed to Done ("" for an unknown key).
type Noticer interface {
	Notice(key string) string
}

// Refuse re-renders the page with status and the section's outcome (a form the user must correct).
func (h *Handler) Refuse(w http.ResponseWriter, r *http.Request, status int, section string, o Outcome) {
	h.render(w, r, status, section, o)
}

// Failed answers a request that failed on our side: an error log line, and a 503 (database or cache down) or
// 500 page. Never a form error.
func (h *Handler) Failed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	if httpx.IsUnavailable(err) {
		httpx.SetRetryAfter(w, http.StatusServiceUnavailable)
		h.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "We cannot complete this right now. Please try again in a moment.")
		return
	}
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	p := templates.Page{Title: title, Message: msg, LinkURL: Path, LinkText: "Back to your account"}
	h.write(w, r, status, templates.PageError, p)
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, status int, name string, p templates.Page) {
	t := server.TenantFromContext(r.Context())
	if t != nil {
		p.TenantName = t.Name
	}
	p.CSRFField = csrf.TemplateField(r)
	p.RequestID = httpx.RequestIDFromContext(r.Context())
	if err := h.Pages.Render(w, status, name, p); err != nil {
		h.Logger.Error("rendering page failed", "page", name, "request_id", p.RequestID, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}

// page is GET /account.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var o Outcome
	for _, s := range h.sections {
		if s.Name() != q.Get("done") {
			continue
		}
		if n, ok := s.(Noticer); ok {
			o.Notice = n.Notice(q.Get("notice"))
		}
		if o.Notice == "" {
			o.Notice = "Saved."
		}
	}
	h.render(w, r, http.StatusOK, q.Get("done"), o)
}

// render renders the page with every section's data, outcome o shown in the section named section.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, section string, o Outcome) {
	ctx := r.Context()
	u, ls := AccountUser(r), AccountSession(r)
	p := templates.Page{Email: u.Email}
	for _, s := range h.sections {
		data, err := s.Data(ctx, u, ls)
		if err != nil {
			h.Failed(w, r, "account page: loading section "+s.Name()+" failed", err)
			return
		}
		v := templates.AccountSection{Name: s.Name(), Template: s.Template(), Data: data}
		if s.Name() == section {
			v.Error, v.FieldErrors, v.Values, v.Notice = o.Error, o.FieldErrors, o.Values, o.Notice
		}
		p.Sections = append(p.Sections, v)
	}
	h.write(w, r, status, templates.PageAccount, p)
}
