package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/memo"
)

// metadata is the OpenID Provider / RFC 8414 metadata of a tenant reached at base ({scheme}://{host}, the
// issuer without its trailing slash) that signs with alg.
func metadata(base, alg string) map[string]any {
	iss := base
	return map[string]any{
		"issuer":                                         base + "/",
		"authorization_endpoint":                         iss + "/authorize",
		"token_endpoint":                                 iss + "/oauth/token",
		"userinfo_endpoint":                              iss + "/userinfo",
		"jwks_uri":                                       iss + "/.well-known/jwks.json",
		"introspection_endpoint":                         iss + "/oauth/introspect",
		"revocation_endpoint":                            iss + "/oauth/revoke",
		"end_session_endpoint":                           iss + "/oidc/logout",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query", "form_post", string(oauth.ResponseModeWebMessage)},
		"grant_types_supported":                          oauth.GrantTypesSupported(),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{alg},
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

// metadataTemplate is the metadata of one kind (OIDC discovery or RFC 8414) and signing algorithm, serialized
// once with a placeholder for the base URL and cut around it: every tenant's document is these parts with its
// base URL between them. So discovery costs no serialization per request, and no memory per tenant however many
// tenants and Host headers (port included, the client's choice) there are.
type metadataTemplate [][]byte

// basePlaceholder stands for the base URL while the template is serialized; no host name can contain it.
const basePlaceholder = "\x00"

func newMetadataTemplate(alg string) (metadataTemplate, error) {
	body, err := json.Marshal(metadata(basePlaceholder, alg))
	if err != nil {
		return nil, err
	}
	return bytes.Split(body, []byte(`\u0000`)), nil // how encoding/json writes the placeholder
}

// appendTo appends the document for base to dst.
func (m metadataTemplate) appendTo(dst []byte, base string) ([]byte, error) {
	escaped := []byte(base)
	if !plainJSON(base) {
		quoted, err := json.Marshal(base)
		if err != nil {
			return dst, err
		}
		escaped = quoted[1 : len(quoted)-1]
	}
	for i, part := range m {
		if i > 0 {
			dst = append(dst, escaped...)
		}
		dst = append(dst, part...)
	}
	return dst, nil
}

// plainJSON reports whether encoding/json writes s as it is, between its quotes (a base URL always is: a scheme,
// a canonical host name and a port).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// serveMetadata serves the metadata from its template (memo.Discovery): discovery is requested on every SDK
// start-up.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, kind string) {
	t := server.TenantFromContext(r.Context())
	tpl, err := memo.Get(r.Context(), h.Memo, memo.Discovery, "", templateKey(kind, t.SigningAlg),
		func(context.Context) (metadataTemplate, int, error) {
			tpl, err := newMetadataTemplate(t.SigningAlg)
			return tpl, memo.SizeOf(tpl), err
		})
	if err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "serializing the discovery document failed", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	buf, _ := h.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer h.bufs.Put(buf)
	*buf, err = tpl.appendTo((*buf)[:0], t.BaseURL)
	if err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "writing the discovery document failed", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	writeCachedJSON(w, *buf)
}

// templateKey names the template of a kind of metadata for a signing algorithm, without building a string on
// every request for the usual ones.
func templateKey(kind, alg string) string {
	switch {
	case kind == "oidc" && alg == keys.AlgRS256:
		return "oidc|RS256"
	case kind == "oidc" && alg == keys.AlgES256:
		return "oidc|ES256"
	case kind == "oauth" && alg == keys.AlgRS256:
		return "oauth|RS256"
	case kind == "oauth" && alg == keys.AlgES256:
		return "oauth|ES256"
	}
	return kind + "|" + alg
}

func writeCachedJSON(w http.ResponseWriter, body []byte) {
	setCachedJSON(w)
	_, _ = w.Write(body)
}

func setCachedJSON(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
}

func (h *Handler) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, "oidc")
}

func (h *Handler) authorizationServerMetadata(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, "oauth")
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	if t := server.TenantFromContext(r.Context()); t != nil && t.JWKS != "" {
		setCachedJSON(w)
		_, _ = io.WriteString(w, t.JWKS) // resolved with the host, from the same cache entry: no copy
		return
	}
	jwks, err := h.Keys.JWKS(r.Context())
	if err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "loading signing keys failed", err)
		httpx.WriteFailure(w, err)
		return
	}
	writeCachedJSON(w, jwks)
}
