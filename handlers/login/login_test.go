package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
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
	spa  directory.CreatedClient
	user storage.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, testenv.Options{})
}

// newFixtureOn is newFixture on a backend of the test's choosing (testenv.EachBackend).
func newFixtureOn(t *testing.T, opts testenv.Options) *fixture {
	t.Helper()
	env := testenv.New(t, opts)
	acme := env.NewTenant("acme")
	return &fixture{
		env:  env,
		acme: acme,
		spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
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
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("login_hint", "alice@acme.test")
	flow := ar.Flow(t, f.acme, c)
	r := testenv.Get(t, c, f.acme.URL("/login?state="+flow))
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	// login_hint skips the email step: the methods step's password form carries the hint as its email.
	form := testenv.ParseFormWith(t, r.Body, "password")
	for name, typ := range map[string]string{"email": "hidden", "password": "password", "csrf_token": "hidden", "state": "hidden"} {
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
	if form.Fields.Get("state") != flow {
		t.Errorf("state = %q, want the flow id %q", form.Fields.Get("state"), flow)
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
	ar = testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("login_hint", xss)
	r = testenv.Get(t, c, f.acme.URL("/login?state="+ar.Flow(t, f.acme, c)))
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Error("login_hint is reflected unescaped")
	}
	if form := testenv.ParseFormWith(t, r.Body, "password"); form.Fields.Get("email") != xss {
		t.Errorf("login_hint not kept as text: %q", form.Fields.Get("email"))
	}

	// Without a flow the page still signs in (to the tenant), and a flow id never carries parameters.
	r = testenv.Get(t, c, f.acme.URL("/login?"+url.Values{"login_hint": {"alice@acme.test"}, "return_to": {"/authorize"}}.Encode()))
	if form := testenv.ParseForm(t, r.Body); r.StatusCode != http.StatusOK || form.Fields.Get("email") != "" || len(form.Fields["state"]) != 0 {
		t.Errorf("login page without a flow: status %d, fields %v; want an empty form", r.StatusCode, form.Fields)
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
	var flows []string
	for _, tc := range []struct {
		name, email, password string
	}{
		{name: "wrong password", email: "alice@acme.test", password: "wrong-password-1"},
		{name: "unknown email", email: "nobody@acme.test", password: "wrong-password-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			flow := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect).Flow(t, f.acme, c)
			r := f.acme.SignIn(t, c, tc.email, tc.password, flow)
			if r.StatusCode < 400 || r.StatusCode > 499 || setsSession(r) {
				t.Fatalf("status %d (session set: %v), want a 4xx form again", r.StatusCode, setsSession(r))
			}
			if testenv.Alert(r.Body) == "" {
				t.Errorf("no error message on the page")
			}
			form := testenv.ParseFormWith(t, r.Body, "password")
			if form.Fields.Get("email") != tc.email || form.Fields.Get("state") != flow {
				t.Errorf("form not refilled: %v", form.Fields)
			}
			pages, flows = append(pages, r), append(flows, flow)
		})
	}
	if len(pages) == 2 {
		a, b := pages[0], pages[1]
		if a.StatusCode != b.StatusCode || testenv.Alert(a.Body) != testenv.Alert(b.Body) {
			t.Errorf("wrong password: %d %q; unknown email: %d %q — must be the same", a.StatusCode, testenv.Alert(a.Body),
				b.StatusCode, testenv.Alert(b.Body))
		}
		strip := func(r *testenv.Response, email, flow string) string {
			f := testenv.ParseForm(t, r.Body)
			return strings.NewReplacer(f.Fields.Get("csrf_token"), "", email, "", flow, "", r.Header.Get("X-Request-Id"), "").Replace(r.Body)
		}
		if strip(a, "alice@acme.test", flows[0]) != strip(b, "nobody@acme.test", flows[1]) {
			t.Errorf("the two failure pages differ beyond the email and tokens:\n%s\n----\n%s", a.Body, b.Body)
		}
	}
}

// TestLoginNeverRedirectsOffSite: after signing in, the browser goes on to its sign-in flow on the tenant host
// and nowhere else. What used to carry a return URL (return_to) is ignored, and a hostile flow id is an unknown
// flow: the "expired" page, no redirect. The Location is judged the way a browser resolves it (WHATWG URL: tabs
// and newlines removed, "\" read as "/").
func TestLoginNeverRedirectsOffSite(t *testing.T) {
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
		name   string
		target string
	}{
		{name: "protocol-relative", target: "//evil.example/x"},
		{name: "absolute URL", target: "https://evil.example/x"},
		{name: "backslash", target: `/\evil.example/x`},
		{name: "tab between slashes", target: "/\t/evil.example/x"},
		{name: "backslashes only", target: `\\evil.example/x`},
		{name: "javascript", target: "javascript:alert(1)"},
	} {
		for _, param := range []string{"return_to", "state"} {
			t.Run(tc.name+" as "+param, func(t *testing.T) {
				c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
				page := testenv.Get(t, c, f.acme.URL("/login?"+url.Values{param: {tc.target}}.Encode()))
				if strings.Contains(page.Body, "evil.example") || strings.Contains(page.Body, "javascript:") {
					t.Errorf("the login page reflected %s %q:\n%s", param, tc.target, page.Body)
				}
				csrfPage := testenv.Get(t, c, f.acme.URL("/login"))
				v := url.Values{"csrf_token": {testenv.ParseForm(t, csrfPage.Body).Fields.Get("csrf_token")},
					"email": {"alice@acme.test"}, "password": {testenv.Password}, param: {tc.target}}
				req, err := http.NewRequest(http.MethodPost, f.acme.URL("/login"), strings.NewReader(v.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", f.acme.Issuer)
				// Not through the client: Go refuses to parse some Locations that browsers follow.
				r := testenv.RoundTrip(t, c, req)
				if param == "state" && r.StatusCode != http.StatusBadRequest {
					t.Errorf("sign-in with flow id %q: status %d, want 400 (unknown flow)", tc.target, r.StatusCode)
				}
				if loc := r.Header.Get("Location"); loc != "" {
					if u := browserResolve(r.Request.URL, loc); u.Host != f.acme.Host || u.Scheme != "http" {
						t.Errorf("%s %q redirected the browser to %s (Location %q)", param, tc.target, u, loc)
					}
				}
			})
		}
	}
}

// TestLoginWithDisabledPasswordConnection: when the tenant turns its password connection off, the sign-in page
// says so with a 403 next to the form (not a 500), opens no session, and another tenant's page is unaffected.
func TestLoginWithDisabledPasswordConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	globex := f.env.NewTenant("globex")
	gspa := globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	globex.NewUser("alice@acme.test")
	con, err := f.env.S.Store.GetConnection(f.acme.Ctx, storage.DefaultPasswordConnection)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.S.Store.UpdateConnection(f.acme.Ctx, con.ID, func(old storage.Connection) (storage.Connection, error) {
		old.Enabled = false
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	r := f.acme.SignIn(t, c, "alice@acme.test", testenv.Password, testenv.NewAuthRequest(f.spa.ClientID, spaRedirect).Flow(t, f.acme, c))
	if r.StatusCode != http.StatusForbidden || setsSession(r) || !strings.Contains(testenv.Alert(r.Body), "turned off") {
		t.Errorf("acme: status %d, session %v, alert %q; want 403, no session, the connection named as off",
			r.StatusCode, setsSession(r), testenv.Alert(r.Body))
	}
	gc := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	r = globex.SignIn(t, gc, "alice@acme.test", testenv.Password, testenv.NewAuthRequest(gspa.ClientID, spaRedirect).Flow(t, globex, gc))
	if r.StatusCode != http.StatusSeeOther || !setsSession(r) {
		t.Errorf("globex: status %d, session %v; want its own connection to still sign in", r.StatusCode, setsSession(r))
	}
}
