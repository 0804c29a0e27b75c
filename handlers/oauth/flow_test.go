package oauth_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

const expiredTitle = "This sign-in link has expired"

// wantExpired checks that r is the "expired" page with status, and returns its "Sign in again" link ("" when
// there is none). It must not be a redirect anywhere.
func wantExpired(t *testing.T, what string, r *testenv.Response, status int) string {
	t.Helper()
	if r.StatusCode != status || !strings.Contains(r.Body, expiredTitle) {
		t.Fatalf("%s: status %d, want %d and the expired page\n%s", what, r.StatusCode, status, r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("%s: redirected to %s", what, loc)
	}
	if r.Header.Get("Set-Cookie") != "" && strings.Contains(r.Header.Get("Set-Cookie"), "authio_session=") {
		t.Errorf("%s: the expired page set a session cookie", what)
	}
	const open = `<a href="`
	i := strings.Index(r.Body, open)
	if i < 0 {
		return ""
	}
	rest := r.Body[i+len(open):]
	return html.UnescapeString(rest[:strings.Index(rest, `"`)])
}

// loginForm opens the sign-in page of flow and returns its form.
func loginForm(t *testing.T, tn *testenv.Tenant, c *http.Client, flow string) testenv.Form {
	t.Helper()
	r := testenv.Get(t, c, tn.URL("/login?state="+flow))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET /login?state=%s: status %d\n%s", flow, r.StatusCode, r.Body)
	}
	return testenv.ParseForm(t, r.Body)
}

// TestFlowBackAndRefresh: every step of a sign-in flow is a GET that shows the step again (refresh, back), and
// once the flow is complete its URLs, and its sign-in form posted again, show the expired page with a way to
// start the same request again — never a 500 and never a second code.
func TestFlowBackAndRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	step := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, step)

	// Refresh the sign-in page: the same flow, the same form.
	first, again := loginForm(t, f.acme, step, flow), loginForm(t, f.acme, step, flow)
	if first.Fields.Get("state") != flow || again.Fields.Get("state") != flow {
		t.Fatalf("refreshed sign-in page lost the flow: %v / %v", first.Fields, again.Fields)
	}
	r := f.acme.Submit(t, step, again, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	resume := r.Location(t)
	if r.StatusCode != http.StatusSeeOther || resume.Path != "/authorize/resume" {
		t.Fatalf("sign-in: %d %s", r.StatusCode, resume)
	}
	// Back to the sign-in page before the flow completed: the browser signed in already, so it goes on to the
	// flow's current step rather than being asked for the password again.
	if back := testenv.Get(t, step, f.acme.URL("/login?state="+flow)); back.StatusCode != http.StatusSeeOther ||
		back.Location(t).String() != resume.String() {
		t.Fatalf("back to the sign-in page: %d %s, want 303 to %s", back.StatusCode, back.Header.Get("Location"), resume)
	}
	code := ar.Callback(t, f.acme, testenv.Get(t, step, resume.String())).Get("code")
	if code == "" {
		t.Fatal("no code")
	}

	// After completion: refresh of the last step, back to the sign-in page, and its form posted again.
	restart := wantExpired(t, "refresh of the completed flow", testenv.Get(t, step, resume.String()), http.StatusGone)
	wantExpired(t, "back to the completed flow's sign-in page", testenv.Get(t, step, f.acme.URL("/login?state="+flow)), http.StatusGone)
	wantExpired(t, "the completed flow's sign-in form posted again",
		f.acme.Submit(t, step, first, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}}), http.StatusGone)

	// The page's link starts the same authorization request again; the browser is signed in, so it completes.
	ru, err := url.Parse(restart)
	if err != nil || ru.Path != "/authorize" || ru.Host != "" || ru.Query().Get("state") != ar.State || ru.Query().Get("client_id") != f.spa.ClientID {
		t.Fatalf("restart link %q, want the same-site /authorize URL of the same request", restart)
	}
	if again := ar.Callback(t, f.acme, testenv.Get(t, step, f.acme.URL(restart))).Get("code"); again == "" || again == code {
		t.Fatalf("restart: code %q (first %q)", again, code)
	}
	testenv.TokensOf(t, ar.Exchange(t, f.acme, step, code))
}

// TestFlowTwoTabs: two authorization requests in one browser are two flows that do not interfere: each
// completes with its own state, whichever order the tabs sign in.
func TestFlowTwoTabs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	browser := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	tab1, tab2 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect), testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow1, flow2 := tab1.Flow(t, f.acme, browser), tab2.Flow(t, f.acme, browser)
	if flow1 == flow2 {
		t.Fatalf("two requests share flow %s", flow1)
	}
	form1, form2 := loginForm(t, f.acme, browser, flow1), loginForm(t, f.acme, browser, flow2)

	// Tab 2 signs in first and completes.
	r := f.acme.Submit(t, browser, form2, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	code2 := tab2.Callback(t, f.acme, testenv.Get(t, browser, r.Location(t).String())).Get("code")
	// Tab 1 still shows its own form; signing in there completes tab 1's request, not tab 2's.
	r = f.acme.Submit(t, browser, form1, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	if got := r.Location(t).Query().Get("state"); got != flow1 {
		t.Fatalf("tab 1's sign-in continued flow %q, want %q", got, flow1)
	}
	code1 := tab1.Callback(t, f.acme, testenv.Get(t, browser, r.Location(t).String())).Get("code")
	if code1 == "" || code2 == "" || code1 == code2 {
		t.Fatalf("codes %q and %q, want two different ones", code1, code2)
	}
	testenv.TokensOf(t, tab1.Exchange(t, f.acme, browser, code1))
	testenv.TokensOf(t, tab2.Exchange(t, f.acme, browser, code2))

	// A tab whose request accepts the session another tab just opened goes straight on without asking again.
	tab3 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	tab3.Extra.Set("prompt", "login")
	flow3 := tab3.Flow(t, f.acme, browser)
	tab4 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	tab4.Extra.Set("max_age", "0")
	flow4 := tab4.Flow(t, f.acme, browser)
	r = f.acme.Submit(t, browser, loginForm(t, f.acme, browser, flow3), url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	tab3.Callback(t, f.acme, testenv.Get(t, browser, r.Location(t).String()))
	// max_age=0 and prompt=login are only ever satisfied by a sign-in in their own flow.
	if r := testenv.Get(t, browser, f.acme.URL("/authorize/resume?state="+flow4)); r.Location(t).Path != "/login" {
		t.Errorf("max_age=0 flow continued with another tab's sign-in: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestFlowExpires: a flow lasts 15 minutes (the injected clock decides); after that each of its URLs shows the
// expired page, including a sign-in form posted with the right password and a flow whose user signed in in time.
func TestFlowExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	f.env.Clock.Freeze(time.Now().Add(-time.Hour).Truncate(time.Second))
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})

	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	form := loginForm(t, f.acme, c, flow)
	f.env.Clock.Advance(15*time.Minute + time.Second)
	restart := wantExpired(t, "sign-in page after 15 minutes", testenv.Get(t, c, f.acme.URL("/login?state="+flow)), http.StatusGone)
	if !strings.HasPrefix(restart, "/authorize?") {
		t.Errorf("expired page of the browser's own flow: link %q, want /authorize?…", restart)
	}
	wantExpired(t, "sign-in form after 15 minutes",
		f.acme.Submit(t, c, form, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}}), http.StatusGone)

	// Signed in within the 15 minutes, completed after them.
	ar = testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("prompt", "login")
	flow = ar.Flow(t, f.acme, c)
	f.env.Clock.Advance(14 * time.Minute)
	r := f.acme.SignIn(t, c, "alice@acme.test", testenv.Password, flow)
	resume := r.Location(t).String()
	f.env.Clock.Advance(2 * time.Minute)
	wantExpired(t, "last step after 15 minutes", testenv.Get(t, c, resume), http.StatusGone)
}

// TestFlowBelongsToItsBrowser: a flow id is nothing without the browser that started it. Another browser (no
// flow cookie, or its own) gets the expired page without a link or any of the request's parameters, cannot
// sign in through it, and the flow still completes for its own browser.
func TestFlowBelongsToItsBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	mallory := f.acme.NewUser("mallory@acme.test")
	owner := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	ar.Extra.Set("login_hint", "alice@acme.test")
	flow := ar.Flow(t, f.acme, owner)

	withOwnFlow := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	testenv.NewAuthRequest(f.spa.ClientID, spaRedirect).Flow(t, f.acme, withOwnFlow)
	for name, c := range map[string]*http.Client{
		"no flow cookie":           f.env.Client(testenv.ClientOptions{NoRedirects: true}),
		"another browser's cookie": withOwnFlow,
	} {
		t.Run(name, func(t *testing.T) {
			for what, r := range map[string]*testenv.Response{
				"sign-in page": testenv.Get(t, c, f.acme.URL("/login?state="+flow)),
				"last step":    testenv.Get(t, c, f.acme.URL("/authorize/resume?state="+flow)),
			} {
				if link := wantExpired(t, what, r, http.StatusBadRequest); link != "" {
					t.Errorf("%s: link %q offered to another browser", what, link)
				}
				for _, secret := range []string{ar.State, ar.Challenge(), "alice@acme.test", spaRedirect} {
					if strings.Contains(r.Body, secret) || strings.Contains(r.Body, url.QueryEscape(secret)) {
						t.Errorf("%s shows the flow's %q", what, secret)
					}
				}
			}
			csrf := testenv.ParseForm(t, testenv.Get(t, c, f.acme.URL("/login")).Body)
			csrf.Fields.Set("state", flow)
			r := f.acme.Submit(t, c, csrf, url.Values{"email": {mallory.Email}, "password": {testenv.Password}})
			wantExpired(t, "signing in through another browser's flow", r, http.StatusBadRequest)
		})
	}

	r := f.acme.SignIn(t, owner, "alice@acme.test", testenv.Password, flow)
	tk := testenv.TokensOf(t, ar.Exchange(t, f.acme, owner, ar.Callback(t, f.acme, testenv.Get(t, owner, r.Location(t).String())).Get("code")))
	if _, id := testenv.DecodeJWT(t, tk.IDToken); id["email"] != "alice@acme.test" {
		t.Errorf("the owner's flow completed for %v", id["email"])
	}
}

// TestFlowIsTheTenantsOwn: a flow of one tenant presented on another tenant's domain is unknown there: the
// expired page, no link, nothing of the flow.
func TestFlowIsTheTenantsOwn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	globex := f.env.NewTenant("globex")
	globex.NewUser("alice@acme.test")
	c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	flow := ar.Flow(t, f.acme, c)
	// The browser has a flow cookie on globex's domain too, so only the tenant scope can refuse.
	globexClient := globex.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect}})
	testenv.NewAuthRequest(globexClient.ClientID, spaRedirect).Flow(t, globex, c)
	for what, u := range map[string]string{
		"sign-in page": globex.URL("/login?state=" + flow),
		"last step":    globex.URL("/authorize/resume?state=" + flow),
	} {
		r := testenv.Get(t, c, u)
		if link := wantExpired(t, what, r, http.StatusBadRequest); link != "" || strings.Contains(r.Body, ar.State) || strings.Contains(r.Body, f.spa.ClientID) {
			t.Errorf("%s on another tenant shows the flow (link %q)", what, link)
		}
	}
	form := testenv.ParseForm(t, testenv.Get(t, c, globex.URL("/login")).Body)
	form.Fields.Set("state", flow)
	r := globex.Submit(t, c, form, url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	wantExpired(t, "signing in on another tenant through the flow", r, http.StatusBadRequest)
	// Untouched on its own tenant.
	if form := loginForm(t, f.acme, c, flow); form.Fields.Get("state") != flow {
		t.Errorf("acme's flow after the attempts: %v", form.Fields)
	}
}

// TestFlowSignInCountsForItsOwnRequest: a sign-in within one flow satisfies that flow's prompt=login only. A
// later prompt=login request starts a flow of its own and asks again, and the first flow's id, once used, is
// spent.
func TestFlowSignInCountsForItsOwnRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.acme.NewUser("alice@acme.test")
	f.env.Clock.Freeze(time.Now().Add(-30 * time.Minute).Truncate(time.Second))
	browser := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	step := f.env.Client(testenv.ClientOptions{Jar: browser.Jar, NoRedirects: true})
	first := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	first.Extra.Set("prompt", "login")
	flow := first.Flow(t, f.acme, step)
	r := f.acme.SignIn(t, step, "alice@acme.test", testenv.Password, flow)
	resume := r.Location(t).String()
	first.Callback(t, f.acme, testenv.Get(t, step, resume))

	f.env.Clock.Advance(time.Minute)
	later := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	later.Extra.Set("prompt", "login")
	if next := later.Flow(t, f.acme, step); next == flow {
		t.Fatalf("a later request reused flow %s", flow)
	}
	wantExpired(t, "the first flow's last step replayed", testenv.Get(t, step, resume), http.StatusGone)
}
