package oauth

import (
	"net/http"

	"github.com/authio/authio/httpx"
	"github.com/ory/fosite"
)

// accessError answers a refused or failed token request with the RFC 6749 §5.2 error httpx.OAuthError
// chooses: the client's mistake keeps its error, a failure of ours is server_error or temporarily_unavailable
// (with Retry-After), never invalid_client or invalid_grant.
func (h *Handler) accessError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, msg string, err error) {
	rfc := httpx.OAuthError(err)
	h.logOAuthError(r, msg, rfc)
	httpx.SetRetryAfter(w, rfc.CodeField)
	h.Provider.WriteAccessError(r.Context(), w, ar, rfc)
}

// logOAuthError logs the detail of an OAuth request that the client only sees as an RFC error: a failure of
// ours at error level with the underlying error, a refusal at debug level.
func (h *Handler) logOAuthError(r *http.Request, msg string, err error) {
	rfc := httpx.OAuthError(err)
	if rfc.CodeField >= http.StatusInternalServerError {
		httpx.LogFailure(r.Context(), h.Logger, msg, rfc)
		return
	}
	h.Logger.Debug(msg, "request_id", httpx.RequestIDFromContext(r.Context()), "error", rfc.ErrorField, "hint", rfc.HintField, "debug", rfc.DebugField)
}
