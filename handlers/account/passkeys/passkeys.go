// Package passkeys serves a signed-in user's passkeys on the tenant domain: the list (name, added, last used),
// adding one (the WebAuthn registration ceremony, as JSON for static/passkey.js), renaming and removing. The
// same page is offered right after sign-up, before the sign-in flow goes on. Every change is audited by the
// passkey kind (authn/passkey).
package passkeys

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/csrf"
	"github.com/gorilla/mux"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/passkey"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Path is the passkeys page; its actions are under it.
const Path = "/account/passkeys"

// Services is what the passkeys page uses of Authio's services (*server.Server implements it).
type Services interface {
	// SessionFromCookie returns the live browser session and its user (storage.ErrNotFound for none).
	SessionFromCookie(ctx context.Context, cookie string) (storage.LoginSession, storage.User, error)
	// LoginConnections lists the tenant's enabled sign-in connections, opened.
	LoginConnections(ctx context.Context) ([]authn.Connection, error)
}

// Handler serves the passkeys page. Routes must run behind server.ResolveTenant.
type Handler struct {
	S Services
	// CSRFKey and Secure are the hosted pages' (handlers/login): one CSRF cookie serves every page.
	CSRFKey []byte
	Secure  bool
	Pages   *templates.Renderer
	Logger  *slog.Logger
	// TenantName names the tenant in ctx for the page header ("" for none).
	TenantName func(ctx context.Context) string
}

// Mount registers the page and its actions on r, behind CSRF protection.
func (h *Handler) Mount(r *mux.Router) {
	protect := csrf.Protect(h.CSRFKey,
		csrf.Secure(h.Secure), csrf.SameSite(csrf.SameSiteLaxMode), csrf.Path("/"), csrf.HttpOnly(true),
		csrf.CookieName("authio_csrf"), csrf.FieldName("csrf_token"),
		csrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.Logger.Info("csrf check failed", "request_id", httpx.RequestIDFromContext(r.Context()), "reason", csrf.FailureReason(r))
			h.errorPage(w, r, http.StatusForbidden, "Your form expired", "Please go back, reload the page and try again.")
		})))
	sub := r.NewRoute().Subrouter()
	sub.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !h.Secure {
				r = csrf.PlaintextHTTPRequest(r)
			}
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
			w.Header().Set("Referrer-Policy", "same-origin")
			w.Header().Set("Cache-Control", "no-store")
			protect(next).ServeHTTP(w, r)
		})
	})
	sub.HandleFunc(Path, h.page).Methods(http.MethodGet)
	sub.HandleFunc(Path+"/begin", h.begin).Methods(http.MethodPost)
	sub.HandleFunc(Path+"/finish", h.finish).Methods(http.MethodPost)
	sub.HandleFunc(Path+"/{id}/rename", h.rename).Methods(http.MethodPost)
	sub.HandleFunc(Path+"/{id}/delete", h.remove).Methods(http.MethodPost)
}

// signedIn returns the browser's session and user; ok=false when there is none (the response is written: a page
// that says to sign in, or a JSON 401 for the ceremony's steps).
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, asJSON bool) (storage.LoginSession, storage.User, bool) {
	c, err := r.Cookie(oauth.SessionCookie)
	var ls storage.LoginSession
	var u storage.User
	if err == nil {
		ls, u, err = h.S.SessionFromCookie(r.Context(), c.Value)
	} else {
		err = storage.ErrNotFound
	}
	switch {
	case err == nil:
		return ls, u, true
	case errors.Is(err, storage.ErrNotFound):
		if asJSON {
			httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "login_required",
				"error_description": "Sign in again to manage your passkeys."})
		} else {
			h.render(w, r, http.StatusUnauthorized, templates.PageError, templates.Page{Title: "Sign in first",
				Message: "Sign in to manage your passkeys.", LinkURL: "/login", LinkText: "Sign in"})
		}
	default:
		h.failed(w, r, asJSON, "passkeys: reading the browser session failed", err)
	}
	return ls, u, false
}

// registrar is what the page needs of the passkey kind.
type registrar interface {
	BeginRegistration(ctx context.Context, binding string, u storage.User) (any, error)
	FinishRegistration(ctx context.Context, binding string, u storage.User, raw []byte, name string) (storage.Credential, error)
	Rename(ctx context.Context, u storage.User, id, name string) error
	Remove(ctx context.Context, u storage.User, id string) error
	List(ctx context.Context, u storage.User) ([]storage.Credential, error)
}

var _ registrar = (*passkey.Connection)(nil)

// connection opens the tenant's first enabled passkey connection; nil when it has none (passkeys are off: the
// page lists and removes what exists but adds nothing).
func (h *Handler) connection(ctx context.Context) (registrar, error) {
	conns, err := h.S.LoginConnections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		if reg, ok := c.(registrar); ok && c.Type() == passkey.Type {
			return reg, nil
		}
	}
	return nil, nil
}

// continueURL is where the page's "Continue" link goes: the flow's next step when the page was offered during a
// sign-in flow (state), else nowhere.
func continueURL(r *http.Request) string {
	if st := r.URL.Query().Get("state"); st != "" && len(st) <= 64 {
		return oauth.ResumePath + "?" + url.Values{"state": {st}}.Encode()
	}
	return ""
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r, false)
	if !ok {
		return
	}
	h.renderList(w, r, http.StatusOK, u, "", nil)
}

func (h *Handler) renderList(w http.ResponseWriter, r *http.Request, status int, u storage.User, message string, fieldErrors map[string]string) {
	ctx := r.Context()
	reg, err := h.connection(ctx)
	if err != nil {
		h.failed(w, r, false, "passkeys: listing the sign-in methods failed", err)
		return
	}
	if reg == nil {
		h.errorPage(w, r, http.StatusNotFound, "Passkeys are not available", "This site does not offer passkeys.")
		return
	}
	creds, err := reg.List(ctx, u)
	if err != nil {
		h.failed(w, r, false, "passkeys: listing the user's passkeys failed", err)
		return
	}
	rp, _ := passkey.RelyingPartyOf(ctx)
	p := templates.Page{Title: "Passkeys", Message: message, FieldErrors: fieldErrors, Passkeys: []templates.Passkey{}}
	if next := continueURL(r); next != "" {
		p.Title, p.LinkURL, p.LinkText = "Add a passkey", next, "Not now"
		if len(creds) > 0 {
			p.LinkText = "Continue"
		}
	}
	day := func(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
	for _, c := range creds {
		v := templates.Passkey{ID: c.ID, Name: passkey.Name(c), Created: day(c.CreatedAt), Synced: passkey.Synced(c),
			RPID: c.RPID, Here: c.RPID == rp.ID}
		if c.LastUsedAt != nil {
			v.LastUsed = day(*c.LastUsedAt)
		}
		p.Passkeys = append(p.Passkeys, v)
	}
	h.render(w, r, status, templates.PagePasskeys, p)
}

// begin is POST /account/passkeys/begin: the creation options of a registration for the signed-in user, bound to
// the browser session.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) {
	ls, u, ok := h.signedIn(w, r, true)
	if !ok {
		return
	}
	reg, ok := h.jsonConnection(w, r)
	if !ok {
		return
	}
	opts, err := reg.BeginRegistration(r.Context(), passkey.SessionBinding(ls.ID), u)
	if err != nil {
		h.failed(w, r, true, "passkeys: beginning a registration failed", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, opts)
}

func (h *Handler) jsonConnection(w http.ResponseWriter, r *http.Request) (registrar, bool) {
	reg, err := h.connection(r.Context())
	if err != nil {
		h.failed(w, r, true, "passkeys: listing the sign-in methods failed", err)
		return nil, false
	}
	if reg == nil {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "This site does not offer passkeys."})
		return nil, false
	}
	return reg, true
}

// finish is POST /account/passkeys/finish (form: credential, the browser's answer as JSON; name): it stores the
// passkey and answers {"id", "name"} with 201.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request) {
	ls, u, ok := h.signedIn(w, r, true)
	if !ok {
		return
	}
	reg, ok := h.jsonConnection(w, r)
	if !ok {
		return
	}
	cred, err := reg.FinishRegistration(r.Context(), passkey.SessionBinding(ls.ID), u, []byte(r.PostFormValue("credential")),
		r.PostFormValue("name"))
	switch {
	case errors.Is(err, passkey.ErrInvalid):
		h.Logger.Info("passkey registration refused", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", u.ID)
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_credential",
			"error_description": "The passkey could not be verified. Try again."})
		return
	case errors.Is(err, passkey.ErrDuplicate):
		httpx.WriteJSON(w, http.StatusConflict, map[string]string{"error": "already_registered",
			"error_description": "This passkey is already registered."})
		return
	case err != nil:
		h.failed(w, r, true, "passkeys: storing a passkey failed", err)
		return
	}
	h.Logger.Info("passkey registered", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", u.ID, "credential", cred.ID)
	httpx.WriteJSON(w, http.StatusCreated, map[string]string{"id": cred.ID, "name": passkey.Name(cred)})
}

func (h *Handler) rename(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r, false)
	if !ok {
		return
	}
	reg, err := h.connection(r.Context())
	if err != nil || reg == nil {
		h.renderList(w, r, http.StatusNotFound, u, "", nil)
		return
	}
	id := mux.Vars(r)["id"]
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		h.renderList(w, r, http.StatusBadRequest, u, "", map[string]string{id: "Enter a name."})
		return
	}
	err = reg.Rename(r.Context(), u, id, name)
	h.afterChange(w, r, u, err, "passkeys: renaming a passkey failed")
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r, false)
	if !ok {
		return
	}
	reg, err := h.connection(r.Context())
	if err != nil || reg == nil {
		h.renderList(w, r, http.StatusNotFound, u, "", nil)
		return
	}
	err = reg.Remove(r.Context(), u, mux.Vars(r)["id"])
	h.afterChange(w, r, u, err, "passkeys: removing a passkey failed")
}

// afterChange answers a rename or removal: back to the list (303) when it worked, a 404 for a passkey that is not
// the user's (another user's or another tenant's is none), a 5xx page otherwise.
func (h *Handler) afterChange(w http.ResponseWriter, r *http.Request, u storage.User, err error, msg string) {
	switch {
	case err == nil:
		http.Redirect(w, r, Path, http.StatusSeeOther)
	case errors.Is(err, storage.ErrNotFound):
		h.renderList(w, r, http.StatusNotFound, u, "That passkey was not found. It may have been removed already.", nil)
	default:
		h.failed(w, r, false, msg, err)
	}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p templates.Page) {
	p.CSRFField = csrf.TemplateField(r)
	p.RequestID = httpx.RequestIDFromContext(r.Context())
	if h.TenantName != nil {
		p.TenantName = h.TenantName(r.Context())
	}
	if err := h.Pages.Render(w, status, name, p); err != nil {
		h.Logger.Error("rendering page failed", "page", name, "request_id", p.RequestID, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, templates.PageError, templates.Page{Title: title, Message: msg})
}

// failed answers our own failure: an error log line and a 5xx (JSON for the ceremony's steps, a page otherwise).
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, asJSON bool, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	if asJSON {
		httpx.WriteFailure(w, err)
		return
	}
	status := http.StatusInternalServerError
	if httpx.IsUnavailable(err) {
		status = http.StatusServiceUnavailable
		httpx.SetRetryAfter(w, status)
	}
	h.errorPage(w, r, status, "Something went wrong", "Please try again in a moment.")
}
