package management

import (
	"net/http"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

type resourceServerView struct {
	ID                   string          `json:"id"`
	Identifier           string          `json:"identifier"`
	Name                 string          `json:"name"`
	Scopes               []storage.Scope `json:"scopes"`
	TokenLifetime        int             `json:"token_lifetime"`
	RefreshTokenLifetime int             `json:"refresh_token_lifetime"`
	Metadata             map[string]any  `json:"metadata"`
	IsSystem             bool            `json:"is_system"`
}

func viewResourceServer(rs storage.ResourceServer) resourceServerView {
	scopes := []storage.Scope(rs.Scopes)
	if scopes == nil {
		scopes = []storage.Scope{}
	}
	return resourceServerView{ID: rs.ID, Identifier: rs.Identifier, Name: rs.Name, Scopes: scopes, TokenLifetime: rs.TokenLifetime,
		RefreshTokenLifetime: rs.RefreshLifetime, Metadata: orEmpty(rs.Metadata), IsSystem: rs.Identifier == directory.ManagementAudience}
}

type resourceServerBody struct {
	Identifier           *string          `json:"identifier"`
	Name                 *string          `json:"name"`
	Scopes               *[]storage.Scope `json:"scopes"`
	TokenLifetime        *int             `json:"token_lifetime"`
	RefreshTokenLifetime *int             `json:"refresh_token_lifetime"`
	Metadata             *map[string]any  `json:"metadata"`
}

func (h *Handler) listResourceServers(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	list, n, err := h.S.ListResourceServers(r.Context(), p.store())
	if err != nil {
		return err
	}
	writeList(w, p, "resource_servers", mapSlice(list, viewResourceServer), n)
	return nil
}

func (h *Handler) createResourceServer(w http.ResponseWriter, r *http.Request) error {
	var b resourceServerBody
	if err := decode(r, &b); err != nil {
		return err
	}
	rs, err := h.S.CreateResourceServer(r.Context(), directory.ResourceServerSpec{Identifier: deref(b.Identifier), Name: deref(b.Name),
		Scopes: deref(b.Scopes), TokenLifetime: deref(b.TokenLifetime), RefreshTokenLifetime: deref(b.RefreshTokenLifetime),
		Metadata: deref(b.Metadata)})
	if err != nil {
		return err
	}
	return created(w, viewResourceServer(rs))
}

func (h *Handler) getResourceServer(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.S.ResourceServerByRef(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewResourceServer(rs))
}

func (h *Handler) updateResourceServer(w http.ResponseWriter, r *http.Request) error {
	var b resourceServerBody
	if err := decode(r, &b); err != nil {
		return err
	}
	rs, err := h.S.UpdateResourceServer(r.Context(), pathVar(r, "id"), directory.ResourceServerUpdate{Identifier: b.Identifier, Name: b.Name, Scopes: b.Scopes,
		TokenLifetime: b.TokenLifetime, RefreshTokenLifetime: b.RefreshTokenLifetime, Metadata: b.Metadata})
	if err != nil {
		return err
	}
	return ok(w, viewResourceServer(rs))
}

func (h *Handler) deleteResourceServer(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteResourceServer(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}
