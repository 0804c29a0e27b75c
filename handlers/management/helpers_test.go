package management_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
)

// fixture is a server with tenants acme and globex, each with a live API key.
type fixture struct {
	env                *testenv.Env
	acme, globex       *testenv.Tenant
	acmeKey, globexKey string
	c                  *http.Client
}

// eachBackend runs fn on a fresh fixture per storage backend (SQLite; Postgres and Redis when configured).
func eachBackend(t *testing.T, fn func(t *testing.T, f *fixture)) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) { fn(t, newFixture(t, o)) })
}

func newFixture(t *testing.T, o testenv.Options) *fixture {
	t.Helper()
	env := testenv.New(t, o)
	f := &fixture{env: env, acme: env.NewTenant("acme"), globex: env.NewTenant("globex"), c: env.Client(testenv.ClientOptions{NoRedirects: true})}
	f.acmeKey, f.globexKey = f.acme.APIKey(t), f.globex.APIKey(t)
	return f
}

// api calls acme's Management API with acme's API key.
func (f *fixture) api(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	return f.acme.API(t, f.c, method, path, f.acmeKey, body)
}

// must calls acme's API and fails the test unless the status is want; it returns the decoded body.
func (f *fixture) must(t *testing.T, want int, method, path string, body any) any {
	t.Helper()
	r := f.api(t, method, path, body)
	return decode(t, r, want)
}

func decode(t *testing.T, r *testenv.Response, want int) any {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
	if want == http.StatusNoContent {
		if r.Body != "" {
			t.Errorf("204 with a body: %q", r.Body)
		}
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", r.Request.Method, r.Request.URL.Path, err, r.Body)
	}
	return v
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a JSON object: %#v", v)
	}
	return m
}

func arr(t *testing.T, v any) []any {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("not a JSON array: %#v", v)
	}
	return a
}

// wantError checks an error answer: status, Auth0's shape, the error code and words of the message.
func wantError(t *testing.T, r *testenv.Response, status int, code string, words ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	var e struct {
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
		ErrorCode  string `json:"errorCode"`
	}
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body is not {statusCode, error, message, errorCode}: %v\n%s", err, r.Body)
	}
	if e.StatusCode != status || e.Error != http.StatusText(status) {
		t.Errorf("error body statusCode/error = %d/%q, want %d/%q", e.StatusCode, e.Error, status, http.StatusText(status))
	}
	if code != "" && e.ErrorCode != code {
		t.Errorf("errorCode = %q, want %q (message %q)", e.ErrorCode, code, e.Message)
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q does not mention %q", e.Message, w)
		}
	}
}

// ids returns the values of key in a list of objects.
func ids(t *testing.T, list any, key string) []string {
	t.Helper()
	var out []string
	for _, e := range arr(t, list) {
		s, _ := obj(t, e)[key].(string)
		out = append(out, s)
	}
	return out
}

// newUsers stores users in tn and returns their ids.
func newUsers(tn *testenv.Tenant, emails ...string) []string {
	var out []string
	for _, e := range emails {
		out = append(out, tn.NewUser(e).ID)
	}
	return out
}

// managementToken gets a client-credentials token of cl on tn for the Management API with scopes.
func (f *fixture) managementToken(t *testing.T, tn *testenv.Tenant, cl directory.CreatedClient, scopes ...string) string {
	t.Helper()
	return testenv.TokensOf(t, tn.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret,
		url.Values{"audience": {directory.ManagementAudience}, "scope": {strings.Join(scopes, " ")}})).AccessToken
}

// toJSON round-trips v through JSON, as a caller would see it.
func toJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
