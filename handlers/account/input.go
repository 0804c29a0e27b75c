package account

import (
	"net/http"

	"github.com/authio/authio/httpx"
)

// RefuseInput answers a request httpx.CheckInput refused: 400 invalid_request naming the field, the JSON
// error shape of these endpoints, with their CORS headers so a browser app can read it.
func (h *Handler) RefuseInput(w http.ResponseWriter, r *http.Request, e *httpx.InputError) {
	h.S.CORS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": e.Error()})
	}), "").ServeHTTP(w, r)
}
