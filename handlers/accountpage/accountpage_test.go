package accountpage_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/handlers/accountpage"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

type fixture struct {
	env          *testenv.Env
	acme, globex *testenv.Tenant
	alice        storage.User
}

func newFixture(t *testing.T, o testenv.Options) *fixture {
	t.Helper()
	env := testenv.New(t, o)
	acme := env.NewTenant("acme")
	return &fixture{env: env, acme: acme, globex: env.NewTenant("globex"), alice: acme.NewUser("alice@acme.test")}
}

// browser signs a fresh browser in to tn as email with the hosted pages (no flow) and returns it; it follows
// redirects on the tenant hosts.
func (f *fixture) browser(t *testing.T, tn *testenv.Tenant, email string, ua string) *http.Client {
	t.Helper()
	c := f.env.Client(testenv.ClientOptions{})
	if ua != "" {
		c.Transport = uaTransport{ua: ua, next: c.Transport}
	}
	r := tn.SignIn(t, c, email, testenv.Password, "")
	if r.StatusCode != http.StatusOK || testenv.Cookie(c, tn.URL("/"), "authio_session") == "" {
		t.Fatalf("sign-in as %s: status %d, no session cookie\n%s", email, r.StatusCode, r.Body)
	}
	return c
}

type uaTransport struct {
	ua   string
	next http.RoundTripper
}

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	next := u.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// page opens the account page and fails unless it is shown.
func page(t *testing.T, tn *testenv.Tenant, c *http.Client) string {
	t.Helper()
	r := testenv.Get(t, c, tn.URL("/account"))
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/account" {
		t.Fatalf("GET /account: status %d at %s\n%s", r.StatusCode, r.Request.URL, r.Body)
	}
	return r.Body
}

// post submits the account page's form that has an input named field, with set merged in.
func post(t *testing.T, tn *testenv.Tenant, c *http.Client, field string, set url.Values) *testenv.Response {
	t.Helper()
	return tn.Submit(t, c, testenv.ParseFormWith(t, page(t, tn, c), field), set)
}

func events(t *testing.T, tn *testenv.Tenant, typ, userID string) []storage.AuditEvent {
	t.Helper()
	evs, _, err := tn.Env.S.AuditLog(tn.Ctx, directory.LogQuery{Type: typ, UserID: userID})
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	return evs
}

func TestAccountPageNeedsASession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	nr := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	for _, p := range []string{"/account", "/account?done=profile"} {
		r := testenv.Get(t, nr, f.acme.URL(p))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET %s without a session: status %d, want 303 to the sign-in page\n%s", p, r.StatusCode, r.Body)
		}
		if loc := r.Location(t); loc.Path != "/login" || loc.Query().Get("return_to") != "/account" {
			t.Errorf("GET %s without a session went to %s, want /login?return_to=/account", p, loc)
		}
	}

	// The sign-in page brings the browser back to the account page.
	c := f.env.Client(testenv.ClientOptions{})
	r := testenv.Get(t, c, f.acme.URL("/account"))
	if r.Request.URL.Path != "/login" {
		t.Fatalf("ended at %s, want the sign-in page", r.Request.URL)
	}
	r = f.acme.IdentifyStep(t, c, r, "alice@acme.test")
	r = f.acme.Submit(t, c, testenv.ParseFormWith(t, r.Body, "password"), url.Values{"password": {testenv.Password}})
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/account" || !strings.Contains(r.Body, "alice@acme.test") {
		t.Fatalf("after signing in: status %d at %s, want the account page\n%s", r.StatusCode, r.Request.URL, r.Body)
	}
	for _, section := range []string{`id="profile"`, `id="password"`, `id="sessions"`, `id="identities"`} {
		if !strings.Contains(r.Body, section) {
			t.Errorf("the account page has no section %s", section)
		}
	}
}

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		in   string
		want bool
	}{
		{"the page", "/account", true},
		{"a section path", "/account/sessions", true},
		{"another site", "https://evil.example/account", false},
		{"scheme-relative", "//evil.example/account", false},
		{"backslash", "/account\\..\\x", false},
		{"dot segments", "/account/../oauth/token", false},
		{"a query", "/account?x=1", false},
		{"a longer name", "/accounts", false},
		{"empty", "", false},
		{"upper case", "/Account", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := accountpage.SafeReturnTo(tt.in); got != tt.want {
				t.Errorf("SafeReturnTo(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSignInIgnoresUnsafeReturnTo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	for _, rt := range []string{"https://evil.example/", "//evil.example/account", "/oauth/token"} {
		c := f.env.Client(testenv.ClientOptions{NoRedirects: true})
		page := testenv.Get(t, c, f.acme.URL("/login?"+url.Values{"return_to": {rt}}.Encode()))
		if strings.Contains(page.Body, `name="return_to"`) {
			t.Errorf("return_to %q is carried by the sign-in form", rt)
		}
		r := f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {"alice@acme.test"},
			"password": {testenv.Password}, "return_to": {rt}})
		if r.StatusCode != http.StatusOK || r.Header.Get("Location") != "" {
			t.Errorf("sign-in with return_to %q: status %d, Location %q; want the signed-in page", rt, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

func TestAccountPageCrossTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	c := f.browser(t, f.acme, "alice@acme.test", "")
	cookie := testenv.Cookie(c, f.acme.URL("/"), "authio_session")
	nr := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	// Acme's session cookie sent to Globex's host: Globex knows no such session.
	r := testenv.Get(t, nr, f.globex.URL("/account"), testenv.Header("Cookie", "authio_session="+cookie))
	if r.StatusCode != http.StatusSeeOther || r.Location(t).Path != "/login" {
		t.Fatalf("GET globex /account with acme's cookie: status %d, want 303 to sign-in\n%s", r.StatusCode, r.Body)
	}
	if strings.Contains(r.Body, "alice@acme.test") || strings.Contains(r.Body, f.alice.ID) {
		t.Error("globex's answer shows acme's user")
	}
	// Acme's page, its form and CSRF token, posted to Globex: nothing happens to acme's sessions.
	other := f.browser(t, f.acme, "alice@acme.test", "")
	form := testenv.ParseFormWith(t, page(t, f.acme, c), "session")
	form.Action = "/account/sessions/end"
	r = testenv.PostForm(t, nr, f.globex.URL(form.Action), form.Fields, testenv.Header("Origin", f.globex.URL("")),
		testenv.Header("Cookie", "authio_session="+cookie+"; authio_csrf="+testenv.Cookie(c, f.acme.URL("/"), "authio_csrf")))
	if r.StatusCode < 300 || r.StatusCode >= 500 || r.StatusCode == http.StatusOK {
		t.Errorf("globex POST with acme's session: status %d, want a refusal", r.StatusCode)
	}
	if !strings.Contains(page(t, f.acme, other), "alice@acme.test") {
		t.Error("acme's other session ended through globex")
	}
}

func TestAccountPageRefusesPostsWithoutCSRFToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	c := f.browser(t, f.acme, "alice@acme.test", "")
	for _, tt := range []struct {
		name string
		path string
		form url.Values
	}{
		{"profile", "/account/profile", url.Values{"name": {"Mallory"}}},
		{"password", "/account/password", url.Values{"current_password": {testenv.Password}, "new_password": {"another-password-1"}}},
		{"sessions", "/account/sessions/end-others", url.Values{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := testenv.PostForm(t, c, f.acme.URL(tt.path), tt.form, testenv.Header("Origin", f.acme.URL("")))
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s without a CSRF token: status %d, want 403", tt.path, r.StatusCode)
			}
		})
	}
	u, err := f.env.S.Store.GetUser(f.acme.Ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name == "Mallory" || u.PasswordHash != f.alice.PasswordHash {
		t.Errorf("a post without a CSRF token changed the user: name %q, password changed %v", u.Name, u.PasswordHash != f.alice.PasswordHash)
	}
}

func TestAccountProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	c := f.browser(t, f.acme, "alice@acme.test", "")

	r := post(t, f.acme, c, "picture", url.Values{"name": {"Alice Liddell"}, "picture": {"javascript:alert(1)"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="profile-picture" `) ||
		!strings.Contains(r.Body, `aria-invalid="true"`) || !strings.Contains(r.Body, "profile-picture-error") {
		t.Fatalf("bad picture URL: status %d, want 400 with the error next to the field\n%s", r.StatusCode, r.Body)
	}
	if n := len(events(t, f.acme, directory.EventUserUpdated, f.alice.ID)); n != 0 {
		t.Errorf("a refused profile change was audited (%d events)", n)
	}

	r = post(t, f.acme, c, "picture", url.Values{"name": {"Alice Liddell"}, "picture": {"https://img.acme.test/alice.png"}})
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/account" || !strings.Contains(r.Body, "Your profile has been saved.") {
		t.Fatalf("saving the profile: status %d at %s\n%s", r.StatusCode, r.Request.URL, r.Body)
	}
	u, err := f.env.S.Store.GetUser(f.acme.Ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Alice Liddell" || u.Profile.Picture != "https://img.acme.test/alice.png" {
		t.Errorf("stored name %q, picture %q", u.Name, u.Profile.Picture)
	}
	evs := events(t, f.acme, directory.EventUserUpdated, f.alice.ID)
	if len(evs) != 1 || evs[0].Actor != "user:"+f.alice.ID {
		t.Fatalf("audit: %+v, want one user.updated by the user", evs)
	}
}

func TestAccountChangePassword(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		c := f.browser(t, f.acme, "alice@acme.test", "")
		other := f.browser(t, f.acme, "alice@acme.test", "")

		r := post(t, f.acme, c, "current_password", url.Values{"current_password": {"not-my-password"}, "new_password": {"a-new-password-9"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "That is not your current password.") ||
			!strings.Contains(r.Body, `aria-describedby="current-password-error"`) {
			t.Fatalf("wrong current password: status %d\n%s", r.StatusCode, r.Body)
		}
		r = post(t, f.acme, c, "current_password", url.Values{"current_password": {testenv.Password}, "new_password": {"short"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "new-password-error") {
			t.Fatalf("too short a new password: status %d\n%s", r.StatusCode, r.Body)
		}
		if n := len(events(t, f.acme, "user.password_changed", f.alice.ID)); n != 0 {
			t.Fatalf("refused changes were audited: %d events", n)
		}

		r = post(t, f.acme, c, "current_password", url.Values{"current_password": {testenv.Password}, "new_password": {"a-new-password-9"}})
		if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/account" || !strings.Contains(r.Body, "Your password has been changed.") {
			t.Fatalf("changing the password: status %d at %s\n%s", r.StatusCode, r.Request.URL, r.Body)
		}
		// This browser keeps its session; the other one lost its own.
		page(t, f.acme, c)
		nr := f.env.Client(testenv.ClientOptions{Jar: other.Jar, NoRedirects: true})
		if r := testenv.Get(t, nr, f.acme.URL("/account")); r.StatusCode != http.StatusSeeOther {
			t.Errorf("the other browser still has a session after the password change: status %d", r.StatusCode)
		}
		evs := events(t, f.acme, "user.password_changed", f.alice.ID)
		if len(evs) != 1 || evs[0].Actor != "user:"+f.alice.ID || evs[0].Data["sessions_ended"] != float64(1) {
			t.Fatalf("audit: %+v, want one user.password_changed by the user that ended 1 session", evs)
		}
		// The new password signs in; the old one does not.
		fresh := f.env.Client(testenv.ClientOptions{})
		if r := f.acme.SignIn(t, fresh, "alice@acme.test", testenv.Password, ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("the old password: status %d, want 401", r.StatusCode)
		}
		if r := f.acme.SignIn(t, fresh, "alice@acme.test", "a-new-password-9", ""); r.StatusCode != http.StatusOK {
			t.Errorf("the new password: status %d, want 200\n%s", r.StatusCode, r.Body)
		}
	})
}

func TestAccountSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	bob := f.acme.NewUser("bob@acme.test")
	c := f.browser(t, f.acme, "alice@acme.test", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	other := f.browser(t, f.acme, "alice@acme.test", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")
	third := f.browser(t, f.acme, "alice@acme.test", "")
	bobs := f.browser(t, f.acme, "bob@acme.test", "")

	body := page(t, f.acme, c)
	for _, want := range []string{"Chrome on Linux", "Firefox on Windows", "This browser", "Sign out all other sessions"} {
		if !strings.Contains(body, want) {
			t.Errorf("the session list does not show %q", want)
		}
	}

	// Bob's session id, posted by Alice: not hers, nothing happens.
	bobSessions, err := f.env.S.UserSessions(f.acme.Ctx, bob.ID)
	if err != nil || len(bobSessions) != 1 {
		t.Fatalf("bob's sessions: %v %v", bobSessions, err)
	}
	r := post(t, f.acme, c, "session", url.Values{"session": {bobSessions[0].ID}})
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("ending another user's session: status %d, want 404", r.StatusCode)
	}
	page(t, f.acme, bobs)

	// Sign out the Firefox session: that browser loses it.
	sessions, err := f.env.S.UserSessions(f.acme.Ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var firefox string
	for _, s := range sessions {
		if strings.Contains(s.UserAgent, "Firefox") {
			firefox = s.ID
		}
	}
	r = post(t, f.acme, c, "session", url.Values{"session": {firefox}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "That session has been signed out.") {
		t.Fatalf("ending a session: status %d\n%s", r.StatusCode, r.Body)
	}
	nr := func(c *http.Client) *http.Client {
		return f.env.Client(testenv.ClientOptions{Jar: c.Jar, NoRedirects: true})
	}
	if r := testenv.Get(t, nr(other), f.acme.URL("/account")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out browser still has its session: status %d", r.StatusCode)
	}
	if evs := events(t, f.acme, "session.ended", f.alice.ID); len(evs) != 1 || evs[0].Data["session_id"] != firefox {
		t.Errorf("audit: %+v, want one session.ended for %s", evs, firefox)
	}

	// Sign out all the others: the third browser loses its session, this one and Bob's keep theirs.
	body = page(t, f.acme, c)
	if !strings.Contains(body, `action="/account/sessions/end-others"`) {
		t.Fatalf("no form to sign out the other sessions\n%s", body)
	}
	token := testenv.ParseFormWith(t, body, "csrf_token").Fields.Get("csrf_token")
	r = testenv.PostForm(t, c, f.acme.URL("/account/sessions/end-others"), url.Values{"csrf_token": {token}},
		testenv.Header("Origin", f.acme.URL("")))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Your other sessions have been signed out.") {
		t.Fatalf("ending the other sessions: status %d\n%s", r.StatusCode, r.Body)
	}
	if r := testenv.Get(t, nr(third), f.acme.URL("/account")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the third browser still has its session: status %d", r.StatusCode)
	}
	page(t, f.acme, c)
	page(t, f.acme, bobs)
	if evs := events(t, f.acme, "session.others_ended", f.alice.ID); len(evs) != 1 || evs[0].Data["count"] != float64(1) {
		t.Errorf("audit: %+v, want one session.others_ended that ended 1", evs)
	}
}

func TestSessionLastSeenIsWrittenAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.Options{})
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f.env.Clock.Freeze(start)
	c := f.browser(t, f.acme, "alice@acme.test", "")
	lastSeen := func() time.Time {
		t.Helper()
		ss, err := f.env.S.UserSessions(f.acme.Ctx, f.alice.ID)
		if err != nil || len(ss) != 1 || ss[0].LastSeenAt == nil {
			t.Fatalf("sessions %+v, %v", ss, err)
		}
		return ss[0].LastSeenAt.UTC()
	}
	if got := lastSeen(); !got.Equal(start) {
		t.Fatalf("last seen at sign-in = %v, want %v", got, start)
	}
	f.env.Clock.Advance(30 * time.Second)
	page(t, f.acme, c)
	if got := lastSeen(); !got.Equal(start) {
		t.Errorf("last seen after 30 s = %v, want unchanged %v", got, start)
	}
	f.env.Clock.Advance(45 * time.Second)
	page(t, f.acme, c)
	if got, want := lastSeen(), start.Add(75*time.Second); !got.Equal(want) {
		t.Errorf("last seen after 75 s = %v, want %v", got, want)
	}
}

func TestAccountIdentities(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixture(t, o)
		ctx := f.acme.Ctx
		now := time.Now().UTC()
		con := storage.Connection{ID: "con_upstream", Name: "upstream", Type: storage.ConnectionOIDC, Settings: storage.JSONMap{},
			Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := f.env.S.Store.CreateConnection(ctx, con); err != nil {
			t.Fatal(err)
		}
		// Carol signed up through the upstream provider: no password, one identity.
		carol := storage.User{ID: "user_carol", Email: "carol@acme.test", EmailVerified: true, CreatedAt: now, UpdatedAt: now}
		if err := f.env.S.Store.CreateUser(ctx, carol); err != nil {
			t.Fatal(err)
		}
		link := func(id, userID, subject string) {
			t.Helper()
			if err := f.env.S.Store.LinkIdentity(ctx, storage.Identity{ID: id, ConnectionID: con.ID, Subject: subject, UserID: userID,
				Profile: storage.JSONMap{"email": subject + "@upstream.test"}, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		link("idn_carol", carol.ID, "carol")
		link("idn_alice", f.alice.ID, "alice")
		cookie, _, err := f.env.S.StartSession(ctx, carol, []string{"fed"}, "upstream")
		if err != nil {
			t.Fatal(err)
		}
		c := f.env.Client(testenv.ClientOptions{})
		u, _ := url.Parse(f.acme.URL("/"))
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "authio_session", Value: cookie, Path: "/"}})

		body := page(t, f.acme, c)
		if !strings.Contains(body, "upstream · carol@upstream.test") || !strings.Contains(body, "You sign in here without a password.") {
			t.Fatalf("the page does not list carol's identity\n%s", body)
		}
		r := post(t, f.acme, c, "identity", url.Values{"identity": {"idn_carol"}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(testenv.Alert(r.Body), "only way to sign in") {
			t.Fatalf("unlinking the only method: status %d, want 409\n%s", r.StatusCode, r.Body)
		}
		r = post(t, f.acme, c, "identity", url.Values{"identity": {"idn_alice"}})
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("unlinking another user's identity: status %d, want 404", r.StatusCode)
		}
		if n := len(events(t, f.acme, "user.identity_unlinked", "")); n != 0 {
			t.Fatalf("refused unlinks were audited: %d", n)
		}
		if is, _ := f.env.S.Store.ListIdentities(ctx, f.alice.ID); len(is) != 1 {
			t.Fatalf("alice's identity is gone")
		}

		// With a password, the identity is no longer the only way in.
		if err := f.env.S.Store.UpdateUser(ctx, carol.ID, func(old storage.User) (storage.User, error) {
			old.PasswordHash = f.alice.PasswordHash
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		r = post(t, f.acme, c, "identity", url.Values{"identity": {"idn_carol"}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "The account has been unlinked.") {
			t.Fatalf("unlinking with a password left: status %d\n%s", r.StatusCode, r.Body)
		}
		if is, _ := f.env.S.Store.ListIdentities(ctx, carol.ID); len(is) != 0 {
			t.Errorf("carol still has %d identities", len(is))
		}
		evs := events(t, f.acme, "user.identity_unlinked", carol.ID)
		if len(evs) != 1 || evs[0].Actor != "user:"+carol.ID || evs[0].Data["identity_id"] != "idn_carol" {
			t.Errorf("audit: %+v, want one user.identity_unlinked by carol", evs)
		}
	})
}

func TestDeviceSummary(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"},
		{"curl/8.5.0", "curl"},
		{"", "Unknown browser"},
	} {
		if got := accountpage.DeviceSummary(tt.ua); got != tt.want {
			t.Errorf("DeviceSummary(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}
