package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/authio/authio/storage"
)

// testConnections covers connections, password credentials and linked identities, and that tenant B never
// reads, changes or links to tenant A's.
func testConnections(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	u := newUser(t, s, ctx)
	uB := newUser(t, s, ctxB)

	def, err := s.GetConnection(ctx, storage.DefaultPasswordConnection)
	mustNil(t, "the password connection a new tenant starts with", err)
	if def.Type != storage.ConnectionPassword || !def.Enabled || def.TenantID != tn.ID {
		t.Fatalf("default connection = %+v", def)
	}
	defB, err := s.GetConnection(ctxB, storage.DefaultPasswordConnection)
	mustNil(t, "tenant B's password connection", err)

	c := storage.Connection{ID: "con_" + rnd(t), TenantID: "ten_" + rnd(t), Name: "corp-sso", Type: storage.ConnectionOIDC,
		Settings: storage.JSONMap{"issuer": "https://idp.test"}, Enabled: true, CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateConnection", s.CreateConnection(ctx, c))
	wantErr(t, "a second connection of the same name", s.CreateConnection(ctx, storage.Connection{ID: "con_" + rnd(t),
		Name: "corp-sso", Type: storage.ConnectionOIDC, CreatedAt: now(), UpdatedAt: now()}), storage.ErrAlreadyExists)
	mustNil(t, "the same name in another tenant", s.CreateConnection(ctxB, storage.Connection{ID: "con_" + rnd(t),
		Name: "corp-sso", Type: storage.ConnectionOIDC, CreatedAt: now(), UpdatedAt: now()}))

	t.Run("get and list", func(t *testing.T) {
		for _, key := range []string{c.ID, "corp-sso"} {
			got, err := s.GetConnection(ctx, key)
			mustNil(t, "GetConnection "+key, err)
			if got.ID != c.ID || got.TenantID != tn.ID || got.Settings["issuer"] != "https://idp.test" {
				t.Errorf("GetConnection(%s) = %+v", key, got)
			}
		}
		all, err := s.ListConnections(ctx)
		mustNil(t, "ListConnections", err)
		if len(all) != 2 || all[0].ID != def.ID || all[1].ID != c.ID {
			t.Errorf("ListConnections = %+v, want the password connection then corp-sso", all)
		}
	})

	t.Run("update", func(t *testing.T) {
		mustNil(t, "UpdateConnection", s.UpdateConnection(ctx, c.ID, func(old storage.Connection) (storage.Connection, error) {
			old.Enabled, old.Type, old.Settings = false, storage.ConnectionSAML, storage.JSONMap{"issuer": "https://idp2.test"}
			return old, nil
		}))
		got, _ := s.GetConnection(ctx, c.ID)
		if got.Enabled || got.Type != storage.ConnectionOIDC || got.Settings["issuer"] != "https://idp2.test" {
			t.Errorf("after update = %+v; want disabled, type unchanged, new settings", got)
		}
		boom := errors.New("boom")
		if err := s.UpdateConnection(ctx, c.ID, func(storage.Connection) (storage.Connection, error) { return storage.Connection{}, boom }); !errors.Is(err, boom) {
			t.Errorf("UpdateConnection with a failing fn: %v", err)
		}
	})

	t.Run("password credentials", func(t *testing.T) {
		mustNil(t, "SetPasswordCredential", s.SetPasswordCredential(ctx, u.ID, def.ID, "hash-1"))
		mustNil(t, "replace it", s.SetPasswordCredential(ctx, u.ID, def.ID, "hash-2"))
		cred, err := s.PasswordCredential(ctx, u.ID, def.ID)
		mustNil(t, "PasswordCredential", err)
		if cred.Secret != "hash-2" || cred.Type != storage.CredentialPassword || cred.TenantID != tn.ID {
			t.Errorf("credential = %+v", cred)
		}
		got, _ := s.GetUser(ctx, u.ID)
		if got.PasswordHash != "hash-2" {
			t.Errorf("User.PasswordHash = %q, want the default connection's credential", got.PasswordHash)
		}
		all, err := s.ListCredentials(ctx, u.ID)
		mustNil(t, "ListCredentials", err)
		if len(all) != 1 {
			t.Errorf("ListCredentials = %+v, want one password", all)
		}
		// UpdateUser writes a password change through to the credential.
		mustNil(t, "UpdateUser password", s.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			old.PasswordHash = "hash-3"
			return old, nil
		}))
		if cred, _ := s.PasswordCredential(ctx, u.ID, def.ID); cred.Secret != "hash-3" {
			t.Errorf("after UpdateUser, credential = %q", cred.Secret)
		}
		mustNil(t, "remove it", s.SetPasswordCredential(ctx, u.ID, def.ID, ""))
		_, err = s.PasswordCredential(ctx, u.ID, def.ID)
		wantErr(t, "PasswordCredential after removal", err, storage.ErrNotFound)
		wantErr(t, "SetPasswordCredential for an unknown user", s.SetPasswordCredential(ctx, "user_nobody", def.ID, "h"), storage.ErrNotFound)
	})

	t.Run("identities", func(t *testing.T) {
		i := storage.Identity{ConnectionID: c.ID, Subject: "upstream-1", UserID: u.ID, Profile: storage.JSONMap{"name": "Alice"},
			CreatedAt: now(), UpdatedAt: now()}
		mustNil(t, "LinkIdentity", s.LinkIdentity(ctx, i))
		wantErr(t, "the same subject twice", s.LinkIdentity(ctx, i), storage.ErrAlreadyExists)
		got, err := s.IdentityBySubject(ctx, c.ID, "upstream-1")
		mustNil(t, "IdentityBySubject", err)
		if got.UserID != u.ID || got.TenantID != tn.ID || got.Profile["name"] != "Alice" {
			t.Errorf("identity = %+v", got)
		}
		list, err := s.ListIdentities(ctx, u.ID)
		mustNil(t, "ListIdentities", err)
		if len(list) != 1 || list[0].Subject != "upstream-1" {
			t.Errorf("ListIdentities = %+v", list)
		}

		// A user's identities as Auth0 lists them: the password, then the upstream account; for several users
		// at once, each user's own.
		u2 := newUser(t, s, ctx)
		mustNil(t, "password of u2", s.SetPasswordCredential(ctx, u2.ID, def.ID, "h2"))
		mustNil(t, "password of u", s.SetPasswordCredential(ctx, u.ID, def.ID, "h1"))
		links, err := s.ListUserLinks(ctx, []string{u.ID, u2.ID, uB.ID, "user_nobody"})
		mustNil(t, "ListUserLinks", err)
		type link struct{ user, conName, conType, subject string }
		var gotLinks []link
		for _, l := range links {
			if l.UserID == u.ID {
				gotLinks = append(gotLinks, link{l.UserID, l.ConnectionName, l.ConnectionType, l.Subject})
			}
		}
		want := []link{{u.ID, "corp-sso", storage.ConnectionOIDC, "upstream-1"}, {u.ID, storage.DefaultPasswordConnection, storage.ConnectionPassword, ""}}
		if len(gotLinks) != 2 || gotLinks[0] != want[0] || gotLinks[1] != want[1] {
			t.Errorf("ListUserLinks for u = %+v, want %+v (oldest first)", gotLinks, want)
		}
		if len(links) != 3 {
			t.Errorf("ListUserLinks = %+v, want u's two and u2's password", links)
		}
		if none, err := s.ListUserLinks(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("ListUserLinks of no users = %+v, %v", none, err)
		}
	})

	t.Run("tenant isolation", func(t *testing.T) {
		_, err := s.GetConnection(ctxB, c.ID)
		wantErr(t, "B gets A's connection by id", err, storage.ErrNotFound)
		err = s.UpdateConnection(ctxB, c.ID, func(old storage.Connection) (storage.Connection, error) { old.Enabled = true; return old, nil })
		wantErr(t, "B updates A's connection", err, storage.ErrNotFound)
		wantErr(t, "B deletes A's connection", s.DeleteConnection(ctxB, c.ID), storage.ErrNotFound)
		wantErr(t, "B sets a password for A's user", s.SetPasswordCredential(ctxB, u.ID, defB.ID, "h"), storage.ErrNotFound)
		wantErr(t, "B sets a password on A's connection", s.SetPasswordCredential(ctxB, uB.ID, def.ID, "h"), storage.ErrNotFound)
		mustNil(t, "A's password", s.SetPasswordCredential(ctx, u.ID, def.ID, "a-hash"))
		_, err = s.PasswordCredential(ctxB, u.ID, def.ID)
		wantErr(t, "B reads A's password", err, storage.ErrNotFound)
		if all, err := s.ListCredentials(ctxB, u.ID); err != nil || len(all) != 0 {
			t.Errorf("B lists A's user's credentials: %+v, %v", all, err)
		}
		_, err = s.IdentityBySubject(ctxB, c.ID, "upstream-1")
		wantErr(t, "B looks up A's identity", err, storage.ErrNotFound)
		if l, err := s.ListIdentities(ctxB, u.ID); err != nil || len(l) != 0 {
			t.Errorf("B lists A's user's identities: %+v, %v", l, err)
		}
		if l, err := s.ListUserLinks(ctxB, []string{u.ID}); err != nil || len(l) != 0 {
			t.Errorf("B lists A's user's links: %+v, %v", l, err)
		}
		wantErr(t, "B links to A's user", s.LinkIdentity(ctxB, storage.Identity{ConnectionID: c.ID, Subject: "x", UserID: u.ID,
			CreatedAt: now(), UpdatedAt: now()}), storage.ErrNotFound)
		_, err = s.GetConnection(context.Background(), c.ID)
		wantErr(t, "no tenant", err, storage.ErrNoTenant)
	})

	t.Run("delete", func(t *testing.T) {
		mustNil(t, "DeleteConnection", s.DeleteConnection(ctx, c.ID))
		_, err := s.IdentityBySubject(ctx, c.ID, "upstream-1")
		wantErr(t, "identity of a deleted connection", err, storage.ErrNotFound)
		wantErr(t, "delete twice", s.DeleteConnection(ctx, c.ID), storage.ErrNotFound)
		// A deleted user takes its credentials with it.
		mustNil(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
		_, err = s.PasswordCredential(ctx, u.ID, def.ID)
		wantErr(t, "credential of a deleted user", err, storage.ErrNotFound)
	})
}
