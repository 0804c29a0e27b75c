package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// SessionCookie is the browser session cookie (host-only: one per tenant domain).
const SessionCookie = "authio_session"

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t := server.TenantFromContext(ctx)
	w = &issWriter{ResponseWriter: w, iss: t.Issuer}

	if err := authorizeTargetOnce(r); err != nil {
		h.authorizeError(w, r, nil, err)
		return
	}
	unsupported, err := takeRequestObject(r)
	if err != nil {
		h.authorizeError(w, r, nil, err)
		return
	}
	ar, err := h.S.Provider.NewAuthorizeRequest(ctx, r)
	if name := repeatedParam(r.Form); name != "" {
		err = errRepeated(name) // RFC 6749 §3.1, redirected once fosite has validated the redirect URI
	} else if unsupported != nil && ar != nil && (err == nil || ar.IsRedirectURIValid()) {
		err = unsupported // the client and its redirect URI are valid: tell the client what it sent in vain
	}
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	if !ar.GetResponseTypes().ExactOne("code") {
		h.authorizeError(w, r, ar, fosite.ErrUnsupportedResponseType.WithHint("Only the authorization code flow (response_type=code) is supported."))
		return
	}
	form := ar.GetRequestForm()
	// fosite checks PKCE when it issues the code, i.e. after sign-in; refusing a bad request before the user
	// types a password is kinder and leaks nothing.
	if challenge := form.Get("code_challenge"); challenge == "" && ar.GetClient().IsPublic() {
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing: PKCE (S256) is required for public clients."))
		return
	} else if challenge != "" && form.Get("code_challenge_method") != "S256" {
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("The code_challenge_method must be S256; plain is not accepted."))
		return
	}
	prompt := fosite.RemoveEmpty(strings.Split(form.Get("prompt"), " "))
	has := func(p string) bool {
		for _, v := range prompt {
			if v == p {
				return true
			}
		}
		return false
	}
	now := h.Now().UTC().Truncate(time.Second)

	var (
		ls   storage.LoginSession
		user storage.User
	)
	signedIn := false
	if c, err := r.Cookie(SessionCookie); err == nil {
		ls, user, err = h.S.SessionFromCookie(ctx, c.Value)
		switch {
		case err == nil:
			signedIn = true
		case errors.Is(err, storage.ErrNotFound):
		default:
			h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
	}

	// A ticket proves this request already went through the sign-in page; it carries when the request was
	// first seen so prompt=login and max_age are judged against that moment.
	requestedAt := now
	fresh := false
	// The ticket is single-use: a replayed authorization URL (another tab, the browser's history) no longer
	// counts as having just signed in.
	if ticket := r.URL.Query().Get(TicketParam); ticket != "" {
		if at, ok := h.S.CheckLoginTicket(ctx, ticket, ticketBinding(r, ar)); ok && signedIn && !ls.AuthTime.Before(at) {
			used, err := h.S.UseLoginTicket(ctx, ticket, at)
			if err != nil {
				h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
				return
			}
			if used {
				requestedAt, fresh = at, true
			}
		}
	}
	needLogin := !signedIn
	if has("login") && !fresh {
		needLogin = true
	}
	if maxAge, err := strconv.ParseInt(form.Get("max_age"), 10, 64); err == nil && maxAge >= 0 && signedIn && !fresh {
		// Elapsed time at or past max_age means sign in again; max_age=0 therefore always asks.
		if !now.Before(ls.AuthTime.Add(time.Duration(maxAge) * time.Second)) {
			needLogin = true
		}
	}
	if needLogin {
		if has("none") {
			h.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The user is not signed in and prompt=none was requested."))
			return
		}
		http.Redirect(w, r, h.loginURL(r, ar, now), http.StatusFound)
		return
	}

	access, ok := h.organization(w, r, ar, user, ls, requestedAt, fresh, has("none"))
	if !ok {
		return
	}

	// The grant records who, which client, which sign-in and organization, and what was granted; the token
	// endpoint builds every claim from it.
	sess, err := h.S.AuthorizeSession(ctx, ar, user, ls, access, requestedAt)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}

	resp, err := h.S.Provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	resp.AddParameter("iss", t.Issuer) // RFC 9207, in every response mode
	h.S.Provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// loginURL sends the browser to the sign-in page with a way back to this authorization request.
func (h *Handler) loginURL(r *http.Request, ar fosite.AuthorizeRequester, now time.Time) string {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = ar.GetRequestForm()
	}
	q.Del(TicketParam)
	q.Set(TicketParam, h.S.LoginTicket(r.Context(), now, ticketBinding(r, ar)))
	back := "/authorize?" + q.Encode()
	v := url.Values{"return_to": {back}}
	if hint := ar.GetRequestForm().Get("login_hint"); hint != "" {
		v.Set("login_hint", hint)
	}
	return LoginPath + "?" + v.Encode()
}

// ticketBinding is what a login ticket is bound to: every parameter of the authorization request but the
// ticket itself, in canonical order.
func ticketBinding(r *http.Request, ar fosite.AuthorizeRequester) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		q[k] = v
	}
	if r.Method == http.MethodPost {
		for k, v := range ar.GetRequestForm() {
			q[k] = v
		}
	}
	return bindingOf(q)
}

// bindingOf is the canonical form of authorization parameters a login ticket is bound to.
func bindingOf(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		if k != TicketParam {
			c[k] = v
		}
	}
	return c.Encode()
}

// authorizeError redirects the error to the client when its redirect URI is valid, and otherwise shows a
// page: an error never goes to an unregistered redirect URI. A failure of ours (server.OAuthError: 500, or 503
// when a backing service failed) is always a page with that status: the user can reload it, and monitoring
// sees a 5xx rather than a redirect.
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfc := server.OAuthError(err)
	if rfc.CodeField >= http.StatusInternalServerError {
		server.LogFailure(r.Context(), h.Logger, "authorize failed", rfc)
		server.SetRetryAfter(w, rfc.CodeField)
		title, msg := "Something went wrong", "Something went wrong on our side. Please try again."
		if rfc.CodeField == http.StatusServiceUnavailable {
			title, msg = "Sign-in is temporarily unavailable", "We cannot complete this sign-in right now. Please try again in a moment."
		}
		h.errorPage(w, r, rfc.CodeField, title, msg)
		return
	}
	if ar != nil && ar.IsRedirectURIValid() {
		if ar.GetResponseMode() == fosite.ResponseModeFormPost {
			// fosite's form_post error page has no place for iss (RFC 9207), so build the same response here.
			values := rfc.ToValues()
			values.Set("state", ar.GetState())
			values.Set("iss", server.TenantFromContext(r.Context()).Issuer)
			redirect := *ar.GetRedirectURI()
			redirect.Fragment = ""
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "text/html;charset=UTF-8")
			fosite.WriteAuthorizeFormPostResponse(redirect.String(), values, fosite.DefaultFormPostTemplate, w)
			return
		}
		h.S.Provider.WriteAuthorizeError(r.Context(), w, ar, err)
		return
	}
	status := rfc.CodeField
	if status < 400 {
		status = http.StatusBadRequest
	}
	h.errorPage(w, r, status, "This sign-in link is not valid", rfc.GetDescription())
}

// errorPage shows an error page with status.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	renderErr := h.Pages.Render(w, status, templates.PageError, templates.Page{
		Title:      title,
		TenantName: server.TenantFromContext(r.Context()).Name,
		Message:    msg,
		RequestID:  server.RequestIDFromContext(r.Context()),
	})
	if renderErr != nil {
		http.Error(w, http.StatusText(status), status)
	}
}
