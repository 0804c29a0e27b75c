package oidf

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
)

// response is one HTTP exchange as the test RP or its browser saw it.
type response struct {
	Method string
	URL    *url.URL // the https URL requested
	Status int
	Header http.Header
	Body   string
}

// browser is the user agent of a module: one cookie jar (a fresh browser profile, as the suite asks the tester
// to clear the OP's cookies), redirects followed on the OP's host only, and a record of every exchange so a
// failing module shows what was sent and what came back (OIDF_TRACE=1 shows it for passing modules too).
type browser struct {
	t   *testing.T
	op  *op
	c   *http.Client
	log []string
}

func newBrowser(t *testing.T, p *op) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, op: p}
	b.c = &http.Client{Jar: jar, Transport: p.transport(t), Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("OIDF_TRACE") != "" {
			t.Logf("HTTP exchanges of this module, in order:\n%s", strings.Join(b.log, "\n"))
		}
	})
	return b
}

// do sends req and reads the whole response. A transport error stops the module: the OP did not answer.
func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	var sent string
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			raw, _ := io.ReadAll(rc)
			sent = " body=" + string(raw)
		}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.log = append(b.log, fmt.Sprintf("%s %s%s -> transport error %v", req.Method, req.URL, sent, err))
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	r := &response{Method: req.Method, URL: req.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	entry := fmt.Sprintf("%s %s%s\n    -> %d", req.Method, req.URL, sent, r.Status)
	if loc := resp.Header.Get("Location"); loc != "" {
		entry += " Location: " + loc
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		entry += " Content-Type: " + ct
	}
	if r.Status >= 400 || strings.Contains(resp.Header.Get("Content-Type"), "json") {
		entry += "\n    " + abbreviate(r.Body, 600)
	}
	b.log = append(b.log, entry)
	return r
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// request builds a request; a non-nil body is sent as application/x-www-form-urlencoded.
func (b *browser) request(method, rawURL string, body *string, header http.Header) *http.Request {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(*body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		b.t.Fatalf("new request %s %s: %v", method, rawURL, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// form encodes v as a request body.
func form(v url.Values) *string {
	s := v.Encode()
	return &s
}

// landing is where a navigation ended: a page the OP rendered, or a redirect that leaves the OP (to the RP).
type landing struct {
	Page     *response // the last response
	Redirect *url.URL  // non-nil when the OP sent the browser to another site
}

func (l landing) String() string {
	if l.Redirect != nil {
		return "redirect to " + l.Redirect.String()
	}
	return fmt.Sprintf("a page from the OP (status %d at %s)", l.Page.Status, l.Page.URL)
}

// navigate opens rawURL (with body, when not nil, as a form body) and follows redirects on the OP's host, as a
// browser does, until a page or a redirect that leaves the OP.
func (b *browser) navigate(method, rawURL string, body *string, header http.Header) landing {
	b.t.Helper()
	req := b.request(method, rawURL, body, header)
	for range 20 {
		r := b.do(req)
		if r.Status < 300 || r.Status > 399 {
			return landing{Page: r}
		}
		loc, err := r.URL.Parse(r.Header.Get("Location"))
		if err != nil || r.Header.Get("Location") == "" {
			b.t.Fatalf("%s %s: status %d with an unusable Location %q", r.Method, r.URL, r.Status, r.Header.Get("Location"))
		}
		if !b.op.isOP(loc.Host) || loc.Scheme != "https" {
			return landing{Page: r, Redirect: loc}
		}
		req = b.request(http.MethodGet, loc.String(), nil, nil)
	}
	b.t.Fatalf("more than 20 redirects from %s", rawURL)
	return landing{}
}

// get navigates to rawURL.
func (b *browser) get(rawURL string) landing {
	b.t.Helper()
	return b.navigate(http.MethodGet, rawURL, nil, nil)
}

var (
	passwordInputRE = regexp.MustCompile(`(?is)<input\b[^>]*\bname\s*=\s*"password"`)
	identifyStepRE  = regexp.MustCompile(`(?is)<input\b[^>]*\bname\s*=\s*"step"\s+value\s*=\s*"identify"`)
	signingInAsRE   = regexp.MustCompile(`<strong id="signing-in-as">([^<]*)</strong>`)
)

// isLoginPage reports whether l is the hosted sign-in page: its email step, or the methods step's password form.
func isLoginPage(l landing) bool {
	return l.Redirect == nil && l.Page.Status == http.StatusOK &&
		(passwordInputRE.MatchString(l.Page.Body) || identifyStepRE.MatchString(l.Page.Body))
}

// hasForm reports whether l is a page with a form posting to path.
func hasForm(l landing, path string) bool {
	if l.Redirect != nil {
		return false
	}
	m := formActionRE.FindStringSubmatch(l.Page.Body)
	return m != nil && html.UnescapeString(m[1]) == path
}

var formActionRE = regexp.MustCompile(`(?is)<form\b[^>]*\baction\s*=\s*"([^"]*)"`)

// submit posts a form of the page l as a browser does: its fields with set merged in, Origin and Referer of
// the OP (the page's own origin).
func (b *browser) submit(l landing, set url.Values) landing {
	b.t.Helper()
	return b.submitForm(l, testenv.ParseForm(b.t, l.Page.Body), set)
}

// submitForm posts form f of the page l, as submit does.
func (b *browser) submitForm(l landing, f testenv.Form, set url.Values) landing {
	b.t.Helper()
	v := url.Values{}
	for k, vs := range f.Fields {
		v[k] = append([]string(nil), vs...)
	}
	for k, vs := range set {
		v[k] = vs
	}
	action, err := l.Page.URL.Parse(f.Action)
	if err != nil || f.Action == "" {
		b.t.Fatalf("form action %q: %v", f.Action, err)
	}
	h := http.Header{}
	h.Set("Origin", "https://"+b.op.host)
	h.Set("Referer", l.Page.URL.String())
	return b.navigate(http.MethodPost, action.String(), form(v), h)
}

// signIn fills the hosted sign-in form of l with the test user's credentials, as the suite's browser automation
// does, and returns where that leads.
//
// The page is email first: the email step's form takes the email, and the methods step it leads to the password.
func (b *browser) signIn(l landing) landing {
	b.t.Helper()
	// A login_hint naming someone else (the suite hints an address of its own): "Not you?", as a person would.
	if m := signingInAsRE.FindStringSubmatch(l.Page.Body); m != nil && html.UnescapeString(m[1]) != b.op.email {
		l = b.submitForm(l, testenv.ParseFormWith(b.t, l.Page.Body, "step"), nil)
		if l.Redirect != nil || l.Page.Status != http.StatusOK {
			return l
		}
	}
	if identifyStepRE.MatchString(l.Page.Body) {
		l = b.submitForm(l, testenv.ParseFormWith(b.t, l.Page.Body, "step"), url.Values{"email": {b.op.email}})
		if l.Redirect != nil || l.Page.Status != http.StatusOK || !passwordInputRE.MatchString(l.Page.Body) {
			return l
		}
	}
	return b.submitForm(l, testenv.ParseFormWith(b.t, l.Page.Body, "password"), url.Values{"password": {b.op.password}})
}
