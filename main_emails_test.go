package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// TestCLIEmailsAreCanonical: the CLI's --email flags take any spelling of an address (Unicode normalization,
// case, surrounding space) as that one address.
func TestCLIEmailsAreCanonical(t *testing.T) {
	t.Parallel()
	const (
		nfc = "j\u00fcrgen@acme.test"
		nfd = "ju\u0308rgen@acme.test"
	)
	c := newCLI(t)
	c.ok("tenant", "create", "--slug", "acme")
	created := obj(t, c.ok("user", "create", "--tenant", "acme", "--email", nfc, "--password", "long-enough-password"), "email", "email_verified", "id")
	if created["email"] != nfc {
		t.Errorf("user create printed email %+q, want %+q", created["email"], nfc)
	}
	for _, spelling := range []string{nfd, " JU\u0308RGEN@ACME.TEST ", "J\u00dcRGEN@acme.test"} {
		out, err := c.run("user", "create", "--tenant", "acme", "--email", spelling, "--password", "long-enough-password")
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("user create %+q after %+q: %v (stdout %q), want it refused as existing", spelling, nfc, err, out)
		}
	}
	c.ok("org", "create", "--tenant", "acme", "--name", "acme-corp")
	member := obj(t, c.ok("member", "add", "--tenant", "acme", "--org", "acme-corp", "--email", "JU\u0308RGEN@Acme.test"),
		"id", "organization_id", "roles", "status", "user_id")
	if member["user_id"] != created["id"] {
		t.Errorf("member add --email in NFD upper case added %v, want %v", member["user_id"], created["id"])
	}
	c.ok("role", "create", "--tenant", "acme", "--name", "support")
	if _, err := c.run("role", "assign", "--tenant", "acme", "--role", "support", "--email", nfd); err != nil {
		t.Errorf("role assign --email in NFD: %v", err)
	}
}

// TestCLIMigrateStopsOnCollidingEmails: a database whose users collide once emails are canonical stops migrate
// and serve with the list of colliding users, and changes nothing.
func TestCLIMigrateStopsOnCollidingEmails(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := strings.TrimPrefix(c.dsn, "sqlite:")
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	// The schema at version 2, as an older Authio left it, with two users an older Authio told apart.
	if err := db.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, file := range []string{"0001_init.sql", "0002_organizations.sql"} { // in order: 2 alters 1's tables
		v := i + 1
		body, err := os.ReadFile(filepath.Join("storage", "migrations", "sqlite", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(body), ";") {
			if strings.TrimSpace(stmt) != "" {
				if err := db.Exec(stmt).Error; err != nil {
					t.Fatalf("%s: %v", file, err)
				}
			}
		}
		if err := db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", v, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		"INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ('ten_acme', 'acme', 'Acme', ?, ?)",
		"INSERT INTO users (id, tenant_id, email, created_at, updated_at) VALUES ('user_nfc', 'ten_acme', 'j\u00fcrgen@acme.test', ?, ?)",
		"INSERT INTO users (id, tenant_id, email, created_at, updated_at) VALUES ('user_nfd', 'ten_acme', 'ju\u0308rgen@acme.test', ?, ?)",
	} {
		if err := db.Exec(stmt, now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}

	check := func(t *testing.T, cmd string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s over colliding emails succeeded", cmd)
		}
		for _, w := range []string{"user_nfc", "user_nfd", "acme", `"ju\u0308rgen@acme.test"`, "run the migration again"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s error does not mention %s:\n%v", cmd, w, err)
			}
		}
	}
	out, err := c.run("migrate")
	check(t, "migrate", err)
	if out != "" {
		t.Errorf("migrate printed %q on failure", out)
	}
	// serve migrates before it listens; the deadline only guards against a serve that wrongly starts.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, c.environ, &stdout, &stderr)
	check(t, "serve", err)
	if ctx.Err() != nil {
		t.Fatal("serve started instead of stopping on the collision")
	}
}
