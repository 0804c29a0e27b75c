package router_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

const (
	spaRedirect = "https://app.acme.test/callback"
	spaOrigin   = "https://app.acme.test"
)

// acmeSetup is a server with tenant acme, one user, a public SPA client and a confidential service client.
type acmeSetup struct {
	env  *testenv.Env
	acme *testenv.Tenant
	user storage.User
	spa  directory.CreatedClient
	svc  directory.CreatedClient
}

func newAcme(t *testing.T) *acmeSetup {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	return &acmeSetup{
		env:  env,
		acme: acme,
		user: acme.NewUser("alice@acme.test"),
		spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			PostLogoutRedirectURIs: []string{spaOrigin + "/bye"}, WebOrigins: []string{spaOrigin}}),
		svc: acme.NewClient(directory.ClientSpec{Name: "api", Type: storage.ClientConfidential,
			GrantTypes: []string{"client_credentials"}, Audiences: []string{"https://api.acme.test"}}),
	}
}

func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	acme := s.acme
	browser := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	// step is the same browser (same cookie jar) that shows the test every redirect.
	step := s.env.Client(testenv.ClientOptions{Jar: browser.Jar, NoRedirects: true})
	ctx := oidc.ClientContext(context.Background(), browser)

	provider, err := oidc.NewProvider(ctx, acme.Issuer)
	if err != nil {
		t.Fatalf("discovery through go-oidc: %v", err)
	}
	conf := oauth2.Config{
		ClientID: s.spa.ClientID, RedirectURL: spaRedirect, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	state, nonce := testenv.RandomString(12), testenv.RandomString(12)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	// 1. No session: /authorize stores the request as a sign-in flow and sends the browser to the sign-in page
	// with only the flow's id: none of the request's parameters ride along.
	r := testenv.Get(t, step, authURL)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("GET /authorize: status %d, want 302\n%s", r.StatusCode, r.Body)
	}
	loginURL := r.Location(t)
	if loginURL.Host != acme.Host || loginURL.Path != "/login" {
		t.Fatalf("redirected to %s, want %s/login", loginURL, acme.Issuer)
	}
	flow := loginURL.Query().Get("state")
	if !strings.HasPrefix(flow, "flw_") || len(loginURL.Query()) != 1 || strings.Contains(loginURL.String(), state) {
		t.Fatalf("sign-in URL %s, want /login?state=<flow id> and nothing else", loginURL)
	}
	var flowCookie *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "authio_flow" {
			flowCookie = ck
		}
	}
	if flowCookie == nil || !flowCookie.HttpOnly || flowCookie.SameSite != http.SameSiteLaxMode || flowCookie.Domain != "" || flowCookie.Path != "/" {
		t.Fatalf("flow cookie %+v, want a host-only, HttpOnly, SameSite=Lax cookie binding the flow to this browser", flowCookie)
	}

	// 2. The sign-in page: a CSRF token and the flow id as hidden inputs.
	r = testenv.Get(t, step, loginURL.String())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: status %d", r.StatusCode)
	}
	form := testenv.ParseForm(t, r.Body)
	if form.Inputs["csrf_token"] != "hidden" || form.Fields.Get("csrf_token") == "" {
		t.Fatalf("login form has no hidden csrf_token: %v", form.Fields)
	}
	if form.Fields.Get("state") != flow {
		t.Errorf("hidden state = %q, want the flow id %q", form.Fields.Get("state"), flow)
	}

	// 3. Sign in: 303 on to the flow, with a host-only, HttpOnly, SameSite session cookie.
	r = testenv.PostForm(t, step, acme.URL("/login"), url.Values{
		"email": {"alice@acme.test"}, "password": {testenv.Password},
		"csrf_token": {form.Fields.Get("csrf_token")}, "state": {flow},
	}, testenv.Header("Origin", acme.Issuer))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: status %d, want 303\n%s", r.StatusCode, r.Body)
	}
	if got, want := r.Header.Get("Location"), "/authorize/resume?state="+flow; got != want {
		t.Errorf("POST /login Location = %q, want %q", got, want)
	}
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "authio_session" {
			session = ck
		}
	}
	if session == nil || session.Value == "" {
		t.Fatalf("no session cookie set: %v", r.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Domain != "" {
		t.Errorf("session cookie: HttpOnly=%v SameSite=%v Domain=%q, want HttpOnly, Lax, host-only",
			session.HttpOnly, session.SameSite, session.Domain)
	}

	// 4. The flow's last step: redirect to the client with code, state and iss.
	r = testenv.Get(t, browser, r.Location(t).String())
	cb := r.Location(t)
	if !strings.HasPrefix(cb.String(), spaRedirect+"?") {
		t.Fatalf("redirected to %s, want %s", cb, spaRedirect)
	}
	if cb.Query().Get("state") != state || cb.Query().Get("iss") != acme.Issuer || cb.Query().Get("code") == "" {
		t.Fatalf("callback query = %v, want code, state %q and iss %q", cb.Query(), state, acme.Issuer)
	}

	// 5. Exchange with the verifier.
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}

	// 6. The ID token verifies with go-oidc against the tenant's JWKS.
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.spa.ClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.Subject != s.user.ID {
		t.Errorf("ID token sub = %q, want %q", idt.Subject, s.user.ID)
	}
	var idc struct {
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		SID      string   `json:"sid"`
		Email    string   `json:"email"`
	}
	if err := idt.Claims(&idc); err != nil {
		t.Fatal(err)
	}
	if idc.AuthTime == 0 || idc.AuthTime > idt.IssuedAt.Unix() {
		t.Errorf("auth_time = %d, want a time no later than iat %d", idc.AuthTime, idt.IssuedAt.Unix())
	}
	if !slices.Equal(idc.AMR, []string{"pwd"}) {
		t.Errorf("amr = %v, want [pwd]", idc.AMR)
	}
	if !strings.HasPrefix(idc.SID, "ses_") {
		t.Errorf("sid = %q, want a session id", idc.SID)
	}
	if idc.Email != "alice@acme.test" {
		t.Errorf("ID token email = %q", idc.Email)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil && idt.AccessTokenHash != "" {
		t.Errorf("at_hash does not match the access token: %v", err)
	}

	// 7. The access token is an RFC 9068 JWT signed by a key in JWKS.
	header, _ := testenv.DecodeJWT(t, tok.AccessToken)
	if header["typ"] != "at+jwt" {
		t.Errorf("access token typ = %v, want at+jwt", header["typ"])
	}
	kid, claims := testenv.VerifyJWT(t, tok.AccessToken, acme.JWKS(t, browser))
	if header["kid"] != kid || !slices.Contains(acme.KeyIDs(t), kid) {
		t.Errorf("access token kid %v is not the tenant's key", header["kid"])
	}
	if claims["iss"] != acme.Issuer || claims["sub"] != s.user.ID || claims["client_id"] != s.spa.ClientID {
		t.Errorf("access token iss/sub/client_id = %v/%v/%v, want %s/%s/%s", claims["iss"], claims["sub"], claims["client_id"],
			acme.Issuer, s.user.ID, s.spa.ClientID)
	}
	if sc, _ := claims["scope"].(string); !slices.Contains(strings.Fields(sc), "openid") {
		t.Errorf("access token scope = %v", claims["scope"])
	}
	if claims["sid"] != idc.SID {
		t.Errorf("access token sid = %v, want the ID token's %q", claims["sid"], idc.SID)
	}
	for _, c := range []string{"exp", "iat", "jti", "aud"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("access token lacks %s", c)
		}
	}

	// 8. userinfo.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != s.user.ID || ui.Email != "alice@acme.test" {
		t.Errorf("userinfo sub/email = %q/%q", ui.Subject, ui.Email)
	}

	// 9. The code is single-use.
	_, err = conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("second exchange of the code: err = %v, want invalid_grant", err)
	}
}

func TestTokenResponsesAreNotCached(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	c := s.env.Client(testenv.ClientOptions{})
	for _, tc := range []struct {
		name string
		form url.Values
		auth testenv.RequestOption
	}{
		{name: "success", form: url.Values{"grant_type": {"client_credentials"}}, auth: testenv.BasicAuth(s.svc.ClientID, s.svc.ClientSecret)},
		{name: "error", form: url.Values{"grant_type": {"client_credentials"}}, auth: testenv.BasicAuth(s.svc.ClientID, "wrong")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.PostForm(t, c, s.acme.URL("/oauth/token"), tc.form, tc.auth)
			if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

func TestPKCERules(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	signedIn := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	if r := s.acme.SignIn(t, signedIn, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK {
		t.Fatalf("sign in: status %d\n%s", r.StatusCode, r.Body)
	}

	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{name: "no code_challenge", extra: url.Values{"code_challenge": {""}, "code_challenge_method": {""}}},
		{name: "plain method", extra: url.Values{"code_challenge": {testenv.RandomString(32)}, "code_challenge_method": {"plain"}}},
		{name: "challenge without a method (plain by default)", extra: url.Values{"code_challenge_method": {""}}},
		{name: "unknown method", extra: url.Values{"code_challenge_method": {"S512"}}},
	} {
		for _, who := range []struct {
			name string
			c    *http.Client
		}{
			{name: "signed in", c: signedIn},
			// The request is invalid whoever asks: nobody should have to sign in only to be told so.
			{name: "no session", c: s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}, NoRedirects: true})},
		} {
			t.Run(tc.name+"/"+who.name, func(t *testing.T) {
				ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
				ar.Extra = tc.extra
				r := testenv.Get(t, who.c, ar.URL(s.acme))
				q := ar.Callback(t, s.acme, r)
				if q.Get("error") != "invalid_request" || q.Get("code") != "" {
					t.Errorf("callback = %v, want error=invalid_request and no code", q)
				}
			})
		}
	}

	t.Run("wrong verifier", func(t *testing.T) {
		ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
		code := ar.Code(t, s.acme, signedIn, "", "")
		ar.Verifier = testenv.RandomString(32)
		r := ar.Exchange(t, s.acme, signedIn, code)
		if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Errorf("exchange with a wrong verifier: %d %s, want 400 invalid_grant", r.StatusCode, r.Body)
		}
		ar.Verifier = ""
		if r := ar.Exchange(t, s.acme, signedIn, code); r.StatusCode == http.StatusOK {
			t.Errorf("exchange without a verifier succeeded: %s", r.Body)
		}
	})
}

func TestRefreshTokenRotationAndReuseDetection(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	acme := s.acme
	c := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
	first := testenv.TokensOf(t, ar.Exchange(t, acme, c, ar.Code(t, acme, c, "alice@acme.test", testenv.Password)))
	if first.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refresh := func(rt string) *testenv.Response {
		return testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.spa.ClientID},
		})
	}
	active := func(token string) bool {
		return acme.Introspect(t, c, s.svc.ClientID, s.svc.ClientSecret, token)["active"] == true
	}

	second := testenv.TokensOf(t, refresh(first.RefreshToken))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh did not rotate the refresh token: %q", second.RefreshToken)
	}
	if second.AccessToken == first.AccessToken {
		t.Error("refresh returned the same access token")
	}
	if !active(second.AccessToken) {
		t.Fatal("the refreshed access token is not active")
	}
	if second.IDToken == "" {
		t.Error("refresh of an openid grant returned no ID token")
	}

	r := refresh(first.RefreshToken)
	if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
		t.Fatalf("replay of the old refresh token: %d %s, want 400 invalid_grant", r.StatusCode, r.Body)
	}
	r = refresh(second.RefreshToken)
	if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
		t.Errorf("refresh token of a family whose old token was replayed: %d %s, want 400 invalid_grant", r.StatusCode, r.Body)
	}
	if active(second.AccessToken) {
		t.Error("the family's access token is still active after reuse was detected")
	}
	if active(first.AccessToken) {
		t.Error("the first access token is still active")
	}
}

// TestCodesAndTokensAreBound: a code belongs to one client and one redirect URI, is used once (reuse revokes
// what it issued), and a refresh token belongs to its client.
func TestCodesAndTokensAreBound(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	acme := s.acme
	other := acme.NewClient(directory.ClientSpec{Name: "other", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect, spaOrigin + "/other"}})
	c := s.env.Client(testenv.ClientOptions{StopAt: []string{spaOrigin}})
	if r := acme.SignIn(t, c, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d", r.StatusCode)
	}
	code := func(t *testing.T) (*testenv.AuthRequest, string) {
		ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
		return ar, ar.Code(t, acme, c, "", "")
	}
	active := func(t *testing.T, tok string) bool {
		return acme.Introspect(t, c, s.svc.ClientID, s.svc.ClientSecret, tok)["active"] == true
	}
	refresh := func(t *testing.T, clientID, rt string) *testenv.Response {
		return testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}})
	}

	for _, tc := range []struct {
		name   string
		modify func(v url.Values)
	}{
		{name: "another redirect_uri", modify: func(v url.Values) { v.Set("redirect_uri", spaOrigin+"/other") }},
		{name: "no redirect_uri", modify: func(v url.Values) { v.Del("redirect_uri") }},
		{name: "another client", modify: func(v url.Values) { v.Set("client_id", other.ClientID) }},
	} {
		t.Run("code with "+tc.name, func(t *testing.T) {
			ar, cd := code(t)
			v := url.Values{"grant_type": {"authorization_code"}, "code": {cd}, "redirect_uri": {spaRedirect},
				"client_id": {s.spa.ClientID}, "code_verifier": {ar.Verifier}}
			tc.modify(v)
			r := testenv.PostForm(t, c, acme.URL("/oauth/token"), v)
			if r.StatusCode == http.StatusOK {
				t.Fatalf("code redeemed: %s", r.Body)
			}
			if e := testenv.OAuthError(t, r); e != "invalid_grant" && e != "invalid_request" {
				t.Errorf("error %q, want invalid_grant", e)
			}
		})
	}

	t.Run("reusing a code revokes what it issued", func(t *testing.T) {
		ar, cd := code(t)
		tok := testenv.TokensOf(t, ar.Exchange(t, acme, c, cd))
		if r := ar.Exchange(t, acme, c, cd); r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Fatalf("second exchange: %d %s", r.StatusCode, r.Body)
		}
		if active(t, tok.AccessToken) {
			t.Error("the access token issued for the reused code is still active")
		}
		if r := refresh(t, s.spa.ClientID, tok.RefreshToken); r.StatusCode == http.StatusOK {
			t.Error("the refresh token issued for the reused code still works")
		}
	})

	t.Run("refresh token of another client", func(t *testing.T) {
		ar, cd := code(t)
		tok := testenv.TokensOf(t, ar.Exchange(t, acme, c, cd))
		if r := refresh(t, other.ClientID, tok.RefreshToken); r.StatusCode == http.StatusOK || testenv.OAuthError(t, r) != "invalid_grant" {
			t.Errorf("another client refreshed: %d %s", r.StatusCode, r.Body)
		}
		testenv.TokensOf(t, refresh(t, s.spa.ClientID, tok.RefreshToken))
	})

	t.Run("userinfo accepts access tokens only", func(t *testing.T) {
		ar, cd := code(t)
		tok := testenv.TokensOf(t, ar.Exchange(t, acme, c, cd))
		m2m := testenv.TokensOf(t, acme.ClientCredentials(t, c, s.svc.ClientID, s.svc.ClientSecret, nil))
		for _, tc := range []struct {
			name   string
			opts   []testenv.RequestOption
			status int
		}{
			{name: "access token", opts: []testenv.RequestOption{testenv.Bearer(tok.AccessToken)}, status: http.StatusOK},
			{name: "refresh token", opts: []testenv.RequestOption{testenv.Bearer(tok.RefreshToken)}, status: http.StatusUnauthorized},
			{name: "ID token", opts: []testenv.RequestOption{testenv.Bearer(tok.IDToken)}, status: http.StatusUnauthorized},
			{name: "client credentials token", opts: []testenv.RequestOption{testenv.Bearer(m2m.AccessToken)}, status: http.StatusForbidden},
			{name: "garbage", opts: []testenv.RequestOption{testenv.Bearer("garbage")}, status: http.StatusUnauthorized},
			{name: "no token", status: http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := testenv.Get(t, c, acme.URL("/userinfo"), tc.opts...)
				if r.StatusCode != tc.status {
					t.Errorf("status %d, want %d\n%s", r.StatusCode, tc.status, r.Body)
				}
				if tc.status != http.StatusOK && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
			})
		}
	})
}

// TestGoOIDCVerifiesSwitchedIDToken: the ID token an organization switch returns (RFC 8693 token exchange from a
// sign-in with openid) verifies with go-oidc against discovery and JWKS of the issuer with its trailing slash,
// as the sign-in's does, and belongs to the same sign-in in the new organization.
func TestGoOIDCVerifiesSwitchedIDToken(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		ctx := oidc.ClientContext(context.Background(), o.browser)
		if !strings.HasSuffix(o.acme.Issuer, "/") {
			t.Fatalf("issuer %q without the trailing slash", o.acme.Issuer)
		}
		provider, err := oidc.NewProvider(ctx, o.acme.Issuer)
		if err != nil {
			t.Fatalf("discovery through go-oidc: %v", err)
		}
		verifier := provider.Verifier(&oidc.Config{ClientID: o.spa.ClientID})
		_, signedIn := o.signIn(t, o.browser, "alice@acme.test", url.Values{"organization": {"acme-corp"}})
		first, err := verifier.Verify(ctx, signedIn.IDToken)
		if err != nil {
			t.Fatalf("verify the sign-in's ID token: %v", err)
		}

		x := o.exchange(t, url.Values{"subject_token": {signedIn.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess},
			"organization": {"globex"}})
		tk := testenv.TokensOf(t, x)
		switched, err := verifier.Verify(ctx, tk.IDToken)
		if err != nil {
			t.Fatalf("verify the switched ID token: %v\n%s", err, x.Body)
		}
		if err := switched.VerifyAccessToken(tk.AccessToken); err != nil || switched.AccessTokenHash == "" {
			t.Errorf("at_hash %q does not bind the new access token: %v", switched.AccessTokenHash, err)
		}
		type idClaims struct {
			SID      string   `json:"sid"`
			AuthTime int64    `json:"auth_time"`
			AMR      []string `json:"amr"`
			OrgID    string   `json:"org_id"`
			OrgName  string   `json:"org_name"`
		}
		var before, after idClaims
		if err := first.Claims(&before); err != nil {
			t.Fatal(err)
		}
		if err := switched.Claims(&after); err != nil {
			t.Fatal(err)
		}
		if switched.Subject != first.Subject || switched.Issuer != o.acme.Issuer || after.SID == "" || after.SID != before.SID ||
			after.AuthTime != before.AuthTime || !slices.Equal(after.AMR, before.AMR) {
			t.Errorf("switched ID token sub/iss/sid/auth_time/amr = %s/%s/%s/%d/%v, want the sign-in's %s/%s/%s/%d/%v",
				switched.Subject, switched.Issuer, after.SID, after.AuthTime, after.AMR,
				first.Subject, o.acme.Issuer, before.SID, before.AuthTime, before.AMR)
		}
		if after.OrgID != o.globex.ID || after.OrgName != o.globex.Name || before.OrgID != o.acmeOrg.ID {
			t.Errorf("org_id %s -> %s, want %s -> %s", before.OrgID, after.OrgID, o.acmeOrg.ID, o.globex.ID)
		}
		// The same token presented to another tenant's issuer does not verify there.
		other := o.env.NewTenant("initech")
		otherProvider, err := oidc.NewProvider(ctx, other.Issuer)
		if err != nil {
			t.Fatalf("discovery of initech: %v", err)
		}
		if _, err := otherProvider.Verifier(&oidc.Config{ClientID: o.spa.ClientID}).Verify(ctx, tk.IDToken); err == nil {
			t.Error("acme's switched ID token verifies against initech's issuer")
		}
	})
}
