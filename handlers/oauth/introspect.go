package oauth

import (
	"net/http"

	"github.com/ory/fosite"

	"github.com/authio/authio/server"
)

func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Only authenticated clients may introspect. fosite would also accept any active access token as a
	// bearer credential (header or access_token parameter), letting one user's token probe others'.
	if _, _, ok := r.BasicAuth(); !ok || fosite.AccessTokenFromRequest(r) != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
		server.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client",
			"error_description": "Client authentication with client_secret_basic is required."})
		return
	}
	if err := bodyParamsOnce(r); err != nil {
		h.S.Provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	ir, err := h.S.Provider.NewIntrospectionRequest(ctx, r, server.NewSession("", ""))
	if err != nil {
		// fosite answers {"active":false} for unknown, foreign, expired or revoked tokens, and a JSON error
		// (401) only when the caller itself is not authenticated.
		h.logOAuthError(r, "introspection refused", err)
		h.S.Provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	h.S.Provider.WriteIntrospectionResponse(ctx, w, ir)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := bodyParamsOnce(r); err != nil {
		writeJSONError(w, err)
		return
	}
	err := h.S.Provider.NewRevocationRequest(ctx, r)
	if err != nil {
		h.logOAuthError(r, "revocation refused", err)
	}
	h.S.Provider.WriteRevocationResponse(ctx, w, err)
}

// logOAuthError logs the detail of a refused OAuth request that the client only sees as an RFC error.
func (h *Handler) logOAuthError(r *http.Request, msg string, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	level := h.Logger.Debug
	// A client that hung up cancels the request context; that is not a server fault.
	if rfc.CodeField >= 500 && r.Context().Err() == nil {
		level = h.Logger.Error
	}
	level(msg, "request_id", server.RequestIDFromContext(r.Context()), "error", rfc.ErrorField, "hint", rfc.HintField, "debug", rfc.DebugField)
}
