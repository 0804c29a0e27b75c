package templates

import (
	"encoding/json"
	"errors"
	"flag"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// csrfField mimics what csrf.TemplateField(r) returns.
const csrfField = template.HTML(`<input type="hidden" name="gorilla.csrf.Token" value="csrf-token-value">`)

const xss = `"><script>alert(1)</script>`

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New(FS)
	if err != nil {
		t.Fatalf("New(FS): %v", err)
	}
	return r
}

func render(t *testing.T, r *Renderer, status int, name string, data any) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := r.Render(rec, status, name, data); err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	return rec
}

// findTag returns the opening tag of an element whose attribute attr has value.
func findTag(body, element, attr, value string) string {
	re := regexp.MustCompile(`<` + element + `\b[^>]*\b` + attr + `="` + regexp.QuoteMeta(value) + `"[^>]*>`)
	return re.FindString(body)
}

func TestNew(t *testing.T) {
	layout := `<html>{{block "title" .}}{{end}}{{template "content" .}}</html>`
	page := `{{define "content"}}x{{end}}`
	complete := fstest.MapFS{
		"layout.html":               {Data: []byte(layout)},
		"login.html":                {Data: []byte(page)},
		"signup.html":               {Data: []byte(page)},
		"logout.html":               {Data: []byte(page)},
		"logged_out.html":           {Data: []byte(page)},
		"error.html":                {Data: []byte(page)},
		"org_picker.html":           {Data: []byte(page)},
		"post_binding.html":         {Data: []byte(page)},
		"account.html":              {Data: []byte(page)},
		"connections/form.html":     {Data: []byte(`x`)},
		"connections/button.html":   {Data: []byte(`x`)},
		"connections/password.html": {Data: []byte(`x`)},
		"response/web_message.html": {Data: []byte(`<script nonce="{{.Nonce}}">{{.Message}}</script>`)},
	}
	without := func(name string) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range complete {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	with := func(name, text string) fstest.MapFS {
		m := without(name)
		m[name] = &fstest.MapFile{Data: []byte(text)}
		return m
	}
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
	}{
		{name: "complete set", fsys: complete},
		{name: "missing page", fsys: without("signup.html"), wantErr: "missing page(s): signup.html"},
		{name: "missing web message page", fsys: without("response/web_message.html"), wantErr: "missing page(s): response/web_message.html"},
		{name: "missing layout", fsys: without("layout.html"), wantErr: "layout.html"},
		{name: "page without content", fsys: with("error.html", `{{define "title"}}t{{end}}`), wantErr: `error.html does not define "content"`},
		{name: "syntax error", fsys: with("login.html", `{{define "content"}}{{.Oops{{end}}`), wantErr: "parse login.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.fsys)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEmbeddedFSParses(t *testing.T) {
	newRenderer(t)
}

// TestEveryPage checks what all pages share: headers, status, document
// structure and accessibility basics.
func TestEveryPage(t *testing.T) {
	r := newRenderer(t)
	data := Page{TenantName: "Acme", CSRFField: csrfField, Action: "/oidc/logout", Message: "m"}
	tests := []struct {
		name   string
		page   string
		status int
	}{
		{name: "login", page: PageLogin, status: http.StatusOK},
		{name: "signup", page: PageSignup, status: http.StatusOK},
		{name: "logout", page: PageLogout, status: http.StatusOK},
		{name: "logged out", page: PageLoggedOut, status: http.StatusOK},
		{name: "error", page: PageError, status: http.StatusBadRequest},
		{name: "organization picker", page: PageOrgPicker, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := render(t, r, tt.status, tt.page, data)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			body := rec.Body.String()
			for _, want := range []string{
				`<html lang="en">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<link rel="stylesheet" href="/static/authio.css">`,
				`<p class="tenant-name">Acme</p>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %s", want)
				}
			}
			if n := strings.Count(body, "<main"); n != 1 {
				t.Errorf("found %d <main> elements, want 1", n)
			}
			if n := strings.Count(body, "<h1>"); n != 1 {
				t.Errorf("found %d <h1> elements, want 1", n)
			}
			// Every visible input has a label pointing at it.
			for _, m := range regexp.MustCompile(`<input\b[^>]*>`).FindAllString(body, -1) {
				if strings.Contains(m, `type="hidden"`) {
					continue
				}
				id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(m)
				if id == nil {
					t.Errorf("input without id: %s", m)
					continue
				}
				if !strings.Contains(body, `<label for="`+id[1]+`">`) {
					t.Errorf("input %q has no <label for>", id[1])
				}
			}
		})
	}
}

func TestForms(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name   string
		page   string
		data   Page
		action string
		button string
		inputs map[string]string // input name -> fragment its tag must contain
		want   []string
		absent []string
	}{
		{
			name:   "login, email step",
			page:   PageLogin,
			data:   Page{CSRFField: csrfField, Flow: "flw_1<&>", LoginStep: LoginStepIdentify},
			action: "/login",
			button: `<button type="submit">Continue</button>`,
			inputs: map[string]string{
				"email": `id="email" name="email" type="email" autocomplete="username webauthn"`,
				"step":  `type="hidden" name="step" value="identify"`,
				"state": `type="hidden" name="state" value="flw_1&lt;&amp;&gt;"`,
			},
			want:   []string{`<label for="email">`},
			absent: []string{"aria-invalid", `role="alert"`, "Create an account", `type="password"`, "Not you?"},
		},
		{
			name:   "login, methods step",
			page:   PageLogin,
			data:   Page{CSRFField: csrfField, Email: "a@acme.test", Flow: "flw_1<&>", LoginStep: LoginStepMethods},
			action: "/login",
			button: `<button type="submit">Sign in</button>`,
			inputs: map[string]string{
				"email":    `type="hidden" name="email" value="a@acme.test"`,
				"password": `autocomplete="current-password"`,
				"state":    `type="hidden" name="state" value="flw_1&lt;&amp;&gt;"`,
				"step":     `type="hidden" name="step" value="reset"`,
			},
			want: []string{`Signing in as <strong id="signing-in-as">a@acme.test</strong>`, `type="password"`, `<label for="password">`,
				`>Not you?</button>`, `<a href="/login/forgot?state=flw_1%3c%26%3e">Forgot password?</a>`},
			absent: []string{"aria-invalid", `role="alert"`, "Create an account", `type="email"`},
		},
		{
			name:   "login with sign-up link",
			page:   PageLogin,
			data:   Page{CSRFField: csrfField, SignupEnabled: true, SignupURL: "/signup?state=flw_1", Email: "a@acme.test", LoginStep: LoginStepMethods},
			action: "/login",
			button: `<button type="submit">Sign in</button>`,
			inputs: map[string]string{"password": `required`},
			want:   []string{`<a href="/signup?state=flw_1">Create an account</a>`},
		},
		{
			name:   "signup",
			page:   PageSignup,
			data:   Page{CSRFField: csrfField, LoginURL: "/login?state=flw_1"},
			action: "/signup",
			button: `<button type="submit">Create account</button>`,
			inputs: map[string]string{
				"email":    `type="email"`,
				"password": `autocomplete="new-password" minlength="8"`,
			},
			want: []string{`<a href="/login?state=flw_1">Sign in</a>`, `aria-describedby="password-hint"`},
		},
		{
			name: "logout confirm",
			page: PageLogout,
			data: Page{
				CSRFField: csrfField,
				Action:    "/oidc/logout",
				Hidden: map[string]string{
					"post_logout_redirect_uri": "https://app.acme.test/bye",
					"state":                    "s1",
					"client_id":                "cli_1",
				},
			},
			action: "/oidc/logout",
			button: `<button type="submit">Sign out</button>`,
			inputs: map[string]string{
				"post_logout_redirect_uri": `value="https://app.acme.test/bye"`,
				"state":                    `value="s1"`,
				"client_id":                `value="cli_1"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := render(t, r, http.StatusOK, tt.page, tt.data).Body.String()
			form := findTag(body, "form", "action", tt.action)
			if form == "" || !strings.Contains(form, `method="post"`) {
				t.Errorf("no POST form to %q in:\n%s", tt.action, body)
			}
			if !strings.Contains(body, tt.button) {
				t.Errorf("body lacks %s", tt.button)
			}
			if !strings.Contains(body, string(csrfField)) {
				t.Error("CSRF field missing")
			}
			for name, frag := range tt.inputs {
				tag := findTag(body, "input", "name", name)
				if tag == "" {
					t.Errorf("no input named %q", name)
					continue
				}
				if !strings.Contains(tag, frag) {
					t.Errorf("input %q = %s, want it to contain %s", name, tag, frag)
				}
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %s", want)
				}
			}
			for _, absent := range tt.absent {
				if strings.Contains(body, absent) {
					t.Errorf("body unexpectedly contains %s", absent)
				}
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name        string
		page        string
		step        string // the sign-in page's step
		fieldErrors map[string]string
		invalid     []string // inputs that must be aria-invalid
		valid       []string // inputs that must not be
		describedBy map[string]string
	}{
		{
			name:        "login email step",
			page:        PageLogin,
			step:        LoginStepIdentify,
			fieldErrors: map[string]string{"email": "Enter a valid email address."},
			invalid:     []string{"email"},
			describedBy: map[string]string{"email": "email-error"},
		},
		{
			name:        "login methods step",
			page:        PageLogin,
			step:        LoginStepMethods,
			fieldErrors: map[string]string{"password": "Required."},
			invalid:     []string{"password"},
			valid:       []string{"email"},
			describedBy: map[string]string{"password": "password-error"},
		},
		{
			name:        "signup password keeps hint",
			page:        PageSignup,
			fieldErrors: map[string]string{"password": "Use at least 8 characters."},
			invalid:     []string{"password"},
			valid:       []string{"email"},
			describedBy: map[string]string{"password": "password-hint password-error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := render(t, r, http.StatusUnprocessableEntity, tt.page, Page{CSRFField: csrfField, FieldErrors: tt.fieldErrors, LoginStep: tt.step, Email: "a@acme.test"}).Body.String()
			for field, msg := range tt.fieldErrors {
				want := `<p class="field-error" id="` + field + `-error">` + template.HTMLEscapeString(msg) + `</p>`
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %s", want)
				}
			}
			for _, name := range tt.invalid {
				if tag := findTag(body, "input", "name", name); !strings.Contains(tag, `aria-invalid="true"`) {
					t.Errorf("input %q not aria-invalid: %s", name, tag)
				}
			}
			for _, name := range tt.valid {
				if tag := findTag(body, "input", "name", name); strings.Contains(tag, "aria-invalid") {
					t.Errorf("input %q wrongly aria-invalid: %s", name, tag)
				}
			}
			for name, ids := range tt.describedBy {
				if tag := findTag(body, "input", "name", name); !strings.Contains(tag, `aria-describedby="`+ids+`"`) {
					t.Errorf("input %q = %s, want aria-describedby=%q", name, tag, ids)
				}
			}
		})
	}
}

func TestFormError(t *testing.T) {
	r := newRenderer(t)
	body := render(t, r, http.StatusUnauthorized, PageLogin, Page{CSRFField: csrfField, Error: "Wrong email or password."}).Body.String()
	want := `<div class="alert" role="alert" id="form-error">Wrong email or password.</div>`
	if !strings.Contains(body, want) {
		t.Errorf("body lacks %s", want)
	}
}

// TestEscaping feeds hostile text through every string field and checks it
// comes out inert.
func TestEscaping(t *testing.T) {
	r := newRenderer(t)
	hostile := Page{
		Title:         xss,
		TenantName:    xss,
		CSRFField:     csrfField,
		Error:         xss,
		FieldErrors:   map[string]string{"email": xss, "password": xss},
		Email:         xss,
		Flow:          xss,
		LinkURL:       "javascript:alert(1)",
		LinkText:      xss,
		SignupEnabled: true,
		LoginURL:      "javascript:alert(1)",
		SignupURL:     "javascript:alert(1)",
		Message:       xss,
		Action:        "javascript:alert(1)",
		Hidden:        map[string]string{xss: xss},
		RequestID:     xss,
	}
	tests := []struct {
		name string
		page string
	}{
		{name: "login", page: PageLogin},
		{name: "signup", page: PageSignup},
		{name: "logout", page: PageLogout},
		{name: "logged out", page: PageLoggedOut},
		{name: "error", page: PageError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := render(t, r, http.StatusOK, tt.page, hostile).Body.String()
			if strings.Contains(body, "<script>alert") {
				t.Errorf("unescaped script in:\n%s", body)
			}
			if strings.Contains(body, "javascript:") {
				t.Errorf("javascript: URL survived in:\n%s", body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("escaped text missing from:\n%s", body)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name    string
		page    string
		data    any
		wantErr error
	}{
		{name: "unknown page", page: "nope", data: Page{}, wantErr: ErrUnknownPage},
		{name: "layout is not a page", page: "layout", data: Page{}, wantErr: ErrUnknownPage},
		{name: "wrong data type", page: PageLogin, data: struct{ Other string }{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := r.Render(rec, http.StatusOK, tt.page, tt.data)
			if err == nil {
				t.Fatal("Render succeeded, want error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			// Nothing may reach the client, so the caller can still answer.
			if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" || rec.Flushed {
				t.Errorf("Render wrote to the response: headers %v, body %q", rec.Header(), rec.Body.String())
			}
		})
	}
}

func TestGolden(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name   string
		page   string
		status int
		data   Page
	}{
		{
			name:   "login",
			page:   PageLogin,
			status: http.StatusOK,
			data: Page{
				TenantName:    "Acme",
				CSRFField:     csrfField,
				Flow:          "flw_1",
				SignupEnabled: true,
				SignupURL:     "/signup?state=flw_1",
				LoginStep:     LoginStepIdentify,
			},
		},
		{
			name:   "login_methods",
			page:   PageLogin,
			status: http.StatusOK,
			data: Page{
				TenantName:    "Acme",
				CSRFField:     csrfField,
				Email:         "a@acme.test",
				Flow:          "flw_1",
				SignupEnabled: true,
				SignupURL:     "/signup?state=flw_1",
				LoginStep:     LoginStepMethods,
			},
		},
		{
			name:   "login_errors",
			page:   PageLogin,
			status: http.StatusUnauthorized,
			data: Page{
				TenantName:  "Acme",
				CSRFField:   csrfField,
				Error:       "Wrong email or password.",
				FieldErrors: map[string]string{"password": "Enter your password."},
				Email:       "a@acme.test",
				Flow:        "flw_1",
				LoginStep:   LoginStepMethods,
			},
		},
		{
			name:   "error",
			page:   PageError,
			status: http.StatusBadRequest,
			data: Page{
				TenantName: "Acme",
				Title:      "Invalid request",
				Message:    "The sign-in link is invalid or has expired.",
				RequestID:  "req_01HZX",
			},
		},
		{
			name:   "flow_expired",
			page:   PageError,
			status: http.StatusGone,
			data: Page{
				TenantName: "Acme",
				Title:      "This sign-in link has expired",
				Message:    "Go back to the application and sign in again.",
				LinkURL:    "/authorize?client_id=cli_1&state=xyz",
				LinkText:   "Sign in again",
				RequestID:  "req_01HZX",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, r, tt.status, tt.page, tt.data).Body.Bytes()
			path := filepath.Join("testdata", tt.name+".golden.html")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test ./templates -update to create it): %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from rendered page (rerun with -update if intended)\n--- got ---\n%s", path, got)
			}
		})
	}
}

func TestOrgPicker(t *testing.T) {
	r := newRenderer(t)
	rec := render(t, r, http.StatusOK, PageOrgPicker, Page{TenantName: "Acme", Email: "alice@acme.test", Choices: []Choice{
		{Label: "Acme Inc", Detail: "acme", URL: "/authorize?client_id=c&organization=org_1"},
		{Label: `<script>alert(1)</script>`, Detail: "globex", URL: "/authorize?client_id=c&organization=org_2"},
	}})
	body := rec.Body.String()
	for _, want := range []string{
		`<a class="choice" href="/authorize?client_id=c&amp;organization=org_1"><span class="choice-label">Acme Inc</span><span class="choice-detail">acme</span></a>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`Signed in as alice@acme.test.`,
		`<h1>Choose an organization</h1>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("picker lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("a label was not escaped")
	}
	if n := strings.Count(body, `class="choice"`); n != 2 {
		t.Errorf("%d choices rendered, want 2", n)
	}
}

// TestLoginConnections: the sign-in page renders each method with its partial — the password form as always,
// a form kind's Fields with ids of its own, buttons for upstream kinds — and escapes what tenants configure.
func TestLoginConnections(t *testing.T) {
	r := newRenderer(t)
	page := Page{CSRFField: csrfField, Flow: "flw_1", Email: "a@acme.test", LoginStep: LoginStepMethods, Connections: []Connection{
		{Name: "Username-Password-Authentication", Template: ConnectionPassword, Default: true},
		{Name: "mailcode", DisplayName: "an email code", Template: ConnectionForm, NeedsEmail: true,
			Fields: []Field{{Name: "email", Label: "Email", Type: "email"}, {Name: "otp", Label: "Code", Type: "text"}}},
		{Name: "codes", DisplayName: xss, Template: ConnectionForm, FieldErrors: map[string]string{"code": "Enter your code."},
			Fields: []Field{{Name: "code", Label: xss, Type: "text", Autocomplete: "one-time-code", Value: xss}}},
		{Name: "idp", DisplayName: "Acme SSO", Template: ConnectionButton, Method: "get", StartURL: "javascript:alert(1)"},
		{Name: "saml", DisplayName: "Globex SAML", Template: ConnectionButton, Method: "post", StartURL: "/login/saml/start"},
	}}
	body := render(t, r, http.StatusOK, PageLogin, page).Body.String()
	for _, want := range []string{
		`<input type="hidden" name="email" value="a@acme.test">`, `<button type="submit">Sign in</button>`,
		`<input id="mailcode-otp" name="otp" type="text"`, `Continue with an email code`,
		`<input type="hidden" name="connection" value="codes">`,
		`<input id="codes-code" name="code" type="text" autocomplete="one-time-code" required value="&#34;&gt;&lt;script&gt;`,
		`aria-describedby="codes-code-error"`, `<p class="field-error" id="codes-code-error">Enter your code.</p>`,
		`Continue with &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`, `Continue with Acme SSO</a>`,
		`<form class="form connection" method="post" action="/login/saml/start">`, `Continue with Globex SAML</button>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "javascript:") {
		t.Errorf("unescaped configuration in:\n%s", body)
	}
	if n := strings.Count(body, `name="state" value="flw_1"`); n != 5 {
		t.Errorf("%d forms carry the flow, want 5 (Not you?, the three forms and the POST button)", n)
	}
	if strings.Contains(body, `id="mailcode-email"`) || strings.Count(body, `type="hidden" name="email" value="a@acme.test"`) != 2 {
		t.Errorf("a form kind's email field is not the hidden email of the methods step:\n%s", body)
	}

	// The email step: the email field, then only the methods that need no email.
	page.LoginStep, page.Email = LoginStepIdentify, ""
	body = render(t, r, http.StatusOK, PageLogin, page).Body.String()
	for _, want := range []string{`autocomplete="username webauthn"`, `<input id="codes-code" name="code"`, `Continue with Acme SSO</a>`,
		`Continue with Globex SAML</button>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the email step lacks %s", want)
		}
	}
	for _, absent := range []string{`type="password"`, "mailcode", "Not you?"} {
		if strings.Contains(body, absent) {
			t.Errorf("the email step shows %s", absent)
		}
	}
	empty := render(t, r, http.StatusOK, PageLogin, Page{CSRFField: csrfField, Connections: []Connection{}}).Body.String()
	if strings.Contains(empty, "<form") || !strings.Contains(empty, "no way to sign in") {
		t.Errorf("a page without methods:\n%s", empty)
	}
}

// TestWebMessagePage: the web_message page posts {type: "authorization_response", response} to the target origin
// from its one script, which carries the nonce; no value, however hostile, ends the script or adds code.
func TestWebMessagePage(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	hostile := `</script><script>alert(1)</script>'"` + "\u2028"
	err := r.RenderWebMessage(rec, WebMessage{Nonce: "n0nce", TargetOrigin: "https://app.example.com",
		Response: map[string]string{"code": "c1", "state": hostile, "iss": "https://acme.example.com/"}})
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, rec.Header().Get("Cache-Control"))
	}
	if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script nonce="n0nce">`) {
		t.Fatalf("want exactly one script, with the nonce:\n%s", body)
	}
	if strings.Contains(body, "alert(1)</script>") || strings.Contains(body, "<script>alert") {
		t.Errorf("the state escaped the script:\n%s", body)
	}
	m := regexp.MustCompile(`var message = (\{.*\});`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no message literal:\n%s", body)
	}
	var msg struct {
		Type     string            `json:"type"`
		Response map[string]string `json:"response"`
	}
	if err := json.Unmarshal([]byte(m[1]), &msg); err != nil {
		t.Fatalf("message literal is not JSON: %v\n%s", err, m[1])
	}
	if msg.Type != "authorization_response" || msg.Response["code"] != "c1" || msg.Response["state"] != hostile {
		t.Errorf("message = %+v", msg)
	}
	o := regexp.MustCompile(`var targetOrigin = ("[^"]*");`).FindStringSubmatch(body)
	var origin string
	if o == nil || json.Unmarshal([]byte(o[1]), &origin) != nil || origin != "https://app.example.com" {
		t.Errorf("target origin literal %v", o)
	}
	if !strings.Contains(body, "postMessage(message, targetOrigin)") {
		t.Errorf("the page does not post the message to the target origin:\n%s", body)
	}

	for _, bad := range []WebMessage{{Nonce: "n", TargetOrigin: "*"}, {Nonce: "n"}, {TargetOrigin: "https://a.example"}} {
		if err := r.RenderWebMessage(httptest.NewRecorder(), bad); err == nil {
			t.Errorf("RenderWebMessage(%+v) wrote a page", bad)
		}
	}
}
