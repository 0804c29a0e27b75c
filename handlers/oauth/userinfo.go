package oauth

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
)

func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_request", "An access token is required.")
		return
	}
	sess := oauth.NewSession("", "")
	use, ar, err := h.Provider.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	if rfc := httpx.OAuthError(err); rfc != nil && rfc.CodeField >= http.StatusInternalServerError {
		httpx.LogFailure(ctx, h.Logger, "userinfo: validating the access token failed", rfc)
		httpx.WriteFailure(w, rfc)
		return
	}
	if err != nil || use != fosite.AccessToken {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") || sess.Subject == "" {
		httpx.WriteBearerError(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope for a user.")
		return
	}
	claims, err := h.S.UserInfo(ctx, sess, ar.GetGrantedScopes())
	if errors.Is(err, oauth.ErrGrantWithdrawn) {
		httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists or has been blocked.")
		return
	} else if err != nil {
		httpx.LogFailure(ctx, h.Logger, "userinfo: loading user failed", err)
		httpx.WriteFailure(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, claims)
}
