package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authio/authio/storage"
)

// TestCLIConnections: connection list/create/update/delete print the Management API's JSON shapes; errors name
// the flag at fault; the default password connection cannot be deleted; one tenant's connection is not
// another's.
func TestCLIConnections(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	c.ok("tenant", "create", "--slug", "globex")

	list := c.ok("connection", "list", "--tenant", "acme").([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != storage.DefaultPasswordConnection || list[0].(map[string]any)["strategy"] != "auth0" {
		t.Fatalf("connection list = %v, want the default password connection", list)
	}

	made := c.ok("connection", "create", "--tenant", "acme", "--name", "staff-db", "--strategy", "auth0", "--disabled").(map[string]any)
	id, _ := made["id"].(string)
	if !strings.HasPrefix(id, "con_") || made["enabled"] != false || made["strategy"] != "auth0" {
		t.Fatalf("connection create = %v", made)
	}
	if got := c.ok("connection", "list", "--tenant", "acme", "--name", "staff-db").([]any); len(got) != 1 {
		t.Errorf("connection list --name staff-db = %v", got)
	}
	if got := c.ok("connection", "list", "--tenant", "globex").([]any); len(got) != 1 {
		t.Errorf("globex lists acme's connection: %v", got)
	}

	upd := c.ok("connection", "update", "--tenant", "acme", "--connection", "staff-db", "--enabled", "true").(map[string]any)
	if upd["id"] != id || upd["enabled"] != true {
		t.Errorf("connection update --enabled true = %v", upd)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"taken name", []string{"connection", "create", "--tenant", "acme", "--name", "staff-db", "--strategy", "auth0"}, "--name"},
		{"unknown strategy", []string{"connection", "create", "--tenant", "acme", "--name", "x", "--strategy", "nope"}, "--strategy"},
		{"options the kind refuses", []string{"connection", "create", "--tenant", "acme", "--name", "y", "--strategy", "auth0", "--options", `{"mfa": true}`}, "--options"},
		{"options not JSON", []string{"connection", "create", "--tenant", "acme", "--name", "y", "--strategy", "auth0", "--options", `{mfa`}, "-options"},
		{"enabled not a boolean", []string{"connection", "update", "--tenant", "acme", "--connection", id, "--enabled", "maybe"}, "-enabled"},
		{"nothing to change", []string{"connection", "update", "--tenant", "acme", "--connection", id}, "--enabled or --options"},
		{"no connection", []string{"connection", "delete", "--tenant", "acme"}, "--connection is required"},
		{"another tenant's connection", []string{"connection", "delete", "--tenant", "globex", "--connection", id}, "no connection"},
		{"the default password connection", []string{"connection", "delete", "--tenant", "acme", "--connection", storage.DefaultPasswordConnection}, "--connection: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("authio %s: %v (stdout %q), want an error containing %q", strings.Join(tc.args, " "), err, out, tc.want)
			}
		})
	}

	del := c.ok("connection", "delete", "--tenant", "acme", "--connection", id).(map[string]any)
	if del["id"] != id || del["deleted"] != true {
		t.Errorf("connection delete = %v", del)
	}
	if got := c.ok("connection", "list", "--tenant", "acme").([]any); len(got) != 1 {
		t.Errorf("after delete: %v", got)
	}
}

// TestCLITenantSettings: tenant settings get prints the settings in effect as the Management API does; set takes
// the PATCH body (from --json or --file) and refuses what the API refuses, naming the setting, changing nothing.
func TestCLITenantSettings(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	c.ok("tenant", "create", "--slug", "globex")

	got := c.ok("tenant", "settings", "get", "--tenant", "acme").(map[string]any)
	if got["brute_force_threshold"] != float64(10) || got["password_hash"] == nil {
		t.Fatalf("tenant settings get = %v", got)
	}
	set := c.ok("tenant", "settings", "set", "--tenant", "acme", "--json", `{"brute_force_threshold": 5}`).(map[string]any)
	if set["brute_force_threshold"] != float64(5) {
		t.Errorf("after set: %v", set)
	}
	file := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(file, []byte(`{"ip_failure_limit": 50}`), 0o600); err != nil {
		t.Fatal(err)
	}
	set = c.ok("tenant", "settings", "set", "--tenant", "acme", "--file", file).(map[string]any)
	if set["ip_failure_limit"] != float64(50) || set["brute_force_threshold"] != float64(5) {
		t.Errorf("after set --file: %v", set)
	}
	if g := c.ok("tenant", "settings", "get", "--tenant", "globex").(map[string]any); g["brute_force_threshold"] != float64(10) {
		t.Errorf("globex's settings changed with acme's: %v", g)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"out of range", []string{"--json", `{"brute_force_threshold": 0}`}, "brute_force_threshold"},
		{"unknown setting", []string{"--json", `{"brute_force": 3}`}, "--json: "},
		{"not an object", []string{"--json", `[1]`}, "--json: "},
		{"neither", nil, "exactly one of --json, --file"},
		{"both", []string{"--json", `{}`, "--file", file}, "exactly one of --json, --file"},
		{"missing file", []string{"--file", file + ".nope"}, "--file: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(append([]string{"tenant", "settings", "set", "--tenant", "acme"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (stdout %q), want one containing %q", err, out, tc.want)
			}
		})
	}
	if g := c.ok("tenant", "settings", "get", "--tenant", "acme").(map[string]any); g["brute_force_threshold"] != float64(5) {
		t.Errorf("a refused set changed the settings: %v", g)
	}

	t.Run("help", func(t *testing.T) {
		out, err := c.run("tenant", "settings", "set", "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "--json") || !strings.Contains(out, "--file") {
			t.Errorf("tenant settings set -h: %v\n%s", err, out)
		}
	})
}
