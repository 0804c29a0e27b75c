// Package oidc is the upstream sign-in kind (connection type "oidc"): the browser goes to an OpenID Connect
// provider, or to GitHub's OAuth 2.0, and comes back on the tenant's callback with a code. Authorization code
// with PKCE (S256), state (the sign-in flow's id) and nonce; the ID token is verified with go-oidc (issuer,
// audience, expiry, signature with an algorithm the provider's discovery lists) and the nonce checked here.
//
// Presets fill in a provider's settings: "google" (issuer https://accounts.google.com), "microsoft" (the
// Microsoft identity platform v2.0; a multi-tenant authority is validated against the token's own tid) and
// "github" (OAuth 2.0 with the user and email APIs). Presets are stored as type oidc with the setting preset;
// the Management API shows and accepts them under Auth0's strategy names (StrategyOf, PresetOfStrategy).
//
// The PKCE verifier and the nonce are not stored: both are derived with a server key from the connection and
// the flow id, so only this server can compute them and only for the flow that started the sign-in.
package oidc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/storage"
)

// Type is the connection type of this kind.
const Type = storage.ConnectionOIDC

// Presets (the setting preset).
const (
	PresetGeneric   = ""
	PresetGoogle    = "google"
	PresetMicrosoft = "microsoft"
	PresetGitHub    = "github"
)

// Setting names. SettingClientSecret is the one secret setting (SecretSettings): stored sealed, never shown.
const (
	SettingPreset                = "preset"
	SettingIssuer                = "issuer"
	SettingClientID              = "client_id"
	SettingClientSecret          = "client_secret"
	SettingScopes                = "scopes"
	SettingDisplayName           = "display_name"
	SettingTenant                = "tenant"                 // microsoft: common, organizations, consumers or a tenant id
	SettingAuthority             = "authority"              // microsoft: https://login.microsoftonline.com, or a national cloud's
	SettingAuthorizationEndpoint = "authorization_endpoint" // github: https://github.com/login/oauth/authorize
	SettingTokenEndpoint         = "token_endpoint"         // github: https://github.com/login/oauth/access_token
	SettingAPIBaseURL            = "api_base_url"           // github: https://api.github.com
)

// SecretSettings are the settings of this kind that hold secrets (see authn.Registry.Register).
var SecretSettings = []string{SettingClientSecret}

// Defaults of the presets.
const (
	GoogleIssuer            = "https://accounts.google.com"
	MicrosoftAuthority      = "https://login.microsoftonline.com"
	GitHubAuthorizeEndpoint = "https://github.com/login/oauth/authorize"
	GitHubTokenEndpoint     = "https://github.com/login/oauth/access_token"
	GitHubAPI               = "https://api.github.com"
)

// Auth0's strategy names of the presets.
var strategies = map[string]string{PresetGoogle: "google-oauth2", PresetMicrosoft: "waad", PresetGitHub: "github"}

// StrategyOf is the Auth0 strategy of an oidc connection with these settings: "google-oauth2", "waad" (Auth0's
// strategy for Microsoft work and school accounts) or "github" for a preset, "" for a generic one.
func StrategyOf(settings map[string]any) string {
	p, _ := settings[SettingPreset].(string)
	return strategies[p]
}

// PresetOfStrategy is the preset an Auth0 strategy stands for ("" when it is none of them).
func PresetOfStrategy(strategy string) string {
	for p, s := range strategies {
		if s == strategy {
			return p
		}
	}
	return ""
}

// settings are a connection's decoded settings, defaults filled in.
type settings struct {
	preset       string
	issuer       string // OIDC: the expected issuer (Microsoft: authority/tenant/v2.0, possibly multi-tenant)
	clientID     string
	clientSecret string
	scopes       []string
	displayName  string
	// Microsoft.
	tenant, authority string
	// GitHub.
	authorizeURL, tokenURL, apiURL string
}

// oidcProvider reports whether the connection speaks OpenID Connect (every preset but GitHub).
func (s settings) oidcProvider() bool { return s.preset != PresetGitHub }

// discoveryURL is where the provider's metadata is (OpenID Connect Discovery 1.0 §4).
func (s settings) discoveryURL() string {
	return strings.TrimSuffix(s.issuer, "/") + "/.well-known/openid-configuration"
}

var known = []string{SettingPreset, SettingIssuer, SettingClientID, SettingClientSecret, SettingScopes, SettingDisplayName,
	SettingTenant, SettingAuthority, SettingAuthorizationEndpoint, SettingTokenEndpoint, SettingAPIBaseURL}

// guidRE is a Microsoft tenant id (a GUID, as Microsoft writes them: lower case).
var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// consumersTenant is the tenant id of personal Microsoft accounts.
const consumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// parseSettings decodes and checks settings; the error says what is wrong, for the Management API's 400.
func parseSettings(m map[string]any) (settings, error) {
	var s settings
	for k := range m {
		if !slices.Contains(known, k) {
			return s, fmt.Errorf("unknown setting %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok || v == nil {
			return "", nil
		}
		sv, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s must be a string", name)
		}
		return strings.TrimSpace(sv), nil
	}
	var err error
	get := func(name string) string {
		v, e := str(name)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	s.preset = get(SettingPreset)
	s.issuer = get(SettingIssuer)
	s.clientID = get(SettingClientID)
	s.clientSecret, _ = m[SettingClientSecret].(string) // a secret is taken as given, spaces included
	if v, ok := m[SettingClientSecret]; ok && v != nil {
		if _, isString := v.(string); !isString && err == nil {
			err = fmt.Errorf("%s must be a string", SettingClientSecret)
		}
	}
	s.displayName = get(SettingDisplayName)
	s.tenant = get(SettingTenant)
	s.authority = get(SettingAuthority)
	s.authorizeURL = get(SettingAuthorizationEndpoint)
	s.tokenURL = get(SettingTokenEndpoint)
	s.apiURL = get(SettingAPIBaseURL)
	if err != nil {
		return s, err
	}
	if s.scopes, err = parseScopes(m[SettingScopes]); err != nil {
		return s, err
	}
	if s.clientID == "" {
		return s, fmt.Errorf("%s is required", SettingClientID)
	}
	if len(s.displayName) > 64 {
		return s, fmt.Errorf("%s must be at most 64 characters", SettingDisplayName)
	}
	only := func(preset string, names ...string) error {
		for _, n := range names {
			if _, ok := m[n]; ok {
				return fmt.Errorf("%s applies to the %s preset only", n, preset)
			}
		}
		return nil
	}
	switch s.preset {
	case PresetGeneric:
		if err := only(PresetMicrosoft, SettingTenant, SettingAuthority); err != nil {
			return s, err
		}
		if err := only(PresetGitHub, SettingAuthorizationEndpoint, SettingTokenEndpoint, SettingAPIBaseURL); err != nil {
			return s, err
		}
		if s.issuer == "" {
			return s, fmt.Errorf("%s is required (the provider's issuer URL, whose /.well-known/openid-configuration is read)", SettingIssuer)
		}
		if err := checkURL(SettingIssuer, s.issuer); err != nil {
			return s, err
		}
	case PresetGoogle:
		if err := only(PresetMicrosoft, SettingTenant, SettingAuthority); err != nil {
			return s, err
		}
		if err := only(PresetGitHub, SettingAuthorizationEndpoint, SettingTokenEndpoint, SettingAPIBaseURL); err != nil {
			return s, err
		}
		if s.issuer != "" && s.issuer != GoogleIssuer {
			return s, fmt.Errorf("the google preset's issuer is %s", GoogleIssuer)
		}
		s.issuer = GoogleIssuer
		if s.displayName == "" {
			s.displayName = "Google"
		}
	case PresetMicrosoft:
		if err := only(PresetGitHub, SettingAuthorizationEndpoint, SettingTokenEndpoint, SettingAPIBaseURL); err != nil {
			return s, err
		}
		if s.issuer != "" {
			return s, fmt.Errorf("the microsoft preset's issuer follows from %s and %s; %s cannot be set", SettingAuthority, SettingTenant, SettingIssuer)
		}
		if s.tenant == "" {
			s.tenant = "common"
		}
		switch {
		case s.tenant == "common" || s.tenant == "organizations" || s.tenant == "consumers":
		case guidRE.MatchString(s.tenant):
		default:
			return s, fmt.Errorf("%s must be common, organizations, consumers or a tenant id (a GUID in lower case)", SettingTenant)
		}
		if s.authority == "" {
			s.authority = MicrosoftAuthority
		}
		s.authority = strings.TrimSuffix(s.authority, "/")
		if err := checkURL(SettingAuthority, s.authority); err != nil {
			return s, err
		}
		s.issuer = s.authority + "/" + s.tenant + "/v2.0"
		if s.displayName == "" {
			s.displayName = "Microsoft"
		}
	case PresetGitHub:
		if err := only(PresetMicrosoft, SettingTenant, SettingAuthority); err != nil {
			return s, err
		}
		if s.issuer != "" {
			return s, fmt.Errorf("the github preset is OAuth 2.0 without an issuer; %s cannot be set", SettingIssuer)
		}
		for _, u := range []struct {
			name string
			v    *string
			def  string
		}{{SettingAuthorizationEndpoint, &s.authorizeURL, GitHubAuthorizeEndpoint}, {SettingTokenEndpoint, &s.tokenURL, GitHubTokenEndpoint},
			{SettingAPIBaseURL, &s.apiURL, GitHubAPI}} {
			if *u.v == "" {
				*u.v = u.def
			}
			if err := checkURL(u.name, *u.v); err != nil {
				return s, err
			}
		}
		s.apiURL = strings.TrimSuffix(s.apiURL, "/")
		if s.displayName == "" {
			s.displayName = "GitHub"
		}
	default:
		return s, fmt.Errorf("%s must be google, microsoft, github or absent (any OpenID Connect provider)", SettingPreset)
	}
	if s.preset != PresetGeneric && s.clientSecret == "" {
		return s, fmt.Errorf("%s is required for the %s preset", SettingClientSecret, s.preset)
	}
	if len(s.scopes) == 0 {
		if s.oidcProvider() {
			s.scopes = []string{"openid", "email", "profile"}
		} else {
			s.scopes = []string{"read:user", "user:email"}
		}
	}
	if s.oidcProvider() && !slices.Contains(s.scopes, "openid") {
		s.scopes = append([]string{"openid"}, s.scopes...)
	}
	return s, nil
}

// parseScopes reads scopes given as a list of strings or as one space-separated string.
func parseScopes(v any) ([]string, error) {
	var out []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		out = strings.Fields(t)
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
				return nil, fmt.Errorf("%s must be a list of scope names (or one space-separated string)", SettingScopes)
			}
			out = append(out, s)
		}
	default:
		return nil, fmt.Errorf("%s must be a list of scope names (or one space-separated string)", SettingScopes)
	}
	for _, s := range out {
		for _, r := range s {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' { // RFC 6749 §3.3 scope-token
				return nil, fmt.Errorf("%s: %q is not a valid scope name", SettingScopes, s)
			}
		}
	}
	return out, nil
}

// checkURL accepts an absolute https URL without query or fragment, or an http one on a loopback name (a
// provider on this machine, in development and tests).
func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an absolute https URL without query or fragment", name)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return fmt.Errorf("%s must be an https URL (http only on localhost)", name)
	}
	return nil
}

// loopback reports whether host names this machine: localhost and its subdomains (RFC 6761 §6.3) or a loopback
// address.
func loopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Connection is an opened oidc connection.
type Connection struct {
	rec  storage.Connection
	s    settings
	deps authn.Deps
}

var (
	_ authn.RedirectConnection = (*Connection)(nil)
	_ authn.Displayed          = (*Connection)(nil)
	_ authn.Templated          = (*Connection)(nil)
)

// New is the kind's factory: it checks rec's settings (their shape only; the provider is not contacted).
func New(rec storage.Connection, deps authn.Deps) (authn.Connection, error) {
	s, err := parseSettings(rec.Settings)
	if err != nil {
		return nil, err
	}
	return &Connection{rec: rec, s: s, deps: deps}, nil
}

// Type implements authn.Connection.
func (c *Connection) Type() string { return Type }

// Record implements authn.Connection.
func (c *Connection) Record() storage.Connection { return c.rec }

// DisplayName is the provider's name on the button: the setting display_name, else the preset's name ("Google",
// "Microsoft", "GitHub"), else the connection's name.
func (c *Connection) DisplayName() string { return c.s.displayName }

// Template is templates/connections/oidc.html.
func (c *Connection) Template() string { return "oidc" }

// perFlow derives a value bound to this connection and sign-in flow with a server key (purpose names which):
// 43 base64url characters, a valid PKCE verifier (RFC 7636 §4.1), unguessable without the server key.
func (c *Connection) perFlow(purpose, flowID string) (string, error) {
	if c.deps.Secrets == nil {
		return "", fmt.Errorf("oidc: no server secrets to derive the %s from", purpose)
	}
	m := hmac.New(sha256.New, c.deps.Secrets.Derive("upstream-"+purpose))
	m.Write([]byte(c.rec.ID))
	m.Write([]byte{0})
	m.Write([]byte(flowID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}
