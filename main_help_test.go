package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/storage"
)

// TestCLICommandHelp: "authio COMMAND -h" prints that command's synopsis and its own flags on stdout and exits 0,
// without the configuration flags every command accepts or any other command's flags, and without opening the
// database; "authio GROUP -h" does that for each command of the group.
func TestCLICommandHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	environ := []string{"AUTHIO_DATABASE_URL=sqlite:" + db, "HOME=/nonexistent"} // no secret key: help needs none
	help := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, environ, &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("authio %s: %v, want flag.ErrHelp (exit 0)\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("authio %s wrote to stderr: %s", strings.Join(args, " "), stderr.String())
		}
		return stdout.String()
	}
	configFlags := []string{"--listen", "--admin-listen", "--trusted-proxies", "--public-scheme", "--log-format"}

	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			t.Run(c.name+" "+h, func(t *testing.T) {
				out := help(t, append(strings.Fields(c.name), h)...)
				if !strings.HasPrefix(out, "Usage: authio "+c.name) {
					t.Errorf("help does not start with the synopsis:\n%s", out)
				}
				for _, f := range configFlags {
					if got := strings.Contains(out, f+" "); got != (c.name == "serve") {
						t.Errorf("help lists %s: %v, want %v\n%s", f, got, c.name == "serve", out)
					}
				}
				if c.name != "serve" && !strings.Contains(out, `"authio serve -h"`) {
					t.Errorf("help does not say where the configuration flags are:\n%s", out)
				}
			})
		}
	}

	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{name: "user create", args: []string{"user", "create", "-h"},
			want: []string{"--tenant", "--email ", "--password", "--email-verified", "--name", "--given-name", "--family-name",
				"--nickname", "--picture", "--locale", "--zoneinfo", "--birthdate", "(required)"},
			notWant: []string{"--redirect-uri", "--slug", "--org ", "--identifier"}},
		{name: "client create", args: []string{"client", "create", "--help"},
			want:    []string{"--redirect-uri", "--web-origin", "--organization-usage", "--grant"},
			notWant: []string{"--given-name", "--email", "--password", "--slug"}},
		{name: "serve", args: []string{"serve", "-h"}, want: []string{"--dev", "--listen", "--database-url", "--base-domain"},
			notWant: []string{"--tenant", "--email"}},
		{name: "group user", args: []string{"user", "-h"}, want: []string{"Usage: authio user create", "--email-verified"},
			notWant: []string{"--redirect-uri", "--listen "}},
		{name: "group org", args: []string{"org", "--help"},
			want:    []string{"Usage: authio org create", "Usage: authio org add-client", "--display-name", "--client"},
			notWant: []string{"--given-name", "--permission", "--listen "}},
		{name: "group of two words", args: []string{"tenant", "settings", "-h"},
			want:    []string{"Usage: authio tenant settings get", "Usage: authio tenant settings set", "--json"},
			notWant: []string{"--slug", "--listen "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := help(t, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("help lists %q, another command's flag:\n%s", w, out)
				}
			}
		})
	}

	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("asking for help opened the database (%v)", err)
	}

	t.Run("a group without a command", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"user"}, environ, &stdout, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, "user create") {
			t.Errorf("authio user: %v, want a usage error naming user create", err)
		}
		err = run(context.Background(), []string{"tenant", "settings"}, environ, &stdout, &stderr)
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, "tenant settings get") {
			t.Errorf("authio tenant settings: %v, want a usage error naming tenant settings get", err)
		}
	})
}

// TestCLIRequiredFlags: a missing required flag is a usage error that names it ("--email is required"), reported
// before anything else is judged (not a validation rule of the empty value, not a configuration problem), with
// the command's own synopsis, and nothing is created.
func TestCLIRequiredFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{args: []string{"user", "create", "--tenant", "acme", "--password", "long-enough-password"}, want: "--email is required"},
		{args: []string{"user", "create", "--tenant", "acme", "--email", "a@acme.test"}, want: "--password is required"},
		{args: []string{"user", "create", "--email", "a@acme.test", "--password", "long-enough-password"}, want: "--tenant is required"},
		{args: []string{"client", "create", "--tenant", "acme", "--type", "public"}, want: "--name is required"},
		{args: []string{"tenant", "create", "--name", "X"}, want: "--slug is required"},
		{args: []string{"domain", "add", "--tenant", "acme"}, want: "--domain is required"},
		{args: []string{"key", "rotate"}, want: "--tenant is required"},
		{args: []string{"org", "create", "--tenant", "acme"}, want: "--name is required"},
		{args: []string{"api", "create", "--tenant", "acme", "--name", "API"}, want: "--identifier is required"},
		{args: []string{"apikey", "create"}, want: "--tenant is required"},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			for _, env := range [][]string{nil, {"AUTHIO_SECRET_KEY=", "AUTHIO_LOG_LEVEL=loud"}} {
				out, err := c.runEnv(env, tc.args...)
				var ue usageError
				if !errors.As(err, &ue) || ue.msg != tc.want {
					t.Fatalf("env %v: error %v, want the usage error %q", env, err, tc.want)
				}
				if cmd := strings.Join(tc.args[:2], " "); ue.cmd != cmd || !strings.HasPrefix(ue.help(), "Usage: authio "+cmd) {
					t.Errorf("the usage shown is %q's:\n%s", ue.cmd, ue.help())
				}
				if out != "" {
					t.Errorf("stdout: %q", out)
				}
			}
		})
	}
	if got := c.ok("tenant", "list").([]any); len(got) != 1 {
		t.Errorf("tenants after the refused commands: %v", got)
	}
	t.Run("unknown flag", func(t *testing.T) {
		_, err := c.run("user", "create", "--tenant", "acme", "--email-verfied")
		var ue usageError
		if !errors.As(err, &ue) || ue.msg != "unknown flag --email-verfied" {
			t.Errorf("error %v, want unknown flag --email-verfied", err)
		}
	})
}

// TestCLIUserCreateProfile: user create stores the OIDC profile claims given as flags and --email-verified, and
// prints them; without --email-verified the email is unverified. A user id of one tenant means nothing in another.
func TestCLIUserCreateProfile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	c.ok("tenant", "create", "--slug", "globex")
	out := obj(t, c.ok("user", "create", "--tenant", "acme", "--email", "ada@acme.test", "--password", "long-enough-password",
		"--email-verified", "--name", "Ada Lovelace", "--given-name", "Ada", "--family-name", "Lovelace", "--nickname", "ada",
		"--picture", "https://img.acme.test/ada.png", "--locale", "en-GB"),
		"id", "email", "email_verified", "name", "given_name", "family_name", "nickname", "picture", "locale")
	if out["email_verified"] != true || out["given_name"] != "Ada" || out["family_name"] != "Lovelace" || out["name"] != "Ada Lovelace" ||
		out["nickname"] != "ada" || out["picture"] != "https://img.acme.test/ada.png" || out["locale"] != "en-GB" {
		t.Errorf("user create printed %v", out)
	}
	plain := obj(t, c.ok("user", "create", "--tenant", "acme", "--email", "bob@acme.test", "--password", "long-enough-password"),
		"id", "email", "email_verified")
	if plain["email_verified"] != false {
		t.Errorf("without --email-verified: %v", plain)
	}

	st, err := storage.Open(c.dsn, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, err := st.GetTenant(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUser(storage.WithTenant(context.Background(), ten.ID), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.UserProfile{GivenName: "Ada", FamilyName: "Lovelace", Nickname: "ada", Picture: "https://img.acme.test/ada.png",
		Locale: "en-GB"}); !u.EmailVerified || u.Profile != want || u.Name != "Ada Lovelace" {
		t.Errorf("stored user: verified %v, name %q, profile %+v", u.EmailVerified, u.Name, u.Profile)
	}

	t.Run("cross-tenant: acme's user id is no user of globex", func(t *testing.T) {
		c.ok("org", "create", "--tenant", "globex", "--name", "globex-corp")
		if _, err := c.run("member", "add", "--tenant", "globex", "--org", "globex-corp", "--user", out["id"].(string)); err == nil ||
			!strings.Contains(err.Error(), "no user") {
			t.Errorf("member add in globex with acme's user id: %v, want no user", err)
		}
	})
}

// TestUsageAlignsSummaries: in the usage text every command's summary starts in the summaries' column, or, after
// a synopsis too long for it, on the line below; never glued to the synopsis.
func TestUsageAlignsSummaries(t *testing.T) {
	t.Parallel()
	lines := strings.Split(usage(), "\n")
	const prefix, column = "  authio ", len("  authio ") + 31
	for _, c := range commands() {
		if c.summary == "" {
			continue
		}
		first, _, _ := strings.Cut(c.synopsis, "\n")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix+first) })
		if i < 0 {
			t.Errorf("%s: no usage line starts with its synopsis", c.name)
			continue
		}
		switch at := strings.Index(lines[i], c.summary); {
		case at >= 0 && at != column:
			t.Errorf("%s: summary at column %d, want %d: %q", c.name, at, column, lines[i])
		case at < 0 && (i+1 == len(lines) || strings.TrimSpace(lines[i+1]) != c.summary):
			t.Errorf("%s: summary neither on its synopsis line nor the next: %q", c.name, lines[i])
		}
	}
}
