package login_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/authn/emailotp"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/mail/mailtest"
	"github.com/authio/authio/storage"
)

// emailFixture is a server that sends mail to an in-process SMTP server, with the email connection enabled on
// acme and globex.
type emailFixture struct {
	env          *testenv.Env
	smtp         *mailtest.Server
	acme, globex *testenv.Tenant
	spa          directory.CreatedClient
	alice        storage.User
	browser      *http.Client
	follow       *http.Client
}

func newEmailFixture(t *testing.T, opts testenv.Options) *emailFixture {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	configure := opts.Configure
	opts.Configure = func(c *config.Config) {
		if configure != nil {
			configure(c)
		}
		c.SMTPURL = srv.URL()
	}
	env := testenv.New(t, opts)
	env.S.EmailSendWindow = 20 * time.Millisecond
	f := &emailFixture{env: env, smtp: srv, acme: env.NewTenant("acme"), globex: env.NewTenant("globex")}
	f.spa = f.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	f.alice = f.acme.NewUser("alice@acme.test")
	for _, tn := range []*testenv.Tenant{f.acme, f.globex} {
		if _, err := env.S.CreateConnection(tn.Ctx, signin.ConnectionSpec{Name: "email", Strategy: "email"}); err != nil {
			t.Fatalf("create the email connection: %v", err)
		}
	}
	f.browser = env.Client(testenv.ClientOptions{NoRedirects: true})
	f.follow = env.Client(testenv.ClientOptions{Jar: f.browser.Jar, StopAt: []string{spaOrigin}})
	return f
}

func (f *emailFixture) request() *testenv.AuthRequest {
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("prompt", "login")
	return ar
}

// ask posts the email connection's form of flow's sign-in page for email, as browser c.
func (f *emailFixture) ask(t *testing.T, c *http.Client, tn *testenv.Tenant, flow, email string) *testenv.Response {
	t.Helper()
	// The email step first: the methods step offers the email connection.
	page := tn.IdentifyStep(t, c, testenv.Get(t, c, tn.URL("/login?state="+flow)), email)
	if !strings.Contains(page.Body, "Email me a sign-in link") {
		t.Fatalf("login page lacks the email button:\n%s", page.Body)
	}
	m := csrfRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("login page has no CSRF token")
	}
	return testenv.PostForm(t, c, tn.URL("/login"), url.Values{"csrf_token": {m[1]}, "state": {flow}, "connection": {"email"},
		"email": {email}}, testenv.Header("Origin", strings.TrimSuffix(tn.Issuer, "/")))
}

// answer posts code on the "Check your email" page sent (the response of ask).
func (f *emailFixture) answer(t *testing.T, c *http.Client, tn *testenv.Tenant, sent *testenv.Response, flow, email, code string) *testenv.Response {
	t.Helper()
	m := csrfRE.FindStringSubmatch(sent.Body)
	if m == nil {
		t.Fatalf("page has no CSRF token:\n%s", sent.Body)
	}
	return testenv.PostForm(t, c, tn.URL("/login"), url.Values{"csrf_token": {m[1]}, "state": {flow}, "connection": {"email"},
		"email": {email}, "code": {code}}, testenv.Header("Origin", strings.TrimSuffix(tn.Issuer, "/")))
}

var (
	codeRE = regexp.MustCompile(`enter this code on the sign-in page: (\d{6})`)
	linkRE = regexp.MustCompile(`(http://\S+/login/email/verify\?token=\S+)`)
)

// mailTo waits for the message to addr after the first n and returns its link and code.
func (f *emailFixture) mailTo(t *testing.T, addr string, n int) (link, code string) {
	t.Helper()
	msg := f.smtp.Wait(t, addr, n)
	l, c := linkRE.FindStringSubmatch(msg.Text), codeRE.FindStringSubmatch(msg.Text)
	if l == nil || c == nil {
		t.Fatalf("message without link or code:\n%s", msg.Text)
	}
	if !strings.Contains(msg.HTML, c[1]) || !strings.Contains(msg.HTML, "Acme") {
		t.Errorf("HTML part lacks the code or the tenant's name:\n%s", msg.HTML)
	}
	return l[1], c[1]
}

func (f *emailFixture) finish(t *testing.T, ar *testenv.AuthRequest, flow string, r *testenv.Response) map[string]any {
	t.Helper()
	return finishSignIn(t, f.acme, f.follow, ar, flow, r)
}

// TestEmailLinkAndCodeSignIn: one email carries a link and a code; the link signs in the browser that asked
// (amr email), the code typed there signs it in too (amr email, otp); each works once.
func TestEmailLinkAndCodeSignIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)

		t.Run("link", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			n := len(f.smtp.Messages())
			sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			for _, want := range []string{"Check your email", `autocomplete="one-time-code"`, `inputmode="numeric"`, `name="code"`} {
				if sent.StatusCode != http.StatusOK || !strings.Contains(sent.Body, want) {
					t.Fatalf("status %d, want 200 with %s:\n%s", sent.StatusCode, want, sent.Body)
				}
			}
			link, code := f.mailTo(t, "alice@acme.test", n)
			if !strings.HasPrefix(link, f.acme.URL("/login/email/verify?token=")) {
				t.Fatalf("link %s is not on acme's host", link)
			}
			if strings.Contains(sent.Body, code) {
				t.Error("the page shows the code")
			}
			claims := f.finish(t, ar, flow, testenv.Get(t, f.browser, link))
			if claims["sub"] != f.alice.ID || !slices.Equal(amrOf(claims), []string{"email"}) {
				t.Errorf("sub %v amr %v, want alice and [email]", claims["sub"], claims["amr"])
			}
			if r := testenv.Get(t, f.browser, link); r.StatusCode != http.StatusBadRequest || setsSession(r) ||
				!strings.Contains(r.Body, "expired") {
				t.Errorf("the link again: status %d, want 400 and no session", r.StatusCode)
			}
		})

		t.Run("code", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			n := len(f.smtp.Messages())
			sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			link, code := f.mailTo(t, "alice@acme.test", n)
			claims := f.finish(t, ar, flow, f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", code))
			if claims["sub"] != f.alice.ID || !slices.Equal(amrOf(claims), []string{"email", "otp"}) {
				t.Errorf("sub %v amr %v, want alice and [email otp]", claims["sub"], claims["amr"])
			}
			if r := testenv.Get(t, f.browser, link); r.StatusCode == http.StatusSeeOther || setsSession(r) {
				t.Errorf("the link after the code: status %d, want it refused", r.StatusCode)
			}
		})

		t.Run("a new email replaces the last one", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			n := len(f.smtp.Messages())
			f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			oldLink, oldCode := f.mailTo(t, "alice@acme.test", n)
			sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			_, code := f.mailTo(t, "alice@acme.test", n+1)
			if oldCode != code {
				if r := f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", oldCode); r.StatusCode != http.StatusUnauthorized {
					t.Errorf("the first email's code: status %d, want 401", r.StatusCode)
				}
			}
			if r := testenv.Get(t, f.browser, oldLink); r.StatusCode != http.StatusBadRequest || setsSession(r) {
				t.Errorf("the first email's link: status %d, want 400", r.StatusCode)
			}
			f.finish(t, ar, flow, f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", code))
		})
	})
}

// TestEmailLinkInAnotherBrowser: the link opened by a browser that does not hold the flow (no cookie, or its own
// flow cookie) signs nobody in, never shows the code, and leaves the link working in the browser that asked.
func TestEmailLinkInAnotherBrowser(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
		link, code := f.mailTo(t, "alice@acme.test", 0)
		bare := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		other := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		f.request().Flow(t, f.acme, other) // a flow cookie of its own
		for name, c := range map[string]*http.Client{"no cookie": bare, "another flow cookie": other} {
			r := testenv.Get(t, c, link)
			if r.StatusCode != http.StatusOK || setsSession(r) || !strings.Contains(r.Body, "Continue in your other browser") ||
				strings.Contains(r.Body, code) {
				t.Errorf("%s: status %d session %v, want the go-back page without the code\n%s", name, r.StatusCode, setsSession(r), r.Body)
			}
		}
		claims := f.finish(t, ar, flow, testenv.Get(t, f.browser, link))
		if claims["sub"] != f.alice.ID {
			t.Errorf("sub %v, want alice", claims["sub"])
		}
	})
}

// TestEmailWrongCodes: five wrong codes kill the flow's secret (the right code then fails too), and a new email
// for that flow does not start the count again.
func TestEmailWrongCodes(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)
		flow := f.request().Flow(t, f.acme, f.browser)
		sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
		link, code := f.mailTo(t, "alice@acme.test", 0)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := range emailotp.MaxAttempts {
			r := f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", wrong)
			if r.StatusCode != http.StatusUnauthorized || setsSession(r) || !strings.Contains(r.Body, `aria-invalid="true"`) {
				t.Fatalf("wrong code %d: status %d, want 401 with the error at the field", i+1, r.StatusCode)
			}
		}
		if r := f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", code); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
			t.Errorf("the right code after %d wrong ones: status %d, want 401", emailotp.MaxAttempts, r.StatusCode)
		}
		if r := testenv.Get(t, f.browser, link); r.StatusCode == http.StatusSeeOther || setsSession(r) {
			t.Errorf("the link of a dead secret: status %d, want it refused", r.StatusCode)
		}
		if r := f.ask(t, f.browser, f.acme, flow, "alice@acme.test"); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a new email for the flow: status %d, want 429", r.StatusCode)
		}
	})
}

// TestEmailSecretsAreUsedOnce: the same code, or the same link, used by many requests at once signs in once.
func TestEmailSecretsAreUsedOnce(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)
		const n = 6
		race := func(t *testing.T, do func() *testenv.Response) {
			t.Helper()
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := do(); r.StatusCode == http.StatusSeeOther && setsSession(r) {
						mu.Lock()
						ok++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Errorf("%d of %d parallel uses signed in, want 1", ok, n)
			}
		}
		t.Run("code", func(t *testing.T) {
			flow := f.request().Flow(t, f.acme, f.browser)
			m := len(f.smtp.Messages())
			sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			_, code := f.mailTo(t, "alice@acme.test", m)
			race(t, func() *testenv.Response { return f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", code) })
		})
		t.Run("link", func(t *testing.T) {
			flow := f.request().Flow(t, f.acme, f.browser)
			m := len(f.smtp.Messages())
			f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
			link, _ := f.mailTo(t, "alice@acme.test", m)
			race(t, func() *testenv.Response { return testenv.Get(t, f.browser, link) })
		})
	})
}

// TestEmailIsTheTenantsOwn: acme's link and code do nothing on globex's host.
func TestEmailIsTheTenantsOwn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)
		flow := f.request().Flow(t, f.acme, f.browser)
		f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
		link, code := f.mailTo(t, "alice@acme.test", 0)
		u, _ := url.Parse(link)
		foreign := f.globex.URL(u.RequestURI())
		if r := testenv.Get(t, f.browser, foreign); r.StatusCode != http.StatusBadRequest || setsSession(r) {
			t.Errorf("acme's link on globex: status %d, want 400 and no session", r.StatusCode)
		}
		gspa := f.globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
		f.globex.NewUser("alice@acme.test")
		gflow := testenv.NewAuthRequest(gspa.ClientID, spaRedirect).Flow(t, f.globex, f.browser)
		page := testenv.Get(t, f.browser, f.globex.URL("/login?state="+gflow))
		if r := f.answer(t, f.browser, f.globex, page, gflow, "alice@acme.test", code); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
			t.Errorf("acme's code on globex: status %d, want 401 and no session", r.StatusCode)
		}
		// The link still works where it belongs.
		if r := testenv.Get(t, f.browser, link); r.StatusCode != http.StatusSeeOther || !setsSession(r) {
			t.Errorf("acme's link on acme after the attempts: status %d, want 303", r.StatusCode)
		}
	})
}

// normalize removes what differs between two sign-in pages of two flows: the flow id, the CSRF token, the email.
func normalize(body, flow, email string) string {
	body = strings.ReplaceAll(body, flow, "FLOW")
	body = strings.ReplaceAll(body, email, "EMAIL")
	return csrfRE.ReplaceAllString(body, `name="csrf_token" value="CSRF"`)
}

// TestEmailKnownAndUnknownLookAlike: an address with an account and one without get the same answer (status and
// page); only the first gets an email, and the second's code cannot sign in.
func TestEmailKnownAndUnknownLookAlike(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newEmailFixture(t, opts)
		known := f.request().Flow(t, f.acme, f.browser)
		unknown := f.request().Flow(t, f.acme, f.browser)
		rk := f.ask(t, f.browser, f.acme, known, "alice@acme.test")
		ru := f.ask(t, f.browser, f.acme, unknown, "nobody@acme.test")
		if rk.StatusCode != ru.StatusCode || normalize(rk.Body, known, "alice@acme.test") != normalize(ru.Body, unknown, "nobody@acme.test") {
			t.Errorf("known: %d, unknown: %d; the pages differ:\n%s\n---\n%s", rk.StatusCode, ru.StatusCode, rk.Body, ru.Body)
		}
		f.mailTo(t, "alice@acme.test", 0)
		for _, m := range f.smtp.Messages() {
			if m.To == "nobody@acme.test" {
				t.Error("an email went to an address without an account")
			}
		}
		if r := f.answer(t, f.browser, f.acme, ru, unknown, "nobody@acme.test", "123456"); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
			t.Errorf("a code for an unknown address: status %d, want 401", r.StatusCode)
		}
	})
}

// TestEmailNotSent: when the mail server refuses the message, the page says so (503, never a 500); a server with no
// SMTP configured says so for every address.
func TestEmailNotSent(t *testing.T) {
	f := newEmailFixture(t, testenv.Options{})
	f.env.S.EmailSendWindow = 5 * time.Second // long enough for the refusal to arrive however slow the machine
	f.smtp.FailNext(mailtest.PermFailure)
	flow := f.request().Flow(t, f.acme, f.browser)
	r := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
	if r.StatusCode != http.StatusServiceUnavailable || testenv.Alert(r.Body) != "We could not send the email. Try again." {
		t.Errorf("refused mail: status %d alert %q, want 503 and the message", r.StatusCode, testenv.Alert(r.Body))
	}
	if r := f.ask(t, f.browser, f.acme, flow, "alice@acme.test"); r.StatusCode != http.StatusOK {
		t.Errorf("trying again: status %d, want 200", r.StatusCode)
	}

	none := testenv.New(t, testenv.Options{})
	acme := none.NewTenant("acme")
	spa := acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	acme.NewUser("alice@acme.test")
	if _, err := none.S.CreateConnection(acme.Ctx, signin.ConnectionSpec{Name: "email", Strategy: "email"}); err != nil {
		t.Fatal(err)
	}
	c := none.Client(testenv.ClientOptions{NoRedirects: true})
	g := &emailFixture{env: none, acme: acme}
	for _, addr := range []string{"alice@acme.test", "nobody@acme.test"} {
		fl := testenv.NewAuthRequest(spa.ClientID, spaRedirect).Flow(t, acme, c)
		if r := g.ask(t, c, acme, fl, addr); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.Body, "We could not send the email") {
			t.Errorf("no SMTP, %s: status %d, want 503 with the message", addr, r.StatusCode)
		}
	}
}

// TestEmailSendsAreThrottled: more than signin.ChallengeAccountLimit emails asked for one address are refused.
func TestEmailSendsAreThrottled(t *testing.T) {
	f := newEmailFixture(t, testenv.Options{})
	for i := range signin.ChallengeAccountLimit {
		flow := f.request().Flow(t, f.acme, f.browser)
		if r := f.ask(t, f.browser, f.acme, flow, "alice@acme.test"); r.StatusCode != http.StatusOK {
			t.Fatalf("email %d: status %d", i+1, r.StatusCode)
		}
	}
	flow := f.request().Flow(t, f.acme, f.browser)
	if r := f.ask(t, f.browser, f.acme, flow, "ALICE@acme.test"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("one email too many: status %d, want 429 with Retry-After", r.StatusCode)
	}
}

// TestDevOutbox: with --dev, /dev/outbox on a tenant's host lists that tenant's email (with its link) and no other
// tenant's; without --dev there is no such page.
func TestDevOutbox(t *testing.T) {
	env := testenv.New(t, testenv.Options{DevOutbox: true, Configure: func(c *config.Config) { c.Dev = true }})
	env.S.EmailSendWindow = 10 * time.Millisecond
	f := &emailFixture{env: env, acme: env.NewTenant("acme"), globex: env.NewTenant("globex")}
	f.spa = f.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	f.acme.NewUser("alice@acme.test")
	if _, err := env.S.CreateConnection(f.acme.Ctx, signin.ConnectionSpec{Name: "email", Strategy: "email"}); err != nil {
		t.Fatal(err)
	}
	c := env.Client(testenv.ClientOptions{NoRedirects: true})
	flow := f.request().Flow(t, f.acme, c)
	if r := f.ask(t, c, f.acme, flow, "alice@acme.test"); r.StatusCode != http.StatusOK {
		t.Fatalf("dev send: status %d\n%s", r.StatusCode, r.Body)
	}
	list := testenv.Get(t, c, f.acme.URL("/dev/outbox?format=json")).JSON(t)
	msgs, _ := list["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("acme's outbox = %v, want one message", list)
	}
	m, _ := msgs[0].(map[string]any)
	if m["to"] != "alice@acme.test" || !strings.HasPrefix(m["link"].(string), f.acme.URL("/login/email/verify?token=")) {
		t.Errorf("outbox message %v", m)
	}
	if page := testenv.Get(t, c, f.acme.URL("/dev/outbox")); !strings.Contains(page.Body, "/login/email/verify?token=") {
		t.Errorf("the outbox page lacks the link:\n%s", page.Body)
	}
	glist := testenv.Get(t, c, f.globex.URL("/dev/outbox?format=json")).JSON(t)
	if g, _ := glist["messages"].([]any); len(g) != 0 {
		t.Errorf("globex's outbox lists %v", g)
	}
	prod := testenv.New(t, testenv.Options{})
	p := prod.NewTenant("acme")
	if r := testenv.Get(t, prod.Client(testenv.ClientOptions{}), p.URL("/dev/outbox")); r.StatusCode != http.StatusNotFound {
		t.Errorf("/dev/outbox without --dev: status %d, want 404", r.StatusCode)
	}
}
