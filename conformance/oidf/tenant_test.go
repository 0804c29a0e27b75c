package oidf

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// crossTenant is Authio's own check, run with the conformance RP: what the conformance tenant issued is worth
// nothing on another tenant of the same server. Its client is unknown there (an error page, no redirect), its
// access token is refused by that tenant's userinfo, its ID token does not verify with that tenant's keys, and
// its refresh token and client credentials are refused by that tenant's token endpoint.
func crossTenant(m *module) {
	m.configure()
	a := m.newAuthzRequest()
	a.Params["scope"] = "openid offline_access"
	cb := m.authorize(a, eitherWay)
	code := m.checkCallbackSuccess(a, cb)
	tk := m.exchangeCode(a, code, nil)
	other := "https://" + m.op.other.Host

	b := m.newAuthzRequest()
	m.expectErrorPage("authio: another tenant's client at /authorize", m.b.get(other+"/authorize?"+b.query()))

	h := http.Header{"Authorization": {"Bearer " + tk.AccessToken}, "Accept": {"application/json"}}
	if r := m.b.do(m.b.request(http.MethodGet, other+"/userinfo", nil, h)); r.Status != http.StatusUnauthorized {
		m.fail("authio: another tenant's access token at /userinfo", fmt.Errorf("status %d, want 401: %s", r.Status, abbreviate(r.Body, 300)))
	}

	jwks := m.b.do(m.b.request(http.MethodGet, other+"/.well-known/jwks.json", nil, nil))
	if err := verifySignature(tk.IDToken.Raw, []byte(jwks.Body)); err == nil {
		m.fail("authio: another tenant's keys", errors.New("the ID token verifies with another tenant's JWKS"))
	}

	if tk.RefreshToken == "" {
		m.fail("authio: refresh token", errors.New("no refresh token for offline_access"))
		return
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}
	saved := m.server["token_endpoint"]
	m.server["token_endpoint"] = other + "/oauth/token"
	tr := m.callToken(form, m.client, m.authMethod)
	m.server["token_endpoint"] = saved
	if tr.Status != http.StatusUnauthorized || str(tr.JSON["error"]) != "invalid_client" {
		m.fail("authio: another tenant's client at /oauth/token", fmt.Errorf("status %d, want 401 invalid_client: %s", tr.Status, abbreviate(tr.Body, 300)))
	}
	// The refresh token still works where it was issued: the refusal above changed nothing.
	if r := m.callToken(form, m.client, m.authMethod); r.Status != http.StatusOK {
		m.fail("authio: refresh at the issuing tenant", fmt.Errorf("status %d: %s", r.Status, abbreviate(r.Body, 300)))
	}
}
