package storage

import (
	"context"

	"gorm.io/gorm"
)

// DBForTest exposes the connection pool to the package's external tests, which inspect raw rows (to prove
// token signatures are stored hashed) and manage Postgres test schemas.
func DBForTest(s *Store) *gorm.DB { return s.db }

// MigrateToForTest applies pending migrations up to and including version, so a test can fill a database of an
// older schema and then run Migrate over it.
func MigrateToForTest(ctx context.Context, s *Store, version int) ([]int, error) {
	return s.migrate(ctx, int64(version))
}
