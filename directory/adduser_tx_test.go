package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestAddUserIsOneTransaction: a user created blocked, with metadata, is stored in the same transaction as the
// rest of its creation, so when a later write of that transaction fails (here the audit event) no user exists at
// all — never one that is unblocked, even for a moment. Each tenant sees only its own users.
func TestAddUserIsOneTransaction(t *testing.T) {
	st, _ := testenv.NewSQLiteStore(t)
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	var ctxs []context.Context
	for _, slug := range []string{"acme", "globex"} {
		tn := storage.Tenant{ID: "ten_" + slug, Slug: slug, Name: slug, SigningAlg: "RS256", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateTenant(context.Background(), tn, []string{slug + ".example.test"}); err != nil {
			t.Fatal(err)
		}
		ctxs = append(ctxs, storage.WithTenant(context.Background(), tn.ID))
	}
	acme, globex := ctxs[0], ctxs[1]
	failAudit := true
	d := directory.New(directory.Deps{Store: st, Now: time.Now,
		Audit: func(ctx context.Context, e storage.AuditEvent) error {
			if failAudit {
				return errors.New("audit log unavailable")
			}
			return nil
		},
		HashPassword: func(ctx context.Context, pw string) (string, error) { return "hash:" + pw, nil }})
	spec := directory.UserSpec{Email: "blocked@acme.test", Password: "correct horse battery", Blocked: true,
		AppMetadata: map[string]any{"plan": "free"}}
	if _, err := d.AddUser(acme, spec); err == nil {
		t.Fatal("AddUser succeeded although its audit event failed")
	}
	if u, err := st.GetUserByEmail(acme, "blocked@acme.test"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a user exists after the failed creation (blocked=%v): %v", u.Blocked, err)
	}
	failAudit = false
	u, err := d.AddUser(acme, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Blocked || u.AppMetadata["plan"] != "free" {
		t.Errorf("created user: blocked=%v app_metadata=%v", u.Blocked, u.AppMetadata)
	}
	if _, err := st.GetUserByEmail(globex, "blocked@acme.test"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("globex sees acme's user: %v", err)
	}
}
