package management

import (
	"net/http"
	"time"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// connectionView is a connection in Auth0's shape. strategy is Auth0's name for the kind: "auth0" for the
// password database connection (type password), "google-oauth2", "waad" or "github" for an oidc connection with
// that preset, so Auth0 tooling recognises them; options are the kind's settings, without the secret ones
// (client_secret), which are stored encrypted and never returned.
// enabled_clients is omitted: every client of the tenant may use every enabled connection.
type connectionView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Strategy  string         `json:"strategy"`
	Enabled   bool           `json:"enabled"`
	Options   map[string]any `json:"options"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ConnectionJSON is a connection as the Management API shows it (Auth0's shape); the CLI prints the same.
func ConnectionJSON(c storage.Connection) any { return viewConnection(c) }

func viewConnection(c storage.Connection) connectionView {
	return connectionView{ID: c.ID, Name: c.Name, Strategy: signin.StrategyOfConnection(c), Enabled: c.Enabled,
		Options: orEmpty(c.Settings), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

// connectionBody is a POST (name and strategy required) or a PATCH (enabled, options).
type connectionBody struct {
	Name     *string         `json:"name"`
	Strategy *string         `json:"strategy"`
	Enabled  *bool           `json:"enabled"`
	Options  *map[string]any `json:"options"`
}

// listConnections serves GET /connections, filtered by ?name= and ?strategy= (Auth0's filters), in creation
// order: an offset page (page, per_page, include_totals), or with from or take a checkpoint page,
// {"connections": [...], "next": cursor} without next on the last page.
func (h *Handler) listConnections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := parseCheckpoint(q)
	if err != nil {
		return err
	}
	var p paging
	if !c.on {
		if p, err = parsePaging(q); err != nil {
			return err
		}
	}
	list, err := h.S.ListConnections(r.Context(), q.Get("name"), q.Get("strategy"))
	if err != nil {
		return err
	}
	if c.on {
		page, next, err := directory.PageFrom(list, c.from, c.take, func(c storage.Connection) (time.Time, string) { return c.CreatedAt, c.ID })
		if err != nil {
			return asQueryError(err)
		}
		writeCheckpoint(w, "connections", mapSlice(page, viewConnection), next)
		return nil
	}
	writeList(w, p, "connections", mapSlice(directory.Paginate(list, p.store()), viewConnection), int64(len(list)))
	return nil
}

// createConnection serves POST /connections; only strategies with a registered kind are accepted (400 otherwise).
func (h *Handler) createConnection(w http.ResponseWriter, r *http.Request) error {
	var b connectionBody
	if err := decode(r, &b); err != nil {
		return err
	}
	c, err := h.S.CreateConnection(r.Context(), signin.ConnectionSpec{Name: deref(b.Name), Strategy: deref(b.Strategy),
		Settings: deref(b.Options), Enabled: b.Enabled})
	if err != nil {
		return err
	}
	return created(w, viewConnection(c))
}

// getConnection serves GET /connections/{id}.
func (h *Handler) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := h.S.GetConnection(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewConnection(c))
}

// updateConnection serves PATCH /connections/{id}: enabled and options change; name and strategy cannot (400).
func (h *Handler) updateConnection(w http.ResponseWriter, r *http.Request) error {
	var b connectionBody
	if err := decode(r, &b); err != nil {
		return err
	}
	c, err := h.S.UpdateConnection(r.Context(), pathVar(r, "id"), signin.ConnectionUpdate{Name: b.Name, Strategy: b.Strategy,
		Enabled: b.Enabled, Settings: b.Options})
	if err != nil {
		return err
	}
	return ok(w, viewConnection(c))
}

// deleteConnection serves DELETE /connections/{id}: 202 with no body, as Auth0 answers ("the connection is being
// deleted"; here it is gone when the answer comes). The default password connection is refused with a 400.
func (h *Handler) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteConnection(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	return nil
}
