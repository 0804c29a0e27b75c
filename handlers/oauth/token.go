package oauth

import (
	"net/http"

	"github.com/ory/fosite"

	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
)

// TokenTypeBearer is the token_type of every token response (RFC 6749 §5.1, RFC 6750 §6.1.1), spelled as the
// authentication scheme is.
const TokenTypeBearer = "Bearer"

func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := oauth.NewSession("", "")
	err := jsonAsForm(r)
	if err == nil {
		err = bodyParamsOnce(r)
	}
	if err != nil {
		h.Provider.WriteAccessError(ctx, w, fosite.NewAccessRequest(sess), err)
		return
	}
	if gt := r.PostFormValue("grant_type"); gt != "" && !oauth.IsGrantTypeSupported(gt) {
		// fosite answers an unknown grant type with invalid_request; RFC 6749 §5.2 names the error.
		err := fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt)
		h.Provider.WriteAccessError(ctx, w, fosite.NewAccessRequest(sess), err)
		return
	}
	// The composition validates the grant and builds the claims of its tokens (server.claimsHandler).
	ar, err := h.Provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		h.accessError(w, r, ar, "token request refused", err)
		return
	}
	grant := "unknown"
	if gt := ar.GetGrantTypes(); len(gt) == 1 {
		grant = gt[0]
	}
	resp, err := h.Provider.NewAccessResponse(ctx, ar)
	if err != nil {
		h.accessError(w, r, ar, "token response failed", err)
		return
	}
	// RFC 6750's scheme name, as every grant's response spells it: fosite's handlers (and Authio's, after them)
	// write "bearer", which RFC 6749 §7.1 lets clients read either way but some SDKs compare exactly.
	resp.SetTokenType(TokenTypeBearer)
	h.Metrics.TokensIssued.WithLabelValues(server.TenantFromContext(ctx).Slug, grant).Inc()
	h.Provider.WriteAccessResponse(ctx, w, ar, resp)
}
