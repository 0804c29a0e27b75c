package storage

import "context"

// MembershipRoleNames returns the role names of each of the given memberships of the tenant in ctx, in one
// query; memberships without roles are absent from the map.
func (s *Store) MembershipRoleNames(ctx context.Context, membershipIDs []string) (map[string][]string, error) {
	tid, ok := TenantFromContext(ctx)
	if !ok {
		return nil, ErrNoTenant
	}
	out := map[string][]string{}
	if len(membershipIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		SubjectID string
		Name      string
	}
	err := s.conn(ctx).Table("role_assignments a").Select("a.subject_id AS subject_id, r.name AS name").
		Joins("JOIN roles r ON r.id = a.role_id AND r.tenant_id = a.tenant_id").
		Where("a.tenant_id = ? AND a.subject_kind = ? AND a.subject_id IN ?", tid, SubjectMembership, membershipIDs).
		Order("r.name").Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.SubjectID] = append(out[r.SubjectID], r.Name)
	}
	return out, nil
}
