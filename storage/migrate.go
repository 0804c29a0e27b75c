package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"
)

// migrationsFS holds one folder of versioned SQL files per dialect (migrations/sqlite, migrations/postgres),
// named NNNN_what.sql and starting with "-- +goose Up". Both folders hold the same versions.
//
//go:embed migrations
var migrationsFS embed.FS

// VersionTable is where applied migrations are recorded: goose's table layout (version_id, is_applied, tstamp).
const VersionTable = "goose_db_version"

// legacyVersionTable is where Authio recorded applied migrations before goose ran them; Migrate adopts it.
const legacyVersionTable = "schema_migrations"

// migrateLockID is the Postgres advisory lock that keeps two replicas from migrating at once. It is the id the
// runner before goose took, so an old and a new replica starting side by side still exclude each other.
const migrateLockID = 726354

// Migrate applies pending migrations in version order, each in its own transaction, and returns the versions
// applied (empty when the schema was current). A version with a Go step (goSteps) runs it in the same transaction
// right after its SQL; a step that fails rolls its whole version back and Migrate returns that error (an
// *EmailCollisionError, say) wrapped, with the versions applied before it. A database migrated by an older
// Authio, which recorded history in schema_migrations, is adopted first: nothing it applied runs again. On
// Postgres an advisory lock keeps two replicas from migrating at once.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	return s.migrate(ctx, math.MaxInt64)
}

// migrate is Migrate stopping after version upTo (tests build databases of an older schema with it).
func (s *Store) migrate(ctx context.Context, upTo int64) ([]int, error) {
	var applied []int
	err := s.migrationLock(ctx, func() error {
		if err := s.adoptLegacyHistory(ctx); err != nil {
			return fmt.Errorf("storage: adopt %s: %w", legacyVersionTable, err)
		}
		p, files, err := s.migrationProvider()
		if err != nil {
			return err
		}
		results, err := p.UpTo(ctx, upTo)
		for _, r := range results {
			applied = append(applied, int(r.Source.Version))
		}
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			for _, r := range pe.Applied {
				applied = append(applied, int(r.Source.Version))
			}
			return fmt.Errorf("migration %s: %w", files[pe.Failed.Source.Version], pe.Err)
		}
		return err
	})
	return applied, err
}

// migrationLock runs fn holding the migration lock: a Postgres advisory lock on a connection of its own. SQLite
// needs none (and has a single connection, which goose needs for itself).
func (s *Store) migrationLock(ctx context.Context, fn func() error) error {
	if s.dialect != "postgres" {
		return fn()
	}
	return s.withConn(ctx, func(db *gorm.DB) error {
		if err := db.Exec("SELECT pg_advisory_lock(?)", migrateLockID).Error; err != nil {
			return err
		}
		defer db.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_advisory_unlock(?)", migrateLockID)
		return fn()
	})
}

// migrationProvider builds the goose provider over this dialect's folder, and names each version's file.
// Versions with a Go step are Go migrations that run their SQL file and then the step in one transaction; goose
// reads every other file itself.
func (s *Store) migrationProvider() (*goose.Provider, map[int64]string, error) {
	dir, err := fs.Sub(migrationsFS, path.Join("migrations", s.dialect))
	if err != nil {
		return nil, nil, err
	}
	names, err := fs.Glob(dir, "*.sql")
	if err != nil {
		return nil, nil, err
	}
	var (
		gos      []*goose.Migration
		excluded []string
		files    = map[int64]string{}
	)
	for _, name := range names {
		v, err := fileVersion(name)
		if err != nil {
			return nil, nil, err
		}
		files[v] = name
		step := goSteps[int(v)]
		if step == nil {
			continue
		}
		body, err := fs.ReadFile(dir, name)
		if err != nil {
			return nil, nil, err
		}
		excluded = append(excluded, name)
		gos = append(gos, goose.NewGoMigration(v, &goose.GoFunc{RunTx: s.sqlThenStep(name, string(body), step)}, nil))
	}
	p, err := goose.NewProvider(s.gooseDialect(), s.sqlDB, dir,
		goose.WithDisableGlobalRegistry(true),
		goose.WithExcludeNames(excluded),
		goose.WithGoMigrations(gos...),
	)
	return p, files, err
}

func (s *Store) gooseDialect() goose.Dialect {
	if s.dialect == "postgres" {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// fileVersion is the version a migration file name starts with ("0003_hardening.sql" is 3).
func fileVersion(name string) (int64, error) {
	var v int64
	prefix, _, ok := strings.Cut(name, "_")
	if _, err := fmt.Sscanf(prefix, "%d", &v); !ok || err != nil || v < 1 {
		return 0, fmt.Errorf("storage: bad migration file name %q", name)
	}
	return v, nil
}

// sqlThenStep is the body of a Go migration: the statements of its SQL file, then its Go step, in goose's
// transaction for that version.
func (s *Store) sqlThenStep(name, body string, step func(tx *gorm.DB) error) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, stmt := range splitSQL(body) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		g := s.db.Session(&gorm.Session{NewDB: true, Context: ctx})
		g.Statement.ConnPool = tx
		return step(g)
	}
}

// splitSQL splits a migration file on semicolons. Only the files of versions with a Go step go through it, so
// they must keep to plain statements (no semicolons inside a statement, no function bodies).
func splitSQL(body string) []string {
	var out []string
	for _, stmt := range strings.Split(body, ";") {
		if strings.TrimSpace(stmt) != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// adoptLegacyHistory seeds goose's version table from schema_migrations(version, applied_at), which the runner
// before goose kept, when goose's table does not exist yet and the old one does: the versions listed there are
// recorded as applied at the time they were, so an existing database upgrades without re-running anything. It
// runs in one transaction; schema_migrations is left in place, unused.
func (s *Store) adoptLegacyHistory(ctx context.Context) error {
	store, err := database.NewStore(s.gooseDialect(), VersionTable)
	if err != nil {
		return err
	}
	if exists, err := s.tableExists(ctx, VersionTable); err != nil || exists {
		return err
	}
	legacy, err := s.tableExists(ctx, legacyVersionTable)
	if err != nil || !legacy {
		return err
	}
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	// Version 0 is goose's marker of an initialised table; the legacy versions follow in order.
	if err := store.Insert(ctx, tx, database.InsertRequest{Version: 0}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+VersionTable+` (version_id, is_applied, tstamp)
		SELECT version, `+s.trueLiteral()+`, applied_at FROM `+legacyVersionTable+` ORDER BY version`); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) trueLiteral() string {
	if s.dialect == "postgres" {
		return "TRUE"
	}
	return "1"
}

// tableExists reports whether the current schema (Postgres) or the database (SQLite) has a table called name.
func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if s.dialect == "postgres" {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := s.sqlDB.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}
