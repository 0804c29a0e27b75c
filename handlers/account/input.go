package account

import (
	"net/http"

	"github.com/authio/authio/server"
)

// RefuseInput answers a request server.CheckInput refused: 400 invalid_request naming the field, the JSON
// error shape of these endpoints, with their CORS headers so a browser app can read it.
func (h *Handler) RefuseInput(w http.ResponseWriter, r *http.Request, e *server.InputError) {
	h.S.CORS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		server.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": e.Error()})
	}), "").ServeHTTP(w, r)
}
