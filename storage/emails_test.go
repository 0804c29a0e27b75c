package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/storage"
	"gorm.io/gorm"
)

// unmigratedStores opens an empty database per backend: SQLite, and Postgres in a schema of its own when
// AUTHIO_TEST_POSTGRES_DSN is set.
func unmigratedStores(t *testing.T) map[string]func(t *testing.T) *storage.Store {
	out := map[string]func(t *testing.T) *storage.Store{"sqlite": func(t *testing.T) *storage.Store {
		s, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}}
	if os.Getenv(postgresEnv) != "" {
		out["postgres"] = newUnmigratedPostgresStore
	}
	return out
}

// newUnmigratedPostgresStore opens an empty schema of the test's own in the Postgres database at
// AUTHIO_TEST_POSTGRES_DSN, dropped when the test ends.
func newUnmigratedPostgresStore(t *testing.T) *storage.Store {
	t.Helper()
	ctx := context.Background()
	dsn := os.Getenv(postgresEnv)
	admin, err := storage.Open(dsn, storage.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("%s is set but the database is unreachable: %v", postgresEnv, err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	schema := "authio_test_" + randomHex(t)
	if err := storage.DBForTest(admin).WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := storage.DBForTest(admin).WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	scoped, err := withSearchPath(dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := storage.Open(scoped, storage.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open postgres schema %s: %v", schema, err)
	}
	t.Cleanup(func() { _ = s.Close() }) // before the schema is dropped
	return s
}

// newPostgresStore is newUnmigratedPostgresStore, migrated.
func newPostgresStore(t *testing.T) *storage.Store {
	t.Helper()
	s := newUnmigratedPostgresStore(t)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// migratedStores opens a migrated database per backend, as unmigratedStores.
func migratedStores() map[string]func(t *testing.T) *storage.Store {
	out := map[string]func(t *testing.T) *storage.Store{"sqlite": newSQLiteStore}
	if os.Getenv(postgresEnv) != "" {
		out["postgres"] = newPostgresStore
	}
	return out
}

// newStoreTenant creates a tenant in s and returns a context scoped to it.
func newStoreTenant(t *testing.T, s *storage.Store) context.Context {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	tn := storage.Tenant{ID: "ten_" + randomHex(t), Slug: "t" + randomHex(t), Name: "T", SigningAlg: "RS256", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateTenant(context.Background(), tn, []string{tn.Slug + ".example.test"}); err != nil {
		t.Fatal(err)
	}
	return storage.WithTenant(context.Background(), tn.ID)
}

// TestMigrationCanonicalizesEmails: migration 3 puts stored emails in canonical form, and stops with a list,
// changing nothing, when two users of a tenant would end up with the same address.
func TestMigrationCanonicalizesEmails(t *testing.T) {
	t.Parallel()
	const (
		nfc = "j\u00fcrgen@example.test"
		nfd = "ju\u0308rgen@example.test"
	)
	for name, open := range unmigratedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t)
			db := legacyDatabase(t, s, 2, "acme", "globex")
			now := time.Now().UTC()
			// Rows as an older Authio stored them: lower-cased, but neither normalized nor folded.
			users := []struct{ id, tenant, email string }{
				{"user_a1", "ten_acme", nfc},
				{"user_a2", "ten_acme", nfd},
				{"user_a3", "ten_acme", "stra\u00dfe@example.test"},
				{"user_a4", "ten_acme", "strasse@example.test"},
				{"user_a5", "ten_acme", "alice@example.test"},
				{"user_g1", "ten_globex", nfd}, // acme's collision, but alone in its tenant
				{"user_g2", "ten_globex", "alice@example.test"},
			}
			for i, u := range users {
				if err := db.Exec("INSERT INTO users (id, tenant_id, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					u.id, u.tenant, u.email, now.Add(time.Duration(i)*time.Second), now).Error; err != nil {
					t.Fatal(err)
				}
			}
			emails := func() map[string]string {
				t.Helper()
				var rows []struct{ ID, Email string }
				if err := db.Raw("SELECT id, email FROM users").Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				m := map[string]string{}
				for _, r := range rows {
					m[r.ID] = r.Email
				}
				return m
			}
			versions := func() []int {
				t.Helper()
				var vs []int
				if err := db.Raw("SELECT version_id FROM " + storage.VersionTable + " WHERE version_id > 0 AND is_applied ORDER BY version_id").Scan(&vs).Error; err != nil {
					t.Fatal(err)
				}
				return vs
			}
			before := emails()

			applied, err := s.Migrate(ctx)
			var ce *storage.EmailCollisionError
			if !errors.As(err, &ce) {
				t.Fatalf("Migrate over colliding emails: applied %v, err %v; want an EmailCollisionError", applied, err)
			}
			want := []storage.EmailCollision{
				{TenantID: "ten_acme", TenantSlug: "acme", Canonical: nfc, UserIDs: []string{"user_a1", "user_a2"}, Emails: []string{nfc, nfd}},
				{TenantID: "ten_acme", TenantSlug: "acme", Canonical: "strasse@example.test", UserIDs: []string{"user_a3", "user_a4"},
					Emails: []string{"stra\u00dfe@example.test", "strasse@example.test"}},
			}
			if fmt.Sprint(ce.Groups) != fmt.Sprint(want) {
				t.Errorf("collision groups\n got %+v\nwant %+v", ce.Groups, want)
			}
			msg := err.Error()
			for _, w := range []string{"user_a1", "user_a2", "user_a3", "user_a4", "ten_acme", "acme", `"j\u00fcrgen@example.test"`,
				`"ju\u0308rgen@example.test"`, `"stra\u00dfe@example.test"`, "nothing was changed", "run the migration again"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %s:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "user_g1") || strings.Contains(msg, "user_a5") {
				t.Errorf("error lists users that do not collide:\n%s", msg)
			}
			if got := emails(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("a refused migration changed emails:\n got %v\nwant %v", got, before)
			}
			if vs := versions(); !slices.Equal(vs, []int{1, 2}) {
				t.Errorf("versions recorded after the refusal = %v, want [1 2]", vs)
			}

			// The operator resolves both groups (one user each deleted), and the migration goes through.
			if err := db.Exec("DELETE FROM users WHERE id IN ('user_a2', 'user_a4')").Error; err != nil {
				t.Fatal(err)
			}
			applied, err = s.Migrate(ctx)
			if err != nil || !slices.Contains(applied, 3) {
				t.Fatalf("Migrate after resolving: applied %v, err %v", applied, err)
			}
			wantEmails := map[string]string{
				"user_a1": nfc, "user_a3": "strasse@example.test", "user_a5": "alice@example.test",
				"user_g1": nfc, "user_g2": "alice@example.test",
			}
			if got := emails(); fmt.Sprint(got) != fmt.Sprint(wantEmails) {
				t.Errorf("emails after the migration\n got %+q\nwant %+q", got, wantEmails)
			}
			// From now on storage itself keeps emails canonical: on create, on update, and for uniqueness.
			actx := storage.WithTenant(ctx, "ten_acme")
			err = s.CreateUser(actx, storage.User{ID: "user_dup", Email: " JU\u0308RGEN@EXAMPLE.TEST", CreatedAt: now, UpdatedAt: now})
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("CreateUser in the NFD upper-case spelling of user_a1: %v, want ErrAlreadyExists", err)
			}
			if err := s.CreateUser(actx, storage.User{ID: "user_new", Email: " \u212aATE@Example.test ", CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateUser(actx, "user_a5", func(u storage.User) (storage.User, error) {
				u.Email = "ALI\u0421E@example.test" // a Cyrillic С: looks alike, is another address
				return u, nil
			}); err != nil {
				t.Fatal(err)
			}
			got := emails()
			if got["user_new"] != "kate@example.test" || got["user_a5"] != "ali\u0441e@example.test" {
				t.Errorf("stored by CreateUser/UpdateUser: %+q, %+q; want canonical", got["user_new"], got["user_a5"])
			}
			// And lookups in any spelling find them.
			for id, spelling := range map[string]string{"user_a1": "JU\u0308RGEN@example.test", "user_a3": "STRASSE@EXAMPLE.TEST"} {
				u, err := s.GetUserByEmail(storage.WithTenant(ctx, "ten_acme"), spelling)
				if err != nil || u.ID != id {
					t.Errorf("GetUserByEmail(%+q) = %s, %v; want %s", spelling, u.ID, err, id)
				}
			}
		})
	}
}

// legacyDatabase migrates s to version only, as an older Authio left it, and stores tenants with those slugs
// (ids "ten_<slug>"); it returns the raw connection to write rows as that version stored them.
func legacyDatabase(t *testing.T, s *storage.Store, version int, slugs ...string) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	want := make([]int, version)
	for i := range want {
		want[i] = i + 1
	}
	if applied, err := storage.MigrateToForTest(ctx, s, version); err != nil || !slices.Equal(applied, want) {
		t.Fatalf("migrating to version %d: %v, %v", version, applied, err)
	}
	db := storage.DBForTest(s).WithContext(ctx)
	now := time.Now().UTC()
	for _, tn := range slugs {
		if err := db.Exec("INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			"ten_"+tn, tn, tn, now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	return db
}
