package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/config"
	"github.com/authio/authio/internal/testenv"
)

// webMessage is a web_message authorization response page as a browser would run it: the message its script
// posts and where to.
type webMessage struct {
	Type         string            `json:"type"`
	Response     map[string]string `json:"response"`
	TargetOrigin string            `json:"-"`
}

var (
	messageRE  = regexp.MustCompile(`var message = (\{.*\});`)
	targetRE   = regexp.MustCompile(`var targetOrigin = ("[^"]*");`)
	scriptRE   = regexp.MustCompile(`<script\b([^>]*)>`)
	scriptNRE  = regexp.MustCompile(`nonce="([^"]+)"`)
	cspNonceRE = regexp.MustCompile(`script-src 'nonce-([^']+)'`)
)

// wantWebMessage checks that r is a web_message page a browser would run in an iframe of frameOrigin — text/html,
// not cached, one script allowed by the CSP nonce, framing allowed to frameOrigin — and returns its message.
func wantWebMessage(t *testing.T, r *testenv.Response, frameOrigin string) webMessage {
	t.Helper()
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q, want the web_message page\n%s", r.StatusCode, r.Header.Get("Content-Type"), r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Fatalf("web_message answered with a redirect to %s", loc)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if xfo := r.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q would keep the page out of the app's iframe", xfo)
	}
	csp := r.Header.Get("Content-Security-Policy")
	fa := ""
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "frame-ancestors ") {
			fa = d
		}
	}
	if !slices.Contains(strings.Fields(fa), frameOrigin) || strings.Contains(fa, "*") || strings.Contains(fa, "'none'") {
		t.Errorf("CSP %q: frame-ancestors must allow %s (and nothing wider)", csp, frameOrigin)
	}
	scripts := scriptRE.FindAllStringSubmatch(r.Body, -1)
	cn := cspNonceRE.FindStringSubmatch(csp)
	if len(scripts) != 1 || cn == nil || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("want one script and a CSP with a script nonce and default-src 'none': CSP %q\n%s", csp, r.Body)
	}
	if sn := scriptNRE.FindStringSubmatch(scripts[0][1]); sn == nil || sn[1] != cn[1] {
		t.Errorf("the script's nonce %v is not the CSP's %q", sn, cn[1])
	}
	m, o := messageRE.FindStringSubmatch(r.Body), targetRE.FindStringSubmatch(r.Body)
	if m == nil || o == nil || !strings.Contains(r.Body, "postMessage(message, targetOrigin)") {
		t.Fatalf("the page does not post a message to a target origin:\n%s", r.Body)
	}
	var msg webMessage
	if err := json.Unmarshal([]byte(m[1]), &msg); err != nil {
		t.Fatalf("message %s: %v", m[1], err)
	}
	if err := json.Unmarshal([]byte(o[1]), &msg.TargetOrigin); err != nil {
		t.Fatalf("target origin %s: %v", o[1], err)
	}
	if msg.Type != "authorization_response" {
		t.Errorf("message type %q, want authorization_response (auth0-spa-js ignores anything else)", msg.Type)
	}
	return msg
}

// wantNoMessage checks that r is the error page (400, or 401 for an unknown client): no script, no redirect.
func wantNoMessage(t *testing.T, r *testenv.Response) {
	t.Helper()
	if (r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnauthorized) || r.Header.Get("Location") != "" {
		t.Errorf("status %d Location %q, want the error page", r.StatusCode, r.Header.Get("Location"))
	}
	if strings.Contains(r.Body, "postMessage") || strings.Contains(r.Body, "authorization_response") {
		t.Errorf("the error page posts a message:\n%s", r.Body)
	}
}

// silent is an authorization request as auth0-spa-js's getTokenSilently sends it: redirect_uri the app's origin,
// prompt=none, response_mode=web_message.
func silent(clientID string) *testenv.AuthRequest {
	ar := testenv.NewAuthRequest(clientID, appOrigin)
	ar.Extra = url.Values{"prompt": {"none"}, "response_mode": {"web_message"}}
	return ar
}

// TestWebMessageResponseMode: response_mode=web_message answers with a page that posts
// {type: "authorization_response", response: {code, state, iss}} (or the error) to the client's registered web
// origin of the redirect URI — never "*", never another origin — and may be framed by the client's web origins.
// Without such a web origin the answer is the error page. Silent (prompt=none) and interactive requests alike.
func TestWebMessageResponseMode(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		_, step := p.browser(t)
		anon := p.env.Client(testenv.ClientOptions{NoRedirects: true})

		meta := testenv.Get(t, anon, p.acme.URL("/.well-known/openid-configuration")).JSON(t)
		if modes, _ := meta["response_modes_supported"].([]any); !slices.Contains(modes, any("web_message")) {
			t.Errorf("response_modes_supported = %v, want web_message", meta["response_modes_supported"])
		}

		t.Run("silent authentication, signed in: the code", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			msg := wantWebMessage(t, testenv.Get(t, step, ar.URL(p.acme)), appOrigin)
			if msg.TargetOrigin != appOrigin {
				t.Errorf("targetOrigin %q, want %s", msg.TargetOrigin, appOrigin)
			}
			if msg.Response["code"] == "" || msg.Response["state"] != ar.State || msg.Response["iss"] != p.acme.Issuer || msg.Response["error"] != "" {
				t.Fatalf("response %v, want code, state %q and iss %q", msg.Response, ar.State, p.acme.Issuer)
			}
			// The code redeems as auth0-spa-js redeems it: JSON, redirect_uri the origin.
			r := postJSON(t, step, p.acme, "/oauth/token", map[string]string{"client_id": p.spa.ClientID, "grant_type": "authorization_code",
				"code": msg.Response["code"], "code_verifier": ar.Verifier, "redirect_uri": appOrigin}, "")
			if tk := testenv.TokensOf(t, r); tk.IDToken == "" {
				t.Errorf("no ID token: %s", r.Body)
			}
		})

		t.Run("silent authentication, signed out: login_required", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			msg := wantWebMessage(t, testenv.Get(t, anon, ar.URL(p.acme)), appOrigin)
			if msg.TargetOrigin != appOrigin || msg.Response["error"] != "login_required" || msg.Response["code"] != "" ||
				msg.Response["state"] != ar.State || msg.Response["iss"] != p.acme.Issuer || msg.Response["error_description"] == "" {
				t.Errorf("message %+v, want error=login_required with a description, state and iss", msg)
			}
		})

		t.Run("silent authentication, max_age=0: login_required", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			ar.Extra.Set("max_age", "0")
			if msg := wantWebMessage(t, testenv.Get(t, step, ar.URL(p.acme)), appOrigin); msg.Response["error"] != "login_required" {
				t.Errorf("response %v, want login_required", msg.Response)
			}
		})

		t.Run("silent authentication, organization to choose: interaction_required", func(t *testing.T) {
			ar := silent(p.picker.ClientID)
			if msg := wantWebMessage(t, testenv.Get(t, step, ar.URL(p.acme)), appOrigin); msg.Response["error"] != "interaction_required" ||
				msg.Response["code"] != "" {
				t.Errorf("response %v, want interaction_required", msg.Response)
			}
		})

		t.Run("an error of the request itself goes by message too", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			ar.Extra.Set("scope", "openid admin:everything")
			if msg := wantWebMessage(t, testenv.Get(t, step, ar.URL(p.acme)), appOrigin); msg.Response["error"] != "invalid_scope" ||
				msg.Response["state"] != ar.State {
				t.Errorf("response %v, want invalid_scope with the state", msg.Response)
			}
		})

		t.Run("a hostile state stays data", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			ar.State = `</script><script>alert(document.domain)</script>`
			r := testenv.Get(t, step, ar.URL(p.acme))
			if msg := wantWebMessage(t, r, appOrigin); msg.Response["state"] != ar.State {
				t.Errorf("state %q came back as %q", ar.State, msg.Response["state"])
			}
			if strings.Contains(r.Body, "<script>alert") {
				t.Errorf("the state's markup reached the page:\n%s", r.Body)
			}
		})

		t.Run("interactive: the answer after sign-in is the page", func(t *testing.T) {
			b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
			ar := testenv.NewAuthRequest(p.spa.ClientID, appOrigin)
			ar.Extra.Set("response_mode", "web_message")
			r := testenv.Get(t, b, ar.URL(p.acme))
			if r.Request.URL.Path != "/login" {
				t.Fatalf("not at the sign-in page: %s (%d)", r.Request.URL, r.StatusCode)
			}
			r = p.acme.Submit(t, b, testenv.ParseForm(t, r.Body), url.Values{"email": {"alice@acme.test"}, "password": {testenv.Password}})
			msg := wantWebMessage(t, r, appOrigin)
			if msg.Response["code"] == "" || msg.Response["state"] != ar.State || msg.TargetOrigin != appOrigin {
				t.Errorf("message %+v, want the code for %s", msg, appOrigin)
			}
		})

		for _, tc := range []struct {
			name     string
			clientID string
			redirect string
			signedIn bool
		}{
			{"a redirect URI whose origin is not a web origin, signed in", p.spa.ClientID, "https://other.acme.test/callback", true},
			{"a redirect URI whose origin is not a web origin, signed out", p.spa.ClientID, "https://other.acme.test/callback", false},
			{"a client without web origins, signed in", p.noOrigins.ClientID, appOrigin, true},
			{"a client without web origins, signed out", p.noOrigins.ClientID, appOrigin, false},
			{"an unregistered redirect URI", p.spa.ClientID, "https://evil.example/callback", true},
			{"another tenant's client with the same web origin", p.foreign.ClientID, appRedirect, true},
		} {
			t.Run("error page: "+tc.name, func(t *testing.T) {
				ar := silent(tc.clientID)
				ar.RedirectURI = tc.redirect
				c := anon
				if tc.signedIn {
					c = step
				}
				wantNoMessage(t, testenv.Get(t, c, ar.URL(p.acme)))
				// Interactive requests are refused before the user signs in for nothing.
				ar.Extra.Del("prompt")
				wantNoMessage(t, testenv.Get(t, anon, ar.URL(p.acme)))
			})
		}

		t.Run("another tenant's session is no session", func(t *testing.T) {
			ar := silent(p.foreign.ClientID)
			ar.RedirectURI = appRedirect
			msg := wantWebMessage(t, testenv.Get(t, step, ar.URL(p.globex)), appOrigin)
			if msg.Response["error"] != "login_required" || msg.Response["iss"] != p.globex.Issuer {
				t.Errorf("globex answered a browser signed in to acme with %v, want login_required from globex", msg.Response)
			}
		})
	})
}

// httpsJar keeps and sends cookies as a browser on https would, while the test server speaks http.
type httpsJar struct{ http.CookieJar }

func asHTTPS(u *url.URL) *url.URL { v := *u; v.Scheme = "https"; return &v }

func (j httpsJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.CookieJar.SetCookies(asHTTPS(u), cs) }
func (j httpsJar) Cookies(u *url.URL) []*http.Cookie        { return j.CookieJar.Cookies(asHTTPS(u)) }

// TestSessionCookiesReachSameSiteIframes: silent authentication runs /authorize in an iframe of the app. When the
// app and the tenant domain are the same site (app.example.com and login.example.com), the browser sends
// SameSite=Lax cookies with that request, and a cookie for Path=/ reaches /authorize: so the session, flow and
// CSRF cookies are host-only, Path=/, HttpOnly and SameSite=Lax — never SameSite=None (which browsers refuse
// without Secure, and which would send them with every cross-site request), Secure exactly when the public
// scheme is https.
func TestSessionCookiesReachSameSiteIframes(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
				opts.Configure = func(c *config.Config) { c.PublicScheme = scheme }
				p := newProto(t, opts)
				jar, _ := cookiejar.New(nil)
				var j http.CookieJar = jar
				if scheme == "https" {
					j = httpsJar{jar}
				}
				c := p.env.Client(testenv.ClientOptions{Jar: j, NoRedirects: true})
				origin := scheme + "://" + p.acme.Host
				seen := map[string]*http.Cookie{}
				keep := func(r *testenv.Response) *testenv.Response {
					for _, ck := range r.Cookies() {
						seen[ck.Name] = ck
					}
					return r
				}

				ar := testenv.NewAuthRequest(p.spa.ClientID, appOrigin)
				login := keep(testenv.Get(t, c, ar.URL(p.acme))).Location(t)
				form := testenv.ParseForm(t, keep(testenv.Get(t, c, p.acme.URL(login.RequestURI()))).Body)
				form.Fields.Set("email", "alice@acme.test")
				form.Fields.Set("password", testenv.Password)
				r := keep(testenv.PostForm(t, c, p.acme.URL(form.Action), form.Fields, testenv.Header("Origin", origin)))
				if r.StatusCode != http.StatusSeeOther {
					t.Fatalf("sign-in: status %d\n%s", r.StatusCode, r.Body)
				}
				for _, name := range []string{"authio_session", "authio_flow", "authio_csrf"} {
					ck := seen[name]
					if ck == nil {
						t.Errorf("no %s cookie was set", name)
						continue
					}
					if ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.Secure != (scheme == "https") {
						t.Errorf("%s: SameSite=%v Path=%q Domain=%q HttpOnly=%v Secure=%v, want Lax, /, host-only, HttpOnly, Secure=%v",
							name, ck.SameSite, ck.Path, ck.Domain, ck.HttpOnly, ck.Secure, scheme == "https")
					}
				}

				// The iframe's request carries the session cookie: a silent request is answered with a code.
				if msg := wantWebMessage(t, testenv.Get(t, c, silent(p.spa.ClientID).URL(p.acme)), appOrigin); msg.Response["code"] == "" {
					t.Errorf("silent authentication with the session cookie: %v", msg.Response)
				}
			})
		})
	}
}
