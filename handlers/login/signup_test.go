package login_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
)

func TestSignupDisabledByDefault(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	r := testenv.Get(t, c, f.acme.URL("/signup"))
	if r.StatusCode != http.StatusNotFound || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /signup: status %d %q, want a 404 page", r.StatusCode, r.Header.Get("Content-Type"))
	}
	login := testenv.Get(t, c, f.acme.URL("/login"))
	if strings.Contains(login.Body, `href="/signup`) {
		t.Error("the login page links to a disabled sign-up")
	}
	// Even a well-formed POST (valid CSRF token) creates nobody.
	form := testenv.ParseForm(t, login.Body)
	r = testenv.PostForm(t, c, f.acme.URL("/signup"), url.Values{"csrf_token": {form.Fields.Get("csrf_token")},
		"email": {"mallory@acme.test"}, "password": {"long-enough-password"}}, testenv.Header("Origin", f.acme.Issuer))
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("POST /signup: status %d, want 404", r.StatusCode)
	}
	if _, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "mallory@acme.test"); err == nil {
		t.Error("a user was created while sign-up is disabled")
	}
}

func TestSignupWhenEnabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.env.S.SetSignup(context.Background(), f.acme.ID, true); err != nil {
		t.Fatal(err)
	}
	browser := f.env.Client(testenv.ClientOptions{StopAt: []string{spaOrigin}})
	step := f.env.Client(testenv.ClientOptions{Jar: browser.Jar, NoRedirects: true})

	// The change reaches the server through the cache's pub/sub; give it a moment, but not forever.
	var page *testenv.Response
	for deadline := time.Now().Add(3 * time.Second); ; {
		page = testenv.Get(t, step, f.acme.URL("/signup"))
		if page.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /signup after enabling: %d", page.StatusCode)
	}
	if login := testenv.Get(t, step, f.acme.URL("/login")); !strings.Contains(login.Body, `href="/signup`) {
		t.Error("the login page does not link to sign-up")
	}
	form := testenv.ParseForm(t, page.Body)
	if form.Inputs["email"] != "email" || form.Inputs["password"] != "password" || form.Fields.Get("csrf_token") == "" {
		t.Fatalf("sign-up form: %v", form.Inputs)
	}

	for _, tc := range []struct {
		name, email, password string
		field                 string // the input the error names
	}{
		{name: "short password", email: "carol@acme.test", password: "short", field: "password"},
		{name: "bad email", email: "not-an-email", password: "long-enough-password", field: "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.acme.Submit(t, step, form, url.Values{"email": {tc.email}, "password": {tc.password}})
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, tc.field+"-error") {
				t.Errorf("status %d, want 400 with an error on %s", r.StatusCode, tc.field)
			}
		})
	}

	t.Run("existing email is not revealed", func(t *testing.T) {
		r := f.acme.Submit(t, step, form, url.Values{"email": {"alice@acme.test"}, "password": {"long-enough-password"}})
		if r.StatusCode != http.StatusBadRequest || setsSession(r) {
			t.Fatalf("status %d", r.StatusCode)
		}
		if strings.Contains(strings.ToLower(r.Body), "already exists") {
			t.Error("the page says the address has an account")
		}
	})

	t.Run("creates the user and signs in", func(t *testing.T) {
		// Sign-up continues the sign-in flow the application started: the login page links to it with the flow.
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		flow := ar.Flow(t, f.acme, step)
		login := testenv.Get(t, step, f.acme.URL("/login?state="+flow))
		link := "/signup?" + url.Values{"state": {flow}}.Encode()
		if !strings.Contains(login.Body, `href="`+link+`"`) {
			t.Fatalf("the flow's login page does not link to %s:\n%s", link, login.Body)
		}
		flowForm := testenv.ParseForm(t, testenv.Get(t, step, f.acme.URL(link)).Body)
		if flowForm.Fields.Get("state") != flow {
			t.Fatalf("sign-up form state = %q, want %q", flowForm.Fields.Get("state"), flow)
		}
		r := f.acme.Submit(t, step, flowForm, url.Values{"email": {"Carol@Acme.test"}, "password": {"long-enough-password"}})
		back := "/authorize/resume?state=" + flow
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != back || !setsSession(r) {
			t.Fatalf("status %d Location %q (session set: %v), want 303 to %s with a session",
				r.StatusCode, r.Header.Get("Location"), setsSession(r), back)
		}
		u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "carol@acme.test")
		if err != nil {
			t.Fatalf("user not stored: %v", err)
		}
		if u.PasswordHash == "" || strings.Contains(u.PasswordHash, "long-enough-password") {
			t.Error("password not hashed")
		}
		q := ar.Callback(t, f.acme, testenv.Get(t, browser, f.acme.URL(back)))
		tok := testenv.TokensOf(t, ar.Exchange(t, f.acme, browser, q.Get("code")))
		if _, claims := testenv.DecodeJWT(t, tok.IDToken); claims["sub"] != u.ID || claims["email"] != "carol@acme.test" {
			t.Errorf("ID token sub/email = %v/%v, want %s/carol@acme.test", claims["sub"], claims["email"], u.ID)
		}
		// And the new account signs in with its password.
		other := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		if r := f.acme.SignIn(t, other, "carol@acme.test", "long-enough-password", ""); r.StatusCode != http.StatusOK || !setsSession(r) {
			t.Errorf("sign-in with the new account: %d", r.StatusCode)
		}
	})
}
