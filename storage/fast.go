package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The hot paths (one insert per issued token, one lookup per introspection, an audit event per switch, sign-in
// or API key use) bypass gorm's reflection and, on Postgres, group concurrent inserts into one statement and
// one commit. Both still scope every
// statement by the tenant in the context, and both fall back to gorm inside a transaction.

const (
	pgInsertTokens = `INSERT INTO oauth_tokens
		(tenant_id, kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data, grant_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::boolean[], $8::timestamptz[], $9::timestamptz[], $10::bytea[], $11::text[])`
	pgInsertAudit = `INSERT INTO audit_events
		(id, tenant_id, type, actor, user_id, organization_id, client_id, ip, data, created_at)
		SELECT id, tenant_id, type, actor, user_id, organization_id, client_id, ip, data, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::timestamptz[]) WITH ORDINALITY AS r(id, tenant_id, type, actor, user_id,
			organization_id, client_id, ip, data, created_at, n) ORDER BY n`
	pgSelectToken     = `SELECT client_id, active, data FROM oauth_tokens WHERE tenant_id = $1 AND kind = $2 AND signature = $3`
	sqliteSelectToken = `SELECT client_id, active, data FROM oauth_tokens WHERE tenant_id = ? AND kind = ? AND signature = ?`
)

// inTxContext reports whether ctx carries a transaction opened by this store.
func inTxContext(ctx context.Context) bool {
	_, ok := txOf(ctx)
	return ok
}

// batcher turns concurrent inserts of one table into multi-row inserts: each caller waits for the commit that
// carries its row, so nothing is acknowledged before it is durable.
type batcher[T any] struct {
	insert func(ctx context.Context, rows []T) error
	ch     chan *pending[T]
	wg     sync.WaitGroup
	once   sync.Once
	// mu keeps add from sending on ch once close has closed it (a request still running while the server
	// shuts down): such an add fails with errBatcherClosed instead of panicking.
	mu     sync.RWMutex
	closed bool
}

// errBatcherClosed is what a write gets after the store was closed.
var errBatcherClosed = fmt.Errorf("%w: the store is closed", ErrUnavailable)

type pending[T any] struct {
	row  T
	done chan error
}

const (
	batchWorkers = 8
	batchMax     = 256
)

func newBatcher[T any](insert func(ctx context.Context, rows []T) error) *batcher[T] {
	b := &batcher[T]{insert: insert, ch: make(chan *pending[T], 4096)}
	for i := 0; i < batchWorkers; i++ {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

func (b *batcher[T]) work() {
	defer b.wg.Done()
	for first := range b.ch {
		batch := []*pending[T]{first}
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
		rows := make([]T, len(batch))
		for i, p := range batch {
			rows[i] = p.row
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := b.insert(ctx, rows)
		cancel()
		for _, p := range batch {
			p.done <- err
		}
	}
}

// add queues row and waits for its commit.
func (b *batcher[T]) add(ctx context.Context, row T) error {
	p := &pending[T]{row: row, done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errBatcherClosed
	}
	select {
	case b.ch <- p:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	// The insert ran under the batch's own context; record its failure in the caller's.
	return failed(ctx, <-p.done)
}

func (b *batcher[T]) close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		close(b.ch)
		b.mu.Unlock()
		b.wg.Wait()
	})
}

// insertTokens writes token records in one statement.
func insertTokens(db *sql.DB) func(ctx context.Context, rows []*oauthToken) error {
	return func(ctx context.Context, rows []*oauthToken) error {
		cols, err := tokenColumns(rows)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, pgInsertTokens, cols...)
		return mapErr(err)
	}
}

// insertAudit writes audit events in one statement; seq comes from the table's sequence in row order.
func insertAudit(db *sql.DB) func(ctx context.Context, rows []*AuditEvent) error {
	return func(ctx context.Context, rows []*AuditEvent) error {
		cols, err := auditColumns(rows)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, pgInsertAudit, cols...)
		return mapErr(err)
	}
}

// insertToken stores a token record: held for its write group (WriteTogether), batched on Postgres outside
// transactions, through gorm otherwise.
func (s *Store) insertToken(ctx context.Context, row *oauthToken) error {
	if g := groupOf(ctx); g != nil {
		g.tokens = append(g.tokens, row)
		return nil
	}
	if s.tokens != nil && !inTxContext(ctx) {
		return s.tokens.add(ctx, row)
	}
	return mapErr(s.conn(ctx).Create(row).Error)
}

// selectToken loads the columns getToken needs for the tenant in ctx.
func (s *Store) selectToken(ctx context.Context, kind, signature string) (clientID string, active bool, data []byte, err error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return "", false, nil, err
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
	return clientID, active, data, failed(ctx, err)
}
