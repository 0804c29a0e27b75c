package login_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// totpCode is the code an authenticator app shows at t for secret (the manual key, spaces allowed).
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatalf("generate TOTP code: %v", err)
	}
	return code
}

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+500001)%1000000)
}

// freeze stops the servers' clock 10 minutes in the past (never ahead of real time), 5 seconds into a 30-second
// TOTP step, and returns that time.
func freeze(f *fixture) time.Time {
	t0 := time.Now().Add(-10 * time.Minute).Truncate(30 * time.Second).Add(5 * time.Second)
	f.env.Clock.Freeze(t0)
	return t0
}

// enrol sets up an authenticator app for u through the service and returns its key and the recovery codes.
func enrol(t *testing.T, f *fixture, u storage.User) (string, []string) {
	t.Helper()
	enr, err := f.env.S.BeginTOTPEnrollment(f.acme.Ctx, u, "Acme")
	if err != nil {
		t.Fatalf("begin enrolment: %v", err)
	}
	codes, err := f.env.S.ConfirmTOTPEnrollment(f.acme.Ctx, u, totpCode(t, enr.Secret, f.env.Clock.Now()))
	if err != nil {
		t.Fatalf("confirm enrolment: %v", err)
	}
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("%d recovery codes, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	return enr.Secret, codes
}

// toMFAPage signs alice in with her password in browser c (which must stop at the redirect URI) for ar, and
// checks that she lands on the second-factor page; it returns that page.
func toMFAPage(t *testing.T, f *fixture, c *http.Client, ar *testenv.AuthRequest) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, ar.URL(f.acme))
	if page.Request.URL.Path != "/login" || page.StatusCode != http.StatusOK {
		t.Fatalf("/authorize led to %s (status %d), want the sign-in page", page.Request.URL, page.StatusCode)
	}
	r := f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
	if r.Request.URL.Path != "/login/mfa" || r.StatusCode != http.StatusOK {
		t.Fatalf("after the password: %s, status %d, want the second-factor page\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	return r
}

// idTokenAMR exchanges the code of callback response r and returns the ID token's amr.
func idTokenAMR(t *testing.T, f *fixture, c *http.Client, ar *testenv.AuthRequest, r *testenv.Response) []string {
	t.Helper()
	q := ar.Callback(t, f.acme, r)
	if q.Get("code") == "" {
		t.Fatalf("no code in the callback: %v", q)
	}
	tk := testenv.TokensOf(t, ar.Exchange(t, f.acme, c, q.Get("code")))
	_, claims := testenv.DecodeJWT(t, tk.IDToken)
	var amr []string
	raw, _ := claims["amr"].([]any)
	for _, v := range raw {
		s, _ := v.(string)
		amr = append(amr, s)
	}
	return amr
}

var invalidCodeRE = regexp.MustCompile(`id="code"[^>]*aria-invalid="true"`)

// TestMFASignInWithTOTP: a user with an authenticator app passes it after the password; a wrong code is refused
// next to the field, the right one completes the authorization with amr pwd+otp+mfa; the same code (its time
// step) is refused in the next sign-in, and the next step's code works.
func TestMFASignInWithTOTP(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		now := freeze(f)
		secret, _ := enrol(t, f, f.user)
		f.env.Clock.Advance(30 * time.Second) // the enrolment used this step's code

		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		page := toMFAPage(t, f, c, ar)
		form := testenv.ParseForm(t, page.Body)
		if form.Action != "/login/mfa" || form.Fields.Get("method") != "totp" || !strings.HasPrefix(form.Fields.Get("state"), "flw_") {
			t.Fatalf("second-factor form: action %q, fields %v", form.Action, form.Fields)
		}
		if !strings.Contains(page.Body, "Use a recovery code") {
			t.Error("the page offers no recovery code")
		}
		code := totpCode(t, secret, now.Add(30*time.Second))
		r := f.acme.Submit(t, c, form, url.Values{"code": {wrongCode(code)}})
		if r.StatusCode != http.StatusUnauthorized || !invalidCodeRE.MatchString(r.Body) {
			t.Fatalf("wrong code: status %d, want 401 with the field marked invalid\n%s", r.StatusCode, r.Body)
		}
		r = f.acme.Submit(t, c, testenv.ParseForm(t, r.Body), url.Values{"code": {code}})
		if amr := idTokenAMR(t, f, c, ar, r); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("ID token amr = %v, want [pwd otp mfa]", amr)
		}

		// Replay: the same code in another browser's sign-in, within its validity window.
		c2 := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		ar2 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		page = toMFAPage(t, f, c2, ar2)
		r = f.acme.Submit(t, c2, testenv.ParseForm(t, page.Body), url.Values{"code": {code}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "not valid") {
			t.Fatalf("replayed code: status %d, want 401\n%s", r.StatusCode, r.Body)
		}
		f.env.Clock.Advance(30 * time.Second)
		r = f.acme.Submit(t, c2, testenv.ParseForm(t, r.Body), url.Values{"code": {totpCode(t, secret, now.Add(time.Minute))}})
		if amr := idTokenAMR(t, f, c2, ar2, r); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("second sign-in: amr = %v", amr)
		}

		// The browser's session is multi-factor now: a new authorization goes through without asking again.
		ar3 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		if amr := idTokenAMR(t, f, c2, ar3, testenv.Get(t, c2, ar3.URL(f.acme))); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("session reuse: amr = %v", amr)
		}
	})
}

// TestMFASameCodeInParallel: one code submitted at once by several sign-ins of the user is accepted once.
func TestMFASameCodeInParallel(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		now := freeze(f)
		secret, _ := enrol(t, f, f.user)
		f.env.Clock.Advance(30 * time.Second)
		code := totpCode(t, secret, now.Add(30*time.Second))
		assertOneWinner(t, f, url.Values{"code": {code}}, "")
	})
}

// TestMFARecoveryCodeOnce: a recovery code signs in once (amr pwd+mfa); used again, or by parallel sign-ins, it
// is accepted once.
func TestMFARecoveryCodeOnce(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		freeze(f)
		_, codes := enrol(t, f, f.user)

		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		form := recoveryForm(t, f, c, toMFAPage(t, f, c, ar))
		r := f.acme.Submit(t, c, form, url.Values{"code": {strings.ToUpper(codes[0])}})
		if amr := idTokenAMR(t, f, c, ar, r); !slices.Equal(amr, []string{"pwd", "mfa"}) {
			t.Errorf("recovery code: amr = %v, want [pwd mfa]", amr)
		}

		c2 := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		form = recoveryForm(t, f, c2, toMFAPage(t, f, c2, testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)))
		r = f.acme.Submit(t, c2, form, url.Values{"code": {codes[0]}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "used already") {
			t.Fatalf("used recovery code: status %d, want 401\n%s", r.StatusCode, r.Body)
		}

		assertOneWinner(t, f, url.Values{"code": {codes[1]}}, "recovery")

		st, err := f.env.S.MFAStatus(f.acme.Ctx, f.user.ID)
		if err != nil || st.RecoveryCodesLeft != mfa.RecoveryCodeCount-2 {
			t.Errorf("recovery codes left = %d (%v), want %d", st.RecoveryCodesLeft, err, mfa.RecoveryCodeCount-2)
		}
	})
}

// recoveryForm follows the second-factor page's "Use a recovery code" link and returns the recovery-code form.
func recoveryForm(t *testing.T, f *fixture, c *http.Client, page *testenv.Response) testenv.Form {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)">Use a recovery code</a>`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no recovery code link\n%s", page.Body)
	}
	r := testenv.Get(t, c, f.acme.URL(html.UnescapeString(m[1])))
	form := testenv.ParseForm(t, r.Body)
	if form.Fields.Get("method") != "recovery" || !strings.Contains(r.Body, `for="code">Recovery code`) {
		t.Fatalf("recovery form: fields %v\n%s", form.Fields, r.Body)
	}
	return form
}

// assertOneWinner brings n browsers to the second-factor page (mode: "" for the code form, "recovery") and posts
// set from all of them at once: exactly one goes on (303 to the flow), the others are refused with 401.
func assertOneWinner(t *testing.T, f *fixture, set url.Values, mode string) {
	t.Helper()
	const n = 6
	clients := make([]*http.Client, n)
	reqs := make([]*http.Request, n)
	for i := range n {
		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		page := toMFAPage(t, f, c, testenv.NewAuthRequest(f.spa.ClientID, spaRedirect))
		form := testenv.ParseForm(t, page.Body)
		if mode == "recovery" {
			form = recoveryForm(t, f, c, page)
		}
		v := url.Values{}
		for k, vs := range form.Fields {
			v[k] = vs
		}
		for k, vs := range set {
			v[k] = vs
		}
		req := testenv.FormRequest(f.acme.URL(form.Action), v)
		req.Header.Set("Origin", f.acme.URL(""))
		reqs[i] = req
		clients[i] = f.env.Client(testenv.ClientOptions{Jar: c.Jar, NoRedirects: true})
	}
	outs := testenv.Concurrently(n, func(i int) *http.Client { return clients[i] }, func(i int) *http.Request { return reqs[i] })
	wins := 0
	for i, o := range outs {
		switch {
		case o.Err != nil:
			t.Fatalf("request %d: %v", i, o.Err)
		case o.Status == http.StatusSeeOther && strings.HasPrefix(o.Location, "/authorize/resume"):
			wins++
		case o.Status == http.StatusUnauthorized:
		default:
			t.Errorf("request %d: status %d (Location %q), want 303 once and 401 otherwise\n%s", i, o.Status, o.Location, o.Body)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d parallel second factors with one code went through, want exactly 1", wins, n)
	}
}

// qrRE and secretRE read the enrolment page.
var (
	qrRE           = regexp.MustCompile(`<img src="(data:image/png;base64,(?:[A-Za-z0-9/=]|&#43;)+)"`)
	secretRE       = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)
	recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>`)
)

// TestMFARequiredForcesEnrolment: with the tenant setting mfa=required, a user without a second factor sets up an
// authenticator app at the next sign-in (QR code and manual key), sees ten recovery codes once, and goes on with
// amr pwd+otp+mfa; the Management API then lists the methods, and the change is audited.
func TestMFARequiredForcesEnrolment(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		now := freeze(f)
		key := f.acme.APIKey(t)
		api := f.env.Client(testenv.ClientOptions{})
		r := f.acme.API(t, api, "PATCH", "/tenants/settings", key, map[string]any{"mfa": "bogus"})
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("PATCH mfa=bogus: status %d, want 400\n%s", r.StatusCode, r.Body)
		}
		r = f.acme.API(t, api, "PATCH", "/tenants/settings", key, map[string]any{"mfa": "required"})
		if r.StatusCode != http.StatusOK || r.JSON(t)["mfa"] != "required" {
			t.Fatalf("PATCH mfa=required: status %d\n%s", r.StatusCode, r.Body)
		}

		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		page := toMFAPage(t, f, c, ar)
		if !strings.Contains(page.Header.Get("Content-Security-Policy"), "img-src 'self' data:") {
			t.Errorf("CSP %q does not allow the QR code's data: image", page.Header.Get("Content-Security-Policy"))
		}
		if !qrRE.MatchString(page.Body) {
			t.Fatalf("no QR code image on the enrolment page\n%s", page.Body)
		}
		m := secretRE.FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("no manual key on the enrolment page\n%s", page.Body)
		}
		secret := m[1]
		form := testenv.ParseForm(t, page.Body)
		if form.Fields.Get("method") != "enroll" {
			t.Fatalf("enrolment form fields %v", form.Fields)
		}
		// A reload shows the same key (the pending app is not replaced).
		again := testenv.Get(t, c, f.acme.URL("/login/mfa?state="+form.Fields.Get("state")))
		if m := secretRE.FindStringSubmatch(again.Body); m == nil || m[1] != secret {
			t.Errorf("reloading the enrolment page changed the key")
		}
		code := totpCode(t, secret, now)
		r = f.acme.Submit(t, c, form, url.Values{"code": {wrongCode(code)}})
		if r.StatusCode != http.StatusUnauthorized || !invalidCodeRE.MatchString(r.Body) {
			t.Fatalf("wrong confirming code: status %d\n%s", r.StatusCode, r.Body)
		}
		// Not confirmed: the app does not count yet.
		if st, err := f.env.S.MFAStatus(f.acme.Ctx, f.user.ID); err != nil || st.TOTP || !st.PendingTOTP {
			t.Fatalf("before confirmation: status %+v (%v), want pending only", st, err)
		}
		r = f.acme.Submit(t, c, testenv.ParseForm(t, r.Body), url.Values{"code": {code}})
		codes := recoveryCodeRE.FindAllStringSubmatch(r.Body, -1)
		if r.StatusCode != http.StatusOK || len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("after confirming: status %d, %d recovery codes shown, want 200 and %d\n%s", r.StatusCode, len(codes), mfa.RecoveryCodeCount, r.Body)
		}
		cont := regexp.MustCompile(`<a class="button" href="([^"]+)"`).FindStringSubmatch(r.Body)
		if cont == nil {
			t.Fatalf("no way on after the recovery codes\n%s", r.Body)
		}
		done := testenv.Get(t, c, f.acme.URL(html.UnescapeString(cont[1])))
		if amr := idTokenAMR(t, f, c, ar, done); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("amr = %v, want [pwd otp mfa]", amr)
		}

		r = f.acme.API(t, api, "GET", "/users/"+f.user.ID+"/authentication-methods", key, nil)
		var types []string
		for _, m := range arr(t, r) {
			mm := m.(map[string]any)
			types = append(types, mm["type"].(string))
			if mm["confirmed"] != true || !strings.HasPrefix(mm["id"].(string), mm["type"].(string)+"|crd_") {
				t.Errorf("method %v: want confirmed and an id <type>|crd_…", mm)
			}
		}
		slices.Sort(types)
		if !slices.Equal(types, []string{"password", "recovery-code", "totp"}) {
			t.Errorf("authentication methods %v, want password, totp, recovery-code", types)
		}
		r = f.acme.API(t, api, "GET", "/logs?type="+mfa.EventTOTPEnrolled, key, nil)
		if n := len(arr(t, r)); n != 1 {
			t.Errorf("%d %s events, want 1\n%s", n, mfa.EventTOTPEnrolled, r.Body)
		}
	})
}

// arr decodes a JSON array response.
func arr(t *testing.T, r *testenv.Response) []any {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, r.Body)
	}
	var out []any
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatalf("%s: not a JSON array: %v\n%s", r.Request.URL, err, r.Body)
	}
	return out
}

// TestMFAForExistingSession: a browser signed in with one factor before the user set up an authenticator app is
// asked for it at the next authorization (prompt=none gets interaction_required), without its password again.
func TestMFAForExistingSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := freeze(f)
	c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	if amr := idTokenAMR(t, f, c, ar, signInPassword(t, f, c, ar)); !slices.Equal(amr, []string{"pwd"}) {
		t.Fatalf("before the app: amr = %v", amr)
	}
	secret, _ := enrol(t, f, f.user)
	f.env.Clock.Advance(30 * time.Second)

	none := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	none.Extra.Set("prompt", "none")
	q := none.Callback(t, f.acme, testenv.Get(t, c, none.URL(f.acme)))
	if q.Get("error") != "interaction_required" {
		t.Errorf("prompt=none with a one-factor session: %v, want interaction_required", q)
	}
	ar2 := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	page := testenv.Get(t, c, ar2.URL(f.acme))
	if page.Request.URL.Path != "/login/mfa" {
		t.Fatalf("authorization with a one-factor session led to %s, want the second-factor page", page.Request.URL)
	}
	r := f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"code": {totpCode(t, secret, now.Add(30*time.Second))}})
	if amr := idTokenAMR(t, f, c, ar2, r); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr = %v, want [pwd otp mfa]", amr)
	}
}

// signInPassword opens ar in c and signs alice in with her password, returning the last response.
func signInPassword(t *testing.T, f *fixture, c *http.Client, ar *testenv.AuthRequest) *testenv.Response {
	t.Helper()
	page := testenv.Get(t, c, ar.URL(f.acme))
	return f.acme.Submit(t, c, testenv.ParseForm(t, page.Body), url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
}

// TestMFACrossTenant: another tenant's domain knows nothing of a flow waiting for its second factor, and the
// Management API of another tenant neither lists nor removes the user's methods.
func TestMFACrossTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		freeze(f)
		globex := f.env.NewTenant("globex")
		enrol(t, f, f.user)
		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		page := toMFAPage(t, f, c, testenv.NewAuthRequest(f.spa.ClientID, spaRedirect))
		state := testenv.ParseForm(t, page.Body).Fields.Get("state")
		r := testenv.Get(t, c, globex.URL("/login/mfa?state="+url.QueryEscape(state)))
		if r.StatusCode != http.StatusBadRequest || strings.Contains(r.Body, "alice") {
			t.Errorf("acme's flow on globex: status %d, want 400 and nothing of it\n%s", r.StatusCode, r.Body)
		}
		api := f.env.Client(testenv.ClientOptions{})
		gkey, akey := globex.APIKey(t), f.acme.APIKey(t)
		methods := arr(t, f.acme.API(t, api, "GET", "/users/"+f.user.ID+"/authentication-methods", akey, nil))
		totpID := ""
		for _, m := range methods {
			if mm := m.(map[string]any); mm["type"] == "totp" {
				totpID = mm["id"].(string)
			}
		}
		for _, req := range []struct{ method, path string }{
			{"GET", "/users/" + f.user.ID + "/authentication-methods"},
			{"DELETE", "/users/" + f.user.ID + "/authentication-methods/" + url.PathEscape(totpID)},
			{"DELETE", "/users/" + f.user.ID + "/authenticators"},
		} {
			if r := globex.API(t, api, req.method, req.path, gkey, nil); r.StatusCode != http.StatusNotFound {
				t.Errorf("globex %s %s: status %d, want 404\n%s", req.method, req.path, r.StatusCode, r.Body)
			}
		}
		if st, err := f.env.S.MFAStatus(f.acme.Ctx, f.user.ID); err != nil || !st.TOTP || st.RecoveryCodesLeft != mfa.RecoveryCodeCount {
			t.Errorf("after globex's attempts: %+v (%v), want the app and every code", st, err)
		}
	})
}

// TestAuthenticationMethodsAPI: list, delete one method (the recovery codes, then the app), and reset every second
// factor; unknown ids are 404.
func TestAuthenticationMethodsAPI(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		f := newFixtureOn(t, o)
		freeze(f)
		enrol(t, f, f.user)
		key := f.acme.APIKey(t)
		api := f.env.Client(testenv.ClientOptions{})
		list := func() map[string]string {
			out := map[string]string{}
			for _, m := range arr(t, f.acme.API(t, api, "GET", "/users/"+f.user.ID+"/authentication-methods", key, nil)) {
				mm := m.(map[string]any)
				out[mm["type"].(string)] = mm["id"].(string)
			}
			return out
		}
		ms := list()
		if len(ms) != 3 || ms["password"] == "" || ms["totp"] == "" || ms["recovery-code"] == "" {
			t.Fatalf("methods %v, want password, totp and recovery-code", ms)
		}
		for _, bad := range []string{"totp|crd_nope", "nope", ms["totp"] + "x"} {
			if r := f.acme.API(t, api, "DELETE", "/users/"+f.user.ID+"/authentication-methods/"+url.PathEscape(bad), key, nil); r.StatusCode != http.StatusNotFound {
				t.Errorf("DELETE method %q: status %d, want 404", bad, r.StatusCode)
			}
		}
		if r := f.acme.API(t, api, "GET", "/users/user_nope/authentication-methods", key, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown user: status %d, want 404", r.StatusCode)
		}
		r := f.acme.API(t, api, "DELETE", "/users/"+f.user.ID+"/authentication-methods/"+url.PathEscape(ms["recovery-code"]), key, nil)
		if r.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE recovery codes: status %d\n%s", r.StatusCode, r.Body)
		}
		if ms := list(); len(ms) != 2 || ms["recovery-code"] != "" {
			t.Errorf("after deleting the recovery codes: %v", ms)
		}
		r = f.acme.API(t, api, "DELETE", "/users/"+f.user.ID+"/authenticators", key, nil)
		if r.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE authenticators: status %d\n%s", r.StatusCode, r.Body)
		}
		if ms := list(); len(ms) != 1 || ms["password"] == "" {
			t.Errorf("after the reset: %v, want the password alone", ms)
		}
		// Without a second factor, the password signs in alone again.
		c := f.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		if amr := idTokenAMR(t, f, c, ar, signInPassword(t, f, c, ar)); !slices.Equal(amr, []string{"pwd"}) {
			t.Errorf("after the reset: amr %v", amr)
		}
		for _, ev := range []string{mfa.EventMethodDeleted, mfa.EventAuthenticatorsReset} {
			if n := len(arr(t, f.acme.API(t, api, "GET", "/logs?type="+ev, key, nil))); n != 1 {
				t.Errorf("%d %s events, want 1", n, ev)
			}
		}
	})
}
