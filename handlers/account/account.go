// Package account serves what a signed-in user may do with their own access token: read their profile and
// memberships (/v1/me) and switch the active organization without signing in again
// (/v1/sessions/switch-org). Nothing here reveals other users.
package account

import (
	"log/slog"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/server"
)

// Handler serves the account endpoints. Routes must run behind server.ResolveTenant.
type Handler struct {
	S      *server.Server
	Logger *slog.Logger
	Now    func() time.Time
}

// Mount registers the account endpoints on r.
func (h *Handler) Mount(r *mux.Router) {
	_ = r
}
