package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

func sortedKeys(m map[string]any) []string {
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
	if got := sortedKeys(acme); !slices.Equal(got, []string{"domains", "id", "name", "slug"}) {
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
	if first["slug"] != "acme" || !slices.Equal(sortedKeys(first), []string{"domains", "id", "name", "slug"}) {
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
	if !strings.HasPrefix(user["id"].(string), "user_") || user["email"] != "a@acme.test" || user["email_verified"] != false || len(user) != 3 {
		t.Errorf("user create = %v", user)
	}

	prof := c.ok("user", "create", "--tenant", "acme", "--email", "p@acme.test", "--password", "S3cret-pass!", "--name", "Pat Doe",
		"--given-name", "Pat", "--family-name", "Doe", "--nickname", "pd", "--picture", "https://img.acme.test/p.png",
		"--locale", "en-US", "--zoneinfo", "America/New_York", "--birthdate", "1990-07-01").(map[string]any)

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
		{name: "bad picture", args: []string{"user", "create", "--tenant", "acme", "--email", "q@acme.test", "--password", "S3cret-pass!",
			"--picture", "file:///etc/passwd"}, want: "picture"},
		{name: "bad locale", args: []string{"user", "create", "--tenant", "acme", "--email", "q@acme.test", "--password", "S3cret-pass!",
			"--locale", "en US"}, want: "locale"},
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
	pu, err := env.S.User(acme.Ctx, prof["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.UserProfile{GivenName: "Pat", FamilyName: "Doe", Nickname: "pd", Picture: "https://img.acme.test/p.png",
		Locale: "en-US", Zoneinfo: "America/New_York", Birthdate: "1990-07-01"}); pu.Profile != want || pu.Name != "Pat Doe" {
		t.Errorf("user created with profile flags = %+v %q, want %+v", pu.Profile, pu.Name, want)
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
		{name: "unknown subcommand of a two-word group", args: []string{"key", "pool", "drain", "--count", "1"}, usage: true,
			want: []string{`"key pool drain"`}},
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

// obj asserts a JSON object with exactly the keys want.
func obj(t *testing.T, v any, want ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("printed %#v, want a JSON object", v)
	}
	sort.Strings(want)
	if got := sortedKeys(m); !slices.Equal(got, want) {
		t.Errorf("printed keys %v, want %v (%v)", got, want, m)
	}
	return m
}

func TestCLIOrganizationsRolesAndKeys(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	c.ok("tenant", "create", "--slug", "globex")

	api := obj(t, c.ok("api", "create", "--tenant", "acme", "--identifier", "https://api.acme.test", "--name", "Acme API",
		"--scope", "read:invoices,write:invoices", "--scope", "admin", "--token-lifetime", "600"), "id", "identifier", "name", "scopes")
	if !strings.HasPrefix(api["id"].(string), "api_") || api["identifier"] != "https://api.acme.test" {
		t.Errorf("api create = %v", api)
	}
	if s, _ := json.Marshal(api["scopes"]); string(s) != `[{"value":"read:invoices"},{"value":"write:invoices"},{"value":"admin"}]` {
		t.Errorf("api scopes = %s", s)
	}

	viewer := obj(t, c.ok("role", "create", "--tenant", "acme", "--name", "viewer", "--description", "Reads",
		"--permission", "https://api.acme.test:read:invoices", "--permission", "urn:authio:management:read:organizations"),
		"id", "name", "organization_id", "permissions")
	if !strings.HasPrefix(viewer["id"].(string), "rol_") || viewer["organization_id"] != nil {
		t.Errorf("role create = %v", viewer)
	}
	if p, _ := json.Marshal(viewer["permissions"]); string(p) != `[{"permission_name":"read:invoices","resource_server_identifier":"https://api.acme.test"},`+
		`{"permission_name":"read:organizations","resource_server_identifier":"urn:authio:management"}]` {
		t.Errorf("permissions (audience and scope both holding colons) = %s", p)
	}
	support := obj(t, c.ok("role", "create", "--tenant", "acme", "--name", "support"), "id", "name", "organization_id", "permissions")

	org := obj(t, c.ok("org", "create", "--tenant", "acme", "--name", "acme-corp", "--display-name", "Acme Corp", "--default-role", "viewer"),
		"display_name", "id", "name")
	orgID, _ := org["id"].(string)
	if !strings.HasPrefix(orgID, "org_") || org["name"] != "acme-corp" || org["display_name"] != "Acme Corp" {
		t.Errorf("org create = %v", org)
	}
	if plain := obj(t, c.ok("org", "create", "--tenant", "acme", "--name", "globex-corp"), "display_name", "id", "name"); plain["display_name"] != "globex-corp" {
		t.Errorf("display name defaults to the name: %v", plain)
	}
	owner := obj(t, c.ok("role", "create", "--tenant", "acme", "--name", "owner", "--org", "acme-corp"), "id", "name", "organization_id", "permissions")
	if owner["organization_id"] != orgID {
		t.Errorf("custom role organization_id = %v, want %s", owner["organization_id"], orgID)
	}

	user := c.ok("user", "create", "--tenant", "acme", "--email", "alice@acme.test", "--password", "S3cret-pass!").(map[string]any)
	userID := user["id"].(string)
	member := obj(t, c.ok("member", "add", "--tenant", "acme", "--org", "acme-corp", "--email", "Alice@acme.test", "--role", "owner", "--status", "invited"),
		"id", "organization_id", "roles", "status", "user_id")
	memberID, _ := member["id"].(string)
	if !strings.HasPrefix(memberID, "mem_") || member["organization_id"] != orgID || member["user_id"] != userID || member["status"] != "invited" {
		t.Errorf("member add = %v", member)
	}
	if r, _ := json.Marshal(member["roles"]); string(r) != fmt.Sprintf(`[{"id":%q,"name":"owner","source":"manual"},{"id":%q,"name":"viewer","source":"default"}]`, owner["id"], viewer["id"]) {
		t.Errorf("member roles = %s", r)
	}
	again := obj(t, c.ok("member", "add", "--tenant", "acme", "--org", orgID, "--user", userID), "id", "organization_id", "roles", "status", "user_id")
	if again["id"] != memberID || again["status"] != "invited" {
		t.Errorf("adding a member again = %v, want the same membership unchanged", again)
	}

	worker := c.ok("client", "create", "--tenant", "acme", "--name", "worker", "--type", "confidential", "--grant", "client_credentials,token_exchange",
		"--organization-usage", "allow", "--audience", "urn:authio:management", "--scope", "read:organizations").(map[string]any)
	workerID := worker["client_id"].(string)
	added := obj(t, c.ok("org", "add-client", "--tenant", "acme", "--org", "acme-corp", "--client", workerID), "client_id", "organization_id")
	if added["organization_id"] != orgID || added["client_id"] != workerID {
		t.Errorf("org add-client = %v", added)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		subject string
		role    any
	}{
		{name: "membership", args: []string{"--org", "acme-corp", "--email", "alice@acme.test", "--role", "support"}, subject: "membership:" + memberID, role: support["id"]},
		{name: "user", args: []string{"--user", userID, "--role", support["id"].(string)}, subject: "user:" + userID, role: support["id"]},
		{name: "client", args: []string{"--client", workerID, "--role", "support"}, subject: "client:" + workerID, role: support["id"]},
	} {
		t.Run("role assign to "+tc.name, func(t *testing.T) {
			args := append([]string{"role", "assign", "--tenant", "acme"}, tc.args...)
			first := obj(t, c.ok(args...), "assigned", "role", "source", "subject")
			if first["role"] != tc.role || first["subject"] != tc.subject || first["source"] != "manual" || first["assigned"] != true {
				t.Errorf("role assign = %v", first)
			}
			if second := c.ok(args...).(map[string]any); second["assigned"] != false {
				t.Errorf("assigning again = %v, want assigned false", second)
			}
		})
	}

	live := obj(t, c.ok("apikey", "create", "--tenant", "acme", "--name", "ci"), "id", "key", "mode", "name")
	test := obj(t, c.ok("apikey", "create", "--tenant", "acme", "--test"), "id", "key", "mode", "name")
	liveKey, _ := live["key"].(string)
	if !strings.HasPrefix(live["id"].(string), "apk_") || !strings.HasPrefix(liveKey, "sk_live_") || live["mode"] != "live" || live["name"] != "ci" {
		t.Errorf("apikey create = %v", live)
	}
	if !strings.HasPrefix(test["key"].(string), "sk_test_") || test["mode"] != "test" {
		t.Errorf("apikey create --test = %v", test)
	}

	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{name: "org with a bad name", args: []string{"org", "create", "--tenant", "acme", "--name", "Acme Corp"}, want: "name"},
		{name: "duplicate org", args: []string{"org", "create", "--tenant", "acme", "--name", "acme-corp"}, want: "already exists"},
		{name: "org without a name", args: []string{"org", "create", "--tenant", "acme"}, usage: true, want: "--name"},
		{name: "org with an unknown default role", args: []string{"org", "create", "--tenant", "acme", "--name", "x", "--default-role", "nope"}, want: "nope"},
		{name: "member without a user", args: []string{"member", "add", "--tenant", "acme", "--org", "acme-corp"}, usage: true, want: "--user"},
		{name: "member with user and email", args: []string{"member", "add", "--tenant", "acme", "--org", "acme-corp", "--user", userID, "--email", "a@b.test"}, usage: true, want: "--email"},
		{name: "member of an unknown org", args: []string{"member", "add", "--tenant", "acme", "--org", "nope", "--user", userID}, want: "nope"},
		{name: "member with a bad status", args: []string{"member", "add", "--tenant", "acme", "--org", "globex-corp", "--user", userID, "--status", "gone"}, want: "status"},
		{name: "member with another org's role", args: []string{"member", "add", "--tenant", "acme", "--org", "globex-corp", "--user", userID, "--role", owner["id"].(string)}, want: "roles"},
		{name: "permission without a colon", args: []string{"role", "create", "--tenant", "acme", "--name", "x", "--permission", "read"}, usage: true, want: "AUDIENCE:SCOPE"},
		{name: "permission without a scope", args: []string{"role", "create", "--tenant", "acme", "--name", "x", "--permission", "https://api.acme.test"}, want: "AUDIENCE:SCOPE"},
		{name: "permission of an unknown API", args: []string{"role", "create", "--tenant", "acme", "--name", "x", "--permission", "https://nope.test:read"}, want: "permissions"},
		{name: "permission the API lacks", args: []string{"role", "create", "--tenant", "acme", "--name", "x", "--permission", "https://api.acme.test:delete:invoices"}, want: "delete:invoices"},
		{name: "client role with an org", args: []string{"role", "assign", "--tenant", "acme", "--role", "support", "--client", workerID, "--org", "acme-corp"}, usage: true, want: "--org"},
		{name: "custom role to a user", args: []string{"role", "assign", "--tenant", "acme", "--role", owner["id"].(string), "--user", userID}, want: "roles"},
		{name: "role of another tenant", args: []string{"role", "assign", "--tenant", "globex", "--role", support["id"].(string), "--client", workerID}, want: support["id"].(string)},
		{name: "api with a relative identifier", args: []string{"api", "create", "--tenant", "acme", "--identifier", "invoices", "--name", "x"}, want: "identifier"},
		{name: "api too long-lived", args: []string{"api", "create", "--tenant", "acme", "--identifier", "urn:x", "--name", "x", "--token-lifetime", "86401"}, want: "token_lifetime"},
		{name: "the management API", args: []string{"api", "create", "--tenant", "acme", "--identifier", "urn:authio:management", "--name", "x"}, want: "identifier"},
		{name: "key for an unknown tenant", args: []string{"apikey", "create", "--tenant", "nope"}, want: `"nope"`},
		{name: "human client into an org", args: []string{"org", "add-client", "--tenant", "acme", "--org", "acme-corp", "--client", "cli_nope"}, want: "cli_nope"},
		{name: "bad organization usage", args: []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant", "client_credentials", "--organization-usage", "sometimes"}, want: "organization_usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			var ue usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tc.usage, tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line mentioning %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("stdout on failure: %q", out)
			}
		})
	}

	// What the CLI made is what a server over the same database serves, and the key it printed works there.
	st, err := storage.Open(c.dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{Store: st})
	acme, globex := env.Tenant("acme"), env.Tenant("globex")
	hc := env.Client(testenv.ClientOptions{})
	r := acme.API(t, hc, "GET", "/organizations/acme-corp/members", liveKey, nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, memberID) || !strings.Contains(r.Body, `"status":"invited"`) {
		t.Errorf("members through the API: %d %s", r.StatusCode, r.Body)
	}
	if r := globex.API(t, hc, "GET", "/organizations", liveKey, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("acme's key on globex: status %d", r.StatusCode)
	}
	r = acme.API(t, hc, "GET", "/logs?"+url.Values{"type": {"role.assigned"}, "organization_id": {orgID}, "include_totals": {"true"}}.Encode(), liveKey, nil)
	var logs struct {
		Logs []struct {
			Actor string         `json:"actor"`
			Data  map[string]any `json:"data"`
		} `json:"logs"`
	}
	if err := json.Unmarshal([]byte(r.Body), &logs); err != nil || len(logs.Logs) != 3 {
		t.Fatalf("role.assigned events of the organization: %v\n%s", err, r.Body)
	}
	for _, e := range logs.Logs {
		if e.Actor != "cli" {
			t.Errorf("CLI change recorded with actor %q, want cli", e.Actor)
		}
	}
	// The client may now ask for the Management API; its token reads the organizations.
	tok := testenv.TokensOf(t, acme.ClientCredentials(t, hc, workerID, worker["client_secret"].(string),
		url.Values{"audience": {"urn:authio:management"}, "scope": {"read:organizations"}}))
	if r := acme.API(t, hc, "GET", "/organizations", tok.AccessToken, nil); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "acme-corp") {
		t.Errorf("client token on the API: %d %s", r.StatusCode, r.Body)
	}
}
