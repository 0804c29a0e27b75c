package oidf

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// TestRPInitiatedLogoutOP runs the suite's RP-Initiated Logout OP plan
// (oidcc-rp-initiated-logout-certification-test-plan) with discovery, client_secret_basic and the default
// response mode. Each module signs in, sends the browser to end_session_endpoint with the module's parameters
// and checks where it lands.
func TestRPInitiatedLogoutOP(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *op) {
		for _, mod := range logoutModules {
			run(t, p, mod.name, mod.run)
		}
	})
}

var logoutModules = []planModule{
	{"oidcc-rp-initiated-logout-discovery-endpoint-verification", func(m *module) {
		m.discover()
		m.fail("CheckDiscEndpointAllEndpointsAreHttps", allEndpointsHTTPS(m.server))
		m.fail("CheckDiscEndSessionEndpoint", httpsURL(m.server, "end_session_endpoint"))
	}},
	{"oidcc-rp-initiated-logout", func(m *module) { logoutRedirectsBack(m, true) }},
	{"oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", func(m *module) {
		logoutRefused(m, "ExpectPostLogoutRedirectUriNotRegisteredErrorPage", func(req url.Values, _ tokens) {
			req.Set("post_logout_redirect_uri", rpBase+"/bad_post_logout_redirect_uri")
		})
	}},
	{"oidcc-rp-initiated-logout-modified-id-token-hint", func(m *module) {
		logoutRefused(m, "ExpectInvalidIdTokenHintErrorPage", func(req url.Values, tk tokens) {
			req.Set("id_token_hint", algNone(tk.IDToken.Raw)) // ChangeIdTokenToAlgNone
		})
	}},
	{"oidcc-rp-initiated-logout-no-id-token-hint", func(m *module) {
		logoutRefused(m, "ExpectIdTokenHintRequiredErrorPage", func(req url.Values, _ tokens) { req.Del("id_token_hint") })
	}},
	{"oidcc-rp-initiated-logout-no-params", func(m *module) {
		logoutShowsPage(m, func(req url.Values) {
			for k := range req {
				req.Del(k)
			}
		})
	}},
	{"oidcc-rp-initiated-logout-no-post-logout-redirect-uri", func(m *module) {
		logoutShowsPage(m, func(req url.Values) { req.Del("post_logout_redirect_uri") })
	}},
	{"oidcc-rp-initiated-logout-no-state", func(m *module) { logoutRedirectsBack(m, false) }},
	{"oidcc-rp-initiated-logout-only-state", func(m *module) {
		logoutShowsPage(m, func(req url.Values) {
			req.Del("id_token_hint")
			req.Del("post_logout_redirect_uri")
		})
	}},
	{"oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri", func(m *module) {
		logoutRefused(m, "ExpectPostLogoutRedirectUriNotRegisteredErrorPage", func(req url.Values, _ tokens) {
			req.Set("post_logout_redirect_uri", req.Get("post_logout_redirect_uri")+"?foo=bar")
		})
	}},
	{"oidcc-rp-initiated-logout-bad-id-token-hint", func(m *module) {
		logoutRefused(m, "ExpectInvalidIdTokenHintErrorPage", func(req url.Values, _ tokens) {
			req.Set("id_token_hint", fakeIDToken(m))
		})
	}},
}

// signedInForLogout is the first half of every logout module: a 128-character state (the logout modules check
// the OP keeps long states intact), a code flow, and the end-session request the suite starts from:
// id_token_hint (the token endpoint's ID token), post_logout_redirect_uri and a fresh state.
func signedInForLogout(m *module) (url.Values, tokens) {
	m.t.Helper()
	m.stateLen = 128
	m.configure()
	_, tk := m.happyFlow(m.newAuthzRequest(), eitherWay)
	return url.Values{"id_token_hint": {tk.IDToken.Raw}, "post_logout_redirect_uri": {rpPostLogout},
		"state": {endSessionState()}}, tk
}

// endSessionState is CreateRandomEndSessionState: 50 letters, 10 digits and 30 visible ASCII punctuation
// characters (space, + and ; replaced by ~), so the state's round trip is tested with awkward characters.
func endSessionState() string {
	var punct []byte
	for c := byte(0x20); c <= 0x7e; c++ {
		if (c >= 0x20 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e) {
			punct = append(punct, c)
		}
	}
	s := randomString(50, alnum[:52]) + randomString(10, "0123456789") + randomString(30, string(punct))
	return strings.NewReplacer("+", "~", " ", "~", ";", "~").Replace(s)
}

// endSession sends the browser to end_session_endpoint with req.
func (m *module) endSession(req url.Values) landing {
	m.t.Helper()
	endpoint := str(m.server["end_session_endpoint"])
	if endpoint == "" {
		m.stop("BuildRedirectToEndSessionEndpoint", errors.New("no end_session_endpoint in the discovery document"))
	}
	if len(req) > 0 {
		endpoint += "?" + req.Encode()
	}
	return m.b.get(endpoint)
}

// confirmLogout submits the OP's "sign out?" form when the landing is one, as a user (and the suite's browser
// automation) would; it returns where that leads.
func (m *module) confirmLogout(l landing) (landing, bool) {
	m.t.Helper()
	path := "/oidc/logout"
	if u, err := url.Parse(str(m.server["end_session_endpoint"])); err == nil {
		path = u.Path
	}
	if l.Redirect != nil || l.Page.Status != http.StatusOK || !hasForm(l, path) {
		return l, false
	}
	m.t.Logf("the OP asked the user to confirm the sign-out; confirming")
	return m.b.submit(l, nil), true
}

// logoutRedirectsBack is oidcc-rp-initiated-logout (withState) and oidcc-rp-initiated-logout-no-state: the OP
// signs the user out and redirects to the post-logout redirect URI with the state (or none), and afterwards
// prompt=none fails because the user is signed out.
func logoutRedirectsBack(m *module, withState bool) {
	req, _ := signedInForLogout(m)
	if !withState {
		req.Del("state") // RemoveStateFromEndSessionEndpointRequest
	}
	l, _ := m.confirmLogout(m.endSession(req))
	if l.Redirect == nil {
		m.t.Fatalf("the OP did not redirect to the post_logout_redirect_uri: it answered %s\n%s", l, abbreviate(l.Page.Body, 500))
	}
	got := *l.Redirect
	got.RawQuery = ""
	if got.String() != rpPostLogout {
		m.t.Fatalf("the OP redirected to %s, not to the post_logout_redirect_uri %s", l.Redirect, rpPostLogout)
	}
	q := l.Redirect.Query()
	if withState {
		if !q.Has("state") {
			m.fail("CheckPostLogoutState", errors.New("no state in the post-logout redirect"))
		} else if q.Get("state") != req.Get("state") {
			m.fail("CheckPostLogoutState", fmt.Errorf("state %q came back, want %q", q.Get("state"), req.Get("state")))
		}
	} else if q.Has("state") {
		m.fail("CheckNoPostLogoutState", fmt.Errorf("state %q came back although none was sent", q.Get("state")))
	}
	for k := range q {
		if k != "state" {
			m.warn("CheckForUnexpectedParametersInPostLogoutRedirect", fmt.Errorf("unexpected parameter %q in the post-logout redirect", k))
		}
	}
	m.promptNoneMustFail()
}

// logoutRefused is the modules whose end-session request the OP must not honour with a redirect (an
// unregistered or altered post_logout_redirect_uri, a missing, altered or foreign id_token_hint): the OP shows an
// error page or asks the user to confirm, and never redirects to the post-logout redirect URI (neither the
// registered one nor the one asked for), even once the user confirms.
func logoutRefused(m *module, placeholder string, change func(url.Values, tokens)) {
	req, tk := signedInForLogout(m)
	change(req, tk)
	l := m.endSession(req)
	if l.Redirect != nil {
		m.fail(placeholder, fmt.Errorf("the OP redirected to %s; it must show an error or ask the user", l.Redirect))
		return
	}
	if c, confirmed := m.confirmLogout(l); confirmed {
		if c.Redirect != nil {
			m.fail(placeholder, fmt.Errorf("after the user confirmed, the OP redirected to %s", c.Redirect))
		}
		return
	}
	if l.Page.Status < 400 || l.Page.Status > 499 {
		m.fail(placeholder, fmt.Errorf("the OP answered %d with neither an error page nor a confirmation form: %s", l.Page.Status, abbreviate(l.Page.Body, 300)))
		return
	}
	m.t.Logf("placeholder %s: the OP showed an error page (status %d)", placeholder, l.Page.Status)
}

// logoutShowsPage is the modules without a post_logout_redirect_uri: the OP signs the user out (after asking
// for confirmation, if it does) and shows that the user is signed out, without redirecting anywhere. The suite
// leaves "signed out" to the screenshot; here a prompt=none request must then fail.
func logoutShowsPage(m *module, change func(url.Values)) {
	req, _ := signedInForLogout(m)
	change(req)
	l, _ := m.confirmLogout(m.endSession(req))
	switch {
	case l.Redirect != nil:
		m.fail("ExpectSuccessfulLogoutPage", fmt.Errorf("the OP redirected to %s although no post_logout_redirect_uri was sent", l.Redirect))
	case l.Page.Status != http.StatusOK:
		m.fail("ExpectSuccessfulLogoutPage", fmt.Errorf("the OP answered %d, want its signed-out page: %s", l.Page.Status, abbreviate(l.Page.Body, 300)))
	}
	m.promptNoneMustFail()
}

// algNone is ChangeIdTokenToAlgNone: the ID token's claims under an {"alg": "none"} header, without a signature.
func algNone(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return raw
	}
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg": "none"}`)) + "." + parts[1] + "."
}

// fakeIDToken is GenerateFakeIdTokenClaims + SignFakeIdToken: an "ID token" the client itself issued (iss is the
// client id, aud the OP), HS256-signed with the client secret.
func fakeIDToken(m *module) string {
	m.t.Helper()
	now := time.Now()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(m.client.Secret)}, nil)
	if err != nil {
		m.t.Fatalf("HS256 signer: %v", err)
	}
	payload := fmt.Sprintf(`{"iss":%q,"sub":"SubjectID","aud":%q,"nonce":"flibble","iat":%d,"exp":%d}`,
		m.client.ID, str(m.server["issuer"]), now.Unix(), now.Add(5*time.Minute).Unix())
	jws, err := signer.Sign([]byte(payload))
	if err != nil {
		m.t.Fatalf("sign the fake ID token: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		m.t.Fatalf("serialise the fake ID token: %v", err)
	}
	return s
}
