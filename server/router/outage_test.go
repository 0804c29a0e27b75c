package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// A database outage on a token path is a 5xx that says so, in each surface's error shape, with an error-level
// log line carrying the request id and the underlying error — never invalid_client, invalid_grant, an inactive
// token, a 401 or "the client does not exist". The same scenario runs on SQLite (the store closed under the
// running server) and on a private Postgres cluster stopped with pg_ctl stop -m immediate and started again.

// logRecorder is a slog.Handler that keeps every record, so a test can ask what was logged for a request.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

type recorderHandler struct {
	rec   *logRecorder
	attrs []slog.Attr
}

func (h recorderHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recorderHandler) Handle(_ context.Context, r slog.Record) error {
	lr := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		lr.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		return true
	})
	h.rec.mu.Lock()
	h.rec.records = append(h.rec.records, lr)
	h.rec.mu.Unlock()
	return nil
}

func (h recorderHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recorderHandler{rec: h.rec, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h recorderHandler) WithGroup(string) slog.Handler { return h }

// forRequest returns the records logged at level or above with the request id id.
func (l *logRecorder) forRequest(id string, level slog.Level) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range l.records {
		if r.level >= level && r.attrs["request_id"] == id {
			out = append(out, r)
		}
	}
	return out
}

// outage is a running server with everything a token path needs, obtained while the database was up.
type outage struct {
	env     *testenv.Env
	acme    *testenv.Tenant
	logs    *logRecorder
	org     storage.Organization
	spa     directory.CreatedClient // public: code flow, refresh, token exchange, organizations allowed
	svc     directory.CreatedClient // confidential: client credentials for the Management API
	apiKey  string
	browser *http.Client // signed in as alice
	user    testenv.Tokens
	code    string // an authorization code not yet redeemed
	codeReq *testenv.AuthRequest
	mgmt    string // svc's client-credentials token for the Management API
}

func newOutage(t *testing.T, o testenv.Options) *outage {
	t.Helper()
	logs := &logRecorder{}
	o.Logger = slog.New(recorderHandler{rec: logs})
	env := testenv.New(t, o)
	acme := env.NewTenant("acme")
	alice := acme.NewUser("alice@acme.test")
	now := time.Now().UTC()
	org := storage.Organization{ID: ids.New("org"), Name: "acme-corp", DisplayName: "Acme Corp", CreatedAt: now, UpdatedAt: now}
	must(t, "organization", env.S.Store.CreateOrganization(acme.Ctx, org))
	must(t, "membership", env.S.Store.CreateMembership(acme.Ctx, storage.Membership{ID: ids.New("mem"), OrganizationID: org.ID,
		UserID: alice.ID, Status: storage.MembershipActive, JoinedAt: now, CreatedAt: now, UpdatedAt: now}))
	f := &outage{env: env, acme: acme, logs: logs, org: org,
		spa: acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token", "token_exchange"}, OrganizationUsage: storage.OrgUsageAllow}),
		svc: acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
			Audiences: []string{directory.ManagementAudience}, Scopes: []string{"read:organizations"}}),
		apiKey:  acme.APIKey(t),
		browser: env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}}),
	}
	ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	f.user = testenv.TokensOf(t, ar.Exchange(t, acme, f.browser, ar.Code(t, acme, f.browser, "alice@acme.test", testenv.Password)))
	if f.user.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	f.codeReq = testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
	f.code = f.codeReq.Code(t, acme, f.browser, "", "")
	f.mgmt = f.clientCredentials(t).AccessToken
	return f
}

func (f *outage) clientCredentials(t *testing.T) testenv.Tokens {
	t.Helper()
	return testenv.TokensOf(t, f.acme.ClientCredentials(t, f.browser, f.svc.ClientID, f.svc.ClientSecret,
		url.Values{"audience": {directory.ManagementAudience}, "scope": {"read:organizations"}}))
}

// surface is the error shape an endpoint answers in.
type surface int

const (
	oauthJSON  surface = iota // {"error","error_description"} (RFC 6749 §5.2)
	page                      // a hosted HTML page
	management                // {"statusCode","error","message","errorCode"}
)

type outageRequest struct {
	name    string
	surface surface
	do      func(t *testing.T) *testenv.Response
}

func (f *outage) requests() []outageRequest {
	acme, c := f.acme, f.browser
	token := func(form url.Values, opts ...testenv.RequestOption) func(t *testing.T) *testenv.Response {
		return func(t *testing.T) *testenv.Response {
			return testenv.PostForm(t, c, acme.URL("/oauth/token"), form, opts...)
		}
	}
	svcAuth := testenv.BasicAuth(f.svc.ClientID, f.svc.ClientSecret)
	return []outageRequest{
		{"client_credentials", oauthJSON, token(url.Values{"grant_type": {"client_credentials"},
			"audience": {directory.ManagementAudience}, "scope": {"read:organizations"}}, svcAuth)},
		{"refresh_token", oauthJSON, token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.user.RefreshToken},
			"client_id": {f.spa.ClientID}})},
		{"authorization_code", oauthJSON, token(url.Values{"grant_type": {"authorization_code"}, "code": {f.code},
			"redirect_uri": {spaRedirect}, "client_id": {f.spa.ClientID}, "code_verifier": {f.codeReq.Verifier}})},
		{"token exchange", oauthJSON, token(url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {f.spa.ClientID},
			"subject_token": {f.user.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {f.org.Name}})},
		{"introspection", oauthJSON, func(t *testing.T) *testenv.Response {
			return testenv.PostForm(t, c, acme.URL("/oauth/introspect"), url.Values{"token": {f.user.AccessToken}}, svcAuth)
		}},
		{"revocation", oauthJSON, func(t *testing.T) *testenv.Response {
			return testenv.PostForm(t, c, acme.URL("/oauth/revoke"), url.Values{"token": {f.mgmt}}, svcAuth)
		}},
		{"userinfo", oauthJSON, func(t *testing.T) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/userinfo"), testenv.Bearer(f.user.AccessToken))
		}},
		{"switch-org", oauthJSON, func(t *testing.T) *testenv.Response {
			return testenv.Do(t, c, http.MethodPost, acme.URL("/v1/sessions/switch-org"),
				strings.NewReader(`{"organization_id":"`+f.org.ID+`"}`), testenv.Bearer(f.user.AccessToken),
				testenv.Header("Content-Type", "application/json"))
		}},
		{"/v1/me", oauthJSON, func(t *testing.T) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/v1/me"), testenv.Bearer(f.user.AccessToken))
		}},
		{"/authorize", page, func(t *testing.T) *testenv.Response {
			ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
			return testenv.Get(t, c, ar.URL(acme))
		}},
		{"sign-in", page, func(t *testing.T) *testenv.Response {
			fresh := f.env.Client(testenv.ClientOptions{NoRedirects: true})
			return acme.SignIn(t, fresh, "alice@acme.test", testenv.Password, "")
		}},
		{"sign-out", page, func(t *testing.T) *testenv.Response {
			return testenv.Get(t, c, acme.URL("/oidc/logout"))
		}},
		{"Management API with an API key", management, func(t *testing.T) *testenv.Response {
			return acme.API(t, c, http.MethodGet, "/organizations", f.apiKey, nil)
		}},
		{"Management API with an access token", management, func(t *testing.T) *testenv.Response {
			return acme.API(t, c, http.MethodGet, "/organizations", f.mgmt, nil)
		}},
	}
}

// checkFailure asserts that r is a 5xx in the endpoint's own error shape, says nothing untrue about the
// caller's credentials, and was logged at error level with its request id and the database's error.
func (f *outage) checkFailure(t *testing.T, req outageRequest, r *testenv.Response) {
	t.Helper()
	if r.StatusCode < 500 {
		t.Fatalf("status %d during the outage, want 5xx\n%.500s", r.StatusCode, r.Body)
	}
	if r.StatusCode == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	for _, lie := range []string{"invalid_client", "invalid_grant", "invalid_token", "request_unauthorized", "token_inactive",
		`"active"`, `"error":"error"`, "unrecognizable", "does not exist", "Wrong email or password", "not registered"} {
		if strings.Contains(r.Body, lie) {
			t.Errorf("the answer says %q\n%.500s", lie, r.Body)
		}
	}
	switch req.surface {
	case oauthJSON:
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("not a JSON error: %v\n%.500s", err, r.Body)
		}
		if body.Error != "temporarily_unavailable" && body.Error != "server_error" {
			t.Errorf("error = %q, want temporarily_unavailable or server_error", body.Error)
		}
	case page:
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("Content-Type = %q, want a page", r.Header.Get("Content-Type"))
		}
	case management:
		var body struct {
			StatusCode int    `json:"statusCode"`
			ErrorCode  string `json:"errorCode"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.StatusCode != r.StatusCode || body.ErrorCode == "" {
			t.Errorf("not a Management API error (%v)\n%.500s", err, r.Body)
		}
	}
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	logged := f.logs.forRequest(id, slog.LevelError)
	detail := false
	for _, l := range logged {
		if strings.Contains(l.attrs["err"], storage.ErrUnavailable.Error()) {
			detail = true
		}
	}
	if len(logged) == 0 || !detail {
		t.Errorf("request %s: error-level log lines %v, want one with the database's error", id, logged)
	}
}

// run takes the database down with stop, checks every token path, and, when start is given, brings it back
// and checks that the same credentials work again.
func (f *outage) run(t *testing.T, stop, start func(t *testing.T)) {
	// Tenant resolution has its own cache; resolve acme afresh so the requests below reach their handlers
	// rather than fail (correctly, but elsewhere) at resolution.
	f.env.S.Tenants.Flush()
	if r := testenv.Get(t, f.browser, f.acme.URL("/.well-known/openid-configuration")); r.StatusCode != http.StatusOK {
		t.Fatalf("discovery before the outage: %d", r.StatusCode)
	}
	stop(t)
	for _, req := range f.requests() {
		t.Run("down/"+req.name, func(t *testing.T) {
			f.checkFailure(t, req, req.do(t))
		})
	}
	if start == nil {
		return
	}
	start(t)
	// The pool's connections died with the server; give it a few requests to replace them.
	deadline := time.Now().Add(time.Minute)
	for {
		r := f.acme.ClientCredentials(t, f.browser, f.svc.ClientID, f.svc.ClientSecret,
			url.Values{"audience": {directory.ManagementAudience}, "scope": {"read:organizations"}})
		if r.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client credentials after the database came back: %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Run("back", func(t *testing.T) {
		if got := f.acme.Introspect(t, f.browser, f.svc.ClientID, f.svc.ClientSecret, f.user.AccessToken); got["active"] != true {
			t.Errorf("introspection of the user's token: %v", got)
		}
		if r := testenv.Get(t, f.browser, f.acme.URL("/userinfo"), testenv.Bearer(f.user.AccessToken)); r.StatusCode != http.StatusOK {
			t.Errorf("userinfo: %d %s", r.StatusCode, r.Body)
		}
		testenv.TokensOf(t, f.codeReq.Exchange(t, f.acme, f.browser, f.code))
		testenv.TokensOf(t, testenv.PostForm(t, f.browser, f.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {f.user.RefreshToken}, "client_id": {f.spa.ClientID}}))
		for _, bearer := range []string{f.apiKey, f.mgmt} {
			if r := f.acme.API(t, f.browser, http.MethodGet, "/organizations", bearer, nil); r.StatusCode != http.StatusOK {
				t.Errorf("Management API: %d %s", r.StatusCode, r.Body)
			}
		}
		ar := testenv.NewAuthRequest(f.spa.ClientID, spaRedirect)
		if q := ar.Callback(t, f.acme, testenv.Get(t, f.browser, ar.URL(f.acme))); q.Get("code") == "" {
			t.Errorf("/authorize with the session: %v", q)
		}
	})
}

func TestSQLiteOutageIsReportedAsAFailure(t *testing.T) {
	t.Parallel()
	f := newOutage(t, testenv.Options{})
	f.run(t, func(t *testing.T) {
		// Every later call gets the database layer's own error ("sql: database is closed").
		must(t, "close the store", f.env.S.Store.Close())
	}, nil)
}

func TestPostgresOutageIsReportedAsAFailure(t *testing.T) {
	if os.Getenv("AUTHIO_TEST_POSTGRES_DSN") == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN to run the Postgres outage test (it starts a private cluster)")
	}
	t.Parallel()
	pg := startPrivatePostgres(t)
	st, err := storage.Open(pg.dsn, storage.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open the private cluster: %v", err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		st.Close()
		t.Fatalf("migrate: %v", err)
	}
	o := testenv.Options{Store: st}
	if u := os.Getenv("AUTHIO_TEST_REDIS_URL"); u != "" {
		c, err := cache.NewRedis(u, "authio-test-"+testenv.RandomString(9)+":")
		if err != nil {
			t.Fatalf("AUTHIO_TEST_REDIS_URL is set but Redis is unreachable: %v", err)
		}
		o.Cache = c
	}
	f := newOutage(t, o)
	f.run(t, pg.stop, pg.start)
}

// privatePostgres is a Postgres cluster of the test's own on a free loopback port, which the test may stop
// and start; the shared one is never touched.
type privatePostgres struct {
	bin, dir, data, port, dsn string
}

// startPrivatePostgres initialises and starts a cluster in a fresh directory (trust authentication, no
// fsync), run as the postgres user since initdb and pg_ctl refuse root. It is stopped and removed at cleanup.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("AUTHIO_TEST_POSTGRES_DSN is set but no Postgres binaries are under /usr/lib/postgresql/*/bin")
	}
	sort.Strings(bins)
	dir, err := os.MkdirTemp("", "authio-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	pg := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1]), dir: dir, data: filepath.Join(dir, "data"), port: freePort(t)}
	pg.dsn = "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v\n%s", dir, err, out)
		}
	}
	pg.run(t, "initdb", "-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	pg.start(t)
	t.Cleanup(func() {
		_ = pg.command("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop").Run()
	})
	return pg
}

func (pg *privatePostgres) start(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data, "-l", filepath.Join(pg.dir, "postgres.log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %s -c listen_addresses=127.0.0.1 -k %s -c fsync=off", pg.port, pg.dir), "start")
}

// stop kills the server the way a crash or a failover does: no shutdown checkpoint, every connection cut.
func (pg *privatePostgres) stop(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop")
}

func (pg *privatePostgres) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(pg.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (pg *privatePostgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := pg.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "postgres.log"))
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
