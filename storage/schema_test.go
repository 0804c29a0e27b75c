package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/storage"
	"github.com/authio/authio/storage/conformance"
)

// bookkeeping tables belong to the migration runner, not to the schema the dialects must agree on.
var bookkeeping = []string{storage.VersionTable, "schema_migrations"}

// schemaColumns reads the live schema from the database's own catalog: every table (bookkeeping aside) and its
// column names, sorted.
func schemaColumns(t *testing.T, s *storage.Store) map[string][]string {
	t.Helper()
	db := storage.DBForTest(s).WithContext(context.Background())
	var rows []struct{ TableName, ColumnName string }
	var err error
	switch s.Dialect() {
	case "sqlite":
		err = db.Raw(`SELECT m.name AS table_name, p.name AS column_name
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`).Scan(&rows).Error
	case "postgres":
		err = db.Raw(`SELECT c.table_name, c.column_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`).Scan(&rows).Error
	default:
		t.Fatalf("unknown dialect %q", s.Dialect())
	}
	if err != nil {
		t.Fatalf("read the %s catalog: %v", s.Dialect(), err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		if !slices.Contains(bookkeeping, r.TableName) {
			out[r.TableName] = append(out[r.TableName], r.ColumnName)
		}
	}
	for _, cols := range out {
		sort.Strings(cols)
	}
	if len(out) == 0 {
		t.Fatalf("the %s catalog lists no tables after migrating", s.Dialect())
	}
	return out
}

// migrationFiles lists the migration files of one dialect's folder.
func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestDialectsDefineTheSameSchema: both folders hold the same migration files (versions and names), each a goose
// Up migration, and after migrating, SQLite and Postgres have the same tables with the same columns.
func TestDialectsDefineTheSameSchema(t *testing.T) {
	t.Parallel()
	sqliteFiles, pgFiles := migrationFiles(t, "sqlite"), migrationFiles(t, "postgres")
	if !slices.Equal(sqliteFiles, pgFiles) {
		t.Errorf("migration files differ between dialects:\n sqlite   %v\n postgres %v", sqliteFiles, pgFiles)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, name := range migrationFiles(t, dialect) {
			body, err := os.ReadFile(filepath.Join("migrations", dialect, name))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(body), "-- +goose Up\n") {
				t.Errorf("migrations/%s/%s does not start with \"-- +goose Up\"", dialect, name)
			}
		}
	}

	lite := schemaColumns(t, newSQLiteStore(t))
	if os.Getenv(postgresEnv) == "" {
		t.Log(postgresEnv + " is not set: compared the migration files only, not the Postgres catalog")
		return
	}
	pg := schemaColumns(t, newPostgresStore(t))
	for table, cols := range lite {
		if pgCols, ok := pg[table]; !ok {
			t.Errorf("table %s exists on SQLite only", table)
		} else if !slices.Equal(cols, pgCols) {
			t.Errorf("table %s has different columns:\n sqlite   %v\n postgres %v", table, cols, pgCols)
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s exists on Postgres only", table)
		}
	}
}

// TestIsolationCoversEveryTenantTable: every table with a tenant_id column in the live schema is one the
// conformance suite's isolation tests cover (conformance.IsolatedTables), and every table listed there exists and
// has tenant_id. A new tenant-owned table fails here until an isolation test covers it.
func TestIsolationCoversEveryTenantTable(t *testing.T) {
	t.Parallel()
	for name, open := range migratedStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var tenantTables []string
			for table, cols := range schemaColumns(t, open(t)) {
				if slices.Contains(cols, "tenant_id") {
					tenantTables = append(tenantTables, table)
				}
			}
			sort.Strings(tenantTables)
			for _, table := range tenantTables {
				if _, ok := conformance.IsolatedTables[table]; !ok {
					t.Errorf("table %s has a tenant_id column but no isolation test covers it: add cases to "+
						"testTenantIsolation or testOrgTenantIsolation and list it in conformance.IsolatedTables", table)
				}
			}
			for table := range conformance.IsolatedTables {
				if !slices.Contains(tenantTables, table) {
					t.Errorf("conformance.IsolatedTables lists %s, which is not a table with a tenant_id column", table)
				}
			}
		})
	}
}

// TestMigrateAdoptsLegacyHistory: a database that the runner before goose migrated to version 4 (its history in
// schema_migrations) upgrades without re-running anything: Migrate applies only versions after 4, records 1-4 as
// applied when they were, and leaves the data alone.
func TestMigrateAdoptsLegacyHistory(t *testing.T) {
	t.Parallel()
	for name, open := range unmigratedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t)
			db := storage.DBForTest(s).WithContext(ctx)
			// What the old runner did: its own history table, each file's statements, one row per version.
			if err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`).Error; err != nil {
				t.Fatal(err)
			}
			appliedAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			for v, file := range migrationFiles(t, s.Dialect())[:4] {
				body, err := os.ReadFile(filepath.Join("migrations", s.Dialect(), file))
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
				if err := db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", v+1, appliedAt.Add(time.Duration(v)*time.Hour)).Error; err != nil {
					t.Fatal(err)
				}
			}
			// A tenant stored at version 4: a re-run of 0001 would fail on its CREATE TABLEs, a re-run of the
			// later ones on their ALTER TABLEs, so success alone shows nothing ran twice; the row shows nothing was lost.
			now := time.Now().UTC()
			if err := db.Exec("INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ('ten_old', 'old', 'Old', ?, ?)", now, now).Error; err != nil {
				t.Fatal(err)
			}

			applied, err := s.Migrate(ctx)
			if err != nil {
				t.Fatalf("Migrate over a legacy database: %v", err)
			}
			for _, v := range applied {
				if v <= 4 {
					t.Errorf("Migrate re-applied version %d (applied %v)", v, applied)
				}
			}
			var recorded []struct {
				VersionID int
				Tstamp    time.Time
			}
			if err := db.Raw("SELECT version_id, tstamp FROM " + storage.VersionTable + " WHERE version_id BETWEEN 1 AND 4 AND is_applied ORDER BY version_id").
				Scan(&recorded).Error; err != nil {
				t.Fatal(err)
			}
			if len(recorded) != 4 {
				t.Fatalf("versions 1-4 recorded %d times in %s, want 4: %+v", len(recorded), storage.VersionTable, recorded)
			}
			for i, r := range recorded {
				if want := appliedAt.Add(time.Duration(i) * time.Hour); r.VersionID != i+1 || !r.Tstamp.Equal(want) {
					t.Errorf("recorded %+v, want version %d applied at %v", r, i+1, want)
				}
			}
			if tn, err := s.GetTenant(ctx, "old"); err != nil || tn.ID != "ten_old" {
				t.Errorf("tenant stored before the upgrade: %+v, %v", tn, err)
			}
			if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
				t.Errorf("second Migrate applied %v, %v; want nothing", again, err)
			}
		})
	}
}
