package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// otherKey is a valid secret key that is not the one the test databases are created with (testenv.SecretKey).
const otherKey = "another-valid-secret-key-0123456789-ABCDEFGHIJKL"

const mismatch = "AUTHIO_SECRET_KEY does not match this database"

// keyBackends are the databases the secret-key tests run on: a SQLite file, and a fresh schema of the Postgres
// database at AUTHIO_TEST_POSTGRES_DSN when it is set. Each returns the database URL of a new, empty database.
func keyBackends(t *testing.T) map[string]func(t *testing.T) string {
	b := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "authio.db") },
	}
	if dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN"); dsn != "" {
		b["postgres"] = func(t *testing.T) string { return freshSchema(t, dsn) }
	}
	return b
}

// freshSchema is testenv.PostgresSchema: a schema of the test's own, dropped when it ends.
func freshSchema(t *testing.T, dsn string) string { return testenv.PostgresSchema(t, dsn) }

// metaRows reads authio_meta of the database at dsn as (name, value) pairs, bypassing Authio.
func metaRows(t *testing.T, dsn string) map[string]string {
	t.Helper()
	var d gorm.Dialector
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		d = sqlite.Open(p)
	} else {
		d = postgres.Open(dsn)
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	var rows []struct{ Name, Value string }
	if err := db.Raw("SELECT name, value FROM authio_meta").Scan(&rows).Error; err != nil {
		t.Fatalf("read authio_meta: %v", err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name] = r.Value
	}
	return out
}

// newCLIOn is newCLI over the database at dsn with the given secret key ("" leaves AUTHIO_SECRET_KEY unset).
func newCLIOn(t *testing.T, dsn, key string) *cli {
	env := []string{"AUTHIO_DATABASE_URL=" + dsn, "AUTHIO_LOG_LEVEL=error", "HOME=/nonexistent"}
	if key != "" {
		env = append(env, "AUTHIO_SECRET_KEY="+key)
	}
	return &cli{t: t, dsn: dsn, environ: env}
}

// startWatch is serve's stderr in a test: it cancels serve's context as soon as serve logs that it started, so
// a serve that should have been refused ends instead of serving for ever.
type startWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *startWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "authio started") {
		w.cancel()
	}
	return len(p), nil
}

func (w *startWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// serve runs "authio serve" on a free port until it either fails or starts (then it is stopped at once). It
// returns the error and whether the server started.
func (c *cli) serve(extraEnv []string, args ...string) (started bool, stdout string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &startWatch{cancel: cancel}
	var out bytes.Buffer
	env := append(append([]string{}, c.environ...), "AUTHIO_LOG_LEVEL=info") // "authio started" is an info line
	err = run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), append(env, extraEnv...), &out, w)
	started = strings.Contains(w.String(), "authio started")
	if err != nil && started {
		c.t.Logf("serve: stderr:\n%s", w.String())
	}
	return started, out.String(), err
}

// refused checks that err is the one-line secret-key mismatch and nothing was printed.
func refused(t *testing.T, what string, out string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s with another secret key succeeded: %s", what, out)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, mismatch) || !strings.Contains(msg, devSecretFile) || strings.Contains(msg, "\n") {
		t.Errorf("%s: error %q, want one line starting %q and naming %s", what, msg, mismatch, devSecretFile)
	}
	if strings.Contains(msg, testenv.SecretKey) || strings.Contains(msg, otherKey) {
		t.Errorf("%s: the error shows a secret key: %q", what, msg)
	}
	if out != "" {
		t.Errorf("%s: stdout on failure: %q", what, out)
	}
}

// TestSecretKeyMismatchIsRefused: once a database exists, every command run with another AUTHIO_SECRET_KEY
// stops with one clear line before it changes anything, so no client secret, user or signing key is made
// under a key the server cannot use, and the tenant's JWKS and token endpoint keep working.
func TestSecretKeyMismatchIsRefused(t *testing.T) {
	t.Parallel()
	for name, newDSN := range keyBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := newDSN(t)
			a, b := newCLIOn(t, dsn, testenv.SecretKey), newCLIOn(t, dsn, otherKey)
			a.ok("tenant", "create", "--slug", "acme")
			svc := a.ok("client", "create", "--tenant", "acme", "--name", "svc", "--type", "confidential",
				"--grant", "client_credentials", "--audience", "https://api.acme.test").(map[string]any)

			check := metaRows(t, dsn)
			if len(check) != 1 {
				t.Errorf("authio_meta after the first commands = %v, want one check value", check)
			}
			for _, v := range check {
				if _, err := hex.DecodeString(v); err != nil || len(v) != 64 || strings.Contains(v, testenv.SecretKey) {
					t.Errorf("check value %q, want 64 hex digits of a keyed hash, not the key", v)
				}
			}

			for _, args := range [][]string{
				{"tenant", "create", "--slug", "globex"},
				{"client", "create", "--tenant", "acme", "--name", "other", "--type", "confidential", "--grant", "client_credentials"},
				{"user", "create", "--tenant", "acme", "--email", "bob@acme.test", "--password", "S3cret-pass!"},
				{"key", "rotate", "--tenant", "acme"},
				{"apikey", "create", "--tenant", "acme"},
				{"tenant", "list"},
				{"migrate"},
			} {
				out, err := b.run(args...)
				refused(t, strings.Join(args, " "), out, err)
			}
			started, out, err := b.serve(nil)
			if started {
				t.Error("serve started with another secret key")
			}
			refused(t, "serve", out, err)

			// Nothing changed, and what key A made still works.
			if got := metaRows(t, dsn); len(got) != 1 {
				t.Errorf("authio_meta = %v after the refused commands, want the one check value", got)
			}
			if list := a.ok("tenant", "list").([]any); len(list) != 1 {
				t.Errorf("tenants = %v, want acme alone", list)
			}
			st, err := storage.Open(dsn, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			env := testenv.New(t, testenv.Options{Store: st})
			acme := env.Tenant("acme")
			if ids := acme.KeyIDs(t); len(ids) != 1 {
				t.Errorf("acme's keys = %v, want the one made with the tenant", ids)
			}
			if clients, err := st.ListClients(acme.Ctx); err != nil || len(clients) != 1 {
				t.Errorf("acme's clients = %d (%v), want 1", len(clients), err)
			}
			if _, err := st.GetUserByEmail(acme.Ctx, "bob@acme.test"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the refused user exists: %v", err)
			}
			hc := env.Client(testenv.ClientOptions{})
			tok := testenv.TokensOf(t, acme.ClientCredentials(t, hc, svc["client_id"].(string), svc["client_secret"].(string),
				url.Values{"audience": {"https://api.acme.test"}}))
			testenv.VerifyJWT(t, tok.AccessToken, acme.JWKS(t, hc))
		})
	}
}

// TestSecretKeyOfAnOlderDatabase: a database from before check values holds signing keys but no check value.
// The first command run with the key its keys were made with records the check value; another key is refused
// and records nothing.
func TestSecretKeyOfAnOlderDatabase(t *testing.T) {
	t.Parallel()
	for name, newDSN := range keyBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := newDSN(t)
			// What a server of the previous version left behind: a migrated database, a tenant and its key.
			st, err := storage.Open(dsn, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			s := server.NewWith(testenv.Config(dsn), testenv.Logger(), st, cache.NewMemory())
			if _, err := s.CreateTenant(ctx, "acme", "Acme", keys.AlgRS256, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := metaRows(t, dsn); len(got) != 0 {
				t.Fatalf("authio_meta = %v before any command, want it empty", got)
			}

			a, b := newCLIOn(t, dsn, testenv.SecretKey), newCLIOn(t, dsn, otherKey)
			out, err := b.run("key", "rotate", "--tenant", "acme")
			refused(t, "key rotate on the older database", out, err)
			started, out, err := b.serve(nil)
			if started {
				t.Error("serve started with a key that does not decrypt the database's signing keys")
			}
			refused(t, "serve on the older database", out, err)
			if got := metaRows(t, dsn); len(got) != 0 {
				t.Fatalf("authio_meta = %v after refusing another key, want nothing recorded", got)
			}

			a.ok("key", "rotate", "--tenant", "acme")
			if got := metaRows(t, dsn); len(got) != 1 {
				t.Fatalf("authio_meta = %v after a command with the right key, want its check value", got)
			}
			out, err = b.run("tenant", "list")
			refused(t, "tenant list after the check value was recorded", out, err)
			a.ok("tenant", "list")
		})
	}
}

// TestDevSecretKeyFile: serve --dev creates its database and .authio-dev-secret in the working directory; an
// exported AUTHIO_SECRET_KEY wins over that file, so a different one is refused for serve --dev and the CLI
// alike, while the CLI without it uses the file. Without any key and without --dev, the error says the key
// is missing and how to get one. (Not parallel: it changes the working directory.)
func TestDevSecretKeyFile(t *testing.T) {
	t.Chdir(t.TempDir())
	bare := newCLIOn(t, "sqlite:./authio.db", "")
	bare.environ = []string{"AUTHIO_LOG_LEVEL=error", "HOME=/nonexistent"} // every default, as a developer runs it

	for _, args := range [][]string{{"tenant", "list"}, {"serve"}} {
		_, err := bare.run(args...)
		if err == nil {
			t.Fatalf("%s without a secret key succeeded", args[0])
		}
		msg := err.Error()
		if !strings.Contains(msg, "AUTHIO_SECRET_KEY is not set") || !strings.Contains(msg, "serve --dev") ||
			strings.Contains(msg, "must be at least 32 characters") || strings.Contains(msg, "\n") {
			t.Errorf("%s without a secret key: %q, want one line saying it is not set and mentioning serve --dev", args[0], msg)
		}
	}

	started, out, err := bare.serve(nil, "--dev")
	if err != nil || !started || !strings.Contains(out, "demo@demo.test") {
		t.Fatalf("first serve --dev: started=%v err=%v\n%s", started, err, out)
	}
	if _, err := os.Stat(devSecretFile); err != nil {
		t.Fatalf("serve --dev left no %s: %v", devSecretFile, err)
	}
	exported := []string{"AUTHIO_SECRET_KEY=" + otherKey}
	started, out, err = bare.serve(exported, "--dev")
	if started {
		t.Error("serve --dev started with an exported key other than the database's")
	}
	refused(t, "serve --dev with an exported key", out, err)
	out, err = bare.runEnv(exported, "tenant", "create", "--slug", "acme")
	refused(t, "tenant create with an exported key", out, err)

	list := bare.ok("tenant", "list").([]any) // the key in .authio-dev-secret
	if len(list) != 1 || list[0].(map[string]any)["slug"] != "demo" {
		t.Errorf("tenants = %v, want the demo tenant alone", list)
	}
	if started, _, err := bare.serve(nil, "--dev"); err != nil || !started {
		t.Errorf("serve --dev again with its own key: started=%v err=%v", started, err)
	}
}
