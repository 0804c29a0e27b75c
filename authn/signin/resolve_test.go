package signin_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/storage"
)

// racedLinks is a store where the identity link loses a race (the unique index answers ErrAlreadyExists) and
// the database then fails the lookup of the winner's link.
type racedLinks struct {
	storage.Storage
	lookups int
}

func (r *racedLinks) LinkIdentity(context.Context, storage.Identity) error {
	return storage.ErrAlreadyExists
}

func (r *racedLinks) IdentityBySubject(context.Context, string, string) (storage.Identity, error) {
	r.lookups++
	if r.lookups == 1 {
		return storage.Identity{}, storage.ErrNotFound // the first sign-in's lookup: not linked yet
	}
	return storage.Identity{}, storage.ErrUnavailable
}

// TestResolveIdentityReportsFailureAfterLostRace: when a first sign-in loses the link race and the database then
// fails the lookup of the winner's link, the caller gets the database's failure (a 5xx), not a conflict that
// would tell the user their email belongs to another account.
func TestResolveIdentityReportsFailureAfterLostRace(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.CreateTenant(ctx, storage.Tenant{ID: "ten_a", Slug: "a", Name: "A", SigningAlg: "RS256",
		CreatedAt: now, UpdatedAt: now}, []string{"a.example"}); err != nil {
		t.Fatal(err)
	}
	ctx = storage.WithTenant(ctx, "ten_a")
	svc := signin.New(signin.Deps{Store: &racedLinks{Storage: st}, Now: time.Now})
	_, err = svc.ResolveIdentity(ctx, storage.Connection{ID: "con_idp", Type: "oidc"},
		authn.Identity{Subject: "idp|1", Email: "racer@a.example", EmailVerified: true})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("ResolveIdentity after a lost race with the database down = %v, want storage.ErrUnavailable", err)
	}
}
