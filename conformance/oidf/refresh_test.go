package oidf

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// refreshToken is oidcc-refresh-token: for each of two clients, a code flow (with offline_access and
// prompt=consent when discovery lists offline_access), a refresh whose answer and ID token are checked, and a
// userinfo call with the new access token; then client 2's refresh token presented by client 1 must be refused
// with invalid_grant.
func refreshToken(m *module) {
	m.configure()
	if list, ok := m.server["scopes_supported"].([]any); ok && slices.Contains(list, any("offline_access")) {
		m.scope = "openid offline_access"
	}
	client1 := m.client
	refreshed := refreshFlow(m, false)
	if refreshed == "" {
		return
	}
	m.client, m.nonceLen = m.op.client2, 43 // the second client also checks a long nonce with every URL-safe character
	rt2 := refreshFlow(m, true)
	if rt2 == "" {
		return
	}
	// Client 2's refresh token, presented with client 1's credentials.
	m.client, m.nonceLen = client1, 10
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}, "scope": {m.scope}}
	tr := m.callToken(form, m.client, m.authMethod)
	if tr.JSON == nil || str(tr.JSON["error"]) == "" {
		m.stop("ValidateErrorFromTokenEndpointResponseError", fmt.Errorf("another client's refresh token was not refused: status %d %s", tr.Status, abbreviate(tr.Body, 300)))
	}
	m.fail("ValidateErrorFromTokenEndpointResponseError", errorCodeOK(str(tr.JSON["error"])))
	if tr.Status != http.StatusBadRequest {
		m.fail("CheckTokenEndpointHttpStatus400", fmt.Errorf("status %d, want 400", tr.Status))
	}
	m.fail("CheckTokenEndpointReturnedJsonContentType", contentTypeIs(tr.Header.Get("Content-Type"), "application/json"))
	if e := str(tr.JSON["error"]); e != "invalid_grant" {
		m.fail("CheckErrorFromTokenEndpointResponseErrorInvalidGrant", fmt.Errorf("error %q, want invalid_grant", e))
	}
}

// refreshFlow runs one client's part of oidcc-refresh-token and returns the refresh token it ends with ("" when
// the module ended).
func refreshFlow(m *module, secondClient bool) string {
	m.t.Helper()
	a := m.newAuthzRequest()
	if strings.Contains(a.Params["scope"], "offline_access") {
		a.Params["prompt"] = "consent" // AddPromptConsentToAuthorizationEndpointRequestIfScopeContainsOfflineAccess
	}
	cb := m.authorize(a, eitherWay)
	code := m.checkCallbackSuccess(a, cb)
	first := m.exchangeCode(a, code, nil)
	rt := first.RefreshToken
	if rt == "" {
		m.info("ExtractRefreshTokenFromTokenResponse", errors.New("no refresh token"))
		if list, ok := m.server["grant_types_supported"].([]any); ok && slices.Contains(list, any("refresh_token")) {
			m.warn("EnsureServerConfigurationDoesNotSupportRefreshToken", errors.New("grant_types_supported lists refresh_token but none was issued"))
		}
		m.skippedBySuite("no refresh token was issued")
		return ""
	}
	if list, ok := m.server["grant_types_supported"].([]any); !ok || !slices.Contains(list, any("refresh_token")) {
		m.warn("EnsureServerConfigurationSupportsRefreshToken", fmt.Errorf("a refresh token was issued but grant_types_supported is %v", m.server["grant_types_supported"]))
	}
	m.fail("EnsureRefreshTokenContainsAllowedCharactersOnly", checkVSChar("the refresh token", rt))

	// RefreshTokenRequestSteps
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if !secondClient {
		form.Set("scope", m.scope) // AddScopeToTokenEndpointRequest
	}
	time.Sleep(time.Second) // WaitForOneSecond: the new ID token's iat must differ
	tr := m.callToken(form, m.client, m.authMethod)
	if tr.Status != http.StatusOK {
		m.fail("CheckTokenEndpointHttpStatus200", fmt.Errorf("status %d: %s", tr.Status, abbreviate(tr.Body, 300)))
	}
	m.fail("CheckTokenEndpointReturnedJsonContentType", contentTypeIs(tr.Header.Get("Content-Type"), "application/json"))
	if !slices.ContainsFunc(strings.Split(tr.Header.Get("Cache-Control"), ","), func(s string) bool { return strings.TrimSpace(s) == "no-store" }) {
		m.fail("CheckTokenEndpointCacheHeaders", fmt.Errorf("Cache-Control %q lacks no-store", tr.Header.Get("Cache-Control")))
	}
	if tr.JSON == nil || str(tr.JSON["error"]) != "" {
		m.stop("CheckIfTokenEndpointResponseError", fmt.Errorf("the refresh failed: %s", abbreviate(tr.Body, 300)))
	}
	second := tokens{Resp: tr, AccessToken: str(tr.JSON["access_token"]), TokenType: str(tr.JSON["token_type"])}
	if second.AccessToken == "" || second.TokenType == "" {
		m.stop("ExtractAccessTokenFromTokenResponse", fmt.Errorf("access_token or token_type missing: %s", abbreviate(tr.Body, 300)))
	}
	if !strings.EqualFold(second.TokenType, "bearer") {
		m.fail("CheckTokenTypeIsBearer", fmt.Errorf("token_type %q", second.TokenType))
	}
	m.fail("EnsureMinimumAccessTokenEntropy", checkEntropy("the access token", second.AccessToken))
	m.fail("EnsureAccessTokenContainsAllowedCharactersOnly", checkVSChar("the access token", second.AccessToken))
	if v, ok := tr.JSON["expires_in"]; ok {
		m.fail("ValidateExpiresIn", validExpiresIn(v))
	} else {
		m.warn("ExtractExpiresInFromTokenEndpointResponse", errors.New("no expires_in in the refresh response"))
	}
	if second.AccessToken == first.AccessToken {
		m.info("EnsureAccessTokenValuesAreDifferent", errors.New("the refresh returned the same access token"))
	}
	if raw := str(tr.JSON["id_token"]); raw != "" {
		idt, err := parseJWT(raw)
		m.info("ExtractIdTokenFromTokenResponse", err)
		if err == nil {
			second.IDToken = idt
			m.fail("CompareIdTokenClaims", compareIDTokens(first.IDToken, idt))
		}
	} else {
		m.info("ExtractIdTokenFromTokenResponse", errors.New("the refresh response has no ID token"))
	}
	if newRT := str(tr.JSON["refresh_token"]); newRT != "" {
		rt = newRT
		m.fail("EnsureMinimumRefreshTokenLength", checkLength("the refresh token", rt))
		m.fail("EnsureMinimumRefreshTokenEntropy", checkEntropy("the refresh token", rt))
	}
	m.requestProtectedResource(second)
	return rt
}

// compareIDTokens is CompareIdTokenClaims (OIDC Core §12.2): iss, sub, aud and auth_time as in the first ID
// token, a new iat, and azp only if the first had it, with the same value.
func compareIDTokens(first, second jwt) error {
	a, b := first.Claims, second.Claims
	for _, c := range []string{"iss", "sub"} {
		if a[c] == nil || b[c] == nil || fmt.Sprint(a[c]) != fmt.Sprint(b[c]) {
			return fmt.Errorf("%s %v then %v: must be present and equal", c, a[c], b[c])
		}
	}
	if a["iat"] == nil || b["iat"] == nil {
		return errors.New("an ID token has no iat")
	}
	if fmt.Sprint(a["iat"]) == fmt.Sprint(b["iat"]) {
		return fmt.Errorf("the refreshed ID token has the first one's iat %v: it must be the time it was issued", a["iat"])
	}
	if !sameAudience(a["aud"], b["aud"]) {
		return fmt.Errorf("aud %v then %v", a["aud"], b["aud"])
	}
	if _, has := b["auth_time"]; has && fmt.Sprint(a["auth_time"]) != fmt.Sprint(b["auth_time"]) {
		return fmt.Errorf("auth_time %v then %v: it must stay the time of the original authentication", a["auth_time"], b["auth_time"])
	}
	if _, had := a["azp"]; !had {
		if _, has := b["azp"]; has {
			return errors.New("the refreshed ID token has azp but the first had none")
		}
	} else if fmt.Sprint(a["azp"]) != fmt.Sprint(b["azp"]) {
		return fmt.Errorf("azp %v then %v", a["azp"], b["azp"])
	}
	return nil
}

func sameAudience(a, b any) bool {
	set := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, str(e))
			}
			slices.Sort(out)
			return slices.Compact(out)
		}
		return nil
	}
	if _, isArray := a.([]any); isArray {
		return slices.Equal(set(a), set(b))
	}
	return a != nil && fmt.Sprint(a) == fmt.Sprint(b)
}
