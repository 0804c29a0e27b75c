package management

import (
	"errors"
	"net/http"
	"time"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
)

// userView is a user in Auth0's shape; it never carries the password hash. The standard profile claims
// (given_name, picture, …) sit at the top level under their OIDC names and are absent when unset; user_metadata,
// app_metadata and identities are always present. Auth0's last_login and logins_count are not kept, so absent.
type userView struct {
	UserID        string `json:"user_id"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	storage.UserProfile
	Blocked      bool           `json:"blocked"`
	UserMetadata map[string]any `json:"user_metadata"`
	AppMetadata  map[string]any `json:"app_metadata"`
	Identities   []identityView `json:"identities"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// identityView is one of a user's identities in Auth0's shape: the connection's name, its strategy as provider,
// the account's id at that provider (the user's own id for a password), and whether the connection is a social
// one (never, for the password, OIDC and SAML connections Authio has).
type identityView struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
	IsSocial   bool   `json:"isSocial"`
}

func viewIdentity(l storage.UserLink) identityView {
	v := identityView{Connection: l.ConnectionName, Provider: signin.StrategyOf(l.ConnectionType), UserID: l.Subject}
	if l.Subject == "" {
		v.UserID = l.UserID
	}
	switch l.ConnectionType {
	case storage.ConnectionPassword, storage.ConnectionOIDC, storage.ConnectionSAML, storage.ConnectionEmail, storage.ConnectionPasskey:
	default:
		v.IsSocial = l.Subject != ""
	}
	return v
}

func viewUser(u storage.User, links []storage.UserLink) userView {
	return userView{UserID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, UserProfile: u.Profile,
		Blocked: u.Blocked, UserMetadata: orEmpty(u.UserMetadata), AppMetadata: orEmpty(u.AppMetadata),
		Identities: mapSlice(links, viewIdentity), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// viewUsers shows users with their identities, read for all of them at once.
func (h *Handler) viewUsers(r *http.Request, users []storage.User) ([]userView, error) {
	ids := mapSlice(users, func(u storage.User) string { return u.ID })
	links, err := h.S.UserIdentities(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	return mapSlice(users, func(u storage.User) userView { return viewUser(u, links[u.ID]) }), nil
}

// viewOneUser is viewUsers for one user.
func (h *Handler) viewOneUser(r *http.Request, u storage.User) (userView, error) {
	vs, err := h.viewUsers(r, []storage.User{u})
	if err != nil {
		return userView{}, err
	}
	return vs[0], nil
}

// userBody is POST and PATCH /users. Profile claims are optional; in a PATCH, "" removes one.
type userBody struct {
	Email         *string `json:"email"`
	Password      *string `json:"password"`
	Name          *string `json:"name"`
	EmailVerified *bool   `json:"email_verified"`
	Blocked       *bool   `json:"blocked"`
	// Connection is Auth0's: the password connection a created user's password belongs to (its name); optional,
	// the tenant's Username-Password-Authentication by default. Ignored by PATCH, as Auth0 does for a user's own
	// connection.
	Connection *string `json:"connection"`
	// VerifyEmail is Auth0's: true mails the user a verification link (to the stored address, when it is not
	// verified) once the user is created or updated. Omitted or false: no mail.
	VerifyEmail *bool `json:"verify_email"`

	GivenName         *string `json:"given_name"`
	FamilyName        *string `json:"family_name"`
	MiddleName        *string `json:"middle_name"`
	Nickname          *string `json:"nickname"`
	PreferredUsername *string `json:"preferred_username"`
	Profile           *string `json:"profile"`
	Picture           *string `json:"picture"`
	Website           *string `json:"website"`
	Gender            *string `json:"gender"`
	Birthdate         *string `json:"birthdate"`
	Zoneinfo          *string `json:"zoneinfo"`
	Locale            *string `json:"locale"`

	// UserMetadata and AppMetadata are Auth0's metadata objects; a PATCH merges them (directory.MergeMetadata).
	UserMetadata *map[string]any `json:"user_metadata"`
	AppMetadata  *map[string]any `json:"app_metadata"`
}

func (b userBody) profile() directory.ProfileUpdate {
	return directory.ProfileUpdate{GivenName: b.GivenName, FamilyName: b.FamilyName, MiddleName: b.MiddleName,
		Nickname: b.Nickname, PreferredUsername: b.PreferredUsername, Profile: b.Profile, Picture: b.Picture,
		Website: b.Website, Gender: b.Gender, Birthdate: b.Birthdate, Zoneinfo: b.Zoneinfo, Locale: b.Locale}
}

// listUsers serves GET /users: a page of users, or with ?email= the user with that address (if any).
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := parsePaging(q)
	if err != nil {
		return err
	}
	if q.Has("email") {
		users, err := h.usersWithEmail(r, q.Get("email"))
		if err != nil {
			return err
		}
		writeList(w, p, "users", directory.Paginate(users, p.store()), int64(len(users)))
		return nil
	}
	users, n, err := h.S.ListUsers(r.Context(), p.store())
	if err != nil {
		return err
	}
	views, err := h.viewUsers(r, users)
	if err != nil {
		return err
	}
	writeList(w, p, "users", views, n)
	return nil
}

// usersWithEmail returns the user with email as a list of zero or one, as Auth0's lookups do.
func (h *Handler) usersWithEmail(r *http.Request, email string) ([]userView, error) {
	u, err := h.S.UserByEmail(r.Context(), email)
	var ve *directory.ValidationError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return []userView{}, nil
	case errors.As(err, &ve):
		return nil, queryError("email", "%s", ve.Message)
	case err != nil:
		return nil, err
	}
	v, err := h.viewOneUser(r, u)
	if err != nil {
		return nil, err
	}
	return []userView{v}, nil
}

func (h *Handler) usersByEmail(w http.ResponseWriter, r *http.Request) error {
	if !r.URL.Query().Has("email") {
		return queryError("email", "is required")
	}
	users, err := h.usersWithEmail(r, r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	return ok(w, users)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	var b userBody
	if err := decode(r, &b); err != nil {
		return err
	}
	u, err := h.S.AddUser(r.Context(), directory.UserSpec{Email: deref(b.Email), Password: deref(b.Password), Name: deref(b.Name),
		EmailVerified: deref(b.EmailVerified), Blocked: deref(b.Blocked), Profile: b.profile(),
		Connection: deref(b.Connection), UserMetadata: deref(b.UserMetadata), AppMetadata: deref(b.AppMetadata)})
	if err != nil {
		return err
	}
	h.verifyEmail(r, b, u)
	v, err := h.viewOneUser(r, u)
	if err != nil {
		return err
	}
	return created(w, v)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.S.User(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	v, err := h.viewOneUser(r, u)
	if err != nil {
		return err
	}
	return ok(w, v)
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	var b userBody
	if err := decode(r, &b); err != nil {
		return err
	}
	u, err := h.S.UpdateUser(r.Context(), pathVar(r, "id"), directory.UserUpdate{Email: b.Email, Name: b.Name, Password: b.Password,
		EmailVerified: b.EmailVerified, Blocked: b.Blocked, Profile: b.profile(), UserMetadata: b.UserMetadata,
		AppMetadata: b.AppMetadata})
	if err != nil {
		return err
	}
	h.verifyEmail(r, b, u)
	v, err := h.viewOneUser(r, u)
	if err != nil {
		return err
	}
	return ok(w, v)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteUser(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}

type userOrganizationView struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"display_name"`
	MembershipID string    `json:"membership_id"`
	Status       string    `json:"status"`
	JoinedAt     time.Time `json:"joined_at"`
}

func (h *Handler) listUserOrganizations(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	ms, err := h.S.UserOrganizations(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	writeList(w, p, "organizations", mapSlice(directory.Paginate(ms, p.store()), func(m storage.UserMembership) userOrganizationView {
		return userOrganizationView{ID: m.OrganizationID, Name: m.OrganizationName, DisplayName: m.OrganizationDisplayName,
			MembershipID: m.ID, Status: m.Status, JoinedAt: m.JoinedAt}
	}), int64(len(ms)))
	return nil
}

// verifyEmail mails u a verification link when the body asked for it (verify_email) and u's address is not
// verified. The user is stored already: a mail that cannot be sent is logged, not the request's failure.
func (h *Handler) verifyEmail(r *http.Request, b userBody, u storage.User) {
	if !deref(b.VerifyEmail) || u.EmailVerified {
		return
	}
	if err := h.S.SendVerification(r.Context(), u, "", "api"); err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "management API: sending the verification email failed", err)
	}
}
