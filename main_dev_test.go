package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// devServer is `authio serve --dev` running in-process on its own port over c's database.
type devServer struct {
	port   string
	stdout string
	hc     *http.Client // dials the server whatever the URL's host
}

// startDev runs serve --dev on port until the test (or stop) ends it. The secret key comes from the environment,
// so nothing is written to the working directory.
func startDev(t *testing.T, c *cli, port string) (*devServer, func()) {
	t.Helper()
	addr := "127.0.0.1:" + port
	env := append(append([]string{}, c.environ...), "AUTHIO_LISTEN="+addr, "AUTHIO_PASSWORD_COST=4")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--dev"}, env, &stdout, &stderr) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve --dev: %v\n%s", err, stderr.String())
		}
	}
	hc := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve --dev exited: %v\n%s", err, stderr.String())
		default:
		}
		if r, err := hc.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("serve --dev did not listen within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The banner is written before the listener starts.
	return &devServer{port: port, stdout: stdout.String(), hc: hc}, stop
}

// get fetches rawURL with extra headers and returns the status and the decoded JSON body (nil if not JSON).
func (d *devServer) do(t *testing.T, method, rawURL string, headers map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	r, err := d.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return r, m
}

// demoState is what the demo tenant holds, in a form two runs can be compared by.
type demoState struct {
	Clients     []string // name redirect-uri
	Orgs        []string // name
	Memberships []string // org:status:roles
	Roles       []string
	APIs        []string
}

func readDemoState(t *testing.T, c *cli) (demoState, storage.Client, string) {
	t.Helper()
	st, err := storage.Open(c.dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	ten, err := st.GetTenant(ctx, "demo")
	if err != nil {
		t.Fatalf("demo tenant: %v", err)
	}
	tctx := storage.WithTenant(ctx, ten.ID)
	var s demoState
	var app storage.Client
	clients, err := st.ListClients(tctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range clients {
		s.Clients = append(s.Clients, cl.ID+" "+cl.Name+" "+strings.Join(cl.RedirectURIs, ","))
		if cl.Name == demoAppClient {
			app = cl
		}
	}
	u, err := st.GetUserByEmail(tctx, demoEmail)
	if err != nil {
		t.Fatalf("demo user: %v", err)
	}
	ms, err := st.ListUserMembershipsWithRoles(tctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		s.Orgs = append(s.Orgs, m.OrganizationName)
		s.Memberships = append(s.Memberships, m.OrganizationName+":"+m.Status+":"+strings.Join(m.Roles, ","))
	}
	roles, _, err := st.ListRoles(tctx, storage.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		s.Roles = append(s.Roles, r.Name)
	}
	rss, _, err := st.ListResourceServers(tctx, storage.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss {
		s.APIs = append(s.APIs, rs.Identifier)
	}
	for _, l := range [][]string{s.Clients, s.Orgs, s.Memberships, s.Roles, s.APIs} {
		sort.Strings(l)
	}
	return s, app, u.ID
}

// TestServeDevDemoApp: serve --dev sets up the demo tenant for the demo app (two organizations with the demo user
// in both, the app's public client with its origin as web origin) and serves the app on app.localhost:<port>;
// running it again creates nothing more; an unknown host's 404 lists the tenant hosts; the app's client and
// origin mean nothing on another tenant.
func TestServeDevDemoApp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	d, stop := startDev(t, c, testenv.FreePort(t))
	appOrigin := "http://app.localhost:" + d.port
	issuer := "http://demo.localhost:" + d.port + "/"

	for _, want := range []string{"Demo app      " + appOrigin + "/", "Demo user     demo@demo.test / demo-password",
		"Acme Corp (admin), Globex Inc (member)"} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("serve --dev printed no %q:\n%s", want, d.stdout)
		}
	}
	clientID := regexp.MustCompile(`Clients +(cli_\S+) \(the demo app`).FindStringSubmatch(d.stdout)
	if clientID == nil {
		t.Fatalf("no demo app client in:\n%s", d.stdout)
	}

	t.Run("the app and its configuration on its own host", func(t *testing.T) {
		r, cfg := d.do(t, http.MethodGet, appOrigin+"/config.json", nil)
		if r.StatusCode != http.StatusOK || cfg["issuer"] != issuer || cfg["client_id"] != clientID[1] ||
			cfg["audience"] != demoAPI || cfg["tenant_hosts"] != ".localhost:"+d.port {
			t.Errorf("config.json: %d %v", r.StatusCode, cfg)
		}
		for _, p := range []string{"/", "/callback", "/app.js"} {
			if r, _ := d.do(t, http.MethodGet, appOrigin+p, nil); r.StatusCode != http.StatusOK {
				t.Errorf("GET %s on the app host: %d", p, r.StatusCode)
			}
		}
		// The app's host is no tenant: tenant paths are not served there.
		if r, _ := d.do(t, http.MethodGet, appOrigin+"/.well-known/openid-configuration", nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("discovery on the app host: %d, want 404", r.StatusCode)
		}
	})

	t.Run("the demo tenant lets the app's origin call it", func(t *testing.T) {
		for _, p := range []string{"/oauth/token", "/v1/me/memberships", "/v1/sessions/switch-org"} {
			r, _ := d.do(t, http.MethodOptions, issuer[:len(issuer)-1]+p, map[string]string{"Origin": appOrigin,
				"Access-Control-Request-Method": "POST"})
			if r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != appOrigin {
				t.Errorf("preflight %s from the app: %d, allow-origin %q", p, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})

	t.Run("unknown host: 404 naming the tenant hosts", func(t *testing.T) {
		r, body := d.do(t, http.MethodGet, "http://nope.localhost:"+d.port+"/.well-known/openid-configuration", nil)
		hosts, _ := body["hosts"].([]any)
		if r.StatusCode != http.StatusNotFound || body["error"] != "not_found" || !slices.Contains(hosts, any("demo.localhost:"+d.port)) ||
			!strings.Contains(body["error_description"].(string), "app.localhost:"+d.port) {
			t.Errorf("unknown host: %d %v", r.StatusCode, body)
		}
	})

	first, app, userID := readDemoState(t, c)
	t.Run("what the demo tenant holds", func(t *testing.T) {
		if want := []string{"acme:active:admin", "globex:active:member"}; !slices.Equal(first.Memberships, want) {
			t.Errorf("demo user's memberships %v, want %v", first.Memberships, want)
		}
		if !slices.Equal(first.Roles, []string{"admin", "member"}) || !slices.Equal(first.APIs, []string{demoAPI}) {
			t.Errorf("roles %v, APIs %v", first.Roles, first.APIs)
		}
		if app.ID != clientID[1] || app.Type != storage.ClientPublic || app.SecretHash != "" || !slices.Equal([]string(app.RedirectURIs), []string{appOrigin + "/callback"}) ||
			!slices.Equal([]string(app.PostLogoutRedirectURIs), []string{appOrigin + "/"}) ||
			!slices.Equal([]string(app.WebOrigins), []string{appOrigin}) || app.OrganizationUsage != storage.OrgUsageRequire ||
			!slices.Contains([]string(app.GrantTypes), "refresh_token") || !slices.Contains([]string(app.Audiences), demoAPI) {
			t.Errorf("demo app client = %+v", app)
		}
	})
	stop()

	// An operator's change (a suspended membership) survives the next start, and nothing is added twice.
	st, err := storage.Open(c.dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ten, _ := st.GetTenant(context.Background(), "demo")
	tctx := storage.WithTenant(context.Background(), ten.ID)
	_, m, _, err := st.OrganizationMembership(tctx, "globex", userID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateMembership(tctx, m.ID, func(m storage.Membership) (storage.Membership, error) {
		m.Status = storage.MembershipSuspended
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	d2, stop2 := startDev(t, c, d.port) // the demo app's origin, and so its client, depend on the port
	defer stop2()
	again, _, _ := readDemoState(t, c)
	first.Memberships[1] = "globex:suspended:member"
	if !slices.Equal(again.Clients, first.Clients) || !slices.Equal(again.Orgs, first.Orgs) || !slices.Equal(again.Memberships, first.Memberships) ||
		!slices.Equal(again.Roles, first.Roles) || !slices.Equal(again.APIs, first.APIs) {
		t.Errorf("second serve --dev changed the demo tenant:\nfirst  %+v\nsecond %+v", first, again)
	}
	if !strings.Contains(d2.stdout, clientID[1]) {
		t.Errorf("second start prints another client:\n%s", d2.stdout)
	}

	t.Run("cross-tenant: the app's client and origin mean nothing on another tenant", func(t *testing.T) {
		c.ok("tenant", "create", "--slug", "other")
		other := "http://other.localhost:" + d2.port
		r, _ := d2.do(t, http.MethodOptions, other+"/oauth/token", map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST"})
		if r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from the demo app on another tenant: %d, allow-origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
		r, _ = d2.do(t, http.MethodGet, other+"/authorize?response_type=code&client_id="+clientID[1]+
			"&redirect_uri="+appOrigin+"/callback&scope=openid&state=abcdefghij&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", nil)
		// An unknown client: an error page, never a redirect to the (unverifiable) redirect URI.
		if r.StatusCode < 400 || r.Header.Get("Location") != "" {
			t.Errorf("another tenant's /authorize with the demo app's client: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
}
