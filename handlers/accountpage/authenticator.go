package accountpage

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// SecondFactors is what the authenticator section uses of authn/mfa, with the sign-in throttling of
// authn/signin for the codes it checks.
type SecondFactors interface {
	MFAStatus(ctx context.Context, userID string) (mfa.Status, error)
	MFARequired(ctx context.Context, u storage.User) (bool, error)
	BeginTOTPEnrollment(ctx context.Context, u storage.User, issuer string) (mfa.Enrollment, error)
	ConfirmTOTPEnrollment(ctx context.Context, u storage.User, code string) ([]string, error)
	CheckTOTP(ctx context.Context, u storage.User, code string) error
	CheckRecoveryCode(ctx context.Context, u storage.User, code string) error
	RegenerateRecoveryCodes(ctx context.Context, u storage.User) ([]string, error)
	RemoveTOTP(ctx context.Context, u storage.User) error
	AddSessionFactors(ctx context.Context, ls storage.LoginSession, methods ...string) (storage.LoginSession, error)
	SecondFactor(ctx context.Context, u storage.User, method, ip string, check func(ctx context.Context) error) error
}

// authenticatorSection is the user's authenticator app and recovery codes: set one up (POST
// /account/authenticator/start shows a QR code and a key, POST /account/authenticator/confirm turns it on with a
// code and shows ten recovery codes once), regenerate the recovery codes (POST
// /account/authenticator/recovery-codes, with a current code), and remove the app (POST
// /account/authenticator/remove, with a current code or a recovery code; cancelling a setup needs none). Codes
// go through the sign-in throttling; every change is audited by authn/mfa.
type authenticatorSection struct{ h *Handler }

type authenticatorData struct {
	Enabled, Pending bool
	Since, LastUsed  string // dates for people ("" when unknown)
	CodesLeft        int
	// QR and Secret are the pending setup's QR code (a data:image/png URI the server made) and manual key.
	QR     template.URL
	Secret string
}

func (s *authenticatorSection) Name() string     { return "authenticator" }
func (s *authenticatorSection) Template() string { return "authenticator" }

func (s *authenticatorSection) Data(ctx context.Context, u storage.User, _ storage.LoginSession) (any, error) {
	st, err := s.h.S.MFAStatus(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	d := authenticatorData{Enabled: st.TOTP, Pending: st.PendingTOTP, CodesLeft: st.RecoveryCodesLeft}
	if st.TOTP {
		d.Since = humanTime(st.TOTPCreatedAt)
		if st.TOTPLastUsedAt != nil {
			d.LastUsed = humanTime(*st.TOTPLastUsedAt)
		}
	}
	if st.PendingTOTP {
		// The pending setup again: the same key, nothing new stored.
		enr, err := s.h.S.BeginTOTPEnrollment(ctx, u, tenantName(ctx))
		if err != nil && !errors.Is(err, mfa.ErrAlreadyEnrolled) {
			return nil, err
		}
		d.QR = template.URL(enr.QR) //nolint:gosec // a data:image/png URI the server made, never user input
		d.Secret = enr.Secret
	}
	return d, nil
}

func tenantName(ctx context.Context) string {
	if t := server.TenantFromContext(ctx); t != nil {
		return t.Name
	}
	return ""
}

func (s *authenticatorSection) Notice(key string) string {
	switch key {
	case "started":
		return "Scan the QR code with your authenticator app, then enter the code it shows."
	case "removed":
		return "Your authenticator app has been removed, with its recovery codes."
	case "cancelled":
		return "The setup has been cancelled."
	}
	return ""
}

func (s *authenticatorSection) Mount(r *mux.Router) {
	r.HandleFunc("/start", s.start).Methods(http.MethodPost)
	r.HandleFunc("/confirm", s.confirm).Methods(http.MethodPost)
	r.HandleFunc("/recovery-codes", s.regenerate).Methods(http.MethodPost)
	r.HandleFunc("/remove", s.remove).Methods(http.MethodPost)
}

// start begins setting up an authenticator app.
func (s *authenticatorSection) start(w http.ResponseWriter, r *http.Request) {
	_, err := s.h.S.BeginTOTPEnrollment(r.Context(), AccountUser(r), tenantName(r.Context()))
	switch {
	case err == nil:
		s.h.Done(w, r, s.Name(), "started")
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		s.h.Refuse(w, r, http.StatusConflict, s.Name(), Outcome{Error: "An authenticator app is already set up."})
	default:
		s.h.Failed(w, r, "account page: starting the authenticator app's setup failed", err)
	}
}

// confirm turns the pending app on with a code it shows, and shows the recovery codes once.
func (s *authenticatorSection) confirm(w http.ResponseWriter, r *http.Request) {
	u := AccountUser(r)
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{FieldErrors: map[string]string{"code": "Enter the 6-digit code your app shows."}})
		return
	}
	var codes []string
	err := s.h.S.SecondFactor(r.Context(), u, "totp", s.h.S.ClientIP(r), func(ctx context.Context) (err error) {
		codes, err = s.h.S.ConfirmTOTPEnrollment(ctx, u, code)
		return err
	})
	if !s.codeRefused(w, r, err, "code", "That code is not valid. Enter the code your app shows now.") {
		// This browser's session has just proven the app.
		if _, err := s.h.S.AddSessionFactors(r.Context(), AccountSession(r), "otp", "mfa"); err != nil && !errors.Is(err, storage.ErrNotFound) {
			httpx.LogFailure(r.Context(), s.h.Logger, "account page: recording the second factor in the session failed", err)
		}
		s.showCodes(w, r, "Your authenticator app is on", codes)
	}
}

// regenerate replaces the recovery codes, after a current code of the app, and shows the new ones once.
func (s *authenticatorSection) regenerate(w http.ResponseWriter, r *http.Request) {
	u := AccountUser(r)
	code := strings.TrimSpace(r.PostFormValue("regenerate_code"))
	if code == "" {
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{FieldErrors: map[string]string{"regenerate_code": "Enter the 6-digit code your app shows."}})
		return
	}
	err := s.h.S.SecondFactor(r.Context(), u, "totp", s.h.S.ClientIP(r), func(ctx context.Context) error {
		return s.h.S.CheckTOTP(ctx, u, code)
	})
	if s.codeRefused(w, r, err, "regenerate_code", "That code is not valid. Enter the code your app shows now.") {
		return
	}
	codes, err := s.h.S.RegenerateRecoveryCodes(r.Context(), u)
	switch {
	case errors.Is(err, mfa.ErrNotEnrolled):
		s.h.Refuse(w, r, http.StatusConflict, s.Name(), Outcome{Error: "Set up an authenticator app first."})
	case err != nil:
		s.h.Failed(w, r, "account page: regenerating recovery codes failed", err)
	default:
		s.showCodes(w, r, "Your new recovery codes", codes)
	}
}

// remove removes the app (and its recovery codes), after a current code or a recovery code; a setup not
// finished is cancelled without one.
func (s *authenticatorSection) remove(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := AccountUser(r)
	st, err := s.h.S.MFAStatus(ctx, u.ID)
	if err != nil {
		s.h.Failed(w, r, "account page: reading the user's factors failed", err)
		return
	}
	notice := "cancelled"
	if st.TOTP {
		notice = "removed"
		code := strings.TrimSpace(r.PostFormValue("remove_code"))
		if code == "" {
			s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{FieldErrors: map[string]string{"remove_code": "Enter a code from your app, or a recovery code."}})
			return
		}
		method := "totp"
		if len(strings.ReplaceAll(code, " ", "")) != 6 {
			method = "recovery_code"
		}
		err := s.h.S.SecondFactor(ctx, u, method, s.h.S.ClientIP(r), func(ctx context.Context) error {
			if method == "totp" {
				return s.h.S.CheckTOTP(ctx, u, code)
			}
			return s.h.S.CheckRecoveryCode(ctx, u, code)
		})
		if s.codeRefused(w, r, err, "remove_code", "That code is not valid. Enter the code your app shows now, or an unused recovery code.") {
			return
		}
	}
	err = s.h.S.RemoveTOTP(ctx, u)
	switch {
	case err == nil, errors.Is(err, mfa.ErrNotEnrolled):
		s.h.Done(w, r, s.Name(), notice)
	default:
		s.h.Failed(w, r, "account page: removing the authenticator app failed", err)
	}
}

// codeRefused answers a code check that did not pass (a wrong code next to field, throttling, a change made
// meanwhile, our failure), or reports false when err is nil.
func (s *authenticatorSection) codeRefused(w http.ResponseWriter, r *http.Request, err error, field, msg string) bool {
	var throttled *signin.ThrottledError
	switch {
	case err == nil:
		return false
	case errors.Is(err, mfa.ErrInvalidCode):
		s.h.Refuse(w, r, http.StatusUnauthorized, s.Name(), Outcome{FieldErrors: map[string]string{field: msg}})
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.h.Refuse(w, r, http.StatusTooManyRequests, s.Name(), Outcome{
			Error: "Too many wrong codes. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."})
	case errors.Is(err, mfa.ErrAlreadyEnrolled), errors.Is(err, mfa.ErrNotEnrolled):
		s.h.Refuse(w, r, http.StatusConflict, s.Name(), Outcome{Error: "Your authenticator app was changed meanwhile. Reload the page and try again."})
	default:
		s.h.Failed(w, r, "account page: checking a code failed", err)
	}
	return true
}

// showCodes shows recovery codes once, on a page of their own (never in a URL), with the way back.
func (s *authenticatorSection) showCodes(w http.ResponseWriter, r *http.Request, title string, codes []string) {
	s.h.write(w, r, http.StatusOK, templates.PageMFA, templates.Page{Title: title, MFA: &templates.MFA{
		Mode: templates.MFAModeCodes, RecoveryCodes: codes, ContinueURL: Path + "#" + s.Name()}})
}
