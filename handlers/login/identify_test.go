package login_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestEmailFirstSignIn: the sign-in page asks for the email first (no password field yet), stores it in the flow
// and shows the methods step — "Signing in as …", the password form carrying the email — whose password signs in.
func TestEmailFirstSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)

	page := testenv.Get(t, c, f.acme.URL("/login?state="+flow))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d", page.StatusCode)
	}
	if !regexp.MustCompile(`<input id="email" name="email" type="email" autocomplete="username webauthn"`).MatchString(page.Body) {
		t.Errorf("the email step has no email field with autocomplete=\"username webauthn\":\n%s", page.Body)
	}
	if strings.Contains(page.Body, `type="password"`) {
		t.Errorf("the email step asks for a password")
	}
	form := testenv.ParseFormWith(t, page.Body, "step")
	if form.Fields.Get("step") != "identify" || form.Fields.Get("state") != flow {
		t.Fatalf("email step form: %v", form.Fields)
	}
	r := f.acme.Submit(t, c, form, url.Values{"email": {" alice@acme.test "}})
	if r.StatusCode != http.StatusSeeOther || r.Location(t).RequestURI() != "/login?state="+flow {
		t.Fatalf("email step: status %d to %q, want 303 to the flow's sign-in page", r.StatusCode, r.Header.Get("Location"))
	}
	if setsSession(r) {
		t.Fatal("the email step signed in")
	}
	methods := testenv.Get(t, c, f.acme.URL("/login?state="+flow))
	if !strings.Contains(methods.Body, `Signing in as <strong id="signing-in-as">alice@acme.test</strong>`) ||
		!strings.Contains(methods.Body, ">Not you?</button>") || !strings.Contains(methods.Body, `href="/login/forgot?state=`+flow+`"`) {
		t.Fatalf("methods step:\n%s", methods.Body)
	}
	pw := testenv.ParseFormWith(t, methods.Body, "password")
	if pw.Fields.Get("email") != "alice@acme.test" || pw.Inputs["email"] != "hidden" {
		t.Fatalf("the password form does not carry the email: %v", pw.Fields)
	}
	r = f.acme.Submit(t, c, pw, url.Values{"password": {testenv.Password}})
	if r.StatusCode != http.StatusSeeOther || !setsSession(r) || r.Location(t).Path != "/authorize/resume" {
		t.Fatalf("password: status %d to %q, want 303 to resume with a session", r.StatusCode, r.Header.Get("Location"))
	}
	code := ar.Callback(t, f.acme, testenv.Get(t, c, r.Location(t).String())).Get("code")
	if code == "" {
		t.Fatal("no code")
	}
}

// TestEmailStepSameForKnownAndUnknownEmails: the email step looks nothing up, so a known and an unknown address
// get the same answers (status, redirect, methods page) but for the address itself, the CSRF token and the flow id.
func TestEmailStepSameForKnownAndUnknownEmails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	type answer struct {
		status int
		body   string
	}
	step := func(t *testing.T, email string, withFlow bool) answer {
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		u, flow := f.acme.URL("/login"), ""
		if withFlow {
			flow = testenv.NewAuthRequest(f.spa.ClientID, spaRedirect).Flow(t, f.acme, c)
			u += "?state=" + flow
		}
		form := testenv.ParseFormWith(t, testenv.Get(t, c, u).Body, "step")
		r := f.acme.Submit(t, c, form, url.Values{"email": {email}})
		first := r.StatusCode
		if r.StatusCode == http.StatusSeeOther {
			r = testenv.Get(t, c, r.Location(t).String())
		}
		token := testenv.ParseFormWith(t, r.Body, "password").Fields.Get("csrf_token")
		body := strings.NewReplacer(token, "<csrf>", email, "<email>", r.Header.Get("X-Request-Id"), "<rid>").Replace(r.Body)
		if flow != "" {
			body = strings.ReplaceAll(body, flow, "<flow>")
		}
		return answer{status: first, body: body}
	}
	for _, withFlow := range []bool{true, false} {
		known := step(t, "alice@acme.test", withFlow)
		unknown := step(t, "nobody@acme.test", withFlow)
		if known != unknown {
			t.Errorf("flow %v: the email step answers a known address differently from an unknown one:\n%d %s\n----\n%d %s",
				withFlow, known.status, known.body, unknown.status, unknown.body)
		}
	}
}

// TestEmailStepErrors: an empty or malformed email is refused next to the field (aria-invalid, aria-describedby
// naming the message), and nothing is stored.
func TestEmailStepErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name, email, want string
	}{
		{"empty", "  ", "Enter your email address."},
		{"malformed", "alice-at-acme", "Enter an email address like name@example.com."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			flow := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect).Flow(t, f.acme, c)
			form := testenv.ParseFormWith(t, testenv.Get(t, c, f.acme.URL("/login?state="+flow)).Body, "step")
			r := f.acme.Submit(t, c, form, url.Values{"email": {tt.email}})
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.StatusCode)
			}
			if !strings.Contains(r.Body, `aria-invalid="true" aria-describedby="email-error"`) ||
				!strings.Contains(r.Body, `<p class="field-error" id="email-error">`+tt.want+`</p>`) {
				t.Errorf("the error is not next to the email field:\n%s", r.Body)
			}
			if again := testenv.Get(t, c, f.acme.URL("/login?state="+flow)); strings.Contains(again.Body, "Signing in as") {
				t.Error("a refused email was stored in the flow")
			}
		})
	}
}

// TestNotYou: "Not you?" forgets the email — login_hint included — and shows the email step again; without a
// flow too.
func TestNotYou(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("login_hint", "alice@acme.test")
	flow := ar.Flow(t, f.acme, c)
	page := testenv.Get(t, c, f.acme.URL("/login?state="+flow))
	if !strings.Contains(page.Body, "Signing in as") {
		t.Fatalf("login_hint did not skip the email step:\n%s", page.Body)
	}
	r := f.acme.Submit(t, c, testenv.ParseFormWith(t, page.Body, "step"), nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Not you?: status %d, want 303", r.StatusCode)
	}
	page = testenv.Get(t, c, r.Location(t).String())
	if strings.Contains(page.Body, "Signing in as") || strings.Contains(page.Body, "alice@acme.test") ||
		!strings.Contains(page.Body, `name="step" value="identify"`) {
		t.Fatalf("after Not you?: want the empty email step:\n%s", page.Body)
	}
	// Another address, then the right password for it.
	r = f.acme.Submit(t, c, testenv.ParseFormWith(t, page.Body, "step"), url.Values{"email": {"bob@acme.test"}})
	page = testenv.Get(t, c, r.Location(t).String())
	if !strings.Contains(page.Body, `<strong id="signing-in-as">bob@acme.test</strong>`) {
		t.Fatalf("the new address is not shown:\n%s", page.Body)
	}

	// Without a flow: the methods step, then Not you? back to the email step.
	direct := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	page = testenv.Get(t, direct, f.acme.URL("/login"))
	page = f.acme.Submit(t, direct, testenv.ParseFormWith(t, page.Body, "step"), url.Values{"email": {"alice@acme.test"}})
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Signing in as") {
		t.Fatalf("email step without a flow: status %d\n%s", page.StatusCode, page.Body)
	}
	page = f.acme.Submit(t, direct, testenv.ParseFormWith(t, page.Body, "step"), nil)
	if page.StatusCode != http.StatusOK || strings.Contains(page.Body, "Signing in as") || !strings.Contains(page.Body, `value="identify"`) {
		t.Fatalf("Not you? without a flow: status %d\n%s", page.StatusCode, page.Body)
	}
}

// TestMethodsStepWithoutEmailGoesBack: a password post that lost its email shows the email step with the error
// on the email field, and signs nobody in.
func TestMethodsStepWithoutEmailGoesBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	page := testenv.Get(t, c, f.acme.URL("/login"))
	form := testenv.ParseFormWith(t, page.Body, "step")
	form.Fields.Del("step")
	r := f.acme.Submit(t, c, form, url.Values{"password": {testenv.Password}, "email": {""}})
	if r.StatusCode != http.StatusBadRequest || setsSession(r) || !strings.Contains(r.Body, `aria-describedby="email-error"`) {
		t.Fatalf("status %d (session %v), want 400 with the email field in error:\n%s", r.StatusCode, setsSession(r), r.Body)
	}
}
