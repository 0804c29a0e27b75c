package oauth

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Only authenticated clients may introspect. fosite would also accept any active access token as a
	// bearer credential (header or access_token parameter), letting one user's token probe others'.
	if _, _, ok := r.BasicAuth(); !ok || fosite.AccessTokenFromRequest(r) != "" {
		h.introspectionClientError(w, "Client authentication with client_secret_basic is required.")
		return
	}
	if err := bodyParamsOnce(r); err != nil {
		h.Provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	ir, err := h.Provider.NewIntrospectionRequest(ctx, r, oauth.NewSession("", ""))
	if err != nil {
		rfc := httpx.OAuthError(err)
		h.logOAuthError(r, "introspection refused", rfc)
		switch {
		case rfc.CodeField >= http.StatusInternalServerError:
			// A token that could not be looked up is not inactive, and a client that could not be loaded did
			// not fail to authenticate: the resource server must not act on either answer.
			httpx.SetRetryAfter(w, rfc.CodeField)
			h.Provider.WriteAccessError(ctx, w, nil, rfc)
		case errors.Is(err, fosite.ErrInactiveToken):
			// Unknown, foreign, expired or revoked tokens (RFC 7662 §2.2).
			h.Provider.WriteIntrospectionError(ctx, w, err)
		case errors.Is(err, fosite.ErrRequestUnauthorized):
			// fosite's request_unauthorized for an unknown client, a wrong secret or a public client.
			h.introspectionClientError(w, "Client authentication failed.")
		default:
			h.Provider.WriteIntrospectionError(ctx, w, err)
		}
		return
	}
	h.Provider.WriteIntrospectionResponse(ctx, w, ir)
}

// introspectionClientError refuses a caller that did not authenticate as a client. RFC 7662 §2.1 asks for RFC
// 6749 client authentication, whose failure is invalid_client with 401 and a challenge (RFC 6749 §5.2).
func (h *Handler) introspectionClientError(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
	httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": fosite.ErrInvalidClient.ErrorField,
		"error_description": desc})
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	// fosite answers a failed token lookup with a bare temporarily_unavailable; the failure log keeps what
	// failed for ours.
	ctx := storage.WithFailureLog(r.Context())
	r = r.WithContext(ctx)
	err := jsonAsForm(r)
	if err == nil {
		err = bodyParamsOnce(r)
	}
	if err != nil {
		writeJSONError(w, err)
		return
	}
	err = h.Provider.NewRevocationRequest(ctx, r)
	if err != nil {
		rfc := httpx.OAuthError(err)
		h.logOAuthError(r, "revocation refused", rfc)
		if rfc.CodeField >= http.StatusInternalServerError {
			// fosite's writer would answer 200 (or invalid_client): RFC 7009 §2.2.1 lets a server that could not
			// revoke say so, and the client must retry, since the token may still be valid.
			httpx.SetRetryAfter(w, rfc.CodeField)
			h.Provider.WriteAccessError(ctx, w, nil, rfc)
			return
		}
	}
	h.Provider.WriteRevocationResponse(ctx, w, err)
}
