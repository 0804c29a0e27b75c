package oauth

import (
	"net/http"

	"github.com/authio/authio/server"
)

func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := server.NewSession("", "")
	ar, err := h.S.Provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		h.logOAuthError(r, "token request refused", err)
		h.S.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	grant := "unknown"
	if gt := ar.GetGrantTypes(); len(gt) == 1 {
		grant = gt[0]
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// RFC 9068: a token issued to a client on its own behalf has the client as its subject.
		sess.ClientID = ar.GetClient().GetID()
		sess.Subject = sess.ClientID
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s)
		}
		grantAudience(ar)
	}
	resp, err := h.S.Provider.NewAccessResponse(ctx, ar)
	if err != nil {
		h.logOAuthError(r, "token response failed", err)
		h.S.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	h.S.Metrics.TokensIssued.WithLabelValues(server.TenantFromContext(ctx).Slug, grant).Inc()
	h.S.Provider.WriteAccessResponse(ctx, w, ar, resp)
}
