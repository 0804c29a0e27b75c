package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Auth0LogoutPath is Auth0's logout endpoint, which its SDKs call without an id_token_hint.
const Auth0LogoutPath = "/v2/logout"

// logout serves both logout endpoints.
//
// /oidc/logout is RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): id_token_hint,
// post_logout_redirect_uri, state, client_id. A valid id_token_hint for the signed-in user (or one whose session
// is over) logs out at once; otherwise the signed-in user confirms, since anyone can link to the endpoint.
//
// /v2/logout is Auth0's (client_id, returnTo, federated): it signs out at once, as Auth0 does and its SDKs
// expect, then redirects (302) to returnTo when it is one of the client's post-logout redirect URIs (Auth0's
// Allowed Logout URLs; exact match), to the client's first one when returnTo is absent, and otherwise shows the
// signed-out page. federated (sign out of the upstream provider too) is accepted and has no effect: Authio does
// not end upstream sessions.
//
// On both, a returnTo / post_logout_redirect_uri that is not registered for the client, one without a client,
// and a client_id that is not one of this tenant's applications are refused with the error page (400) before
// anything is signed out, and no redirect happens.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	auth0 := r.URL.Path == Auth0LogoutPath
	hint := r.FormValue("id_token_hint")
	redirect := r.FormValue("post_logout_redirect_uri")
	if redirect == "" {
		redirect = r.FormValue("returnTo")
	}
	state := r.FormValue("state")
	clientID := r.FormValue("client_id")

	var hintSub string
	if hint != "" {
		tok, err := h.IDTokens.Decode(ctx, hint)
		if httpx.IsUnavailable(err) {
			// The tenant's keys could not be loaded: the hint was not checked, let alone refused.
			h.failed(w, r, "sign-out: loading signing keys failed", err)
			return
		}
		var ve *jwt.ValidationError
		// An expired hint is fine (the user may have been away); anything else means it is not ours.
		expiredOnly := errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired
		if tok == nil || (err != nil && !expiredOnly) {
			h.errorPage(w, r, http.StatusBadRequest, "Sign-out link is not valid", "The id_token_hint was not issued by this tenant.")
			return
		}
		hintSub, _ = tok.Claims["sub"].(string)
		auds := audiences(tok.Claims["aud"])
		if clientID != "" && !contains(auds, clientID) {
			h.errorPage(w, r, http.StatusBadRequest, "Sign-out link is not valid", "The client_id does not match the id_token_hint.")
			return
		}
		if clientID == "" && len(auds) > 0 {
			clientID = auds[0]
		}
	}
	if redirect != "" && clientID == "" {
		h.errorPage(w, r, http.StatusBadRequest, "Sign-out link is not valid", "A client_id or id_token_hint is required with a post-logout redirect.")
		return
	}
	if clientID != "" {
		c, err := h.S.Client(ctx, clientID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.failed(w, r, "sign-out: loading the client failed", err)
			return
		}
		if err != nil {
			h.errorPage(w, r, http.StatusBadRequest, "Sign-out link is not valid", "The client_id is not an application of this tenant.")
			return
		}
		if redirect != "" && !c.PostLogoutRedirectURIs.Has(redirect) {
			h.errorPage(w, r, http.StatusBadRequest, "Sign-out link is not valid", "The post-logout redirect URI is not registered for this application.")
			return
		}
		if redirect == "" && auth0 && len(c.PostLogoutRedirectURIs) > 0 {
			redirect = c.PostLogoutRedirectURIs[0]
		}
	}

	var ls storage.LoginSession
	signedIn := false
	if c, err := r.Cookie(oauth.SessionCookie); err == nil {
		s, _, err := h.S.SessionFromCookie(ctx, c.Value)
		switch {
		case err == nil:
			ls, signedIn = s, true
		case !errors.Is(err, storage.ErrNotFound):
			// Clearing the cookie would tell the user they are signed out while their session lives on.
			h.failed(w, r, "sign-out: loading the session failed", err)
			return
		}
	}
	// A POST reaching here passed the CSRF check (unverified posts were turned into GETs by Mount).
	confirmed := auth0 || r.Method == http.MethodPost || (hint != "" && (!signedIn || ls.UserID == hintSub))
	if signedIn && !confirmed {
		hidden := map[string]string{}
		for k, v := range map[string]string{"post_logout_redirect_uri": redirect, "state": state, "client_id": clientID} {
			if v != "" {
				hidden[k] = v
			}
		}
		h.render(w, r, http.StatusOK, templates.PageLogout, templates.Page{Action: r.URL.Path, Hidden: hidden})
		return
	}
	if signedIn {
		switch err := h.S.EndSession(ctx, ls); {
		case errors.Is(err, storage.ErrNotFound):
			// A concurrent sign-out of the same session ended it first: the outcome the user asked for.
		case err != nil:
			h.failed(w, r, "ending session failed", err)
			return
		default:
			h.Logger.Info("signed out", "request_id", httpx.RequestIDFromContext(ctx), "user_id", ls.UserID)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: oauth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.Secure})
	if redirect != "" {
		u, _ := url.Parse(redirect)
		if state != "" {
			q := u.Query()
			q.Set("state", state)
			u.RawQuery = q.Encode()
		}
		status := http.StatusSeeOther
		if auth0 {
			status = http.StatusFound // Auth0's answer
		}
		http.Redirect(w, r, u.String(), status)
		return
	}
	h.render(w, r, http.StatusOK, templates.PageLoggedOut, templates.Page{})
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
