package accountpage

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn/passkey"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// passkeysSection lists the user's passkeys (name, added, last used) and adds (the WebAuthn registration, as JSON
// for static/passkey.js: POST /account/passkeys/begin then /finish), renames (POST /account/passkeys/rename,
// fields "passkey" and "name") and removes them (POST /account/passkeys/remove, field "passkey"). GET
// /account/passkeys is the page a new account is sent to right after sign-up (with the flow's "state"): add a
// passkey, or go on. The passkey kind (authn/passkey) audits every change. A tenant without an enabled passkey
// connection shows no passkeys section content and answers its steps 404 (its passkeys sign in nowhere).
type passkeysSection struct{ h *Handler }

// passkeyKind is what the section uses of the passkey kind (*passkey.Connection).
type passkeyKind interface {
	BeginRegistration(ctx context.Context, binding string, u storage.User) (any, error)
	FinishRegistration(ctx context.Context, binding string, u storage.User, raw []byte, name string) (storage.Credential, error)
	Rename(ctx context.Context, u storage.User, id, name string) error
	Remove(ctx context.Context, u storage.User, id string) error
	List(ctx context.Context, u storage.User) ([]storage.Credential, error)
}

var _ passkeyKind = (*passkey.Connection)(nil)

type passkeyView struct {
	ID, Name, RPID        string
	Created, CreatedISO   string
	LastUsed, LastUsedISO string
	Synced, Here          bool
}

type passkeysData struct {
	Available bool // the tenant has an enabled passkey connection
	Passkeys  []passkeyView
}

func (s *passkeysSection) Name() string     { return "passkeys" }
func (s *passkeysSection) Template() string { return "passkeys" }

// kind opens the tenant's passkey connection; nil when it has no enabled one.
func (s *passkeysSection) kind(ctx context.Context) (passkeyKind, error) {
	conns, err := s.h.S.LoginConnections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		if k, ok := c.(passkeyKind); ok && c.Type() == passkey.Type {
			return k, nil
		}
	}
	return nil, nil
}

func (s *passkeysSection) Data(ctx context.Context, u storage.User, _ storage.LoginSession) (any, error) {
	k, err := s.kind(ctx)
	if err != nil || k == nil {
		return passkeysData{}, err
	}
	creds, err := k.List(ctx, u)
	if err != nil {
		return nil, err
	}
	rp, _ := passkey.RelyingPartyOf(ctx)
	d := passkeysData{Available: true}
	for _, c := range creds {
		v := passkeyView{ID: c.ID, Name: passkey.Name(c), RPID: c.RPID, Here: c.RPID == rp.ID, Synced: passkey.Synced(c),
			Created: humanTime(c.CreatedAt), CreatedISO: c.CreatedAt.UTC().Format(time.RFC3339)}
		if c.LastUsedAt != nil {
			v.LastUsed, v.LastUsedISO = humanTime(*c.LastUsedAt), c.LastUsedAt.UTC().Format(time.RFC3339)
		}
		d.Passkeys = append(d.Passkeys, v)
	}
	return d, nil
}

func (s *passkeysSection) Notice(key string) string {
	switch key {
	case "added":
		return "Your passkey has been added."
	case "renamed":
		return "The passkey has been renamed."
	case "removed":
		return "The passkey has been removed. Remove it from your device too."
	}
	return ""
}

func (s *passkeysSection) Mount(r *mux.Router) {
	r.HandleFunc("", s.offer).Methods(http.MethodGet)
	r.HandleFunc("/begin", s.begin).Methods(http.MethodPost)
	r.HandleFunc("/finish", s.finish).Methods(http.MethodPost)
	r.HandleFunc("/rename", s.rename).Methods(http.MethodPost)
	r.HandleFunc("/remove", s.remove).Methods(http.MethodPost)
}

// offer is GET /account/passkeys: the page that offers a passkey, right after sign-up (?state=<flow id>: its
// way on is the flow's next step) or from anywhere (its way on is the account page).
func (s *passkeysSection) offer(w http.ResponseWriter, r *http.Request) {
	k, err := s.kind(r.Context())
	if err != nil {
		s.h.Failed(w, r, "account page: listing the sign-in methods failed", err)
		return
	}
	next, text := Path+"#passkeys", "Back to your account"
	if st := r.URL.Query().Get("state"); st != "" && len(st) <= 64 {
		next, text = oauth.ResumePath+"?"+url.Values{"state": {st}}.Encode(), "Not now"
	}
	if k == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.h.write(w, r, http.StatusOK, templates.PagePasskeys, templates.Page{Title: "Add a passkey", LinkURL: next, LinkText: text})
}

// jsonKind opens the passkey connection for a ceremony step; ok=false: the JSON answer is written.
func (s *passkeysSection) jsonKind(w http.ResponseWriter, r *http.Request) (passkeyKind, bool) {
	k, err := s.kind(r.Context())
	if err != nil {
		httpx.LogFailure(r.Context(), s.h.Logger, "account page: listing the sign-in methods failed", err)
		httpx.WriteFailure(w, err)
		return nil, false
	}
	if k == nil {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "This site does not offer passkeys."})
		return nil, false
	}
	return k, true
}

// begin is POST /account/passkeys/begin: the creation options of a registration, bound to the browser session.
func (s *passkeysSection) begin(w http.ResponseWriter, r *http.Request) {
	k, ok := s.jsonKind(w, r)
	if !ok {
		return
	}
	opts, err := k.BeginRegistration(r.Context(), passkey.SessionBinding(AccountSession(r).ID), AccountUser(r))
	if err != nil {
		httpx.LogFailure(r.Context(), s.h.Logger, "account page: beginning a passkey registration failed", err)
		httpx.WriteFailure(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, opts)
}

// finish is POST /account/passkeys/finish (form: "credential", the browser's answer as JSON, and "name"): it
// stores the passkey and answers 201 {"id", "name"}; 400 for an answer that does not verify, 409 for a passkey
// registered already.
func (s *passkeysSection) finish(w http.ResponseWriter, r *http.Request) {
	k, ok := s.jsonKind(w, r)
	if !ok {
		return
	}
	u := AccountUser(r)
	cred, err := k.FinishRegistration(r.Context(), passkey.SessionBinding(AccountSession(r).ID), u,
		[]byte(r.PostFormValue("credential")), r.PostFormValue("name"))
	switch {
	case errors.Is(err, passkey.ErrInvalid):
		s.h.Logger.Info("passkey registration refused", "request_id", httpx.RequestIDFromContext(r.Context()), "user_id", u.ID)
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_credential",
			"error_description": "The passkey could not be verified. Try again."})
	case errors.Is(err, passkey.ErrDuplicate):
		httpx.WriteJSON(w, http.StatusConflict, map[string]string{"error": "already_registered",
			"error_description": "This passkey is already registered."})
	case err != nil:
		httpx.LogFailure(r.Context(), s.h.Logger, "account page: storing a passkey failed", err)
		httpx.WriteFailure(w, err)
	default:
		httpx.WriteJSON(w, http.StatusCreated, map[string]string{"id": cred.ID, "name": passkey.Name(cred)})
	}
}

func (s *passkeysSection) rename(w http.ResponseWriter, r *http.Request) {
	id, name := r.PostFormValue("passkey"), r.PostFormValue("name")
	if passkey.CleanName(name, time.Time{}) == passkey.CleanName("", time.Time{}) {
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{FieldErrors: map[string]string{"name-" + id: "Enter a name."}})
		return
	}
	s.change(w, r, "renamed", func(k passkeyKind) error { return k.Rename(r.Context(), AccountUser(r), id, name) })
}

func (s *passkeysSection) remove(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("passkey")
	s.change(w, r, "removed", func(k passkeyKind) error { return k.Remove(r.Context(), AccountUser(r), id) })
}

// change runs a rename or a removal: the account page with its confirmation, a 404 for a passkey that is not the
// user's (another user's or another tenant's is none), a 5xx page for our failures.
func (s *passkeysSection) change(w http.ResponseWriter, r *http.Request, notice string, fn func(k passkeyKind) error) {
	k, err := s.kind(r.Context())
	if err != nil {
		s.h.Failed(w, r, "account page: listing the sign-in methods failed", err)
		return
	}
	if k == nil {
		s.h.Refuse(w, r, http.StatusNotFound, s.Name(), Outcome{Error: "This site does not offer passkeys."})
		return
	}
	switch err := fn(k); {
	case errors.Is(err, storage.ErrNotFound):
		s.h.Refuse(w, r, http.StatusNotFound, s.Name(), Outcome{Error: "That passkey was not found. It may have been removed already."})
	case err != nil:
		s.h.Failed(w, r, "account page: changing a passkey failed", err)
	default:
		s.h.Done(w, r, s.Name(), notice)
	}
}
