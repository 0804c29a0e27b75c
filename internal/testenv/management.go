package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// Backend is a storage (and cache) configuration tests run on.
type Backend struct {
	Name string
	// Options builds fresh, empty Options for New: a store (and cache) of the test's own.
	Options func(t testing.TB) Options
}

// Backends are SQLite with the in-process cache, plus Postgres with Redis when AUTHIO_TEST_POSTGRES_DSN and
// AUTHIO_TEST_REDIS_URL are set (Postgres with the in-process cache when only the DSN is). A variable that is
// set but unusable fails the test: CI that asked for a service must get it.
func Backends() []Backend {
	out := []Backend{{Name: "sqlite", Options: func(testing.TB) Options { return Options{} }}}
	dsn, redisURL := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"), os.Getenv("AUTHIO_TEST_REDIS_URL")
	if dsn == "" {
		return out
	}
	return append(out, Backend{Name: "postgres", Options: func(t testing.TB) Options {
		o := Options{Store: PostgresStore(t, dsn)}
		if redisURL != "" {
			c, err := cache.NewRedis(redisURL, "authio-test-"+RandomString(9)+":")
			if err != nil {
				t.Fatalf("AUTHIO_TEST_REDIS_URL is set but Redis is unreachable: %v", err)
			}
			o.Cache = c
		}
		return o
	}})
}

// PostgresSchema creates a schema of the test's own in the Postgres database at dsn, drops it when the test
// ends, and returns dsn pointed at it (search_path), so suites sharing one database neither see nor leave
// anything behind. A DSN that is set but unusable fails the test.
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("AUTHIO_TEST_POSTGRES_DSN is set but Postgres is unreachable: %v", err)
	}
	sqlDB, err := admin.DB()
	if err != nil {
		t.Fatal(err)
	}
	schema := "authio_t_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(RandomString(9)))
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("AUTHIO_TEST_POSTGRES_DSN is set but unusable: create schema: %v", err)
	}
	t.Cleanup(func() {
		// Concurrent suites dropping their schemas can deadlock on shared catalog rows; Postgres then aborts
		// one of them (40P01), which is retried.
		var err error
		for try := 0; try < 5; try++ {
			if err = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err == nil || !strings.Contains(err.Error(), "40P01") {
				break
			}
			time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = sqlDB.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// PostgresStore opens a migrated store in a schema of its own (PostgresSchema) in the Postgres database at dsn.
// The store is the caller's to close (New closes it with the server).
func PostgresStore(t testing.TB, dsn string) *storage.Store {
	t.Helper()
	return postgresStore(t, dsn, storage.Options{MaxOpenConns: 4})
}

func postgresStore(t testing.TB, dsn string, opts storage.Options) *storage.Store {
	t.Helper()
	schemaDSN := PostgresSchema(t, dsn)
	st, err := storage.Open(schemaDSN, opts)
	if err != nil {
		t.Fatalf("open postgres schema %s: %v", schemaDSN, err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		st.Close()
		t.Fatalf("migrate postgres schema: %v", err)
	}
	return st
}

// APIKey creates a live Management API key in the tenant and returns the key.
func (tn *Tenant) APIKey(t testing.TB) string {
	t.Helper()
	k, err := tn.Env.S.CreateAPIKey(tn.Ctx, "test", false)
	if err != nil {
		t.Fatalf("create API key in %s: %v", tn.Slug, err)
	}
	return k.Key
}

// API sends a Management API request (path under /api/v2) to tn with a bearer credential ("" for none). A
// non-nil body is sent as JSON; a string body is sent as is, still labelled JSON.
func (tn *Tenant) API(t testing.TB, c *http.Client, method, path, bearer string, body any) *Response {
	t.Helper()
	var rd io.Reader
	opts := []RequestOption{}
	if body != nil {
		if s, ok := body.(string); ok {
			rd = bytes.NewReader([]byte(s))
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatalf("encode request body: %v", err)
			}
			rd = bytes.NewReader(b)
		}
		opts = append(opts, Header("Content-Type", "application/json"))
	}
	if bearer != "" {
		opts = append(opts, Bearer(bearer))
	}
	return Do(t, c, method, tn.URL("/api/v2"+path), rd, opts...)
}

// EachBackend runs fn, in parallel, once per backend (Backends), with fresh Options for it: the one loop every
// suite that must hold on SQLite and on Postgres + Redis starts with.
func EachBackend(t *testing.T, fn func(t *testing.T, o Options)) {
	t.Helper()
	t.Parallel()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Options(t))
		})
	}
}
