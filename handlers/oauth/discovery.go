package oauth

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/memo"
)

// metadata is the tenant's OpenID Provider / RFC 8414 metadata for the issuer the request came in on.
func (h *Handler) metadata(t *server.Tenant) map[string]any {
	iss := t.BaseURL
	return map[string]any{
		"issuer":                                         t.Issuer,
		"authorization_endpoint":                         iss + "/authorize",
		"token_endpoint":                                 iss + "/oauth/token",
		"userinfo_endpoint":                              iss + "/userinfo",
		"jwks_uri":                                       iss + "/.well-known/jwks.json",
		"introspection_endpoint":                         iss + "/oauth/introspect",
		"revocation_endpoint":                            iss + "/oauth/revoke",
		"end_session_endpoint":                           iss + "/oidc/logout",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query", "form_post"},
		"grant_types_supported":                          oauth.GrantTypesSupported(),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{t.SigningAlg},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                               oauth.ScopesSupported(),
		"claims_supported":                               oauth.ClaimsSupported(),
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"claims_parameter_supported":                     false,
		"prompt_values_supported":                        []string{"none", "login"},
		"frontchannel_logout_supported":                  false,
		"backchannel_logout_supported":                   false,
	}
}

// serveMetadata serves the metadata, serialized once per issuer and signing algorithm (memo.Discovery): discovery
// is requested on every SDK start-up. The Host header, port included, is the client's choice, so these entries
// are many for a client that wants them to be: the cache's byte bound holds them like any other entry.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, kind string) {
	t := server.TenantFromContext(r.Context())
	body, err := memo.Get(r.Context(), h.Memo, memo.Discovery, t.ID, kind+"|"+t.Issuer+"|"+t.SigningAlg,
		func(context.Context) ([]byte, int, error) {
			body, err := json.Marshal(h.metadata(t))
			return body, cap(body), err
		})
	if err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "serializing the discovery document failed", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	writeCachedJSON(w, body)
}

func writeCachedJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(body)
}

func (h *Handler) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, "oidc")
}

func (h *Handler) authorizationServerMetadata(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, "oauth")
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	jwks, err := h.Keys.JWKS(r.Context())
	if err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "loading signing keys failed", err)
		httpx.WriteFailure(w, err)
		return
	}
	writeCachedJSON(w, jwks)
}
