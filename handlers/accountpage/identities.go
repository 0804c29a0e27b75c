package accountpage

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// identitiesSection lists the upstream accounts linked to the user and unlinks one (POST
// /account/identities/unlink, field "identity") when another way to sign in remains.
type identitiesSection struct{ h *Handler }

type identityView struct {
	ID, Connection, Email string
	Created, CreatedISO   string
}

type identitiesData struct {
	Identities []identityView
}

func (s *identitiesSection) Name() string     { return "identities" }
func (s *identitiesSection) Template() string { return "identities" }

func (s *identitiesSection) Data(ctx context.Context, u storage.User, _ storage.LoginSession) (any, error) {
	list, err := s.h.S.AccountIdentities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var d identitiesData
	for _, i := range list {
		d.Identities = append(d.Identities, identityView{ID: i.ID, Connection: i.ConnectionName, Email: i.Email,
			Created: humanTime(i.CreatedAt), CreatedISO: i.CreatedAt.UTC().Format(time.RFC3339)})
	}
	return d, nil
}

func (s *identitiesSection) Notice(key string) string {
	if key == "unlinked" {
		return "The account has been unlinked."
	}
	return ""
}

func (s *identitiesSection) Mount(r *mux.Router) {
	r.HandleFunc("/unlink", s.unlink).Methods(http.MethodPost)
}

func (s *identitiesSection) unlink(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("identity")
	err := s.h.S.UnlinkIdentity(r.Context(), AccountUser(r).ID, id)
	switch {
	case errors.Is(err, server.ErrLastSignInMethod):
		s.h.Refuse(w, r, http.StatusConflict, s.Name(), Outcome{
			Error: "This is your only way to sign in. Set a password or add a passkey before you unlink it."})
	case errors.Is(err, storage.ErrNotFound):
		s.h.Refuse(w, r, http.StatusNotFound, s.Name(), Outcome{Error: "That account is not linked to yours."})
	case err != nil:
		s.h.Failed(w, r, "account page: unlinking an identity failed", err)
	default:
		s.h.Done(w, r, s.Name(), "unlinked")
	}
}
