package management

import (
	"context"
	"net/http"
	"time"

	"github.com/authio/authio/authn/mfa"
)

// AuthenticationMethods is a user's authentication methods: credentials and second factors (authn/mfa).
type AuthenticationMethods interface {
	// AuthenticationMethods lists a user's methods; a *directory.NotFoundError for an unknown user.
	AuthenticationMethods(ctx context.Context, userID string) ([]mfa.Method, error)
	// DeleteAuthenticationMethod removes one by its id; a *directory.NotFoundError for an unknown user or method.
	DeleteAuthenticationMethod(ctx context.Context, userID, methodID string) error
	// ResetAuthenticators removes every second factor of a user (passkeys stay).
	ResetAuthenticators(ctx context.Context, userID string) error
}

// authenticationMethodView is one authentication method in Auth0's shape.
type authenticationMethodView struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Confirmed  bool       `json:"confirmed"`
	Name       string     `json:"name,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastAuthAt *time.Time `json:"last_auth_at,omitempty"`
}

// listAuthenticationMethods serves GET /users/{id}/authentication-methods: every method of the user, oldest
// first (an array, as Auth0 answers without include_totals).
func (h *Handler) listAuthenticationMethods(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.S.AuthenticationMethods(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	out := make([]authenticationMethodView, 0, len(ms))
	for _, m := range ms {
		out = append(out, authenticationMethodView{ID: m.ID, Type: m.Type, Confirmed: m.Confirmed, Name: m.Name,
			CreatedAt: m.CreatedAt.UTC(), LastAuthAt: m.LastAuthAt})
	}
	return ok(w, out)
}

// deleteAuthenticationMethod serves DELETE /users/{id}/authentication-methods/{method_id}: 204.
func (h *Handler) deleteAuthenticationMethod(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteAuthenticationMethod(r.Context(), pathVar(r, "id"), pathVar(r, "method_id")); err != nil {
		return err
	}
	return noContent(w)
}

// deleteAuthenticators serves DELETE /users/{id}/authenticators: every second factor of the user goes (its
// authenticator app and recovery codes; passkeys stay); 204.
func (h *Handler) deleteAuthenticators(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.ResetAuthenticators(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}
