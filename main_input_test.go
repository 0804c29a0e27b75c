package main

import (
	"errors"
	"strings"
	"testing"
)

// TestCLIRefusesUnstorableFlags: a flag value the database cannot keep (a NUL byte, invalid UTF-8) is a usage
// error naming the flag, before anything is opened or created — on Postgres it used to surface as a raw
// database error, on SQLite as a user with a NUL in their email.
func TestCLIRefusesUnstorableFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"NUL in an email", []string{"user", "create", "--tenant", "acme", "--email", "a\x00b@acme.test", "--password", "long-enough-password"}, "--email"},
		{"invalid UTF-8 in a name", []string{"tenant", "create", "--slug", "globex", "--name", "Glo\xffbex"}, "--name"},
		{"NUL in a redirect URI", []string{"client", "create", "--tenant", "acme", "--name", "web", "--type", "public",
			"--redirect-uri", "https://app.test/cb\x00"}, "--redirect-uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.run(tc.args...)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.flag) {
				t.Fatalf("authio %s: %v (stdout %q), want a usage error naming %s", tc.args[0], err, out, tc.flag)
			}
		})
	}
	tenants := c.ok("tenant", "list")
	if l, _ := tenants.([]any); len(l) != 1 {
		t.Errorf("tenants after the refused commands: %v, want acme alone", tenants)
	}
}
