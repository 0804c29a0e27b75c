package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

const (
	api         = "https://api.acme.test"
	spaRedirect = "https://app.acme.test/callback"
)

type fixture struct {
	env   *testenv.Env
	acme  *testenv.Tenant
	svc   directory.CreatedClient // confidential, client_credentials, audience api
	other directory.CreatedClient // another confidential client
	spa   directory.CreatedClient // public
	c     *http.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	return &fixture{
		env:  env,
		acme: acme,
		svc: acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
			GrantTypes: []string{"client_credentials"}, Audiences: []string{api}, Scopes: []string{"read:things"}}),
		other: acme.NewClient(directory.ClientSpec{Name: "other", Type: storage.ClientConfidential,
			GrantTypes: []string{"client_credentials"}}),
		spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			WebOrigins: []string{appOrigin}}),
		c: env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}}),
	}
}

func TestClientCredentialsWithAudience(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.c)
	jwks := f.acme.JWKS(t, f.c)

	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{name: "client_secret_basic", style: oauth2.AuthStyleInHeader},
		{name: "client_secret_post", style: oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := clientcredentials.Config{ClientID: f.svc.ClientID, ClientSecret: f.svc.ClientSecret,
				TokenURL: f.acme.URL("/oauth/token"), EndpointParams: url.Values{"audience": {api}}, AuthStyle: tc.style,
				Scopes: []string{"read:things"}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("client credentials: %v", err)
			}
			if tok.RefreshToken != "" {
				t.Error("client credentials returned a refresh token")
			}
			header, _ := testenv.DecodeJWT(t, tok.AccessToken)
			if header["typ"] != "at+jwt" {
				t.Errorf("typ = %v", header["typ"])
			}
			_, claims := testenv.VerifyJWT(t, tok.AccessToken, jwks)
			if aud := audiences(claims["aud"]); !slices.Equal(aud, []string{api}) {
				t.Errorf("aud = %v, want [%s]", claims["aud"], api)
			}
			if claims["sub"] != f.svc.ClientID || claims["client_id"] != f.svc.ClientID || claims["iss"] != f.acme.Issuer {
				t.Errorf("sub/client_id/iss = %v/%v/%v", claims["sub"], claims["client_id"], claims["iss"])
			}
			if claims["scope"] != "read:things" {
				t.Errorf("scope = %v, want read:things", claims["scope"])
			}
		})
	}

	for _, tc := range []struct {
		name   string
		form   url.Values
		opts   []testenv.RequestOption
		status int
		errs   []string
	}{
		{name: "wrong secret (basic)", form: url.Values{}, opts: []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, "wrong-secret")},
			status: http.StatusUnauthorized, errs: []string{"invalid_client"}},
		{name: "wrong secret (post)", form: url.Values{"client_id": {f.svc.ClientID}, "client_secret": {"wrong-secret"}},
			status: http.StatusUnauthorized, errs: []string{"invalid_client"}},
		{name: "no secret", form: url.Values{"client_id": {f.svc.ClientID}},
			status: http.StatusUnauthorized, errs: []string{"invalid_client"}},
		{name: "unknown client", form: url.Values{}, opts: []testenv.RequestOption{testenv.BasicAuth("cli_nobody", "x")},
			status: http.StatusUnauthorized, errs: []string{"invalid_client"}},
		{name: "audience the client was not created with", form: url.Values{"audience": {"https://billing.acme.test"}},
			opts:   []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret)},
			status: http.StatusBadRequest, errs: []string{"invalid_request", "invalid_target"}},
		{name: "scope the client was not created with", form: url.Values{"audience": {api}, "scope": {"admin"}},
			opts:   []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret)},
			status: http.StatusBadRequest, errs: []string{"invalid_scope"}},
		{name: "public client", form: url.Values{"client_id": {f.spa.ClientID}},
			status: 0, errs: []string{"unauthorized_client", "invalid_client", "invalid_grant"}},
		{name: "client not allowed the grant", form: url.Values{"client_id": {f.spa.ClientID}, "client_secret": {"x"}},
			status: 0, errs: []string{"unauthorized_client", "invalid_client", "invalid_grant"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range tc.form {
				form[k] = v
			}
			r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/token"), form, tc.opts...)
			if r.StatusCode == http.StatusOK {
				t.Fatalf("token issued: %s", r.Body)
			}
			if tc.status != 0 && r.StatusCode != tc.status {
				t.Errorf("status %d, want %d\n%s", r.StatusCode, tc.status, r.Body)
			}
			if r.StatusCode < 400 || r.StatusCode > 499 {
				t.Errorf("status %d, want 4xx", r.StatusCode)
			}
			if e := testenv.OAuthError(t, r); !slices.Contains(tc.errs, e) {
				t.Errorf("error %q, want one of %v\n%s", e, tc.errs, r.Body)
			}
		})
	}

	t.Run("public clients cannot be created with client_credentials", func(t *testing.T) {
		_, err := f.env.S.CreateClient(f.acme.Ctx, directory.ClientSpec{Name: "bad", Type: storage.ClientPublic,
			GrantTypes: []string{"client_credentials"}})
		if err == nil {
			t.Fatal("created a public client with client_credentials")
		}
	})
}

func TestIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acme := f.acme
	token := func(t *testing.T) string {
		return testenv.TokensOf(t, acme.ClientCredentials(t, f.c, f.svc.ClientID, f.svc.ClientSecret, url.Values{"audience": {api}})).AccessToken
	}
	introspect := func(t *testing.T, tok string) map[string]any {
		return acme.Introspect(t, f.c, f.other.ClientID, f.other.ClientSecret, tok)
	}
	revoke := func(t *testing.T, tok string, opts ...testenv.RequestOption) *testenv.Response {
		return testenv.PostForm(t, f.c, acme.URL("/oauth/revoke"), url.Values{"token": {tok}}, opts...)
	}

	t.Run("active token", func(t *testing.T) {
		tok := token(t)
		got := introspect(t, tok)
		if got["active"] != true {
			t.Fatalf("introspection = %v, want active", got)
		}
		if got["client_id"] != f.svc.ClientID || got["sub"] != f.svc.ClientID {
			t.Errorf("client_id/sub = %v/%v", got["client_id"], got["sub"])
		}
		if aud := audiences(got["aud"]); !slices.Equal(aud, []string{api}) {
			t.Errorf("aud = %v", got["aud"])
		}
		if _, ok := got["exp"]; !ok {
			t.Error("no exp")
		}
	})

	t.Run("revoked by its client", func(t *testing.T) {
		tok := token(t)
		if r := revoke(t, tok, testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret)); r.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
		}
		if got := introspect(t, tok); got["active"] != false {
			t.Errorf("after revocation: %v, want inactive", got)
		}
		// RFC 7009: revoking an unknown or already revoked token is not an error.
		if r := revoke(t, tok, testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret)); r.StatusCode != http.StatusOK {
			t.Errorf("second revocation: %d %s", r.StatusCode, r.Body)
		}
	})

	t.Run("not revocable by another client", func(t *testing.T) {
		tok := token(t)
		revoke(t, tok, testenv.BasicAuth(f.other.ClientID, f.other.ClientSecret))
		if got := introspect(t, tok); got["active"] != true {
			t.Errorf("another client revoked the token: %v", got)
		}
	})

	t.Run("revocation requires client authentication", func(t *testing.T) {
		tok := token(t)
		r := revoke(t, tok, testenv.BasicAuth(f.svc.ClientID, "wrong"))
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("revoke with a wrong secret: %d, want 401", r.StatusCode)
		}
		if got := introspect(t, tok); got["active"] != true {
			t.Errorf("an unauthenticated revocation revoked the token: %v", got)
		}
	})

	for _, tc := range []struct {
		name string
		// prepare adds credentials (or what passes for them) to the introspection request.
		prepare func(t *testing.T, form url.Values) []testenv.RequestOption
	}{
		{name: "no credentials", prepare: func(*testing.T, url.Values) []testenv.RequestOption { return nil }},
		{name: "wrong secret", prepare: func(*testing.T, url.Values) []testenv.RequestOption {
			return []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, "wrong")}
		}},
		{name: "public client without a secret", prepare: func(*testing.T, url.Values) []testenv.RequestOption {
			return []testenv.RequestOption{testenv.BasicAuth(f.spa.ClientID, "")}
		}},
		{name: "wrong credentials in the body", prepare: func(_ *testing.T, form url.Values) []testenv.RequestOption {
			form.Set("client_id", f.svc.ClientID)
			form.Set("client_secret", "wrong")
			return nil
		}},
		// Introspection is for clients (resource servers) authenticating as themselves: discovery advertises
		// client_secret_basic only. An access token is not a credential for it, least of all one a browser holds.
		{name: "wrong secret with an access_token parameter", prepare: func(t *testing.T, form url.Values) []testenv.RequestOption {
			form.Set("access_token", token(t))
			return []testenv.RequestOption{testenv.BasicAuth(f.svc.ClientID, "wrong")}
		}},
		{name: "a public client's user access token as bearer credential", prepare: func(t *testing.T, _ url.Values) []testenv.RequestOption {
			acme.NewUser("bob@acme.test")
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			user := testenv.TokensOf(t, ar.Exchange(t, acme, f.c, ar.Code(t, acme, f.c, "bob@acme.test", testenv.Password)))
			return []testenv.RequestOption{testenv.Bearer(user.AccessToken)}
		}},
	} {
		t.Run("unauthenticated introspection/"+tc.name, func(t *testing.T) {
			form := url.Values{"token": {token(t)}}
			opts := tc.prepare(t, form)
			r := testenv.PostForm(t, f.c, acme.URL("/oauth/introspect"), form, opts...)
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401\n%s", r.StatusCode, r.Body)
			}
			if strings.Contains(r.Body, f.svc.ClientID) {
				t.Errorf("refused introspection reveals the token's client: %s", r.Body)
			}
		})
	}
}

func TestTokenEndpointRejectsOversizedBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	big := url.Values{"grant_type": {"client_credentials"}, "audience": {api}, "padding": {strings.Repeat("a", 70<<10)}}
	r := testenv.PostForm(t, f.c, f.acme.URL("/oauth/token"), big, testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret))
	if r.StatusCode < 400 || r.StatusCode > 499 {
		t.Errorf("status %d for a %d-byte body, want 4xx\n%.300s", r.StatusCode, len(big.Encode()), r.Body)
	}
	if strings.Contains(r.Body, "access_token") {
		t.Error("a token was issued for an oversized request")
	}
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}
