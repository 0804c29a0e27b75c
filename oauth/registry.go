package oauth

import (
	"strings"

	"github.com/ory/fosite/compose"
)

// The registry of what the token endpoint serves. One list says which grant types exist, which fosite
// factories serve each, which spellings clients and the CLI may use and who may use them; the token endpoint's
// unsupported_grant_type check, client validation and discovery all read it, so they cannot disagree.

// GrantTokenExchange is RFC 8693's grant type; Authio uses it to switch a user's active organization.
const GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// GrantType is one grant type the token endpoint serves.
type GrantType struct {
	// Name is the grant_type value (RFC 6749 §4, RFC 8693 §2.1).
	Name string
	// Aliases are other spellings accepted when a client is created or updated (the CLI's token_exchange).
	Aliases []string
	// ConfidentialOnly grants need a client that authenticates (client credentials, RFC 6749 §4.4).
	ConfidentialOnly bool
	// Factories are the fosite handlers serving the grant, composed in this order; Authio's own handlers
	// (token exchange, the claims builder) are added by the server, which they need.
	Factories []compose.Factory
}

// grantRegistry lists the grant types in the order discovery advertises them.
var grantRegistry = []GrantType{
	{Name: "authorization_code", Factories: []compose.Factory{compose.OAuth2AuthorizeExplicitFactory,
		compose.OpenIDConnectExplicitFactory, compose.OAuth2PKCEFactory}},
	{Name: "refresh_token", Factories: []compose.Factory{compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectRefreshFactory}},
	{Name: "client_credentials", ConfidentialOnly: true, Factories: []compose.Factory{compose.OAuth2ClientCredentialsGrantFactory}},
	{Name: GrantTokenExchange, Aliases: []string{"token_exchange", "token-exchange"}},
}

// GrantTypes returns the registered grant types (a copy).
func GrantTypes() []GrantType { return append([]GrantType(nil), grantRegistry...) }

// GrantTypesSupported returns the names of the grant types the token endpoint serves (discovery's
// grant_types_supported, RFC 8414 §2).
func GrantTypesSupported() []string {
	out := make([]string, len(grantRegistry))
	for i, g := range grantRegistry {
		out[i] = g.Name
	}
	return out
}

// LookupGrantType finds a grant type by its name or one of its aliases.
func LookupGrantType(name string) (GrantType, bool) {
	for _, g := range grantRegistry {
		if g.Name == name {
			return g, true
		}
		for _, a := range g.Aliases {
			if a == name {
				return g, true
			}
		}
	}
	return GrantType{}, false
}

// IsGrantTypeSupported reports whether the token endpoint serves grant_type name (aliases are not grant_type
// values: a token request must use the registered name).
func IsGrantTypeSupported(name string) bool {
	for _, g := range grantRegistry {
		if g.Name == name {
			return true
		}
	}
	return false
}

// ScopesSupported are the scopes every tenant knows (discovery's scopes_supported): openid, the OIDC Core
// §5.4 scopes whose claims the builder returns, and offline_access for refresh tokens.
func ScopesSupported() []string {
	out := []string{"openid"}
	for _, sc := range scopeClaims {
		out = append(out, sc.scope)
	}
	return append(out, "offline_access")
}

// ClaimsSupported are the claims ID tokens and userinfo may carry (discovery's claims_supported): the
// registered token claims users see and every claim a scope returns.
func ClaimsSupported() []string {
	out := append([]string(nil), idTokenClaims...)
	for _, sc := range scopeClaims {
		out = append(out, sc.claims...)
	}
	return out
}

// GrantSpellings lists the grant types as people type them (an alias when there is one), for error messages.
func GrantSpellings() string {
	names := make([]string, len(grantRegistry))
	for i, g := range grantRegistry {
		names[i] = g.Name
		if len(g.Aliases) > 0 {
			names[i] = g.Aliases[0]
		}
	}
	return strings.Join(names, ", ")
}

// Default token lifetimes (seconds) of resource servers that do not set their own, and the longest one may set.
const (
	DefaultResourceTokenLifetime   = 300            // 5 minutes
	DefaultResourceRefreshLifetime = 30 * 24 * 3600 // 30 days
	MaxResourceTokenLifetime       = 24 * 3600      // keeps the key-retirement window bounded
)
