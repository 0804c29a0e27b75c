package login

import (
	"net/http"

	"github.com/authio/authio/httpx"
)

// failed answers a hosted-page request that failed on our side: logged at error level with the request id and
// the underlying error, and a page with 503 (and Retry-After) when the database or the cache failed, 500
// otherwise. It is never a form error: "wrong email or password" or "not registered" would be untrue.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	if httpx.IsUnavailable(err) {
		httpx.SetRetryAfter(w, http.StatusServiceUnavailable)
		h.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "We cannot complete this right now. Please try again in a moment.")
		return
	}
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}
