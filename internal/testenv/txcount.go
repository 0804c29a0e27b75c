package testenv

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/authio/authio/storage"
)

// TxCounter counts the transactions a Postgres store runs, as Postgres counts them (pg_stat_database's
// xact_commit + xact_rollback): a BEGIN … COMMIT (or ROLLBACK) block is one, and so is every statement sent
// outside a block (an implicit transaction). It is a pgx.QueryTracer for storage.Options.Tracer; it sees the
// statements of gorm and of the store's own SQL (token and audit batches, token lookups) alike.
type TxCounter struct {
	mu   sync.Mutex
	n    int
	inTx map[*pgx.Conn]bool
	log  []string
}

var _ pgx.QueryTracer = (*TxCounter)(nil)

// TraceQueryStart implements pgx.QueryTracer.
func (c *TxCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	sql := strings.ToLower(strings.TrimSpace(data.SQL))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inTx == nil {
		c.inTx = map[*pgx.Conn]bool{}
	}
	switch {
	case sql == "" || sql == ";": // database/sql's liveness ping: no statement, no transaction
	case strings.HasPrefix(sql, "begin"):
		c.inTx[conn] = true
		c.n++
		c.log = append(c.log, "BEGIN")
	case sql == "commit" || sql == "rollback":
		delete(c.inTx, conn)
	case !c.inTx[conn]:
		c.n++
		c.log = append(c.log, oneLine(data.SQL))
	default:
		c.log = append(c.log, "  "+oneLine(data.SQL))
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *TxCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Reset sets the count to zero and forgets the statements seen.
func (c *TxCounter) Reset() {
	c.mu.Lock()
	c.n, c.log = 0, nil
	c.mu.Unlock()
}

// Count returns the transactions since the last Reset, and the statements that made them (for a failure
// message: each transaction's first statement, with the statements inside a block indented).
func (c *TxCounter) Count() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, append([]string(nil), c.log...)
}

func oneLine(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// CountingPostgresStore is PostgresStore whose statements go through a TxCounter, returned with it.
func CountingPostgresStore(t testing.TB, dsn string) (*storage.Store, *TxCounter) {
	t.Helper()
	counter := &TxCounter{}
	return postgresStore(t, dsn, storage.Options{MaxOpenConns: 4, Tracer: counter}), counter
}
