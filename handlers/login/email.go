package login

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/mail"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// VerifyLinkPath is the route of a Challenger's emailed sign-in link: /login/<connection>/verify?token=….
const VerifyLinkPath = "/login/{connection}/verify"

// Messages of the sign-in by email.
const (
	msgNotSent       = "We could not send the email. Try again."
	msgWrongCode     = "That code did not work. Check the latest email, or send a new one."
	msgTooManyWrong  = "Too many wrong codes for this sign-in. Start again from the application."
	msgLinkNotUsable = "This sign-in link has expired or was already used. Go back to the sign-in page and ask for a new email."
)

// challenge answers a Challenger's form on POST /login: a request for a secret (send the email, show "Check your
// email") or an answer (the code, checked by the sign-in pipeline). Both need the flow the secret is bound to.
func (h *Handler) challenge(w http.ResponseWriter, r *http.Request, p templates.Page, flow *storage.AuthFlow, c authn.Challenger, form url.Values) {
	if flow == nil {
		h.errorPage(w, r, http.StatusBadRequest, "Start from your application",
			"Signing in by email works from the sign-in page your application sends you to.")
		return
	}
	ctx := authn.WithFlow(r.Context(), flow.ID)
	r = r.WithContext(ctx)
	email := form.Get("email")
	sent := templates.Page{Flow: flow.ID, Email: email, FieldErrors: map[string]string{},
		Hidden:  map[string]string{"connection": c.Record().Name, "email": email},
		Message: "If " + email + " has an account here, we sent it a sign-in link and a code. Open the link in this browser, or enter the code below. Both work for 10 minutes."}
	if !c.Answered(form) {
		if email == "" {
			h.renderLogin(w, r, http.StatusBadRequest, p, c, map[string]string{"email": "Enter your email address."})
			return
		}
		err := h.S.StartChallenge(ctx, c, form, h.S.ClientIP(r))
		var throttled *signin.ThrottledError
		switch {
		case err == nil:
			h.render(w, r, http.StatusOK, templates.PageEmailSent, sent)
		case errors.As(err, &throttled):
			secs := int(throttled.RetryAfter.Seconds()) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			p.Error = "Too many emails asked for. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."
			h.Logger.Info("sign-in email throttled", "request_id", httpx.RequestIDFromContext(ctx))
			h.renderLogin(w, r, http.StatusTooManyRequests, p, nil, nil)
		case errors.Is(err, mail.ErrNotSent):
			// Not a 500: the page works, the mail server did not. The detail is already in the error log.
			p.Error = msgNotSent
			h.Logger.Warn("sign-in email not sent", "request_id", httpx.RequestIDFromContext(ctx), "err", err)
			h.renderLogin(w, r, http.StatusServiceUnavailable, p, nil, nil)
		case errors.Is(err, authn.ErrTooManyAttempts):
			p.Error = msgTooManyWrong
			h.renderLogin(w, r, http.StatusTooManyRequests, p, nil, nil)
		default:
			h.failed(w, r, "sending a sign-in email failed", err)
		}
		return
	}
	if strings.TrimSpace(form.Get("code")) == "" {
		sent.FieldErrors["code"] = "Enter the code from the email."
		h.render(w, r, http.StatusBadRequest, templates.PageEmailSent, sent)
		return
	}
	user, amr, err := h.S.SignInForm(ctx, c, form, h.S.ClientIP(r))
	var throttled *signin.ThrottledError
	switch {
	case err == nil:
		h.startSession(w, r, user, flow, amr, c)
	case errors.Is(err, signin.ErrInvalidCredentials):
		sent.FieldErrors["code"] = msgWrongCode
		h.Logger.Info("sign-in failed", "request_id", httpx.RequestIDFromContext(ctx), "connection", c.Record().Name)
		h.render(w, r, http.StatusUnauthorized, templates.PageEmailSent, sent)
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		sent.Error = "Too many failed attempts. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."
		h.render(w, r, http.StatusTooManyRequests, templates.PageEmailSent, sent)
	default:
		h.signInRefused(w, r, p, c, err)
	}
}

// verifyLink is GET /login/{connection}/verify?token=…: an emailed sign-in link. It signs in the browser that
// holds the link's flow (its flow cookie); any other browser is asked to go back to that one (or to type the
// code there), and the link stays usable. The token is used up only by a sign-in.
func (h *Handler) verifyLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	token := r.URL.Query().Get("token")
	conn, err := h.S.SignInConnection(ctx, mux.Vars(r)["connection"], "")
	var lv authn.LinkVerifier
	switch {
	case errors.Is(err, signin.ErrConnectionDisabled):
		h.errorPage(w, r, http.StatusForbidden, "This sign-in method is turned off", "Contact your administrator, or go back and choose another way to sign in.")
		return
	case err == nil:
		var ok bool
		if lv, ok = conn.(authn.LinkVerifier); ok {
			break
		}
		fallthrough
	case errors.Is(err, signin.ErrUnknownConnection):
		h.errorPage(w, r, http.StatusNotFound, "This sign-in method is not available", "Go back and choose another way to sign in.")
		return
	default:
		h.failed(w, r, "opening the sign-in connection failed", err)
		return
	}
	flowID, err := lv.LinkFlow(ctx, token)
	if errors.Is(err, authn.ErrInvalidCredentials) {
		h.Logger.Info("sign-in link refused: unknown, used or expired", "request_id", httpx.RequestIDFromContext(ctx))
		h.errorPage(w, r, http.StatusBadRequest, "This sign-in link has expired", msgLinkNotUsable)
		return
	} else if err != nil {
		h.failed(w, r, "reading a sign-in link failed", err)
		return
	}
	f, err := h.S.OpenFlow(ctx, r, flowID)
	var gone *authn.FlowGoneError
	switch {
	case errors.As(err, &gone) && gone.Flow == nil:
		// Another browser (a phone's mail app, a link scanner): it is not the one that asked, so it is not signed
		// in, and the secret stays for the browser that is.
		h.Logger.Info("sign-in link opened in another browser", "request_id", httpx.RequestIDFromContext(ctx))
		h.render(w, r, http.StatusOK, templates.PageError, templates.Page{Title: "Continue in your other browser",
			Message: "For your safety, this link signs in only the browser where you asked for it. Go back to that browser " +
				"and enter the code from the email there, or open this link in it."})
		return
	case errors.As(err, &gone):
		h.flowGone(w, r, gone)
		return
	case err != nil:
		h.failed(w, r, "loading the sign-in flow failed", err)
		return
	}
	ctx = authn.WithFlow(ctx, f.ID)
	r = r.WithContext(ctx)
	user, amr, err := h.S.SignInForm(ctx, lv, url.Values{"token": {token}}, h.S.ClientIP(r))
	if errors.Is(err, signin.ErrInvalidCredentials) {
		h.Logger.Info("sign-in link refused", "request_id", httpx.RequestIDFromContext(ctx))
		h.errorPage(w, r, http.StatusBadRequest, "This sign-in link has expired", msgLinkNotUsable)
		return
	}
	if !h.signInRefused(w, r, templates.Page{Flow: f.ID}, conn, err) {
		h.startSession(w, r, user, &f, amr, conn)
	}
}
