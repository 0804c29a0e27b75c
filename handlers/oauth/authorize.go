package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
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
	ar, err := h.Provider.NewAuthorizeRequest(ctx, r)
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
	if _, _, ok := webMessageTarget(ar); isWebMessage(ar) && !ok {
		h.webMessageRefused(w, r) // before the user signs in for an answer that could not be delivered
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
	if nonce := form.Get("nonce"); nonce != "" && len(nonce) < fosite.MinParameterEntropy {
		// fosite would accept it here and refuse the ID token at the token endpoint, after the user signed in.
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHintf(
			"The nonce must be at least %d characters long, to be unguessable.", fosite.MinParameterEntropy))
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

	ls, user, signedIn, err := h.browserSession(r)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	if !signedIn || !sessionSatisfies(form, ls, now) {
		if has("none") {
			h.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The user is not signed in and prompt=none was requested."))
			return
		}
		h.startFlow(w, r, ar, nil)
		return
	}

	if !authn.MultiFactor(ls.AMR) {
		// A session of one factor does not do for a user who must pass a second one (an authenticator app set
		// up since, or the tenant requiring it now): the flow's second-factor step asks for it.
		need, err := h.S.MFARequired(ctx, user)
		if err != nil {
			h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
			return
		}
		if need && has("none") {
			h.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("The user must pass a second factor and prompt=none was requested."))
			return
		}
		if need {
			h.startFlow(w, r, ar, &ls)
			return
		}
	}
	access, picker, ok := h.organization(w, r, ar, user, ls, has("none"))
	if !ok {
		return
	}
	if picker {
		h.startFlow(w, r, ar, &ls)
		return
	}
	h.completeAuthorize(w, r, ar, user, ls, access, now, nil)
}

// sessionSatisfies reports whether a browser session authenticated at ls.AuthTime is good enough for an
// authorization request with form at now. prompt=login never is: only a sign-in within the request's own flow
// satisfies it. A session older than max_age is not (elapsed time at or past max_age; max_age=0 always asks).
func sessionSatisfies(form url.Values, ls storage.LoginSession, now time.Time) bool {
	for _, p := range strings.Split(form.Get("prompt"), " ") {
		if p == "login" {
			return false
		}
	}
	if maxAge, err := strconv.ParseInt(form.Get("max_age"), 10, 64); err == nil && maxAge >= 0 {
		if !now.Before(ls.AuthTime.Add(time.Duration(maxAge) * time.Second)) {
			return false
		}
	}
	return true
}

// browserSession returns the browser's live session and its user; signedIn is false when there is none. err is
// a failure of ours (the database), never "not signed in".
func (h *Handler) browserSession(r *http.Request) (ls storage.LoginSession, user storage.User, signedIn bool, err error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ls, user, false, nil
	}
	ls, user, err = h.S.SessionFromCookie(r.Context(), c.Value)
	switch {
	case err == nil:
		return ls, user, true, nil
	case errors.Is(err, storage.ErrNotFound):
		return storage.LoginSession{}, storage.User{}, false, nil
	}
	return storage.LoginSession{}, storage.User{}, false, err
}

// completeAuthorize issues the authorization response for a signed-in user: the code, state and iss (RFC 9207)
// in the request's response mode. requestedAt is when the request was first seen (the flow's creation), which
// fosite judges prompt=login and max_age against. A request that went through a flow completes it first, with
// one conditional write: of several concurrent completions exactly one gets a code.
func (h *Handler) completeAuthorize(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, user storage.User,
	ls storage.LoginSession, access *oauth.OrgAccess, requestedAt time.Time, flow *storage.AuthFlow) {
	ctx := r.Context()
	t := server.TenantFromContext(ctx)
	if _, _, ok := webMessageTarget(ar); isWebMessage(ar) && !ok {
		h.webMessageRefused(w, r) // the client's web origins changed since the flow started
		return
	}

	// The grant records who, which client, which sign-in and organization, and what was granted; the token
	// endpoint builds every claim from it.
	sess, err := h.S.AuthorizeSession(ctx, ar, user, ls, access, requestedAt)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}

	if flow != nil {
		if err := h.S.CompleteFlow(ctx, *flow); err != nil {
			h.flowError(w, r, err)
			return
		}
	}
	resp, err := h.Provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	resp.AddParameter("iss", t.Issuer) // RFC 9207, in every response mode
	if isWebMessage(ar) {
		h.writeWebMessage(w, r, ar, resp.GetParameters())
		return
	}
	h.Provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// authorizeError redirects the error to the client when its redirect URI is valid, and otherwise shows a
// page: an error never goes to an unregistered redirect URI. A failure of ours (httpx.OAuthError: 500, or 503
// when a backing service failed) is always a page with that status: the user can reload it, and monitoring
// sees a 5xx rather than a redirect.
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfc := httpx.OAuthError(err)
	if rfc.CodeField >= http.StatusInternalServerError {
		httpx.LogFailure(r.Context(), h.Logger, "authorize failed", rfc)
		httpx.SetRetryAfter(w, rfc.CodeField)
		title, msg := "Something went wrong", "Something went wrong on our side. Please try again."
		if rfc.CodeField == http.StatusServiceUnavailable {
			title, msg = "Sign-in is temporarily unavailable", "We cannot complete this sign-in right now. Please try again in a moment."
		}
		h.errorPage(w, r, rfc.CodeField, title, msg)
		return
	}
	if ar != nil && ar.IsRedirectURIValid() {
		if isWebMessage(ar) {
			values := rfc.ToValues()
			if st := ar.GetState(); st != "" {
				values.Set("state", st)
			}
			values.Set("iss", server.TenantFromContext(r.Context()).Issuer)
			h.writeWebMessage(w, r, ar, values)
			return
		}
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
		h.Provider.WriteAuthorizeError(r.Context(), w, ar, rfc) // under its registered name (httpx.OAuthError)
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
		RequestID:  httpx.RequestIDFromContext(r.Context()),
	})
	if renderErr != nil {
		http.Error(w, http.StatusText(status), status)
	}
}
