package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

const (
	spaOrigin   = "https://app.acme.test"
	spaRedirect = spaOrigin + "/callback"
	spaBye      = spaOrigin + "/bye"
)

type fixture struct {
	env  *testenv.Env
	acme *testenv.Tenant
	spa  server.CreatedClient
	user storage.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	return &fixture{
		env:  env,
		acme: acme,
		spa: acme.NewClient(server.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			PostLogoutRedirectURIs: []string{spaBye}, WebOrigins: []string{spaOrigin}}),
		user: acme.NewUser("alice@acme.test"),
	}
}

// signedIn reports whether the browser's session lets prompt=none through.
func (f *fixture) signedIn(t *testing.T, c *http.Client) bool {
	t.Helper()
	nr := f.env.Client(testenv.ClientOptions{Jar: c.Jar, NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("prompt", "none")
	q := ar.Callback(t, f.acme, testenv.Get(t, nr, ar.URL(f.acme)))
	switch {
	case q.Get("code") != "":
		return true
	case q.Get("error") == "login_required":
		return false
	}
	t.Fatalf("prompt=none: unexpected callback %v", q)
	return false
}

func setsSession(r *testenv.Response) bool {
	for _, ck := range r.Cookies() {
		if ck.Name == "authio_session" && ck.Value != "" && ck.MaxAge >= 0 {
			return true
		}
	}
	return false
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{})
	r := testenv.Get(t, c, f.acme.URL("/login?return_to=%2Fauthorize%3Fclient_id%3Dx&login_hint=alice%40acme.test"))
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	form := testenv.ParseForm(t, r.Body)
	for name, typ := range map[string]string{"email": "email", "password": "password", "csrf_token": "hidden", "return_to": "hidden"} {
		if got, ok := form.Inputs[name]; !ok || got != typ {
			t.Errorf("input %q: type %q (present %v), want %q", name, got, ok, typ)
		}
	}
	if !form.HasSubmit {
		t.Error(`no <button type="submit">`)
	}
	if form.Method != "POST" || form.Action != "/login" {
		t.Errorf("form %s %s, want POST /login", form.Method, form.Action)
	}
	if form.Fields.Get("return_to") != "/authorize?client_id=x" {
		t.Errorf("return_to = %q", form.Fields.Get("return_to"))
	}
	if form.Fields.Get("email") != "alice@acme.test" {
		t.Errorf("login_hint not prefilled: email = %q", form.Fields.Get("email"))
	}
	if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("login page can be framed: X-Frame-Options %q, CSP %q", r.Header.Get("X-Frame-Options"), r.Header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	if !strings.Contains(r.Body, "Acme") {
		t.Error("page does not name the tenant")
	}

	const xss = `"><script>alert(1)</script>`
	r = testenv.Get(t, c, f.acme.URL("/login?"+url.Values{"return_to": {"/" + xss}, "login_hint": {xss}}.Encode()))
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Error("login_hint or return_to is reflected unescaped")
	}
	if form := testenv.ParseForm(t, r.Body); form.Fields.Get("email") != xss {
		t.Errorf("login_hint not kept as text: %q", form.Fields.Get("email"))
	}
}

func TestLoginRequiresCSRFToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}, "return_to": {"/"}}

	for _, tc := range []struct {
		name string
		post func(t *testing.T, c *http.Client) *testenv.Response
	}{
		{name: "no token, no cookie", post: func(t *testing.T, c *http.Client) *testenv.Response {
			return testenv.PostForm(t, c, f.acme.URL("/login"), creds, testenv.Header("Origin", f.acme.Issuer))
		}},
		{name: "cookie but no token", post: func(t *testing.T, c *http.Client) *testenv.Response {
			testenv.Get(t, c, f.acme.URL("/login"))
			return testenv.PostForm(t, c, f.acme.URL("/login"), creds, testenv.Header("Origin", f.acme.Issuer))
		}},
		{name: "token of another browser", post: func(t *testing.T, c *http.Client) *testenv.Response {
			testenv.Get(t, c, f.acme.URL("/login"))
			other := f.env.Client(testenv.ClientOptions{})
			form := testenv.ParseForm(t, testenv.Get(t, other, f.acme.URL("/login")).Body)
			v := url.Values{"csrf_token": {form.Fields.Get("csrf_token")}}
			for k, vs := range creds {
				v[k] = vs
			}
			return testenv.PostForm(t, c, f.acme.URL("/login"), v, testenv.Header("Origin", f.acme.Issuer))
		}},
		{name: "valid token posted from another origin", post: func(t *testing.T, c *http.Client) *testenv.Response {
			form := testenv.ParseForm(t, testenv.Get(t, c, f.acme.URL("/login")).Body)
			v := url.Values{"csrf_token": {form.Fields.Get("csrf_token")}}
			for k, vs := range creds {
				v[k] = vs
			}
			return testenv.PostForm(t, c, f.acme.URL("/login"), v, testenv.Header("Origin", "https://evil.example"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			r := tc.post(t, c)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.StatusCode)
			}
			if setsSession(r) {
				t.Error("a session cookie was set")
			}
			if f.signedIn(t, c) {
				t.Error("the browser is signed in")
			}
		})
	}
}

func TestLoginFailuresAreIndistinguishable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var pages []*testenv.Response
	for _, tc := range []struct {
		name, email, password string
	}{
		{name: "wrong password", email: "alice@acme.test", password: "wrong-password-1"},
		{name: "unknown email", email: "nobody@acme.test", password: "wrong-password-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			r := f.acme.SignIn(t, c, tc.email, tc.password, "/authorize?x=1")
			if r.StatusCode < 400 || r.StatusCode > 499 || setsSession(r) {
				t.Fatalf("status %d (session set: %v), want a 4xx form again", r.StatusCode, setsSession(r))
			}
			if testenv.Alert(r.Body) == "" {
				t.Errorf("no error message on the page")
			}
			form := testenv.ParseForm(t, r.Body)
			if form.Fields.Get("email") != tc.email || form.Fields.Get("return_to") != "/authorize?x=1" {
				t.Errorf("form not refilled: %v", form.Fields)
			}
			pages = append(pages, r)
		})
	}
	if len(pages) == 2 {
		a, b := pages[0], pages[1]
		if a.StatusCode != b.StatusCode || testenv.Alert(a.Body) != testenv.Alert(b.Body) {
			t.Errorf("wrong password: %d %q; unknown email: %d %q — must be the same", a.StatusCode, testenv.Alert(a.Body),
				b.StatusCode, testenv.Alert(b.Body))
		}
		strip := func(r *testenv.Response, email string) string {
			f := testenv.ParseForm(t, r.Body)
			return strings.NewReplacer(f.Fields.Get("csrf_token"), "", email, "", r.Header.Get("X-Request-Id"), "").Replace(r.Body)
		}
		if strip(a, "alice@acme.test") != strip(b, "nobody@acme.test") {
			t.Errorf("the two failure pages differ beyond the email and tokens:\n%s\n----\n%s", a.Body, b.Body)
		}
	}
}

// TestLoginReturnToIsNotAnOpenRedirect: after signing in, the browser may only go to a path on the tenant host.
// The Location is judged the way a browser resolves it (WHATWG URL: tabs and newlines removed, "\" read as "/").
func TestLoginReturnToIsNotAnOpenRedirect(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	browserResolve := func(base *url.URL, loc string) *url.URL {
		loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(strings.TrimSpace(loc))
		u, err := base.Parse(loc)
		if err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
		return u
	}
	for _, tc := range []struct {
		name     string
		returnTo string
	}{
		{name: "protocol-relative", returnTo: "//evil.example/x"},
		{name: "absolute URL", returnTo: "https://evil.example/x"},
		{name: "backslash", returnTo: `/\evil.example/x`},
		{name: "tab between slashes", returnTo: "/\t/evil.example/x"},
		{name: "backslashes only", returnTo: `\\evil.example/x`},
		{name: "javascript", returnTo: "javascript:alert(1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			page := testenv.Get(t, c, f.acme.URL("/login?"+url.Values{"return_to": {tc.returnTo}}.Encode()))
			if got := testenv.ParseForm(t, page.Body).Fields.Get("return_to"); strings.Contains(got, "evil.example") || strings.Contains(got, "javascript") {
				t.Errorf("the login page kept return_to %q", got)
			}
			v := url.Values{"csrf_token": {testenv.ParseForm(t, page.Body).Fields.Get("csrf_token")},
				"email": {"alice@acme.test"}, "password": {testenv.Password}, "return_to": {tc.returnTo}}
			req, err := http.NewRequest(http.MethodPost, f.acme.URL("/login"), strings.NewReader(v.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", f.acme.Issuer)
			// Not through the client: Go refuses to parse some Locations that browsers follow.
			r := testenv.RoundTrip(t, c, req)
			if r.StatusCode >= 400 {
				t.Fatalf("sign-in failed: %d", r.StatusCode)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				if u := browserResolve(r.Request.URL, loc); u.Host != f.acme.Host || u.Scheme != "http" {
					t.Errorf("return_to %q redirected the browser to %s (Location %q)", tc.returnTo, u, loc)
				}
			}
		})
	}
}
