package management

import (
	"net/http"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// clientView is a client in Auth0's shape (client_id, name, app_type, token_endpoint_auth_method, grant_types,
// callbacks, allowed_logout_urls, web_origins, allowed_origins, organization_usage, organization_require_behavior)
// with Authio's type, audiences and scopes; it never carries the secret hash.
type clientView struct {
	ClientID                    string    `json:"client_id"`
	Name                        string    `json:"name"`
	AppType                     *string   `json:"app_type"`
	TokenEndpointAuthMethod     string    `json:"token_endpoint_auth_method"`
	Type                        string    `json:"type"`
	IsFirstParty                bool      `json:"is_first_party"`
	Callbacks                   []string  `json:"callbacks"`
	AllowedLogoutURLs           []string  `json:"allowed_logout_urls"`
	GrantTypes                  []string  `json:"grant_types"`
	Audiences                   []string  `json:"audiences"`
	Scopes                      []string  `json:"scopes"`
	WebOrigins                  []string  `json:"web_origins"`
	AllowedOrigins              []string  `json:"allowed_origins"`
	OrganizationUsage           string    `json:"organization_usage"`
	OrganizationRequireBehavior string    `json:"organization_require_behavior"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
}

// clientWithSecret is a client as creation and rotation answer it: the only time its secret is shown.
type clientWithSecret struct {
	clientView
	ClientSecret string `json:"client_secret,omitempty"`
}

func list(l storage.StringList) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func viewClient(c storage.Client) clientView {
	method := c.TokenEndpointAuthMethod
	if method == "" { // a client made before Auth0's fields: its type says
		method = directory.AuthMethodClientSecretPost
		if c.Type == storage.ClientPublic {
			method = directory.AuthMethodNone
		}
	}
	behavior := c.OrganizationRequireBehavior
	if behavior == "" {
		behavior = directory.OrgRequirePostLoginPrompt
	}
	return clientView{ClientID: c.ID, Name: c.Name, AppType: optional(c.AppType), TokenEndpointAuthMethod: method, Type: c.Type,
		IsFirstParty: true, Callbacks: list(c.RedirectURIs), AllowedLogoutURLs: list(c.PostLogoutRedirectURIs),
		GrantTypes: list(c.GrantTypes), Audiences: list(c.Audiences), Scopes: list(c.Scopes), WebOrigins: list(c.WebOrigins),
		AllowedOrigins: list(c.AllowedOrigins), OrganizationUsage: c.OrganizationUsage, OrganizationRequireBehavior: behavior,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// clientFields are the API's names of the fields the server's client validation names after CLI flags.
var clientFields = map[string]string{
	"redirect-uri": "callbacks", "post-logout-redirect-uri": "allowed_logout_urls", "grant": "grant_types",
	"audience": "audiences", "scope": "scopes", "web-origin": "web_origins",
}

// clientBody is POST and PATCH /clients: Auth0's client fields, and Authio's type, audiences and scopes.
// is_first_party is accepted only as true: every client is the tenant's own.
type clientBody struct {
	Name                        *string   `json:"name"`
	AppType                     *string   `json:"app_type"`
	TokenEndpointAuthMethod     *string   `json:"token_endpoint_auth_method"`
	Type                        *string   `json:"type"`
	IsFirstParty                *bool     `json:"is_first_party"`
	Callbacks                   *[]string `json:"callbacks"`
	AllowedLogoutURLs           *[]string `json:"allowed_logout_urls"`
	GrantTypes                  *[]string `json:"grant_types"`
	Audiences                   *[]string `json:"audiences"`
	Scopes                      *[]string `json:"scopes"`
	WebOrigins                  *[]string `json:"web_origins"`
	AllowedOrigins              *[]string `json:"allowed_origins"`
	OrganizationUsage           *string   `json:"organization_usage"`
	OrganizationRequireBehavior *string   `json:"organization_require_behavior"`
}

func (b clientBody) check() error {
	if b.Audiences != nil {
		for _, a := range *b.Audiences {
			if directory.MalformedManagementURL(a) {
				return errorf(http.StatusBadRequest, "invalid_body", "audiences: %q is a Management API URL whose host is percent-encoded or malformed", a)
			}
		}
	}
	if b.IsFirstParty != nil && !*b.IsFirstParty {
		return errorf(http.StatusBadRequest, "invalid_body", "is_first_party: third-party clients are not supported; every client is the tenant's own")
	}
	return nil
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	cs, n, err := h.S.ListClientPage(r.Context(), p.store())
	if err != nil {
		return err
	}
	writeList(w, p, "clients", mapSlice(cs, viewClient), n)
	return nil
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request) error {
	var b clientBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	ctx := r.Context()
	grants, err := h.clientGrants(ctx, deref(b.Audiences), deref(b.Scopes))
	if err != nil {
		return err
	}
	if err := mayGrant(ctx, grants); err != nil {
		return err
	}
	cc, err := h.S.CreateClient(ctx, directory.ClientSpec{Name: deref(b.Name), Type: deref(b.Type), RedirectURIs: deref(b.Callbacks),
		PostLogoutRedirectURIs: deref(b.AllowedLogoutURLs), GrantTypes: deref(b.GrantTypes), Audiences: deref(b.Audiences),
		Scopes: deref(b.Scopes), WebOrigins: deref(b.WebOrigins), OrganizationUsage: deref(b.OrganizationUsage),
		AppType: deref(b.AppType), TokenEndpointAuthMethod: deref(b.TokenEndpointAuthMethod), AllowedOrigins: deref(b.AllowedOrigins),
		OrganizationRequireBehavior: deref(b.OrganizationRequireBehavior)})
	if err != nil {
		return renameFields(err, clientFields)
	}
	c, err := h.S.Client(ctx, cc.ClientID)
	if err != nil {
		return err
	}
	return created(w, clientWithSecret{clientView: viewClient(c), ClientSecret: cc.ClientSecret})
}

func (h *Handler) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := h.S.Client(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewClient(c))
}

func (h *Handler) updateClient(w http.ResponseWriter, r *http.Request) error {
	var b clientBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	ctx := r.Context()
	if b.Audiences != nil || b.Scopes != nil {
		old, err := h.S.Client(ctx, pathVar(r, "id"))
		if err != nil {
			return err
		}
		before, err := h.clientPower(ctx, old)
		if err != nil {
			return err
		}
		next := old
		if b.Audiences != nil {
			next.Audiences = *b.Audiences
		}
		if b.Scopes != nil {
			next.Scopes = *b.Scopes
		}
		after, err := h.clientPower(ctx, next)
		if err != nil {
			return err
		}
		if err := mayGrant(ctx, without(after, before)); err != nil {
			return err
		}
	}
	c, err := h.S.UpdateClient(ctx, pathVar(r, "id"), directory.ClientUpdate{Name: b.Name, Type: b.Type, RedirectURIs: b.Callbacks,
		PostLogoutRedirectURIs: b.AllowedLogoutURLs, GrantTypes: b.GrantTypes, Audiences: b.Audiences, Scopes: b.Scopes,
		WebOrigins: b.WebOrigins, OrganizationUsage: b.OrganizationUsage, AppType: b.AppType,
		TokenEndpointAuthMethod: b.TokenEndpointAuthMethod, AllowedOrigins: b.AllowedOrigins,
		OrganizationRequireBehavior: b.OrganizationRequireBehavior})
	if err != nil {
		return renameFields(err, clientFields)
	}
	return ok(w, viewClient(c))
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteClient(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// A new secret is the client's power in the caller's hands.
	old, err := h.S.Client(ctx, pathVar(r, "id"))
	if err != nil {
		return err
	}
	power, err := h.clientPower(ctx, old)
	if err != nil {
		return err
	}
	if err := mayGrant(ctx, power); err != nil {
		return err
	}
	cc, err := h.S.RotateClientSecret(ctx, old.ID)
	if err != nil {
		return err
	}
	c, err := h.S.Client(ctx, cc.ClientID)
	if err != nil {
		return err
	}
	return ok(w, clientWithSecret{clientView: viewClient(c), ClientSecret: cc.ClientSecret})
}
