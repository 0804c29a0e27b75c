package oidf

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// TestConfigOP runs the suite's Config OP plan (oidcc-config-certification-test-plan): one module that checks
// the discovery document, for server metadata from discovery and a static client.
func TestConfigOP(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *op) {
		run(t, p, "oidcc-discovery-endpoint-verification", discoveryEndpointVerification)
	})
}

// metadataKinds are the provider metadata names of RFC 8414 §2, OpenID Connect Discovery 1.0 §3, RFC 9207,
// the OpenID Connect logout specifications, Prompt Create, PAR, JAR, JARM, mTLS, DPoP, CIBA and the device
// flow, with the JSON type each has: the structural check (ValidateServerMetadataAgainstSchema) and the list of
// expected names (CheckForUnexpectedParametersInServerMetadata). The suite's schema also knows extensions
// (federation, verifiable credentials, identity assurance) that Authio does not publish; a name from those
// would warn here and must be added before Authio publishes it.
var metadataKinds = map[string]string{
	"issuer": "uri", "authorization_endpoint": "uri", "token_endpoint": "uri", "jwks_uri": "uri",
	"registration_endpoint": "uri", "scopes_supported": "strings", "response_types_supported": "strings",
	"response_modes_supported": "strings", "grant_types_supported": "strings",
	"token_endpoint_auth_methods_supported": "strings", "token_endpoint_auth_signing_alg_values_supported": "strings",
	"service_documentation": "uri", "ui_locales_supported": "strings", "op_policy_uri": "uri", "op_tos_uri": "uri",
	"revocation_endpoint": "uri", "revocation_endpoint_auth_methods_supported": "strings",
	"revocation_endpoint_auth_signing_alg_values_supported": "strings", "introspection_endpoint": "uri",
	"introspection_endpoint_auth_methods_supported": "strings", "introspection_endpoint_auth_signing_alg_values_supported": "strings",
	"code_challenge_methods_supported": "strings", "userinfo_endpoint": "uri", "end_session_endpoint": "uri",
	"check_session_iframe": "uri", "subject_types_supported": "strings", "id_token_signing_alg_values_supported": "strings",
	"id_token_encryption_alg_values_supported": "strings", "id_token_encryption_enc_values_supported": "strings",
	"userinfo_signing_alg_values_supported": "strings", "userinfo_encryption_alg_values_supported": "strings",
	"userinfo_encryption_enc_values_supported": "strings", "request_object_signing_alg_values_supported": "strings",
	"request_object_encryption_alg_values_supported": "strings", "request_object_encryption_enc_values_supported": "strings",
	"display_values_supported": "strings", "claim_types_supported": "strings", "claims_supported": "strings",
	"claims_locales_supported": "strings", "claims_parameter_supported": "bool", "request_parameter_supported": "bool",
	"request_uri_parameter_supported": "bool", "require_request_uri_registration": "bool", "acr_values_supported": "strings",
	"frontchannel_logout_supported": "bool", "frontchannel_logout_session_supported": "bool",
	"backchannel_logout_supported": "bool", "backchannel_logout_session_supported": "bool",
	"authorization_response_iss_parameter_supported": "bool", "prompt_values_supported": "strings",
	"pushed_authorization_request_endpoint": "uri", "require_pushed_authorization_requests": "bool",
	"require_signed_request_object": "bool", "mtls_endpoint_aliases": "object", "tls_client_certificate_bound_access_tokens": "bool",
	"dpop_signing_alg_values_supported": "strings", "backchannel_authentication_endpoint": "uri",
	"backchannel_token_delivery_modes_supported": "strings", "backchannel_authentication_request_signing_alg_values_supported": "strings",
	"backchannel_user_code_parameter_supported": "bool", "device_authorization_endpoint": "uri", "signed_metadata": "string",
	"authorization_details_types_supported": "strings", "authorization_signing_alg_values_supported": "strings",
	"authorization_encryption_alg_values_supported": "strings", "authorization_encryption_enc_values_supported": "strings",
	"introspection_signing_alg_values_supported": "strings", "introspection_encryption_alg_values_supported": "strings",
	"introspection_encryption_enc_values_supported": "strings",
}

// metadataStructure is ValidateServerMetadataAgainstSchema: every known member has its type (absolute URIs for
// the URL members).
func metadataStructure(server map[string]any) error {
	var bad []string
	for name, v := range server {
		ok := true
		switch metadataKinds[name] {
		case "uri":
			s, isString := v.(string)
			u, err := url.Parse(s)
			ok = isString && err == nil && u.IsAbs()
		case "strings":
			list, isList := v.([]any)
			ok = isList
			for _, e := range list {
				if _, isString := e.(string); !isString {
					ok = false
				}
			}
		case "bool":
			_, ok = v.(bool)
		case "object":
			_, ok = v.(map[string]any)
		case "string":
			_, ok = v.(string)
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("%s=%v is not a %s", name, v, metadataKinds[name]))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// unexpectedMetadata is CheckForUnexpectedParametersInServerMetadata.
func unexpectedMetadata(server map[string]any) error {
	var extra []string
	for name := range server {
		if _, ok := metadataKinds[name]; !ok {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("metadata the suite does not know: %v", extra)
	}
	return nil
}

// httpsURL is AbstractJsonUriIsValidAndHttps: name is an https URL.
func httpsURL(server map[string]any, name string) error {
	v, ok := server[name]
	if !ok {
		return fmt.Errorf("%s: URL not found", name)
	}
	s, isString := v.(string)
	u, err := url.Parse(s)
	if !isString || err != nil || u.Host == "" {
		return fmt.Errorf("%s is not a valid URL: %v", name, v)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%s must use https: %s", name, s)
	}
	return nil
}

// allEndpointsHTTPS is CheckDiscEndpointAllEndpointsAreHttps: every *_endpoint member is an https URL.
func allEndpointsHTTPS(server map[string]any) error {
	var errs []error
	for name := range server {
		if strings.HasSuffix(name, "_endpoint") {
			errs = append(errs, httpsURL(server, name))
		}
	}
	return errors.Join(errs...)
}

// stringsMetadata is AbstractValidateJsonArray: name is an array holding at least min of want (compared by
// equal, or as sets of space-separated words for response types).
func stringsMetadata(server map[string]any, name string, want []string, min int, asSets bool) error {
	v, ok := server[name]
	if !ok {
		return fmt.Errorf("%s: not found", name)
	}
	list, isList := v.([]any)
	if !isList {
		return fmt.Errorf("%s should be an array: %v", name, v)
	}
	equal := func(a, b string) bool {
		if !asSets {
			return a == b
		}
		x, y := strings.Fields(a), strings.Fields(b)
		slices.Sort(x)
		slices.Sort(y)
		return slices.Equal(slices.Compact(x), slices.Compact(y))
	}
	found := 0
	for _, w := range want {
		if slices.ContainsFunc(list, func(e any) bool { return equal(w, str(e)) }) {
			found++
		}
	}
	if found < min {
		return fmt.Errorf("%s %v holds %d of %v, want at least %d", name, list, found, want, min)
	}
	return nil
}

// scopeToken is RFC 6749 Appendix A.4's scope-token: one or more NQCHAR.
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)) {
			return false
		}
	}
	return true
}

// locales is CheckDiscEndpointLocalesSyntax (well-formed BCP 47 tags) and, with canonical set,
// CheckDiscEndpointLocalesCanonicalCasing.
func locales(server map[string]any, canonical bool) error {
	var bad []string
	for _, name := range []string{"ui_locales_supported", "claims_locales_supported"} {
		v, ok := server[name]
		if !ok {
			continue
		}
		list, isList := v.([]any)
		if !isList {
			bad = append(bad, name+" is not an array")
			continue
		}
		for _, e := range list {
			s, _ := e.(string)
			tag, err := language.Parse(s)
			switch {
			case err != nil && !canonical:
				bad = append(bad, fmt.Sprintf("%s: %q is not a BCP 47 tag", name, s))
			case err == nil && canonical && tag.String() != s:
				bad = append(bad, fmt.Sprintf("%s: %q should be written %q", name, s, tag.String()))
			}
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// discoveryEndpointVerification is oidcc-discovery-endpoint-verification.
func discoveryEndpointVerification(m *module) {
	r := m.discover()
	if r.Status != http.StatusOK {
		m.fail("EnsureDiscoveryEndpointResponseStatusCodeIs200", fmt.Errorf("status %d", r.Status))
	}
	m.fail("CheckDiscoveryEndpointReturnedJsonContentType", contentTypeIs(r.Header.Get("Content-Type"), "application/json"))
	s := m.server

	m.fail("OIDCCCheckDiscEndpointResponseTypesSupported", stringsMetadata(s, "response_types_supported",
		[]string{"code", "code id_token", "id_token", "token id_token", "code id_token token", "code token"}, 1, true))
	const wellKnown = "/.well-known/openid-configuration"
	if du, err := url.Parse(m.op.discoveryURL); err != nil || du.Scheme != "https" || !strings.HasSuffix(du.Path, wellKnown) {
		m.fail("CheckDiscEndpointDiscoveryUrl", fmt.Errorf("the discovery URL %s is not https or does not end with %s", m.op.discoveryURL, wellKnown))
	}
	// CheckDiscEndpointIssuer: the issuer is where the document was fetched from (trailing slashes aside).
	trim := func(s string) string { return strings.TrimSuffix(s, "/") }
	iss := str(s["issuer"])
	if want := strings.TrimSuffix(m.op.discoveryURL, ".well-known/openid-configuration"); iss == "" || trim(iss) != trim(want) {
		m.fail("CheckDiscEndpointIssuer", fmt.Errorf("issuer %q is not the location of the discovery document %q", iss, want))
	}
	// CheckDiscEndpointIssuerIsValidUrl (RFC 8414 §2): https, a host, no query, fragment or userinfo.
	if u, err := url.Parse(iss); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		m.fail("CheckDiscEndpointIssuerIsValidUrl", fmt.Errorf("issuer %q is not a valid issuer identifier", iss))
	}
	m.fail("ValidateServerMetadataAgainstSchema", metadataStructure(s))
	m.warn("CheckForUnexpectedParametersInServerMetadata", unexpectedMetadata(s))
	m.fail("CheckDiscEndpointSubjectTypesSupported", stringsMetadata(s, "subject_types_supported", []string{"public", "pairwise"}, 1, false))
	m.fail("OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported", stringsMetadata(s, "id_token_signing_alg_values_supported", []string{"RS256"}, 1, false))
	if _, ok := s["userinfo_signing_alg_values_supported"]; ok {
		m.fail("OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported", stringsMetadata(s, "userinfo_signing_alg_values_supported", nil, 0, false))
	}
	m.fail("CheckDiscEndpointAuthorizationEndpoint", httpsURL(s, "authorization_endpoint"))
	m.fail("CheckDiscEndpointTokenEndpoint", httpsURL(s, "token_endpoint"))
	if _, ok := s["userinfo_endpoint"]; ok {
		m.fail("CheckDiscEndpointUserinfoEndpoint", httpsURL(s, "userinfo_endpoint"))
	} else {
		m.warn("CheckDiscEndpointUserinfoEndpoint", errors.New("no userinfo_endpoint (recommended)"))
	}
	if _, ok := s["registration_endpoint"]; ok {
		m.fail("CheckDiscEndpointRegistrationEndpoint", httpsURL(s, "registration_endpoint"))
	}
	m.fail("CheckJwksUri", httpsURL(s, "jwks_uri"))
	m.fetchKeysOnly()
	m.info("CheckDiscEndpointRequestParameterSupported", boolMetadata(s, "request_parameter_supported", false))
	m.info("CheckDiscEndpointRequestUriParameterSupported", boolMetadata(s, "request_uri_parameter_supported", true))
	if _, ok := s["request_object_signing_alg_values_supported"]; ok {
		m.warn("CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256",
			stringsMetadata(s, "request_object_signing_alg_values_supported", []string{"RS256"}, 1, false))
	}
	m.info("CheckDiscEndpointClaimsParameterSupported", boolMetadata(s, "claims_parameter_supported", false))
	m.warn("OIDCCCheckDiscEndpointClaimsSupported", stringsMetadata(s, "claims_supported", nil, 0, false))
	if v, ok := s["grant_types_supported"]; ok {
		if list, isList := v.([]any); !isList || len(list) == 0 {
			m.fail("OIDCCCheckDiscEndpointGrantTypesSupported", fmt.Errorf("grant_types_supported must be a non-empty array: %v", v))
		}
	}
	if _, ok := s["scopes_supported"]; ok {
		m.fail("CheckDiscEndpointScopesSupportedContainsOpenId", stringsMetadata(s, "scopes_supported", []string{"openid"}, 1, false))
		list, isList := s["scopes_supported"].([]any)
		if !isList {
			m.fail("CheckDiscEndpointScopesSupportedSyntax", errors.New("scopes_supported is not an array"))
		}
		for i, e := range list {
			if sc, isString := e.(string); !isString || !scopeToken(sc) {
				m.fail("CheckDiscEndpointScopesSupportedSyntax", fmt.Errorf("scopes_supported[%d] %v is not a scope-token", i, e))
			}
		}
	} else {
		m.warn("CheckDiscEndpointScopesSupportedContainsOpenId", errors.New("no scopes_supported"))
	}
	m.fail("CheckDiscEndpointLocalesSyntax", locales(s, false))
	m.warn("CheckDiscEndpointLocalesCanonicalCasing", locales(s, true))
	m.fail("CheckDiscEndpointAllEndpointsAreHttps", allEndpointsHTTPS(s))
	if v, ok := s["code_challenge_methods_supported"]; ok {
		if list, isList := v.([]any); !isList || len(list) > 0 {
			m.fail("EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray",
				stringsMetadata(s, "code_challenge_methods_supported", []string{"S256", "plain"}, 1, false))
		}
	}
}
