package testenv

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ClientOptions shape an HTTP client made by Env.Client.
type ClientOptions struct {
	Jar http.CookieJar // nil: a fresh jar (a fresh browser profile)
	// StopAt lists URL prefixes (client redirect URIs) at which the client stops following redirects, so the
	// test reads the code from the Location header. Redirects that leave the *.localhost tenant hosts stop too.
	StopAt []string
	// NoRedirects returns every redirect to the caller.
	NoRedirects bool
	// SourceIP is the loopback address requests come from (e.g. "127.0.0.2"), so throttling per IP can be
	// told apart from throttling per account. Empty: the system's choice (127.0.0.1).
	SourceIP string
}

// Client returns an HTTP client that reaches this server whatever host name a URL carries, with a cookie jar
// and a redirect policy like a browser's that stops at the application's redirect URI.
func (e *Env) Client(o ClientOptions) *http.Client {
	jar := o.Jar
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if o.SourceIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.SourceIP)}
	}
	addr := e.Addr
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		MaxIdleConnsPerHost: 4,
		// Requests never leave the machine: https URLs (client redirect URIs) are never fetched.
	}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Jar:       jar,
		Transport: tr,
		Timeout:   2 * time.Minute, // bcrypt under -race is slow
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if o.NoRedirects || len(via) >= 20 {
				return http.ErrUseLastResponse
			}
			u := req.URL.String()
			for _, p := range o.StopAt {
				if strings.HasPrefix(u, p) {
					return http.ErrUseLastResponse
				}
			}
			if !strings.HasSuffix(req.URL.Hostname(), ".localhost") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// Response is an HTTP response with its body read.
type Response struct {
	*http.Response
	Body string
}

// JSON decodes the body as a JSON object.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", r.Request.Method, r.Request.URL, err, r.Body)
	}
	return m
}

// Location parses the Location header; it fails the test when there is none.
func (r *Response) Location(t testing.TB) *url.URL {
	t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		t.Fatalf("%s %s: status %d without a Location header\n%s", r.Request.Method, r.Request.URL, r.StatusCode, r.Body)
	}
	u, err := r.Request.URL.Parse(loc)
	if err != nil {
		t.Fatalf("bad Location %q: %v", loc, err)
	}
	return u
}

// RequestOption changes a request before it is sent.
type RequestOption func(*http.Request)

// Header sets a request header.
func Header(k, v string) RequestOption { return func(r *http.Request) { r.Header.Set(k, v) } }

// BasicAuth sets client_secret_basic credentials (RFC 6749 section 2.3.1 form-encodes both parts).
func BasicAuth(id, secret string) RequestOption {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

// Bearer sets an access token.
func Bearer(token string) RequestOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Do sends a request and reads the whole body.
func Do(t testing.TB, c *http.Client, method, rawURL string, body io.Reader, opts ...RequestOption) *Response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, rawURL, err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, rawURL, err)
	}
	return &Response{Response: resp, Body: string(b)}
}

// Get sends a GET.
func Get(t testing.TB, c *http.Client, rawURL string, opts ...RequestOption) *Response {
	t.Helper()
	return Do(t, c, http.MethodGet, rawURL, nil, opts...)
}

// PostForm sends an application/x-www-form-urlencoded POST.
func PostForm(t testing.TB, c *http.Client, rawURL string, form url.Values, opts ...RequestOption) *Response {
	t.Helper()
	opts = append([]RequestOption{Header("Content-Type", "application/x-www-form-urlencoded")}, opts...)
	return Do(t, c, http.MethodPost, rawURL, strings.NewReader(form.Encode()), opts...)
}

// Cookie returns the value of the named cookie the jar holds for rawURL, or "".
func Cookie(c *http.Client, rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// RoundTrip sends req through c's transport and cookie jar without the client's redirect handling, for
// responses whose Location a Go client refuses to parse but a browser would follow.
func RoundTrip(t testing.TB, c *http.Client, req *http.Request) *Response {
	t.Helper()
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := c.Transport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if rc := resp.Cookies(); len(rc) > 0 {
		c.Jar.SetCookies(req.URL, rc)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	resp.Request = req
	return &Response{Response: resp, Body: string(b)}
}
