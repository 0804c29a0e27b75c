package oidf

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// The steps every OIDCC server module shares (the suite's AbstractOIDCCServerTest), for the variant these plans
// run: server metadata from discovery, a statically registered client, response_type=code, the default
// response mode.

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n characters drawn from set.
func randomString(n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic(err)
		}
		b[i] = set[k.Int64()]
	}
	return string(b)
}

// randomValue is the suite's state and nonce: n alphanumerics, or, above 10 characters, n-4 alphanumerics
// followed by every other URL-safe character ("-._~"), to check that they travel intact.
func randomValue(n int) string {
	if n > 10 {
		return randomString(n-4, alnum) + "-._~"
	}
	return randomString(n, alnum)
}

// configure is the suite's configuration phase: discovery, the server's keys and their checks, and the
// client.
func (m *module) configure() {
	m.t.Helper()
	m.discover()
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "issuer"} {
		v := str(m.server[k])
		u, err := url.Parse(v)
		if v == "" || err != nil || u.Scheme == "" || u.Host == "" {
			m.stop("CheckServerConfiguration", fmt.Errorf("%s is missing or not a URL: %q", k, v))
		}
	}
	m.fetchKeys()
	m.scope = "openid" // SetScopeInClientConfigurationToOpenId
	switch m.authMethod {
	case "client_secret_basic":
		m.fail("EnsureServerConfigurationSupportsClientSecretBasic", authMethodSupported(m.server, "client_secret_basic", true))
	case "client_secret_post":
		m.fail("EnsureServerConfigurationSupportsClientSecretPost", authMethodSupported(m.server, "client_secret_post", false))
	}
	if str(m.server["userinfo_endpoint"]) == "" {
		m.stop("SetProtectedResourceUrlToUserInfoEndpoint", errors.New("userinfo_endpoint missing from the server configuration (required for certification)"))
	}
}

// authMethodSupported: token_endpoint_auth_methods_supported lists method (absent means client_secret_basic).
func authMethodSupported(server map[string]any, method string, defaultsToIt bool) error {
	v, ok := server["token_endpoint_auth_methods_supported"]
	if !ok {
		if defaultsToIt {
			return nil
		}
		return fmt.Errorf("token_endpoint_auth_methods_supported is absent (only client_secret_basic by default), want %s", method)
	}
	list, _ := v.([]any)
	if !slices.Contains(list, any(method)) {
		return fmt.Errorf("token_endpoint_auth_methods_supported %v does not contain %s", v, method)
	}
	return nil
}

// discover fetches the discovery document (GetDynamicServerConfiguration).
func (m *module) discover() *response {
	m.t.Helper()
	r := m.b.do(m.b.request(http.MethodGet, m.op.discoveryURL, nil, nil))
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		m.stop("GetDynamicServerConfiguration", fmt.Errorf("the discovery document is not a JSON object (status %d): %v", r.Status, err))
	}
	m.server = doc
	return r
}

// fetchKeys is FetchServerKeys and the checks the server modules make on the key set: it parses, the JWKS
// validation sequence, and every key has a distinct kid.
func (m *module) fetchKeys() {
	m.t.Helper()
	raw := m.fetchKeysOnly()
	var set jose.JSONWebKeySet
	m.warn("CheckServerKeysIsValid", json.Unmarshal(m.jwks, &set))
	m.checkKids(raw)
}

// fetchKeysOnly fetches jwks_uri and runs the JWKS validation sequence (ValidateJwksSequence).
func (m *module) fetchKeysOnly() map[string]any {
	m.t.Helper()
	uri := str(m.server["jwks_uri"])
	if uri == "" {
		m.stop("FetchServerKeys", errors.New("no jwks_uri in the server configuration"))
	}
	r := m.b.do(m.b.request(http.MethodGet, uri, nil, nil))
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
		m.stop("FetchServerKeys", fmt.Errorf("%s: status %d, not a JSON object: %v", uri, r.Status, err))
	}
	m.jwks = []byte(r.Body)
	m.validateJWKS(raw)
	return raw
}

// validateJWKS is the suite's JWKS validation: public keys only, each structurally valid and parseable, and a
// warning for key types the suite cannot use.
func (m *module) validateJWKS(raw map[string]any) {
	m.t.Helper()
	keys, ok := raw["keys"].([]any)
	if !ok {
		m.fail("ValidateJwksStructure", errors.New("the JWK set has no 'keys' array"))
		return
	}
	for i, k := range keys {
		key, ok := k.(map[string]any)
		if !ok {
			m.fail("ValidateJwksStructure", fmt.Errorf("key %d is not a JSON object", i))
			continue
		}
		kty := str(key["kty"])
		if kty == "oct" {
			m.fail("EnsureJwksHasNoPrivateOrSymmetricKeyMaterial", fmt.Errorf("key %d is a symmetric key", i))
		}
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, has := key[member]; has {
				m.fail("EnsureJwksHasNoPrivateOrSymmetricKeyMaterial", fmt.Errorf("key %d has private member %q", i, member))
			}
		}
		var required []string
		switch kty {
		case "":
			m.fail("ValidateJwksStructure", fmt.Errorf("key %d has no kty", i))
		case "RSA":
			required = []string{"e", "n"}
		case "EC":
			required = []string{"crv", "x", "y"}
		case "OKP":
			required = []string{"crv", "x"}
		case "oct":
		default:
			m.warn("WarnOnUnusableJwksKeys", fmt.Errorf("key %d has an unsupported kty %q", i, kty))
		}
		for _, member := range required {
			v := str(key[member])
			if v == "" {
				m.fail("ValidateJwksStructure", fmt.Errorf("key %d (%s) lacks %q", i, kty, member))
			} else if member != "crv" {
				if _, err := base64.RawURLEncoding.DecodeString(v); err != nil {
					m.fail("ValidateJwksStructure", fmt.Errorf("key %d member %q is not unpadded base64url", i, member))
				}
			}
		}
		if kty == "RSA" || kty == "EC" || kty == "OKP" {
			one, _ := json.Marshal(key)
			var jwk jose.JSONWebKey
			m.fail("ParseUsableJwksKeys", json.Unmarshal(one, &jwk))
		}
	}
}

// checkKids is CheckForKeyIdInServerJWKs and CheckDistinctKeyIdValueInServerJWKs.
func (m *module) checkKids(raw map[string]any) {
	m.t.Helper()
	keys, _ := raw["keys"].([]any)
	kids := map[string]bool{}
	for i, k := range keys {
		key, _ := k.(map[string]any)
		kid := str(key["kid"])
		if strings.TrimSpace(kid) == "" {
			m.fail("CheckForKeyIdInServerJWKs", fmt.Errorf("key %d has no kid", i))
		} else if kids[kid] {
			m.fail("CheckDistinctKeyIdValueInServerJWKs", fmt.Errorf("kid %q is used by more than one key", kid))
		}
		kids[kid] = true
	}
}

// authzRequest is an authorization request as the suite builds it: parameters by name, sent in ascending name
// order (descending for oidcc-alternate-happy-flow), by GET or, for oidcc-ensure-post-request-succeeds, POST.
type authzRequest struct {
	Params  map[string]string
	Reverse bool
	Post    bool
}

// state and nonce of the request ("" when not sent).
func (a *authzRequest) state() string { return a.Params["state"] }
func (a *authzRequest) nonce() string { return a.Params["nonce"] }

// newAuthzRequest is CreateAuthorizationRequestSteps: client_id, redirect_uri, scope, a fresh state and nonce,
// response_type=code.
func (m *module) newAuthzRequest() *authzRequest {
	return &authzRequest{Params: map[string]string{
		"client_id": m.client.ID, "redirect_uri": rpRedirectURI, "scope": m.scope,
		"state": randomValue(m.stateLen), "nonce": randomValue(m.nonceLen), "response_type": "code",
	}}
}

// query encodes the parameters in the request's order, spaces as %20.
func (a *authzRequest) query() string {
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if a.Reverse {
		slices.Reverse(keys)
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = escape(k) + "=" + escape(a.Params[k])
	}
	return strings.Join(parts, "&")
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// send opens the request in the module's browser.
func (m *module) send(a *authzRequest) landing {
	m.t.Helper()
	endpoint := str(m.server["authorization_endpoint"])
	if a.Post {
		// The suite's browser POSTs the query string as a form body to the endpoint without its query.
		body := a.query()
		return m.b.navigate(http.MethodPost, endpoint, &body, nil)
	}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return m.b.get(endpoint + sep + a.query())
}

// callback is what reached the redirect URI: the query and the fragment parameters.
type callback struct {
	URL      *url.URL
	Query    url.Values
	Fragment url.Values
}

// callbackOf returns the callback a landing is, or stops the module when the OP did not redirect to
// redirectURI.
func (m *module) callbackOf(l landing, redirectURI string) callback {
	m.t.Helper()
	if l.Redirect == nil {
		m.t.Fatalf("the OP did not redirect to the client: it answered %s\n%s", l, abbreviate(l.Page.Body, 800))
	}
	want, _ := url.Parse(redirectURI)
	got := *l.Redirect
	got.RawQuery, got.Fragment = "", ""
	if got.String() != want.String() {
		m.t.Fatalf("the OP redirected to %s, not to the redirect URI %s", l.Redirect, redirectURI)
	}
	frag, _ := url.ParseQuery(l.Redirect.Fragment)
	return callback{URL: l.Redirect, Query: l.Redirect.Query(), Fragment: frag}
}

// signIn says whether an authorization request must show the sign-in form.
type signIn int

const (
	eitherWay     signIn = iota // sign in if asked
	mustSignIn                  // the module's placeholder expects the sign-in form (a second authentication)
	mustNotSignIn               // the user is signed in and must not be asked
)

// authorize sends a and, when the OP shows its sign-in page, signs in, as the suite's scripted browser does,
// after checking the page was expected. It returns the callback.
func (m *module) authorize(a *authzRequest, want signIn) callback {
	m.t.Helper()
	l := m.send(a)
	login := isLoginPage(l)
	switch {
	case want == mustSignIn && !login:
		m.t.Fatalf("the OP did not ask the user to sign in again: it answered %s", l)
	case want == mustNotSignIn && login:
		m.t.Fatalf("the OP asked a signed-in user to sign in again")
	}
	if login {
		l = m.b.signIn(l)
	}
	return m.callbackOf(l, a.Params["redirect_uri"])
}

// checkCallbackSuccess is onAuthorizationCallbackResponse for a request that must succeed; it returns the code.
func (m *module) checkCallbackSuccess(a *authzRequest, cb callback) string {
	m.t.Helper()
	// CheckMatchingCallbackParameters: the registered redirect URI has no query of its own to keep.
	m.fail("ValidateIssIfPresentInAuthorizationResponse", m.issMatches(cb.Query))
	if e := cb.Query.Get("error"); e != "" {
		m.stop("CheckIfAuthorizationEndpointError", fmt.Errorf("the authorization was expected to succeed but the OP returned error=%s (%s)", e, cb.Query.Get("error_description")))
	}
	m.fail("CheckStateInAuthorizationResponse", stateMatches(a.state(), cb.Query))
	code := cb.Query.Get("code")
	if code == "" {
		m.stop("ExtractAuthorizationCodeFromAuthorizationResponse", fmt.Errorf("no code in the callback %s", cb.URL))
	}
	return code
}

// issMatches is ValidateIssIfPresentInAuthorizationResponse.
func (m *module) issMatches(q url.Values) error {
	if !q.Has("iss") {
		return nil
	}
	if got, want := q.Get("iss"), str(m.server["issuer"]); got != want {
		return fmt.Errorf("iss %q in the authorization response is not the issuer %q", got, want)
	}
	return nil
}

// stateMatches is CheckStateInAuthorizationResponse for a request that carried state (or none).
func stateMatches(sent string, q url.Values) error {
	got := q.Get("state")
	switch {
	case sent == "" && got != "":
		return fmt.Errorf("no state was sent but %q came back", got)
	case sent != "" && got == "":
		return fmt.Errorf("state %q was sent but none came back", sent)
	case sent != got:
		return fmt.Errorf("state %q came back, want %q", got, sent)
	}
	return nil
}

// checkCallbackError is performGenericAuthorizationEndpointErrorResponseValidation: state and iss right, an
// error and no code, only the parameters an error response has, and error_description / error_uri well formed.
func (m *module) checkCallbackError(a *authzRequest, cb callback) {
	m.t.Helper()
	q := cb.Query
	m.fail("CheckStateInAuthorizationResponse", stateMatches(a.state(), q))
	m.fail("ValidateIssIfPresentInAuthorizationResponse", m.issMatches(q))
	if !q.Has("error") {
		m.fail("EnsureErrorFromAuthorizationEndpointResponse", fmt.Errorf("the OP was expected to return an error but did not: %s", cb.URL))
	}
	if q.Has("code") || cb.Fragment.Has("code") {
		m.fail("RejectAuthCodeInAuthorizationEndpointResponse", errors.New("a code came back where an error was expected"))
	}
	var extra []string
	for k := range q {
		if !slices.Contains([]string{"error", "error_description", "error_uri", "state", "session_state", "iss"}, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		m.warn("CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint", fmt.Errorf("unexpected parameters in the error response: %v", extra))
	}
	if d := q.Get("error_description"); d != "" {
		m.warn("CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB", noCRLFTab(d))
		m.fail("ValidateErrorDescriptionFromAuthorizationEndpointResponseError", errorDescriptionOK(d))
	}
	m.fail("ValidateErrorUriFromAuthorizationEndpointResponseError", errorURIOK(q.Get("error_uri")))
}

// errorIsOneOf checks the error code of a callback.
func errorIsOneOf(q url.Values, allowed ...string) error {
	e := q.Get("error")
	if e == "" {
		return errors.New("no 'error' in the response")
	}
	if !slices.Contains(allowed, e) {
		return fmt.Errorf("error=%s, want one of %v", e, allowed)
	}
	return nil
}

// tokenResponse is a token endpoint answer.
type tokenResponse struct {
	*response
	JSON map[string]any // nil when the body is not a JSON object
}

// callToken posts form to the token endpoint with client c's credentials (client_secret_basic or
// client_secret_post, per the module) and Accept: application/json, as the suite does.
func (m *module) callToken(form url.Values, c clientConf, method string) *tokenResponse {
	m.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	h := http.Header{}
	h.Set("Accept", "application/json")
	switch method {
	case "client_secret_basic":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret))))
	case "client_secret_post":
		f.Set("client_id", c.ID)
		f.Set("client_secret", c.Secret)
	}
	body := f.Encode()
	r := m.b.do(m.b.request(http.MethodPost, str(m.server["token_endpoint"]), &body, h))
	tr := &tokenResponse{response: r}
	var obj map[string]any
	if json.Unmarshal([]byte(r.Body), &obj) == nil {
		tr.JSON = obj
	}
	return tr
}

// tokens is a successful token response, parsed.
type tokens struct {
	Resp         *tokenResponse
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      jwt
}

// exchangeCode is createAuthorizationCodeRequest + requestAuthorizationCode: the code grant with the module's
// client authentication (plus extra parameters, e.g. code_verifier), the response checks, and the standard ID
// token checks on the ID token that came back.
func (m *module) exchangeCode(a *authzRequest, code string, extra url.Values) tokens {
	m.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.Params["redirect_uri"]}}
	for k, v := range extra {
		form[k] = v
	}
	return m.requestTokens(form, a.nonce())
}

// requestTokens sends a code grant and checks the answer as requestAuthorizationCode does.
func (m *module) requestTokens(form url.Values, nonce string) tokens {
	m.t.Helper()
	tr := m.callToken(form, m.client, m.authMethod)
	if tr.Status != http.StatusOK {
		m.stop("CheckTokenEndpointHttpStatus200", fmt.Errorf("status %d: %s", tr.Status, abbreviate(tr.Body, 400)))
	}
	if tr.JSON == nil {
		m.stop("CallTokenEndpointAndReturnFullResponse", fmt.Errorf("the token endpoint did not return a JSON object: %s", abbreviate(tr.Body, 400)))
	}
	if e := str(tr.JSON["error"]); e != "" {
		m.stop("CheckIfTokenEndpointResponseError", fmt.Errorf("the token endpoint returned error %s", e))
	}
	tk := tokens{Resp: tr, AccessToken: str(tr.JSON["access_token"]), TokenType: str(tr.JSON["token_type"]),
		RefreshToken: str(tr.JSON["refresh_token"])}
	if tk.AccessToken == "" || tk.TokenType == "" {
		m.stop("CheckForAccessTokenValue", fmt.Errorf("access_token or token_type missing: %s", abbreviate(tr.Body, 400)))
	}
	if v, ok := tr.JSON["expires_in"]; ok {
		m.fail("ValidateExpiresIn", validExpiresIn(v))
	} else {
		m.info("ExtractExpiresInFromTokenEndpointResponse", errors.New("no expires_in"))
	}
	if tk.RefreshToken == "" {
		m.info("CheckForRefreshTokenValue", errors.New("no refresh token"))
	}
	raw := str(tr.JSON["id_token"])
	if raw == "" {
		m.stop("ExtractIdTokenFromTokenResponse", errors.New("no id_token in the token response"))
	}
	idt, err := parseJWT(raw)
	m.stop("ExtractIdTokenFromTokenResponse", err)
	tk.IDToken = idt
	m.standardIDTokenChecks(idt, nonce)
	return tk
}

// validExpiresIn is ValidateExpiresIn: a positive number of at most a year.
func validExpiresIn(v any) error {
	n, ok := v.(float64)
	switch {
	case !ok:
		return fmt.Errorf("expires_in is not a number: %v", v)
	case n <= 0:
		return fmt.Errorf("expires_in %v is not positive", n)
	case n > 31536000:
		return fmt.Errorf("expires_in %v is more than a year (milliseconds?)", n)
	}
	return nil
}

// standardIDTokenChecks is the suite's PerformStandardIdTokenChecks.
func (m *module) standardIDTokenChecks(idt jwt, nonce string) {
	m.t.Helper()
	now := time.Now()
	m.fail("ValidateIdToken", validateIDToken(idt, str(m.server["issuer"]), m.client.ID, now))
	m.fail("ValidateIdTokenStandardClaims", validateStandardClaims(identityClaims(idt)))
	m.fail("ValidateIdTokenNonce", validateIDTokenNonce(idt, nonce))
	m.fail("ValidateIdTokenACRClaimAgainstRequest", validateIDTokenACRType(idt))
	m.fail("ValidateIdTokenSignature", verifySignature(idt.Raw, m.jwks))
	m.fail("CheckForSubjectInIdToken", checkSubject(idt))
	m.fail("EnsureIdTokenUpdatedAtValid", checkUpdatedAt(idt.Claims, "id_token", now))
}

// userinfo calls the userinfo endpoint the way a module does: "get" (bearer header), "post-header" (POST, bearer
// header, form content type and no body) or "post-body" (POST with access_token in the form body).
func (m *module) userinfo(tk tokens, how string) *response {
	m.t.Helper()
	h := http.Header{}
	h.Set("Accept", "application/json")
	endpoint := str(m.server["userinfo_endpoint"])
	switch how {
	case "get":
		h.Set("Authorization", tk.TokenType+" "+tk.AccessToken)
		return m.b.do(m.b.request(http.MethodGet, endpoint, nil, h))
	case "post-header":
		h.Set("Authorization", tk.TokenType+" "+tk.AccessToken)
		empty := ""
		return m.b.do(m.b.request(http.MethodPost, endpoint, &empty, h))
	case "post-body":
		return m.b.do(m.b.request(http.MethodPost, endpoint, form(url.Values{"access_token": {tk.AccessToken}}), h))
	}
	m.t.Fatalf("unknown userinfo call %q", how)
	return nil
}

// requestProtectedResource is the call to the userinfo endpoint every code-flow module ends with.
func (m *module) requestProtectedResource(tk tokens) {
	m.t.Helper()
	r := m.userinfo(tk, "get")
	if r.Status != http.StatusOK {
		m.fail("EnsureHttpStatusCodeIs200", fmt.Errorf("userinfo answered %d: %s", r.Status, abbreviate(r.Body, 300)))
	}
}

// userinfoClaims decodes a userinfo response (ExtractUserInfoFromUserInfoEndpointResponse).
func (m *module) userinfoClaims(r *response) map[string]any {
	m.t.Helper()
	var claims map[string]any
	if err := json.Unmarshal([]byte(r.Body), &claims); err != nil {
		m.stop("ExtractUserInfoFromUserInfoEndpointResponse", fmt.Errorf("the userinfo response is not a JSON object: %v: %s", err, abbreviate(r.Body, 300)))
	}
	return claims
}

// validateUserinfo is the suite's validation of userinfo claims (validateExtractedUserInfoResponse); idt, when
// set, is the token endpoint's ID token whose sub must match.
func (m *module) validateUserinfo(claims map[string]any, idt *jwt) {
	m.t.Helper()
	m.fail("ValidateUserInfoStandardClaims", validateStandardClaims(claims))
	if str(claims["sub"]) == "" {
		m.fail("EnsureUserInfoContainsSub", errors.New("no sub in the userinfo response"))
	}
	m.fail("EnsureUserInfoUpdatedAtValid", checkUpdatedAt(claims, "userinfo", time.Now()))
	m.fail("EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources", claimSourcesReferenced(claims))
	if idt != nil && str(claims["sub"]) != str(idt.Claims["sub"]) {
		m.fail("VerifyUserInfoAndIdTokenInTokenEndpointSameSub", fmt.Errorf("userinfo sub %v, ID token sub %v", claims["sub"], idt.Claims["sub"]))
	}
}

// codeChecks is OIDCCServerTest's performAuthorizationCodeValidation: the code is long and random enough.
func (m *module) codeChecks(code string) {
	m.t.Helper()
	m.fail("EnsureMinimumAuthorizationCodeLength", checkLength("the authorization code", code))
	m.fail("EnsureMinimumAuthorizationCodeEntropy", checkEntropy("the authorization code", code))
}

// happyFlow is the whole code flow of a module that changes nothing but the request: authorize (signing in),
// the callback checks, the code grant and the userinfo call. It returns the request and the tokens.
func (m *module) happyFlow(a *authzRequest, want signIn) (*authzRequest, tokens) {
	m.t.Helper()
	cb := m.authorize(a, want)
	code := m.checkCallbackSuccess(a, cb)
	tk := m.exchangeCode(a, code, nil)
	m.requestProtectedResource(tk)
	return a, tk
}

// promptNoneMustFail is the end of the logout modules and oidcc-prompt-none-not-logged-in: an authorization
// request with prompt=none must come back with an error that asks for user interaction.
func (m *module) promptNoneMustFail() {
	m.t.Helper()
	a := m.newAuthzRequest()
	a.Params["prompt"] = "none"
	l := m.send(a)
	if isLoginPage(l) {
		m.t.Fatalf("prompt=none showed the sign-in page instead of redirecting with an error")
	}
	cb := m.callbackOf(l, rpRedirectURI)
	m.checkCallbackError(a, cb)
	m.fail("CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface",
		errorIsOneOf(cb.Query, "interaction_required", "login_required", "account_selection_required", "consent_required"))
}
