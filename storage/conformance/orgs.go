package conformance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// Organizations, memberships, resource servers, roles with their permissions and assignments, client links,
// API keys and the audit log.

// ---- fixtures ----

func newOrg(t *testing.T, s storage.Storage, ctx context.Context) storage.Organization {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	id := rnd(t)
	o := storage.Organization{
		ID:          "org_" + id,
		TenantID:    tid,
		Name:        "org-" + id,
		DisplayName: "Org " + id,
		Metadata:    storage.JSONMap{"plan": "pro"},
		CreatedAt:   now(),
		UpdatedAt:   now(),
	}
	mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, o))
	return o
}

func newMembership(t *testing.T, s storage.Storage, ctx context.Context, orgID, userID string, joined time.Time) storage.Membership {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	m := storage.Membership{
		ID:             "mem_" + rnd(t),
		TenantID:       tid,
		OrganizationID: orgID,
		UserID:         userID,
		Status:         storage.MembershipActive,
		JoinedAt:       joined,
		CreatedAt:      now(),
		UpdatedAt:      now(),
	}
	mustNil(t, "CreateMembership", s.CreateMembership(ctx, m))
	return m
}

func newResourceServer(t *testing.T, s storage.Storage, ctx context.Context, lifetime int, scopes ...string) storage.ResourceServer {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	id := rnd(t)
	var sl storage.ScopeList
	for _, v := range scopes {
		sl = append(sl, storage.Scope{Value: v, Description: "Allows " + v})
	}
	rs := storage.ResourceServer{
		ID:              "rs_" + id,
		TenantID:        tid,
		Identifier:      "https://api-" + id + ".test",
		Name:            "API " + id,
		Scopes:          sl,
		TokenLifetime:   lifetime,
		RefreshLifetime: 86400,
		Metadata:        storage.JSONMap{"team": "core"},
		CreatedAt:       now(),
		UpdatedAt:       now(),
	}
	mustNil(t, "CreateResourceServer", s.CreateResourceServer(ctx, rs))
	return rs
}

func newRole(t *testing.T, s storage.Storage, ctx context.Context, orgID, name string) storage.Role {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	r := storage.Role{
		ID:             "rol_" + rnd(t),
		TenantID:       tid,
		OrganizationID: orgID,
		Name:           name,
		Description:    "The " + name + " role",
		CreatedAt:      now(),
		UpdatedAt:      now(),
	}
	mustNil(t, "CreateRole", s.CreateRole(ctx, r))
	return r
}

func newAPIKey(t *testing.T, s storage.Storage, ctx context.Context, mode string, created time.Time) storage.APIKey {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	hash := rnd(t) + rnd(t)
	k := storage.APIKey{
		ID:        "key_" + rnd(t),
		TenantID:  tid,
		Name:      "Key " + mode,
		Mode:      mode,
		KeyHash:   hash,
		Hint:      hash[len(hash)-4:],
		CreatedAt: created,
	}
	mustNil(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	return k
}

// newAuditEvent appends an event and returns it as stored, except for Seq, which the store assigns.
func newAuditEvent(t *testing.T, s storage.Storage, ctx context.Context, typ, userID, orgID string, created time.Time) storage.AuditEvent {
	t.Helper()
	tid, _ := storage.TenantFromContext(ctx)
	e := storage.AuditEvent{
		ID:             "aud_" + rnd(t),
		TenantID:       tid,
		Type:           typ,
		Actor:          "user:" + userID,
		UserID:         userID,
		OrganizationID: orgID,
		ClientID:       "cli_console",
		IP:             "192.0.2.7",
		Data:           storage.JSONMap{"reason": "conformance", "attempt": 2.0, "tags": []any{"a", "b"}},
		CreatedAt:      created,
	}
	mustNil(t, "AppendAudit", s.AppendAudit(ctx, e))
	return e
}

func perm(rs storage.ResourceServer, name string) storage.Permission {
	return storage.Permission{ResourceServer: rs.Identifier, Name: name}
}

func assign(t *testing.T, s storage.Storage, ctx context.Context, kind, subjectID string, roleIDs ...string) {
	t.Helper()
	_, err := s.AssignRoles(ctx, kind, subjectID, roleIDs, storage.SourceManual)
	mustNil(t, "AssignRoles", err)
}

// assigned is the sorted ids of the roles a subject holds.
func assigned(t *testing.T, s storage.Storage, ctx context.Context, kind, subjectID string) []string {
	t.Helper()
	rs, err := s.ListAssignedRoles(ctx, kind, subjectID)
	mustNil(t, "ListAssignedRoles", err)
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// assertSet compares two lists of strings ignoring order; nil and empty are the same.
func assertSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// assertSame compares two lists of strings in order; nil and empty are the same.
func assertSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

func assertPermissions(t *testing.T, s storage.Storage, ctx context.Context, id string, want ...storage.Permission) {
	t.Helper()
	got, err := s.ListRolePermissions(ctx, id)
	mustNil(t, "ListRolePermissions", err)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	byKey := func(a, b storage.Permission) int {
		return cmp.Or(cmp.Compare(a.ResourceServer, b.ResourceServer), cmp.Compare(a.Name, b.Name))
	}
	want = slices.Clone(want)
	slices.SortFunc(got, byKey)
	slices.SortFunc(want, byKey)
	assertEqual(t, "permissions of "+id, got, want)
}

func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func orgID(o storage.Organization) string               { return o.ID }
func memberID(m storage.Member) string                  { return m.ID }
func resourceServerID(rs storage.ResourceServer) string { return rs.ID }
func roleID(r storage.Role) string                      { return r.ID }
func apiKeyID(k storage.APIKey) string                  { return k.ID }
func auditID(e storage.AuditEvent) string               { return e.ID }

// creationOrder is the order in which the list fixtures below insert five rows: not their creation times' order,
// so a list that came back in insertion order would show.
var creationOrder = []int{3, 0, 4, 1, 2}

// ago is the creation time of row i of five: row 0 is the oldest.
func ago(i int) time.Time { return at(time.Duration(i-5) * time.Minute) }

// testPages lists ids (in the list's order) page by page. Every page reports the total of all rows.
func testPages(t *testing.T, ids []string, list func(p storage.Page) ([]string, int64, error)) {
	t.Helper()
	n := len(ids)
	tests := []struct {
		name     string
		page     storage.Page
		from, to int
	}{
		{"no page", storage.Page{}, 0, n},
		{"first page", storage.Page{Limit: 2}, 0, 2},
		{"second page", storage.Page{Offset: 2, Limit: 2}, 2, 4},
		{"last partial page", storage.Page{Offset: n - 1, Limit: 2}, n - 1, n},
		{"offset without limit", storage.Page{Offset: 1}, 1, n},
		{"limit beyond the end", storage.Page{Limit: n + 5}, 0, n},
		{"offset past the end", storage.Page{Offset: n, Limit: 2}, n, n},
	}
	for _, tc := range tests {
		t.Run("page/"+tc.name, func(t *testing.T) {
			got, total, err := list(tc.page)
			mustNil(t, "list", err)
			if total != int64(n) {
				t.Fatalf("total = %d, want %d", total, n)
			}
			assertSame(t, "page", got, ids[tc.from:tc.to])
		})
	}
}

// testCheckpoints lists ids (in the list's order) by checkpoint pages: two at a time from the start to the end,
// where Next is empty; all at once; and refuses cursors no page produced.
func testCheckpoints(t *testing.T, ids []string, list func(c storage.Checkpoint) ([]string, string, error)) {
	t.Helper()
	t.Run("checkpoint/two at a time", func(t *testing.T) {
		var got []string
		c := storage.Checkpoint{Take: 2}
		for i := 0; ; i++ {
			page, next, err := list(c)
			mustNil(t, "list", err)
			got = append(got, page...)
			if next == "" {
				break
			}
			if i > len(ids) {
				t.Fatalf("checkpoint paging does not end: %v", got)
			}
			c.From = next
		}
		assertSame(t, "pages", got, ids)
	})
	t.Run("checkpoint/all at once", func(t *testing.T) {
		got, next, err := list(storage.Checkpoint{Take: len(ids)})
		mustNil(t, "list", err)
		if next != "" {
			t.Errorf("next = %q after a page holding every row", next)
		}
		assertSame(t, "page", got, ids)
	})
	t.Run("checkpoint/last row as cursor", func(t *testing.T) {
		_, next, err := list(storage.Checkpoint{Take: len(ids) - 1})
		mustNil(t, "list", err)
		got, after, err := list(storage.Checkpoint{From: next, Take: 5})
		mustNil(t, "list", err)
		if after != "" {
			t.Errorf("next = %q on the last page", after)
		}
		assertSame(t, "last page", got, ids[len(ids)-1:])
	})
	for _, bad := range []string{"garbage!", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMlQwMzowNDowNVp8"} {
		t.Run("checkpoint/bad cursor "+bad, func(t *testing.T) {
			_, _, err := list(storage.Checkpoint{From: bad, Take: 2})
			wantErr(t, "list", err, storage.ErrBadCursor)
		})
	}
}

// ---- normalisation ----

// normMap: an empty JSON object may come back as nil or as an empty map.
func normMap(m storage.JSONMap) storage.JSONMap {
	if len(m) == 0 {
		return nil
	}
	return m
}

func normOrg(o storage.Organization) storage.Organization {
	o.CreatedAt, o.UpdatedAt = normTime(o.CreatedAt), normTime(o.UpdatedAt)
	o.Metadata, o.Branding = normMap(o.Metadata), normMap(o.Branding)
	return o
}

func normMembership(m storage.Membership) storage.Membership {
	m.JoinedAt, m.CreatedAt, m.UpdatedAt = normTime(m.JoinedAt), normTime(m.CreatedAt), normTime(m.UpdatedAt)
	return m
}

func normResourceServer(rs storage.ResourceServer) storage.ResourceServer {
	rs.CreatedAt, rs.UpdatedAt = normTime(rs.CreatedAt), normTime(rs.UpdatedAt)
	if len(rs.Scopes) == 0 {
		rs.Scopes = nil
	}
	rs.Metadata = normMap(rs.Metadata)
	return rs
}

func normRole(r storage.Role) storage.Role {
	r.CreatedAt, r.UpdatedAt = normTime(r.CreatedAt), normTime(r.UpdatedAt)
	return r
}

func normAPIKey(k storage.APIKey) storage.APIKey {
	k.CreatedAt, k.LastUsedAt = normTime(k.CreatedAt), normTimePtr(k.LastUsedAt)
	return k
}

func normAudit(e storage.AuditEvent) storage.AuditEvent {
	e.CreatedAt, e.Data = normTime(e.CreatedAt), normMap(e.Data)
	return e
}

// ---- tests ----

func testOrganizations(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	id := rnd(t)
	o1 := storage.Organization{
		ID:          "org_" + id,
		TenantID:    "ten_" + rnd(t),
		Name:        "acme-" + id,
		DisplayName: "Acme, Inc.",
		Metadata:    storage.JSONMap{"plan": "enterprise", "seats": 25.0, "tags": []any{"b2b", "eu"}},
		Branding:    storage.JSONMap{"logo_url": "https://acme.test/logo.png", "colors": map[string]any{"primary": "#ff0000"}},
		CreatedAt:   at(-2 * time.Hour),
		UpdatedAt:   at(-time.Hour),
	}
	mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, o1))
	o1.TenantID = tn.ID // the context decides the tenant, not the value
	// A name shaped like an id is still a name.
	idLike := storage.Organization{ID: "org_" + rnd(t), TenantID: tn.ID, Name: "org_" + rnd(t), CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, idLike))

	t.Run("lookups", func(t *testing.T) {
		tests := []struct {
			name    string
			key     string
			want    storage.Organization
			wantErr error
		}{
			{"by id", o1.ID, o1, nil},
			{"by name", o1.Name, o1, nil},
			{"by a name shaped like an id", idLike.Name, idLike, nil},
			{"by id of the org named like an id", idLike.ID, idLike, nil},
			{"unknown id", "org_" + rnd(t), storage.Organization{}, storage.ErrNotFound},
			{"unknown name", "acme-" + rnd(t), storage.Organization{}, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetOrganization(ctx, tc.key)
				wantErr(t, "GetOrganization", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "organization", normOrg(got), normOrg(tc.want))
				}
			})
		}
	})

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name    string
			ctx     context.Context
			org     storage.Organization
			wantErr error
		}{
			{"same name", ctx, storage.Organization{ID: "org_" + rnd(t), Name: o1.Name, CreatedAt: now(), UpdatedAt: now()}, storage.ErrAlreadyExists},
			{"same id", ctx, storage.Organization{ID: o1.ID, Name: "acme-" + rnd(t), CreatedAt: now(), UpdatedAt: now()}, storage.ErrAlreadyExists},
			{"same name in another tenant", ctxB, storage.Organization{ID: "org_" + rnd(t), Name: o1.Name, CreatedAt: now(), UpdatedAt: now()}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "CreateOrganization", s.CreateOrganization(tc.ctx, tc.org), tc.wantErr)
				if tc.wantErr != nil && tc.org.ID != o1.ID {
					_, err := s.GetOrganization(tc.ctx, tc.org.ID)
					wantErr(t, "GetOrganization after refused create", err, storage.ErrNotFound)
				}
			})
		}
		got, err := s.GetOrganization(ctxB, o1.Name)
		mustNil(t, "GetOrganization in the other tenant", err)
		if got.ID == o1.ID {
			t.Fatal("the other tenant's lookup by name found the first tenant's organization")
		}
		got, err = s.GetOrganization(ctx, o1.Name)
		mustNil(t, "GetOrganization", err)
		assertEqual(t, "organization", normOrg(got), normOrg(o1))
	})

	t.Run("list", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		orgs := make([]storage.Organization, 5)
		for _, i := range creationOrder {
			o := storage.Organization{ID: "org_" + rnd(t), Name: fmt.Sprintf("list-%d-%s", i, rnd(t)), CreatedAt: ago(i), UpdatedAt: ago(i)}
			mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, o))
			o.TenantID, _ = storage.TenantFromContext(ctx)
			orgs[i] = o
		}
		got, total, err := s.ListOrganizations(ctx, storage.Page{})
		mustNil(t, "ListOrganizations", err)
		if total != 5 || len(got) != 5 {
			t.Fatalf("ListOrganizations = %d rows, total %d, want 5 and 5", len(got), total)
		}
		for i := range got {
			assertEqual(t, "listed organization", normOrg(got[i]), normOrg(orgs[i]))
		}
		testPages(t, idsOf(orgs, orgID), func(p storage.Page) ([]string, int64, error) {
			os, n, err := s.ListOrganizations(ctx, p)
			return idsOf(os, orgID), n, err
		})
		testCheckpoints(t, idsOf(orgs, orgID), func(c storage.Checkpoint) ([]string, string, error) {
			os, next, err := s.ListOrganizationsAfter(ctx, c)
			for i := range os {
				assertEqual(t, "organization of a checkpoint page", normOrg(os[i]), normOrg(orgs[slices.Index(idsOf(orgs, orgID), os[i].ID)]))
			}
			return idsOf(os, orgID), next, err
		})
	})

	t.Run("checkpoint ties", func(t *testing.T) {
		// Rows created in the same instant come in id order, and a cursor between them loses none.
		_, ctx := newTenant(t, s)
		var ids []string
		tie := ago(2)
		for range 5 {
			o := storage.Organization{ID: "org_" + rnd(t), Name: "tie-" + rnd(t), CreatedAt: tie, UpdatedAt: tie}
			mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, o))
			ids = append(ids, o.ID)
		}
		first := storage.Organization{ID: "org_zzz" + rnd(t), Name: "first-" + rnd(t), CreatedAt: ago(0), UpdatedAt: ago(0)}
		mustNil(t, "CreateOrganization", s.CreateOrganization(ctx, first))
		slices.Sort(ids)
		testCheckpoints(t, append([]string{first.ID}, ids...), func(c storage.Checkpoint) ([]string, string, error) {
			os, next, err := s.ListOrganizationsAfter(ctx, c)
			return idsOf(os, orgID), next, err
		})
	})

	t.Run("update", func(t *testing.T) {
		o := newOrg(t, s, ctx)
		before := time.Now().Add(-time.Second)
		var seen storage.Organization
		err := s.UpdateOrganization(ctx, o.ID, func(old storage.Organization) (storage.Organization, error) {
			seen = old
			old.ID, old.TenantID, old.CreatedAt = "org_"+rnd(t), "ten_"+rnd(t), at(-100*time.Hour)
			old.Name, old.DisplayName = "renamed-"+o.Name, "Renamed"
			old.Metadata, old.Branding = storage.JSONMap{"plan": "free"}, storage.JSONMap{"theme": "dark"}
			old.DefaultRoleID = "rol_default"
			return old, nil
		})
		mustNil(t, "UpdateOrganization", err)
		assertEqual(t, "fn received", normOrg(seen), normOrg(o))
		got, err := s.GetOrganization(ctx, o.ID)
		mustNil(t, "GetOrganization", err)
		if got.UpdatedAt.Before(before) {
			t.Fatalf("UpdatedAt = %v, want after %v", got.UpdatedAt, before)
		}
		want := o
		want.Name, want.DisplayName = "renamed-"+o.Name, "Renamed"
		want.Metadata, want.Branding = storage.JSONMap{"plan": "free"}, storage.JSONMap{"theme": "dark"}
		want.DefaultRoleID, want.UpdatedAt = "rol_default", got.UpdatedAt
		assertEqual(t, "updated organization", normOrg(got), normOrg(want))
		byName, err := s.GetOrganization(ctx, want.Name)
		mustNil(t, "GetOrganization by the new name", err)
		assertEqual(t, "organization by the new name", normOrg(byName), normOrg(want))
		_, err = s.GetOrganization(ctx, o.Name)
		wantErr(t, "GetOrganization by the old name", err, storage.ErrNotFound)

		tests := []struct {
			name    string
			fn      func(old storage.Organization) (storage.Organization, error)
			wantErr error
		}{
			{"to a taken name", func(old storage.Organization) (storage.Organization, error) {
				old.Name = o1.Name
				return old, nil
			}, storage.ErrAlreadyExists},
			{"failing fn", func(old storage.Organization) (storage.Organization, error) {
				old.DisplayName = "never stored"
				return old, errBoom
			}, errBoom},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "UpdateOrganization", s.UpdateOrganization(ctx, o.ID, tc.fn), tc.wantErr)
				again, err := s.GetOrganization(ctx, o.ID)
				mustNil(t, "GetOrganization", err)
				assertEqual(t, "organization after a refused update", normOrg(again), normOrg(got))
			})
		}

		err = s.UpdateOrganization(ctx, "org_"+rnd(t), func(old storage.Organization) (storage.Organization, error) {
			t.Error("fn called for an unknown organization")
			return old, nil
		})
		wantErr(t, "UpdateOrganization unknown", err, storage.ErrNotFound)
	})

	t.Run("delete unknown", func(t *testing.T) {
		tenantRole := newRole(t, s, ctx, "", "survivor")
		wantErr(t, "DeleteOrganization", s.DeleteOrganization(ctx, "org_"+rnd(t)), storage.ErrNotFound)
		// Tenant-wide roles have organization "": a delete of "" must not take them as its custom roles.
		wantErr(t, "DeleteOrganization with no id", s.DeleteOrganization(ctx, ""), storage.ErrNotFound)
		_, err := s.GetRole(ctx, tenantRole.ID)
		mustNil(t, "tenant-wide role after refused deletes", err)
		_, err = s.GetOrganization(ctx, o1.ID)
		mustNil(t, "GetOrganization", err)
	})

	t.Run("delete cascades", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		gone, kept := newOrg(t, s, ctx), newOrg(t, s, ctx)
		u1, u2 := newUser(t, s, ctx), newUser(t, s, ctx)
		c := newClient(t, s, ctx)
		rs := newResourceServer(t, s, ctx, 600, "read")
		tenantRole := newRole(t, s, ctx, "", "member")
		custom := newRole(t, s, ctx, gone.ID, "gone-admin")
		keptCustom := newRole(t, s, ctx, kept.ID, "kept-admin")
		for _, r := range []storage.Role{tenantRole, custom, keptCustom} {
			mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r.ID, []storage.Permission{perm(rs, "read")}))
		}
		mGone1 := newMembership(t, s, ctx, gone.ID, u1.ID, at(-time.Hour))
		mGone2 := newMembership(t, s, ctx, gone.ID, u2.ID, at(-time.Hour))
		mKept := newMembership(t, s, ctx, kept.ID, u1.ID, at(-time.Hour))
		assign(t, s, ctx, storage.SubjectMembership, mGone1.ID, tenantRole.ID, custom.ID)
		assign(t, s, ctx, storage.SubjectMembership, mGone2.ID, tenantRole.ID)
		assign(t, s, ctx, storage.SubjectMembership, mKept.ID, tenantRole.ID, keptCustom.ID)
		assign(t, s, ctx, storage.SubjectUser, u2.ID, tenantRole.ID, custom.ID)
		mustNil(t, "AddClientOrganization", s.AddClientOrganization(ctx, c.ID, gone.ID))
		mustNil(t, "AddClientOrganization", s.AddClientOrganization(ctx, c.ID, kept.ID))

		mustNil(t, "DeleteOrganization", s.DeleteOrganization(ctx, gone.ID))

		for _, key := range []string{gone.ID, gone.Name} {
			_, err := s.GetOrganization(ctx, key)
			wantErr(t, "GetOrganization "+key+" after delete", err, storage.ErrNotFound)
		}
		wantErr(t, "DeleteOrganization again", s.DeleteOrganization(ctx, gone.ID), storage.ErrNotFound)
		for _, m := range []storage.Membership{mGone1, mGone2} {
			_, err := s.GetMembershipByID(ctx, m.ID)
			wantErr(t, "membership of the deleted organization", err, storage.ErrNotFound)
			assertSet(t, "roles of a membership of the deleted organization", assigned(t, s, ctx, storage.SubjectMembership, m.ID), nil)
		}
		members, total, err := s.ListMembers(ctx, gone.ID, storage.Page{})
		mustNil(t, "ListMembers", err)
		if len(members) != 0 || total != 0 {
			t.Fatalf("deleted organization still has members %+v (total %d)", members, total)
		}
		_, err = s.GetRole(ctx, custom.ID)
		wantErr(t, "custom role of the deleted organization", err, storage.ErrNotFound)
		in, err := s.ClientInOrganization(ctx, c.ID, gone.ID)
		mustNil(t, "ClientInOrganization", err)
		if in {
			t.Fatal("client still linked to the deleted organization")
		}
		clients, err := s.OrganizationClients(ctx, gone.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients of the deleted organization", clients, nil)

		// What belongs elsewhere stays.
		ums, err := s.ListUserMemberships(ctx, u1.ID)
		mustNil(t, "ListUserMemberships", err)
		assertSame(t, "memberships left to the user", idsOf(ums, func(m storage.UserMembership) string { return m.ID }), []string{mKept.ID})
		assertSet(t, "roles of the kept membership", assigned(t, s, ctx, storage.SubjectMembership, mKept.ID), []string{tenantRole.ID, keptCustom.ID})
		assertSet(t, "user roles", assigned(t, s, ctx, storage.SubjectUser, u2.ID), []string{tenantRole.ID})
		assertPermissions(t, s, ctx, keptCustom.ID, perm(rs, "read"))
		assertPermissions(t, s, ctx, tenantRole.ID, perm(rs, "read"))
		clients, err = s.OrganizationClients(ctx, kept.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients of the kept organization", clients, []string{c.ID})

		// Ids can be reused: rows re-created under them start clean, so nothing of the old ones survived.
		reborn := custom
		reborn.OrganizationID, reborn.Name = "", "reborn"
		mustNil(t, "CreateRole with the deleted role's id", s.CreateRole(ctx, reborn))
		assertPermissions(t, s, ctx, reborn.ID)
		assertSet(t, "user roles after re-creating the role", assigned(t, s, ctx, storage.SubjectUser, u2.ID), []string{tenantRole.ID})
		assertSet(t, "membership roles after re-creating the role", assigned(t, s, ctx, storage.SubjectMembership, mGone1.ID), nil)
		mustNil(t, "CreateOrganization with the deleted organization's id", s.CreateOrganization(ctx, gone))
		in, err = s.ClientInOrganization(ctx, c.ID, gone.ID)
		mustNil(t, "ClientInOrganization", err)
		if in {
			t.Fatal("a re-created organization inherited the deleted one's client link")
		}
	})
}

var errBoom = errors.New("boom")

func testMemberships(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	org1, org2 := newOrg(t, s, ctx), newOrg(t, s, ctx)
	u1, u2, u3 := newUser(t, s, ctx), newUser(t, s, ctx), newUser(t, s, ctx)
	orgB, userB := newOrg(t, s, ctxB), newUser(t, s, ctxB)

	m1 := storage.Membership{ID: "mem_" + rnd(t), TenantID: "ten_" + rnd(t), OrganizationID: org1.ID, UserID: u1.ID,
		Status: storage.MembershipActive, JoinedAt: at(-time.Hour), CreatedAt: at(-2 * time.Hour), UpdatedAt: at(-time.Hour)}
	mustNil(t, "CreateMembership", s.CreateMembership(ctx, m1))
	m1.TenantID = tn.ID
	m2 := newMembership(t, s, ctx, org2.ID, u1.ID, at(-3*time.Hour))
	m3 := newMembership(t, s, ctx, org1.ID, u2.ID, at(-2*time.Hour))

	t.Run("organization and membership in one lookup", func(t *testing.T) {
		tests := []struct {
			name    string
			ctx     context.Context
			ref     string
			user    string
			wantOrg string
			wantMem string
			wantErr error
		}{
			{"by organization id", ctx, org1.ID, u1.ID, org1.ID, m1.ID, nil},
			{"by organization name", ctx, org2.Name, u1.ID, org2.ID, m2.ID, nil},
			{"not a member", ctx, org2.ID, u2.ID, "", "", storage.ErrNotFound},
			{"unknown organization", ctx, "org_" + rnd(t), u1.ID, "", "", storage.ErrNotFound},
			{"another tenant", ctxB, org1.ID, u1.ID, "", "", storage.ErrNotFound},
			{"another tenant by name", ctxB, org1.Name, u1.ID, "", "", storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				o, m, _, err := s.OrganizationMembership(tc.ctx, tc.ref, tc.user)
				wantErr(t, "OrganizationMembership", err, tc.wantErr)
				if tc.wantErr == nil && (o.ID != tc.wantOrg || m.ID != tc.wantMem || m.UserID != tc.user || o.TenantID != tn.ID) {
					t.Errorf("got organization %+v and membership %+v, want %s / %s", o, m, tc.wantOrg, tc.wantMem)
				}
			})
		}
		o, _, u, err := s.OrganizationMembership(ctx, org1.ID, u1.ID)
		mustNil(t, "OrganizationMembership", err)
		want, err := s.GetOrganization(ctx, org1.ID)
		mustNil(t, "GetOrganization", err)
		assertEqual(t, "organization", normOrg(o), normOrg(want))
		wantUser, err := s.GetUser(ctx, u1.ID)
		mustNil(t, "GetUser", err)
		assertEqual(t, "user", normUser(u), normUser(wantUser))
	})

	t.Run("a user's memberships with their roles", func(t *testing.T) {
		r1, r2 := newRole(t, s, ctx, "", "b-"+rnd(t)), newRole(t, s, ctx, "", "a-"+rnd(t))
		assign(t, s, ctx, storage.SubjectMembership, m2.ID, r1.ID, r2.ID)
		assign(t, s, ctx, storage.SubjectUser, u1.ID, r1.ID) // a tenant-level role is no membership role
		ms, err := s.ListUserMembershipsWithRoles(ctx, u1.ID)
		mustNil(t, "ListUserMembershipsWithRoles", err)
		if len(ms) != 2 || ms[0].ID != m2.ID || ms[1].ID != m1.ID {
			t.Fatalf("memberships = %+v, want %s then %s (joining order)", ms, m2.ID, m1.ID)
		}
		if want := []string{r2.Name, r1.Name}; !slices.Equal(ms[0].Roles, want) || ms[0].OrganizationName != org2.Name {
			t.Errorf("first membership roles %v org %q, want %v %q", ms[0].Roles, ms[0].OrganizationName, want, org2.Name)
		}
		if ms[1].Roles == nil || len(ms[1].Roles) != 0 {
			t.Errorf("membership without roles has roles %#v, want an empty list", ms[1].Roles)
		}
		none, err := s.ListUserMembershipsWithRoles(ctxB, u1.ID)
		mustNil(t, "ListUserMembershipsWithRoles as another tenant", err)
		if len(none) != 0 {
			t.Errorf("another tenant sees %+v", none)
		}
		mustNil(t, "unassign", func() error {
			_, err := s.UnassignRoles(ctx, storage.SubjectMembership, m2.ID, []string{r1.ID, r2.ID})
			return err
		}())
	})

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name        string
			org, user   string
			wantErr     error
			wantCreated bool
		}{
			{"unknown organization", "org_" + rnd(t), u3.ID, storage.ErrNotFound, false},
			{"unknown user", org1.ID, "usr_" + rnd(t), storage.ErrNotFound, false},
			{"another tenant's organization", orgB.ID, u3.ID, storage.ErrNotFound, false},
			{"another tenant's user", org1.ID, userB.ID, storage.ErrNotFound, false},
			{"user already in the organization", org1.ID, u1.ID, storage.ErrAlreadyExists, false},
			{"new member", org2.ID, u3.ID, nil, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m := storage.Membership{ID: "mem_" + rnd(t), OrganizationID: tc.org, UserID: tc.user, Status: storage.MembershipInvited,
					JoinedAt: now(), CreatedAt: now(), UpdatedAt: now()}
				wantErr(t, "CreateMembership", s.CreateMembership(ctx, m), tc.wantErr)
				_, err := s.GetMembershipByID(ctx, m.ID)
				if tc.wantCreated {
					mustNil(t, "GetMembershipByID", err)
					mustNil(t, "DeleteMembership", s.DeleteMembership(ctx, m.ID))
				} else {
					wantErr(t, "GetMembershipByID after refused create", err, storage.ErrNotFound)
				}
			})
		}
		got, err := s.GetMembership(ctx, org1.ID, u1.ID)
		mustNil(t, "GetMembership", err)
		assertEqual(t, "membership after a refused duplicate", normMembership(got), normMembership(m1))
	})

	t.Run("lookups", func(t *testing.T) {
		tests := []struct {
			name    string
			get     func() (storage.Membership, error)
			want    storage.Membership
			wantErr error
		}{
			{"by organization and user", func() (storage.Membership, error) { return s.GetMembership(ctx, org1.ID, u1.ID) }, m1, nil},
			{"same user, other organization", func() (storage.Membership, error) { return s.GetMembership(ctx, org2.ID, u1.ID) }, m2, nil},
			{"by id", func() (storage.Membership, error) { return s.GetMembershipByID(ctx, m3.ID) }, m3, nil},
			{"user not in the organization", func() (storage.Membership, error) { return s.GetMembership(ctx, org2.ID, u2.ID) },
				storage.Membership{}, storage.ErrNotFound},
			{"unknown organization", func() (storage.Membership, error) { return s.GetMembership(ctx, "org_"+rnd(t), u1.ID) },
				storage.Membership{}, storage.ErrNotFound},
			{"unknown id", func() (storage.Membership, error) { return s.GetMembershipByID(ctx, "mem_"+rnd(t)) },
				storage.Membership{}, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				wantErr(t, "lookup", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "membership", normMembership(got), normMembership(tc.want))
				}
			})
		}
	})

	t.Run("list members", func(t *testing.T) {
		org := newOrg(t, s, ctx)
		statuses := []string{storage.MembershipActive, storage.MembershipInvited, storage.MembershipSuspended}
		want := make([]storage.Member, 5)
		for _, i := range creationOrder {
			u := newUser(t, s, ctx)
			m := storage.Membership{ID: "mem_" + rnd(t), TenantID: tn.ID, OrganizationID: org.ID, UserID: u.ID,
				Status: statuses[i%len(statuses)], JoinedAt: ago(i), CreatedAt: now(), UpdatedAt: now()}
			mustNil(t, "CreateMembership", s.CreateMembership(ctx, m))
			want[i] = storage.Member{Membership: normMembership(m), Email: u.Email, Name: u.Name}
		}
		got, total, err := s.ListMembers(ctx, org.ID, storage.Page{})
		mustNil(t, "ListMembers", err)
		if total != 5 || len(got) != 5 {
			t.Fatalf("ListMembers = %d rows, total %d, want 5 and 5", len(got), total)
		}
		for i := range got {
			got[i].Membership = normMembership(got[i].Membership)
			assertEqual(t, "member", got[i], want[i])
		}
		testPages(t, idsOf(want, memberID), func(p storage.Page) ([]string, int64, error) {
			ms, n, err := s.ListMembers(ctx, org.ID, p)
			return idsOf(ms, memberID), n, err
		})
		testCheckpoints(t, idsOf(want, memberID), func(c storage.Checkpoint) ([]string, string, error) {
			ms, next, err := s.ListMembersAfter(ctx, org.ID, c)
			for i := range ms {
				ms[i].Membership = normMembership(ms[i].Membership)
				assertEqual(t, "member of a checkpoint page", ms[i], want[slices.Index(idsOf(want, memberID), ms[i].ID)])
			}
			return idsOf(ms, memberID), next, err
		})
		// Another organization's members are not on its pages.
		other := newOrg(t, s, ctx)
		newMembership(t, s, ctx, other.ID, newUser(t, s, ctx).ID, now())
		if ms, next, err := s.ListMembersAfter(ctx, org.ID, storage.Checkpoint{Take: 50}); err != nil || len(ms) != 5 || next != "" {
			t.Fatalf("ListMembersAfter with another organization's member around = %d rows, next %q, %v", len(ms), next, err)
		}
		none, total, err := s.ListMembers(ctx, "org_"+rnd(t), storage.Page{})
		mustNil(t, "ListMembers unknown organization", err)
		if len(none) != 0 || total != 0 {
			t.Fatalf("unknown organization has members %+v (total %d)", none, total)
		}
	})

	t.Run("list user memberships", func(t *testing.T) {
		tests := []struct {
			name string
			user string
			want []storage.UserMembership
		}{
			{"two organizations, by joining", u1.ID, []storage.UserMembership{
				{Membership: m2, OrganizationName: org2.Name, OrganizationDisplayName: org2.DisplayName},
				{Membership: m1, OrganizationName: org1.Name, OrganizationDisplayName: org1.DisplayName},
			}},
			{"one organization", u2.ID, []storage.UserMembership{
				{Membership: m3, OrganizationName: org1.Name, OrganizationDisplayName: org1.DisplayName},
			}},
			{"none", u3.ID, nil},
			{"unknown user", "usr_" + rnd(t), nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListUserMemberships(ctx, tc.user)
				mustNil(t, "ListUserMemberships", err)
				if len(got) != len(tc.want) {
					t.Fatalf("ListUserMemberships = %+v, want %+v", got, tc.want)
				}
				for i := range got {
					got[i].Membership = normMembership(got[i].Membership)
					tc.want[i].Membership = normMembership(tc.want[i].Membership)
					assertEqual(t, "user membership", got[i], tc.want[i])
				}
			})
		}
	})

	t.Run("update status", func(t *testing.T) {
		m := newMembership(t, s, ctx, org2.ID, u2.ID, at(-time.Hour))
		for _, status := range []string{storage.MembershipSuspended, storage.MembershipActive} {
			before := time.Now().Add(-time.Second)
			var seen storage.Membership
			err := s.UpdateMembership(ctx, m.ID, func(old storage.Membership) (storage.Membership, error) {
				seen = old
				old.ID, old.TenantID, old.CreatedAt = "mem_"+rnd(t), "ten_"+rnd(t), at(-100*time.Hour)
				old.OrganizationID, old.UserID = org1.ID, u3.ID
				old.Status = status
				return old, nil
			})
			mustNil(t, "UpdateMembership", err)
			assertEqual(t, "fn received", normMembership(seen), normMembership(m))
			got, err := s.GetMembershipByID(ctx, m.ID)
			mustNil(t, "GetMembershipByID", err)
			if got.UpdatedAt.Before(before) {
				t.Fatalf("UpdatedAt = %v, want after %v", got.UpdatedAt, before)
			}
			want := m
			want.Status, want.UpdatedAt = status, got.UpdatedAt
			assertEqual(t, "updated membership", normMembership(got), normMembership(want))
			m = got
		}
		_, err := s.GetMembership(ctx, org1.ID, u3.ID)
		wantErr(t, "membership the update tried to move to", err, storage.ErrNotFound)

		wantErr(t, "UpdateMembership with failing fn", s.UpdateMembership(ctx, m.ID, func(old storage.Membership) (storage.Membership, error) {
			old.Status = storage.MembershipInvited
			return old, errBoom
		}), errBoom)
		again, err := s.GetMembershipByID(ctx, m.ID)
		mustNil(t, "GetMembershipByID", err)
		assertEqual(t, "membership after a failed update", normMembership(again), normMembership(m))

		err = s.UpdateMembership(ctx, "mem_"+rnd(t), func(old storage.Membership) (storage.Membership, error) {
			t.Error("fn called for an unknown membership")
			return old, nil
		})
		wantErr(t, "UpdateMembership unknown", err, storage.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		org := newOrg(t, s, ctx)
		ua, ub := newUser(t, s, ctx), newUser(t, s, ctx)
		r1, r2 := newRole(t, s, ctx, "", "delete-r1-"+rnd(t)), newRole(t, s, ctx, org.ID, "delete-r2")
		gone := newMembership(t, s, ctx, org.ID, ua.ID, now())
		kept := newMembership(t, s, ctx, org.ID, ub.ID, now())
		assign(t, s, ctx, storage.SubjectMembership, gone.ID, r1.ID, r2.ID)
		assign(t, s, ctx, storage.SubjectMembership, kept.ID, r1.ID, r2.ID)

		mustNil(t, "DeleteMembership", s.DeleteMembership(ctx, gone.ID))
		_, err := s.GetMembershipByID(ctx, gone.ID)
		wantErr(t, "GetMembershipByID after delete", err, storage.ErrNotFound)
		_, err = s.GetMembership(ctx, org.ID, ua.ID)
		wantErr(t, "GetMembership after delete", err, storage.ErrNotFound)
		assertSet(t, "roles of the deleted membership", assigned(t, s, ctx, storage.SubjectMembership, gone.ID), nil)
		assertSet(t, "roles of the other membership", assigned(t, s, ctx, storage.SubjectMembership, kept.ID), []string{r1.ID, r2.ID})
		wantErr(t, "DeleteMembership again", s.DeleteMembership(ctx, gone.ID), storage.ErrNotFound)
		_, err = s.GetUser(ctx, ua.ID)
		mustNil(t, "the former member's user", err)
		// The user may join again.
		again := newMembership(t, s, ctx, org.ID, ua.ID, now())
		assertSet(t, "roles of the new membership", assigned(t, s, ctx, storage.SubjectMembership, again.ID), nil)
	})

	t.Run("delete user", func(t *testing.T) {
		oa, ob := newOrg(t, s, ctx), newOrg(t, s, ctx)
		gone, kept := newUser(t, s, ctx), newUser(t, s, ctx)
		r1, r2 := newRole(t, s, ctx, "", "user-r1-"+rnd(t)), newRole(t, s, ctx, oa.ID, "user-r2")
		ma, mb := newMembership(t, s, ctx, oa.ID, gone.ID, now()), newMembership(t, s, ctx, ob.ID, gone.ID, now())
		mk := newMembership(t, s, ctx, oa.ID, kept.ID, now())
		assign(t, s, ctx, storage.SubjectMembership, ma.ID, r1.ID, r2.ID)
		assign(t, s, ctx, storage.SubjectMembership, mb.ID, r1.ID)
		assign(t, s, ctx, storage.SubjectMembership, mk.ID, r1.ID, r2.ID)
		assign(t, s, ctx, storage.SubjectUser, gone.ID, r1.ID)
		assign(t, s, ctx, storage.SubjectUser, kept.ID, r1.ID)

		mustNil(t, "DeleteUser", s.DeleteUser(ctx, gone.ID))
		for _, m := range []storage.Membership{ma, mb} {
			_, err := s.GetMembershipByID(ctx, m.ID)
			wantErr(t, "membership of the deleted user", err, storage.ErrNotFound)
			assertSet(t, "roles of a membership of the deleted user", assigned(t, s, ctx, storage.SubjectMembership, m.ID), nil)
		}
		ums, err := s.ListUserMemberships(ctx, gone.ID)
		mustNil(t, "ListUserMemberships", err)
		if len(ums) != 0 {
			t.Fatalf("deleted user still has memberships %+v", ums)
		}
		assertSet(t, "the deleted user's own roles", assigned(t, s, ctx, storage.SubjectUser, gone.ID), nil)
		members, total, err := s.ListMembers(ctx, oa.ID, storage.Page{})
		mustNil(t, "ListMembers", err)
		if total != 1 || len(members) != 1 || members[0].ID != mk.ID {
			t.Fatalf("members left = %+v (total %d), want only %s", members, total, mk.ID)
		}
		assertSet(t, "the other member's roles", assigned(t, s, ctx, storage.SubjectMembership, mk.ID), []string{r1.ID, r2.ID})
		assertSet(t, "the other user's roles", assigned(t, s, ctx, storage.SubjectUser, kept.ID), []string{r1.ID})
	})
}

func testResourceServers(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	id := rnd(t)
	rs1 := storage.ResourceServer{ID: "rs_" + id, TenantID: "ten_" + rnd(t), Identifier: "https://billing-" + id + ".test/", Name: "Billing",
		Scopes:        storage.ScopeList{{Value: "read:invoices", Description: "Read invoices"}, {Value: "write:invoices"}, {Value: "admin"}},
		TokenLifetime: 900, RefreshLifetime: 3600, Metadata: storage.JSONMap{"owner": "finance"},
		CreatedAt: at(-time.Hour), UpdatedAt: at(-time.Minute)}
	mustNil(t, "CreateResourceServer", s.CreateResourceServer(ctx, rs1))
	rs1.TenantID = tn.ID
	bare := storage.ResourceServer{ID: "rs_" + rnd(t), TenantID: tn.ID, Identifier: "urn:bare:" + rnd(t), Name: "Bare", TokenLifetime: 60,
		CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateResourceServer", s.CreateResourceServer(ctx, bare))

	t.Run("lookups", func(t *testing.T) {
		tests := []struct {
			name    string
			key     string
			want    storage.ResourceServer
			wantErr error
		}{
			{"by id", rs1.ID, rs1, nil},
			{"by identifier", rs1.Identifier, rs1, nil},
			{"without scopes or metadata", bare.Identifier, bare, nil},
			{"unknown id", "rs_" + rnd(t), storage.ResourceServer{}, storage.ErrNotFound},
			{"unknown identifier", "https://nope-" + rnd(t) + ".test/", storage.ResourceServer{}, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetResourceServer(ctx, tc.key)
				wantErr(t, "GetResourceServer", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "resource server", normResourceServer(got), normResourceServer(tc.want))
				}
			})
		}
	})

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name    string
			ctx     context.Context
			rs      storage.ResourceServer
			wantErr error
		}{
			{"same identifier", ctx, storage.ResourceServer{ID: "rs_" + rnd(t), Identifier: rs1.Identifier, Name: "x", CreatedAt: now(), UpdatedAt: now()},
				storage.ErrAlreadyExists},
			{"same id", ctx, storage.ResourceServer{ID: rs1.ID, Identifier: "urn:" + rnd(t), Name: "x", CreatedAt: now(), UpdatedAt: now()},
				storage.ErrAlreadyExists},
			{"same identifier in another tenant", ctxB, storage.ResourceServer{ID: "rs_" + rnd(t), Identifier: rs1.Identifier, Name: "x",
				TokenLifetime: 1, CreatedAt: now(), UpdatedAt: now()}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "CreateResourceServer", s.CreateResourceServer(tc.ctx, tc.rs), tc.wantErr)
			})
		}
		got, err := s.GetResourceServer(ctxB, rs1.Identifier)
		mustNil(t, "GetResourceServer in the other tenant", err)
		if got.ID == rs1.ID {
			t.Fatal("the other tenant's lookup by identifier found the first tenant's resource server")
		}
		got, err = s.GetResourceServer(ctx, rs1.Identifier)
		mustNil(t, "GetResourceServer", err)
		assertEqual(t, "resource server", normResourceServer(got), normResourceServer(rs1))
	})

	t.Run("list", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		want := make([]storage.ResourceServer, 5)
		for _, i := range creationOrder {
			rs := storage.ResourceServer{ID: "rs_" + rnd(t), Identifier: fmt.Sprintf("urn:list:%d:%s", i, rnd(t)), Name: "List",
				Scopes: storage.ScopeList{{Value: "read"}}, TokenLifetime: 60, CreatedAt: ago(i), UpdatedAt: ago(i)}
			mustNil(t, "CreateResourceServer", s.CreateResourceServer(ctx, rs))
			rs.TenantID, _ = storage.TenantFromContext(ctx)
			want[i] = rs
		}
		got, _, err := s.ListResourceServers(ctx, storage.Page{})
		mustNil(t, "ListResourceServers", err)
		if len(got) != len(want) {
			t.Fatalf("ListResourceServers = %d rows, want %d", len(got), len(want))
		}
		for i := range got {
			assertEqual(t, "listed resource server", normResourceServer(got[i]), normResourceServer(want[i]))
		}
		testPages(t, idsOf(want, resourceServerID), func(p storage.Page) ([]string, int64, error) {
			rs, n, err := s.ListResourceServers(ctx, p)
			return idsOf(rs, resourceServerID), n, err
		})
	})

	t.Run("update", func(t *testing.T) {
		rs := newResourceServer(t, s, ctx, 600, "read", "write", "admin")
		other := newResourceServer(t, s, ctx, 600, "read", "admin")
		r1, r2 := newRole(t, s, ctx, "", "rs-r1-"+rnd(t)), newRole(t, s, ctx, "", "rs-r2-"+rnd(t))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r1.ID, []storage.Permission{
			perm(rs, "read"), perm(rs, "admin"), perm(other, "admin")}))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r2.ID, []storage.Permission{perm(rs, "admin"), perm(rs, "write")}))

		before := time.Now().Add(-time.Second)
		var seen storage.ResourceServer
		err := s.UpdateResourceServer(ctx, rs.ID, func(old storage.ResourceServer) (storage.ResourceServer, error) {
			seen = old
			old.ID, old.TenantID, old.CreatedAt = "rs_"+rnd(t), "ten_"+rnd(t), at(-100*time.Hour)
			old.Identifier = "https://moved-" + rnd(t) + ".test"
			old.Name, old.TokenLifetime, old.RefreshLifetime = "Renamed", 1200, 7200
			old.Scopes = storage.ScopeList{{Value: "read", Description: "Read it all"}, {Value: "write"}}
			old.Metadata = storage.JSONMap{"owner": "platform"}
			return old, nil
		})
		mustNil(t, "UpdateResourceServer", err)
		assertEqual(t, "fn received", normResourceServer(seen), normResourceServer(rs))
		got, err := s.GetResourceServer(ctx, rs.Identifier)
		mustNil(t, "GetResourceServer by the unchanged identifier", err)
		if got.UpdatedAt.Before(before) {
			t.Fatalf("UpdatedAt = %v, want after %v", got.UpdatedAt, before)
		}
		want := rs
		want.Name, want.TokenLifetime, want.RefreshLifetime = "Renamed", 1200, 7200
		want.Scopes = storage.ScopeList{{Value: "read", Description: "Read it all"}, {Value: "write"}}
		want.Metadata, want.UpdatedAt = storage.JSONMap{"owner": "platform"}, got.UpdatedAt
		assertEqual(t, "updated resource server", normResourceServer(got), normResourceServer(want))
		// "admin" went from this resource server: roles lose it there, and keep it on the other one.
		assertPermissions(t, s, ctx, r1.ID, perm(other, "admin"), perm(rs, "read"))
		assertPermissions(t, s, ctx, r2.ID, perm(rs, "write"))

		wantErr(t, "UpdateResourceServer with failing fn", s.UpdateResourceServer(ctx, rs.ID,
			func(old storage.ResourceServer) (storage.ResourceServer, error) {
				old.Scopes = nil
				return old, errBoom
			}), errBoom)
		again, err := s.GetResourceServer(ctx, rs.ID)
		mustNil(t, "GetResourceServer", err)
		assertEqual(t, "resource server after a failed update", normResourceServer(again), normResourceServer(got))
		assertPermissions(t, s, ctx, r2.ID, perm(rs, "write"))

		err = s.UpdateResourceServer(ctx, "rs_"+rnd(t), func(old storage.ResourceServer) (storage.ResourceServer, error) {
			t.Error("fn called for an unknown resource server")
			return old, nil
		})
		wantErr(t, "UpdateResourceServer unknown", err, storage.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		gone := newResourceServer(t, s, ctx, 600, "read", "write")
		kept := newResourceServer(t, s, ctx, 600, "read")
		r := newRole(t, s, ctx, "", "rs-delete-"+rnd(t))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r.ID, []storage.Permission{
			perm(gone, "read"), perm(gone, "write"), perm(kept, "read")}))

		mustNil(t, "DeleteResourceServer", s.DeleteResourceServer(ctx, gone.ID))
		for _, key := range []string{gone.ID, gone.Identifier} {
			_, err := s.GetResourceServer(ctx, key)
			wantErr(t, "GetResourceServer after delete", err, storage.ErrNotFound)
		}
		assertPermissions(t, s, ctx, r.ID, perm(kept, "read"))
		wantErr(t, "DeleteResourceServer again", s.DeleteResourceServer(ctx, gone.ID), storage.ErrNotFound)
		wantErr(t, "DeleteResourceServer unknown", s.DeleteResourceServer(ctx, "rs_"+rnd(t)), storage.ErrNotFound)
	})

	t.Run("max token lifetime", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		var short, long storage.ResourceServer
		steps := []struct {
			name string
			do   func(t *testing.T)
			want int
		}{
			{"no resource servers", func(t *testing.T) {}, 0},
			{"one", func(t *testing.T) { short = newResourceServer(t, s, ctx, 300) }, 300},
			{"a longer one", func(t *testing.T) { long = newResourceServer(t, s, ctx, 7200) }, 7200},
			{"a shorter one", func(t *testing.T) { newResourceServer(t, s, ctx, 60) }, 7200},
			{"the longest shortened", func(t *testing.T) {
				mustNil(t, "UpdateResourceServer", s.UpdateResourceServer(ctx, long.ID, func(old storage.ResourceServer) (storage.ResourceServer, error) {
					old.TokenLifetime = 120
					return old, nil
				}))
			}, 300},
			{"the longest deleted", func(t *testing.T) { mustNil(t, "DeleteResourceServer", s.DeleteResourceServer(ctx, short.ID)) }, 120},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				st.do(t)
				got, err := s.MaxTokenLifetime(ctx)
				mustNil(t, "MaxTokenLifetime", err)
				if got != st.want {
					t.Fatalf("MaxTokenLifetime = %d, want %d", got, st.want)
				}
			})
		}
	})
}

func testRoles(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	org1, org2 := newOrg(t, s, ctx), newOrg(t, s, ctx)
	orgB := newOrg(t, s, ctxB)
	admin := storage.Role{ID: "rol_" + rnd(t), TenantID: "ten_" + rnd(t), Name: "admin", Description: "Everything",
		CreatedAt: at(-time.Hour), UpdatedAt: at(-time.Minute)}
	mustNil(t, "CreateRole", s.CreateRole(ctx, admin))
	admin.TenantID = tn.ID
	orgAdmin := newRole(t, s, ctx, org1.ID, "admin")

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name    string
			ctx     context.Context
			org     string
			roleNm  string
			wantErr error
		}{
			{"same name tenant-wide", ctx, "", "admin", storage.ErrAlreadyExists},
			{"same name in the same organization", ctx, org1.ID, "admin", storage.ErrAlreadyExists},
			{"same name in another organization", ctx, org2.ID, "admin", nil},
			{"unknown organization", ctx, "org_" + rnd(t), "viewer", storage.ErrNotFound},
			{"another tenant's organization", ctx, orgB.ID, "viewer", storage.ErrNotFound},
			{"same name in another tenant", ctxB, "", "admin", nil},
			{"custom role in another tenant's own organization", ctxB, orgB.ID, "admin", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := storage.Role{ID: "rol_" + rnd(t), OrganizationID: tc.org, Name: tc.roleNm, CreatedAt: now(), UpdatedAt: now()}
				wantErr(t, "CreateRole", s.CreateRole(tc.ctx, r), tc.wantErr)
				_, err := s.GetRole(tc.ctx, r.ID)
				if tc.wantErr == nil {
					mustNil(t, "GetRole", err)
				} else {
					wantErr(t, "GetRole after refused create", err, storage.ErrNotFound)
				}
			})
		}
		wantErr(t, "CreateRole with the same id", s.CreateRole(ctx, storage.Role{ID: admin.ID, Name: "other-" + rnd(t)}), storage.ErrAlreadyExists)
	})

	t.Run("get", func(t *testing.T) {
		for _, want := range []storage.Role{admin, orgAdmin} {
			got, err := s.GetRole(ctx, want.ID)
			mustNil(t, "GetRole", err)
			assertEqual(t, "role", normRole(got), normRole(want))
		}
		_, err := s.GetRole(ctx, "rol_"+rnd(t))
		wantErr(t, "GetRole unknown", err, storage.ErrNotFound)
	})

	t.Run("list", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		org := newOrg(t, s, ctx)
		want := make([]storage.Role, 5)
		for _, i := range creationOrder {
			r := storage.Role{ID: "rol_" + rnd(t), Name: fmt.Sprintf("list-%d", i), CreatedAt: ago(i), UpdatedAt: ago(i)}
			if i%2 == 1 {
				r.OrganizationID = org.ID // custom roles are listed with the tenant-wide ones
			}
			mustNil(t, "CreateRole", s.CreateRole(ctx, r))
			r.TenantID, _ = storage.TenantFromContext(ctx)
			want[i] = r
		}
		got, _, err := s.ListRoles(ctx, storage.Page{})
		mustNil(t, "ListRoles", err)
		if len(got) != len(want) {
			t.Fatalf("ListRoles = %d rows, want %d", len(got), len(want))
		}
		for i := range got {
			assertEqual(t, "listed role", normRole(got[i]), normRole(want[i]))
		}
		testPages(t, idsOf(want, roleID), func(p storage.Page) ([]string, int64, error) {
			rs, n, err := s.ListRoles(ctx, p)
			return idsOf(rs, roleID), n, err
		})
	})

	t.Run("update", func(t *testing.T) {
		r := newRole(t, s, ctx, org1.ID, "editor")
		before := time.Now().Add(-time.Second)
		var seen storage.Role
		err := s.UpdateRole(ctx, r.ID, func(old storage.Role) (storage.Role, error) {
			seen = old
			old.ID, old.TenantID, old.CreatedAt = "rol_"+rnd(t), "ten_"+rnd(t), at(-100*time.Hour)
			old.OrganizationID = org2.ID
			old.Name, old.Description = "writer", "Writes things"
			return old, nil
		})
		mustNil(t, "UpdateRole", err)
		assertEqual(t, "fn received", normRole(seen), normRole(r))
		got, err := s.GetRole(ctx, r.ID)
		mustNil(t, "GetRole", err)
		if got.UpdatedAt.Before(before) {
			t.Fatalf("UpdatedAt = %v, want after %v", got.UpdatedAt, before)
		}
		want := r
		want.Name, want.Description, want.UpdatedAt = "writer", "Writes things", got.UpdatedAt
		assertEqual(t, "updated role", normRole(got), normRole(want))

		tests := []struct {
			name    string
			fn      func(old storage.Role) (storage.Role, error)
			wantErr error
		}{
			{"to a name taken in its organization", func(old storage.Role) (storage.Role, error) {
				old.Name = orgAdmin.Name
				return old, nil
			}, storage.ErrAlreadyExists},
			{"failing fn", func(old storage.Role) (storage.Role, error) {
				old.Description = "never stored"
				return old, errBoom
			}, errBoom},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "UpdateRole", s.UpdateRole(ctx, r.ID, tc.fn), tc.wantErr)
				again, err := s.GetRole(ctx, r.ID)
				mustNil(t, "GetRole", err)
				assertEqual(t, "role after a refused update", normRole(again), normRole(got))
			})
		}
		err = s.UpdateRole(ctx, "rol_"+rnd(t), func(old storage.Role) (storage.Role, error) {
			t.Error("fn called for an unknown role")
			return old, nil
		})
		wantErr(t, "UpdateRole unknown", err, storage.ErrNotFound)
	})

	t.Run("permissions", func(t *testing.T) {
		api, other := newResourceServer(t, s, ctx, 600, "read", "write", "delete"), newResourceServer(t, s, ctx, 600, "read")
		r := newRole(t, s, ctx, "", "perms-"+rnd(t))
		bystander := newRole(t, s, ctx, "", "perms-"+rnd(t))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, bystander.ID, []storage.Permission{perm(api, "read")}))
		steps := []struct {
			name    string
			do      func() error
			wantErr error
			want    []storage.Permission
		}{
			{"add", func() error {
				return s.AddRolePermissions(ctx, r.ID, []storage.Permission{perm(api, "write"), perm(api, "read")})
			}, nil, []storage.Permission{perm(api, "read"), perm(api, "write")}},
			{"add again with one new", func() error {
				return s.AddRolePermissions(ctx, r.ID, []storage.Permission{perm(api, "read"), perm(other, "read"), perm(other, "read")})
			}, nil, []storage.Permission{perm(api, "read"), perm(api, "write"), perm(other, "read")}},
			{"add nothing", func() error { return s.AddRolePermissions(ctx, r.ID, nil) }, nil,
				[]storage.Permission{perm(api, "read"), perm(api, "write"), perm(other, "read")}},
			{"remove one and one not held", func() error {
				return s.RemoveRolePermissions(ctx, r.ID, []storage.Permission{perm(api, "read"), perm(api, "delete")})
			}, nil, []storage.Permission{perm(api, "write"), perm(other, "read")}},
			{"add to an unknown role", func() error {
				return s.AddRolePermissions(ctx, "rol_"+rnd(t), []storage.Permission{perm(api, "read")})
			}, storage.ErrNotFound, []storage.Permission{perm(api, "write"), perm(other, "read")}},
			{"remove from an unknown role", func() error {
				return s.RemoveRolePermissions(ctx, "rol_"+rnd(t), []storage.Permission{perm(api, "write")})
			}, storage.ErrNotFound, []storage.Permission{perm(api, "write"), perm(other, "read")}},
			{"remove the rest", func() error {
				return s.RemoveRolePermissions(ctx, r.ID, []storage.Permission{perm(api, "write"), perm(other, "read")})
			}, nil, nil},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				wantErr(t, st.name, st.do(), st.wantErr)
				assertPermissions(t, s, ctx, r.ID, st.want...)
				assertPermissions(t, s, ctx, bystander.ID, perm(api, "read"))
			})
		}
	})

	t.Run("assignments", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		org := newOrg(t, s, ctx)
		u := newUser(t, s, ctx)
		m := newMembership(t, s, ctx, org.ID, u.ID, now())
		r1, r2, r3, r4 := newRole(t, s, ctx, "", "r1"), newRole(t, s, ctx, "", "r2"), newRole(t, s, ctx, org.ID, "r3"), newRole(t, s, ctx, "", "r4")
		foreign := newRole(t, s, ctxB, "", "foreign-"+rnd(t))
		before := time.Now().Add(-time.Second)
		steps := []struct {
			name    string
			roles   []string
			source  string
			wantErr error
			added   []string
			held    map[string]string // role id -> source
		}{
			{"first roles", []string{r1.ID, r2.ID}, storage.SourceManual, nil, []string{r1.ID, r2.ID},
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual}},
			{"one held, one new", []string{r2.ID, r3.ID, r3.ID}, storage.SourceSCIM, nil, []string{r3.ID},
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM}},
			{"all held", []string{r1.ID, r3.ID}, storage.SourceSSO, nil, nil,
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM}},
			{"with an unknown role", []string{r4.ID, "rol_" + rnd(t)}, storage.SourceDefault, storage.ErrNotFound, nil,
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM}},
			{"with another tenant's role", []string{r4.ID, foreign.ID}, storage.SourceDefault, storage.ErrNotFound, nil,
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM}},
			{"unknown role first", []string{"rol_" + rnd(t), r4.ID}, storage.SourceDefault, storage.ErrNotFound, nil,
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM}},
			{"new role", []string{r4.ID}, storage.SourceCustomerAPI, nil, []string{r4.ID},
				map[string]string{r1.ID: storage.SourceManual, r2.ID: storage.SourceManual, r3.ID: storage.SourceSCIM,
					r4.ID: storage.SourceCustomerAPI}},
		}
		roles := map[string]storage.Role{r1.ID: r1, r2.ID: r2, r3.ID: r3, r4.ID: r4}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				added, err := s.AssignRoles(ctx, storage.SubjectMembership, m.ID, st.roles, st.source)
				wantErr(t, "AssignRoles", err, st.wantErr)
				assertSame(t, "newly assigned", added, st.added)
				got, err := s.ListAssignedRoles(ctx, storage.SubjectMembership, m.ID)
				mustNil(t, "ListAssignedRoles", err)
				if len(got) != len(st.held) {
					t.Fatalf("ListAssignedRoles = %+v, want %v", got, st.held)
				}
				for i, ar := range got {
					if i > 0 && got[i-1].Name > ar.Name {
						t.Fatalf("ListAssignedRoles not ordered by name: %+v", got)
					}
					if ar.Source != st.held[ar.ID] {
						t.Errorf("role %s source = %q, want %q", ar.Name, ar.Source, st.held[ar.ID])
					}
					if ar.AssignedAt.Before(before) || ar.AssignedAt.After(time.Now().Add(time.Second)) {
						t.Errorf("role %s assigned at %v, want about now", ar.Name, ar.AssignedAt)
					}
					assertEqual(t, "assigned role", normRole(ar.Role), normRole(roles[ar.ID]))
				}
			})
		}
		// Other kinds of subject with the same id hold nothing.
		for _, kind := range []string{storage.SubjectUser, storage.SubjectClient} {
			assertSet(t, kind+" with the membership's id", assigned(t, s, ctx, kind, m.ID), nil)
		}

		unassign := []struct {
			name    string
			roles   []string
			removed []string
			held    []string
		}{
			{"held and not held", []string{r1.ID, "rol_" + rnd(t), foreign.ID}, []string{r1.ID}, []string{r2.ID, r3.ID, r4.ID}},
			{"already removed", []string{r1.ID}, nil, []string{r2.ID, r3.ID, r4.ID}},
			{"nothing", nil, nil, []string{r2.ID, r3.ID, r4.ID}},
			{"the rest", []string{r4.ID, r3.ID, r2.ID}, []string{r4.ID, r3.ID, r2.ID}, nil},
		}
		for _, tc := range unassign {
			t.Run("unassign/"+tc.name, func(t *testing.T) {
				removed, err := s.UnassignRoles(ctx, storage.SubjectMembership, m.ID, tc.roles)
				mustNil(t, "UnassignRoles", err)
				assertSet(t, "removed", removed, tc.removed)
				assertSet(t, "held", assigned(t, s, ctx, storage.SubjectMembership, m.ID), tc.held)
			})
		}
		_, err := s.GetRole(ctxB, foreign.ID)
		mustNil(t, "the other tenant's role", err)
	})

	t.Run("grants", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		org := newOrg(t, s, ctx)
		api1, api2 := newResourceServer(t, s, ctx, 600, "read", "write"), newResourceServer(t, s, ctx, 600, "read", "deploy")
		viewer, editor := newRole(t, s, ctx, "", "viewer"), newRole(t, s, ctx, org.ID, "editor")
		member, auditor := newRole(t, s, ctx, "", "member"), newRole(t, s, ctx, "", "auditor")
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, viewer.ID, []storage.Permission{perm(api1, "read")}))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, editor.ID, []storage.Permission{
			perm(api1, "write"), perm(api1, "read"), perm(api2, "deploy"), perm(api2, "read")}))
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, auditor.ID, []storage.Permission{perm(api2, "read")}))
		// One subject id under every kind: the kinds must not mix.
		subject := "sub_" + rnd(t)
		assign(t, s, ctx, storage.SubjectMembership, subject, viewer.ID, editor.ID, member.ID)
		assign(t, s, ctx, storage.SubjectUser, subject, auditor.ID)
		assign(t, s, ctx, storage.SubjectClient, subject, member.ID)

		tests := []struct {
			name      string
			kind, sub string
			audiences []string
			roles     []string
			perms     []string
		}{
			{"one audience", storage.SubjectMembership, subject, []string{api1.Identifier},
				[]string{"editor", "member", "viewer"}, []string{"read", "write"}},
			{"the other audience", storage.SubjectMembership, subject, []string{api2.Identifier},
				[]string{"editor", "member", "viewer"}, []string{"deploy", "read"}},
			{"both audiences", storage.SubjectMembership, subject, []string{api2.Identifier, api1.Identifier},
				[]string{"editor", "member", "viewer"}, []string{"deploy", "read", "write"}},
			{"no audiences", storage.SubjectMembership, subject, nil, []string{"editor", "member", "viewer"}, nil},
			{"an unknown audience", storage.SubjectMembership, subject, []string{"https://unknown.test"},
				[]string{"editor", "member", "viewer"}, nil},
			{"user", storage.SubjectUser, subject, []string{api1.Identifier, api2.Identifier}, []string{"auditor"}, []string{"read"}},
			{"client", storage.SubjectClient, subject, []string{api1.Identifier}, []string{"member"}, nil},
			{"unknown subject", storage.SubjectMembership, "sub_" + rnd(t), []string{api1.Identifier}, nil, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				g, err := s.GrantsFor(ctx, tc.kind, tc.sub, tc.audiences)
				mustNil(t, "GrantsFor", err)
				assertSame(t, "roles", g.Roles, tc.roles)
				assertSame(t, "permissions", g.Permissions, tc.perms)
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		api := newResourceServer(t, s, ctx, 600, "read")
		gone, kept := newRole(t, s, ctx, "", "delete-"+rnd(t)), newRole(t, s, ctx, "", "delete-"+rnd(t))
		subject := "sub_" + rnd(t)
		for _, r := range []storage.Role{gone, kept} {
			mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r.ID, []storage.Permission{perm(api, "read")}))
			assign(t, s, ctx, storage.SubjectUser, subject, r.ID)
		}
		org := newOrg(t, s, ctx)
		for _, r := range []string{gone.ID, kept.ID} {
			other := newOrg(t, s, ctx)
			if r == gone.ID {
				other = org
			}
			mustNil(t, "set default role", s.UpdateOrganization(ctx, other.ID, func(o storage.Organization) (storage.Organization, error) {
				o.DefaultRoleID = r
				return o, nil
			}))
		}
		mustNil(t, "DeleteRole", s.DeleteRole(ctx, gone.ID))
		_, err := s.GetRole(ctx, gone.ID)
		wantErr(t, "GetRole after delete", err, storage.ErrNotFound)
		o, err := s.GetOrganization(ctx, org.ID)
		mustNil(t, "GetOrganization", err)
		if o.DefaultRoleID != "" {
			t.Errorf("organization still names the deleted role %s as its default", o.DefaultRoleID)
		}
		assertSet(t, "roles held", assigned(t, s, ctx, storage.SubjectUser, subject), []string{kept.ID})
		assertPermissions(t, s, ctx, kept.ID, perm(api, "read"))
		wantErr(t, "DeleteRole again", s.DeleteRole(ctx, gone.ID), storage.ErrNotFound)
		// A role re-created under the same id starts with no permissions and no holders.
		mustNil(t, "CreateRole with the deleted role's id", s.CreateRole(ctx, gone))
		assertPermissions(t, s, ctx, gone.ID)
		assertSet(t, "roles held after re-creating the role", assigned(t, s, ctx, storage.SubjectUser, subject), []string{kept.ID})
	})
}

func testClientOrganizations(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	c1, c2 := newClient(t, s, ctx), newClient(t, s, ctx)
	org1, org2 := newOrg(t, s, ctx), newOrg(t, s, ctx)
	clientB, orgB := newClient(t, s, ctxB), newOrg(t, s, ctxB)

	t.Run("add", func(t *testing.T) {
		tests := []struct {
			name        string
			client, org string
			wantErr     error
		}{
			{"link", c1.ID, org1.ID, nil},
			{"link again", c1.ID, org1.ID, nil},
			{"second client", c2.ID, org1.ID, nil},
			{"second organization", c1.ID, org2.ID, nil},
			{"unknown client", "cli_" + rnd(t), org1.ID, storage.ErrNotFound},
			{"unknown organization", c2.ID, "org_" + rnd(t), storage.ErrNotFound},
			{"another tenant's client", clientB.ID, org2.ID, storage.ErrNotFound},
			{"another tenant's organization", c2.ID, orgB.ID, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "AddClientOrganization", s.AddClientOrganization(ctx, tc.client, tc.org), tc.wantErr)
			})
		}
	})

	t.Run("membership", func(t *testing.T) {
		tests := []struct {
			name        string
			client, org string
			want        bool
		}{
			{"linked", c1.ID, org1.ID, true},
			{"linked to the second organization", c1.ID, org2.ID, true},
			{"second client", c2.ID, org1.ID, true},
			{"not linked", c2.ID, org2.ID, false},
			{"refused link to another tenant's organization", c2.ID, orgB.ID, false},
			{"refused link of another tenant's client", clientB.ID, org2.ID, false},
			{"unknown client", "cli_" + rnd(t), org1.ID, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				in, err := s.ClientInOrganization(ctx, tc.client, tc.org)
				mustNil(t, "ClientInOrganization", err)
				if in != tc.want {
					t.Fatalf("ClientInOrganization = %v, want %v", in, tc.want)
				}
			})
		}
		for _, tc := range []struct {
			org  string
			want []string
		}{
			{org1.ID, []string{c1.ID, c2.ID}},
			{org2.ID, []string{c1.ID}},
			{"org_" + rnd(t), nil},
		} {
			got, err := s.OrganizationClients(ctx, tc.org)
			mustNil(t, "OrganizationClients", err)
			assertSet(t, "clients of "+tc.org, got, tc.want)
		}
		got, err := s.OrganizationClients(ctxB, orgB.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients of the other tenant's organization", got, nil)
	})

	t.Run("remove", func(t *testing.T) {
		mustNil(t, "RemoveClientOrganization", s.RemoveClientOrganization(ctx, c1.ID, org1.ID))
		for _, tc := range []struct {
			org  string
			want bool
		}{{org1.ID, false}, {org2.ID, true}} {
			in, err := s.ClientInOrganization(ctx, c1.ID, tc.org)
			mustNil(t, "ClientInOrganization", err)
			if in != tc.want {
				t.Fatalf("after removal from org1, ClientInOrganization(%s) = %v, want %v", tc.org, in, tc.want)
			}
		}
		got, err := s.OrganizationClients(ctx, org1.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients left", got, []string{c2.ID})
		wantErr(t, "RemoveClientOrganization again", s.RemoveClientOrganization(ctx, c1.ID, org1.ID), storage.ErrNotFound)
		mustNil(t, "AddClientOrganization after removal", s.AddClientOrganization(ctx, c1.ID, org1.ID))
		got, err = s.OrganizationClients(ctx, org1.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients after linking again", got, []string{c1.ID, c2.ID})
	})

	t.Run("delete client", func(t *testing.T) {
		r1, r2 := newRole(t, s, ctx, "", "client-"+rnd(t)), newRole(t, s, ctx, "", "client-"+rnd(t))
		assign(t, s, ctx, storage.SubjectClient, c1.ID, r1.ID, r2.ID)
		assign(t, s, ctx, storage.SubjectClient, c2.ID, r1.ID)
		mustNil(t, "DeleteClient", s.DeleteClient(ctx, c1.ID))
		for _, org := range []string{org1.ID, org2.ID} {
			in, err := s.ClientInOrganization(ctx, c1.ID, org)
			mustNil(t, "ClientInOrganization", err)
			if in {
				t.Fatalf("deleted client still in %s", org)
			}
		}
		got, err := s.OrganizationClients(ctx, org1.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients left in org1", got, []string{c2.ID})
		got, err = s.OrganizationClients(ctx, org2.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients left in org2", got, nil)
		assertSet(t, "roles of the deleted client", assigned(t, s, ctx, storage.SubjectClient, c1.ID), nil)
		assertSet(t, "roles of the other client", assigned(t, s, ctx, storage.SubjectClient, c2.ID), []string{r1.ID})
		// A client re-created under the same id starts with no links.
		mustNil(t, "CreateClient with the deleted client's id", s.CreateClient(ctx, c1))
		got, err = s.OrganizationClients(ctx, org2.ID)
		mustNil(t, "OrganizationClients", err)
		assertSet(t, "clients of org2 after re-creating the client", got, nil)
	})
}

func testAPIKeys(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	k1 := storage.APIKey{ID: "key_" + rnd(t), TenantID: "ten_" + rnd(t), Name: "Deploy", Mode: "live", KeyHash: rnd(t) + rnd(t), Hint: "x9Zq",
		CreatedAt: at(-2 * time.Hour)}
	mustNil(t, "CreateAPIKey", s.CreateAPIKey(ctx, k1))
	k1.TenantID = tn.ID
	k2 := newAPIKey(t, s, ctx, "test", at(-time.Hour))

	t.Run("by hash", func(t *testing.T) {
		tests := []struct {
			name    string
			hash    string
			want    storage.APIKey
			wantErr error
		}{
			{"first", k1.KeyHash, k1, nil},
			{"second", k2.KeyHash, k2, nil},
			{"unknown", rnd(t), storage.APIKey{}, storage.ErrNotFound},
			{"the key's id is not its hash", k1.ID, storage.APIKey{}, storage.ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.APIKeyByHash(ctx, tc.hash)
				wantErr(t, "APIKeyByHash", err, tc.wantErr)
				if tc.wantErr == nil {
					assertEqual(t, "api key", normAPIKey(got), normAPIKey(tc.want))
				}
			})
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		wantErr(t, "CreateAPIKey same hash", s.CreateAPIKey(ctx, storage.APIKey{ID: "key_" + rnd(t), Mode: "live", KeyHash: k1.KeyHash,
			CreatedAt: now()}), storage.ErrAlreadyExists)
		wantErr(t, "CreateAPIKey same id", s.CreateAPIKey(ctx, storage.APIKey{ID: k1.ID, Mode: "live", KeyHash: rnd(t), CreatedAt: now()}),
			storage.ErrAlreadyExists)
	})

	t.Run("list", func(t *testing.T) {
		got, err := s.ListAPIKeys(ctx)
		mustNil(t, "ListAPIKeys", err)
		if len(got) != 2 {
			t.Fatalf("ListAPIKeys = %+v, want %s and %s", got, k1.ID, k2.ID)
		}
		for i, want := range []storage.APIKey{k1, k2} {
			assertEqual(t, "listed api key", normAPIKey(got[i]), normAPIKey(want))
		}
	})

	t.Run("touch", func(t *testing.T) {
		for _, when := range []time.Time{at(-time.Minute), now()} {
			mustNil(t, "TouchAPIKey", s.TouchAPIKey(ctx, k1.ID, when))
			got, err := s.APIKeyByHash(ctx, k1.KeyHash)
			mustNil(t, "APIKeyByHash", err)
			want := k1
			want.LastUsedAt = ptr(when)
			assertEqual(t, "touched api key", normAPIKey(got), normAPIKey(want))
			k1 = got
		}
		other, err := s.APIKeyByHash(ctx, k2.KeyHash)
		mustNil(t, "APIKeyByHash", err)
		assertEqual(t, "untouched api key", normAPIKey(other), normAPIKey(k2))
	})

	t.Run("delete", func(t *testing.T) {
		mustNil(t, "DeleteAPIKey", s.DeleteAPIKey(ctx, k1.ID))
		_, err := s.APIKeyByHash(ctx, k1.KeyHash)
		wantErr(t, "APIKeyByHash after delete", err, storage.ErrNotFound)
		got, err := s.ListAPIKeys(ctx)
		mustNil(t, "ListAPIKeys", err)
		assertSame(t, "keys left", idsOf(got, apiKeyID), []string{k2.ID})
		wantErr(t, "DeleteAPIKey again", s.DeleteAPIKey(ctx, k1.ID), storage.ErrNotFound)
	})
}

func testAudit(t *testing.T, s storage.Storage) {
	tn, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	u1, u2, org1, org2 := "usr_"+rnd(t), "usr_"+rnd(t), "org_"+rnd(t), "org_"+rnd(t)
	// Appended oldest first; another tenant's events are interleaved with them.
	specs := []struct {
		typ, user, org string
		hoursAgo       int
	}{
		{"user.login", u1, "", 6},
		{"member.added", u1, org1, 5},
		{"user.login", u2, "", 4},
		{"member.added", u2, org1, 3},
		{"role.assigned", u1, org2, 2},
		{"user.login", u1, "", 1},
	}
	events := make([]storage.AuditEvent, len(specs))
	for i, sp := range specs {
		if i == 0 {
			// A Seq in the value is not the caller's to choose.
			e := storage.AuditEvent{Seq: 1 << 60, ID: "aud_" + rnd(t), TenantID: tn.ID, Type: sp.typ, UserID: sp.user,
				CreatedAt: at(-6 * time.Hour)}
			mustNil(t, "AppendAudit", s.AppendAudit(ctx, e))
			e.Seq = 0
			events[i] = e
		} else {
			events[i] = newAuditEvent(t, s, ctx, sp.typ, sp.user, sp.org, at(-time.Duration(sp.hoursAgo)*time.Hour))
		}
		newAuditEvent(t, s, ctxB, sp.typ, sp.user, sp.org, at(-time.Duration(sp.hoursAgo)*time.Hour))
	}

	all, err := s.ListAudit(ctx, storage.AuditFilter{})
	mustNil(t, "ListAudit", err)
	if len(all) != len(events) {
		t.Fatalf("ListAudit = %d events, want %d", len(all), len(events))
	}
	for i, got := range all {
		want := events[len(events)-1-i] // newest first
		if got.Seq == 0 || got.Seq == 1<<60 {
			t.Fatalf("event %s has Seq %d, want one the store assigned", got.ID, got.Seq)
		}
		if i > 0 && got.Seq >= all[i-1].Seq {
			t.Fatalf("ListAudit not newest first: Seq %d after %d", got.Seq, all[i-1].Seq)
		}
		want.Seq = got.Seq
		assertEqual(t, "audit event", normAudit(got), normAudit(want))
		events[len(events)-1-i].Seq = got.Seq
	}
	seq := func(i int) int64 { return events[i].Seq }
	ids := func(idx ...int) []string {
		out := make([]string, 0, len(idx))
		for _, i := range idx {
			out = append(out, events[i].ID)
		}
		return out
	}

	tests := []struct {
		name   string
		filter storage.AuditFilter
		want   []string
	}{
		{"everything", storage.AuditFilter{}, ids(5, 4, 3, 2, 1, 0)},
		{"type", storage.AuditFilter{Type: "user.login"}, ids(5, 2, 0)},
		{"user", storage.AuditFilter{UserID: u1}, ids(5, 4, 1, 0)},
		{"organization", storage.AuditFilter{OrganizationID: org1}, ids(3, 1)},
		{"type and user", storage.AuditFilter{Type: "member.added", UserID: u2}, ids(3)},
		{"since", storage.AuditFilter{Since: at(-3*time.Hour - 30*time.Minute)}, ids(5, 4, 3)},
		{"since in another zone", storage.AuditFilter{Since: at(-3*time.Hour - 30*time.Minute).In(eastZone)}, ids(5, 4, 3)},
		{"until", storage.AuditFilter{Until: at(-4*time.Hour - 30*time.Minute)}, ids(1, 0)},
		{"since and until", storage.AuditFilter{Since: at(-5*time.Hour - 30*time.Minute), Until: at(-2*time.Hour - 30*time.Minute)}, ids(3, 2, 1)},
		{"before", storage.AuditFilter{Before: seq(3)}, ids(2, 1, 0)},
		{"before and type", storage.AuditFilter{Before: seq(3), Type: "user.login"}, ids(2, 0)},
		{"before the first", storage.AuditFilter{Before: seq(0)}, nil},
		{"limit", storage.AuditFilter{Limit: 2}, ids(5, 4)},
		{"limit and user", storage.AuditFilter{Limit: 3, UserID: u1}, ids(5, 4, 1)},
		{"before and limit", storage.AuditFilter{Before: seq(4), Limit: 2}, ids(3, 2)},
		{"unknown type", storage.AuditFilter{Type: "nothing.happened"}, nil},
		{"unknown user", storage.AuditFilter{UserID: "usr_" + rnd(t)}, nil},
		{"offset", storage.AuditFilter{Offset: 2, Limit: 3}, ids(3, 2, 1)},
		{"offset past the end", storage.AuditFilter{Offset: 6, Limit: 3}, nil},
		{"offset and type", storage.AuditFilter{Offset: 1, Type: "user.login"}, ids(2, 0)},
		{"oldest first", storage.AuditFilter{Ascending: true}, ids(0, 1, 2, 3, 4, 5)},
		{"after, oldest first", storage.AuditFilter{After: seq(2), Ascending: true}, ids(3, 4, 5)},
		{"after, newest first", storage.AuditFilter{After: seq(2)}, ids(5, 4, 3)},
		{"after and limit", storage.AuditFilter{After: seq(0), Limit: 2, Ascending: true}, ids(1, 2)},
		{"after and user", storage.AuditFilter{After: seq(0), UserID: u1, Ascending: true}, ids(1, 4, 5)},
		{"after the last", storage.AuditFilter{After: seq(5), Ascending: true}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.filter)
			mustNil(t, "ListAudit", err)
			assertSame(t, "events", idsOf(got, auditID), tc.want)
			// Counting counts what the filter selects, whatever the page.
			n, err := s.CountAudit(ctx, tc.filter)
			mustNil(t, "CountAudit", err)
			f := tc.filter
			f.Offset, f.Limit = 0, 1000
			all, err := s.ListAudit(ctx, f)
			mustNil(t, "ListAudit", err)
			if n != int64(len(all)) {
				t.Errorf("CountAudit = %d, want %d", n, len(all))
			}
		})
	}
	t.Run("get by id", func(t *testing.T) {
		got, err := s.GetAuditEvent(ctx, events[3].ID)
		mustNil(t, "GetAuditEvent", err)
		assertEqual(t, "audit event", normAudit(got), normAudit(events[3]))
		_, err = s.GetAuditEvent(ctx, "aud_"+rnd(t))
		wantErr(t, "GetAuditEvent unknown", err, storage.ErrNotFound)
	})

	t.Run("default limit and paging", func(t *testing.T) {
		_, ctx := newTenant(t, s)
		var appended []string
		for i := range 53 {
			e := newAuditEvent(t, s, ctx, "bulk", "", "", at(time.Duration(i-60)*time.Minute))
			appended = append(appended, e.ID)
		}
		slices.Reverse(appended) // newest first
		got, err := s.ListAudit(ctx, storage.AuditFilter{})
		mustNil(t, "ListAudit", err)
		assertSame(t, "default page", idsOf(got, auditID), appended[:50])
		got, err = s.ListAudit(ctx, storage.AuditFilter{Limit: 100})
		mustNil(t, "ListAudit", err)
		assertSame(t, "large page", idsOf(got, auditID), appended)

		var paged []string
		f := storage.AuditFilter{Limit: 4}
		for range len(appended) { // more pages than that would be a loop
			page, err := s.ListAudit(ctx, f)
			mustNil(t, "ListAudit", err)
			if len(page) == 0 {
				break
			}
			if len(page) > f.Limit {
				t.Fatalf("page of %d events, limit %d", len(page), f.Limit)
			}
			paged = append(paged, idsOf(page, auditID)...)
			f.Before = page[len(page)-1].Seq
		}
		assertSame(t, "paged through", paged, appended)
	})
}

// ---- tenant isolation ----

// orgSeeded is a tenant holding one row of every organization-related kind, linked the way the server links them.
type orgSeeded struct {
	tenant     storage.Tenant
	ctx        context.Context
	org        storage.Organization
	user       storage.User
	member     storage.Membership
	client     storage.Client
	rs         storage.ResourceServer
	role       storage.Role // tenant-wide
	customRole storage.Role // the organization's own
	key        storage.APIKey
	event      storage.AuditEvent
	lifetime   int
}

func seedOrgs(t *testing.T, s storage.Storage, lifetime int) *orgSeeded {
	t.Helper()
	d := &orgSeeded{lifetime: lifetime}
	d.tenant, d.ctx = newTenant(t, s)
	ctx := d.ctx
	d.org = newOrg(t, s, ctx)
	d.user = newUser(t, s, ctx)
	d.member = newMembership(t, s, ctx, d.org.ID, d.user.ID, at(-time.Hour))
	d.client = newClient(t, s, ctx)
	d.rs = newResourceServer(t, s, ctx, lifetime, "read", "write")
	d.role = newRole(t, s, ctx, "", "admin")
	d.customRole = newRole(t, s, ctx, d.org.ID, "owner")
	for _, r := range []storage.Role{d.role, d.customRole} {
		mustNil(t, "AddRolePermissions", s.AddRolePermissions(ctx, r.ID, []storage.Permission{perm(d.rs, "read"), perm(d.rs, "write")}))
	}
	assign(t, s, ctx, storage.SubjectMembership, d.member.ID, d.role.ID, d.customRole.ID)
	assign(t, s, ctx, storage.SubjectUser, d.user.ID, d.role.ID)
	assign(t, s, ctx, storage.SubjectClient, d.client.ID, d.role.ID)
	mustNil(t, "AddClientOrganization", s.AddClientOrganization(ctx, d.client.ID, d.org.ID))
	d.key = newAPIKey(t, s, ctx, "live", now())
	d.event = newAuditEvent(t, s, ctx, "seed."+rnd(t), d.user.ID, d.org.ID, now())
	return d
}

func (d *orgSeeded) assertIntact(t *testing.T, s storage.Storage) {
	t.Helper()
	ctx := d.ctx
	o, err := s.GetOrganization(ctx, d.org.ID)
	mustNil(t, "seeded organization", err)
	assertEqual(t, "seeded organization", normOrg(o), normOrg(d.org))
	os, n, err := s.ListOrganizations(ctx, storage.Page{})
	mustNil(t, "ListOrganizations", err)
	assertSame(t, "seeded organizations", idsOf(os, orgID), []string{d.org.ID})
	if n != 1 {
		t.Fatalf("seeded tenant has %d organizations, want 1", n)
	}

	m, err := s.GetMembershipByID(ctx, d.member.ID)
	mustNil(t, "seeded membership", err)
	assertEqual(t, "seeded membership", normMembership(m), normMembership(d.member))
	ms, n, err := s.ListMembers(ctx, d.org.ID, storage.Page{})
	mustNil(t, "ListMembers", err)
	if n != 1 || len(ms) != 1 || ms[0].ID != d.member.ID {
		t.Fatalf("seeded members = %+v (total %d), want only %s", ms, n, d.member.ID)
	}
	ums, err := s.ListUserMemberships(ctx, d.user.ID)
	mustNil(t, "ListUserMemberships", err)
	if len(ums) != 1 || ums[0].ID != d.member.ID {
		t.Fatalf("seeded user memberships = %+v, want only %s", ums, d.member.ID)
	}

	rs, err := s.GetResourceServer(ctx, d.rs.Identifier)
	mustNil(t, "seeded resource server", err)
	assertEqual(t, "seeded resource server", normResourceServer(rs), normResourceServer(d.rs))
	rss, n, err := s.ListResourceServers(ctx, storage.Page{})
	mustNil(t, "ListResourceServers", err)
	if n != 1 || len(rss) != 1 {
		t.Fatalf("seeded tenant has resource servers %+v (total %d), want only %s", rss, n, d.rs.ID)
	}
	lt, err := s.MaxTokenLifetime(ctx)
	mustNil(t, "MaxTokenLifetime", err)
	if lt != d.lifetime {
		t.Fatalf("seeded MaxTokenLifetime = %d, want %d", lt, d.lifetime)
	}

	for _, want := range []storage.Role{d.role, d.customRole} {
		r, err := s.GetRole(ctx, want.ID)
		mustNil(t, "seeded role", err)
		assertEqual(t, "seeded role", normRole(r), normRole(want))
		assertPermissions(t, s, ctx, want.ID, perm(d.rs, "read"), perm(d.rs, "write"))
	}
	roles, n, err := s.ListRoles(ctx, storage.Page{})
	mustNil(t, "ListRoles", err)
	if n != 2 || len(roles) != 2 {
		t.Fatalf("seeded tenant has roles %+v (total %d), want 2", roles, n)
	}
	assertSet(t, "seeded membership roles", assigned(t, s, ctx, storage.SubjectMembership, d.member.ID), []string{d.role.ID, d.customRole.ID})
	assertSet(t, "seeded user roles", assigned(t, s, ctx, storage.SubjectUser, d.user.ID), []string{d.role.ID})
	assertSet(t, "seeded client roles", assigned(t, s, ctx, storage.SubjectClient, d.client.ID), []string{d.role.ID})
	g, err := s.GrantsFor(ctx, storage.SubjectMembership, d.member.ID, []string{d.rs.Identifier})
	mustNil(t, "GrantsFor", err)
	assertSame(t, "seeded grant roles", g.Roles, []string{"admin", "owner"})
	assertSame(t, "seeded grant permissions", g.Permissions, []string{"read", "write"})

	in, err := s.ClientInOrganization(ctx, d.client.ID, d.org.ID)
	mustNil(t, "ClientInOrganization", err)
	if !in {
		t.Fatal("seeded client is no longer in the seeded organization")
	}
	cs, err := s.OrganizationClients(ctx, d.org.ID)
	mustNil(t, "OrganizationClients", err)
	assertSame(t, "seeded organization clients", cs, []string{d.client.ID})

	k, err := s.APIKeyByHash(ctx, d.key.KeyHash)
	mustNil(t, "seeded api key", err)
	assertEqual(t, "seeded api key", normAPIKey(k), normAPIKey(d.key))
	ks, err := s.ListAPIKeys(ctx)
	mustNil(t, "ListAPIKeys", err)
	assertSame(t, "seeded api keys", idsOf(ks, apiKeyID), []string{d.key.ID})

	es, err := s.ListAudit(ctx, storage.AuditFilter{})
	mustNil(t, "ListAudit", err)
	if len(es) != 1 {
		t.Fatalf("seeded audit log = %+v, want only %s", es, d.event.ID)
	}
	want := d.event
	want.Seq = es[0].Seq
	assertEqual(t, "seeded audit event", normAudit(es[0]), normAudit(want))
}

// testOrgTenantIsolation gives tenant A one row of every organization-related kind, then works as tenant B with
// A's ids, names, identifiers and hashes. B must see none of them, change none of them, and link none of them
// to its own rows.
func testOrgTenantIsolation(t *testing.T, s storage.Storage) {
	a := seedOrgs(t, s, 7200)
	b := seedOrgs(t, s, 600)
	ctxB := b.ctx

	reads := []struct {
		name string
		read func() error
	}{
		{"GetOrganization by id", func() error { _, err := s.GetOrganization(ctxB, a.org.ID); return err }},
		{"GetOrganization by name", func() error { _, err := s.GetOrganization(ctxB, a.org.Name); return err }},
		{"GetMembership", func() error { _, err := s.GetMembership(ctxB, a.org.ID, a.user.ID); return err }},
		{"GetMembershipByID", func() error { _, err := s.GetMembershipByID(ctxB, a.member.ID); return err }},
		{"GetResourceServer by id", func() error { _, err := s.GetResourceServer(ctxB, a.rs.ID); return err }},
		{"GetResourceServer by identifier", func() error { _, err := s.GetResourceServer(ctxB, a.rs.Identifier); return err }},
		{"GetRole", func() error { _, err := s.GetRole(ctxB, a.role.ID); return err }},
		{"GetRole custom", func() error { _, err := s.GetRole(ctxB, a.customRole.ID); return err }},
		{"APIKeyByHash", func() error { _, err := s.APIKeyByHash(ctxB, a.key.KeyHash); return err }},
		{"GetAuditEvent", func() error { _, err := s.GetAuditEvent(ctxB, a.event.ID); return err }},
	}
	for _, tc := range reads {
		t.Run("read/"+tc.name, func(t *testing.T) {
			wantErr(t, tc.name, tc.read(), storage.ErrNotFound)
		})
	}

	// Lists as B return B's rows only (given as ids), or nothing where A's id was asked about.
	lists := []struct {
		name string
		list func(t *testing.T) ([]string, error)
		want []string
	}{
		{"ListOrganizations", func(t *testing.T) ([]string, error) {
			os, _, err := s.ListOrganizations(ctxB, storage.Page{})
			return idsOf(os, orgID), err
		}, []string{b.org.ID}},
		{"ListMembers of A's organization", func(t *testing.T) ([]string, error) {
			ms, n, err := s.ListMembers(ctxB, a.org.ID, storage.Page{})
			if n != 0 {
				t.Errorf("ListMembers total = %d, want 0", n)
			}
			return idsOf(ms, memberID), err
		}, nil},
		{"ListUserMemberships of A's user", func(t *testing.T) ([]string, error) {
			ums, err := s.ListUserMemberships(ctxB, a.user.ID)
			return idsOf(ums, func(m storage.UserMembership) string { return m.ID }), err
		}, nil},
		{"ListResourceServers", func(t *testing.T) ([]string, error) {
			rs, _, err := s.ListResourceServers(ctxB, storage.Page{})
			return idsOf(rs, resourceServerID), err
		}, []string{b.rs.ID}},
		{"ListRoles", func(t *testing.T) ([]string, error) {
			rs, _, err := s.ListRoles(ctxB, storage.Page{})
			return idsOf(rs, roleID), err
		}, []string{b.role.ID, b.customRole.ID}},
		{"ListRolePermissions of A's role", func(t *testing.T) ([]string, error) {
			ps, err := s.ListRolePermissions(ctxB, a.role.ID)
			return idsOf(ps, func(p storage.Permission) string { return p.ResourceServer + " " + p.Name }), err
		}, nil},
		{"ListAssignedRoles of A's membership", func(t *testing.T) ([]string, error) {
			return assigned(t, s, ctxB, storage.SubjectMembership, a.member.ID), nil
		}, nil},
		{"ListAssignedRoles of A's user", func(t *testing.T) ([]string, error) { return assigned(t, s, ctxB, storage.SubjectUser, a.user.ID), nil }, nil},
		{"ListAssignedRoles of A's client", func(t *testing.T) ([]string, error) {
			return assigned(t, s, ctxB, storage.SubjectClient, a.client.ID), nil
		}, nil},
		{"OrganizationClients of A's organization", func(t *testing.T) ([]string, error) { return s.OrganizationClients(ctxB, a.org.ID) }, nil},
		{"ListAPIKeys", func(t *testing.T) ([]string, error) {
			ks, err := s.ListAPIKeys(ctxB)
			return idsOf(ks, apiKeyID), err
		}, []string{b.key.ID}},
		{"ListAudit", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{Limit: 1000})
			return idsOf(es, auditID), err
		}, []string{b.event.ID}},
		{"ListAudit of A's type", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{Type: a.event.Type})
			return idsOf(es, auditID), err
		}, nil},
		{"ListAudit of A's user", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{UserID: a.user.ID})
			return idsOf(es, auditID), err
		}, nil},
		{"ListAudit of A's organization", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{OrganizationID: a.org.ID})
			return idsOf(es, auditID), err
		}, nil},
		{"ListAudit with a cursor", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{Before: 1 << 62})
			return idsOf(es, auditID), err
		}, []string{b.event.ID}},
		{"ListAudit after a checkpoint", func(t *testing.T) ([]string, error) {
			es, err := s.ListAudit(ctxB, storage.AuditFilter{After: 1, Ascending: true})
			return idsOf(es, auditID), err
		}, []string{b.event.ID}},
		{"CountAudit", func(t *testing.T) ([]string, error) {
			n, err := s.CountAudit(ctxB, storage.AuditFilter{})
			return []string{fmt.Sprint(n)}, err
		}, []string{"1"}},
		{"ListOrganizationsAfter", func(t *testing.T) ([]string, error) {
			os, _, err := s.ListOrganizationsAfter(ctxB, storage.Checkpoint{Take: 100})
			return idsOf(os, orgID), err
		}, []string{b.org.ID}},
		{"ListMembersAfter of A's organization", func(t *testing.T) ([]string, error) {
			ms, _, err := s.ListMembersAfter(ctxB, a.org.ID, storage.Checkpoint{Take: 100})
			return idsOf(ms, memberID), err
		}, nil},
	}
	for _, tc := range lists {
		t.Run("list/"+tc.name, func(t *testing.T) {
			got, err := tc.list(t)
			mustNil(t, tc.name, err)
			assertSet(t, tc.name, got, tc.want)
		})
	}

	t.Run("read/GrantsFor", func(t *testing.T) {
		for _, sub := range []struct{ kind, id string }{
			{storage.SubjectMembership, a.member.ID}, {storage.SubjectUser, a.user.ID}, {storage.SubjectClient, a.client.ID},
		} {
			g, err := s.GrantsFor(ctxB, sub.kind, sub.id, []string{a.rs.Identifier, b.rs.Identifier})
			mustNil(t, "GrantsFor", err)
			if len(g.Roles) != 0 || len(g.Permissions) != 0 {
				t.Fatalf("GrantsFor as B of A's %s = %+v, want nothing", sub.kind, g)
			}
		}
	})
	t.Run("read/ClientInOrganization", func(t *testing.T) {
		in, err := s.ClientInOrganization(ctxB, a.client.ID, a.org.ID)
		mustNil(t, "ClientInOrganization", err)
		if in {
			t.Fatal("B sees A's client in A's organization")
		}
	})
	t.Run("read/MaxTokenLifetime", func(t *testing.T) {
		lt, err := s.MaxTokenLifetime(ctxB)
		mustNil(t, "MaxTokenLifetime", err)
		if lt != b.lifetime {
			t.Fatalf("MaxTokenLifetime as B = %d, want B's %d (A's is %d)", lt, b.lifetime, a.lifetime)
		}
	})

	writes := []struct {
		name    string
		write   func(t *testing.T, a, b *orgSeeded) error
		wantErr error // nil: any result, as long as A's rows are untouched
		addsToB bool  // the write may add rows to B (it names A's tenant in the value, which must not count)
	}{
		{"UpdateOrganization", func(t *testing.T, a, b *orgSeeded) error {
			return s.UpdateOrganization(b.ctx, a.org.ID, func(o storage.Organization) (storage.Organization, error) {
				t.Error("UpdateOrganization as B called fn with A's organization")
				o.DisplayName = "hijacked"
				return o, nil
			})
		}, storage.ErrNotFound, false},
		{"UpdateMembership", func(t *testing.T, a, b *orgSeeded) error {
			return s.UpdateMembership(b.ctx, a.member.ID, func(m storage.Membership) (storage.Membership, error) {
				t.Error("UpdateMembership as B called fn with A's membership")
				m.Status = storage.MembershipSuspended
				return m, nil
			})
		}, storage.ErrNotFound, false},
		{"UpdateResourceServer", func(t *testing.T, a, b *orgSeeded) error {
			return s.UpdateResourceServer(b.ctx, a.rs.ID, func(rs storage.ResourceServer) (storage.ResourceServer, error) {
				t.Error("UpdateResourceServer as B called fn with A's resource server")
				rs.Scopes = nil
				return rs, nil
			})
		}, storage.ErrNotFound, false},
		{"UpdateRole", func(t *testing.T, a, b *orgSeeded) error {
			return s.UpdateRole(b.ctx, a.role.ID, func(r storage.Role) (storage.Role, error) {
				t.Error("UpdateRole as B called fn with A's role")
				r.Name = "hijacked"
				return r, nil
			})
		}, storage.ErrNotFound, false},
		{"DeleteOrganization", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteOrganization(b.ctx, a.org.ID) }, storage.ErrNotFound, false},
		{"DeleteMembership", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteMembership(b.ctx, a.member.ID) }, storage.ErrNotFound, false},
		{"DeleteResourceServer", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteResourceServer(b.ctx, a.rs.ID) }, storage.ErrNotFound, false},
		{"DeleteRole", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteRole(b.ctx, a.role.ID) }, storage.ErrNotFound, false},
		{"DeleteRole custom", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteRole(b.ctx, a.customRole.ID) }, storage.ErrNotFound, false},
		{"DeleteAPIKey", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteAPIKey(b.ctx, a.key.ID) }, storage.ErrNotFound, false},
		{"DeleteUser", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteUser(b.ctx, a.user.ID) }, storage.ErrNotFound, false},
		{"DeleteClient", func(t *testing.T, a, b *orgSeeded) error { return s.DeleteClient(b.ctx, a.client.ID) }, storage.ErrNotFound, false},
		{"RemoveClientOrganization", func(t *testing.T, a, b *orgSeeded) error {
			return s.RemoveClientOrganization(b.ctx, a.client.ID, a.org.ID)
		}, storage.ErrNotFound, false},
		{"TouchAPIKey", func(t *testing.T, a, b *orgSeeded) error { return s.TouchAPIKey(b.ctx, a.key.ID, now()) }, nil, false},
		{"AddRolePermissions", func(t *testing.T, a, b *orgSeeded) error {
			return s.AddRolePermissions(b.ctx, a.role.ID, []storage.Permission{perm(a.rs, "admin")})
		}, storage.ErrNotFound, false},
		{"RemoveRolePermissions", func(t *testing.T, a, b *orgSeeded) error {
			return s.RemoveRolePermissions(b.ctx, a.role.ID, []storage.Permission{perm(a.rs, "read")})
		}, storage.ErrNotFound, false},
		{"UnassignRoles", func(t *testing.T, a, b *orgSeeded) error {
			for _, sub := range []struct{ kind, id string }{
				{storage.SubjectMembership, a.member.ID}, {storage.SubjectUser, a.user.ID}, {storage.SubjectClient, a.client.ID},
			} {
				removed, err := s.UnassignRoles(b.ctx, sub.kind, sub.id, []string{a.role.ID, a.customRole.ID})
				if err != nil {
					return err
				}
				if len(removed) != 0 {
					t.Errorf("UnassignRoles as B removed %v from A's %s", removed, sub.kind)
				}
			}
			return nil
		}, nil, false},
		{"CreateMembership in A's organization", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateMembership(b.ctx, storage.Membership{ID: "mem_" + rnd(t), OrganizationID: a.org.ID, UserID: b.user.ID,
				Status: storage.MembershipActive, JoinedAt: now(), CreatedAt: now(), UpdatedAt: now()})
		}, storage.ErrNotFound, false},
		{"CreateMembership of A's user", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateMembership(b.ctx, storage.Membership{ID: "mem_" + rnd(t), OrganizationID: b.org.ID, UserID: a.user.ID,
				Status: storage.MembershipActive, JoinedAt: now(), CreatedAt: now(), UpdatedAt: now()})
		}, storage.ErrNotFound, false},
		{"CreateRole in A's organization", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateRole(b.ctx, storage.Role{ID: "rol_" + rnd(t), OrganizationID: a.org.ID, Name: "planted", CreatedAt: now(), UpdatedAt: now()})
		}, storage.ErrNotFound, false},
		{"AssignRoles of A's role to B's membership", func(t *testing.T, a, b *orgSeeded) error {
			return assignForeign(t, s, b.ctx, storage.SubjectMembership, b.member.ID, a.role.ID)
		}, storage.ErrNotFound, false},
		{"AssignRoles of A's role to B's user", func(t *testing.T, a, b *orgSeeded) error {
			return assignForeign(t, s, b.ctx, storage.SubjectUser, b.user.ID, a.role.ID)
		}, storage.ErrNotFound, false},
		{"AssignRoles of A's custom role to B's client", func(t *testing.T, a, b *orgSeeded) error {
			return assignForeign(t, s, b.ctx, storage.SubjectClient, b.client.ID, a.customRole.ID)
		}, storage.ErrNotFound, false},
		{"AddClientOrganization of A's client", func(t *testing.T, a, b *orgSeeded) error {
			return s.AddClientOrganization(b.ctx, a.client.ID, b.org.ID)
		}, storage.ErrNotFound, false},
		{"AddClientOrganization to A's organization", func(t *testing.T, a, b *orgSeeded) error {
			return s.AddClientOrganization(b.ctx, b.client.ID, a.org.ID)
		}, storage.ErrNotFound, false},
		{"CreateOrganization naming A and A's name", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateOrganization(b.ctx, storage.Organization{ID: "org_" + rnd(t), TenantID: a.tenant.ID, Name: a.org.Name,
				CreatedAt: now(), UpdatedAt: now()})
		}, nil, true},
		{"CreateResourceServer naming A and A's identifier", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateResourceServer(b.ctx, storage.ResourceServer{ID: "rs_" + rnd(t), TenantID: a.tenant.ID, Identifier: a.rs.Identifier,
				Name: "planted", TokenLifetime: 99999, CreatedAt: now(), UpdatedAt: now()})
		}, nil, true},
		{"CreateRole naming A", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateRole(b.ctx, storage.Role{ID: "rol_" + rnd(t), TenantID: a.tenant.ID, Name: "planted", CreatedAt: now(), UpdatedAt: now()})
		}, nil, true},
		{"CreateAPIKey naming A", func(t *testing.T, a, b *orgSeeded) error {
			return s.CreateAPIKey(b.ctx, storage.APIKey{ID: "key_" + rnd(t), TenantID: a.tenant.ID, Mode: "live", KeyHash: rnd(t), CreatedAt: now()})
		}, nil, true},
		{"AppendAudit naming A", func(t *testing.T, a, b *orgSeeded) error {
			return s.AppendAudit(b.ctx, storage.AuditEvent{ID: "aud_" + rnd(t), TenantID: a.tenant.ID, Type: a.event.Type,
				UserID: a.user.ID, OrganizationID: a.org.ID, CreatedAt: now()})
		}, nil, true},
	}
	for _, tc := range writes {
		t.Run("write/"+tc.name, func(t *testing.T) {
			// Fresh tenants, so one leak does not cascade into the cases after it.
			a, b := seedOrgs(t, s, 7200), seedOrgs(t, s, 600)
			err := tc.write(t, a, b)
			if tc.wantErr != nil {
				wantErr(t, tc.name, err, tc.wantErr)
			}
			a.assertIntact(t, s)
			// B is as it was, too: nothing half-done, nothing of A's attached.
			if !tc.addsToB {
				b.assertIntact(t, s)
			}
		})
	}
}

// assignForeign assigns another tenant's role as the tenant in ctx: refused, with nothing assigned.
func assignForeign(t *testing.T, s storage.Storage, ctx context.Context, kind, subjectID, foreignRoleID string) error {
	t.Helper()
	added, err := s.AssignRoles(ctx, kind, subjectID, []string{foreignRoleID}, storage.SourceManual)
	if len(added) != 0 {
		t.Errorf("AssignRoles of another tenant's role to a %s reported %v as added", kind, added)
	}
	return err
}

// testOrgNoTenant calls every organization-related method without a tenant. Each must refuse with ErrNoTenant
// rather than run unscoped; the seeded tenant's rows, which an unscoped query would reach, must be untouched.
func testOrgNoTenant(t *testing.T, s storage.Storage) {
	d := seedOrgs(t, s, 600)
	calls := []struct {
		name string
		call func(t *testing.T, ctx context.Context) error
	}{
		{"CreateOrganization", func(t *testing.T, ctx context.Context) error {
			return s.CreateOrganization(ctx, storage.Organization{ID: "org_" + rnd(t), TenantID: d.tenant.ID, Name: "x-" + rnd(t)})
		}},
		{"GetOrganization", func(t *testing.T, ctx context.Context) error { _, err := s.GetOrganization(ctx, d.org.ID); return err }},
		{"ListOrganizations", func(t *testing.T, ctx context.Context) error {
			_, _, err := s.ListOrganizations(ctx, storage.Page{})
			return err
		}},
		{"UpdateOrganization", func(t *testing.T, ctx context.Context) error {
			return s.UpdateOrganization(ctx, d.org.ID, func(o storage.Organization) (storage.Organization, error) {
				t.Error("UpdateOrganization without a tenant called fn")
				return o, nil
			})
		}},
		{"DeleteOrganization", func(t *testing.T, ctx context.Context) error { return s.DeleteOrganization(ctx, d.org.ID) }},
		{"CreateMembership", func(t *testing.T, ctx context.Context) error {
			return s.CreateMembership(ctx, storage.Membership{ID: "mem_" + rnd(t), TenantID: d.tenant.ID, OrganizationID: d.org.ID,
				UserID: d.user.ID, Status: storage.MembershipActive})
		}},
		{"GetMembership", func(t *testing.T, ctx context.Context) error {
			_, err := s.GetMembership(ctx, d.org.ID, d.user.ID)
			return err
		}},
		{"GetMembershipByID", func(t *testing.T, ctx context.Context) error {
			_, err := s.GetMembershipByID(ctx, d.member.ID)
			return err
		}},
		{"ListMembers", func(t *testing.T, ctx context.Context) error {
			_, _, err := s.ListMembers(ctx, d.org.ID, storage.Page{})
			return err
		}},
		{"ListUserMemberships", func(t *testing.T, ctx context.Context) error {
			_, err := s.ListUserMemberships(ctx, d.user.ID)
			return err
		}},
		{"UpdateMembership", func(t *testing.T, ctx context.Context) error {
			return s.UpdateMembership(ctx, d.member.ID, func(m storage.Membership) (storage.Membership, error) {
				t.Error("UpdateMembership without a tenant called fn")
				return m, nil
			})
		}},
		{"DeleteMembership", func(t *testing.T, ctx context.Context) error { return s.DeleteMembership(ctx, d.member.ID) }},
		{"CreateResourceServer", func(t *testing.T, ctx context.Context) error {
			return s.CreateResourceServer(ctx, storage.ResourceServer{ID: "rs_" + rnd(t), TenantID: d.tenant.ID, Identifier: "urn:" + rnd(t)})
		}},
		{"GetResourceServer", func(t *testing.T, ctx context.Context) error { _, err := s.GetResourceServer(ctx, d.rs.ID); return err }},
		{"ListResourceServers", func(t *testing.T, ctx context.Context) error {
			_, _, err := s.ListResourceServers(ctx, storage.Page{})
			return err
		}},
		{"UpdateResourceServer", func(t *testing.T, ctx context.Context) error {
			return s.UpdateResourceServer(ctx, d.rs.ID, func(rs storage.ResourceServer) (storage.ResourceServer, error) {
				t.Error("UpdateResourceServer without a tenant called fn")
				return rs, nil
			})
		}},
		{"DeleteResourceServer", func(t *testing.T, ctx context.Context) error { return s.DeleteResourceServer(ctx, d.rs.ID) }},
		{"MaxTokenLifetime", func(t *testing.T, ctx context.Context) error { _, err := s.MaxTokenLifetime(ctx); return err }},
		{"CreateRole", func(t *testing.T, ctx context.Context) error {
			return s.CreateRole(ctx, storage.Role{ID: "rol_" + rnd(t), TenantID: d.tenant.ID, Name: "x-" + rnd(t)})
		}},
		{"CreateRole custom", func(t *testing.T, ctx context.Context) error {
			return s.CreateRole(ctx, storage.Role{ID: "rol_" + rnd(t), TenantID: d.tenant.ID, OrganizationID: d.org.ID, Name: "x-" + rnd(t)})
		}},
		{"GetRole", func(t *testing.T, ctx context.Context) error { _, err := s.GetRole(ctx, d.role.ID); return err }},
		{"ListRoles", func(t *testing.T, ctx context.Context) error {
			_, _, err := s.ListRoles(ctx, storage.Page{})
			return err
		}},
		{"UpdateRole", func(t *testing.T, ctx context.Context) error {
			return s.UpdateRole(ctx, d.role.ID, func(r storage.Role) (storage.Role, error) {
				t.Error("UpdateRole without a tenant called fn")
				return r, nil
			})
		}},
		{"DeleteRole", func(t *testing.T, ctx context.Context) error { return s.DeleteRole(ctx, d.role.ID) }},
		{"AddRolePermissions", func(t *testing.T, ctx context.Context) error {
			return s.AddRolePermissions(ctx, d.role.ID, []storage.Permission{perm(d.rs, "admin")})
		}},
		{"RemoveRolePermissions", func(t *testing.T, ctx context.Context) error {
			return s.RemoveRolePermissions(ctx, d.role.ID, []storage.Permission{perm(d.rs, "read")})
		}},
		{"ListRolePermissions", func(t *testing.T, ctx context.Context) error {
			_, err := s.ListRolePermissions(ctx, d.role.ID)
			return err
		}},
		{"AssignRoles", func(t *testing.T, ctx context.Context) error {
			_, err := s.AssignRoles(ctx, storage.SubjectClient, d.client.ID, []string{d.customRole.ID}, storage.SourceManual)
			return err
		}},
		{"UnassignRoles", func(t *testing.T, ctx context.Context) error {
			_, err := s.UnassignRoles(ctx, storage.SubjectMembership, d.member.ID, []string{d.role.ID})
			return err
		}},
		{"ListAssignedRoles", func(t *testing.T, ctx context.Context) error {
			_, err := s.ListAssignedRoles(ctx, storage.SubjectMembership, d.member.ID)
			return err
		}},
		{"GrantsFor", func(t *testing.T, ctx context.Context) error {
			_, err := s.GrantsFor(ctx, storage.SubjectMembership, d.member.ID, []string{d.rs.Identifier})
			return err
		}},
		{"AddClientOrganization", func(t *testing.T, ctx context.Context) error {
			return s.AddClientOrganization(ctx, d.client.ID, d.org.ID)
		}},
		{"RemoveClientOrganization", func(t *testing.T, ctx context.Context) error {
			return s.RemoveClientOrganization(ctx, d.client.ID, d.org.ID)
		}},
		{"ClientInOrganization", func(t *testing.T, ctx context.Context) error {
			_, err := s.ClientInOrganization(ctx, d.client.ID, d.org.ID)
			return err
		}},
		{"OrganizationClients", func(t *testing.T, ctx context.Context) error {
			_, err := s.OrganizationClients(ctx, d.org.ID)
			return err
		}},
		{"CreateAPIKey", func(t *testing.T, ctx context.Context) error {
			return s.CreateAPIKey(ctx, storage.APIKey{ID: "key_" + rnd(t), TenantID: d.tenant.ID, Mode: "live", KeyHash: rnd(t)})
		}},
		{"APIKeyByHash", func(t *testing.T, ctx context.Context) error {
			_, err := s.APIKeyByHash(ctx, d.key.KeyHash)
			return err
		}},
		{"ListAPIKeys", func(t *testing.T, ctx context.Context) error { _, err := s.ListAPIKeys(ctx); return err }},
		{"DeleteAPIKey", func(t *testing.T, ctx context.Context) error { return s.DeleteAPIKey(ctx, d.key.ID) }},
		{"TouchAPIKey", func(t *testing.T, ctx context.Context) error { return s.TouchAPIKey(ctx, d.key.ID, now()) }},
		{"AppendAudit", func(t *testing.T, ctx context.Context) error {
			return s.AppendAudit(ctx, storage.AuditEvent{ID: "aud_" + rnd(t), TenantID: d.tenant.ID, Type: d.event.Type})
		}},
		{"ListAudit", func(t *testing.T, ctx context.Context) error {
			_, err := s.ListAudit(ctx, storage.AuditFilter{})
			return err
		}},
	}
	contexts := []struct {
		name string
		ctx  context.Context
	}{
		{"no tenant", context.Background()},
		{"empty tenant", storage.WithTenant(context.Background(), "")},
	}
	for _, c := range contexts {
		for _, tc := range calls {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				wantErr(t, tc.name, tc.call(t, c.ctx), storage.ErrNoTenant)
			})
		}
	}
	d.assertIntact(t, s)
}
