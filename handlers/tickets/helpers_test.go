package tickets_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/mail/mailtest"
	"github.com/authio/authio/storage"
)

const (
	appOrigin   = "https://app.acme.test"
	appRedirect = appOrigin + "/callback"
)

// fixture is a server whose mail goes to an in-process SMTP server, with tenants acme (user alice, an SPA
// client) and globex.
type fixture struct {
	env          *testenv.Env
	smtp         *mailtest.Server
	acme, globex *testenv.Tenant
	spa          directory.CreatedClient
	alice        storage.User
}

func newFixture(t *testing.T, o testenv.Options) *fixture {
	t.Helper()
	smtp := mailtest.Start(t, mailtest.Options{})
	o.Configure = func(c *config.Config) { c.SMTPURL = smtp.URL() }
	env := testenv.New(t, o)
	acme := env.NewTenant("acme")
	f := &fixture{env: env, smtp: smtp, acme: acme, globex: env.NewTenant("globex"),
		spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect},
			WebOrigins: []string{appOrigin}}),
		alice: acme.NewUser("alice@acme.test")}
	return f
}

// browser is a fresh browser that does not follow redirects.
func (f *fixture) browser() *http.Client {
	return f.env.Client(testenv.ClientOptions{NoRedirects: true})
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/login/(?:reset|verify-email)\?token=[A-Za-z0-9_%-]+`)

// mailTo waits for the message at index after or later to address, and returns it with its link.
func (f *fixture) mailTo(t *testing.T, address string, after int) (mailtest.Message, string) {
	t.Helper()
	f.env.S.Tickets.Wait()
	m := f.smtp.Wait(t, address, after)
	link := linkRE.FindString(m.Text)
	if link == "" {
		t.Fatalf("the mail to %s has no link:\n%s", address, m.Text)
	}
	return m, link
}

// sent counts the messages accepted for address so far (after every background mail is handed over).
func (f *fixture) sent(address string) int {
	f.env.S.Tickets.Wait()
	n := 0
	for _, m := range f.smtp.Messages() {
		if strings.EqualFold(m.To, address) {
			n++
		}
	}
	return n
}

// forgot asks for a password reset for email from browser c on tn, through the sign-in page's link.
func (f *fixture) forgot(t *testing.T, c *http.Client, tn *testenv.Tenant, email string) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, tn.URL("/login/forgot"))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /login/forgot: %d\n%s", page.StatusCode, page.Body)
	}
	return tn.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {email}})
}

// reset opens a reset link in c and submits the new password (twice).
func (f *fixture) reset(t *testing.T, c *http.Client, tn *testenv.Tenant, link, password string) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, link)
	if page.StatusCode != http.StatusOK {
		return page
	}
	return tn.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"password": {password}, "password_confirm": {password}})
}

// pathOf makes a link absolute on tn (the host it names must be tn's).
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// signIn signs in to acme's SPA as email in a fresh browser and returns its tokens and the browser.
func (f *fixture) signIn(t *testing.T, email, password string) (testenv.Tokens, *http.Client) {
	t.Helper()
	c := f.env.Client(testenv.ClientOptions{StopAt: []string{appRedirect}})
	ar := testenv.NewAuthRequest(f.spa.ClientID, appRedirect)
	code := ar.Code(t, f.acme, c, email, password)
	return testenv.TokensOf(t, ar.Exchange(t, f.acme, c, code)), c
}

// refresh presents a refresh token of the SPA.
func (f *fixture) refresh(t *testing.T, token string) *testenv.Response {
	t.Helper()
	return testenv.PostForm(t, f.browser(), f.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {token}, "client_id": {f.spa.ClientID}})
}

// passwordWorks reports whether email's password is pw in acme (a direct check through the sign-in pipeline).
func (f *fixture) passwordWorks(t *testing.T, email, pw string) bool {
	t.Helper()
	c := f.browser()
	r := f.acme.SignIn(t, c, email, pw, "")
	switch r.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	t.Fatalf("sign-in as %s: status %d\n%s", email, r.StatusCode, r.Body)
	return false
}

// events lists the audit events of type typ in acme.
func (f *fixture) events(t *testing.T, typ string) []storage.AuditEvent {
	t.Helper()
	es, err := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: typ, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// patchSettings changes acme's tenant settings through the Management API.
func (f *fixture) patchSettings(t *testing.T, body map[string]any) {
	t.Helper()
	r := f.acme.API(t, f.browser(), "PATCH", "/tenants/settings", f.acme.APIKey(t), body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /tenants/settings: %d\n%s", r.StatusCode, r.Body)
	}
	// The tenant's settings reach the request path through the cache's invalidation: wait until they do.
	want := body["email_verification"]
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tn, err := f.env.S.Tenants.Resolve(context.Background(), strings.Split(f.acme.Host, ":")[0])
		if err == nil && (want == nil || tn.Settings.EmailVerification == want) {
			return
		}
	}
	t.Fatalf("the settings change did not reach the tenant resolver")
}
