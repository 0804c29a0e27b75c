package management_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// TestDeleteConnection: DELETE /api/v2/connections/{id} answers 202 as Auth0 does, removes the connection with the
// identities linked through it, and audits it; the default password connection is refused (400 saying why);
// another tenant's connection does not exist here (404); the scope is delete:connections.
func TestDeleteConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		made := obj(t, f.must(t, http.StatusCreated, "POST", "/connections", map[string]any{"name": "staff-db", "strategy": "auth0"}))
		id := made["id"].(string)
		// An identity linked through it, to see it go with the connection.
		users := newUsers(f.acme, "linked@acme.test")
		now := time.Now().UTC()
		if err := f.env.S.Store.LinkIdentity(f.acme.Ctx, storage.Identity{ID: "idn_staff", ConnectionID: id, Subject: "s-1",
			UserID: users[0], CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		globexCon := obj(t, decode(t, f.globex.API(t, f.c, "POST", "/connections", f.globexKey,
			map[string]any{"name": "globex-db", "strategy": "auth0"}), http.StatusCreated))

		// The scope: read:connections alone is refused.
		reader := managementClient(f.acme, "read:connections")
		if r := f.acme.API(t, f.c, "DELETE", "/connections/"+id, f.managementToken(t, f.acme, reader, "read:connections"), nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("DELETE with read:connections only: status %d, want 403", r.StatusCode)
		}
		// Another tenant's connection, by its id: not here.
		wantError(t, f.api(t, "DELETE", "/connections/"+globexCon["id"].(string), nil), http.StatusNotFound, "connection_not_found")
		// By name: ids only.
		wantError(t, f.api(t, "DELETE", "/connections/staff-db", nil), http.StatusNotFound, "connection_not_found")

		// The default password connection holds the users' passwords.
		list := arr(t, f.must(t, http.StatusOK, "GET", "/connections?name="+storage.DefaultPasswordConnection, nil))
		defID := obj(t, list[0])["id"].(string)
		wantError(t, f.api(t, "DELETE", "/connections/"+defID, nil), http.StatusBadRequest, "invalid_body", "default password connection", "disable")

		deleter := managementClient(f.acme, "delete:connections")
		r := f.acme.API(t, f.c, "DELETE", "/connections/"+id, f.managementToken(t, f.acme, deleter, "delete:connections"), nil)
		if r.StatusCode != http.StatusAccepted || r.Body != "" {
			t.Fatalf("DELETE /connections/%s: status %d body %q, want 202 and no body", id, r.StatusCode, r.Body)
		}
		wantError(t, f.api(t, "GET", "/connections/"+id, nil), http.StatusNotFound, "connection_not_found")
		wantError(t, f.api(t, "DELETE", "/connections/"+id, nil), http.StatusNotFound, "connection_not_found")
		if is, err := f.env.S.Store.ListIdentities(f.acme.Ctx, users[0]); err != nil || len(is) != 0 {
			t.Errorf("identities through the deleted connection: %v %v", is, err)
		}
		if _, err := f.env.S.Store.GetConnection(f.globex.Ctx, globexCon["id"].(string)); err != nil {
			t.Errorf("globex's connection: %v", err)
		}
		evs, _, err := f.env.S.AuditLog(f.acme.Ctx, directory.LogQuery{Type: signin.EventConnectionDeleted})
		if err != nil || len(evs) != 1 || evs[0].Data["connection_id"] != id || evs[0].Data["name"] != "staff-db" {
			t.Errorf("audit: %+v %v, want one connection.deleted for %s", evs, err, id)
		}
	})
}
