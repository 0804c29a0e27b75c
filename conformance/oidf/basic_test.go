package oidf

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBasicOP runs the suite's Basic OP plan (oidcc-basic-certification-test-plan) with the variant
// response_type=code, client_secret_basic (client_secret_post for oidcc-server-client-secret-post), the default
// response mode, discovery and a statically registered client. Modules the plan leaves out for static clients
// (oidcc-idtoken-signature, oidcc-idtoken-unsigned, oidcc-request-uri-unsigned-...) are listed in
// docs/oidf-conformance.md only.
func TestBasicOP(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *op) {
		for _, mod := range basicModules {
			run(t, p, mod.name, mod.run)
		}
		for _, mod := range extraModules {
			run(t, p, mod.name, mod.run)
		}
	})
}

type planModule struct {
	name string
	run  func(m *module)
}

// basicModules are the Basic OP plan's modules for this variant, in the plan's order.
var basicModules = []planModule{
	{"oidcc-server", func(m *module) { serverTest(m) }},
	{"oidcc-response-type-missing", responseTypeMissing},
	{"oidcc-userinfo-get", func(m *module) { userinfoTest(m, "get") }},
	{"oidcc-userinfo-post-header", func(m *module) { userinfoTest(m, "post-header") }},
	{"oidcc-userinfo-post-body", func(m *module) { userinfoTest(m, "post-body") }},
	{"oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(m *module) {
		m.configure()
		a := m.newAuthzRequest()
		delete(a.Params, "nonce")
		m.checkCallbackSuccess(a, m.authorize(a, eitherWay))
		// The module ends here: it checks the authorization response only.
	}},
	{"oidcc-scope-profile", func(m *module) { returnedClaimsTest(m, "openid profile", false) }},
	{"oidcc-scope-email", func(m *module) { returnedClaimsTest(m, "openid email", false) }},
	{"oidcc-scope-address", func(m *module) { returnedClaimsTest(m, "openid address", false) }},
	{"oidcc-scope-phone", func(m *module) { returnedClaimsTest(m, "openid phone", false) }},
	{"oidcc-scope-all", func(m *module) { returnedClaimsTest(m, "openid email phone address profile", false) }},
	{"oidcc-alternate-happy-flow", func(m *module) { returnedClaimsTest(m, "openid email", true) }},
	{"oidcc-display-page", func(m *module) { withParam(m, "display", "page") }},
	{"oidcc-display-popup", func(m *module) { withParam(m, "display", "popup") }},
	{"oidcc-prompt-login", promptLogin},
	{"oidcc-prompt-none-not-logged-in", func(m *module) {
		m.stateLen = 128 // a long state, to check the OP does not corrupt it in the error response
		m.configure()
		m.promptNoneMustFail()
	}},
	{"oidcc-prompt-none-logged-in", func(m *module) {
		sameAuthTwice(m, nil, func(a *authzRequest, _ tokens) { a.Params["prompt"] = "none" })
	}},
	{"oidcc-max-age-1", maxAge1},
	{"oidcc-max-age-10000", func(m *module) {
		sameAuthTwice(m, func(a *authzRequest) { a.Params["max_age"] = "15000" },
			func(a *authzRequest, _ tokens) { a.Params["max_age"] = "10000" })
	}},
	{"oidcc-ensure-request-with-unknown-parameter-succeeds", func(m *module) { withParam(m, "extra", "foobar") }},
	{"oidcc-id-token-hint", func(m *module) {
		sameAuthTwice(m, nil, func(a *authzRequest, first tokens) {
			a.Params["prompt"] = "none"
			a.Params["id_token_hint"] = first.IDToken.Raw
		})
	}},
	{"oidcc-login-hint", func(m *module) {
		// No login_hint in the configuration: the suite hints buffy@<issuer host>.
		u, _ := url.Parse(m.op.issuer)
		withParam(m, "login_hint", "buffy@"+u.Hostname())
	}},
	{"oidcc-ui-locales", func(m *module) { withParam(m, "ui_locales", "se") }},
	{"oidcc-claims-locales", func(m *module) { withParam(m, "claims_locales", "se") }},
	{"oidcc-ensure-request-with-acr-values-succeeds", acrValues},
	{"oidcc-codereuse", func(m *module) { codeReuse(m, 0) }},
	{"oidcc-codereuse-30seconds", func(m *module) { codeReuse(m, 30*time.Second) }},
	{"oidcc-ensure-registered-redirect-uri", func(m *module) {
		m.configure()
		a := m.newAuthzRequest()
		a.Params["redirect_uri"] = rpRedirectURI + "/" + randomString(10, alnum) // CreateBadRedirectUriByAppending
		m.expectErrorPage("ExpectRedirectUriErrorPage", m.send(a))
	}},
	{"oidcc-ensure-post-request-succeeds", func(m *module) {
		m.configure()
		a := m.newAuthzRequest()
		a.Post = true
		m.happyFlow(a, eitherWay)
	}},
	{"oidcc-server-client-secret-post", func(m *module) {
		m.client, m.authMethod = m.op.clientPost, "client_secret_post"
		m.configure()
		m.happyFlow(m.newAuthzRequest(), eitherWay)
	}},
	{"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", unsignedRequestObject},
	{"oidcc-claims-essential", claimsEssential},
	{"oidcc-ensure-request-object-with-redirect-uri", requestObjectWithRedirectURI},
	{"oidcc-refresh-token", refreshToken},
	{"oidcc-ensure-request-with-valid-pkce-succeeds", func(m *module) {
		m.configure()
		a := m.newAuthzRequest()
		// CreateRandomCodeVerifier: the longest verifier RFC 7636 allows, from its whole character set.
		verifier := randomString(128, alnum+"-._~")
		a.Params["code_challenge"] = s256(verifier)
		a.Params["code_challenge_method"] = "S256"
		cb := m.authorize(a, eitherWay)
		code := m.checkCallbackSuccess(a, cb)
		tk := m.exchangeCode(a, code, url.Values{"code_verifier": {verifier}})
		m.requestProtectedResource(tk)
	}},
}

// extraModules are suite modules outside these three plans, and Authio's own checks, run with the same RP.
var extraModules = []planModule{
	// In the suite's Dynamic OP plan (not applicable to static clients there, as the suite must register two
	// redirect URIs); here the client is registered with two.
	{"oidcc-ensure-redirect-uri-in-authorization-request", func(m *module) {
		m.client = m.op.twoURIs
		m.configure()
		a := m.newAuthzRequest()
		delete(a.Params, "redirect_uri")
		m.expectErrorPage("ExpectRedirectUriMissingErrorPage", m.send(a))
	}},
	{"authio-cross-tenant", crossTenant},
}

func s256(verifier string) string {
	sum := sha256Sum(verifier)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// expectErrorPage is a module's placeholder for an error page: the OP must not redirect to the client (or
// anywhere else) and must show an error (4xx) page rather than, say, its sign-in form.
func (m *module) expectErrorPage(cond string, l landing) {
	m.t.Helper()
	switch {
	case l.Redirect != nil:
		m.fail(cond, fmt.Errorf("the OP redirected to %s instead of showing an error page", l.Redirect))
	case isLoginPage(l):
		m.fail(cond, errors.New("the OP showed its sign-in form instead of an error page"))
	case l.Page.Status < 400 || l.Page.Status > 499:
		m.fail(cond, fmt.Errorf("the OP answered %d, want an error page (4xx): %s", l.Page.Status, abbreviate(l.Page.Body, 300)))
	default:
		m.t.Logf("placeholder %s: the OP showed an error page (status %d)", cond, l.Page.Status)
	}
}

// serverTest is oidcc-server: the happy flow with OIDCCServerTest's extra checks.
func serverTest(m *module) {
	m.configure()
	a := m.newAuthzRequest()
	cb := m.authorize(a, eitherWay)
	code := m.checkCallbackSuccess(a, cb)
	m.codeChecks(code)
	tk := m.exchangeCode(a, code, nil)
	m.warn("EnsureIdTokenDoesNotContainName", absent(tk.IDToken.Claims, "name", "the ID token"))
	if _, ok := tk.Resp.JSON["expires_in"]; !ok {
		m.warn("ExtractExpiresInFromTokenEndpointResponse", errors.New("no expires_in in the token response (RFC 6749 §5.1 recommends it)"))
	}
	m.fail("ValidateAtHash", checkHalfHash(tk.IDToken, "at_hash", tk.AccessToken))
	m.fail("ValidateCHash", checkHalfHash(tk.IDToken, "c_hash", code))
	m.requestProtectedResource(tk)
	m.warn("EnsureIdTokenDoesNotContainNonRequestedClaims", nonRequestedClaims(tk.IDToken, a.Params["scope"]))
}

// absent checks that a claim the module did not ask for is not there.
func absent(claims map[string]any, name, where string) error {
	if v, ok := claims[name]; ok {
		return fmt.Errorf("%s has %s=%v although it was not requested there", where, name, v)
	}
	return nil
}

// responseTypeMissing: without response_type the OP either redirects with unsupported_response_type or
// invalid_request, or shows an error page.
func responseTypeMissing(m *module) {
	m.configure()
	a := m.newAuthzRequest()
	delete(a.Params, "response_type")
	l := m.send(a)
	if l.Redirect == nil {
		m.expectErrorPage("ExpectResponseTypeMissingErrorPage", l)
		return
	}
	cb := m.callbackOf(l, rpRedirectURI)
	m.checkCallbackError(a, cb)
	m.fail("CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType",
		errorIsOneOf(cb.Query, "unsupported_response_type", "invalid_request"))
}

// userinfoTest is oidcc-userinfo-get / -post-header / -post-body.
func userinfoTest(m *module, how string) {
	m.configure()
	_, tk := m.happyFlow(m.newAuthzRequest(), eitherWay)
	r := m.userinfo(tk, how)
	if how == "post-body" && (r.Status < 200 || r.Status > 299) {
		m.warn("UserInfoEndpointWithAccessTokenInBodyNotSupported", fmt.Errorf("userinfo answered %d to an access token in the POST body", r.Status))
		return
	}
	if how != "post-body" && r.Status != http.StatusOK {
		m.fail("EnsureHttpStatusCodeIs200", fmt.Errorf("userinfo answered %d: %s", r.Status, abbreviate(r.Body, 300)))
	}
	m.fail("EnsureContentTypeJson", contentTypeIs(r.Header.Get("Content-Type"), "application/json"))
	// response_type=code has no ID token from the authorization endpoint: the sub comparison does not apply.
	m.validateUserinfo(m.userinfoClaims(r), nil)
}

// scopesSupported is OIDCCCheckScopesSupportedContainScopeTest: scopes_supported lists every scope requested.
func scopesSupported(server map[string]any, scope string) error {
	list, ok := server["scopes_supported"].([]any)
	if !ok {
		return errors.New("scopes_supported is missing or not an array")
	}
	var missing []string
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(list, any(sc)) {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("scopes_supported %v lacks %v", list, missing)
	}
	return nil
}

// returnedClaimsTest is the scope modules (and oidcc-alternate-happy-flow, which is oidcc-scope-email with the
// scope and the query parameters in reverse order): the claims the scopes stand for come back from userinfo.
func returnedClaimsTest(m *module, scope string, reversed bool) {
	m.configure()
	m.scope = scope
	if err := scopesSupported(m.server, m.scope); err != nil {
		m.info("OIDCCCheckScopesSupportedContainScopeTest", err)
		m.skippedBySuite("scopes_supported from discovery shows the server does not support the scopes this module needs (" + err.Error() + ")")
		return
	}
	email := strings.Contains(scope, "email")
	if email {
		m.expectWarning("EnsureIdTokenDoesNotContainEmailForScopeEmail", "Authio puts the email scope's claims in the ID token as well as at /userinfo, "+
			"as Auth0 does and Auth0 SDKs expect (they read the profile from the ID token); OIDC Core §5.4 allows it")
	}
	a := m.newAuthzRequest()
	if reversed {
		f := strings.Fields(a.Params["scope"])
		slices.Reverse(f)
		a.Params["scope"] = strings.Join(f, " ")
		a.Reverse = true
	}
	cb := m.authorize(a, eitherWay)
	code := m.checkCallbackSuccess(a, cb)
	tk := m.exchangeCode(a, code, nil)
	if email {
		m.warn("EnsureIdTokenDoesNotContainName", absent(tk.IDToken.Claims, "name", "the ID token"))
		m.warn("EnsureIdTokenDoesNotContainEmailForScopeEmail", absent(tk.IDToken.Claims, "email", "the ID token"))
	}
	m.requestProtectedResource(tk)
	r := m.userinfo(tk, "get")
	if r.Status != http.StatusOK {
		m.fail("EnsureHttpStatusCodeIs200", fmt.Errorf("userinfo answered %d: %s", r.Status, abbreviate(r.Body, 300)))
	}
	claims := m.userinfoClaims(r)
	m.validateUserinfo(claims, &tk.IDToken)
	m.warn("VerifyScopesReturnedInUserInfoClaims", scopesReturned(claims, a.Params["scope"]))
	if email {
		m.warn("EnsureUserInfoDoesNotContainName", absent(claims, "name", "the userinfo response"))
	}
}

// withParam is a happy flow with one more authorization parameter that must not make it fail.
func withParam(m *module, name, value string) {
	m.configure()
	a := m.newAuthzRequest()
	a.Params[name] = value
	m.happyFlow(a, eitherWay)
}

// promptLogin: after a first sign-in, prompt=login must show the sign-in page again, and auth_time (when
// present) must move on.
func promptLogin(m *module) {
	m.configure()
	_, first := m.happyFlow(m.newAuthzRequest(), eitherWay)
	time.Sleep(time.Second) // WaitForOneSecond: the second sign-in's auth_time differs
	a := m.newAuthzRequest()
	a.Params["prompt"] = "login"
	_, second := m.happyFlow(a, mustSignIn) // ExpectSecondLoginPage
	m.fail("CheckSecondIdTokenAuthTimeIsLaterIfPresent", authTimeLater(first.IDToken, second.IDToken))
}

// maxAge1: two seconds after a sign-in, max_age=1 must show the sign-in page again; the new ID token has a
// recent auth_time, later than the first.
func maxAge1(m *module) {
	m.configure()
	_, first := m.happyFlow(m.newAuthzRequest(), eitherWay)
	time.Sleep(2 * time.Second) // WaitFor2Seconds
	a := m.newAuthzRequest()
	a.Params["max_age"] = "1"
	_, second := m.happyFlow(a, mustSignIn) // ExpectSecondLoginPage
	m.fail("CheckIdTokenAuthTimeClaimPresentDueToMaxAge", authTimePresent(second.IDToken))
	m.fail("CheckSecondIdTokenAuthTimeIsLaterIfPresent", authTimeLater(first.IDToken, second.IDToken))
	m.fail("CheckIdTokenAuthTimeIsRecentIfPresent", authTimeRecent(second.IDToken, time.Now()))
}

// sameAuthTwice is the suite's two-authorization pattern for a user who stays signed in: the second request,
// changed by second, must not ask the user to sign in, and both ID tokens have the same sub and auth_time.
func sameAuthTwice(m *module, first func(*authzRequest), second func(*authzRequest, tokens)) {
	m.configure()
	a := m.newAuthzRequest()
	if first != nil {
		first(a)
	}
	_, t1 := m.happyFlow(a, eitherWay)
	if a.Params["max_age"] != "" {
		m.fail("CheckIdTokenAuthTimeClaimPresentDueToMaxAge", authTimePresent(t1.IDToken))
	}
	b := m.newAuthzRequest()
	second(b, t1)
	_, t2 := m.happyFlow(b, mustNotSignIn)
	if b.Params["max_age"] != "" {
		m.fail("CheckIdTokenAuthTimeClaimPresentDueToMaxAge", authTimePresent(t2.IDToken))
	}
	m.fail("CheckIdTokenAuthTimeClaimsSameIfPresent", sameAuthTime(t1.IDToken, t2.IDToken))
	if t1s, t2s := str(t1.IDToken.Claims["sub"]), str(t2.IDToken.Claims["sub"]); t1s != t2s {
		m.fail("CheckIdTokenSubConsistentForSecondAuthorization", fmt.Errorf("sub %q then %q", t1s, t2s))
	}
}

func authTimePresent(idt jwt) error {
	if _, ok := idt.Claims["auth_time"]; !ok {
		return errors.New("auth_time is missing although max_age was requested")
	}
	return nil
}

func authTimeLater(first, second jwt) error {
	a, ok1 := number(first.Claims["auth_time"])
	b, ok2 := number(second.Claims["auth_time"])
	switch {
	case !ok1 || !ok2:
		return nil
	case a == b:
		return fmt.Errorf("the second ID token has the same auth_time %d as the first: the user was not authenticated again", a)
	case a > b:
		return fmt.Errorf("the second ID token's auth_time %d is earlier than the first's %d", b, a)
	}
	return nil
}

func sameAuthTime(first, second jwt) error {
	a, ok1 := number(first.Claims["auth_time"])
	b, ok2 := number(second.Claims["auth_time"])
	if ok1 && ok2 && a != b {
		return fmt.Errorf("auth_time %d then %d: the second authorization must reuse the first authentication", a, b)
	}
	return nil
}

func authTimeRecent(idt jwt, now time.Time) error {
	at, ok := number(idt.Claims["auth_time"])
	if ok && now.Add(-skew-time.Second).After(time.Unix(at, 0)) {
		return fmt.Errorf("auth_time %d is not recent (now %d)", at, now.Unix())
	}
	return nil
}

// acrValues: acr_values (discovery's acr_values_supported, else "1 2") must not make the request fail; an acr
// claim with one of them SHOULD come back.
func acrValues(m *module) {
	m.configure()
	values := "1 2"
	if list, ok := m.server["acr_values_supported"].([]any); ok {
		var vs []string
		for _, v := range list {
			vs = append(vs, str(v))
		}
		values = strings.Join(vs, " ")
	} else {
		m.expectWarning("ValidateIdTokenACRClaimAgainstAcrValuesRequest", "Authio sets acr only when it means something "+
			"(it advertises no acr_values_supported and has no level called \"1\" or \"2\"); OIDC Core §3.1.2.1 only asks that "+
			"acr_values not make the request fail, which holds")
	}
	a := m.newAuthzRequest()
	a.Params["acr_values"] = values
	_, tk := m.happyFlow(a, eitherWay)
	acr, ok := tk.IDToken.Claims["acr"]
	switch {
	case !ok:
		m.warn("ValidateIdTokenACRClaimAgainstAcrValuesRequest", fmt.Errorf("acr_values %q were requested but the ID token has no acr", values))
	case !slices.Contains(strings.Fields(values), str(acr)):
		m.warn("ValidateIdTokenACRClaimAgainstAcrValuesRequest", fmt.Errorf("acr %v is none of the requested %q", acr, values))
	}
}

// codeReuse: a code redeemed a second time (immediately, or after 30 seconds) is invalid_grant; after the
// 30-second reuse the access token issued with the code should no longer work (RFC 6749 §4.1.2).
func codeReuse(m *module, wait time.Duration) {
	m.configure()
	a := m.newAuthzRequest()
	cb := m.authorize(a, eitherWay)
	code := m.checkCallbackSuccess(a, cb)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.Params["redirect_uri"]}}
	tk := m.requestTokens(form, a.nonce())
	m.requestProtectedResource(tk)
	time.Sleep(wait) // WaitFor30Seconds in oidcc-codereuse-30seconds
	tr := m.callToken(form, m.client, m.authMethod)
	if wait == 0 && tr.Status == http.StatusOK {
		m.warn("ServerAllowedReusingAuthorizationCode", errors.New("a second use of the authorization code was allowed"))
		return
	}
	m.checkTokenError(tr, "invalid_grant")
	if wait > 0 {
		r := m.userinfo(tk, "get")
		if r.Status < 400 || r.Status > 499 {
			m.warn("EnsureHttpStatusCodeIs4xx", fmt.Errorf("the access token issued with the reused code still works at userinfo (%d)", r.Status))
		}
	}
}

// checkTokenError is the suite's check of a token endpoint error: 400, JSON, the expected error and well-formed
// error fields.
func (m *module) checkTokenError(tr *tokenResponse, want string) {
	m.t.Helper()
	if tr.Status != http.StatusBadRequest {
		m.fail("CheckTokenEndpointHttpStatus400", fmt.Errorf("status %d, want 400: %s", tr.Status, abbreviate(tr.Body, 300)))
	}
	m.fail("CheckTokenEndpointReturnedJsonContentType", contentTypeIs(tr.Header.Get("Content-Type"), "application/json"))
	if tr.JSON == nil {
		m.fail("CheckErrorFromTokenEndpointResponseError", fmt.Errorf("the body is not a JSON object: %s", abbreviate(tr.Body, 300)))
		return
	}
	e := str(tr.JSON["error"])
	if e != want {
		m.fail("CheckErrorFromTokenEndpointResponseErrorInvalidGrant", fmt.Errorf("error %q, want %q", e, want))
	}
	m.fail("ValidateErrorFromTokenEndpointResponseError", errorCodeOK(e))
	if d := str(tr.JSON["error_description"]); d != "" {
		m.warn("CheckErrorDescriptionFromTokenEndpointResponseErrorContainsCRLFTAB", noCRLFTab(d))
		m.fail("ValidateErrorDescriptionFromTokenEndpointResponseError", errorDescriptionOK(d))
	}
	m.fail("ValidateErrorUriFromTokenEndpointResponseError", errorURIOK(str(tr.JSON["error_uri"])))
}

// skipIfNoneUnsupported is the request-object modules' skip: the suite skips when discovery lists
// request_object_signing_alg_values_supported without "none".
func (m *module) skipIfNoneUnsupported() bool {
	list, ok := m.server["request_object_signing_alg_values_supported"].([]any)
	if ok && !slices.Contains(list, any("none")) {
		m.skippedBySuite("request_object_signing_alg_values_supported does not list none")
		return true
	}
	return false
}

// unsignedJWT serialises claims as an unsecured JWT (alg none, empty signature).
func unsignedJWT(claims map[string]string) string {
	h, _ := json.Marshal(map[string]string{"alg": "none"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// requestObjectQuery is the query of a request object sent by value: request, plus response_type, client_id,
// scope and redirect_uri (OIDC Core §6.1 wants them outside too) and any parameter whose outside value differs.
func requestObjectQuery(outside, inside map[string]string) *authzRequest {
	q := &authzRequest{Params: map[string]string{"request": unsignedJWT(inside)}}
	for k, v := range outside {
		if slices.Contains([]string{"response_type", "client_id", "scope", "redirect_uri"}, k) || inside[k] != v {
			q.Params[k] = v
		}
	}
	return q
}

// unsignedRequestObject: an unsigned request object by value is processed, or refused with
// request_not_supported (the suite then marks the module skipped).
func unsignedRequestObject(m *module) {
	m.configure()
	if m.skipIfNoneUnsupported() {
		return
	}
	a := m.newAuthzRequest()
	l := m.send(requestObjectQuery(a.Params, a.Params))
	if isLoginPage(l) {
		l = m.b.signIn(l)
	}
	cb := m.callbackOf(l, rpRedirectURI)
	if cb.Query.Get("error") == "request_not_supported" {
		m.skippedBySuite("the OP answered request_not_supported, which the suite accepts: request objects are optional")
		return
	}
	m.warn("CheckDiscEndpointRequestParameterSupported", boolMetadata(m.server, "request_parameter_supported", false))
	code := m.checkCallbackSuccess(a, cb)
	tk := m.exchangeCode(a, code, nil)
	m.requestProtectedResource(tk)
}

// requestObjectWithRedirectURI: the request object's redirect_uri takes precedence over an unregistered one
// outside it; the OP either uses it or shows an invalid-redirect-URI error page, and never redirects to a
// default URI with request_not_supported.
func requestObjectWithRedirectURI(m *module) {
	m.configure()
	if m.skipIfNoneUnsupported() {
		return
	}
	a := m.newAuthzRequest()
	outside := map[string]string{}
	for k, v := range a.Params {
		outside[k] = v
	}
	outside["redirect_uri"] = rpRedirectURI + "_invalid" // AddInvalidRedirectUriToAuthorizationRequest
	l := m.send(requestObjectQuery(outside, a.Params))
	if l.Redirect == nil {
		m.expectErrorPage("ExpectRedirectUriErrorPage", l)
		return
	}
	if isLoginPage(l) {
		l = m.b.signIn(l)
	}
	cb := m.callbackOf(l, rpRedirectURI)
	if cb.Query.Get("error") == "request_not_supported" {
		m.stop("EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri",
			errors.New("the redirect_uri outside the request object was invalid but the OP redirected to a registered one with request_not_supported instead of showing an error page"))
	}
	code := m.checkCallbackSuccess(a, cb)
	tk := m.exchangeCode(a, code, nil)
	m.requestProtectedResource(tk)
}

// claimsEssential: the claims parameter asks for name at userinfo as essential; the request must succeed, and
// name SHOULD come back.
func claimsEssential(m *module) {
	m.configure()
	if supported, _ := m.server["claims_parameter_supported"].(bool); !supported {
		m.expectWarning("EnsureUserInfoContainsName", "Authio does not support the claims parameter (optional, OIDC Core §5.5; "+
			"discovery says claims_parameter_supported false): it is ignored, so name comes back only with the profile scope")
	}
	a := m.newAuthzRequest()
	a.Params["claims"] = `{"userinfo":{"name":{"essential":true}}}`
	_, tk := m.happyFlow(a, eitherWay)
	r := m.userinfo(tk, "get")
	if r.Status != http.StatusOK {
		m.fail("EnsureHttpStatusCodeIs200", fmt.Errorf("userinfo answered %d: %s", r.Status, abbreviate(r.Body, 300)))
	}
	claims := m.userinfoClaims(r)
	m.validateUserinfo(claims, &tk.IDToken)
	m.warn("VerifyScopesReturnedInUserInfoClaims", scopesReturned(claims, a.Params["scope"]))
	if str(claims["name"]) == "" {
		m.warn("EnsureUserInfoContainsName", errors.New("no name in the userinfo response"))
	}
	m.warn("EnsureIdTokenDoesNotContainName", absent(tk.IDToken.Claims, "name", "the ID token"))
}

// boolMetadata is AbstractValidateJsonBoolean with required value true: the metadata must say true (an absent
// value counts as def).
func boolMetadata(server map[string]any, name string, def bool) error {
	v, ok := server[name]
	if !ok {
		if !def {
			return fmt.Errorf("%s is absent, which means false", name)
		}
		return nil
	}
	b, isBool := v.(bool)
	switch {
	case !isBool:
		return fmt.Errorf("%s is not a boolean: %v", name, v)
	case !b:
		return fmt.Errorf("%s is false", name)
	}
	return nil
}
