package password_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/storage"
)

// fakeStore is the narrow store the kind uses: one user per email, credentials per (user, connection).
type fakeStore struct {
	storage.Users
	storage.Credentials
	storage.Identities
	users map[string]storage.User
	creds map[[2]string]string
}

func (f fakeStore) GetUserByEmail(_ context.Context, email string) (storage.User, error) {
	u, ok := f.users[email]
	if !ok {
		return storage.User{}, storage.ErrNotFound
	}
	return u, nil
}

func (f fakeStore) PasswordCredential(_ context.Context, userID, connectionID string) (storage.Credential, error) {
	h, ok := f.creds[[2]string{userID, connectionID}]
	if !ok {
		return storage.Credential{}, storage.ErrNotFound
	}
	return storage.Credential{Secret: h}, nil
}

func TestPasswordKind(t *testing.T) {
	hash, err := password.Hash("correct horse", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	st := fakeStore{
		users: map[string]storage.User{"alice@example.test": {ID: "user_a", Email: "alice@example.test", PasswordHash: hash}},
		creds: map[[2]string]string{{"user_a", "con_staff"}: hash},
	}
	reg := authn.NewRegistry(authn.Deps{Store: st, PasswordCost: func(context.Context) int { return bcrypt.MinCost }})
	reg.Register(password.Type, password.New)

	def := storage.Connection{ID: "con_def", Name: storage.DefaultPasswordConnection, Type: storage.ConnectionPassword, Enabled: true}
	for _, tc := range []struct {
		name    string
		rec     storage.Connection
		form    url.Values
		want    string // user id, "" for ErrInvalidCredentials
		openErr error
	}{
		{name: "right password", rec: def, form: url.Values{"email": {"alice@example.test"}, "password": {"correct horse"}}, want: "user_a"},
		{name: "wrong password", rec: def, form: url.Values{"email": {"alice@example.test"}, "password": {"wrong"}}},
		{name: "unknown email", rec: def, form: url.Values{"email": {"bob@example.test"}, "password": {"correct horse"}}},
		{name: "another password connection reads its own credential", want: "user_a",
			rec:  storage.Connection{ID: "con_staff", Name: "staff", Type: storage.ConnectionPassword, Enabled: true},
			form: url.Values{"email": {"alice@example.test"}, "password": {"correct horse"}}},
		{name: "no credential on that connection",
			rec:  storage.Connection{ID: "con_other", Name: "other", Type: storage.ConnectionPassword, Enabled: true},
			form: url.Values{"email": {"alice@example.test"}, "password": {"correct horse"}}},
		{name: "disabled", rec: storage.Connection{ID: "con_x", Type: storage.ConnectionPassword}, openErr: authn.ErrDisabled},
		{name: "unregistered type", rec: storage.Connection{ID: "con_y", Type: storage.ConnectionSAML, Enabled: true}, openErr: authn.ErrUnknownType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := reg.Open(tc.rec)
			if tc.openErr != nil || err != nil {
				if !errors.Is(err, tc.openErr) {
					t.Fatalf("Open = %v, want %v", err, tc.openErr)
				}
				return
			}
			fc, ok := c.(authn.FormConnection)
			if !ok || c.Type() != password.Type || c.Record().ID != tc.rec.ID || len(fc.Fields()) != 2 {
				t.Fatalf("opened %T %+v", c, c)
			}
			id, err := fc.Authenticate(context.Background(), tc.form)
			switch {
			case tc.want == "" && !errors.Is(err, authn.ErrInvalidCredentials):
				t.Errorf("Authenticate = %+v, %v; want ErrInvalidCredentials", id, err)
			case tc.want != "" && (err != nil || id.User.ID != tc.want || id.ConnectionID != tc.rec.ID || id.AMR[0] != "pwd"):
				t.Errorf("Authenticate = %+v, %v; want %s", id, err, tc.want)
			}
		})
	}

	t.Run("settings are refused", func(t *testing.T) {
		rec := def
		rec.Settings = storage.JSONMap{"mfa": true}
		if err := reg.Validate(rec); err == nil {
			t.Error("a password connection with settings was accepted")
		}
	})
	t.Run("a type registered twice panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		reg.Register(password.Type, password.New)
	})
}
