// Command signinbench drives full hosted password sign-ins against a running Authio server, as many at once as
// -c says, for -d, and prints the rate of completed sign-ins (scripts/bench.sh, scenario signin; BENCHMARKS.md).
//
// One sign-in is what a browser does, each with its own cookies: GET /authorize (PKCE S256) → 302 to
// /login?state=<flow>; GET /login (the email step: CSRF token); POST /login step=identify with the email → 303
// back to /login; GET /login (the methods step: the password form); POST /login with the password → 303 to
// /authorize/resume → 302 to the redirect URI with a code; POST /oauth/token with the code and verifier → 200
// with tokens. A sign-in counts when the token endpoint answers 200 with an access token; anything else is an
// error (the first one is printed).
//
// Its last line is machine-readable, as bench.lua's:
//
//	BENCH_RESULT scenario=signin conns=C requests=N duration_s=D rps=R p50_ms=… p99_ms=… errors=E
//
// where requests counts completed sign-ins and the latencies are those of a whole sign-in.
//
// The hash of the password is the work a sign-in cannot avoid; hash_test.go measures the machine's raw rate at
// the configured bcrypt cost, the bound to compare with.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signinbench:", err)
		os.Exit(1)
	}
}

type options struct {
	issuer, client, redirect, email, password string
	conns                                     int
	duration                                  time.Duration
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("signinbench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.issuer, "issuer", "", "the tenant's base URL, e.g. http://si.localhost:19080 (required)")
	fs.StringVar(&o.client, "client", "", "a public client's id with -redirect registered (required)")
	fs.StringVar(&o.redirect, "redirect", "", "its redirect URI (never followed) (required)")
	fs.StringVar(&o.email, "email", "", "the user's email (required)")
	fs.StringVar(&o.password, "password", "", "the user's password (required)")
	fs.IntVar(&o.conns, "c", 4, "sign-ins in flight at once")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "how long to run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for name, v := range map[string]string{"issuer": o.issuer, "client": o.client, "redirect": o.redirect, "email": o.email, "password": o.password} {
		if v == "" {
			return fmt.Errorf("-%s is required", name)
		}
	}
	o.issuer = strings.TrimRight(o.issuer, "/")
	// Every host of the issuer resolves to loopback (*.localhost), whatever the system resolver says.
	u, err := url.Parse(o.issuer)
	if err != nil {
		return fmt.Errorf("-issuer: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
		MaxIdleConnsPerHost: o.conns * 2,
	}
	// One warm-up sign-in: a setup problem shows as its error, not as a rate of zero.
	if _, err := signIn(context.Background(), transport, o); err != nil {
		return fmt.Errorf("warm-up sign-in: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	start := time.Now()
	for i := 0; i < o.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				d, err := signIn(ctx, transport, o)
				if ctx.Err() != nil {
					return // cut off by the end of the run: neither a sign-in nor an error
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(out, "first error: %s\n", e)
	}
	fmt.Fprintf(out, "BENCH_RESULT scenario=signin conns=%d requests=%d duration_s=%.2f rps=%.1f p50_ms=%.1f p99_ms=%.1f errors=%d\n",
		o.conns, len(latencies), elapsed, float64(len(latencies))/elapsed, pct(0.50), pct(0.99), errs.Load())
	return nil
}

var (
	csrfRE  = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	stateRE = regexp.MustCompile(`name="state" value="([^"]*)"`)
)

// signIn runs one whole sign-in in a fresh cookie jar and returns how long it took.
func signIn(ctx context.Context, transport http.RoundTripper, o options) (time.Duration, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t0 := time.Now()
	verifier := random(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {o.client}, "redirect_uri": {o.redirect}, "scope": {"openid"},
		"state": {random(12)}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	loc, _, err := step(ctx, c, http.MethodGet, o.issuer+"/authorize?"+q.Encode(), nil, http.StatusFound)
	if err != nil {
		return 0, fmt.Errorf("authorize: %w", err)
	}
	_, page, err := step(ctx, c, http.MethodGet, o.issuer+loc, nil, http.StatusOK)
	if err != nil {
		return 0, fmt.Errorf("email step: %w", err)
	}
	form, err := formOf(page)
	if err != nil {
		return 0, fmt.Errorf("email step: %w", err)
	}
	form.Set("step", "identify")
	form.Set("email", o.email)
	loc, _, err = step(ctx, c, http.MethodPost, o.issuer+"/login", form, http.StatusSeeOther)
	if err != nil {
		return 0, fmt.Errorf("posting the email: %w", err)
	}
	_, page, err = step(ctx, c, http.MethodGet, o.issuer+loc, nil, http.StatusOK)
	if err != nil {
		return 0, fmt.Errorf("methods step: %w", err)
	}
	if !strings.Contains(page, `name="password"`) {
		return 0, errors.New("methods step: no password form")
	}
	form, err = formOf(page)
	if err != nil {
		return 0, fmt.Errorf("methods step: %w", err)
	}
	form.Set("email", o.email)
	form.Set("password", o.password)
	loc, _, err = step(ctx, c, http.MethodPost, o.issuer+"/login", form, http.StatusSeeOther)
	if err != nil {
		return 0, fmt.Errorf("posting the password: %w", err)
	}
	loc, _, err = step(ctx, c, http.MethodGet, o.issuer+loc, nil, http.StatusFound)
	if err != nil {
		return 0, fmt.Errorf("resume: %w", err)
	}
	cb, err := url.Parse(loc)
	if err != nil || cb.Query().Get("code") == "" {
		return 0, fmt.Errorf("resume: no code in %q", loc)
	}
	tok := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {o.redirect},
		"client_id": {o.client}, "code_verifier": {verifier}}
	_, body, err := step(ctx, c, http.MethodPost, o.issuer+"/oauth/token", tok, http.StatusOK)
	if err != nil {
		return 0, fmt.Errorf("token: %w", err)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal([]byte(body), &t) != nil || t.AccessToken == "" {
		return 0, errors.New("token: no access token")
	}
	return time.Since(t0), nil
}

// step sends one request (a form body when form is not nil, with the issuer's Origin) and wants status (any
// redirect when want is one); it returns the Location (path and query when same-site) and the body.
func step(ctx context.Context, c *http.Client, method, target string, form url.Values, want int) (string, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	redirects := want/100 == 3 && resp.StatusCode/100 == 3 // 302 or 303: either is a redirect to follow
	if resp.StatusCode != want && !redirects {
		return "", "", fmt.Errorf("%s %s: status %d, want %d: %.200s", method, req.URL.Path, resp.StatusCode, want, b)
	}
	loc := resp.Header.Get("Location")
	if u, err := url.Parse(loc); err == nil && (u.Host == "" || u.Host == req.URL.Host) && u.Path != "" && !strings.HasPrefix(loc, "http") {
		loc = u.RequestURI()
	}
	return loc, string(b), nil
}

// formOf reads the CSRF token and the flow id from a sign-in page.
func formOf(page string) (url.Values, error) {
	m := csrfRE.FindStringSubmatch(page)
	s := stateRE.FindStringSubmatch(page)
	if m == nil || s == nil {
		return nil, errors.New("no csrf_token or state in the page")
	}
	return url.Values{"csrf_token": {html.UnescapeString(m[1])}, "state": {html.UnescapeString(s[1])}}, nil
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
