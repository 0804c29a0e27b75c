package storage_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/storage"
)

// Answers about the data stay what they are; everything else the database reports is ErrUnavailable, on every
// path: gorm queries and writes, transactions, fosite's storage and the database/sql fast path.
func TestDatabaseFailuresAreUnavailable(t *testing.T) {
	t.Parallel()
	s := newSQLiteStore(t)
	now := time.Now().UTC()
	tn := storage.Tenant{ID: "ten_" + randomHex(t), Slug: "t" + randomHex(t), Name: "T", SigningAlg: "RS256", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateTenant(context.Background(), tn, []string{tn.Slug + ".example.test"}); err != nil {
		t.Fatal(err)
	}
	ctx := storage.WithTenant(context.Background(), tn.ID)
	u := storage.User{ID: "user_" + randomHex(t), Email: "a@example.test", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	// Up: not found and duplicates are answers, not failures.
	for name, err := range map[string]error{
		"missing user":   errOf(s.GetUser(ctx, "user_missing")),
		"missing token":  errOf(s.GetAccessTokenSession(ctx, "missing", nil)),
		"duplicate user": s.CreateUser(ctx, u),
		// A violated constraint is a bug in the request, not an outage: retrying cannot help.
		"foreign key": s.CreateUser(storage.WithTenant(ctx, "ten_missing"), storage.User{ID: "user_" + randomHex(t), Email: "c@example.test"}),
	} {
		if err == nil || errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: %v, want an answer, not ErrUnavailable", name, err)
		}
	}

	// Down: every path reports ErrUnavailable and never "not found".
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logged := storage.WithFailureLog(ctx)
	for name, err := range map[string]error{
		"GetUser (gorm query)":              errOf(s.GetUser(logged, u.ID)),
		"ListUsers (count)":                 errOf2(s.ListUsers(ctx, storage.Page{})),
		"CreateUser (gorm create)":          s.CreateUser(ctx, storage.User{ID: "user_" + randomHex(t), Email: "b@example.test"}),
		"DeleteSession (gorm delete)":       s.DeleteSession(ctx, "ses_x"),
		"UpdateUser (transaction)":          s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) { return old, nil }),
		"InTx (begin)":                      s.InTx(ctx, func(context.Context) error { return nil }),
		"BeginTX (fosite transactions)":     errOf(s.BeginTX(ctx)),
		"GetClient (fosite client lookup)":  errOf(s.GetClient(ctx, "cli_x")),
		"GetAccessTokenSession (fast path)": errOf(s.GetAccessTokenSession(ctx, "sig", nil)),
		"RevokeAccessToken (raw gorm)":      s.RevokeAccessToken(ctx, "req_x"),
		"DeleteExpired (housekeeping)":      errOf(s.DeleteExpired(ctx, now)),
		"Ping":                              s.Ping(ctx),
	} {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("%s: %v reads as not found", name, err)
		}
	}
	if last := storage.LastFailure(logged); !errors.Is(last, storage.ErrUnavailable) {
		t.Errorf("LastFailure = %v, want the failure of GetUser", last)
	}
	if last := storage.LastFailure(ctx); last != nil {
		t.Errorf("LastFailure without a failure log = %v", last)
	}
}

func errOf[T any](_ T, err error) error { return err }

func errOf2[T, U any](_ T, _ U, err error) error { return err }

// A request still writing a token while a Postgres store shuts down gets ErrUnavailable; the group-commit
// batcher behind the write must not panic on its closed queue.
func TestWritesAfterCloseOnPostgres(t *testing.T) {
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skip(postgresEnv + " is not set")
	}
	t.Parallel()
	s, err := storage.Open(dsn, storage.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("%s is set but the database is unreachable: %v", postgresEnv, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := storage.WithTenant(context.Background(), "ten_closed")
	req := &fosite.Request{ID: "req_x", Client: &storage.FositeClient{}, RequestedAt: time.Now(), Session: &openid.DefaultSession{}}
	for name, err := range map[string]error{
		"CreateAccessTokenSession": s.CreateAccessTokenSession(ctx, "sig", req),
		"AppendAudit":              s.AppendAudit(ctx, storage.AuditEvent{ID: "evt_x", Type: "test", CreatedAt: time.Now()}),
	} {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s after Close: %v, want ErrUnavailable", name, err)
		}
	}
}

// A value Postgres cannot hold (a NUL byte in text) that slipped past every input check is the request's fault,
// not an outage: it must not come back as ErrUnavailable, which clients are told to retry.
func TestUnstorableDataIsNotAnOutage(t *testing.T) {
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skip(postgresEnv + " is not set")
	}
	t.Parallel()
	ctx := context.Background()
	s := newPostgresStore(t)
	_, err := s.GetTenant(ctx, "slug-with-\x00-nul")
	if err == nil || errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("a NUL in a query parameter: %v, want a data error that is not ErrUnavailable", err)
	}
}
