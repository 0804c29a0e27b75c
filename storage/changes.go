package storage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// Committed changes, in one place. Every Create, Update and Delete that goes through gorm is recorded as a Change
// (table, operation, tenant) by a callback registered in Open; a change made inside a transaction is held until
// the transaction commits (and dropped if it rolls back), a change made outside one is reported as soon as its
// statement has run. Watchers (OnCommit) hear of them only then: after the commit, never before, never for a
// rollback. This is what keeps the server's caches correct: a write path cannot forget to report a change,
// because it is the write itself that reports it.

// Operations a Change names.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Change is one committed write: the table it wrote, the operation (OpCreate, OpUpdate, OpDelete) and the tenant
// whose rows it wrote, from the tenancy scope the write ran with ("" when it had none: the change may concern
// any tenant).
type Change struct {
	Table  string
	Op     string
	Tenant string
}

// CommitHook is told of committed changes. It runs on the goroutine that committed, after the commit, with the
// committing context (tenancy scope included); it must not write to the store.
type CommitHook func(ctx context.Context, changes []Change)

type watcher struct {
	tables map[string]bool
	fn     CommitHook
}

// watchers is the store's list of commit hooks, replaced whole on every change (copy on write).
type watchers struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*watcher]
}

// OnCommit calls fn with the committed changes to tables (every change of a transaction, after its commit, in
// one call; a write outside a transaction, right after it). It returns a function that removes the hook.
// Changes to other tables are not reported to fn.
func (s *Store) OnCommit(tables []string, fn CommitHook) (remove func()) {
	w := &watcher{tables: map[string]bool{}, fn: fn}
	for _, t := range tables {
		w.tables[t] = true
	}
	s.watchers.mu.Lock()
	defer s.watchers.mu.Unlock()
	var next []*watcher
	if cur := s.watchers.list.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, w)
	s.watchers.list.Store(&next)
	return func() {
		s.watchers.mu.Lock()
		defer s.watchers.mu.Unlock()
		var rest []*watcher
		for _, o := range *s.watchers.list.Load() {
			if o != w {
				rest = append(rest, o)
			}
		}
		s.watchers.list.Store(&rest)
	}
}

// watched reports whether some hook watches table.
func (s *Store) watched(table string) bool {
	cur := s.watchers.list.Load()
	if cur == nil {
		return false
	}
	for _, w := range *cur {
		if w.tables[table] {
			return true
		}
	}
	return false
}

// emit tells every hook of the changes to the tables it watches.
func (s *Store) emit(ctx context.Context, changes []Change) {
	cur := s.watchers.list.Load()
	if cur == nil || len(changes) == 0 {
		return
	}
	for _, w := range *cur {
		var mine []Change
		for _, c := range changes {
			if w.tables[c.Table] {
				mine = append(mine, c)
			}
		}
		if len(mine) > 0 {
			w.fn(ctx, mine)
		}
	}
}

// txState is what a transaction carries in its context: the gorm transaction and the changes it made so far,
// each once (a bulk import writes thousands), in the order they were first made.
type txState struct {
	db      *gorm.DB
	mu      sync.Mutex
	changes []Change
	seen    map[Change]bool
	tables  map[string]bool
}

func (t *txState) record(c Change) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[c] {
		return
	}
	if t.seen == nil {
		t.seen, t.tables = map[Change]bool{}, map[string]bool{}
	}
	t.seen[c], t.tables[c.Table] = true, true
	t.changes = append(t.changes, c)
}

// wrote reports whether the transaction wrote to table so far.
func (t *txState) wrote(table string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tables[table]
}

func (t *txState) committed() []Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.changes
	t.changes, t.seen, t.tables = nil, nil, nil
	return out
}

// txOf returns the transaction ctx carries, if any.
func txOf(ctx context.Context) (*txState, bool) {
	t, ok := ctx.Value(txKey{}).(*txState)
	return t, ok
}

// recordChanges registers the callbacks that record every successful write as a Change, and every write made
// outside a transaction whose outcome is unknown (outcomeUnknown): the database may have done it before the
// answer was lost, and the caches must not go on serving what it replaced. In a transaction a failed statement
// needs no record: the transaction cannot commit (see uncertainCommit for a failed COMMIT).
func (s *Store) recordChanges(db *gorm.DB) error {
	record := func(op string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			st := tx.Statement
			_, inTx := txOf(st.Context)
			done := tx.Error == nil && tx.RowsAffected > 0
			maybe := tx.Error != nil && !inTx && outcomeUnknown(tx.Error)
			if !(done || maybe) || st.Table == "" || !s.watched(st.Table) {
				return
			}
			ctx := st.Context
			tid, _ := TenantFromContext(ctx)
			c := Change{Table: st.Table, Op: op, Tenant: tid}
			if t, ok := txOf(ctx); ok {
				t.record(c)
				return
			}
			s.emit(ctx, []Change{c})
		}
	}
	const name = "authio:record_changes"
	cb := db.Callback()
	return errors.Join(
		cb.Create().After("gorm:create").Register(name, record(OpCreate)),
		cb.Update().After("gorm:update").Register(name, record(OpUpdate)),
		cb.Delete().After("gorm:delete").Register(name, record(OpDelete)),
	)
}

// outcomeUnknown reports whether a statement that failed with err may still have taken effect: the database
// failed or could not be reached (ErrUnavailable: a connection lost after the statement ran loses only its answer)
// or the caller stopped waiting. A refusal by the database (a constraint, a missing row) took no effect.
func outcomeUnknown(err error) bool {
	return errors.Is(classify(err), ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
