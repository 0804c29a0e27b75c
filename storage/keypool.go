package storage

import (
	"context"
	"time"
)

// PooledKey is a signing key generated ahead of need: whole as a tenant's SigningKey will hold it (the kid it will
// be published under, the private key encrypted under the server's secret key, the public JWK), but no tenant's
// yet. RSA keys take 50-100 ms of CPU to generate; a tenant created with a pooled key costs milliseconds.
type PooledKey struct {
	ID         string `gorm:"primaryKey"` // "key_…", the kid
	Alg        string
	PrivateKey []byte
	PublicJWK  string
	CreatedAt  time.Time
}

// TableName is the pool's table.
func (PooledKey) TableName() string { return "key_pool" }

// SigningKey returns k as the active signing key of the tenant it is given to.
func (k PooledKey) SigningKey() SigningKey {
	return SigningKey{ID: k.ID, Alg: k.Alg, PrivateKey: k.PrivateKey, PublicJWK: k.PublicJWK, Active: true,
		CreatedAt: k.CreatedAt}
}

// KeyPool stores keys generated ahead of need, shared by every process on the database and kept across
// restarts. Not tenant-scoped: a pooled key belongs to no tenant until it is taken.
type KeyPool interface {
	// AddPooledKeys stores keys. ErrAlreadyExists when a kid is taken.
	AddPooledKeys(ctx context.Context, keys []PooledKey) error
	// TakePooledKey removes the oldest pooled key of alg and returns it, in one statement: of concurrent takers
	// (in this process or others) each gets a different key, and none waits for another's transaction.
	// ErrNotFound when the pool holds none of alg.
	TakePooledKey(ctx context.Context, alg string) (PooledKey, error)
	// CountPooledKeys returns how many keys of alg the pool holds.
	CountPooledKeys(ctx context.Context, alg string) (int, error)
	// ReturnPooledKey puts k, taken (TakePooledKey) for a tenant that was then not created or rotated, back into the
	// pool, unless a tenant holds a signing key with its kid: the check and the insert are one statement, so a key
	// whose tenant did commit after all is never handed out again. It reports whether k went back.
	ReturnPooledKey(ctx context.Context, k PooledKey) (bool, error)
}

var _ KeyPool = (*Store)(nil)

// AddPooledKeys implements KeyPool.
func (s *Store) AddPooledKeys(ctx context.Context, keys []PooledKey) error {
	if len(keys) == 0 {
		return nil
	}
	rows := make([]PooledKey, len(keys))
	for i, k := range keys {
		k.CreatedAt = k.CreatedAt.UTC()
		rows[i] = k
	}
	return mapErr(s.conn(ctx).CreateInBatches(&rows, 100).Error)
}

// TakePooledKey implements KeyPool: one DELETE … RETURNING of the oldest row of alg, which Postgres picks among
// the rows no other taker has locked (SKIP LOCKED); SQLite runs one writer at a time.
func (s *Store) TakePooledKey(ctx context.Context, alg string) (PooledKey, error) {
	lock := ""
	if s.dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rows []PooledKey
	err := s.conn(ctx).Raw("DELETE FROM key_pool WHERE id = (SELECT id FROM key_pool WHERE alg = ? ORDER BY created_at, id LIMIT 1"+
		lock+") RETURNING id, alg, private_key, public_jwk, created_at", alg).Scan(&rows).Error
	if err != nil {
		return PooledKey{}, mapErr(err)
	}
	if len(rows) == 0 {
		return PooledKey{}, ErrNotFound
	}
	return rows[0], nil
}

// CountPooledKeys implements KeyPool.
func (s *Store) CountPooledKeys(ctx context.Context, alg string) (int, error) {
	var n int64
	err := s.conn(ctx).Model(&PooledKey{}).Where("alg = ?", alg).Count(&n).Error
	return int(n), mapErr(err)
}

// ReturnPooledKey implements KeyPool. The check reads signing_keys across tenants, by kid only and for its
// existence: the pool belongs to no tenant, and kids are unique across all of them.
func (s *Store) ReturnPooledKey(ctx context.Context, k PooledKey) (bool, error) {
	res := s.conn(ctx).Exec("INSERT INTO key_pool (id, alg, private_key, public_jwk, created_at) SELECT ?, ?, ?, ?, ? "+
		"WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE id = ?)", k.ID, k.Alg, k.PrivateKey, k.PublicJWK, k.CreatedAt.UTC(), k.ID)
	if res.Error != nil {
		return false, mapErr(res.Error)
	}
	return res.RowsAffected == 1, nil
}
