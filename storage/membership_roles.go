package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// OrganizationMembership finds, in one query, the organization named by idOrName (id or name) in the tenant of
// ctx, userID's membership in it and the user (every grant minted for an organization needs all three, now).
// ErrNotFound when any is missing: a non-member learns nothing about whether the organization exists.
func (s *Store) OrganizationMembership(ctx context.Context, idOrName, userID string) (Organization, Membership, User, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return Organization{}, Membership{}, User{}, err
	}
	var row struct {
		Membership
		OrgName, OrgDisplayName, OrgDefaultRoleID string
		OrgMetadata, OrgBranding                  JSONMap
		OrgCreatedAt, OrgUpdatedAt                time.Time
		UserEmail, UserName, UserPasswordHash     string
		UserEmailVerified, UserBlocked            bool
		UserProfile                               UserProfile
		UserCreatedAt, UserUpdatedAt              time.Time
	}
	res := s.conn(ctx).Table("memberships m").
		Select(`m.*, o.name AS org_name, o.display_name AS org_display_name, o.default_role_id AS org_default_role_id,
			o.metadata AS org_metadata, o.branding AS org_branding, o.created_at AS org_created_at, o.updated_at AS org_updated_at,
			u.email AS user_email, u.name AS user_name, `+passwordHashOf("u")+` AS user_password_hash,
			u.email_verified AS user_email_verified, u.blocked AS user_blocked, u.created_at AS user_created_at,
			u.profile AS user_profile, u.updated_at AS user_updated_at`).
		Joins("JOIN organizations o ON o.id = m.organization_id AND o.tenant_id = m.tenant_id").
		Joins("JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id").
		Where("m.tenant_id = ? AND m.user_id = ? AND (o.id = ? OR o.name = ?)", tid, userID, idOrName, idOrName).
		// An id match wins over a name match, as in GetOrganization.
		Order(clause.OrderBy{Expression: clause.Expr{SQL: "CASE WHEN o.id = ? THEN 0 ELSE 1 END", Vars: []any{idOrName}, WithoutParentheses: true}}).
		Limit(1).Scan(&row)
	if res.Error != nil {
		return Organization{}, Membership{}, User{}, mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return Organization{}, Membership{}, User{}, ErrNotFound
	}
	o := Organization{ID: row.OrganizationID, TenantID: tid, Name: row.OrgName, DisplayName: row.OrgDisplayName,
		Metadata: row.OrgMetadata, Branding: row.OrgBranding, DefaultRoleID: row.OrgDefaultRoleID,
		CreatedAt: row.OrgCreatedAt, UpdatedAt: row.OrgUpdatedAt}
	u := User{ID: row.UserID, TenantID: tid, Email: row.UserEmail, EmailVerified: row.UserEmailVerified, Name: row.UserName,
		PasswordHash: row.UserPasswordHash, Blocked: row.UserBlocked, Profile: row.UserProfile, CreatedAt: row.UserCreatedAt, UpdatedAt: row.UserUpdatedAt}
	return o, row.Membership, u, nil
}

// MembershipWithRoles is one of a user's memberships with its organization's names and its role names.
type MembershipWithRoles struct {
	UserMembership
	Roles []string
}

// ListUserMembershipsWithRoles is ListUserMemberships with each membership's role names, in one query.
func (s *Store) ListUserMembershipsWithRoles(ctx context.Context, userID string) ([]MembershipWithRoles, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		UserMembership
		RoleName *string
	}
	err = s.conn(ctx).Table("memberships m").
		Select("m.*, o.name AS organization_name, o.display_name AS organization_display_name, r.name AS role_name").
		Joins("JOIN organizations o ON o.id = m.organization_id AND o.tenant_id = m.tenant_id").
		Joins("LEFT JOIN role_assignments a ON a.tenant_id = m.tenant_id AND a.subject_kind = ? AND a.subject_id = m.id", SubjectMembership).
		Joins("LEFT JOIN roles r ON r.id = a.role_id AND r.tenant_id = a.tenant_id").
		Where("m.tenant_id = ? AND m.user_id = ?", tid, userID).
		Order("m.joined_at, m.id, r.name").Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	var out []MembershipWithRoles
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].ID != r.ID {
			out = append(out, MembershipWithRoles{UserMembership: r.UserMembership, Roles: []string{}})
		}
		if r.RoleName != nil {
			out[len(out)-1].Roles = append(out[len(out)-1].Roles, *r.RoleName)
		}
	}
	return out, nil
}
