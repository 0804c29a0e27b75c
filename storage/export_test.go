package storage

import "gorm.io/gorm"

// DBForTest exposes the connection pool to the package's external tests, which inspect raw rows (to prove
// token signatures are stored hashed) and manage Postgres test schemas.
func DBForTest(s *Store) *gorm.DB { return s.db }
