package login_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// Two connection kinds that exist only in this test, registered on the test server's registry the way a
// shipped kind is registered in signin.NewRegistry: they prove the pipeline needs nothing but a kind.

const (
	fakeRedirectType = "test-redirect"
	fakeFormType     = "test-code"
	fakeProvider     = "https://idp.example/authorize"
	rightCode        = "424242"
)

// fakeIdentities are the accounts of the fake provider, by the "code" its callback carries.
var fakeIdentities = map[string]authn.Identity{
	"new":        {Subject: "idp|new", Email: "newcomer@acme.test", EmailVerified: true, Name: "New Comer", AMR: []string{"fed"}},
	"alice":      {Subject: "idp|alice", Email: "alice@acme.test", EmailVerified: true, AMR: []string{"fed"}},
	"unverified": {Subject: "idp|mallory", Email: "alice@acme.test", EmailVerified: false, AMR: []string{"fed"}},
}

// fakeRedirect is a redirect kind whose provider is a URL that nobody serves: the test plays the provider,
// reading the state and callback from the URL the kind sends the browser to.
type fakeRedirect struct{ rec storage.Connection }

func (c *fakeRedirect) Type() string               { return fakeRedirectType }
func (c *fakeRedirect) Record() storage.Connection { return c.rec }
func (c *fakeRedirect) DisplayName() string {
	n, _ := c.rec.Settings["display_name"].(string)
	return n
}

func (c *fakeRedirect) LoginURL(_ context.Context, state, callbackURL string) (string, error) {
	return fakeProvider + "?" + url.Values{"state": {state}, "redirect_uri": {callbackURL}}.Encode(), nil
}

func (c *fakeRedirect) HandleCallback(_ context.Context, r *http.Request) (authn.Identity, error) {
	id, ok := fakeIdentities[r.URL.Query().Get("code")]
	if !ok {
		return authn.Identity{}, fmt.Errorf("provider refused the code: %w", authn.ErrInvalidCredentials)
	}
	return id, nil
}

// fakeCode is a form kind: one "code" field that must be rightCode, proving the account "code|1".
type fakeCode struct{ rec storage.Connection }

func (c *fakeCode) Type() string               { return fakeFormType }
func (c *fakeCode) Record() storage.Connection { return c.rec }
func (c *fakeCode) Fields() []authn.Field {
	return []authn.Field{{Name: "code", Label: "Code", Type: "text", Autocomplete: "one-time-code"}}
}

func (c *fakeCode) Authenticate(_ context.Context, form url.Values) (authn.Identity, error) {
	if form.Get("code") != rightCode {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	return authn.Identity{Subject: "code|1", Email: "coder@acme.test", EmailVerified: true, AMR: []string{"otp"}}, nil
}

// kindsFixture is a server with both fake kinds registered and, on tenant acme, a connection of each; globex
// has its own fake connections, which acme's pages must never use.
type kindsFixture struct {
	env             *testenv.Env
	acme, globex    *testenv.Tenant
	spa             directory.CreatedClient
	alice           storage.User
	idp, codes      storage.Connection
	globexIdP       storage.Connection
	globexCodes     storage.Connection
	browser, follow *http.Client
}

func newKindsFixture(t *testing.T, opts testenv.Options) *kindsFixture {
	t.Helper()
	env := testenv.New(t, opts)
	// The registration line of a kind, made by the test: no shipped code knows these kinds.
	env.S.Connections.Register(fakeRedirectType, func(rec storage.Connection, _ authn.Deps) (authn.Connection, error) {
		return &fakeRedirect{rec: rec}, nil
	})
	env.S.Connections.Register(fakeFormType, func(rec storage.Connection, _ authn.Deps) (authn.Connection, error) {
		return &fakeCode{rec: rec}, nil
	})
	f := &kindsFixture{env: env, acme: env.NewTenant("acme"), globex: env.NewTenant("globex")}
	f.spa = f.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	f.alice = f.acme.NewUser("alice@acme.test")
	// Alice's own address is verified: only then may a provider that verified it too sign her in (ResolveIdentity).
	if err := f.env.S.Store.UpdateUser(f.acme.Ctx, f.alice.ID, func(u storage.User) (storage.User, error) {
		u.EmailVerified = true
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	f.alice.EmailVerified = true
	f.idp = f.connection(t, f.acme, "fake-idp", fakeRedirectType, map[string]any{"display_name": "Fake IdP"})
	f.codes = f.connection(t, f.acme, "codes", fakeFormType, nil)
	f.globexIdP = f.connection(t, f.globex, "globex-idp", fakeRedirectType, map[string]any{"display_name": "Globex IdP"})
	f.globexCodes = f.connection(t, f.globex, "globex-codes", fakeFormType, nil)
	f.browser = env.Client(testenv.ClientOptions{NoRedirects: true})
	f.follow = env.Client(testenv.ClientOptions{Jar: f.browser.Jar, StopAt: []string{spaOrigin}})
	return f
}

func (f *kindsFixture) connection(t *testing.T, tn *testenv.Tenant, name, typ string, settings map[string]any) storage.Connection {
	t.Helper()
	c, err := f.env.S.CreateConnection(tn.Ctx, signin.ConnectionSpec{Name: name, Strategy: typ, Settings: settings})
	if err != nil {
		t.Fatalf("create connection %s: %v", name, err)
	}
	return c
}

// request is an authorization request of acme's spa that asks for a sign-in even when the browser has a session.
func (f *kindsFixture) request() *testenv.AuthRequest {
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("prompt", "login")
	return ar
}

func (f *kindsFixture) disable(t *testing.T, c storage.Connection) {
	t.Helper()
	off := false
	if _, err := f.env.S.UpdateConnection(f.acme.Ctx, c.ID, signin.ConnectionUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
}

// start follows the login page's "Continue with Fake IdP" link for flow and returns the provider URL the
// browser was sent to.
func (f *kindsFixture) start(t *testing.T, flow string) *url.URL {
	t.Helper()
	r := testenv.Get(t, f.browser, f.acme.URL("/login/fake-idp/start?"+url.Values{"state": {flow}}.Encode()))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d, want 303 to the provider\n%s", r.StatusCode, r.Body)
	}
	to := r.Location(t)
	if !strings.HasPrefix(to.String(), fakeProvider+"?") {
		t.Fatalf("start redirected to %s, want the provider", to)
	}
	return to
}

// answer plays the provider: it sends c back to the callback the kind named, with state and code.
func (f *kindsFixture) answer(t *testing.T, c *http.Client, provider *url.URL, state, code string) *testenv.Response {
	t.Helper()
	cb := provider.Query().Get("redirect_uri")
	if cb != f.acme.URL("/login/callback") {
		t.Fatalf("callback URL %q, want %q", cb, f.acme.URL("/login/callback"))
	}
	return testenv.Get(t, c, cb+"?"+url.Values{"state": {state}, "code": {code}}.Encode())
}

// finish follows a successful sign-in's redirect to the client, redeems the code and returns the ID token's
// claims.
func (f *kindsFixture) finish(t *testing.T, ar *testenv.AuthRequest, flow string, r *testenv.Response) map[string]any {
	t.Helper()
	return finishSignIn(t, f.acme, f.follow, ar, flow, r)
}

// finishSignIn checks that r, the answer to the last step of flow's sign-in on tenant tn, sets a session and sends
// the browser back to /authorize/resume; then follows it to the client with follow, redeems the code and returns
// the ID token's claims.
func finishSignIn(t *testing.T, tn *testenv.Tenant, follow *http.Client, ar *testenv.AuthRequest, flow string, r *testenv.Response) map[string]any {
	t.Helper()
	back := "/authorize/resume?state=" + flow
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != back || !setsSession(r) {
		t.Fatalf("status %d Location %q session %v, want 303 to %s with a session\n%s",
			r.StatusCode, r.Header.Get("Location"), setsSession(r), back, r.Body)
	}
	q := ar.Callback(t, tn, testenv.Get(t, follow, tn.URL(back)))
	tok := testenv.TokensOf(t, ar.Exchange(t, tn, follow, q.Get("code")))
	_, claims := testenv.DecodeJWT(t, tok.IDToken)
	return claims
}

func (f *kindsFixture) lastSignIn(t *testing.T, event string) storage.AuditEvent {
	t.Helper()
	evs, err := f.env.S.Store.ListAudit(f.acme.Ctx, storage.AuditFilter{Type: event, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s event (%v)", event, err)
	}
	return evs[0]
}

func amrOf(claims map[string]any) []string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// submitCode posts the fake code form of the login page for flow.
func (f *kindsFixture) submitCode(t *testing.T, c *http.Client, flow, connection, code string) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, f.acme.URL("/login?state="+flow))
	m := csrfRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("login page has no CSRF token:\n%s", page.Body)
	}
	return testenv.PostForm(t, c, f.acme.URL("/login"), url.Values{"csrf_token": {m[1]}, "state": {flow},
		"connection": {connection}, "code": {code}}, testenv.Header("Origin", f.acme.Issuer))
}

// TestRedirectConnectionSignsIn: a redirect kind registered by a test signs users in end to end — the login page
// offers its button, the start step sends the browser to the provider with the flow as state, the callback
// resolves the provider's account to a user (created on first sign-in, linked to an existing user when the
// provider vouches for the email, refused when it does not), and the code's tokens carry the kind's amr.
func TestRedirectConnectionSignsIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)

		t.Run("first sign-in creates the user", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			page := testenv.Get(t, f.browser, f.acme.URL("/login?state="+flow))
			link := `href="/login/fake-idp/start?state=` + flow + `"`
			if !strings.Contains(page.Body, link) || !strings.Contains(page.Body, "Continue with Fake IdP") {
				t.Fatalf("login page lacks the provider's button (%s):\n%s", link, page.Body)
			}
			if !strings.Contains(page.Body, `<input id="email" name="email"`) || strings.Contains(page.Body, "Globex IdP") {
				t.Fatalf("login page: want the email step and no other tenant's connection:\n%s", page.Body)
			}
			provider := f.start(t, flow)
			if provider.Query().Get("state") != flow {
				t.Fatalf("provider state %q, want the flow id %q", provider.Query().Get("state"), flow)
			}
			claims := f.finish(t, ar, flow, f.answer(t, f.browser, provider, flow, "new"))
			u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "newcomer@acme.test")
			if err != nil {
				t.Fatalf("user not created: %v", err)
			}
			if claims["sub"] != u.ID || !u.EmailVerified || u.Name != "New Comer" || !slices.Equal(amrOf(claims), []string{"fed"}) {
				t.Errorf("sub %v amr %v, user %+v; want the new user, verified, amr [fed]", claims["sub"], claims["amr"], u)
			}
			if link, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.idp.ID, "idp|new"); err != nil || link.UserID != u.ID {
				t.Errorf("identity link %+v, %v", link, err)
			}
			ev := f.lastSignIn(t, audit.EventSignInSucceeded)
			if ev.UserID != u.ID || ev.Data["connection"] != "fake-idp" || ev.Data["strategy"] != fakeRedirectType {
				t.Errorf("signin.succeeded %+v", ev)
			}
		})

		t.Run("verified email links the existing user", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			claims := f.finish(t, ar, flow, f.answer(t, f.browser, f.start(t, flow), flow, "alice"))
			if claims["sub"] != f.alice.ID {
				t.Errorf("sub %v, want alice %s", claims["sub"], f.alice.ID)
			}
		})

		t.Run("unverified email is refused, existing user or not", func(t *testing.T) {
			c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			ar := f.request()
			flow := ar.Flow(t, f.acme, c)
			r := testenv.Get(t, c, f.acme.URL("/login/fake-idp/start?state="+flow))
			r = f.answer(t, c, r.Location(t), flow, "unverified")
			if r.StatusCode != http.StatusForbidden || setsSession(r) {
				t.Errorf("status %d session %v, want 403 and no session", r.StatusCode, setsSession(r))
			}
			if _, err := f.env.S.Store.IdentityBySubject(f.acme.Ctx, f.idp.ID, "idp|mallory"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the unverified identity was linked: %v", err)
			}
		})

		t.Run("a code the provider refuses", func(t *testing.T) {
			ar := f.request()
			flow := ar.Flow(t, f.acme, f.browser)
			r := f.answer(t, f.browser, f.start(t, flow), flow, "forged")
			if r.StatusCode != http.StatusUnauthorized || setsSession(r) || !strings.Contains(testenv.Alert(r.Body), "Fake IdP") {
				t.Errorf("status %d alert %q, want 401 naming the provider, no session", r.StatusCode, testenv.Alert(r.Body))
			}
			if ev := f.lastSignIn(t, audit.EventSignInFailed); ev.Data["reason"] != "invalid_credentials" || ev.Data["connection"] != "fake-idp" {
				t.Errorf("signin.failed %+v", ev.Data)
			}
		})
	})
}

// TestCallbackStateMustBeTheBrowsersOpenFlow: the callback finishes only the flow this browser started the
// provider's sign-in in; any other state is the expired-flow page and opens no session.
func TestCallbackStateMustBeTheBrowsersOpenFlow(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)
		expired := func(t *testing.T, r *testenv.Response) {
			t.Helper()
			if (r.StatusCode != http.StatusGone && r.StatusCode != http.StatusBadRequest) || setsSession(r) ||
				!strings.Contains(r.Body, "This sign-in link has expired") {
				t.Errorf("status %d session %v, want the expired-flow page and no session\n%s", r.StatusCode, setsSession(r), r.Body)
			}
		}
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		provider := f.start(t, flow)

		t.Run("unknown state", func(t *testing.T) {
			expired(t, f.answer(t, f.browser, provider, "flw_"+testenv.RandomString(16), "alice"))
		})
		t.Run("another browser", func(t *testing.T) {
			other := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			f.request().Flow(t, f.acme, other) // it has a flow cookie of its own
			expired(t, f.answer(t, other, provider, flow, "alice"))
		})
		t.Run("flow that started no provider sign-in", func(t *testing.T) {
			fresh := f.request().Flow(t, f.acme, f.browser)
			expired(t, f.answer(t, f.browser, provider, fresh, "alice"))
		})
		t.Run("another tenant's flow", func(t *testing.T) {
			gspa := f.globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
			gflow := testenv.NewAuthRequest(gspa.ClientID, spaRedirect).Flow(t, f.globex, f.browser)
			expired(t, f.answer(t, f.browser, provider, gflow, "alice"))
		})
		t.Run("used once, then replayed", func(t *testing.T) {
			f.finish(t, ar, flow, f.answer(t, f.browser, provider, flow, "alice"))
			expired(t, f.answer(t, f.browser, provider, flow, "alice"))
		})
		t.Run("expired flow", func(t *testing.T) {
			f.env.Clock.Freeze(time.Now().Add(-authn.FlowTTL - time.Minute))
			old := f.request().Flow(t, f.acme, f.browser)
			p := f.start(t, old)
			f.env.Clock.Freeze(time.Now())
			expired(t, f.answer(t, f.browser, p, old, "alice"))
		})
	})
}

// TestFormConnectionSignsIn: a form kind registered by a test gets its Fields rendered on the login page,
// its submissions checked, throttled and audited like passwords, and its users signed in end to end.
func TestFormConnectionSignsIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		page := testenv.Get(t, f.browser, f.acme.URL("/login?state="+flow))
		for _, want := range []string{`<input type="hidden" name="connection" value="codes">`,
			`<input id="codes-code" name="code" type="text" autocomplete="one-time-code" required`, "Continue with codes"} {
			if !strings.Contains(page.Body, want) {
				t.Fatalf("login page lacks %s:\n%s", want, page.Body)
			}
		}
		if r := f.submitCode(t, f.browser, flow, "codes", ""); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="codes-code-error"`) {
			t.Errorf("empty code: status %d, want 400 with the field's error", r.StatusCode)
		}
		r := f.submitCode(t, f.browser, flow, "codes", "000000")
		if r.StatusCode != http.StatusUnauthorized || setsSession(r) || testenv.Alert(r.Body) == "" {
			t.Errorf("wrong code: status %d alert %q, want 401 with a message and no session", r.StatusCode, testenv.Alert(r.Body))
		}
		if ev := f.lastSignIn(t, audit.EventSignInFailed); ev.Data["connection"] != "codes" || ev.Data["strategy"] != fakeFormType {
			t.Errorf("signin.failed %+v", ev.Data)
		}
		claims := f.finish(t, ar, flow, f.submitCode(t, f.browser, flow, "codes", rightCode))
		u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, "coder@acme.test")
		if err != nil || claims["sub"] != u.ID || !slices.Equal(amrOf(claims), []string{"otp"}) {
			t.Errorf("sub %v amr %v (user %v), want the code's user and amr [otp]", claims["sub"], claims["amr"], err)
		}
	})
}

// TestFormConnectionIsThrottled: wrong codes from one IP are throttled by the pipeline, as wrong passwords are.
func TestFormConnectionIsThrottled(t *testing.T) {
	f := newKindsFixture(t, testenv.Options{})
	flow := f.request().Flow(t, f.acme, f.browser)
	for i := range server.DefaultBruteForceThreshold {
		if r := f.submitCode(t, f.browser, flow, "codes", "000000"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i, r.StatusCode)
		}
	}
	if r := f.submitCode(t, f.browser, flow, "codes", rightCode); r.StatusCode != http.StatusTooManyRequests || setsSession(r) {
		t.Errorf("right code after %d failures: status %d, want 429 and no session", server.DefaultBruteForceThreshold, r.StatusCode)
	}
}

// TestDisabledAndForeignConnectionsAreRefused: a disabled connection leaves the login page and refuses its steps
// (403); another tenant's connection, by name or id, does not exist here (404). Neither opens a session.
func TestDisabledAndForeignConnectionsAreRefused(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)
		flow := f.request().Flow(t, f.acme, f.browser)
		for _, name := range []string{f.globexIdP.Name, f.globexIdP.ID} {
			r := testenv.Get(t, f.browser, f.acme.URL("/login/"+name+"/start?state="+flow))
			if r.StatusCode != http.StatusNotFound || setsSession(r) {
				t.Errorf("acme start with globex's connection %s: status %d, want 404", name, r.StatusCode)
			}
		}
		for _, name := range []string{f.globexCodes.Name, f.globexCodes.ID} {
			if r := f.submitCode(t, f.browser, flow, name, rightCode); r.StatusCode != http.StatusNotFound || setsSession(r) {
				t.Errorf("acme form with globex's connection %s: status %d, want 404", name, r.StatusCode)
			}
		}
		if r := f.submitCode(t, f.browser, flow, "codes", rightCode); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("control: acme's own code connection: status %d", r.StatusCode)
		}

		// A provider sign-in started before the connection was disabled does not finish after.
		flow = f.request().Flow(t, f.acme, f.browser)
		provider := f.start(t, flow)
		f.disable(t, f.idp)
		f.disable(t, f.codes)
		if r := f.answer(t, f.browser, provider, flow, "alice"); r.StatusCode != http.StatusForbidden || setsSession(r) {
			t.Errorf("callback of a disabled connection: status %d, want 403", r.StatusCode)
		}
		if r := testenv.Get(t, f.browser, f.acme.URL("/login/fake-idp/start?state="+flow)); r.StatusCode != http.StatusForbidden {
			t.Errorf("start of a disabled connection: status %d, want 403", r.StatusCode)
		}
		if r := f.submitCode(t, f.browser, flow, "codes", rightCode); r.StatusCode != http.StatusForbidden || setsSession(r) {
			t.Errorf("form of a disabled connection: status %d, want 403", r.StatusCode)
		}
		page := testenv.Get(t, f.browser, f.acme.URL("/login?state="+flow))
		if strings.Contains(page.Body, "Fake IdP") || strings.Contains(page.Body, `value="codes"`) {
			t.Errorf("the login page still offers disabled connections:\n%s", page.Body)
		}
		if ev := f.lastSignIn(t, audit.EventSignInFailed); ev.Data["reason"] != "connection_disabled" {
			t.Errorf("signin.failed %+v, want reason connection_disabled", ev.Data)
		}
	})
}

// TestFirstSignInRaceMakesOneUser: parallel first sign-ins of one upstream subject end with one user and one
// link, whichever wins, on every backend.
func TestFirstSignInRaceMakesOneUser(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)
		const n = 8
		id := authn.Identity{Subject: "idp|racer", Email: "racer@acme.test", EmailVerified: true, AMR: []string{"fed"}}
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				u, err := f.env.S.ResolveIdentity(f.acme.Ctx, f.idp, id)
				ids[i], errs[i] = u.ID, err
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] || ids[i] == "" {
				t.Fatalf("resolution %d: user %q, %v; want every one to be the same user", i, ids[i], errs[i])
			}
		}
		links, err := f.env.S.Store.ListIdentities(f.acme.Ctx, ids[0])
		if err != nil || len(links) != 1 {
			t.Errorf("identities of the user: %d (%v), want 1", len(links), err)
		}
	})
}

const (
	fakePostType     = "test-post"
	fakePostProvider = "https://idp.example/post"
)

// fakePost is a POST-binding kind: the provider's answer is "<account code>|<request id>" in SAMLResponse.
type fakePost struct{ rec storage.Connection }

func (c *fakePost) Type() string               { return fakePostType }
func (c *fakePost) Record() storage.Connection { return c.rec }

func (c *fakePost) POSTData(_ context.Context, requestID, state, callbackURL string) (string, url.Values, error) {
	return fakePostProvider, url.Values{"SAMLRequest": {requestID + "|" + callbackURL}, authn.PostStateField: {state}}, nil
}

func (c *fakePost) HandlePOST(_ context.Context, r *http.Request, requestID string) (authn.Identity, error) {
	code, inResponseTo, _ := strings.Cut(r.PostFormValue("SAMLResponse"), "|")
	id, ok := fakeIdentities[code]
	if !ok || inResponseTo != requestID {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	return id, nil
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hiddenFields returns the action and the hidden inputs of the first form on page.
func hiddenFields(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := regexp.MustCompile(`<form[^>]*action="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form:\n%s", page)
	}
	out := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		out.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), out
}

// TestPostBindingConnectionSignsIn: a POST-binding kind registered by a test signs a user in end to end. The
// provider's cross-site POST arrives without the browser's cookies and is posted again by our own page; the
// answer must name the flow's request id.
func TestPostBindingConnectionSignsIn(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		f := newKindsFixture(t, opts)
		f.env.S.Connections.Register(fakePostType, func(rec storage.Connection, _ authn.Deps) (authn.Connection, error) {
			return &fakePost{rec: rec}, nil
		})
		f.connection(t, f.acme, "fake-saml", fakePostType, nil)
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		page := testenv.Get(t, f.browser, f.acme.URL("/login?state="+flow))
		if !strings.Contains(page.Body, `action="/login/fake-saml/start"`) || !strings.Contains(page.Body, "Continue with fake-saml") {
			t.Fatalf("login page lacks the POST-binding button:\n%s", page.Body)
		}
		start := testenv.PostForm(t, f.browser, f.acme.URL("/login/fake-saml/start"), url.Values{
			"csrf_token": {csrfRE.FindStringSubmatch(page.Body)[1]}, "state": {flow}}, testenv.Header("Origin", f.acme.Issuer))
		action, fields := hiddenFields(t, start.Body)
		requestID, callback, _ := strings.Cut(fields.Get("SAMLRequest"), "|")
		if start.StatusCode != http.StatusOK || action != fakePostProvider || fields.Get("RelayState") != flow ||
			callback != f.acme.URL("/login/callback/post") || requestID == "" {
			t.Fatalf("start: status %d, form to %s with %v; want the provider with the flow as RelayState", start.StatusCode, action, fields)
		}

		// The provider posts from its own site: no cookies come with it.
		cookieless := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		post := func(c *http.Client, form url.Values) *testenv.Response {
			return testenv.PostForm(t, c, callback, form, testenv.Header("Origin", "https://idp.example"))
		}
		wrong := post(cookieless, url.Values{"SAMLResponse": {"alice|_not-the-request"}, "RelayState": {flow}})
		_, again := hiddenFields(t, wrong.Body)
		if r := post(f.browser, again); r.StatusCode != http.StatusUnauthorized || setsSession(r) {
			t.Errorf("answer to another request: status %d, want 401 and no session", r.StatusCode)
		}
		first := post(cookieless, url.Values{"SAMLResponse": {"alice|" + requestID}, "RelayState": {flow}})
		to, again := hiddenFields(t, first.Body)
		if first.StatusCode != http.StatusOK || to != "/login/callback/post" || again.Get("SAMLResponse") != "alice|"+requestID || setsSession(first) {
			t.Fatalf("cookieless answer: status %d, form to %s with %v; want our page posting it again", first.StatusCode, to, again)
		}
		if r := post(cookieless, again); r.StatusCode != http.StatusBadRequest || setsSession(r) {
			t.Errorf("the answer posted again by another browser: status %d, want the expired page (400)", r.StatusCode)
		}
		claims := f.finish(t, ar, flow, post(f.browser, again))
		if claims["sub"] != f.alice.ID || !slices.Equal(amrOf(claims), []string{"fed"}) {
			t.Errorf("sub %v amr %v, want alice with amr [fed]", claims["sub"], claims["amr"])
		}
	})
}
