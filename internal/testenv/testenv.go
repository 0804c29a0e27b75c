// Package testenv runs Authio end to end for tests: a Server behind the real router (router.New) in an
// httptest server, over a fresh SQLite file or a store the test supplies, and browser-like HTTP clients that
// reach it under any tenant host name, so issuers read http://acme.localhost:<port> as in development.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/server/router"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// SecretKey is the AUTHIO_SECRET_KEY of every test server (48 characters). Replicas must share it.
const SecretKey = "authio-test-secret-key-0123456789-abcdefghijklmn"

// Password is the password of every user made by Tenant.NewUser.
const Password = "correct-horse-battery-staple"

// Clock is the servers' clock. It runs in real time until frozen; tests freeze it to make "the same second"
// or "two minutes later" exact. Never move it ahead of real time: fosite compares auth_time with time.Now.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	frozen bool
}

// Now returns the frozen time, or the real time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.t
	}
	return time.Now()
}

// Freeze stops the clock at t.
func (c *Clock) Freeze(t time.Time) {
	c.mu.Lock()
	c.t, c.frozen = t, true
	c.mu.Unlock()
}

// Advance moves a frozen clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Options change how New builds an Env. The zero value is a fresh SQLite file and the in-process cache.
type Options struct {
	Store *storage.Store // nil: a migrated SQLite file under t.TempDir(); closed by the server
	Cache cache.Cache    // nil: cache.NewMemory(); closed by the server
	// Port is the port tenant hosts carry in their Host header (and so in their issuer). Empty: the httptest
	// server's own port. Replicas set it to the first replica's port so they share issuers, as behind a proxy.
	Port string
	// Configure adjusts the configuration before the server is built.
	Configure func(*config.Config)
	// Logger is the server's logger; nil: Logger(). Tests that assert on log lines pass their own.
	Logger *slog.Logger
	// DevOutbox serves /dev/outbox (router.Options.DevOutbox); it lists mail only when Configure sets Dev.
	DevOutbox bool
}

// Env is one running server.
type Env struct {
	S     *server.Server
	HTTP  *httptest.Server
	Addr  string // address every client dials, whatever the host name
	Port  string // port of tenant hosts
	Clock *Clock

	t testing.TB
}

// Config is the configuration of test servers over dsn.
func Config(dsn string) config.Config {
	c := config.Defaults()
	c.DatabaseURL = dsn
	c.SecretKey = SecretKey
	c.Listen = "127.0.0.1:0"
	c.PasswordCost = bcrypt.MinCost // tests hash many passwords; the cost is not what they test
	c.KeyPool = 0                   // no RSA keys generated in the background of every test server
	return c
}

// NewSQLiteStore opens and migrates a SQLite database in a fresh temporary directory.
func NewSQLiteStore(t testing.TB) (*storage.Store, string) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "authio.db")
	st, err := storage.Open(dsn, storage.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		st.Close()
		t.Fatalf("migrate sqlite: %v", err)
	}
	return st, dsn
}

// Logger writes server errors to stderr, where a failing test's output shows them; the rest is discarded.
func Logger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("AUTHIO_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// New starts a server with the real router; everything is closed in t.Cleanup.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	dsn := "sqlite:(supplied)"
	store := o.Store
	if store == nil {
		store, dsn = NewSQLiteStore(t)
	}
	c := o.Cache
	if c == nil {
		c = cache.NewMemory()
	}
	cfg := Config(dsn)
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	logger := o.Logger
	if logger == nil {
		logger = Logger()
	}
	s := server.NewWith(cfg, logger, store, c)
	clock := &Clock{}
	s.Now = clock.Now // before router.New: handlers copy the function
	if err := s.Start(context.Background()); err != nil {
		s.Close()
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pages, err := templates.New(templates.FS)
	if err != nil {
		t.Fatalf("templates: %v", err)
	}
	hs := httptest.NewServer(router.New(s, pages, router.Options{DevOutbox: o.DevOutbox}))
	t.Cleanup(hs.Close) // runs before s.Close: no request reaches a closed store
	addr := hs.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	if o.Port != "" {
		port = o.Port
	}
	return &Env{S: s, HTTP: hs, Addr: addr, Port: port, Clock: clock, t: t}
}

// Tenant is a tenant of an Env, addressed through its default domain.
type Tenant struct {
	server.TenantInfo
	Env    *Env
	Host   string          // <slug>.localhost:<port>, the Host header requests carry
	Issuer string          // http://<Host>/ (trailing slash)
	Ctx    context.Context // scoped to the tenant, for direct service calls
}

// URL returns the absolute URL of path on the tenant's host.
func (tn *Tenant) URL(path string) string { return "http://" + tn.Host + path }

// Stored returns the tenant's current row.
func (tn *Tenant) Stored(t testing.TB) storage.Tenant {
	t.Helper()
	st, err := tn.Env.S.Store.GetTenant(context.Background(), tn.ID)
	if err != nil {
		t.Fatalf("get tenant %s: %v", tn.Slug, err)
	}
	return st
}

// NewTenant creates a tenant with the default domain <slug>.localhost and a fresh signing key.
func (e *Env) NewTenant(slug string) *Tenant {
	e.t.Helper()
	info, err := e.S.CreateTenant(context.Background(), slug, strings.ToUpper(slug[:1])+slug[1:], keys.AlgRS256, nil)
	if err != nil {
		e.t.Fatalf("create tenant %s: %v", slug, err)
	}
	return e.tenant(info)
}

// Tenant returns an existing tenant (e.g. one created through another replica) as seen by this Env.
func (e *Env) Tenant(slug string) *Tenant {
	e.t.Helper()
	st, err := e.S.Store.GetTenant(context.Background(), slug)
	if err != nil {
		e.t.Fatalf("get tenant %s: %v", slug, err)
	}
	ds, err := e.S.Store.ListDomains(context.Background(), st.ID)
	if err != nil {
		e.t.Fatalf("list domains of %s: %v", slug, err)
	}
	return e.tenant(server.TenantInfo{ID: st.ID, Slug: st.Slug, Name: st.Name, Domains: ds})
}

func (e *Env) tenant(info server.TenantInfo) *Tenant {
	host := info.Slug + "." + e.S.Config.BaseDomain + ":" + e.Port
	return &Tenant{TenantInfo: info, Env: e, Host: host, Issuer: "http://" + host + "/",
		Ctx: storage.WithTenant(context.Background(), info.ID)}
}

// NewClient registers a client in the tenant.
func (tn *Tenant) NewClient(spec directory.ClientSpec) directory.CreatedClient {
	tn.Env.t.Helper()
	cc, err := tn.Env.S.CreateClient(tn.Ctx, spec)
	if err != nil {
		tn.Env.t.Fatalf("create client %q in %s: %v", spec.Name, tn.Slug, err)
	}
	return cc
}

var (
	hashOnce sync.Once
	hashed   string
)

// NewUser stores a user whose password is Password. The bcrypt hash (at the tests' minimum cost, see Config) is
// computed once per test binary; Server.CreateUser is exercised by the sign-up and CLI tests.
func (tn *Tenant) NewUser(email string) storage.User {
	tn.Env.t.Helper()
	hashOnce.Do(func() {
		var err error
		if hashed, err = server.HashPassword(Password, bcrypt.MinCost); err != nil {
			panic(err)
		}
	})
	now := time.Now().UTC()
	u := storage.User{ID: ids.New("user"), TenantID: tn.ID, Email: canon.Email(email), PasswordHash: hashed,
		CreatedAt: now, UpdatedAt: now}
	if err := tn.Env.S.Store.CreateUser(tn.Ctx, u); err != nil {
		tn.Env.t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// KeyIDs lists the tenant's published key ids, newest first.
func (tn *Tenant) KeyIDs(t testing.TB) []string {
	t.Helper()
	ks, err := tn.Env.S.Store.ListKeys(tn.Ctx, time.Now())
	if err != nil {
		t.Fatalf("list keys: %v", err)
	}
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}

// String names the env in failure messages.
func (e *Env) String() string { return fmt.Sprintf("authio test server at %s", e.Addr) }
