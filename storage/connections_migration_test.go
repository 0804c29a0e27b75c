package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authio/authio/storage"
)

// TestMigrationMovesPasswordsToCredentials builds a database of schema 4 with users that have password hashes
// (and one that has none), migrates it, and checks every tenant got the password connection, every hash became
// that connection's credential (so the password still signs in), and users.password_hash is gone.
func TestMigrationMovesPasswordsToCredentials(t *testing.T) {
	for name, open := range unmigratedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t)
			db := legacyDatabase(t, s, 4, "acme", "globex")
			now := time.Now().UTC()
			hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			users := []struct{ id, tenant, email, hash string }{
				{"user_a1", "ten_acme", "alice@example.test", string(hash)},
				{"user_a2", "ten_acme", "nopass@example.test", ""},
				{"user_g1", "ten_globex", "alice@example.test", "$2a$10$globexglobexglobexglobexgl"},
			}
			for _, u := range users {
				if err := db.Exec("INSERT INTO users (id, tenant_id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
					u.id, u.tenant, u.email, u.hash, now, now).Error; err != nil {
					t.Fatal(err)
				}
			}

			if applied, err := s.Migrate(ctx); err != nil || !slices.Contains(applied, 5) {
				t.Fatalf("Migrate: applied %v, err %v", applied, err)
			}

			for _, u := range users {
				tctx := storage.WithTenant(ctx, u.tenant)
				con, err := s.GetConnection(tctx, storage.DefaultPasswordConnection)
				if err != nil || con.Type != storage.ConnectionPassword || !con.Enabled || len(con.ID) != len("con_")+24 {
					t.Fatalf("%s: password connection = %+v, %v", u.tenant, con, err)
				}
				got, err := s.GetUserByEmail(tctx, u.email)
				if err != nil || got.ID != u.id || got.PasswordHash != u.hash {
					t.Errorf("GetUserByEmail(%s) = %s with hash %q, %v; want %s with %q", u.email, got.ID, got.PasswordHash, err, u.id, u.hash)
				}
				cred, err := s.PasswordCredential(tctx, u.id, con.ID)
				switch {
				case u.hash == "" && err != storage.ErrNotFound:
					t.Errorf("%s had no password but has a credential: %+v, %v", u.id, cred, err)
				case u.hash != "" && (err != nil || cred.Secret != u.hash || cred.TenantID != u.tenant):
					t.Errorf("%s credential = %+v, %v; want its old hash in its tenant", u.id, cred, err)
				}
			}
			// The password signs in as before: the hash read back verifies it.
			got, _ := s.GetUserByEmail(storage.WithTenant(ctx, "ten_acme"), "alice@example.test")
			if bcrypt.CompareHashAndPassword([]byte(got.PasswordHash), []byte("correct horse")) != nil {
				t.Error("the migrated hash no longer verifies the password")
			}
			// The old column is gone, so nothing can keep reading or writing it.
			if err := db.Exec("UPDATE users SET password_hash = 'x'").Error; err == nil {
				t.Error("users.password_hash still exists after migration 5")
			}
		})
	}
}
