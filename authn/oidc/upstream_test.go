package oidc_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/authn/oidc"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// The upstream kind end to end, with a second Authio tenant of the same test server ("idp") as the identity
// provider of the first ("acme"): acme's sign-in page sends the browser to idp's /authorize, the user signs in
// there with idp's hosted form, and idp sends the browser back to acme's callback with a code.

const appRedirect = "https://app.acme.test/callback"

type upstreamFixture struct {
	env        *testenv.Env
	acme, idp  *testenv.Tenant
	globex     *testenv.Tenant
	app        directory.CreatedClient
	upstream   directory.CreatedClient // idp's client for acme
	conn       storage.Connection      // acme's connection to idp
	globexConn storage.Connection
}

func newUpstreamFixture(t *testing.T, o testenv.Options) *upstreamFixture {
	t.Helper()
	env := testenv.New(t, o)
	f := &upstreamFixture{env: env, acme: env.NewTenant("acme"), idp: env.NewTenant("idp"), globex: env.NewTenant("globex")}
	f.app = f.acme.NewClient(directory.ClientSpec{Name: "app", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect}})
	f.upstream = f.idp.NewClient(directory.ClientSpec{Name: "acme", Type: storage.ClientConfidential,
		RedirectURIs: []string{f.acme.URL("/login/callback")}, GrantTypes: []string{"authorization_code"}})
	f.conn = f.connection(t, f.acme, "idp", "oidc", map[string]any{"issuer": f.idp.Issuer, "client_id": f.upstream.ClientID,
		"client_secret": f.upstream.ClientSecret, "display_name": "Idp Corp"})
	f.globexConn = f.connection(t, f.globex, "globex-idp", "oidc", map[string]any{"issuer": f.idp.Issuer,
		"client_id": f.upstream.ClientID, "client_secret": f.upstream.ClientSecret})
	return f
}

func (f *upstreamFixture) connection(t *testing.T, tn *testenv.Tenant, name, strategy string, settings map[string]any) storage.Connection {
	t.Helper()
	c, err := f.env.S.CreateConnection(tn.Ctx, signin.ConnectionSpec{Name: name, Strategy: strategy, Settings: settings})
	if err != nil {
		t.Fatalf("create connection %s: %v", name, err)
	}
	return c
}

// idpUser makes a user of idp whose email is verified there, or not.
func (f *upstreamFixture) idpUser(t *testing.T, email string, verified bool) storage.User {
	t.Helper()
	u := f.idp.NewUser(email)
	setVerified(t, f.idp, u.ID, verified)
	return u
}

func setVerified(t *testing.T, tn *testenv.Tenant, id string, verified bool) {
	t.Helper()
	if err := tn.Env.S.Store.UpdateUser(tn.Ctx, id, func(u storage.User) (storage.User, error) {
		u.EmailVerified = verified
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// signIn is one browser's sign-in to acme's app through connection name: it returns the acme flow id, the URL
// acme sent the browser to (idp's /authorize) and the browser.
type signIn struct {
	ar      *testenv.AuthRequest
	flow    string
	browser *http.Client
	toIdP   *url.URL
}

func (f *upstreamFixture) start(t *testing.T, tn *testenv.Tenant, app directory.CreatedClient, connection string) *signIn {
	t.Helper()
	s := &signIn{ar: testenv.NewAuthRequest(app.ClientID, appRedirect), browser: f.env.Client(testenv.ClientOptions{NoRedirects: true})}
	s.ar.Extra.Set("prompt", "login")
	s.flow = s.ar.Flow(t, tn, s.browser)
	r := testenv.Get(t, s.browser, tn.URL("/login/"+connection+"/start?"+url.Values{"state": {s.flow}}.Encode()))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d, want 303 to the provider\n%s", r.StatusCode, r.Body)
	}
	s.toIdP = r.Location(t)
	return s
}

// atIdP signs in at idp with email (following idp's redirects in the same browser) and returns the URL idp
// sends the browser back to: acme's callback with code and state.
func (f *upstreamFixture) atIdP(t *testing.T, s *signIn, authorize *url.URL, email string) *url.URL {
	t.Helper()
	follow := f.env.Client(testenv.ClientOptions{Jar: s.browser.Jar, StopAt: []string{f.acme.URL("/login/callback")}})
	page := testenv.Get(t, follow, authorize.String())
	if page.StatusCode != http.StatusOK || page.Request.URL.Host != f.idp.Host || page.Request.URL.Path != "/login" {
		t.Fatalf("idp's /authorize led to %s (status %d), want idp's sign-in page\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	r := f.idp.Submit(t, follow, testenv.ParseForm(t, page.Body), url.Values{"email": {email}, "password": {testenv.Password}})
	if r.StatusCode < 300 || r.StatusCode > 399 {
		t.Fatalf("signing in at idp: status %d, want a redirect back to acme\n%s", r.StatusCode, r.Body)
	}
	back := r.Location(t)
	if !strings.HasPrefix(back.String(), f.acme.URL("/login/callback?")) {
		t.Fatalf("idp sent the browser to %s, want acme's callback", back)
	}
	return back
}

// finish follows a successful callback answer to the app and returns the ID token's claims.
func (f *upstreamFixture) finish(t *testing.T, s *signIn, r *testenv.Response) map[string]any {
	t.Helper()
	back := "/authorize/resume?state=" + s.flow
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != back {
		t.Fatalf("callback: status %d Location %q, want 303 to %s\n%s", r.StatusCode, r.Header.Get("Location"), back, r.Body)
	}
	follow := f.env.Client(testenv.ClientOptions{Jar: s.browser.Jar, StopAt: []string{appRedirect}})
	q := s.ar.Callback(t, f.acme, testenv.Get(t, follow, f.acme.URL(back)))
	tok := testenv.TokensOf(t, s.ar.Exchange(t, f.acme, follow, q.Get("code")))
	_, claims := testenv.DecodeJWT(t, tok.IDToken)
	return claims
}

// signInAs runs a whole sign-in through acme's connection "idp" as email and returns the callback's answer.
func (f *upstreamFixture) signInAs(t *testing.T, email string) (*signIn, *testenv.Response) {
	t.Helper()
	s := f.start(t, f.acme, f.app, "idp")
	cb := f.atIdP(t, s, s.toIdP, email)
	return s, testenv.Get(t, s.browser, cb.String())
}

func (f *upstreamFixture) acmeUser(t *testing.T, email string) (storage.User, bool) {
	t.Helper()
	u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return u, false
	} else if err != nil {
		t.Fatal(err)
	}
	return u, true
}

func (f *upstreamFixture) links(t *testing.T, userID string) []storage.Identity {
	t.Helper()
	is, err := f.env.S.Store.ListIdentities(f.acme.Ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestUpstreamOIDCAgainstAnotherTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newUpstreamFixture(t, o)
		carol := f.idpUser(t, "carol@idp.test", true)

		t.Run("the provider URL carries PKCE S256, a nonce and the flow as state", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "idp")
			q := s.toIdP.Query()
			if s.toIdP.Host != f.idp.Host || s.toIdP.Path != "/authorize" {
				t.Fatalf("sent to %s, want idp's /authorize", s.toIdP)
			}
			if q.Get("state") != s.flow || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
				len(q.Get("nonce")) != 43 || q.Get("client_id") != f.upstream.ClientID || q.Get("redirect_uri") != f.acme.URL("/login/callback") ||
				q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
				t.Errorf("provider URL %s", s.toIdP)
			}
			again := f.start(t, f.acme, f.app, "idp").toIdP.Query()
			if again.Get("nonce") == q.Get("nonce") || again.Get("code_challenge") == q.Get("code_challenge") {
				t.Error("two flows share a nonce or a PKCE challenge")
			}
		})

		t.Run("first sign-in creates the user, with amr fed and the idp claim", func(t *testing.T) {
			s, r := f.signInAs(t, "carol@idp.test")
			claims := f.finish(t, s, r)
			u, ok := f.acmeUser(t, "carol@idp.test")
			if !ok || !u.EmailVerified || u.PasswordHash != "" {
				t.Fatalf("acme user after the first sign-in: %+v (found %v), want a verified user without a password", u, ok)
			}
			if claims["sub"] != u.ID || claims["idp"] != "idp" || !sameStrings(claims["amr"], "fed") {
				t.Errorf("ID token sub %v idp %v amr %v, want %s, idp, [fed]", claims["sub"], claims["idp"], claims["amr"], u.ID)
			}
			sess, _, err := f.env.S.SessionFromCookie(f.acme.Ctx, testenv.Cookie(s.browser, f.acme.URL("/"), "authio_session"))
			if err != nil || sess.ConnectionName != "idp" || !slices.Equal(sess.AMR, []string{"fed"}) {
				t.Errorf("session %+v (%v), want one naming connection idp with amr [fed]", sess, err)
			}
			ls := f.links(t, u.ID)
			if len(ls) != 1 || ls[0].ConnectionID != f.conn.ID || ls[0].Subject != carol.ID {
				t.Errorf("links %+v, want one to connection %s with idp's subject %s", ls, f.conn.ID, carol.ID)
			}
		})

		t.Run("second sign-in finds the link", func(t *testing.T) {
			before, _ := f.acmeUser(t, "carol@idp.test")
			s, r := f.signInAs(t, "carol@idp.test")
			claims := f.finish(t, s, r)
			if claims["sub"] != before.ID {
				t.Errorf("second sign-in signed in %v, want %s", claims["sub"], before.ID)
			}
			if n := len(f.links(t, before.ID)); n != 1 {
				t.Errorf("%d links after the second sign-in, want 1", n)
			}
		})

		t.Run("an email the provider has not verified is refused and nothing is linked", func(t *testing.T) {
			dave := f.idpUser(t, "dave@idp.test", false)
			_, r := f.signInAs(t, "dave@idp.test")
			if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "not verified your email") {
				t.Fatalf("status %d, want 403 saying the email is not verified\n%s", r.StatusCode, r.Body)
			}
			if _, ok := f.acmeUser(t, "dave@idp.test"); ok {
				t.Error("a user was created for an unverified upstream email")
			}
			if _, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.conn.ID, dave.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("identity of the unverified subject: %v, want none", err)
			}
		})

		t.Run("an existing local user with a verified email is linked", func(t *testing.T) {
			local := f.acme.NewUser("erin@idp.test")
			setVerified(t, f.acme, local.ID, true)
			f.idpUser(t, "erin@idp.test", true)
			s, r := f.signInAs(t, "erin@idp.test")
			if claims := f.finish(t, s, r); claims["sub"] != local.ID {
				t.Errorf("signed in %v, want the existing user %s", claims["sub"], local.ID)
			}
			if n := len(f.links(t, local.ID)); n != 1 {
				t.Errorf("%d links, want 1", n)
			}
		})

		t.Run("a password sign-in's ID token has no idp claim, but its session names the connection", func(t *testing.T) {
			browser := f.env.Client(testenv.ClientOptions{StopAt: []string{appRedirect}})
			ar := testenv.NewAuthRequest(f.app.ClientID, appRedirect)
			code := ar.Code(t, f.acme, browser, "erin@idp.test", testenv.Password)
			_, claims := testenv.DecodeJWT(t, testenv.TokensOf(t, ar.Exchange(t, f.acme, browser, code)).IDToken)
			if _, has := claims["idp"]; has || !sameStrings(claims["amr"], "pwd") {
				t.Errorf("idp %v amr %v, want no idp and [pwd]", claims["idp"], claims["amr"])
			}
			ls, _, err := f.env.S.SessionFromCookie(f.acme.Ctx, testenv.Cookie(browser, f.acme.URL("/"), "authio_session"))
			if err != nil || ls.ID != claims["sid"] || ls.ConnectionName != storage.DefaultPasswordConnection {
				t.Errorf("the password sign-in's session %+v (%v), want sid %v naming %s", ls, err, claims["sid"], storage.DefaultPasswordConnection)
			}
		})

		t.Run("an existing local user whose email is unverified is a 409 and is not linked", func(t *testing.T) {
			local := f.acme.NewUser("frank@idp.test")
			f.idpUser(t, "frank@idp.test", true)
			_, r := f.signInAs(t, "frank@idp.test")
			if r.StatusCode != http.StatusConflict {
				t.Fatalf("status %d, want 409\n%s", r.StatusCode, r.Body)
			}
			if n := len(f.links(t, local.ID)); n != 0 {
				t.Errorf("%d links to the unverified local account, want 0", n)
			}
		})

		t.Run("a nonce changed on the way to the provider is refused", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "idp")
			to := *s.toIdP
			q := to.Query()
			q.Set("nonce", testenv.RandomString(32))
			to.RawQuery = q.Encode()
			cb := f.atIdP(t, s, &to, "carol@idp.test")
			r := testenv.Get(t, s.browser, cb.String())
			if r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Fatalf("status %d (session %v), want 401 without a session\n%s", r.StatusCode, setsSession(r), r.Body)
			}
		})

		t.Run("a PKCE challenge changed on the way to the provider is refused", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "idp")
			to := *s.toIdP
			q := to.Query()
			q.Set("code_challenge", testenv.NewAuthRequest("x", "y").Challenge())
			to.RawQuery = q.Encode()
			cb := f.atIdP(t, s, &to, "carol@idp.test")
			if r := testenv.Get(t, s.browser, cb.String()); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Fatalf("status %d, want 401 without a session\n%s", r.StatusCode, r.Body)
			}
		})

		t.Run("state tampering: another flow's code, or an unknown state, signs nobody in", func(t *testing.T) {
			// Two flows of one browser through the same connection: the code of the first, brought back with the
			// second's state, meets the second flow's PKCE verifier and nonce.
			s1 := f.start(t, f.acme, f.app, "idp")
			cb := f.atIdP(t, s1, s1.toIdP, "carol@idp.test")
			s2 := &signIn{ar: testenv.NewAuthRequest(f.app.ClientID, appRedirect), browser: s1.browser}
			s2.ar.Extra.Set("prompt", "login")
			s2.flow = s2.ar.Flow(t, f.acme, s2.browser)
			if r := testenv.Get(t, s2.browser, f.acme.URL("/login/idp/start?state="+s2.flow)); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("start of the second flow: %d", r.StatusCode)
			}
			swapped := *cb
			q := swapped.Query()
			q.Set("state", s2.flow)
			swapped.RawQuery = q.Encode()
			if r := testenv.Get(t, s2.browser, swapped.String()); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
				t.Errorf("another flow's code: status %d, want 401 without a session\n%s", r.StatusCode, r.Body)
			}
			q.Set("state", "flw_"+testenv.RandomString(16))
			swapped.RawQuery = q.Encode()
			if r := testenv.Get(t, s2.browser, swapped.String()); r.StatusCode < 400 || r.StatusCode >= 500 || setsSession(r) {
				t.Errorf("unknown state: status %d, want a 4xx without a session", r.StatusCode)
			}
		})

		t.Run("a callback replayed after the sign-in signs nobody in again", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "idp")
			cb := f.atIdP(t, s, s.toIdP, "carol@idp.test")
			if r := testenv.Get(t, s.browser, cb.String()); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: status %d, want 303\n%s", r.StatusCode, r.Body)
			}
			if r := testenv.Get(t, s.browser, cb.String()); r.StatusCode == http.StatusSeeOther || setsSession(r) {
				t.Errorf("replayed callback: status %d, want a refusal without a session", r.StatusCode)
			}
		})

		t.Run("another tenant cannot start acme's connection (404), by name or id", func(t *testing.T) {
			g := f.globex.NewClient(directory.ClientSpec{Name: "app", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect}})
			browser := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			ar := testenv.NewAuthRequest(g.ClientID, appRedirect)
			flow := ar.Flow(t, f.globex, browser)
			for _, ref := range []string{"idp", f.conn.ID} {
				if r := testenv.Get(t, browser, f.globex.URL("/login/"+ref+"/start?state="+flow)); r.StatusCode != http.StatusNotFound {
					t.Errorf("globex starting acme's connection %s: status %d, want 404", ref, r.StatusCode)
				}
			}
			// And acme's flow cannot finish through globex's connection.
			s := f.start(t, f.acme, f.app, "idp")
			if r := testenv.Get(t, s.browser, f.acme.URL("/login/"+f.globexConn.ID+"/start?state="+s.flow)); r.StatusCode != http.StatusNotFound {
				t.Errorf("acme starting globex's connection: status %d, want 404", r.StatusCode)
			}
		})

		t.Run("a provider that cannot be reached is a 502 page", func(t *testing.T) {
			f.connection(t, f.acme, "down", "oidc", map[string]any{"issuer": "http://down.localhost:1/", "client_id": "x"})
			browser := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			ar := testenv.NewAuthRequest(f.app.ClientID, appRedirect)
			flow := ar.Flow(t, f.acme, browser)
			r := testenv.Get(t, browser, f.acme.URL("/login/down/start?state="+flow))
			if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.Body, "unreachable") {
				t.Errorf("status %d, want 502 saying the provider is unreachable\n%s", r.StatusCode, r.Body)
			}
		})

		t.Run("the client secret is stored encrypted and never shown", func(t *testing.T) {
			// The row as the store reads it back: the settings column's JSON.
			stored, err := f.env.S.Store.GetConnection(f.acme.Ctx, f.conn.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(stored.Settings)
			raw := string(b)
			if strings.Contains(raw, f.upstream.ClientSecret) || !strings.Contains(raw, "sealed:v1:") {
				t.Errorf("stored settings %s hold the secret in clear, or not sealed", raw)
			}
			key := f.acme.APIKey(t)
			c := f.env.Client(testenv.ClientOptions{})
			got := f.acme.API(t, c, http.MethodGet, "/connections/"+f.conn.ID, key, nil)
			if got.StatusCode != http.StatusOK || strings.Contains(got.Body, "client_secret") || strings.Contains(got.Body, "sealed:") {
				t.Errorf("GET connection: %d %s", got.StatusCode, got.Body)
			}
			// A PATCH of options without the secret keeps it: sign-in still works.
			upd := f.acme.API(t, c, http.MethodPatch, "/connections/"+f.conn.ID, key, map[string]any{"options": map[string]any{
				"issuer": f.idp.Issuer, "client_id": f.upstream.ClientID, "display_name": "Idp Inc"}})
			if upd.StatusCode != http.StatusOK || strings.Contains(upd.Body, "client_secret") {
				t.Fatalf("PATCH: %d %s", upd.StatusCode, upd.Body)
			}
			s, r := f.signInAs(t, "carol@idp.test")
			f.finish(t, s, r)
		})
	})
}

// setsSession reports whether r sets the browser session cookie.
func setsSession(r *testenv.Response) bool {
	for _, c := range r.Cookies() {
		if c.Name == "authio_session" && c.Value != "" {
			return true
		}
	}
	return false
}

func sameStrings(v any, want ...string) bool {
	list, _ := v.([]any)
	if len(list) != len(want) {
		return false
	}
	for i, x := range list {
		if x != want[i] {
			return false
		}
	}
	return true
}

// The connection's settings, checked by the Management API (shape only: the provider is not contacted).
func TestUpstreamSettingsThroughTheManagementAPI(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		acme := env.NewTenant("acme")
		key := acme.APIKey(t)
		c := env.Client(testenv.ClientOptions{})
		post := func(body map[string]any) *testenv.Response {
			return acme.API(t, c, http.MethodPost, "/connections", key, body)
		}
		for _, tc := range []struct {
			name     string
			strategy string
			options  map[string]any
		}{
			{"no issuer", "oidc", map[string]any{"client_id": "a"}},
			{"no client id", "oidc", map[string]any{"issuer": "https://idp.example"}},
			{"http issuer", "oidc", map[string]any{"issuer": "http://idp.example", "client_id": "a"}},
			{"unknown setting", "oidc", map[string]any{"issuer": "https://idp.example", "client_id": "a", "clientsecret": "x"}},
			{"unknown preset", "oidc", map[string]any{"preset": "myspace", "client_id": "a", "client_secret": "b"}},
			{"google without secret", "google-oauth2", map[string]any{"client_id": "a"}},
			{"google with another issuer", "google-oauth2", map[string]any{"client_id": "a", "client_secret": "b", "issuer": "https://evil.example"}},
			{"microsoft tenant not a GUID", "waad", map[string]any{"client_id": "a", "client_secret": "b", "tenant": "contoso"}},
			{"github with an issuer", "github", map[string]any{"client_id": "a", "client_secret": "b", "issuer": "https://github.com"}},
			{"preset against the strategy", "github", map[string]any{"client_id": "a", "client_secret": "b", "preset": "google"}},
			{"scopes not strings", "oidc", map[string]any{"issuer": "https://idp.example", "client_id": "a", "scopes": []any{1}}},
		} {
			r := post(map[string]any{"name": "bad", "strategy": tc.strategy, "options": tc.options})
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400\n%s", tc.name, r.StatusCode, r.Body)
			}
		}
		for _, tc := range []struct{ name, strategy, preset string }{
			{"google", "google-oauth2", oidc.PresetGoogle}, {"microsoft", "waad", oidc.PresetMicrosoft}, {"github", "github", oidc.PresetGitHub},
		} {
			r := post(map[string]any{"name": tc.name, "strategy": tc.strategy, "options": map[string]any{"client_id": "id-" + tc.name, "client_secret": "s3cret-" + tc.name}})
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("%s: status %d\n%s", tc.name, r.StatusCode, r.Body)
			}
			body := r.JSON(t)
			opts, _ := body["options"].(map[string]any)
			if body["strategy"] != tc.strategy || opts["preset"] != tc.preset || opts["client_secret"] != nil || strings.Contains(r.Body, "s3cret") {
				t.Errorf("%s: created %s", tc.name, r.Body)
			}
			stored, err := env.S.Store.GetConnection(acme.Ctx, tc.name)
			if err != nil || stored.Type != oidc.Type {
				t.Errorf("%s: stored type %q (%v), want oidc", tc.name, stored.Type, err)
			}
			list := acme.API(t, c, http.MethodGet, "/connections?strategy="+tc.strategy, key, nil)
			if !strings.Contains(list.Body, `"name":"`+tc.name+`"`) || strings.Contains(list.Body, "s3cret") {
				t.Errorf("%s: list by strategy: %s", tc.name, list.Body)
			}
		}
		// A preset cannot change (it is the connection's strategy).
		google, err := env.S.Store.GetConnection(acme.Ctx, "google")
		if err != nil {
			t.Fatal(err)
		}
		id := google.ID
		r := acme.API(t, c, http.MethodPatch, "/connections/"+id, key, map[string]any{"options": map[string]any{"preset": "github", "client_id": "x"}})
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("changing the preset: %d, want 400", r.StatusCode)
		}
		// Options written back without the preset (or the secret) keep both.
		r = acme.API(t, c, http.MethodPatch, "/connections/"+id, key, map[string]any{"options": map[string]any{"client_id": "id-google-2"}})
		if r.StatusCode != http.StatusOK || r.JSON(t)["strategy"] != "google-oauth2" {
			t.Errorf("PATCH without the preset: %d %s", r.StatusCode, r.Body)
		}
		// The sign-in page shows the presets' names.
		app := acme.NewClient(directory.ClientSpec{Name: "app", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect}})
		browser := env.Client(testenv.ClientOptions{})
		page := testenv.Get(t, browser, testenv.NewAuthRequest(app.ClientID, appRedirect).URL(acme))
		for _, want := range []string{"Continue with Google", "Continue with Microsoft", "Continue with GitHub"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("sign-in page lacks %q", want)
			}
		}
	})
}
