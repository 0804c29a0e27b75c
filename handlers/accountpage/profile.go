package accountpage

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// profileSection shows and changes the user's name and picture URL (POST /account/profile).
type profileSection struct{ h *Handler }

type profileData struct {
	Name, Picture string
}

func (s *profileSection) Name() string     { return "profile" }
func (s *profileSection) Template() string { return "profile" }

func (s *profileSection) Data(_ context.Context, u storage.User, _ storage.LoginSession) (any, error) {
	return profileData{Name: u.Name, Picture: u.Profile.Picture}, nil
}

func (s *profileSection) Notice(key string) string {
	if key == "saved" {
		return "Your profile has been saved."
	}
	return ""
}

func (s *profileSection) Mount(r *mux.Router) {
	r.HandleFunc("", s.save).Methods(http.MethodPost)
}

// save is POST /account/profile: name and picture (an absolute http or https URL, or empty to remove it).
func (s *profileSection) save(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	picture := strings.TrimSpace(r.PostFormValue("picture"))
	u := AccountUser(r)
	_, err := s.h.S.UpdateUser(r.Context(), u.ID, directory.UserUpdate{Name: &name,
		Profile: directory.ProfileUpdate{Picture: &picture}})
	var verr *directory.ValidationError
	switch {
	case errors.As(err, &verr):
		field, label := verr.Field, "Name"
		if field == "picture" {
			label = "Picture URL"
		} else {
			field = "name"
		}
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{
			FieldErrors: map[string]string{field: label + " " + verr.Message + "."},
			Values:      map[string]string{"name": name, "picture": picture},
		})
	case err != nil:
		s.h.Failed(w, r, "account page: saving the profile failed", err)
	default:
		s.h.Done(w, r, s.Name(), "saved")
	}
}
