package oauth

import (
	"net/http"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
)

// RefuseInput answers a request httpx.CheckInput refused, as each endpoint answers a malformed request
// (RFC 6749 invalid_request naming the parameter): /authorize with the error page, never a redirect, since the
// redirect URI may be the bad input itself; the token and introspection endpoints through fosite's writers; the
// others (revocation, whose fosite writer drops the description, userinfo, discovery) with the same JSON. The
// endpoints served to browser apps keep their CORS headers, so the app can read the answer.
func (h *Handler) RefuseInput(w http.ResponseWriter, r *http.Request, e *httpx.InputError) {
	ctx := r.Context()
	err := fosite.ErrInvalidRequest.WithHint(e.Error())
	switch r.URL.Path {
	case "/authorize":
		h.authorizeError(w, r, nil, err)
	case "/oauth/introspect":
		h.Provider.WriteIntrospectionError(ctx, w, err)
	case "/oauth/token":
		h.cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h.Provider.WriteAccessError(ctx, w, fosite.NewAccessRequest(oauth.NewSession("", "")), err)
		}), "").ServeHTTP(w, r)
	default:
		h.cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": e.Error()})
		}), "").ServeHTTP(w, r)
	}
}
