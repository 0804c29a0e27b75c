package management

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
)

// principal is an authenticated caller of the Management API.
type principal struct {
	actor  audit.Actor
	all    bool            // every scope: a secret API key
	scopes map[string]bool // what an access token allows
	orgID  string          // the organization an organization-scoped token is limited to; "" for none
}

// access is what a route asks of its caller.
type access struct {
	scope string
	// org marks /organizations/{id} and the routes under it that an organization-scoped token may use, on its
	// own organization only.
	org bool
}

// authorize decides whether p may use a route that asks for a. targetOrg is the organization the route's {id}
// resolved to, "" when the route has none or it did not resolve. It is a pure function of its arguments.
func authorize(p principal, a access, targetOrg string) *apiError {
	if p.orgID != "" && (!a.org || targetOrg == "" || targetOrg != p.orgID) {
		return errorf(http.StatusForbidden, "organization_forbidden",
			"This token is limited to organization %s and cannot use this route or another organization.", p.orgID)
	}
	if !p.all && !p.scopes[a.scope] {
		e := errorf(http.StatusForbidden, "insufficient_scope", "Insufficient scope; expected: %s.", a.scope)
		e.scope = a.scope
		return e
	}
	return nil
}

var errNoCredentials = errorf(http.StatusUnauthorized, "missing_token", "Authorization: Bearer <API key or access token> is required.")

// authenticate identifies the caller from its bearer credential: a secret API key of this tenant (every scope),
// or an access token of this tenant for the Management API audience. A client-credentials token brings its
// granted scopes and its roles' permissions; a user's token only the permissions of the user's roles (the
// membership's, for an organization token), as they are now.
func (h *Handler) authenticate(r *http.Request) (principal, error) {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return principal{}, errNoCredentials
	}
	ctx := r.Context()
	if directory.IsAPIKey(cred) {
		k, err := h.S.AuthenticateAPIKey(ctx, cred)
		if errors.Is(err, directory.ErrInvalidAPIKey) {
			return principal{}, errorf(http.StatusUnauthorized, "invalid_token", "Invalid API key.")
		} else if err != nil {
			return principal{}, err
		}
		return principal{actor: audit.Actor{Kind: "api_key", ID: k.ID}, all: true}, nil
	}

	use, ar, err := h.Provider.IntrospectToken(ctx, cred, fosite.AccessToken, oauth.NewSession("", ""))
	if err != nil {
		// fosite wraps a failed token lookup in request_unauthorized: that token was not refused, it was not
		// checked.
		if rfc := httpx.OAuthError(err); rfc.CodeField >= http.StatusInternalServerError {
			return principal{}, rfc
		}
		h.Logger.Debug("management API token refused", "request_id", httpx.RequestIDFromContext(ctx),
			"error", fosite.ErrorToRFC6749Error(err).ErrorField)
		return principal{}, errorf(http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
	}
	sess, ok := ar.GetSession().(*oauth.Session)
	if use != fosite.AccessToken || !ok {
		return principal{}, errorf(http.StatusUnauthorized, "invalid_token", "An access token is required.")
	}
	// The token must be for the Management API alone: its permissions claim does not say which audience each
	// permission is on, so a token for several APIs could smuggle in a same-named scope of another one. The
	// audience may be the API's identifier or its URL on one of this tenant's domains (never another tenant's).
	aud := ar.GetGrantedAudience()
	mgmt := len(aud) == 1
	if mgmt {
		if mgmt, err = h.S.IsManagementAudience(ctx, aud[0]); err != nil {
			return principal{}, err
		}
	}
	if !mgmt {
		return principal{}, errorf(http.StatusUnauthorized, "invalid_token",
			"The access token must be for the Management API (audience %s or this domain's %s URL) alone.", directory.ManagementAudience, directory.ManagementAPIPath)
	}
	// Permissions are read now, not from the token: a member suspended or a role removed since the token was
	// issued loses access at once.
	perms, err := h.S.LivePermissions(ctx, sess, directory.ManagementAudience)
	if errors.Is(err, oauth.ErrGrantWithdrawn) {
		return principal{}, errorf(http.StatusUnauthorized, "invalid_token", "The access token's user, membership or organization access is no longer active.")
	} else if err != nil {
		return principal{}, err
	}
	p := principal{scopes: map[string]bool{}, orgID: sess.OrgID()}
	for _, perm := range perms {
		p.scopes[perm] = true
	}
	clientID := ar.GetClient().GetID()
	if sess.ClientID != "" && sess.GetSubject() == sess.ClientID && clientID == sess.ClientID {
		// A client acting for itself: what it was granted at the token endpoint counts too.
		for _, s := range ar.GetGrantedScopes() {
			p.scopes[s] = true
		}
		p.actor = audit.Actor{Kind: "client", ID: clientID}
	} else {
		p.actor = audit.Actor{Kind: "user", ID: sess.GetSubject()}
	}
	return p, nil
}
