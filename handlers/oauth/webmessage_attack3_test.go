package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// frameAncestors returns the origins the page's CSP lets frame it.
func frameAncestors(r *testenv.Response) []string {
	for _, d := range strings.Split(r.Header.Get("Content-Security-Policy"), ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "frame-ancestors" {
			return f[1:]
		}
	}
	return nil
}

var anyScriptRE = regexp.MustCompile(`(?i)<\s*/?\s*script`)

// TestWebMessageAttack3: an attacker who controls a page on some origin tries to get the authorization response of
// a web_message request delivered to it. The client registered several redirect URIs on several origins but only
// one web origin; whatever redirect URI the attacker picks, the message goes to that web origin or nowhere, the page
// may be framed by the client's own web origins only (never another client's or another tenant's), and nothing in
// the request's state, scope or error can add markup or script to the page.
func TestWebMessageAttack3(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		_, step := p.browser(t)
		anon := p.env.Client(testenv.ClientOptions{NoRedirects: true})

		// multi has redirect URIs on many origins, and one web origin: https://app.acme.test.
		multi := p.acme.NewClient(directory.ClientSpec{Name: "multi", Type: storage.ClientPublic, RedirectURIs: []string{
			appOrigin, "http://app.acme.test", "https://app.acme.test:8443", "https://app.acme.test.evil.example",
			"https://evil.example@app.acme.test/cb", "https://APP.ACME.TEST/upper", "https://app.acme.test:443/port",
			"https://sub.app.acme.test", "https://xn--pple-43d.acme.test", "https://127.0.0.1/cb", "http://[::1]:3000/cb",
			"com.acme.app:/callback", "https://app.acme.test./dot",
		}, WebOrigins: []string{appOrigin}, OrganizationUsage: storage.OrgUsageAllow})
		// Another client of acme and globex's client register the attacker's origins as web origins.
		p.acme.NewClient(directory.ClientSpec{Name: "evil-neighbour", Type: storage.ClientPublic,
			RedirectURIs: []string{"https://evil.acme.test"}, WebOrigins: []string{"https://evil.acme.test", "http://app.acme.test"}})
		p.globex.NewClient(directory.ClientSpec{Name: "globex-evil", Type: storage.ClientPublic,
			RedirectURIs: []string{"https://app.acme.test:8443"}, WebOrigins: []string{"https://app.acme.test:8443"}})

		for _, tc := range []struct {
			name, redirect string
			// deliver is the origin the message may go to; "" means the error page.
			deliver string
		}{
			{"the web origin itself", appOrigin, appOrigin},
			{"http instead of https", "http://app.acme.test", ""},
			{"another port", "https://app.acme.test:8443", ""},
			{"a suffix host", "https://app.acme.test.evil.example", ""},
			{"a subdomain", "https://sub.app.acme.test", ""},
			{"a punycode look-alike", "https://xn--pple-43d.acme.test", ""},
			{"an IP literal", "https://127.0.0.1/cb", ""},
			{"an IPv6 loopback with a port", "http://[::1]:3000/cb", ""},
			{"a custom scheme", "com.acme.app:/callback", ""},
			{"a trailing-dot host (another origin to a browser)", "https://app.acme.test./dot", ""},
			// These are the web origin to a browser as well: the message may go there, and only there.
			{"userinfo before the host", "https://evil.example@app.acme.test/cb", appOrigin},
			{"upper-case host", "https://APP.ACME.TEST/upper", appOrigin},
			{"the default port spelled out", "https://app.acme.test:443/port", appOrigin},
		} {
			for _, signedIn := range []bool{true, false} {
				name := tc.name + ", signed out"
				c := anon
				if signedIn {
					name, c = tc.name+", signed in", step
				}
				t.Run(name, func(t *testing.T) {
					ar := silent(multi.ClientID)
					ar.RedirectURI = tc.redirect
					r := testenv.Get(t, c, ar.URL(p.acme))
					if tc.deliver == "" {
						wantNoMessage(t, r)
						if strings.Contains(r.Body, "code=") || strings.Contains(r.Header.Get("Location"), "code=") {
							t.Errorf("a code leaked: %s %s", r.Header.Get("Location"), r.Body)
						}
						return
					}
					msg := wantWebMessage(t, r, tc.deliver)
					if msg.TargetOrigin != tc.deliver {
						t.Errorf("targetOrigin %q, want %q", msg.TargetOrigin, tc.deliver)
					}
					if fa := frameAncestors(r); len(fa) != 1 || fa[0] != appOrigin {
						t.Errorf("frame-ancestors %v, want only %s", fa, appOrigin)
					}
				})
			}
		}

		t.Run("frame-ancestors never lists another client's or tenant's web origin", func(t *testing.T) {
			r := testenv.Get(t, step, silent(p.spa.ClientID).URL(p.acme))
			wantWebMessage(t, r, appOrigin)
			for _, o := range frameAncestors(r) {
				if o != appOrigin {
					t.Errorf("frame-ancestors lists %q (spa registered only %s)", o, appOrigin)
				}
			}
			if r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("the page is readable cross-origin: ACAO %q", r.Header.Get("Access-Control-Allow-Origin"))
			}
		})

		t.Run("a null or wildcard origin is never a target", func(t *testing.T) {
			for _, o := range []string{"null", "*", "https://*.acme.test", "file://"} {
				_, err := p.env.S.CreateClient(p.acme.Ctx, directory.ClientSpec{Name: "bad-origin", Type: storage.ClientPublic,
					RedirectURIs: []string{appOrigin}, WebOrigins: []string{o}})
				if err == nil && o != "https://*.acme.test" {
					t.Errorf("web origin %q was accepted", o)
				}
			}
		})

		for _, state := range []string{
			"\u2028\u2029</script><script>alert(1)</script>",
			"</SCRIPT ><img src=x onerror=alert(1)>",
			"<!--<script>",
			"'\"\\`${alert(1)}`",
			"]]></script>",
			"\x3c/script\x3e",
		} {
			t.Run("state stays data: "+strings.ToValidUTF8(state[:min(len(state), 12)], "?"), func(t *testing.T) {
				ar := silent(p.spa.ClientID)
				ar.State = state
				r := testenv.Get(t, step, ar.URL(p.acme))
				msg := wantWebMessage(t, r, appOrigin)
				if msg.Response["state"] != state {
					t.Errorf("state %q came back as %q", state, msg.Response["state"])
				}
				if n := len(anyScriptRE.FindAllString(r.Body, -1)); n != 2 {
					t.Errorf("%d script tags (opening and closing) in the page, want 2:\n%s", n, r.Body)
				}
				if strings.ContainsAny(r.Body, "\u2028\u2029") || strings.Contains(r.Body, "<img") || strings.Contains(r.Body, "<!--") {
					t.Errorf("raw state characters reached the page:\n%s", r.Body)
				}
			})
		}

		t.Run("an error description echoing the request stays data", func(t *testing.T) {
			ar := silent(p.spa.ClientID)
			ar.Extra.Set("scope", "openid </script><script>alert(1)</script>")
			r := testenv.Get(t, step, ar.URL(p.acme))
			msg := wantWebMessage(t, r, appOrigin)
			if msg.Response["error"] == "" {
				t.Fatalf("want an error, got %v", msg.Response)
			}
			if n := len(anyScriptRE.FindAllString(r.Body, -1)); n != 2 {
				t.Errorf("%d script tags in the page, want 2:\n%s", n, r.Body)
			}
		})

		t.Run("prompt=none tells nothing about who exists", func(t *testing.T) {
			answer := func(c *http.Client, hint string) map[string]string {
				ar := silent(p.spa.ClientID)
				ar.State = "fixed-state-value"
				ar.Extra.Set("login_hint", hint)
				msg := wantWebMessage(t, testenv.Get(t, c, ar.URL(p.acme)), appOrigin)
				return msg.Response
			}
			p.acme.NewUser("bob@acme.test")
			for _, c := range []*http.Client{anon} {
				known, unknown := answer(c, "bob@acme.test"), answer(c, "nobody@acme.test")
				kb, _ := json.Marshal(known)
				ub, _ := json.Marshal(unknown)
				if string(kb) != string(ub) {
					t.Errorf("prompt=none answers differ for an existing and a missing user:\n%s\n%s", kb, ub)
				}
			}
		})

		t.Run("a web origin of globex does not make acme post to it", func(t *testing.T) {
			ar := silent(multi.ClientID)
			ar.RedirectURI = "https://app.acme.test:8443"
			wantNoMessage(t, testenv.Get(t, step, ar.URL(p.acme)))
			// globex's client at acme's host: unknown client, the error page.
			q := url.Values{}
			for k, v := range ar.Query() {
				q[k] = v
			}
			q.Set("client_id", p.foreign.ClientID)
			q.Set("redirect_uri", appRedirect)
			wantNoMessage(t, testenv.Get(t, step, p.acme.URL("/authorize?"+q.Encode())))
		})
	})
}
