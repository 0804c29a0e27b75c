// Package password is the password connection kind: an email and a password checked against the user's
// bcrypt-hashed password credential on the connection (storage.Credentials). It is a FormConnection; the
// server's SignIn uses its Lookup and Verify directly so that throttling can sit between the two.
package password

import (
	"context"
	"errors"
	"net/url"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/storage"
)

// Type is the connection type of this kind (storage.ConnectionPassword).
const Type = storage.ConnectionPassword

// Bcrypt costs: DefaultCost when nothing is configured; a tenant setting may choose MinTenantCost to
// MaxTenantCost. Tests configure bcrypt.MinCost on the server instead (config.Config.PasswordCost).
const (
	DefaultCost   = 12
	MinTenantCost = 10
	MaxTenantCost = 15
)

// Connection is an opened password connection.
type Connection struct {
	rec   storage.Connection
	store interface {
		GetUserByEmail(ctx context.Context, email string) (storage.User, error)
		PasswordCredential(ctx context.Context, userID, connectionID string) (storage.Credential, error)
	}
	cost func(ctx context.Context) int
}

var (
	_ authn.FormConnection = (*Connection)(nil)
	_ authn.Templated      = (*Connection)(nil)
	_ authn.AccountNamer   = (*Connection)(nil)
)

// Account implements authn.AccountNamer: the email the form names.
func (c *Connection) Account(form url.Values) string { return form.Get("email") }

// New is the kind's authn.Factory. The password kind takes no settings yet: any key is an error.
func New(rec storage.Connection, deps authn.Deps) (authn.Connection, error) {
	if err := authn.NoSettings("password", rec); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("password: no store")
	}
	cost := deps.PasswordCost
	if cost == nil {
		cost = func(context.Context) int { return DefaultCost }
	}
	return &Connection{rec: rec, store: deps.Store, cost: cost}, nil
}

// Type implements authn.Connection.
func (c *Connection) Type() string { return Type }

// Record implements authn.Connection.
func (c *Connection) Record() storage.Connection { return c.rec }

// Template implements authn.Templated: the password form is templates/connections/password.html, the sign-in
// page's form as it has always been (ids "email" and "password", "Sign in").
func (c *Connection) Template() string { return "password" }

// Fields implements authn.FormConnection.
func (c *Connection) Fields() []authn.Field {
	return []authn.Field{
		{Name: "email", Label: "Email", Type: "email", Autocomplete: "username"},
		{Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password"},
	}
}

// Lookup returns the user an email names, with PasswordHash set to the user's credential on this connection
// ("" for none). An unknown email is no error: the zero User, whose Verify fails after the same work.
func (c *Connection) Lookup(ctx context.Context, email string) (storage.User, error) {
	u, err := c.store.GetUserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, nil
	} else if err != nil {
		return storage.User{}, err
	}
	if c.rec.Name != storage.DefaultPasswordConnection { // reads fill in the default connection's only
		cred, err := c.store.PasswordCredential(ctx, u.ID, c.rec.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			u.PasswordHash = ""
		case err != nil:
			return storage.User{}, err
		default:
			u.PasswordHash = cred.Secret
		}
	}
	return u, nil
}

// Verify reports whether password is u's (as Lookup returned u). A user without a password costs the same
// bcrypt work as one with, so timing does not tell which emails exist.
func (c *Connection) Verify(ctx context.Context, u storage.User, password string) bool {
	return Check(u.PasswordHash, password, c.cost(ctx))
}

// Authenticate implements authn.FormConnection with the fields "email" and "password". It does no
// throttling: callers that face the internet use Lookup and Verify with their own (server.SignIn does).
func (c *Connection) Authenticate(ctx context.Context, form url.Values) (authn.Identity, error) {
	u, err := c.Lookup(ctx, form.Get("email"))
	if err != nil {
		return authn.Identity{}, err
	}
	if !c.Verify(ctx, u, form.Get("password")) {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	return authn.Identity{User: u, ConnectionID: c.rec.ID, Subject: u.ID, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, AMR: []string{"pwd"}}, nil
}

// Hash hashes a password with bcrypt at cost (bcrypt.MinCost to bcrypt.MaxCost).
func Hash(password string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(b), err
}

// Check compares password with a bcrypt hash. An empty hash is compared against a dummy hash of cost
// dummyCost (made once per cost, on first use), so a missing account costs what a wrong password does.
func Check(hash, password string, dummyCost int) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(dummyCost), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummies holds one lazily computed dummy hash per cost: no bcrypt work happens at package initialization.
var dummies sync.Map // int → func() []byte

func dummyHash(cost int) []byte {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		cost = DefaultCost
	}
	f, _ := dummies.LoadOrStore(cost, sync.OnceValue(func() []byte {
		b, _ := bcrypt.GenerateFromPassword([]byte("authio-dummy-password"), cost)
		return b
	}))
	return f.(func() []byte)()
}
