package router_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

const (
	inputAPI      = "https://api.acme.test"
	inputOtherAPI = "https://billing.acme.test"
)

// inputSetup is tenant acme on one backend: a user, a public SPA client, a confidential client for two APIs,
// and an API key.
type inputSetup struct {
	env  *testenv.Env
	acme *testenv.Tenant
	user storage.User
	spa  directory.CreatedClient
	svc  directory.CreatedClient
	key  string
	c    *http.Client // never follows redirects
}

// eachInputBackend runs fn on a fresh setup per storage backend: SQLite, and Postgres (with Redis) when
// AUTHIO_TEST_POSTGRES_DSN is set. On Postgres the unguarded inputs were 500s.
func eachInputBackend(t *testing.T, fn func(t *testing.T, s *inputSetup)) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		s := &inputSetup{env: env, acme: acme, user: acme.NewUser("alice@acme.test"),
			spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
				WebOrigins: []string{spaOrigin}}),
			svc: acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
				GrantTypes: []string{"client_credentials"}, Audiences: []string{inputAPI, inputOtherAPI}, Scopes: []string{"read:things"}}),
			c: env.Client(testenv.ClientOptions{NoRedirects: true}),
		}
		s.key = acme.APIKey(t)
		fn(t, s)
	})
}

// wantAPIError checks a Management API error: status, exactly Auth0's four fields, the code, and that the
// message names the field.
func wantAPIError(t *testing.T, r *testenv.Response, status int, code, field string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.Body)
	}
	var e struct {
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
		ErrorCode  string `json:"errorCode"`
	}
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body is not {statusCode, error, message, errorCode}: %v\n%s", err, r.Body)
	}
	if e.StatusCode != status || e.Error != http.StatusText(status) || e.ErrorCode != code {
		t.Errorf("error = %+v, want status %d and errorCode %s", e, status, code)
	}
	if !strings.Contains(e.Message, field) {
		t.Errorf("message %q does not name %s", e.Message, field)
	}
}

// wantOAuthError checks an RFC 6749 §5.2 JSON error whose description names the parameter.
func wantOAuthError(t *testing.T, r *testenv.Response, code, param string) {
	t.Helper()
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s %s: status %d, want 400\n%s", r.Request.Method, r.Request.URL, r.StatusCode, r.Body)
	}
	body := r.JSON(t)
	desc, _ := body["error_description"].(string)
	if body["error"] != code || !strings.Contains(quotes(desc), param) {
		t.Errorf("error = %v, want %s naming %s", body, code, param)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
}

// quotes undoes fosite's habit of writing the double quotes of a hint as single quotes.
func quotes(s string) string { return strings.ReplaceAll(s, "'", `"`) }

// wantPage checks a 400 error page that names the field and sends the browser nowhere.
func wantPage(t *testing.T, r *testenv.Response, field string) {
	t.Helper()
	if r.StatusCode != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s %s: status %d, Content-Type %q, want a 400 page\n%s", r.Request.Method, r.Request.URL, r.StatusCode,
			r.Header.Get("Content-Type"), r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("redirected to %q", loc)
	}
	if !strings.Contains(quotes(html.UnescapeString(r.Body)), field) {
		t.Errorf("page does not name %s:\n%s", field, r.Body)
	}
}

// TestManagementAPIRefusesUnstorableInput: NUL bytes and invalid UTF-8 in a path segment, a query value or a
// JSON string (at any depth, key or value) are a 400 naming the field, and change nothing.
func TestManagementAPIRefusesUnstorableInput(t *testing.T) {
	eachInputBackend(t, func(t *testing.T, s *inputSetup) {
		api := func(method, path string, body any) *testenv.Response {
			return s.acme.API(t, s.c, method, path, s.key, body)
		}
		org := api("POST", "/organizations", map[string]any{"name": "acme-corp", "display_name": "Acme",
			"metadata": map[string]any{"plan": "pro"}})
		if org.StatusCode != http.StatusCreated {
			t.Fatalf("create organization: %d %s", org.StatusCode, org.Body)
		}
		orgID, _ := org.JSON(t)["id"].(string)

		for _, tc := range []struct {
			name, path, code, field string
		}{
			{"NUL in a path segment", "/organizations/%00", "invalid_uri", `"id"`},
			{"invalid UTF-8 in a path segment", "/users/%FF", "invalid_uri", `"id"`},
			{"NUL in a nested path segment", "/organizations/" + orgID + "/members/a%00b/roles", "invalid_uri", `"user_id"`},
			{"NUL in a path segment by name", "/organizations/name/x%00", "invalid_uri", `"name"`},
			{"NUL in a query value", "/organizations?name=%00", "invalid_query_string", `"name"`},
			{"NUL in a query value that is looked up", "/users-by-email?email=a%00%40acme.test", "invalid_query_string", `"email"`},
			{"invalid UTF-8 in a query value that is looked up", "/logs?user_id=%C3%28", "invalid_query_string", `"user_id"`},
			{"NUL in a query name", "/organizations?a%00b=1", "invalid_query_string", "query parameter name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantAPIError(t, api("GET", tc.path, nil), http.StatusBadRequest, tc.code, tc.field)
			})
		}

		cl := api("POST", "/clients", map[string]any{"name": "portal", "type": "public", "callbacks": []string{spaRedirect}})
		if cl.StatusCode != http.StatusCreated {
			t.Fatalf("create client: %d %s", cl.StatusCode, cl.Body)
		}
		clientID, _ := cl.JSON(t)["client_id"].(string)
		for _, tc := range []struct {
			name, path, body, field string
		}{
			{"NUL in a client name", "/clients/" + clientID, `{"name":"a\u0000b"}`, "name:"},
			{"NUL in a list item", "/clients/" + clientID, `{"callbacks":["https://app.acme.test/ok","https://app.acme.test/\u0000"]}`, "callbacks[1]:"},
			{"invalid UTF-8 in a client name", "/clients/" + clientID, "{\"name\":\"a\xffb\"}", "name:"},
			{"NUL in a metadata value", "/organizations/" + orgID, `{"metadata":{"foo":"x\u0000y"}}`, "metadata.foo:"},
			{"NUL in a metadata key", "/organizations/" + orgID, `{"metadata":{"a\u0000b":"x"}}`, "metadata: the key"},
			{"NUL deep in metadata", "/organizations/" + orgID, `{"metadata":{"a":{"b":[1,{"c":"\u0000"}]}}}`, "metadata.a.b[1].c:"},
			{"invalid UTF-8 in a metadata key", "/organizations/" + orgID, "{\"metadata\":{\"k\xc3\":\"v\"}}", "metadata: the key"},
			{"invalid UTF-8 in a display name", "/organizations/" + orgID, "{\"display_name\":\"Ac\xedme\"}", "display_name:"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantAPIError(t, api("PATCH", tc.path, tc.body), http.StatusBadRequest, "invalid_body", tc.field)
			})
		}
		if r := api("POST", "/organizations", `{"name":"evil\u0000corp"}`); r.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /organizations with a NUL in the name: %d %s", r.StatusCode, r.Body)
		}

		// Nothing changed.
		got := api("GET", "/clients/"+clientID, nil).JSON(t)
		if got["name"] != "portal" || !slices.Equal(toStrings(got["callbacks"]), []string{spaRedirect}) {
			t.Errorf("client after refused PATCHes = %v", got)
		}
		o := api("GET", "/organizations/"+orgID, nil).JSON(t)
		if meta, _ := o["metadata"].(map[string]any); o["display_name"] != "Acme" || len(meta) != 1 || meta["plan"] != "pro" {
			t.Errorf("organization after refused PATCHes = %v", o)
		}
		if list := api("GET", "/organizations", nil); strings.Count(list.Body, `"id"`) != 1 {
			t.Errorf("organizations after a refused POST: %s", list.Body)
		}
		// An escaped slash is not bad input: resource servers are addressed by URL.
		if r := api("GET", "/resource-servers/"+url.PathEscape("https://nope.acme.test"), nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET a resource server by escaped URL: %d %s", r.StatusCode, r.Body)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestPagesAndOAuthRefuseUnstorableInput: the hosted pages, the OAuth endpoints and the account endpoints refuse
// NUL bytes and invalid UTF-8 in their own error shape, before anything is looked up, counted or audited.
func TestPagesAndOAuthRefuseUnstorableInput(t *testing.T) {
	eachInputBackend(t, func(t *testing.T, s *inputSetup) {
		t.Run("sign-in form", func(t *testing.T) {
			browser := s.env.Client(testenv.ClientOptions{NoRedirects: true})
			form := testenv.ParseForm(t, testenv.Get(t, browser, s.acme.URL("/login")).Body)
			for _, tc := range []struct{ email, password, field string }{
				{"alice\x00@acme.test", "wrong", `"email"`},
				{"alice@acme.test", "wrong\xff", `"password"`},
			} {
				r := s.acme.Submit(t, browser, form, url.Values{"email": {tc.email}, "password": {tc.password}})
				wantPage(t, r, tc.field)
				for _, c := range r.Cookies() {
					if c.Name == "authio_session" && c.Value != "" {
						t.Errorf("a refused sign-in set a session cookie")
					}
				}
			}
			if events, err := s.env.S.Store.ListAudit(s.acme.Ctx, storage.AuditFilter{Type: audit.EventSignInFailed}); err != nil || len(events) != 0 {
				t.Errorf("signin.failed events after refused sign-ins = %+v, %v; want none", events, err)
			}
			// The right password still signs in.
			if r := s.acme.SignIn(t, browser, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusOK {
				t.Errorf("sign in after refused attempts: %d", r.StatusCode)
			}
		})

		multipart := func(parts ...string) io.Reader {
			var b strings.Builder
			for i := 0; i < len(parts); i += 2 {
				b.WriteString("--b\r\nContent-Disposition: form-data; name=\"" + parts[i] + "\"\r\n\r\n" + parts[i+1] + "\r\n")
			}
			b.WriteString("--b--\r\n")
			return strings.NewReader(b.String())
		}
		for _, tc := range []struct {
			name  string
			send  func(t *testing.T) *testenv.Response
			page  bool // the error page; otherwise RFC 6749 JSON
			field string
		}{
			{name: "sign-up page query", page: true, field: `"return_to"`, send: func(t *testing.T) *testenv.Response {
				return testenv.Get(t, s.c, s.acme.URL("/signup?return_to=%2F%00"))
			}},
			{name: "logout query", page: true, field: `"client_id"`, send: func(t *testing.T) *testenv.Response {
				return testenv.Get(t, s.c, s.acme.URL("/oidc/logout?client_id=%FF"))
			}},
			// /authorize: a page, never a redirect, even with a registered redirect URI.
			{name: "authorize state", page: true, field: `"state"`, send: func(t *testing.T) *testenv.Response {
				ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
				ar.Extra.Set("state", "st\x00ate")
				return testenv.Get(t, s.c, ar.URL(s.acme))
			}},
			{name: "authorize client_id", page: true, field: `"client_id"`, send: func(t *testing.T) *testenv.Response {
				return testenv.Get(t, s.c, testenv.NewAuthRequest(s.spa.ClientID+"\x00", spaRedirect).URL(s.acme))
			}},
			{name: "token client_id in the body", field: `"client_id"`, send: func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, s.c, s.acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"},
					"client_id": {s.svc.ClientID + "\x00"}, "client_secret": {s.svc.ClientSecret}})
			}},
			{name: "token client_id in Basic credentials", field: "client_id", send: func(t *testing.T) *testenv.Response {
				return s.acme.ClientCredentials(t, s.c, "cli_\x00", "secret", url.Values{})
			}},
			{name: "token refresh_token", field: `"refresh_token"`, send: func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, s.c, s.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
					"client_id": {s.spa.ClientID}, "refresh_token": {"abc\xfe"}})
			}},
			{name: "token multipart body", field: `"client_id"`, send: func(t *testing.T) *testenv.Response {
				return testenv.Do(t, s.c, http.MethodPost, s.acme.URL("/oauth/token"),
					multipart("grant_type", "client_credentials", "client_id", "cli_\x00", "client_secret", "x"),
					testenv.Header("Content-Type", "multipart/form-data; boundary=b"))
			}},
			{name: "introspection token", field: `"token"`, send: func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, s.c, s.acme.URL("/oauth/introspect"), url.Values{"token": {"x\x00"}},
					testenv.BasicAuth(s.svc.ClientID, s.svc.ClientSecret))
			}},
			{name: "revocation client_id", field: `"client_id"`, send: func(t *testing.T) *testenv.Response {
				return testenv.PostForm(t, s.c, s.acme.URL("/oauth/revoke"), url.Values{"token": {"x"}, "client_id": {"\xff"}})
			}},
			{name: "userinfo query", field: `"access_token"`, send: func(t *testing.T) *testenv.Response {
				return testenv.Get(t, s.c, s.acme.URL("/userinfo?access_token=%00"))
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := tc.send(t); tc.page {
					wantPage(t, r, tc.field)
				} else {
					wantOAuthError(t, r, "invalid_request", tc.field)
				}
			})
		}

		t.Run("CORS headers on a refusal", func(t *testing.T) {
			r := testenv.PostForm(t, s.c, s.acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"},
				"client_id": {"\x00"}}, testenv.Header("Origin", spaOrigin))
			if r.StatusCode != http.StatusBadRequest || r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
				t.Errorf("refusal to a registered origin: %d, Allow-Origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
		})

		t.Run("account endpoints", func(t *testing.T) {
			ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
			signedIn := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
			tk := testenv.TokensOf(t, ar.Exchange(t, s.acme, signedIn, ar.Code(t, s.acme, signedIn, s.user.Email, testenv.Password)))
			r := testenv.Do(t, s.c, http.MethodPost, s.acme.URL("/v1/sessions/switch-org"),
				strings.NewReader(`{"organization_id":"org_\u0000"}`), testenv.Bearer(tk.AccessToken),
				testenv.Header("Content-Type", "application/json"))
			wantOAuthError(t, r, "invalid_request", "organization_id")
			r = testenv.Get(t, s.c, s.acme.URL("/v1/me?x=%FF"), testenv.Bearer(tk.AccessToken))
			wantOAuthError(t, r, "invalid_request", `"x"`)
		})
	})
}

// TestRepeatedOAuthParameters: RFC 6749 §3.1 — a parameter sent twice is invalid_request naming it, not "first
// value wins", and nothing is issued, rotated or consumed. audience (RFC 8693 §2.1) and resource (RFC 8707) may
// repeat.
func TestRepeatedOAuthParameters(t *testing.T) {
	eachInputBackend(t, func(t *testing.T, s *inputSetup) {
		token := func(t *testing.T, form url.Values, opts ...testenv.RequestOption) *testenv.Response {
			return testenv.PostForm(t, s.c, s.acme.URL("/oauth/token"), form, opts...)
		}
		basic := testenv.BasicAuth(s.svc.ClientID, s.svc.ClientSecret)
		browser := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})

		t.Run("client credentials", func(t *testing.T) {
			for _, tc := range []struct {
				param string
				form  url.Values
				opts  []testenv.RequestOption
			}{
				{"client_id", url.Values{"grant_type": {"client_credentials"}, "client_id": {s.svc.ClientID, s.svc.ClientID},
					"client_secret": {s.svc.ClientSecret}}, nil},
				{"scope", url.Values{"grant_type": {"client_credentials"}, "audience": {inputAPI}, "scope": {"read:things", "read:things"}},
					[]testenv.RequestOption{basic}},
				{"grant_type", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, []testenv.RequestOption{basic}},
			} {
				wantOAuthError(t, token(t, tc.form, tc.opts...), "invalid_request", `"`+tc.param+`"`)
			}
		})

		t.Run("one client per request", func(t *testing.T) {
			// RFC 6749 §2.3: one authentication method; and the body must not name another client than Basic.
			other := s.spa.ClientID
			for _, tc := range []struct {
				name string
				form url.Values
			}{
				{"client_secret beside Basic", url.Values{"grant_type": {"client_credentials"}, "client_secret": {s.svc.ClientSecret}}},
				{"another client_id beside Basic", url.Values{"grant_type": {"client_credentials"}, "client_id": {other}}},
			} {
				wantOAuthError(t, token(t, tc.form, basic), "invalid_request", "")
			}
			// The same client_id as Basic is fine.
			testenv.TokensOf(t, token(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.svc.ClientID}}, basic))
		})

		t.Run("audience repeats", func(t *testing.T) {
			tk := testenv.TokensOf(t, token(t, url.Values{"grant_type": {"client_credentials"}, "audience": {inputAPI, inputOtherAPI}}, basic))
			_, claims := testenv.VerifyJWT(t, tk.AccessToken, s.acme.JWKS(t, s.c))
			if aud := toStrings(claims["aud"]); !slices.Equal(aud, []string{inputAPI, inputOtherAPI}) {
				t.Errorf("aud = %v, want both repeated audiences", claims["aud"])
			}
		})

		t.Run("the query is not the token request", func(t *testing.T) {
			// The token endpoint reads the body alone (RFC 6749 §3.2): a query parameter is not a second value.
			tk := testenv.TokensOf(t, testenv.PostForm(t, s.c, s.acme.URL("/oauth/token?scope=admin"),
				url.Values{"grant_type": {"client_credentials"}, "audience": {inputAPI}, "scope": {"read:things"}}, basic))
			if _, c := testenv.DecodeJWT(t, tk.AccessToken); c["scope"] != "read:things" {
				t.Errorf("scope = %v", c["scope"])
			}
		})

		t.Run("introspection and revocation", func(t *testing.T) {
			tk := testenv.TokensOf(t, token(t, url.Values{"grant_type": {"client_credentials"}, "audience": {inputAPI}}, basic))
			wantOAuthError(t, testenv.PostForm(t, s.c, s.acme.URL("/oauth/introspect"), url.Values{"token": {tk.AccessToken, tk.AccessToken}}, basic),
				"invalid_request", `"token"`)
			wantOAuthError(t, testenv.PostForm(t, s.c, s.acme.URL("/oauth/revoke"), url.Values{"token": {tk.AccessToken, "x"}}, basic),
				"invalid_request", `"token"`)
			if got := s.acme.Introspect(t, s.c, s.svc.ClientID, s.svc.ClientSecret, tk.AccessToken); got["active"] != true {
				t.Errorf("token after a refused revocation: %v", got)
			}
		})

		t.Run("code and refresh token", func(t *testing.T) {
			// Neither a repeated code nor another repeated parameter consumes the code.
			ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
			code := ar.Code(t, s.acme, browser, s.user.Email, testenv.Password)
			exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedirect},
				"client_id": {s.spa.ClientID}, "code_verifier": {ar.Verifier}}
			for _, param := range []string{"code", "redirect_uri", "code_verifier", "client_id"} {
				form := url.Values{}
				for k, v := range exchange {
					form[k] = v
				}
				form[param] = append(form[param], form[param][0])
				wantOAuthError(t, token(t, form), "invalid_request", `"`+param+`"`)
			}
			tk := testenv.TokensOf(t, token(t, exchange))
			if tk.RefreshToken == "" {
				t.Fatalf("no refresh token: %+v", tk)
			}
			// A repeated refresh token is not rotated: it still refreshes, once.
			refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {s.spa.ClientID},
				"refresh_token": {tk.RefreshToken, tk.RefreshToken}}
			wantOAuthError(t, token(t, refresh), "invalid_request", `"refresh_token"`)
			refresh["refresh_token"] = []string{tk.RefreshToken}
			if refreshed := testenv.TokensOf(t, token(t, refresh)); refreshed.RefreshToken == "" || refreshed.RefreshToken == tk.RefreshToken {
				t.Errorf("refresh after a refused one: %+v", refreshed)
			}
		})

		t.Run("authorize client_id and redirect_uri", func(t *testing.T) {
			// The redirect itself is in doubt: a page.
			for _, param := range []string{"client_id", "redirect_uri"} {
				q := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect).Query()
				q[param] = append(q[param], q[param][0])
				wantPage(t, testenv.Get(t, s.c, s.acme.URL("/authorize?"+q.Encode())), `"`+param+`"`)
			}
			// A POST counts the query and the body together.
			q := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect).Query()
			wantPage(t, testenv.PostForm(t, s.c, s.acme.URL("/authorize?client_id="+url.QueryEscape(s.spa.ClientID)), q), `"client_id"`)
		})

		t.Run("authorize other parameters", func(t *testing.T) {
			// Once the client and redirect URI are known good, the error goes back to the client, with iss.
			for _, param := range []string{"scope", "state", "response_type", "code_challenge"} {
				q := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect).Query()
				q[param] = append(q[param], q[param][0])
				r := testenv.Get(t, s.c, s.acme.URL("/authorize?"+q.Encode()))
				if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
					t.Errorf("repeated %s: status %d, want a redirect to the client\n%s", param, r.StatusCode, r.Body)
					continue
				}
				loc := r.Location(t)
				cb := loc.Query()
				if !strings.HasPrefix(loc.String(), spaRedirect) || cb.Get("error") != "invalid_request" || cb.Get("code") != "" ||
					!strings.Contains(quotes(cb.Get("error_description")), `"`+param+`"`) || cb.Get("iss") != s.acme.Issuer {
					t.Errorf("repeated %s: redirected to %s", param, loc)
				}
			}
		})

		t.Run("resource repeats", func(t *testing.T) {
			// By design (RFC 8707 §2): the flow goes on to sign-in.
			ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
			ar.Extra = url.Values{"resource": {"https://a.acme.test", "https://b.acme.test"}}
			if r := testenv.Get(t, s.c, ar.URL(s.acme)); r.StatusCode != http.StatusFound || r.Location(t).Path != "/login" {
				t.Errorf("repeated resource: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	})
}
