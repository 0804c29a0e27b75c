package login

import (
	"errors"
	"net/http"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/httpx"
)

// failed answers a hosted-page request that failed on our side: logged at error level with the request id and
// the underlying error, and a page with 503 (and Retry-After) when the database or the cache failed, 500
// otherwise, and 502 when an upstream identity provider could not be used (authn.ErrUpstreamUnavailable). It is
// never a form error: "wrong email or password" or "not registered" would be untrue.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	if errors.Is(err, authn.ErrUpstreamUnavailable) {
		h.errorPage(w, r, http.StatusBadGateway, "The identity provider is unreachable",
			"We could not reach the identity provider you chose. Please try again in a moment, or go back and choose another way to sign in.")
		return
	}
	if httpx.IsUnavailable(err) {
		httpx.SetRetryAfter(w, http.StatusServiceUnavailable)
		h.errorPage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "We cannot complete this right now. Please try again in a moment.")
		return
	}
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
}
