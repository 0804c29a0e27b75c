package storage_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// changeLog records what a commit hook is told, and whether it was told while a transaction was still open.
type changeLog struct {
	mu    sync.Mutex
	calls [][]storage.Change
}

func (l *changeLog) hook(_ context.Context, cs []storage.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, slices.Clone(cs))
}

// take returns the calls so far and forgets them.
func (l *changeLog) take() [][]storage.Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

func watch(s *storage.Store, tables ...string) *changeLog {
	l := &changeLog{}
	s.OnCommit(tables, l.hook)
	return l
}

func newClient(t *testing.T) storage.Client {
	return storage.Client{ID: "cli_" + randomHex(t), Name: "App", Type: storage.ClientPublic, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
}

// TestCommitHooks: the store tells its commit hooks of every write to the tables they watch, after the write
// committed, naming the tenant whose rows it wrote; a rolled-back transaction tells them nothing.
func TestCommitHooks(t *testing.T) {
	t.Parallel()
	for name, open := range migratedStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := newStoreTenant(t, s)
			tid, _ := storage.TenantFromContext(ctx)
			l := watch(s, "clients", "tenants", "tenant_domains")
			change := func(table, op string) storage.Change { return storage.Change{Table: table, Op: op, Tenant: tid} }
			c := newClient(t)
			rename := func(ctx context.Context) error {
				return s.UpdateClient(ctx, c.ID, func(old storage.Client) (storage.Client, error) { old.Name += "!"; return old, nil })
			}
			errFail := errors.New("fail")

			for _, tc := range []struct {
				name  string
				write func(t *testing.T)
				want  [][]storage.Change
			}{
				{"outside a transaction", func(t *testing.T) { mustDo(t, s.CreateClient(ctx, c)) },
					[][]storage.Change{{change("clients", storage.OpCreate)}}},
				{"a transaction, told once it committed", func(t *testing.T) {
					mustDo(t, s.InTx(ctx, func(ctx context.Context) error {
						mustDo(t, rename(ctx))
						mustDo(t, s.InTx(ctx, func(ctx context.Context) error { return rename(ctx) })) // joins it
						mustDo(t, s.AppendAudit(ctx, storage.AuditEvent{ID: "evt_" + randomHex(t), Type: "test", CreatedAt: time.Now().UTC()}))
						if calls := l.take(); len(calls) != 0 {
							t.Errorf("hooks told of %v before the commit", calls)
						}
						return nil
					}))
				}, [][]storage.Change{{change("clients", storage.OpUpdate)}}},
				{"a rolled-back transaction", func(t *testing.T) {
					err := s.InTx(ctx, func(ctx context.Context) error {
						mustDo(t, rename(ctx))
						return errFail
					})
					if !errors.Is(err, errFail) {
						t.Fatalf("InTx = %v", err)
					}
				}, nil},
				{"fosite's transaction, committed", func(t *testing.T) {
					tx, err := s.BeginTX(ctx)
					mustDo(t, err)
					mustDo(t, rename(tx))
					if calls := l.take(); len(calls) != 0 {
						t.Errorf("hooks told of %v before the commit", calls)
					}
					mustDo(t, s.Commit(tx))
				}, [][]storage.Change{{change("clients", storage.OpUpdate)}}},
				{"fosite's transaction, rolled back", func(t *testing.T) {
					tx, err := s.BeginTX(ctx)
					mustDo(t, err)
					mustDo(t, rename(tx))
					mustDo(t, s.Rollback(tx))
				}, nil},
				{"a write that changes no row", func(t *testing.T) {
					if err := s.DeleteClient(ctx, "cli_"+randomHex(t)); !errors.Is(err, storage.ErrNotFound) {
						t.Fatalf("DeleteClient of an unknown client: %v", err)
					}
				}, nil},
				{"a table nobody watches", func(t *testing.T) {
					mustDo(t, s.CreateUser(ctx, storage.User{ID: "user_" + randomHex(t), Email: randomHex(t) + "@x.test",
						CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}))
				}, nil},
				{"a tenant's settings, the tenant named by slug and no scope", func(t *testing.T) {
					tn, err := s.GetTenant(ctx, tid)
					mustDo(t, err)
					mustDo(t, s.UpdateTenant(context.Background(), tn.Slug, func(old storage.Tenant) (storage.Tenant, error) {
						old.SignupEnabled = !old.SignupEnabled
						return old, nil
					}))
				}, [][]storage.Change{{change("tenants", storage.OpUpdate)}}},
				{"a domain added and removed without a scope", func(t *testing.T) {
					d := randomHex(t) + ".example.test"
					mustDo(t, s.AddDomain(context.Background(), tid, d))
					mustDo(t, s.RemoveDomain(context.Background(), tid, d))
				}, [][]storage.Change{{change("tenant_domains", storage.OpCreate)}, {change("tenant_domains", storage.OpDelete)}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					l.take()
					tc.write(t)
					if got := l.take(); !slices.EqualFunc(got, tc.want, slices.Equal) {
						t.Errorf("hooks were told %v, want %v", got, tc.want)
					}
				})
			}

			t.Run("a new tenant is named", func(t *testing.T) {
				l.take()
				other := newStoreTenant(t, s)
				oid, _ := storage.TenantFromContext(other)
				got := l.take()
				if len(got) != 1 || !slices.Equal(got[0], []storage.Change{{Table: "tenants", Op: storage.OpCreate, Tenant: oid},
					{Table: "tenant_domains", Op: storage.OpCreate, Tenant: oid}}) {
					t.Errorf("creating tenant %s told the hooks %v", oid, got)
				}
			})

			t.Run("what a transaction wrote so far", func(t *testing.T) {
				if storage.WrittenInTransaction(ctx, "clients") {
					t.Error("no transaction, yet clients written in it")
				}
				mustDo(t, s.InTx(ctx, func(ctx context.Context) error {
					if storage.WrittenInTransaction(ctx, "clients") {
						t.Error("clients written before any write")
					}
					mustDo(t, rename(ctx))
					if !storage.WrittenInTransaction(ctx, "clients") || storage.WrittenInTransaction(ctx, "tenants") {
						t.Error("after a client update: clients not written, or tenants written")
					}
					return nil
				}))
			})

			t.Run("a removed hook is told nothing", func(t *testing.T) {
				gone := &changeLog{}
				remove := s.OnCommit([]string{"clients"}, gone.hook)
				remove()
				mustDo(t, rename(ctx))
				if calls := gone.take(); len(calls) != 0 {
					t.Errorf("a removed hook was told %v", calls)
				}
			})
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
