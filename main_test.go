package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// cli runs the authio command in-process against one SQLite database.
type cli struct {
	t       *testing.T
	dsn     string
	environ []string
}

func newCLI(t *testing.T) *cli {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "authio.db")
	return &cli{t: t, dsn: dsn, environ: []string{"AUTHIO_DATABASE_URL=" + dsn, "AUTHIO_SECRET_KEY=" + testenv.SecretKey,
		"AUTHIO_LOG_LEVEL=error", "HOME=/nonexistent"}}
}

// run returns stdout and the error; stderr (logs) is discarded unless the command fails.
func (c *cli) run(args ...string) (string, error) {
	return c.runEnv(nil, args...)
}

func (c *cli) runEnv(extraEnv []string, args ...string) (string, error) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, append(append([]string{}, c.environ...), extraEnv...), &stdout, &stderr)
	if err != nil && stderr.Len() > 0 {
		c.t.Logf("authio %s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String(), err
}

// ok runs a command that must succeed and print exactly one JSON value, decoded into a fresh value.
func (c *cli) ok(args ...string) any {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("authio %s: %v", strings.Join(args, " "), err)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var v any
	if err := dec.Decode(&v); err != nil {
		c.t.Fatalf("authio %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		c.t.Fatalf("authio %s: stdout holds more than one JSON value:\n%s", strings.Join(args, " "), out)
	}
	return v
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestCLITenantsAndDomains(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	acme := c.ok("tenant", "create", "--slug", "acme", "--name", "Acme Corp", "--domain", "auth.acme.test").(map[string]any)
	if got := keys(acme); !slices.Equal(got, []string{"domains", "id", "name", "slug"}) {
		t.Errorf("tenant create printed keys %v, want id, slug, name, domains", got)
	}
	id, _ := acme["id"].(string)
	if !strings.HasPrefix(id, "ten_") || acme["slug"] != "acme" || acme["name"] != "Acme Corp" {
		t.Errorf("tenant create = %v", acme)
	}
	if d, _ := json.Marshal(acme["domains"]); string(d) != `["acme.localhost","auth.acme.test"]` {
		t.Errorf("domains = %s, want the default domain first, then the extra one", d)
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string // in the error message
	}{
		{name: "duplicate slug", args: []string{"tenant", "create", "--slug", "acme"}, want: []string{"slug", "already exists"}},
		{name: "domain of another tenant", args: []string{"tenant", "create", "--slug", "other", "--domain", "auth.acme.test"}, want: []string{"already exists"}},
		{name: "bad slug", args: []string{"tenant", "create", "--slug", "Bad Slug!"}, want: []string{"slug"}},
		{name: "no slug", args: []string{"tenant", "create"}, want: []string{"--slug"}},
		{name: "bad algorithm", args: []string{"tenant", "create", "--slug", "x", "--signing-alg", "HS256"}, want: []string{"RS256"}},
		{name: "domain for an unknown tenant", args: []string{"domain", "add", "--tenant", "nope", "--domain", "a.b.test"}, want: []string{`"nope"`}},
		{name: "taken domain", args: []string{"domain", "add", "--tenant", "acme", "--domain", "acme.localhost"}, want: []string{"acme.localhost"}},
		{name: "bad domain", args: []string{"domain", "add", "--tenant", "acme", "--domain", "not a host"}, want: []string{"domain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(strings.ToLower(err.Error()), "sql") {
				t.Errorf("error is not one clear line: %q", err)
			}
			if out != "" {
				t.Errorf("stdout on failure: %q", out)
			}
		})
	}

	added := c.ok("domain", "add", "--tenant", "acme", "--domain", "Login.Acme.test").(map[string]any)
	if added["tenant"] != "acme" || added["domain"] != "login.acme.test" || len(added) != 2 {
		t.Errorf("domain add = %v", added)
	}
	byID := c.ok("domain", "add", "--tenant", id, "--domain", "sso.acme.test").(map[string]any)
	if byID["tenant"] != "acme" {
		t.Errorf("domain add by tenant id = %v", byID)
	}

	c.ok("tenant", "create", "--slug", "globex", "--signing-alg", "ES256", "--signup")
	list := c.ok("tenant", "list").([]any)
	if len(list) != 2 {
		t.Fatalf("tenant list = %v, want two tenants", list)
	}
	first := list[0].(map[string]any)
	if first["slug"] != "acme" || !slices.Equal(keys(first), []string{"domains", "id", "name", "slug"}) {
		t.Errorf("tenant list[0] = %v", first)
	}
	if d, _ := json.Marshal(first["domains"]); !strings.Contains(string(d), "login.acme.test") || !strings.Contains(string(d), "sso.acme.test") {
		t.Errorf("acme domains in the list = %s", d)
	}
}

func TestCLIClientsUsersKeys(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")

	conf := c.ok("client", "create", "--tenant", "acme", "--name", "api", "--type", "confidential",
		"--grant", "client_credentials", "--audience", "https://api.acme.test").(map[string]any)
	if cid, _ := conf["client_id"].(string); !strings.HasPrefix(cid, "cli_") {
		t.Errorf("client_id = %v", conf["client_id"])
	}
	if sec, _ := conf["client_secret"].(string); len(sec) < 32 {
		t.Errorf("confidential client_secret = %v, want a long secret", conf["client_secret"])
	}

	pub := c.ok("client", "create", "--tenant", "acme", "--name", "spa", "--type", "public",
		"--redirect-uri", "https://app.acme.test/callback", "--post-logout-redirect-uri", "https://app.acme.test/bye",
		"--grant", "authorization_code,refresh_token", "--web-origin", "https://app.acme.test",
		"--scope", "openid", "--scope", "email").(map[string]any)
	if _, ok := pub["client_secret"]; ok || !strings.HasPrefix(pub["client_id"].(string), "cli_") {
		t.Errorf("public client = %v, want a client_id and no secret", pub)
	}

	user := c.ok("user", "create", "--tenant", "acme", "--email", "A@Acme.test", "--password", "S3cret-pass!").(map[string]any)
	if !strings.HasPrefix(user["id"].(string), "user_") || user["email"] != "a@acme.test" || len(user) != 2 {
		t.Errorf("user create = %v", user)
	}

	k1 := c.ok("key", "rotate", "--tenant", "acme").(map[string]any)
	k2 := c.ok("key", "rotate", "--tenant", "acme").(map[string]any)
	if !strings.HasPrefix(k1["kid"].(string), "key_") || k1["alg"] != "RS256" || k1["kid"] == k2["kid"] {
		t.Errorf("key rotate = %v then %v", k1, k2)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "public client with client_credentials", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--type", "public", "--grant", "client_credentials"}, want: "client_credentials"},
		{name: "code client without redirect URI", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--type", "public"}, want: "redirect-uri"},
		{name: "unknown grant", args: []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant", "password"}, want: "password"},
		{name: "client without tenant", args: []string{"client", "create", "--name", "x"}, want: "--tenant"},
		{name: "client in unknown tenant", args: []string{"client", "create", "--tenant", "nope", "--name", "x"}, want: `"nope"`},
		{name: "duplicate user", args: []string{"user", "create", "--tenant", "acme", "--email", "a@acme.test", "--password", "S3cret-pass!"}, want: "already exists"},
		{name: "short password", args: []string{"user", "create", "--tenant", "acme", "--email", "b@acme.test", "--password", "short"}, want: "password"},
		{name: "bad email", args: []string{"user", "create", "--tenant", "acme", "--email", "nope", "--password", "S3cret-pass!"}, want: "email"},
		{name: "key for unknown tenant", args: []string{"key", "rotate", "--tenant", "nope"}, want: `"nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line mentioning %q", err, tc.want)
			}
		})
	}

	// What the CLI printed works against a server over the same database.
	st, err := storage.Open(c.dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{Store: st})
	acme := env.Tenant("acme")
	hc := env.Client(testenv.ClientOptions{})
	r := acme.ClientCredentials(t, hc, conf["client_id"].(string), conf["client_secret"].(string),
		url.Values{"audience": {"https://api.acme.test"}})
	tok := testenv.TokensOf(t, r)
	if kid, _ := testenv.VerifyJWT(t, tok.AccessToken, acme.JWKS(t, hc)); kid != k2["kid"] {
		t.Errorf("token signed with %s, want the last rotated key %s", kid, k2["kid"])
	}
	if r := acme.SignIn(t, env.Client(testenv.ClientOptions{NoRedirects: true}), "a@acme.test", "S3cret-pass!", ""); r.StatusCode != http.StatusOK {
		t.Errorf("sign-in as the CLI-created user: status %d", r.StatusCode)
	}
}

func TestCLIUsageAndConfiguration(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		name  string
		env   []string
		args  []string
		usage bool     // a usageError (exit status 2 with the usage text)
		want  []string // in the one-line error
	}{
		{name: "unknown command", args: []string{"frobnicate"}, usage: true, want: []string{"frobnicate"}},
		{name: "unknown subcommand", args: []string{"tenant", "destroy"}, usage: true, want: []string{"tenant destroy"}},
		{name: "unexpected argument", args: []string{"tenant", "list", "extra"}, usage: true, want: []string{"extra"}},
		{name: "bad scheme", env: []string{"AUTHIO_PUBLIC_SCHEME=ftp"}, args: []string{"tenant", "list"}, want: []string{"ftp"}},
		{name: "every problem in one line", env: []string{"AUTHIO_PUBLIC_SCHEME=ftp", "AUTHIO_SECRET_KEY=short", "AUTHIO_LOG_LEVEL=loud"},
			args: []string{"tenant", "list"}, want: []string{"ftp", "AUTHIO_SECRET_KEY", "loud"}},
		{name: "unknown variable", env: []string{"AUTHIO_DATABASE_ULR=sqlite:x.db"}, args: []string{"tenant", "list"}, want: []string{"AUTHIO_DATABASE_ULR"}},
		{name: "bad database URL", env: []string{"AUTHIO_DATABASE_URL=mysql://x"}, args: []string{"migrate"}, want: []string{"database URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.runEnv(tc.env, tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			var ue usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tc.usage, tc.usage, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if out != "" {
				t.Errorf("stdout on failure: %q", out)
			}
		})
	}

	t.Run("help", func(t *testing.T) {
		out, err := c.run("--help")
		if err != nil || !strings.Contains(out, "authio tenant create") {
			t.Errorf("help: %v\n%s", err, out)
		}
	})
	t.Run("migrate", func(t *testing.T) {
		first := c.ok("migrate").(map[string]any)
		if a, _ := first["applied"].([]any); len(a) == 0 {
			t.Errorf("first migrate applied nothing: %v", first)
		}
		again := c.ok("migrate").(map[string]any)
		if a, ok := again["applied"].([]any); !ok || len(a) != 0 {
			t.Errorf("second migrate = %v, want applied: []", again)
		}
	})
}
