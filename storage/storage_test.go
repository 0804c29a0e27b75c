package storage_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/storage/conformance"
)

const postgresEnv = "AUTHIO_TEST_POSTGRES_DSN"

func newSQLiteStore(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	conformance.RunTests(t, func(t *testing.T) storage.Storage { return namesTenants(t, newSQLiteStore(t)) })
	t.Run("SignaturesHashed", func(t *testing.T) { testSignaturesHashed(t, newSQLiteStore(t)) })
}

// TestPostgres runs the suite in a schema of its own, created for this test process and dropped afterwards, so
// runs against a shared database neither see nor leave anything behind. A DSN that is set but unreachable is a
// failure, not a skip: CI that asked for Postgres must get it.
func TestPostgres(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " is not set")
	}
	ctx := context.Background()
	s := newUnmigratedPostgresStore(t)
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var current string
	if err := storage.DBForTest(s).WithContext(ctx).Raw("SELECT current_schema()").Scan(&current).Error; err != nil ||
		!strings.HasPrefix(current, "authio_test_") {
		t.Fatalf("current_schema() = %q (%v), want the test's own schema: search_path not in effect?", current, err)
	}
	if len(applied) == 0 {
		t.Fatalf("migrating the fresh schema %s applied nothing", current)
	}

	newStore := func(t *testing.T) storage.Storage { return namesTenants(t, s) }
	conformance.RunTests(t, newStore)
	t.Run("SignaturesHashed", func(t *testing.T) { testSignaturesHashed(t, s) })
}

// namesTenants fails t if a write to a table the server's cache reads from commits without naming its tenant:
// the cache would then have to drop that kind of entry for every tenant (correct, but costly).
func namesTenants(t *testing.T, s *storage.Store) *storage.Store {
	remove := s.OnCommit(memo.Tables(), func(_ context.Context, cs []storage.Change) {
		for _, c := range cs {
			if c.Tenant == "" {
				t.Errorf("a %s of %s committed without a tenant in its scope", c.Op, c.Table)
			}
		}
	})
	t.Cleanup(remove)
	return s
}

// withSearchPath points every connection of dsn at schema.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// testSignaturesHashed stores every kind of fosite record and reads the raw rows: a leaked oauth_tokens table
// must not hold a usable token, so neither the key column nor the serialised request may contain one.
func testSignaturesHashed(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	id := randomHex(t)
	tenant := storage.Tenant{ID: "ten_" + id, Slug: "hash-" + id, Name: "Hash"}
	if err := s.CreateTenant(ctx, tenant, []string{id + ".hash.test"}); err != nil {
		t.Fatal(err)
	}
	ctx = storage.WithTenant(ctx, tenant.ID)
	client := storage.Client{ID: "cli_" + id, Name: "App", Type: storage.ClientPublic}
	if err := s.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	req := &fosite.Request{ID: "req_" + id, RequestedAt: time.Now().UTC(), Client: &storage.FositeClient{Client: client},
		Session: openid.NewDefaultSession()}

	raw := map[string]string{} // kind -> raw signature
	stores := []struct {
		kind  string
		store func(sig string) error
	}{
		{"code", func(sig string) error { return s.CreateAuthorizeCodeSession(ctx, sig, req) }},
		{"access", func(sig string) error { return s.CreateAccessTokenSession(ctx, sig, req) }},
		{"refresh", func(sig string) error { return s.CreateRefreshTokenSession(ctx, sig, "", req) }},
		{"pkce", func(sig string) error { return s.CreatePKCERequestSession(ctx, sig, req) }},
		{"oidc", func(sig string) error { return s.CreateOpenIDConnectSession(ctx, sig, req) }},
		{"jti", func(sig string) error { return s.SetClientAssertionJWT(ctx, sig, time.Now().Add(time.Hour)) }},
	}
	for _, st := range stores {
		sig := st.kind + "-secret-signature-" + randomHex(t)
		raw[st.kind] = sig
		if err := st.store(sig); err != nil {
			t.Fatalf("store %s: %v", st.kind, err)
		}
	}

	var rows []struct {
		Signature string
		Kind      string
		Data      []byte
	}
	err := storage.DBForTest(s).WithContext(ctx).
		Raw("SELECT signature, kind, data FROM oauth_tokens WHERE tenant_id = ?", tenant.ID).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(stores) {
		t.Fatalf("found %d rows for the tenant, want %d", len(rows), len(stores))
	}
	hashed := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, row := range rows {
		if _, ok := raw[row.Kind]; !ok {
			t.Errorf("unexpected kind %q", row.Kind)
			continue
		}
		if !hashed.MatchString(row.Signature) {
			t.Errorf("%s: stored signature %q is not a hash", row.Kind, row.Signature)
		}
		for _, other := range raw {
			if strings.Contains(row.Signature, other) || strings.Contains(string(row.Data), other) {
				t.Errorf("%s: row contains the raw signature %q", row.Kind, other)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name      string
		dsn       string
		forbidden string // must not appear in the error
	}{
		{"unknown scheme", "mysql://user@localhost/db", ""},
		{"sqlite without path", "sqlite:", ""},
		{"postgres unreachable keeps the password out", "postgres://authio:hunter2secret@127.0.0.1:1/authio?sslmode=disable&connect_timeout=2", "hunter2secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storage.Open(tc.dsn, storage.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if tc.forbidden != "" && strings.Contains(err.Error(), tc.forbidden) {
				t.Fatalf("error leaks %q: %v", tc.forbidden, err)
			}
		})
	}
}

// TestInjectedClock: Options.Now is the clock storage stamps records with and checks expiry against when the
// caller passes no time: an update is stamped with it, and a JWT id recorded until a moment the injected clock has
// passed is no longer known, although the wall clock has not reached that moment yet.
func TestInjectedClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fixed := time.Date(2031, 7, 8, 9, 10, 11, 0, time.FixedZone("east", 3*3600))
	s, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var st storage.Storage = s
	if got := st.Now(); !got.Equal(fixed) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v in UTC", got, fixed)
	}
	tctx := newStoreTenant(t, s)
	c := storage.Client{ID: "cli_" + randomHex(t), Name: "App", Type: storage.ClientPublic}
	if err := s.CreateClient(tctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateClient(tctx, c.ID, func(old storage.Client) (storage.Client, error) {
		old.Name = "Renamed"
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetClientByID(tctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(fixed) {
		t.Errorf("UpdatedAt = %v, want the injected %v", got.UpdatedAt, fixed)
	}
	jti := "jti-" + randomHex(t)
	if err := s.SetClientAssertionJWT(tctx, jti, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ClientAssertionJWTValid(tctx, jti); err != nil {
		t.Errorf("a jti recorded until an hour from the wall clock, checked in 2031: %v, want unknown (nil)", err)
	}
}
