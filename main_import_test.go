package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLITenantImport runs `authio tenant import FILE`: one JSON line per input line on stdout, in order, each line
// created whole or not at all; a second run reports every created slug as existing; a failed line fails the
// command. tenant list shows exactly what was created.
func TestCLITenantImport(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "tenants.jsonl")
	lines := `{"slug":"acme","domains":["auth.acme.test"],"clients":[{"name":"backend","type":"confidential","grant_types":["client_credentials"]}]}
{"slug":"globex","signing_alg":"ES256"}

{"slug":"initech","domains":["auth.acme.test"]}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Line   int    `json:"line"`
		Slug   string `json:"slug"`
		Status string `json:"status"`
		Tenant *struct {
			ID      string   `json:"id"`
			Domains []string `json:"domains"`
		} `json:"tenant"`
		Clients []struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		} `json:"clients"`
		Error *struct {
			Field, Message string
		} `json:"error"`
	}
	parse := func(out string) []result {
		var rs []result
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var r result
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("stdout line %q: %v", sc.Text(), err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	out, err := c.run("tenant", "import", file)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 lines failed") {
		t.Errorf("import with a failing line: err = %v, want it to say 1 of 3 lines failed", err)
	}
	rs := parse(out)
	if len(rs) != 3 || rs[0].Line != 1 || rs[0].Status != "created" || rs[1].Line != 2 || rs[1].Status != "created" ||
		rs[2].Line != 4 || rs[2].Status != "error" || rs[2].Error == nil || rs[2].Error.Field != "domains" {
		t.Fatalf("results = %s", out)
	}
	if len(rs[0].Clients) != 1 || rs[0].Clients[0].ClientID == "" || rs[0].Clients[0].ClientSecret == "" {
		t.Errorf("acme's client = %+v, want its id and secret", rs[0].Clients)
	}
	list, ok := c.ok("tenant", "list").([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("tenant list = %v, want acme and globex", list)
	}

	// Run again, fixed: the existing tenants are reported and left alone, initech is created.
	fixed := strings.Replace(lines, `"slug":"initech","domains":["auth.acme.test"]`, `"slug":"initech"`, 1)
	if err := os.WriteFile(file, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = c.run("tenant", "import", file)
	if err != nil {
		t.Fatalf("second import: %v", err)
	}
	rs2 := parse(out)
	if len(rs2) != 3 || rs2[0].Status != "exists" || rs2[0].Tenant.ID != rs[0].Tenant.ID || len(rs2[0].Clients) != 0 ||
		rs2[1].Status != "exists" || rs2[2].Status != "created" {
		t.Errorf("second import = %s, want exists, exists, created", out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"tenant", "import"}, "FILE"},
		{"missing file", []string{"tenant", "import", filepath.Join(t.TempDir(), "nope.jsonl")}, "nope.jsonl"},
	} {
		if _, err := c.run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}

// TestCLIKeyPool: `key pool fill` generates RSA keys into the pool, `key pool status` counts them, and an RS256
// tenant made by the CLI takes one (an ES256 tenant does not); bad counts are usage errors.
func TestCLIKeyPool(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	filled := c.ok("key", "pool", "fill", "--count", "2", "--workers", "2").(map[string]any)
	if filled["added"] != float64(2) || filled["ready"] != float64(2) {
		t.Fatalf("key pool fill = %v", filled)
	}
	status := func() float64 {
		t.Helper()
		st := c.ok("key", "pool", "status").(map[string]any)
		if st["alg"] != "RS256" || len(st) != 2 {
			t.Fatalf("key pool status = %v", st)
		}
		return st["ready"].(float64)
	}
	if n := status(); n != 2 {
		t.Fatalf("ready %v after filling 2", n)
	}
	c.ok("tenant", "create", "--slug", "es", "--signing-alg", "ES256")
	if n := status(); n != 2 {
		t.Fatalf("ready %v after an ES256 tenant, want 2", n)
	}
	c.ok("tenant", "create", "--slug", "rs")
	if n := status(); n != 1 {
		t.Fatalf("ready %v after an RS256 tenant, want 1", n)
	}
	// A tenant that is not created (its domain is taken) gives its key back.
	if _, err := c.run("tenant", "create", "--slug", "rs2", "--domain", "rs.localhost"); err == nil {
		t.Fatal("a tenant with another tenant's domain was created")
	}
	if n := status(); n != 1 {
		t.Fatalf("ready %v after a tenant that was not created, want 1 (its key given back)", n)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"key", "pool", "fill"}, "--count is required"},
		{[]string{"key", "pool", "fill", "--count", "0"}, "--count must be between 1 and 100000"}, // given, out of range
		{[]string{"key", "pool", "fill", "--count", "100001"}, "--count must be between 1 and 100000"},
		{[]string{"key", "pool", "fill", "--count", "1", "--workers", "0"}, "--workers must be at least 1"},
	} {
		if _, err := c.run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("authio %s: %v, want a usage error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
