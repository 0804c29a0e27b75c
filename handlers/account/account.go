// Package account serves what a signed-in user may do with their own access token: read their profile and
// memberships (/v1/me) and switch the active organization without signing in again
// (/v1/sessions/switch-org). Nothing here reveals other users.
package account

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// Services is what the account endpoints use of Authio's services, and nothing more (*server.Server
// implements it; tests may substitute their own).
type Services interface {
	// CORS answers preflights and adds CORS headers for the tenant's registered web origins.
	CORS(next http.Handler, methods string) http.Handler
	// UserGrant authenticates a bearer token of the given use (RFC 6750) and returns the grant behind it.
	UserGrant(ctx context.Context, token string, use fosite.TokenUse) (oauth.Grant, error)
	// LiveUser returns a user who still exists and is not blocked (oauth.ErrGrantWithdrawn otherwise).
	LiveUser(ctx context.Context, id string) (storage.User, error)
	// Organization finds one of the tenant's organizations by id or name (a *directory.NotFoundError otherwise).
	Organization(ctx context.Context, idOrName string) (storage.Organization, error)
	// MembershipViews lists a user's memberships as /v1/me/memberships shows them.
	MembershipViews(ctx context.Context, userID string) ([]oauth.MembershipView, error)
	// SwitchOrganization re-issues the session's tokens for another organization (RFC 8693 semantics).
	SwitchOrganization(ctx context.Context, accessToken, refreshToken, orgParam string) (oauth.SwitchResult, error)
}

// Handler serves the account endpoints. Routes must run behind server.ResolveTenant.
type Handler struct {
	S      Services
	Logger *slog.Logger
	Now    func() time.Time
}

// Mount registers the account endpoints on r, with CORS for the tenant's registered web origins.
func (h *Handler) Mount(r *mux.Router) {
	r.Handle("/v1/me", h.S.CORS(http.HandlerFunc(h.me), "GET")).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/v1/me/memberships", h.S.CORS(http.HandlerFunc(h.memberships), "GET")).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/v1/sessions/switch-org", h.S.CORS(http.HandlerFunc(h.switchOrg), "POST")).Methods(http.MethodPost, http.MethodOptions)
}

// user authenticates the bearer access token as the token of a user who still exists and is not blocked; it writes the 401 and
// returns ok=false otherwise.
func (h *Handler) user(w http.ResponseWriter, r *http.Request) (oauth.Grant, storage.User, bool) {
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_request", "A bearer access token is required.")
		return oauth.Grant{}, storage.User{}, false
	}
	var u storage.User
	g, err := h.S.UserGrant(r.Context(), token, fosite.AccessToken)
	if err == nil {
		u, err = h.S.LiveUser(r.Context(), g.Session.Subject)
	}
	if errors.Is(err, oauth.ErrInvalidSubjectToken) || errors.Is(err, oauth.ErrGrantWithdrawn) {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired, revoked or not a user's token.")
		return oauth.Grant{}, storage.User{}, false
	} else if err != nil {
		h.serverError(w, r, "authenticating the access token failed", err)
		return oauth.Grant{}, storage.User{}, false
	}
	return g, u, true
}

type profile struct {
	ID                 string         `json:"id"`
	Email              string         `json:"email"`
	EmailVerified      bool           `json:"email_verified"`
	Name               string         `json:"name"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	ActiveOrganization *oauth.OrgView `json:"active_organization"`
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	g, u, ok := h.user(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := profile{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: u.UpdatedAt.UTC().Format(time.RFC3339)}
	if orgID := g.Session.OrgID(); orgID != "" {
		o, err := h.S.Organization(ctx, orgID)
		switch {
		case err == nil:
			p.ActiveOrganization = &oauth.OrgView{ID: o.ID, Name: o.Name, DisplayName: o.DisplayName}
		case !errors.Is(err, storage.ErrNotFound):
			h.serverError(w, r, "loading the active organization failed", err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

func (h *Handler) memberships(w http.ResponseWriter, r *http.Request) {
	g, _, ok := h.user(w, r)
	if !ok {
		return
	}
	views, err := h.S.MembershipViews(r.Context(), g.Session.Subject)
	if err != nil {
		h.serverError(w, r, "listing memberships failed", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"memberships": views})
}

type switchBody struct {
	OrganizationID string `json:"organization_id"`
	RefreshToken   string `json:"refresh_token"`
}

type switchResponse struct {
	AccessToken        string                 `json:"access_token"`
	TokenType          string                 `json:"token_type"`
	ExpiresIn          int64                  `json:"expires_in"`
	Scope              string                 `json:"scope,omitempty"`
	RefreshToken       string                 `json:"refresh_token,omitempty"`
	IDToken            string                 `json:"id_token,omitempty"`
	ActiveOrganization oauth.OrgView          `json:"active_organization"`
	Memberships        []oauth.MembershipView `json:"memberships"`
}

func (h *Handler) switchOrg(w http.ResponseWriter, r *http.Request) {
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_request", "A bearer access token is required.")
		return
	}
	var body switchBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		status, msg := http.StatusBadRequest, "The body is too large."
		var be *httpx.BodyError
		if errors.As(err, &be) {
			msg = be.Message
		} else {
			status = http.StatusRequestEntityTooLarge
		}
		httpx.WriteJSON(w, status, map[string]string{"error": "invalid_request", "error_description": msg})
		return
	}
	if strings.TrimSpace(body.OrganizationID) == "" {
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request",
			"error_description": "organization_id is required."})
		return
	}
	res, err := h.S.SwitchOrganization(r.Context(), token, body.RefreshToken, strings.TrimSpace(body.OrganizationID))
	var se *oauth.SwitchError
	if errors.As(err, &se) {
		h.Logger.Info("organization switch refused", "request_id", httpx.RequestIDFromContext(r.Context()), "error", se.Code,
			"reason", se.Description)
		if se.Status == http.StatusUnauthorized {
			httpx.WriteBearerError(w, se.Status, se.Code, se.Description)
			return
		}
		httpx.WriteJSON(w, se.Status, map[string]string{"error": se.Code, "error_description": se.Description})
		return
	} else if err != nil {
		h.serverError(w, r, "switching organization failed", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, switchResponse{
		AccessToken: res.AccessToken, TokenType: "Bearer", ExpiresIn: int64(res.ExpiresIn / time.Second),
		Scope: strings.Join(res.Scope, " "), RefreshToken: res.RefreshToken, IDToken: res.IDToken,
		ActiveOrganization: oauth.OrgView{ID: res.Org.ID, Name: res.Org.Name, DisplayName: res.Org.DisplayName},
		Memberships:        res.Memberships,
	})
}

// serverError answers a failure of ours: temporarily_unavailable (503) when a backing service failed,
// server_error (500) otherwise (httpx.WriteFailure).
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	httpx.WriteFailure(w, err)
}
