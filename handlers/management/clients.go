package management

import (
	"net/http"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// clientView never carries the secret hash. Field names are Auth0's where Auth0 has the concept.
type clientView struct {
	ClientID          string    `json:"client_id"`
	Name              string    `json:"name"`
	Type              string    `json:"type"`
	Callbacks         []string  `json:"callbacks"`
	AllowedLogoutURLs []string  `json:"allowed_logout_urls"`
	GrantTypes        []string  `json:"grant_types"`
	Audiences         []string  `json:"audiences"`
	Scopes            []string  `json:"scopes"`
	WebOrigins        []string  `json:"web_origins"`
	OrganizationUsage string    `json:"organization_usage"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
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
	return clientView{ClientID: c.ID, Name: c.Name, Type: c.Type, Callbacks: list(c.RedirectURIs),
		AllowedLogoutURLs: list(c.PostLogoutRedirectURIs), GrantTypes: list(c.GrantTypes), Audiences: list(c.Audiences),
		Scopes: list(c.Scopes), WebOrigins: list(c.WebOrigins), OrganizationUsage: c.OrganizationUsage,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// clientFields are the API's names of the fields the server's client validation names after CLI flags.
var clientFields = map[string]string{
	"redirect-uri": "callbacks", "post-logout-redirect-uri": "allowed_logout_urls", "grant": "grant_types",
	"audience": "audiences", "scope": "scopes", "web-origin": "web_origins",
}

type clientBody struct {
	Name              *string   `json:"name"`
	Type              *string   `json:"type"`
	Callbacks         *[]string `json:"callbacks"`
	AllowedLogoutURLs *[]string `json:"allowed_logout_urls"`
	GrantTypes        *[]string `json:"grant_types"`
	Audiences         *[]string `json:"audiences"`
	Scopes            *[]string `json:"scopes"`
	WebOrigins        *[]string `json:"web_origins"`
	OrganizationUsage *string   `json:"organization_usage"`
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	cs, err := h.S.ListClients(r.Context())
	if err != nil {
		return err
	}
	writeList(w, p, "clients", mapSlice(directory.Paginate(cs, p.store()), viewClient), int64(len(cs)))
	return nil
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request) error {
	var b clientBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	cc, err := h.S.CreateClient(ctx, directory.ClientSpec{Name: deref(b.Name), Type: deref(b.Type), RedirectURIs: deref(b.Callbacks),
		PostLogoutRedirectURIs: deref(b.AllowedLogoutURLs), GrantTypes: deref(b.GrantTypes), Audiences: deref(b.Audiences),
		Scopes: deref(b.Scopes), WebOrigins: deref(b.WebOrigins), OrganizationUsage: deref(b.OrganizationUsage)})
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
	c, err := h.S.UpdateClient(r.Context(), pathVar(r, "id"), directory.ClientUpdate{Name: b.Name, Type: b.Type, RedirectURIs: b.Callbacks,
		PostLogoutRedirectURIs: b.AllowedLogoutURLs, GrantTypes: b.GrantTypes, Audiences: b.Audiences, Scopes: b.Scopes,
		WebOrigins: b.WebOrigins, OrganizationUsage: b.OrganizationUsage})
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
	cc, err := h.S.RotateClientSecret(ctx, pathVar(r, "id"))
	if err != nil {
		return err
	}
	c, err := h.S.Client(ctx, cc.ClientID)
	if err != nil {
		return err
	}
	return ok(w, clientWithSecret{clientView: viewClient(c), ClientSecret: cc.ClientSecret})
}
