package storage

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"
)

// The token hot paths (one insert per issued token, one lookup per introspection) bypass gorm's reflection
// and, on Postgres, group concurrent inserts into one statement and one commit. Both still scope every
// statement by the tenant in the context, and both fall back to gorm inside a transaction.

const (
	pgInsertTokens = `INSERT INTO oauth_tokens
		(tenant_id, kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::boolean[], $8::timestamptz[], $9::timestamptz[], $10::bytea[])`
	pgSelectToken     = `SELECT client_id, active, data FROM oauth_tokens WHERE tenant_id = $1 AND kind = $2 AND signature = $3`
	sqliteSelectToken = `SELECT client_id, active, data FROM oauth_tokens WHERE tenant_id = ? AND kind = ? AND signature = ?`
)

// inTxContext reports whether ctx carries a transaction opened by this store.
func inTxContext(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// tokenBatcher turns concurrent token inserts into multi-row inserts: each caller waits for the commit that
// carries its row, so nothing is acknowledged before it is durable.
type tokenBatcher struct {
	db   *sql.DB
	ch   chan *pendingToken
	wg   sync.WaitGroup
	once sync.Once
}

type pendingToken struct {
	row  *oauthToken
	done chan error
}

const (
	batchWorkers = 8
	batchMax     = 256
)

func newTokenBatcher(db *sql.DB) *tokenBatcher {
	b := &tokenBatcher{db: db, ch: make(chan *pendingToken, 4096)}
	for i := 0; i < batchWorkers; i++ {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

func (b *tokenBatcher) work() {
	defer b.wg.Done()
	for first := range b.ch {
		batch := []*pendingToken{first}
	fill:
		for len(batch) < batchMax {
			select {
			case p, ok := <-b.ch:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		err := b.insert(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (b *tokenBatcher) insert(batch []*pendingToken) error {
	n := len(batch)
	var (
		tenants, kinds, sigs, reqs, clients, subjects = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		active                                        = make([]bool, n)
		requested                                     = make([]time.Time, n)
		expires                                       = make([]*time.Time, n)
		data                                          = make([][]byte, n)
	)
	for i, p := range batch {
		r := p.row
		tenants[i], kinds[i], sigs[i], reqs[i], clients[i], subjects[i] = r.TenantID, r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject
		active[i], requested[i], expires[i], data[i] = r.Active, r.RequestedAt, r.ExpiresAt, r.Data
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.db.ExecContext(ctx, pgInsertTokens, tenants, kinds, sigs, reqs, clients, subjects, active, requested, expires, data)
	return mapErr(err)
}

// add queues row and waits for its commit.
func (b *tokenBatcher) add(ctx context.Context, row *oauthToken) error {
	p := &pendingToken{row: row, done: make(chan error, 1)}
	select {
	case b.ch <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-p.done
}

func (b *tokenBatcher) close() {
	b.once.Do(func() {
		close(b.ch)
		b.wg.Wait()
	})
}

// insertToken stores a token record: batched on Postgres outside transactions, through gorm otherwise.
func (s *Store) insertToken(ctx context.Context, row *oauthToken) error {
	if s.batch != nil && !inTxContext(ctx) {
		return s.batch.add(ctx, row)
	}
	return mapErr(s.conn(ctx).Create(row).Error)
}

// selectToken loads the columns getToken needs for the tenant in ctx.
func (s *Store) selectToken(ctx context.Context, kind, signature string) (clientID string, active bool, data []byte, err error) {
	tid, ok := TenantFromContext(ctx)
	if !ok {
		return "", false, nil, ErrNoTenant
	}
	if inTxContext(ctx) {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return "", false, nil, err
		}
		var row oauthToken
		if err := db.Where("kind = ? AND signature = ?", kind, signature).Take(&row).Error; err != nil {
			return "", false, nil, mapErr(err)
		}
		return row.ClientID, row.Active, row.Data, nil
	}
	q := sqliteSelectToken
	if s.dialect == "postgres" {
		q = pgSelectToken
	}
	err = s.sqlDB.QueryRowContext(ctx, q, tid, kind, signature).Scan(&clientID, &active, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil, ErrNotFound
	}
	return clientID, active, data, err
}
