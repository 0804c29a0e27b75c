package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestScopedIsReusable: queries started from one scoped() value each carry the tenant condition and none of
// what another query added, so repositories may start several queries from one scope.
func TestScopedIsReusable(t *testing.T) {
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bg := context.Background()
	if _, err := s.Migrate(bg); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{"ten_a", "ten_b"} {
		if err := s.CreateTenant(bg, Tenant{ID: id, Slug: id, Name: id, CreatedAt: now, UpdatedAt: now}, []string{id + ".test"}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := WithTenant(bg, "ten_a"), WithTenant(bg, "ten_b")
	for _, o := range []struct {
		ctx      context.Context
		id, name string
	}{{a, "org_1", "one"}, {a, "org_2", "two"}, {b, "org_3", "one"}} {
		if err := s.CreateOrganization(o.ctx, Organization{ID: o.id, Name: o.name, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	db, _, err := s.scoped(a)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Model(&Organization{}).Where("name = ?", "one").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("first query: count %d, %v; want tenant a's one organization named one", n, err)
	}
	var o Organization
	if err := db.Where("name = ?", "two").Take(&o).Error; err != nil || o.ID != "org_2" {
		t.Fatalf("second query from the same scope: %+v, %v; want org_2 (no condition left over from the first)", o, err)
	}
	var all []Organization
	if err := db.Find(&all).Error; err != nil || len(all) != 2 {
		t.Fatalf("third query from the same scope: %d organizations, %v; want tenant a's 2", len(all), err)
	}
}
