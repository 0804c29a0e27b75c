package router_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/config"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/router"
	"github.com/authio/authio/storage"
)

const adminToken = "admin-token-0123456789-abcdefghijklmnopqrstuvwxyz"

// importer is a server with its admin listener, which carries the tenant API.
type importer struct {
	env   *testenv.Env
	admin *httptest.Server
}

func newImporter(t *testing.T, o testenv.Options, token string) *importer {
	t.Helper()
	o.Configure = func(c *config.Config) { c.AdminToken = token }
	env := testenv.New(t, o)
	admin := httptest.NewServer(router.Admin(env.S))
	t.Cleanup(admin.Close)
	return &importer{env: env, admin: admin}
}

// post sends body to the import endpoint and returns the status and the answer's lines, decoded.
func (im *importer) post(t *testing.T, contentType, bearer, body string) (int, []server.ImportResult, string) {
	t.Helper()
	opts := []testenv.RequestOption{testenv.Header("Content-Type", contentType)}
	if bearer != "" {
		opts = append(opts, testenv.Bearer(bearer))
	}
	r := testenv.Do(t, http.DefaultClient, http.MethodPost, im.admin.URL+"/admin/v1/tenants:import", strings.NewReader(body), opts...)
	if r.StatusCode != http.StatusOK {
		return r.StatusCode, nil, r.Body
	}
	var out []server.ImportResult
	sc := bufio.NewScanner(strings.NewReader(r.Body))
	for sc.Scan() {
		var res server.ImportResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("answer line %q: %v", sc.Text(), err)
		}
		out = append(out, res)
	}
	return r.StatusCode, out, r.Body
}

func (im *importer) lines(t *testing.T, body string) []server.ImportResult {
	t.Helper()
	status, out, raw := im.post(t, "application/x-ndjson", adminToken, body)
	if status != http.StatusOK {
		t.Fatalf("import: %d %s", status, raw)
	}
	return out
}

// tenantCount is how many tenants the database holds.
func (im *importer) tenantCount(t *testing.T) int {
	t.Helper()
	ts, err := im.env.S.Store.ListTenants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

type wantLine struct {
	status string
	field  string // for errors: the field named ("" when the line as a whole is at fault)
}

func checkLines(t *testing.T, got []server.ImportResult, want []wantLine, lines []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d result lines, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != lines[i] || g.Status != w.status {
			t.Errorf("result %d: line %d status %q (%+v), want line %d status %q", i, g.Line, g.Status, g.Error, lines[i], w.status)
			continue
		}
		if w.status == server.ImportFailed && (g.Error == nil || g.Error.Field != w.field || g.Error.Message == "") {
			t.Errorf("line %d: error %+v, want one naming field %q", g.Line, g.Error, w.field)
		}
		if w.status != server.ImportFailed && (g.Tenant == nil || g.Tenant.ID == "" || g.Error != nil) {
			t.Errorf("line %d: %+v, want the tenant and no error", g.Line, g)
		}
	}
}

// TestTenantImport creates tenants through the admin listener's tenant API on every backend: each line's tenant,
// key and clients are created together or not at all, errors name their line and field, a slug that exists is
// reported and left alone (so an import can run again), lines behave as in input order even though they run
// concurrently, and a line cannot take another tenant's domain.
func TestTenantImport(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		im := newImporter(t, o, adminToken)
		victim := im.env.NewTenant("victim")
		if _, err := im.env.S.AddDomain(context.Background(), "victim", "auth.victim.test"); err != nil {
			t.Fatal(err)
		}
		const m2m = `{"name":"backend","type":"confidential","grant_types":["client_credentials"],"audiences":["https://api.acme.test"],"scopes":["read"]}`
		body := strings.Join([]string{
			/* 1 */ `{"slug":"acme","name":"Acme","domains":["Auth.Acme.Test"],"clients":[` + m2m + `,{"name":"spa","type":"public","redirect_uris":["https://app.acme.test/cb"]}]}`,
			/* 2 */ ``,
			/* 3 */ `{"slug":"globex","signing_alg":"ES256","signup":true,"clients":[` + m2m + `]}`,
			/* 4 */ `{"slug":"Not A Slug"}`,
			/* 5 */ `{"slug":"acme","domains":["other.acme.test"]}`, // same slug again: exists, and gets no domain
			/* 6 */ `{"slug":"thief","domains":["auth.victim.test"],"clients":[` + m2m + `]}`, // another tenant's domain
			/* 7 */ `{"slug":"copycat","domains":["auth.acme.test"]}`, // line 1's domain: line 1 came first
			/* 8 */ `not json`,
			/* 9 */ `{"slug":"spa-only","clients":[{"name":"spa","type":"public"}]}`, // authorization_code without redirect
			/* 10 */ `{"slug":"colourful","colour":"red"}`,
			/* 11 */ `{"slug":"rs","signing_alg":"HS256"}`,
			/* 12 */ `{"slug":"badhost","domains":["not a host"]}`,
		}, "\n") + "\n"
		before := im.tenantCount(t)
		got := im.lines(t, body)
		checkLines(t, got, []wantLine{
			{server.ImportCreated, ""}, {server.ImportCreated, ""}, {server.ImportFailed, "slug"}, {server.ImportExists, ""},
			{server.ImportFailed, "domains"}, {server.ImportFailed, "domains"}, {server.ImportFailed, ""},
			{server.ImportFailed, "clients[0].redirect_uris"}, {server.ImportFailed, ""}, {server.ImportFailed, "signing_alg"},
			{server.ImportFailed, "domains"},
		}, []int{1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
		if t.Failed() {
			t.FailNow()
		}
		// A line refused as a whole still names the slug it meant (line 10 has an unknown field); one that is not
		// JSON cannot.
		if got[8].Slug != "colourful" || got[6].Slug != "" {
			t.Errorf("slugs of the lines refused as a whole: %q (line 10), %q (line 8), want \"colourful\" and none", got[8].Slug, got[6].Slug)
		}
		if t.Failed() {
			t.FailNow()
		}
		if n := im.tenantCount(t) - before; n != 2 {
			t.Errorf("the import made %d tenants, want 2 (acme and globex)", n)
		}
		acme, globex := got[0], got[1]
		if want := []string{"acme.localhost", "auth.acme.test"}; strings.Join(acme.Tenant.Domains, ",") != strings.Join(want, ",") {
			t.Errorf("acme domains = %v, want %v", acme.Tenant.Domains, want)
		}
		if got[3].Tenant.ID != acme.Tenant.ID || len(got[3].Clients) != 0 {
			t.Errorf("line 5 (acme again) = %+v, want acme's tenant and nothing created", got[3])
		}
		if len(acme.Clients) != 2 || acme.Clients[0].Name != "backend" || acme.Clients[0].ClientSecret == "" ||
			acme.Clients[1].Name != "spa" || acme.Clients[1].ClientSecret != "" {
			t.Errorf("acme clients = %+v, want backend (with its secret) and spa (public, no secret)", acme.Clients)
		}

		// What was created works: the confidential client gets a token signed by its tenant's own key, with the
		// algorithm the line asked for, on the tenant's domains.
		c := im.env.Client(testenv.ClientOptions{})
		for _, tc := range []struct {
			res  server.ImportResult
			host string
			alg  string
		}{
			{acme, "auth.acme.test", "RS256"},
			{globex, "globex.localhost", "ES256"},
		} {
			tn := im.env.Tenant(tc.res.Tenant.Slug)
			tn.Host = tc.host + ":" + im.env.Port
			tok := testenv.TokensOf(t, tn.ClientCredentials(t, c, tc.res.Clients[0].ClientID, tc.res.Clients[0].ClientSecret,
				url.Values{"audience": {"https://api.acme.test"}}))
			testenv.VerifyJWT(t, tok.AccessToken, tn.JWKS(t, c))
			if header, _ := testenv.DecodeJWT(t, tok.AccessToken); header["alg"] != tc.alg {
				t.Errorf("%s: token signed with %v, want %s", tc.res.Tenant.Slug, header["alg"], tc.alg)
			}
			// Another tenant's client is unknown here.
			other := acme
			if tc.res.Tenant.ID == acme.Tenant.ID {
				other = globex
			}
			r := tn.ClientCredentials(t, c, other.Clients[0].ClientID, other.Clients[0].ClientSecret, nil)
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: another tenant's client got %d, want 401", tc.res.Tenant.Slug, r.StatusCode)
			}
		}
		if st := im.env.Tenant("globex").Stored(t); !st.SignupEnabled {
			t.Error("globex: signup not enabled")
		}

		// The failed lines left nothing behind, and the victim keeps its domain.
		for _, slug := range []string{"thief", "copycat", "spa-only", "colourful", "rs", "badhost"} {
			if _, err := im.env.S.Store.GetTenant(context.Background(), slug); err == nil {
				t.Errorf("tenant %s exists after its line failed", slug)
			}
		}
		if tn, err := im.env.S.Store.TenantByDomain(context.Background(), "auth.victim.test"); err != nil || tn.ID != victim.ID {
			t.Errorf("auth.victim.test resolves to %+v (%v), want the victim", tn, err)
		}

		// Again, as a JSON array: every line that was created exists now, and nothing changes.
		var array []json.RawMessage
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "{") {
				array = append(array, json.RawMessage(l))
			}
		}
		raw, _ := json.Marshal(array)
		before = im.tenantCount(t)
		status, again, text := im.post(t, "application/json", adminToken, string(raw))
		if status != http.StatusOK {
			t.Fatalf("array import: %d %s", status, text)
		}
		if len(again) != len(array) || again[0].Status != server.ImportExists || again[1].Status != server.ImportExists ||
			again[0].Tenant.ID != acme.Tenant.ID || again[0].Line != 1 || again[1].Line != 2 {
			t.Errorf("re-import = %+v, want acme and globex to exist (elements 1 and 2)", again)
		}
		if n := im.tenantCount(t) - before; n != 0 {
			t.Errorf("the re-import made %d tenants, want none", n)
		}
		// The corrected line imports now.
		fixed := im.lines(t, `{"slug":"thief","domains":["auth.thief.test"]}`)
		checkLines(t, fixed, []wantLine{{server.ImportCreated, ""}}, []int{1})
	})
}

// TestTenantImportAccess checks who may use the tenant API, and the shapes of refused and broken requests.
func TestTenantImportAccess(t *testing.T) {
	t.Parallel()
	off := newImporter(t, testenv.Options{}, "")
	if status, _, body := off.post(t, "application/x-ndjson", adminToken, `{"slug":"x"}`); status != http.StatusNotFound ||
		!strings.Contains(body, "AUTHIO_ADMIN_TOKEN") {
		t.Errorf("API off: %d %s, want 404 naming AUTHIO_ADMIN_TOKEN", status, body)
	}
	im := newImporter(t, testenv.Options{}, adminToken)
	for _, tc := range []struct {
		name, contentType, bearer string
		status                    int
		error                     string
	}{
		{"no token", "application/x-ndjson", "", http.StatusUnauthorized, "invalid_request"},
		{"wrong token", "application/x-ndjson", adminToken + "x", http.StatusUnauthorized, "invalid_token"},
		{"a tenant's API key is no admin token", "application/x-ndjson", "sk_live_" + strings.Repeat("a", 40), http.StatusUnauthorized, "invalid_token"},
		{"form body", "application/x-www-form-urlencoded", adminToken, http.StatusUnsupportedMediaType, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := im.post(t, tc.contentType, tc.bearer, `{"slug":"sneaky"}`)
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal([]byte(body), &e)
			if status != tc.status || e.Error != tc.error || e.Description == "" {
				t.Errorf("%d %s, want %d with error %q", status, body, tc.status, tc.error)
			}
		})
	}
	if _, err := im.env.S.Store.GetTenant(context.Background(), "sneaky"); err == nil {
		t.Error("a refused request created its tenant")
	}
	// A body larger than the answer's first writes (an HTTP/1.1 server drops what it has not read of a request
	// once it answers): every line is answered, the last one created.
	var big strings.Builder
	const many = 1500
	for i := 0; i < many; i++ {
		fmt.Fprintf(&big, `{"slug":"Not A Slug %d","name":"%s"}`+"\n", i, strings.Repeat("x", 80))
	}
	big.WriteString(`{"slug":"after-the-crowd","signing_alg":"ES256"}` + "\n")
	if got := im.lines(t, big.String()); len(got) != many+1 || got[many].Line != many+1 || got[many].Status != server.ImportCreated ||
		got[many-1].Status != server.ImportFailed {
		t.Errorf("large body: %d results, last %+v; want %d, the last created", len(got), got[len(got)-1], many+1)
	}
	// An array that stops being JSON: the elements before it are done, then one line says the import stopped.
	status, out, body := im.post(t, "application/json", adminToken, `[{"slug":"first"}, {"slug": nope]`)
	if status != http.StatusOK || len(out) != 2 || out[0].Status != server.ImportCreated || out[1].Line != 0 ||
		out[1].Status != server.ImportFailed || !strings.Contains(out[1].Error.Message, "stopped") {
		t.Errorf("broken array: %d %s, want line 1 created then a line 0 error", status, body)
	}
}

// TestTenantImportMany imports enough lines to keep every worker busy, some sharing slugs, and checks that each
// slug was created once, by its first line.
func TestTenantImportMany(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		im := newImporter(t, o, adminToken)
		var b strings.Builder
		const n = 60
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `{"slug":"t%d","name":"line %d","signing_alg":"ES256"}`+"\n", i%40, i+1)
		}
		got := im.lines(t, b.String())
		if len(got) != n {
			t.Fatalf("%d results, want %d", len(got), n)
		}
		for i, r := range got {
			want := server.ImportCreated
			if i >= 40 {
				want = server.ImportExists
			}
			if r.Line != i+1 || r.Status != want || r.Tenant == nil || r.Tenant.Name != fmt.Sprintf("line %d", i%40+1) {
				t.Errorf("line %d: %+v, want %s with the name of line %d", i+1, r, want, i%40+1)
			}
		}
		ts, err := im.env.S.Store.ListTenants(context.Background())
		if err != nil || len(ts) != 40 {
			t.Errorf("%d tenants (%v), want 40", len(ts), err)
		}
		for _, tn := range ts {
			ks, err := im.env.S.Store.ListKeys(storage.WithTenant(context.Background(), tn.ID), im.env.S.Now())
			if err != nil || len(ks) != 1 || !ks[0].Active || ks[0].Alg != "ES256" {
				t.Errorf("tenant %s keys = %+v (%v), want one active ES256 key", tn.Slug, ks, err)
			}
		}
	})
}

// TestTenantImportRequestID: the admin listener names each request as the public one does. The import's log
// line carries the id the caller sent in X-Request-Id, or the one the server made and answered with.
func TestTenantImportRequestID(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	im := newImporter(t, testenv.Options{Logger: slog.New(recorderHandler{rec: logs})}, adminToken)
	send := func(id string) string {
		t.Helper()
		opts := []testenv.RequestOption{testenv.Header("Content-Type", "application/x-ndjson"), testenv.Bearer(adminToken)}
		if id != "" {
			opts = append(opts, testenv.Header("X-Request-Id", id))
		}
		r := testenv.Do(t, http.DefaultClient, http.MethodPost, im.admin.URL+"/admin/v1/tenants:import",
			strings.NewReader(`{"slug":"named-`+fmt.Sprint(len(id))+`","signing_alg":"ES256"}`+"\n"), opts...)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("import: %d %s", r.StatusCode, r.Body)
		}
		return r.Header.Get("X-Request-Id")
	}
	for _, sent := range []string{"import-from-the-control-plane", ""} {
		got := send(sent)
		if got == "" || (sent != "" && got != sent) {
			t.Errorf("X-Request-Id sent %q, answered %q", sent, got)
			continue
		}
		var found bool
		for _, r := range logs.forRequest(got, slog.LevelInfo) {
			found = found || (r.msg == "tenant import" && r.attrs["created"] == "1")
		}
		if !found {
			t.Errorf("no \"tenant import\" log line with request_id %q (sent %q)", got, sent)
		}
	}
}
