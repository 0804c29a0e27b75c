package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Store is the gorm-backed implementation of every storage interface and of fosite's storage.
type Store struct {
	db      *gorm.DB
	dialect string // "sqlite" or "postgres"
	clock   func() time.Time
	sqlDB   *sql.DB
	// clients is the read-through cache GetClient uses outside transactions (SetClientCache); nil: none.
	clients  atomic.Pointer[clientCacheBox]
	watchers watchers
	tokens   *batcher[*oauthToken] // Postgres only
	audit    *batcher[*AuditEvent] // Postgres only
	groups   *batcher[*writeGroup] // Postgres only
}

var (
	_ Storage = (*Store)(nil)

	_ Tenants  = (*Store)(nil)
	_ Keys     = (*Store)(nil)
	_ Clients  = (*Store)(nil)
	_ Users    = (*Store)(nil)
	_ Sessions = (*Store)(nil)

	_ Organizations       = (*Store)(nil)
	_ Memberships         = (*Store)(nil)
	_ ResourceServers     = (*Store)(nil)
	_ Roles               = (*Store)(nil)
	_ ClientOrganizations = (*Store)(nil)
	_ APIKeys             = (*Store)(nil)
	_ Audit               = (*Store)(nil)
)

// Options tune the store.
type Options struct {
	MaxOpenConns int // Postgres pool size; SQLite always uses one connection
	// Now is the clock storage stamps created_at and updated_at with and compares expiry times against when a
	// caller passes none. Default: time.Now; Store.Now returns its value in UTC.
	Now func() time.Time
	// Tracer, on Postgres, sees every statement the store sends, BEGIN and COMMIT included (tests count the
	// transactions a request costs with it). Nil: none.
	Tracer pgx.QueryTracer
}

// Open connects to dsn: "sqlite:PATH" (or "sqlite::memory:") or "postgres://…". It does not run migrations.
func Open(dsn string, opts Options) (*Store, error) {
	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		dialect = "sqlite"
		p := strings.TrimPrefix(dsn, "sqlite:")
		if p == "" {
			return nil, errors.New("storage: sqlite DSN needs a file path, e.g. sqlite:./authio.db")
		}
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		dialector = sqlite.Open(p)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		dialect = "postgres"
		pc := postgres.Config{DSN: dsn}
		if opts.Tracer != nil {
			pc.OptionOpenDB = append(pc.OptionOpenDB, stdlib.OptionBeforeConnect(func(_ context.Context, c *pgx.ConnConfig) error {
				c.Tracer = opts.Tracer
				return nil
			}))
		}
		dialector = postgres.New(pc)
	default:
		return nil, errors.New("storage: database URL must start with sqlite: or postgres://")
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            dialect == "postgres",
		NowFunc:                func() time.Time { return clock().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dialect, redactErr(err))
	}
	if err := classifyErrors(db); err != nil {
		return nil, err
	}
	st := &Store{db: db, dialect: dialect, clock: clock}
	if err := st.recordChanges(db); err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == "sqlite" {
		// One writer at a time is SQLite's model; a single connection avoids SQLITE_BUSY between our own goroutines.
		sqlDB.SetMaxOpenConns(1)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := sqlDB.Ping(); err != nil {
		return nil, fmt.Errorf("storage: connect %s: %w", dialect, redactErr(err))
	}
	st.sqlDB = sqlDB
	if dialect == "postgres" {
		st.tokens = newBatcher(insertTokens(sqlDB))
		st.audit = newBatcher(insertAudit(sqlDB))
		st.groups = newBatcher(insertGroups(sqlDB))
	}
	return st, nil
}

// redactErr keeps passwords in DSNs out of error messages.
func redactErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if u, perr := url.Parse(msg[strings.LastIndex(msg[:i], " ")+1:]); perr == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				return errors.New(strings.Replace(msg, u.User.String()+"@", u.User.Username()+":***@", 1))
			}
		}
	}
	return err
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Now is the store's clock (Options.Now) in UTC.
func (s *Store) Now() time.Time { return s.clock().UTC() }

// Ping checks the database answers; a failure matches ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return failed(ctx, sqlDB.PingContext(ctx))
}

// Close flushes pending token writes and releases the connection pool.
func (s *Store) Close() error {
	if s.tokens != nil {
		s.tokens.close()
		s.audit.close()
		s.groups.close()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// withConn runs fn on one dedicated connection (session-level locks need that).
func (s *Store) withConn(ctx context.Context, fn func(db *gorm.DB) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return failed(ctx, err)
	}
	defer conn.Close()
	var dialector gorm.Dialector
	if s.dialect == "postgres" {
		dialector = postgres.New(postgres.Config{Conn: conn})
	} else {
		dialector = &sqlite.Dialector{Conn: conn}
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true, NowFunc: s.Now})
	if err != nil {
		return failed(ctx, err)
	}
	if err := classifyErrors(db); err != nil {
		return err
	}
	return fn(db.WithContext(ctx))
}

type txKey struct{}

// conn returns the transaction carried by ctx, or the pool, with ctx as the statements' context (so the change
// recorder sees the tenancy scope of each write, and the transaction's changes).
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if t, ok := txOf(ctx); ok {
		return t.db.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// lockRow takes the row lock of record id of model (scoped to the tenant in ctx; a *Tenant by id or slug) for
// the rest of the transaction in ctx, so that a read-modify-write (the UpdateX functions) cannot lose a
// concurrent update: a second writer waits for the first to commit and then reads what it wrote. SQLite needs
// none: a transaction holds the database's only connection.
func (s *Store) lockRow(ctx context.Context, model any, id string) error {
	if s.dialect != "postgres" {
		return nil
	}
	var ids []string
	if _, isTenant := model.(*Tenant); isTenant {
		// NO KEY UPDATE: it serializes the tenant's writers (AddKey, UpdateTenant) without waiting for
		// transactions that insert rows pointing at the tenant (a domain, a user), which hold KEY SHARE on it.
		return mapErr(s.conn(ctx).Model(model).Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).
			Where("id = ? OR slug = ?", id, id).Pluck("id", &ids).Error)
	}
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return mapErr(db.Model(model).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Pluck("id", &ids).Error)
}

// InTx runs fn in a transaction: every storage call made with the ctx fn receives joins it, so a change and
// its audit event commit together or not at all. A ctx that already carries a transaction is reused.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.inTx(ctx, fn)
}

// WrittenInTransaction reports whether ctx carries a transaction of a store (InTx, BeginTX) that has written to
// table so far (a table some commit hook watches: the changes recorded for the hooks are what it knows). What
// such a transaction reads of the table may not be committed, so a cache must neither serve nor keep it.
func WrittenInTransaction(ctx context.Context, table string) bool {
	t, ok := txOf(ctx)
	return ok && t.wrote(table)
}

// inTx runs fn in a transaction, reusing one already carried by ctx. The changes it made are reported to the
// commit hooks once it has committed, and also when its COMMIT failed (see uncertainCommit).
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := txOf(ctx); ok {
		return fn(ctx)
	}
	var fnErr error
	state := &txState{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		state.db = tx
		fnErr = fn(context.WithValue(ctx, txKey{}, state))
		return fnErr
	})
	if err != nil && fnErr == nil {
		// BEGIN or COMMIT failed: that is the database's failure, whatever fn's statements did.
		s.uncertainCommit(ctx, state)
		return failed(ctx, err)
	}
	if err == nil {
		s.emit(ctx, state.committed())
	}
	return err
}

// uncertainCommit reports the changes of a transaction whose COMMIT failed to the commit hooks all the same: a
// connection lost after the database committed loses only the answer, and the caches the hooks keep must not go
// on serving what the transaction replaced (a rotated key, say) until their safety TTL. Reporting a change that
// was in fact rolled back costs a reload. A failed BEGIN recorded no change, and reports none.
func (s *Store) uncertainCommit(ctx context.Context, t *txState) {
	s.emit(ctx, t.committed())
}

// InReadTx runs fn's reads in one read-only transaction (READ ONLY on Postgres), so that they cost one
// transaction however many statements they take. Each statement sees what is committed when it runs (READ
// COMMITTED, as outside a transaction), and nothing is written, so caches (the client cache) are read and filled
// as outside a transaction. A ctx that already carries a transaction reuses it. fn must not write: Postgres
// refuses it.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if inTxContext(ctx) {
		return fn(ctx)
	}
	var opts []*sql.TxOptions
	if s.dialect == "postgres" {
		opts = append(opts, &sql.TxOptions{ReadOnly: true})
	}
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(context.WithValue(ctx, txKey{}, &txState{db: tx}))
		return fnErr
	}, opts...)
	if err != nil && fnErr == nil {
		return failed(ctx, err)
	}
	return err
}

// BeginTX implements fosite's storage.Transactional.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, failed(ctx, tx.Error)
	}
	return context.WithValue(ctx, txKey{}, &txState{db: tx}), nil
}

// Commit implements fosite's storage.Transactional; the transaction's changes are reported once it committed, or
// when its COMMIT failed (uncertainCommit).
func (s *Store) Commit(ctx context.Context) error {
	t, ok := txOf(ctx)
	if !ok {
		return errors.New("storage: commit without transaction")
	}
	if err := t.db.Commit().Error; err != nil {
		s.uncertainCommit(ctx, t)
		return failed(ctx, err)
	}
	s.emit(ctx, t.committed())
	return nil
}

// Rollback implements fosite's storage.Transactional.
func (s *Store) Rollback(ctx context.Context) error {
	t, ok := txOf(ctx)
	if !ok {
		return errors.New("storage: rollback without transaction")
	}
	t.committed() // dropped: nothing was
	return failed(ctx, t.db.Rollback().Error)
}

// mapErr turns driver errors into the package's sentinel errors: ErrNotFound, ErrAlreadyExists, and
// ErrUnavailable for everything else the database reported (see classify).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %v", ErrAlreadyExists, err)
	}
	return classify(err)
}
