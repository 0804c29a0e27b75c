package accountpage

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// passwordSection changes the user's password (POST /account/password): the current password first, checked
// with the sign-in throttling; the new one must follow the directory's rules; the user's other sessions end.
type passwordSection struct{ h *Handler }

type passwordData struct {
	HasPassword bool
	Email       string // the account name, for password managers
}

func (s *passwordSection) Name() string     { return "password" }
func (s *passwordSection) Template() string { return "password" }

func (s *passwordSection) Data(_ context.Context, u storage.User, _ storage.LoginSession) (any, error) {
	return passwordData{HasPassword: u.PasswordHash != "", Email: u.Email}, nil
}

func (s *passwordSection) Notice(key string) string {
	if key == "changed" {
		return "Your password has been changed. Your other sessions have been signed out."
	}
	return ""
}

func (s *passwordSection) Mount(r *mux.Router) {
	r.HandleFunc("", s.change).Methods(http.MethodPost)
}

func (s *passwordSection) change(w http.ResponseWriter, r *http.Request) {
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	fieldErrors := map[string]string{}
	if current == "" {
		fieldErrors["current_password"] = "Enter your current password."
	}
	if next == "" {
		fieldErrors["new_password"] = "Enter a new password."
	}
	if len(fieldErrors) > 0 {
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{FieldErrors: fieldErrors})
		return
	}
	u, ls := AccountUser(r), AccountSession(r)
	err := s.h.S.ChangePassword(r.Context(), u.ID, ls.ID, current, next, s.h.S.ClientIP(r))
	var (
		verr      *directory.ValidationError
		throttled *signin.ThrottledError
	)
	switch {
	case err == nil:
		s.h.Logger.Info("password changed on the account page", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", u.ID)
		s.h.Done(w, r, s.Name(), "changed")
	case errors.As(err, &verr):
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{
			FieldErrors: map[string]string{"new_password": "The new password " + verr.Message + "."}})
	case errors.Is(err, signin.ErrInvalidCredentials):
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{
			FieldErrors: map[string]string{"current_password": "That is not your current password."}})
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.h.Refuse(w, r, http.StatusTooManyRequests, s.Name(), Outcome{
			Error: "Too many wrong passwords. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."})
	case errors.Is(err, signin.ErrConnectionDisabled):
		s.h.Refuse(w, r, http.StatusForbidden, s.Name(), Outcome{
			Error: "Signing in with a password is turned off here, so the password cannot be changed."})
	case errors.Is(err, server.ErrNoPassword):
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{Error: "You sign in here without a password."})
	case errors.Is(err, storage.ErrCredentialsChanged), errors.Is(err, signin.ErrUserBlocked):
		s.h.Refuse(w, r, http.StatusConflict, s.Name(), Outcome{
			Error: "Your password was changed meanwhile. Reload the page and try again."})
	default:
		s.h.Failed(w, r, "account page: changing the password failed", err)
	}
}
