package storage

import (
	"context"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Organizations, memberships, resource servers, roles and their assignments. Every query goes through the
// helpers of scope.go, or writes the tenant id taken from ctx, never one from the caller's value.

func pageQuery(db *gorm.DB, p Page) *gorm.DB {
	if p.Offset > 0 {
		db = db.Offset(p.Offset)
	}
	if p.Limit > 0 {
		db = db.Limit(p.Limit)
	}
	return db
}

// ---- organizations ----

func (s *Store) CreateOrganization(ctx context.Context, o Organization) error {
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return s.create(ctx, &o, func(tid string) { o.TenantID = tid })
}

func (s *Store) GetOrganization(ctx context.Context, idOrName string) (Organization, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Organization{}, err
	}
	var o Organization
	col := "name"
	if strings.HasPrefix(idOrName, "org_") {
		col = "id"
	}
	err = db.Where(col+" = ?", idOrName).Take(&o).Error
	if err == gormNotFound && col == "id" {
		// An organization may be named like an id; fall back to the name.
		err = db.Where("name = ?", idOrName).Take(&o).Error
	}
	return o, mapErr(err)
}

func (s *Store) ListOrganizations(ctx context.Context, p Page) ([]Organization, int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Model(&Organization{}).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var os []Organization
	err = pageQuery(db.Order("created_at, id"), p).Find(&os).Error
	return os, n, mapErr(err)
}

func (s *Store) ListOrganizationsAfter(ctx context.Context, c Checkpoint) ([]Organization, string, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, "", err
	}
	return checkpointPage(db.Model(&Organization{}), "created_at", "id", c,
		func(o Organization) (time.Time, string) { return o.CreatedAt, o.ID })
}

func (s *Store) UpdateOrganization(ctx context.Context, id string, fn func(old Organization) (Organization, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Organization{}, id); err != nil {
			return err
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var old Organization
		if err := db.Where("id = ?", id).Take(&old).Error; err != nil {
			return mapErr(err)
		}
		o, err := fn(old)
		if err != nil {
			return err
		}
		o.ID, o.TenantID, o.CreatedAt, o.UpdatedAt = old.ID, old.TenantID, old.CreatedAt, s.Now()
		return s.update(ctx, id, &o)
	})
}

func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db, tid, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		members := s.conn(ctx).Model(&Membership{}).Select("id").Where("tenant_id = ? AND organization_id = ?", tid, id)
		if err := db.Where("subject_kind = ? AND subject_id IN (?)", SubjectMembership, members).Delete(&roleAssignment{}).Error; err != nil {
			return mapErr(err)
		}
		for _, model := range []any{&Membership{}, &clientOrganization{}} {
			if err := db.Where("organization_id = ?", id).Delete(model).Error; err != nil {
				return mapErr(err)
			}
		}
		if err := db.Where("organization_id = ?", id).Delete(&Role{}).Error; err != nil {
			return mapErr(err)
		}
		return s.deleteWhere(ctx, &Organization{}, "id = ?", id)
	})
}

// ---- memberships ----

// owned reports ErrNotFound unless the tenant in ctx has a row of model with that id.
func (s *Store) owned(ctx context.Context, model any, id string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	var n int64
	if err := db.Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *Store) CreateMembership(ctx context.Context, m Membership) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &Organization{}, m.OrganizationID); err != nil {
			return err
		}
		if err := s.owned(ctx, &User{}, m.UserID); err != nil {
			return err
		}
		m.JoinedAt, m.CreatedAt, m.UpdatedAt = m.JoinedAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		return s.create(ctx, &m, func(tid string) { m.TenantID = tid })
	})
}

func (s *Store) GetMembership(ctx context.Context, orgID, userID string) (Membership, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Membership{}, err
	}
	var m Membership
	err = db.Where("organization_id = ? AND user_id = ?", orgID, userID).Take(&m).Error
	return m, mapErr(err)
}

func (s *Store) GetMembershipByID(ctx context.Context, id string) (Membership, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Membership{}, err
	}
	var m Membership
	err = db.Where("id = ?", id).Take(&m).Error
	return m, mapErr(err)
}

func (s *Store) ListMembers(ctx context.Context, orgID string, p Page) ([]Member, int64, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	db, _, _ := s.scoped(ctx)
	if err := db.Model(&Membership{}).Where("organization_id = ?", orgID).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var out []Member
	q := s.conn(ctx).Table("memberships m").
		Select("m.*, u.email AS email, u.name AS name").
		Joins("JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id").
		Where("m.tenant_id = ? AND m.organization_id = ?", tid, orgID).
		Order("m.joined_at, m.id")
	err = pageQuery(q, p).Scan(&out).Error
	return out, n, mapErr(err)
}

func (s *Store) ListMembersAfter(ctx context.Context, orgID string, c Checkpoint) ([]Member, string, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, "", err
	}
	q := s.conn(ctx).Table("memberships m").
		Select("m.*, u.email AS email, u.name AS name").
		Joins("JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id").
		Where("m.tenant_id = ? AND m.organization_id = ?", tid, orgID)
	return checkpointPage(q, "m.joined_at", "m.id", c, func(m Member) (time.Time, string) { return m.JoinedAt, m.ID })
}

func (s *Store) ListUserMemberships(ctx context.Context, userID string) ([]UserMembership, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var out []UserMembership
	err = s.conn(ctx).Table("memberships m").
		Select("m.*, o.name AS organization_name, o.display_name AS organization_display_name").
		Joins("JOIN organizations o ON o.id = m.organization_id AND o.tenant_id = m.tenant_id").
		Where("m.tenant_id = ? AND m.user_id = ?", tid, userID).
		Order("m.joined_at, m.id").Scan(&out).Error
	return out, mapErr(err)
}

func (s *Store) UpdateMembership(ctx context.Context, id string, fn func(old Membership) (Membership, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Membership{}, id); err != nil {
			return err
		}
		old, err := s.GetMembershipByID(ctx, id)
		if err != nil {
			return err
		}
		m, err := fn(old)
		if err != nil {
			return err
		}
		m.ID, m.TenantID, m.OrganizationID, m.UserID, m.CreatedAt = old.ID, old.TenantID, old.OrganizationID, old.UserID, old.CreatedAt
		m.JoinedAt, m.UpdatedAt = m.JoinedAt.UTC(), s.Now()
		return s.update(ctx, id, &m)
	})
}

func (s *Store) DeleteMembership(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.deleteWhere(ctx, &Membership{}, "id = ?", id); err != nil {
			return err
		}
		db, _, _ := s.scoped(ctx)
		return mapErr(db.Where("subject_kind = ? AND subject_id = ?", SubjectMembership, id).Delete(&roleAssignment{}).Error)
	})
}

// ---- resource servers ----

func (s *Store) CreateResourceServer(ctx context.Context, rs ResourceServer) error {
	rs.CreatedAt, rs.UpdatedAt = rs.CreatedAt.UTC(), rs.UpdatedAt.UTC()
	return s.create(ctx, &rs, func(tid string) { rs.TenantID = tid })
}

func (s *Store) GetResourceServer(ctx context.Context, idOrIdentifier string) (ResourceServer, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return ResourceServer{}, err
	}
	var rs ResourceServer
	err = db.Where("id = ? OR identifier = ?", idOrIdentifier, idOrIdentifier).Order("id").Take(&rs).Error
	return rs, mapErr(err)
}

func (s *Store) ListResourceServers(ctx context.Context, p Page) ([]ResourceServer, int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Model(&ResourceServer{}).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var out []ResourceServer
	err = pageQuery(db.Order("created_at, id"), p).Find(&out).Error
	return out, n, mapErr(err)
}

func (s *Store) UpdateResourceServer(ctx context.Context, id string, fn func(old ResourceServer) (ResourceServer, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &ResourceServer{}, id); err != nil {
			return err
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var old ResourceServer
		if err := db.Where("id = ?", id).Take(&old).Error; err != nil {
			return mapErr(err)
		}
		rs, err := fn(old)
		if err != nil {
			return err
		}
		// The identifier is the audience of issued tokens and the key of role permissions: it never changes.
		rs.ID, rs.TenantID, rs.Identifier, rs.CreatedAt, rs.UpdatedAt = old.ID, old.TenantID, old.Identifier, old.CreatedAt, s.Now()
		if err := s.update(ctx, id, &rs); err != nil {
			return err
		}
		// Permissions for scopes the resource server no longer defines go with them.
		var perms []rolePermission
		if err := db.Where("resource_server = ?", old.Identifier).Find(&perms).Error; err != nil {
			return mapErr(err)
		}
		for _, p := range perms {
			if !rs.Scopes.Has(p.Permission) {
				if err := db.Where("role_id = ? AND resource_server = ? AND permission = ?", p.RoleID, p.ResourceServer, p.Permission).
					Delete(&rolePermission{}).Error; err != nil {
					return mapErr(err)
				}
			}
		}
		return nil
	})
}

func (s *Store) DeleteResourceServer(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var rs ResourceServer
		if err := db.Where("id = ?", id).Take(&rs).Error; err != nil {
			return mapErr(err)
		}
		if err := db.Where("resource_server = ?", rs.Identifier).Delete(&rolePermission{}).Error; err != nil {
			return mapErr(err)
		}
		return s.deleteWhere(ctx, &ResourceServer{}, "id = ?", id)
	})
}

func (s *Store) MaxTokenLifetime(ctx context.Context) (int, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	var n *int
	err = db.Model(&ResourceServer{}).Select("MAX(token_lifetime)").Scan(&n).Error
	if err != nil || n == nil {
		return 0, mapErr(err)
	}
	return *n, nil
}

// ---- roles ----

func (s *Store) CreateRole(ctx context.Context, r Role) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if r.OrganizationID != "" {
			if err := s.owned(ctx, &Organization{}, r.OrganizationID); err != nil {
				return err
			}
		}
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		return s.create(ctx, &r, func(tid string) { r.TenantID = tid })
	})
}

func (s *Store) GetRole(ctx context.Context, id string) (Role, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Role{}, err
	}
	var r Role
	err = db.Where("id = ?", id).Take(&r).Error
	return r, mapErr(err)
}

func (s *Store) ListRoles(ctx context.Context, p Page) ([]Role, int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Model(&Role{}).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var out []Role
	err = pageQuery(db.Order("created_at, id"), p).Find(&out).Error
	return out, n, mapErr(err)
}

func (s *Store) UpdateRole(ctx context.Context, id string, fn func(old Role) (Role, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Role{}, id); err != nil {
			return err
		}
		old, err := s.GetRole(ctx, id)
		if err != nil {
			return err
		}
		r, err := fn(old)
		if err != nil {
			return err
		}
		// Moving a role between organizations would silently change who holds it: the scope is fixed.
		r.ID, r.TenantID, r.OrganizationID, r.CreatedAt, r.UpdatedAt = old.ID, old.TenantID, old.OrganizationID, old.CreatedAt, s.Now()
		return s.update(ctx, id, &r)
	})
}

func (s *Store) DeleteRole(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		for _, model := range []any{&rolePermission{}, &roleAssignment{}} {
			db, _, err := s.scoped(ctx)
			if err != nil {
				return err
			}
			if err := db.Where("role_id = ?", id).Delete(model).Error; err != nil {
				return mapErr(err)
			}
		}
		// Organizations that gave the role to new members stop doing so.
		db, _, _ := s.scoped(ctx)
		if err := db.Model(&Organization{}).Where("default_role_id = ?", id).Update("default_role_id", "").Error; err != nil {
			return mapErr(err)
		}
		return s.deleteWhere(ctx, &Role{}, "id = ?", id)
	})
}

func (s *Store) AddRolePermissions(ctx context.Context, roleID string, ps []Permission) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &Role{}, roleID); err != nil {
			return err
		}
		have, err := s.ListRolePermissions(ctx, roleID)
		if err != nil {
			return err
		}
		tid, _ := TenantFromContext(ctx)
		for _, p := range ps {
			if containsPermission(have, p) {
				continue
			}
			have = append(have, p)
			row := rolePermission{TenantID: tid, RoleID: roleID, ResourceServer: p.ResourceServer, Permission: p.Name}
			if err := s.conn(ctx).Create(&row).Error; err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func containsPermission(ps []Permission, p Permission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (s *Store) RemoveRolePermissions(ctx context.Context, roleID string, ps []Permission) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &Role{}, roleID); err != nil {
			return err
		}
		for _, p := range ps {
			db, _, _ := s.scoped(ctx)
			if err := db.Where("role_id = ? AND resource_server = ? AND permission = ?", roleID, p.ResourceServer, p.Name).
				Delete(&rolePermission{}).Error; err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListRolePermissions(ctx context.Context, roleID string) ([]Permission, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var rows []rolePermission
	if err := db.Where("role_id = ?", roleID).Order("resource_server, permission").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]Permission, 0, len(rows))
	for _, r := range rows {
		out = append(out, Permission{ResourceServer: r.ResourceServer, Name: r.Permission})
	}
	return out, nil
}

func (s *Store) AssignRoles(ctx context.Context, kind, subjectID string, roleIDs []string, source string) ([]string, error) {
	var added []string
	err := s.inTx(ctx, func(ctx context.Context) error {
		tid, err := tenantOf(ctx)
		if err != nil {
			return err
		}
		held, err := s.ListAssignedRoles(ctx, kind, subjectID)
		if err != nil {
			return err
		}
		has := map[string]bool{}
		for _, r := range held {
			has[r.ID] = true
		}
		now := s.Now()
		for _, id := range roleIDs {
			if has[id] {
				continue
			}
			if err := s.owned(ctx, &Role{}, id); err != nil {
				return err
			}
			has[id] = true
			row := roleAssignment{TenantID: tid, SubjectKind: kind, SubjectID: subjectID, RoleID: id, Source: source, CreatedAt: now}
			if err := s.conn(ctx).Create(&row).Error; err != nil {
				return mapErr(err)
			}
			added = append(added, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

func (s *Store) UnassignRoles(ctx context.Context, kind, subjectID string, roleIDs []string) ([]string, error) {
	var removed []string
	err := s.inTx(ctx, func(ctx context.Context) error {
		for _, id := range roleIDs {
			db, _, err := s.scoped(ctx)
			if err != nil {
				return err
			}
			res := db.Where("subject_kind = ? AND subject_id = ? AND role_id = ?", kind, subjectID, id).Delete(&roleAssignment{})
			if res.Error != nil {
				return mapErr(res.Error)
			}
			if res.RowsAffected > 0 {
				removed = append(removed, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

func (s *Store) ListAssignedRoles(ctx context.Context, kind, subjectID string) ([]AssignedRole, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var out []AssignedRole
	err = s.conn(ctx).Table("role_assignments a").
		Select("r.*, a.source AS source, a.created_at AS assigned_at").
		Joins("JOIN roles r ON r.id = a.role_id AND r.tenant_id = a.tenant_id").
		Where("a.tenant_id = ? AND a.subject_kind = ? AND a.subject_id = ?", tid, kind, subjectID).
		Order("r.name, r.id").Scan(&out).Error
	return out, mapErr(err)
}

func (s *Store) GrantsFor(ctx context.Context, kind, subjectID string, audiences []string) (Grants, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return Grants{}, err
	}
	// One round trip: every role of the subject, joined with its permissions on the audiences (if any).
	type row struct {
		Name       string
		Permission *string
	}
	var rows []row
	q := s.conn(ctx).Table("role_assignments a").
		Joins("JOIN roles r ON r.id = a.role_id AND r.tenant_id = a.tenant_id")
	if len(audiences) > 0 {
		q = q.Select("r.name AS name, p.permission AS permission").
			Joins("LEFT JOIN role_permissions p ON p.role_id = r.id AND p.tenant_id = r.tenant_id AND p.resource_server IN ?", audiences)
	} else {
		q = q.Select("r.name AS name, NULL AS permission")
	}
	err = q.Where("a.tenant_id = ? AND a.subject_kind = ? AND a.subject_id = ?", tid, kind, subjectID).Scan(&rows).Error
	if err != nil {
		return Grants{}, mapErr(err)
	}
	roles, perms := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		roles[r.Name] = true
		if r.Permission != nil {
			perms[*r.Permission] = true
		}
	}
	return Grants{Roles: sortedKeys(roles), Permissions: sortedKeys(perms)}, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- machine clients in organizations ----

func (s *Store) AddClientOrganization(ctx context.Context, clientID, orgID string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &Client{}, clientID); err != nil {
			return err
		}
		if err := s.owned(ctx, &Organization{}, orgID); err != nil {
			return err
		}
		if in, err := s.ClientInOrganization(ctx, clientID, orgID); err != nil || in {
			return err
		}
		tid, _ := TenantFromContext(ctx)
		return mapErr(s.conn(ctx).Create(&clientOrganization{TenantID: tid, ClientID: clientID, OrganizationID: orgID, CreatedAt: s.Now()}).Error)
	})
}

func (s *Store) RemoveClientOrganization(ctx context.Context, clientID, orgID string) error {
	return s.deleteWhere(ctx, &clientOrganization{}, "client_id = ? AND organization_id = ?", clientID, orgID)
}

func (s *Store) ClientInOrganization(ctx context.Context, clientID, orgID string) (bool, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return false, err
	}
	var n int64
	err = db.Model(&clientOrganization{}).Where("client_id = ? AND organization_id = ?", clientID, orgID).Count(&n).Error
	return n > 0, mapErr(err)
}

func (s *Store) OrganizationClients(ctx context.Context, orgID string) ([]string, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = db.Model(&clientOrganization{}).Where("organization_id = ?", orgID).Order("created_at, client_id").Pluck("client_id", &ids).Error
	return ids, mapErr(err)
}

// ---- API keys ----

func (s *Store) CreateAPIKey(ctx context.Context, k APIKey) error {
	k.CreatedAt = k.CreatedAt.UTC()
	return s.create(ctx, &k, func(tid string) { k.TenantID = tid })
}

func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return APIKey{}, err
	}
	var k APIKey
	err = db.Where("key_hash = ?", hash).Take(&k).Error
	return k, mapErr(err)
}

func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var out []APIKey
	err = db.Order("created_at, id").Find(&out).Error
	return out, mapErr(err)
}

func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return s.deleteWhere(ctx, &APIKey{}, "id = ?", id)
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return mapErr(db.Model(&APIKey{}).Where("id = ?", id).Update("last_used_at", at.UTC()).Error)
}

// ---- audit log ----

func (s *Store) AppendAudit(ctx context.Context, e AuditEvent) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	e.Seq, e.TenantID, e.CreatedAt = 0, tid, e.CreatedAt.UTC()
	if g := groupOf(ctx); g != nil {
		g.audit = append(g.audit, &e)
		return nil
	}
	if s.audit != nil && !inTxContext(ctx) {
		return s.audit.add(ctx, &e)
	}
	return mapErr(s.conn(ctx).Create(&e).Error)
}

func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	db, err := s.auditQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	order := "seq DESC"
	if f.Ascending {
		order = "seq"
	}
	var out []AuditEvent
	err = pageQuery(db.Order(order), Page{Offset: f.Offset, Limit: limit}).Find(&out).Error
	return out, mapErr(err)
}

func (s *Store) CountAudit(ctx context.Context, f AuditFilter) (int64, error) {
	db, err := s.auditQuery(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.Model(&AuditEvent{}).Count(&n).Error
	return n, mapErr(err)
}

// auditQuery is the tenant's audit events that f's filters select (not its offset, limit or order).
func (s *Store) auditQuery(ctx context.Context, f AuditFilter) (*gorm.DB, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	if f.Type != "" {
		db = db.Where("type = ?", f.Type)
	}
	if f.UserID != "" {
		db = db.Where("user_id = ?", f.UserID)
	}
	if f.OrganizationID != "" {
		db = db.Where("organization_id = ?", f.OrganizationID)
	}
	if !f.Since.IsZero() {
		db = db.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		db = db.Where("created_at < ?", f.Until.UTC())
	}
	if f.Before > 0 {
		db = db.Where("seq < ?", f.Before)
	}
	if f.After > 0 {
		db = db.Where("seq > ?", f.After)
	}
	return db, nil
}

func (s *Store) GetAuditEvent(ctx context.Context, id string) (AuditEvent, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return AuditEvent{}, err
	}
	var e AuditEvent
	err = db.Where("id = ?", id).Take(&e).Error
	return e, mapErr(err)
}
