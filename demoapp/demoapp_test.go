package demoapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/authio/authio/demoapp"
)

func serve(t *testing.T, c demoapp.Config) *httptest.Server {
	t.Helper()
	h, err := demoapp.New(c)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r, string(b)
}

// TestApp: the page at / and /callback, its assets and its configuration; nothing else; every answer with the
// security headers (a CSP that lets the page reach only itself and tenant hosts, no Referer).
func TestApp(t *testing.T) {
	cfg := demoapp.Config{Issuer: "http://demo.localhost:8080/", ClientID: "cli_demo", Audience: "https://api.demo.test",
		TenantHosts: ".localhost:8080"}
	s := serve(t, cfg)
	for _, tc := range []struct {
		name, method, path string
		status             int
		contentType, body  string
	}{
		{name: "page", method: "GET", path: "/", status: 200, contentType: "text/html", body: `<script src="/app.js"`},
		{name: "callback", method: "GET", path: "/callback?code=x&state=y", status: 200, contentType: "text/html", body: `id="sign-in"`},
		{name: "script", method: "GET", path: "/app.js", status: 200, contentType: "text/javascript", body: "code_challenge_method"},
		{name: "stylesheet", method: "GET", path: "/app.css", status: 200, contentType: "text/css", body: "body"},
		{name: "configuration", method: "GET", path: "/config.json", status: 200, contentType: "application/json", body: `"client_id":"cli_demo"`},
		{name: "index.html is no route", method: "GET", path: "/index.html", status: 404},
		{name: "unknown path", method: "GET", path: "/oauth/token", status: 404},
		{name: "POST", method: "POST", path: "/", status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := get(t, tc.method, s.URL+tc.path)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(body, tc.body) {
				t.Errorf("Content-Type %q, body %.200q; want %q containing %q", r.Header.Get("Content-Type"), body, tc.contentType, tc.body)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "connect-src 'self' http://*.localhost:8080;") || !strings.Contains(csp, "script-src 'self';") ||
				!strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", r.Header)
			}
		})
	}

	_, body := get(t, "GET", s.URL+"/config.json")
	var got demoapp.Config
	if err := json.Unmarshal([]byte(body), &got); err != nil || got != cfg {
		t.Errorf("config.json = %s (%v), want %+v", body, err, cfg)
	}
	if r, _ := get(t, "GET", s.URL+"/"); r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page may be cached: %q", r.Header.Get("Cache-Control"))
	}
}

// TestNoThirdPartyCode: the page loads nothing from elsewhere (no CDN, no framework), and the script writes no
// HTML from data: whatever a token or the tenant says reaches the page as text.
func TestNoThirdPartyCode(t *testing.T) {
	s := serve(t, demoapp.Config{Issuer: "http://demo.localhost/", ClientID: "c", TenantHosts: ".localhost"})
	_, page := get(t, "GET", s.URL+"/")
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
			t.Errorf("the page loads %q from elsewhere", m[1])
		}
	}
	_, script := get(t, "GET", s.URL+"/app.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage"} {
		if strings.Contains(script, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
