package login

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/handlers/accountpage"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// SecondFactors is what the second-factor step uses (authn/mfa, with the sign-in throttling of authn/signin).
type SecondFactors interface {
	MFAStatus(ctx context.Context, userID string) (mfa.Status, error)
	MFARequired(ctx context.Context, u storage.User) (bool, error)
	BeginTOTPEnrollment(ctx context.Context, u storage.User, issuer string) (mfa.Enrollment, error)
	ConfirmTOTPEnrollment(ctx context.Context, u storage.User, code string) ([]string, error)
	CheckTOTP(ctx context.Context, u storage.User, code string) error
	CheckRecoveryCode(ctx context.Context, u storage.User, code string) error
	AddSessionFactors(ctx context.Context, ls storage.LoginSession, methods ...string) (storage.LoginSession, error)
	// SecondFactor runs one attempt behind the sign-in throttling: mfa.ErrInvalidCode, *signin.ThrottledError.
	SecondFactor(ctx context.Context, u storage.User, method, ip string, check func(ctx context.Context) error) error
}

// mfaCSP is the hosted pages' policy with data: images allowed: the QR code of an authenticator app's key is a
// PNG data URI made by the server, which keeps the key off any URL a log or a cache could keep.
const mfaCSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' http: https:"

// mfaStep is what the second-factor page works on: the browser's session and its user, and the flow they sign in
// for (nil when the page was reached without one).
type mfaStep struct {
	flow *storage.AuthFlow
	ls   storage.LoginSession
	user storage.User
	// returnTo is where the page goes on without a flow (a path of the account page; "" for the signed-in page).
	returnTo string
}

// url is path with the flow's state ("" without one), with extra parameters.
func (st mfaStep) url(path string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if st.flow != nil {
		q.Set("state", st.flow.ID)
	} else if st.returnTo != "" {
		q.Set("return_to", st.returnTo)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// openMFAStep finds who the second-factor page is for: the browser's live session, which must be the flow's
// (state) when there is one. Without it, the browser goes back to the sign-in page. ok=false: the response is
// written.
func (h *Handler) openMFAStep(w http.ResponseWriter, r *http.Request) (st mfaStep, ok bool) {
	ctx := r.Context()
	if id := r.FormValue("state"); id != "" {
		f, ok := h.openFlow(w, r, id)
		if !ok {
			return st, false
		}
		st.flow = &f
	} else if rt := r.FormValue("return_to"); accountpage.SafeReturnTo(rt) {
		st.returnTo = rt
	}
	signedIn := false
	if c, err := r.Cookie(oauth.SessionCookie); err == nil {
		st.ls, st.user, err = h.S.SessionFromCookie(ctx, c.Value)
		switch {
		case err == nil:
			signedIn = true
		case !errors.Is(err, storage.ErrNotFound):
			h.failed(w, r, "second factor: reading the browser session failed", err)
			return st, false
		}
	}
	if !signedIn || (st.flow != nil && st.flow.SessionID != st.ls.ID) {
		// Signed out, or the flow was signed in by another session: the first factor comes first.
		http.Redirect(w, r, st.url(oauth.LoginPath, nil), http.StatusSeeOther)
		return st, false
	}
	return st, true
}

// mfaPage is GET /login/mfa?state=<flow id>: the code form, the recovery-code form (method=recovery), or, for a
// user who must pass a second factor and has none, the authenticator app's setup.
func (h *Handler) mfaPage(w http.ResponseWriter, r *http.Request) {
	st, ok := h.openMFAStep(w, r)
	if !ok {
		return
	}
	mode, ok := h.mfaMode(w, r, st)
	if !ok {
		return
	}
	if mode == templates.MFAModeTOTP && r.URL.Query().Get("method") == templates.MFAModeRecovery {
		mode = templates.MFAModeRecovery
	}
	h.renderMFA(w, r, http.StatusOK, st, mode, nil)
}

// mfaMode decides what the page asks of st's user: MFAModeTOTP when they have an authenticator app,
// MFAModeEnroll when they must set one up. A session that is already multi-factor, or a user who needs no second
// factor (any more), goes on at once; then ok is false and the response is written.
func (h *Handler) mfaMode(w http.ResponseWriter, r *http.Request, st mfaStep) (string, bool) {
	ctx := r.Context()
	if authn.MultiFactor(st.ls.AMR) {
		h.mfaContinue(w, r, st)
		return "", false
	}
	status, err := h.S.MFAStatus(ctx, st.user.ID)
	if err != nil {
		h.failed(w, r, "second factor: reading the user's factors failed", err)
		return "", false
	}
	if status.TOTP {
		return templates.MFAModeTOTP, true
	}
	required, err := h.S.MFARequired(ctx, st.user)
	if err != nil {
		h.failed(w, r, "second factor: reading the tenant's policy failed", err)
		return "", false
	}
	if required {
		return templates.MFAModeEnroll, true
	}
	// The authenticator app was removed (or the policy relaxed) since the flow asked for a second factor.
	if st.flow != nil {
		if _, err := h.S.AdvanceFlow(ctx, *st.flow, func(f storage.AuthFlow) storage.AuthFlow {
			if f.SessionID == st.ls.ID { // only this step's own sign-in, as recordMFA
				f.MFARequired = false
			}
			return f
		}); !h.flowAdvanced(w, r, err) {
			return "", false
		}
	}
	h.mfaContinue(w, r, st)
	return "", false
}

// mfaSubmit is POST /login/mfa: a code (method totp), a recovery code (method recovery) or the code that
// confirms a new authenticator app (method enroll). Every attempt goes through the sign-in throttling.
func (h *Handler) mfaSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, ok := h.openMFAStep(w, r)
	if !ok {
		return
	}
	mode, ok := h.mfaMode(w, r, st)
	if !ok {
		return
	}
	method := r.PostFormValue("method")
	switch {
	case mode == templates.MFAModeTOTP && (method == templates.MFAModeTOTP || method == templates.MFAModeRecovery):
		mode = method
	case mode != method:
		// The form is stale (the app was set up or removed in another tab): show what applies now.
		h.renderMFA(w, r, http.StatusConflict, st, mode, nil)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		msg := "Enter the 6-digit code from your authenticator app."
		if mode == templates.MFAModeRecovery {
			msg = "Enter one of your recovery codes."
		}
		h.renderMFA(w, r, http.StatusBadRequest, st, mode, map[string]string{"code": msg})
		return
	}
	ctx = audit.WithActor(ctx, audit.Actor{Kind: "user", ID: st.user.ID})
	var codes []string
	factor, amr := "totp", []string{"otp", "mfa"}
	if mode == templates.MFAModeRecovery {
		// RFC 8176 has no value for a recovery code: it is a second factor, and not an authenticator's OTP.
		factor, amr = "recovery_code", []string{"mfa"}
	}
	err := h.S.SecondFactor(ctx, st.user, factor, h.S.ClientIP(r), func(ctx context.Context) error {
		switch mode {
		case templates.MFAModeRecovery:
			return h.S.CheckRecoveryCode(ctx, st.user, code)
		case templates.MFAModeEnroll:
			var err error
			codes, err = h.S.ConfirmTOTPEnrollment(ctx, st.user, code)
			return err
		}
		return h.S.CheckTOTP(ctx, st.user, code)
	})
	var throttled *signin.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p := templates.Page{Error: "Too many wrong codes. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."}
		h.Logger.Info("second factor throttled", "request_id", httpx.RequestIDFromContext(ctx))
		h.renderMFAPage(w, r, http.StatusTooManyRequests, st, mode, p)
		return
	case errors.Is(err, mfa.ErrInvalidCode):
		msg := "That code is not valid. Enter the code your app shows now."
		if mode == templates.MFAModeRecovery {
			msg = "That recovery code is not valid, or was used already."
		}
		h.Logger.Info("second factor failed", "request_id", httpx.RequestIDFromContext(ctx))
		h.renderMFA(w, r, http.StatusUnauthorized, st, mode, map[string]string{"code": msg})
		return
	case errors.Is(err, mfa.ErrAlreadyEnrolled), errors.Is(err, mfa.ErrNotEnrolled):
		// Set up, or removed, in another tab meanwhile: show what applies now.
		http.Redirect(w, r, st.url(oauth.MFAPath, nil), http.StatusSeeOther)
		return
	case err != nil:
		h.failed(w, r, "second factor: checking the code failed", err)
		return
	}
	ls, err := h.S.AddSessionFactors(ctx, st.ls, amr...)
	if errors.Is(err, storage.ErrNotFound) {
		// The session ended (signed out elsewhere) while the code was checked.
		http.Redirect(w, r, st.url(oauth.LoginPath, nil), http.StatusSeeOther)
		return
	} else if err != nil {
		h.failed(w, r, "second factor: recording it in the session failed", err)
		return
	}
	st.ls = ls
	h.Logger.Info("second factor passed", "request_id", httpx.RequestIDFromContext(ctx), "user_id", st.user.ID, "method", mode)
	if mode == templates.MFAModeEnroll {
		// The session is multi-factor now; the codes are shown once, then the flow goes on.
		if !h.recordMFA(w, r, st) {
			return
		}
		next := "/login/mfa/done"
		if st.returnTo != "" {
			next = st.returnTo
		}
		if st.flow != nil {
			next = oauth.ResumePath + "?" + url.Values{"state": {st.flow.ID}}.Encode()
		}
		h.render(w, r, http.StatusOK, templates.PageMFA, templates.Page{Title: "Save your recovery codes", Flow: flowID(st),
			MFA: &templates.MFA{Mode: templates.MFAModeCodes, RecoveryCodes: codes, ContinueURL: next}})
		return
	}
	h.mfaContinue(w, r, st)
}

// mfaDone is GET /login/mfa/done: the end of a second factor passed without a sign-in flow.
func (h *Handler) mfaDone(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, templates.PageError, templates.Page{Title: "You are signed in", Message: "You can close this page and return to the application."})
}

func flowID(st mfaStep) string {
	if st.flow == nil {
		return ""
	}
	return st.flow.ID
}

// recordMFA records st's session's methods in its flow (when there is one). ok=false: the response is written.
func (h *Handler) recordMFA(w http.ResponseWriter, r *http.Request, st mfaStep) bool {
	if st.flow == nil {
		return true
	}
	// Only onto the sign-in this step was for: a sign-in of another session that reached the flow meanwhile (a
	// second request on the same flow) keeps its own amr and is asked for its own second factor.
	_, err := h.S.AdvanceFlow(r.Context(), *st.flow, func(f storage.AuthFlow) storage.AuthFlow {
		if f.SessionID == st.ls.ID && f.UserID == st.ls.UserID {
			f.AMR = st.ls.AMR
		}
		return f
	})
	return h.flowAdvanced(w, r, err)
}

// flowAdvanced answers an AdvanceFlow error, or reports true when there is none.
func (h *Handler) flowAdvanced(w http.ResponseWriter, r *http.Request, err error) bool {
	var gone *authn.FlowGoneError
	switch {
	case errors.As(err, &gone):
		h.flowGone(w, r, gone)
		return false
	case err != nil:
		h.failed(w, r, "recording the second factor in its flow failed", err)
		return false
	}
	return true
}

// mfaContinue goes on after the second-factor step: the flow's next step, or the signed-in page without a flow.
func (h *Handler) mfaContinue(w http.ResponseWriter, r *http.Request, st mfaStep) {
	if !h.recordMFA(w, r, st) {
		return
	}
	if st.flow == nil {
		to := "/login/mfa/done"
		if st.returnTo != "" {
			to = st.returnTo
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, oauth.ResumePath+"?"+url.Values{"state": {st.flow.ID}}.Encode(), http.StatusSeeOther)
}

// renderMFA renders the second-factor page in mode, with fieldErrors next to the code field.
func (h *Handler) renderMFA(w http.ResponseWriter, r *http.Request, status int, st mfaStep, mode string, fieldErrors map[string]string) {
	h.renderMFAPage(w, r, status, st, mode, templates.Page{FieldErrors: fieldErrors})
}

func (h *Handler) renderMFAPage(w http.ResponseWriter, r *http.Request, status int, st mfaStep, mode string, p templates.Page) {
	p.Flow, p.ReturnTo = flowID(st), st.returnTo
	p.Email = st.user.Email
	v := &templates.MFA{Mode: mode}
	switch mode {
	case templates.MFAModeTOTP:
		v.OtherURL = st.url(oauth.MFAPath, url.Values{"method": {templates.MFAModeRecovery}})
	case templates.MFAModeRecovery:
		v.OtherURL = st.url(oauth.MFAPath, nil)
	case templates.MFAModeEnroll:
		p.Title = "Set up an authenticator app"
		enr, err := h.S.BeginTOTPEnrollment(r.Context(), st.user, server.TenantFromContext(r.Context()).Name)
		if errors.Is(err, mfa.ErrAlreadyEnrolled) {
			http.Redirect(w, r, st.url(oauth.MFAPath, nil), http.StatusSeeOther)
			return
		} else if err != nil {
			h.failed(w, r, "second factor: starting the authenticator app's setup failed", err)
			return
		}
		v.QR = template.URL(enr.QR) //nolint:gosec // a data:image/png URI the server made, never user input
		v.Secret = enr.Secret
	}
	p.MFA = v
	w.Header().Set("Content-Security-Policy", mfaCSP)
	h.render(w, r, status, templates.PageMFA, p)
}
