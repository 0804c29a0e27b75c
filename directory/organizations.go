package directory

import (
	"context"
	"errors"
	"regexp"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// orgNameRE is an organization's name: a slug, unique per tenant. No underscore, so a name never looks like an id.
var orgNameRE = regexp.MustCompile(`^[a-z0-9-]{1,50}$`)

// OrganizationSpec describes an organization to create.
type OrganizationSpec struct {
	Name          string
	DisplayName   string // defaults to Name
	Metadata      map[string]any
	Branding      map[string]any
	DefaultRoleID string // "" or a tenant-wide role that every new member gets
}

// OrganizationUpdate changes the fields that are not nil.
type OrganizationUpdate struct {
	Name, DisplayName  *string
	Metadata, Branding *map[string]any
	// DefaultRoleID: "" clears it; otherwise a tenant-wide role or one custom to this organization.
	DefaultRoleID *string
}

func checkOrgName(name string) error {
	if !orgNameRE.MatchString(name) {
		return invalid("name", "must be 1-50 lower-case letters, digits or hyphens")
	}
	return nil
}

// checkDefaultRole checks that roleID may be the default role of organization orgID.
func (s *Directory) checkDefaultRole(ctx context.Context, roleID, orgID string) error {
	if roleID == "" {
		return nil
	}
	r, err := s.Store.GetRole(ctx, roleID)
	if errors.Is(err, storage.ErrNotFound) {
		return invalid("default_role_id", "no role %q", roleID)
	} else if err != nil {
		return err
	}
	if r.OrganizationID != "" && r.OrganizationID != orgID {
		return invalid("default_role_id", "role %q is custom to another organization", roleID)
	}
	return nil
}

// CreateOrganization validates spec and stores a new organization in the tenant of ctx.
func (s *Directory) CreateOrganization(ctx context.Context, spec OrganizationSpec) (storage.Organization, error) {
	if err := checkOrgName(spec.Name); err != nil {
		return storage.Organization{}, err
	}
	display, err := checkText("display_name", spec.DisplayName, false, 255)
	if err != nil {
		return storage.Organization{}, err
	}
	if display == "" {
		display = spec.Name
	}
	now := s.Now().UTC()
	o := storage.Organization{ID: ids.New("org"), Name: spec.Name, DisplayName: display, Metadata: jsonMap(spec.Metadata),
		Branding: jsonMap(spec.Branding), DefaultRoleID: spec.DefaultRoleID, CreatedAt: now, UpdatedAt: now}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.checkDefaultRole(ctx, o.DefaultRoleID, o.ID); err != nil {
			return err
		}
		if err := s.Store.CreateOrganization(ctx, o); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return conflict("name", "an organization named %q already exists", o.Name)
			}
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventOrganizationCreated, OrganizationID: o.ID, Data: storage.JSONMap{"name": o.Name}})
	})
	if err != nil {
		return storage.Organization{}, err
	}
	o.TenantID, _ = storage.TenantFromContext(ctx)
	return o, nil
}

// jsonMap stores an absent object as an empty one, so it reads back the same.
func jsonMap(m map[string]any) storage.JSONMap {
	if m == nil {
		return storage.JSONMap{}
	}
	return storage.JSONMap(m)
}

// Organization finds an organization of the tenant by id or name.
func (s *Directory) Organization(ctx context.Context, idOrName string) (storage.Organization, error) {
	if idOrName == "" {
		return storage.Organization{}, &NotFoundError{Resource: "organization"}
	}
	o, err := s.Store.GetOrganization(ctx, idOrName)
	return o, notFound(err, "organization", idOrName)
}

// OrganizationByName finds an organization by its name only.
func (s *Directory) OrganizationByName(ctx context.Context, name string) (storage.Organization, error) {
	o, err := s.Store.GetOrganization(ctx, name)
	if err == nil && o.Name != name {
		err = storage.ErrNotFound // an id is not a name
	}
	return o, notFound(err, "organization", name)
}

// ListOrganizations returns a page of the tenant's organizations and their total count.
func (s *Directory) ListOrganizations(ctx context.Context, p storage.Page) ([]storage.Organization, int64, error) {
	return s.Store.ListOrganizations(ctx, p)
}

// ListOrganizationsFrom returns a checkpoint page of the tenant's organizations in creation order (Auth0's from
// and take): at most take (1 to MaxCheckpointTake) after the cursor from ("" for the first page), and the cursor
// of the next page, "" when none follows. A cursor no page produced is a ValidationError of field "from".
func (s *Directory) ListOrganizationsFrom(ctx context.Context, from string, take int) ([]storage.Organization, string, error) {
	c, err := checkpoint(from, take)
	if err != nil {
		return nil, "", err
	}
	os, next, err := s.Store.ListOrganizationsAfter(ctx, c)
	return os, next, checkpointError(err)
}

// UpdateOrganization changes an organization found by id or name and returns it as stored.
func (s *Directory) UpdateOrganization(ctx context.Context, idOrName string, upd OrganizationUpdate) (storage.Organization, error) {
	o, err := s.Organization(ctx, idOrName)
	if err != nil {
		return o, err
	}
	var changed []string
	if upd.Name != nil {
		if err := checkOrgName(*upd.Name); err != nil {
			return o, err
		}
		changed = append(changed, "name")
	}
	if upd.DisplayName != nil {
		d, err := checkText("display_name", *upd.DisplayName, false, 255)
		if err != nil {
			return o, err
		}
		upd.DisplayName = &d
		changed = append(changed, "display_name")
	}
	if upd.Metadata != nil {
		changed = append(changed, "metadata")
	}
	if upd.Branding != nil {
		changed = append(changed, "branding")
	}
	if upd.DefaultRoleID != nil {
		changed = append(changed, "default_role_id")
	}
	if len(changed) == 0 {
		return o, nil
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if upd.DefaultRoleID != nil {
			if err := s.checkDefaultRole(ctx, *upd.DefaultRoleID, o.ID); err != nil {
				return err
			}
		}
		err := s.Store.UpdateOrganization(ctx, o.ID, func(old storage.Organization) (storage.Organization, error) {
			if upd.Name != nil {
				old.Name = *upd.Name
			}
			if upd.DisplayName != nil {
				old.DisplayName = *upd.DisplayName
			}
			if upd.Metadata != nil {
				old.Metadata = jsonMap(*upd.Metadata)
			}
			if upd.Branding != nil {
				old.Branding = jsonMap(*upd.Branding)
			}
			if upd.DefaultRoleID != nil {
				old.DefaultRoleID = *upd.DefaultRoleID
			}
			return old, nil
		})
		if errors.Is(err, storage.ErrAlreadyExists) {
			return conflict("name", "an organization named %q already exists", *upd.Name)
		} else if err != nil {
			return notFound(err, "organization", idOrName)
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventOrganizationUpdated, OrganizationID: o.ID,
			Data: storage.JSONMap{"fields": changed}})
	})
	if err != nil {
		return o, err
	}
	return s.Organization(ctx, o.ID)
}

// DeleteOrganization removes an organization with its memberships, their roles, its custom roles and its
// client links.
func (s *Directory) DeleteOrganization(ctx context.Context, idOrName string) error {
	o, err := s.Organization(ctx, idOrName)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.DeleteOrganization(ctx, o.ID); err != nil {
			return notFound(err, "organization", idOrName)
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventOrganizationDeleted, OrganizationID: o.ID, Data: storage.JSONMap{"name": o.Name}})
	})
}

// ---- members ----

// maxBatch bounds the ids one request may name (members, roles).
const maxBatch = 100

func checkStatus(status string) error {
	switch status {
	case storage.MembershipActive, storage.MembershipInvited, storage.MembershipSuspended:
		return nil
	}
	return invalid("status", "must be active, invited or suspended")
}

func checkBatch(field string, ids []string) ([]string, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return nil, invalid(field, "at least one id is required")
	}
	if len(ids) > maxBatch {
		return nil, invalid(field, "at most %d at a time", maxBatch)
	}
	return ids, nil
}

// AddMembers makes users members of an organization with status ("" means active), each with the
// organization's default role (source "default"). Users already members are left as they are. It returns the
// memberships created.
func (s *Directory) AddMembers(ctx context.Context, orgRef string, userIDs []string, status string) ([]storage.Membership, error) {
	ids, err := checkBatch("members", userIDs)
	if err != nil {
		return nil, err
	}
	if status == "" {
		status = storage.MembershipActive
	}
	if err := checkStatus(status); err != nil {
		return nil, err
	}
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return nil, err
	}
	var added []storage.Membership
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		defaultRole := ""
		if o.DefaultRoleID != "" {
			// A default role deleted since it was set is no reason to refuse members.
			if _, err := s.Store.GetRole(ctx, o.DefaultRoleID); err == nil {
				defaultRole = o.DefaultRoleID
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		for _, uid := range ids {
			if _, err := s.Store.GetUser(ctx, uid); err != nil {
				return notFound(err, "user", uid)
			}
			if _, err := s.Store.GetMembership(ctx, o.ID, uid); err == nil {
				continue
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			now := s.Now().UTC()
			m := storage.Membership{ID: newID("mem"), OrganizationID: o.ID, UserID: uid, Status: status,
				JoinedAt: now, CreatedAt: now, UpdatedAt: now}
			if err := s.Store.CreateMembership(ctx, m); err != nil {
				if errors.Is(err, storage.ErrAlreadyExists) {
					return conflict("members", "user %q was added to the organization by another request", uid)
				}
				return err
			}
			m.TenantID = o.TenantID
			if err := s.Audit(ctx, storage.AuditEvent{Type: audit.EventMembershipCreated, UserID: uid, OrganizationID: o.ID,
				Data: storage.JSONMap{"membership_id": m.ID, "status": status}}); err != nil {
				return err
			}
			if defaultRole != "" {
				sub := roleSubject{Kind: storage.SubjectMembership, ID: m.ID, UserID: uid, OrganizationID: o.ID}
				if _, err := s.assignRoles(ctx, sub, []string{defaultRole}, storage.SourceDefault); err != nil {
					return err
				}
			}
			added = append(added, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// RemoveMembers ends the memberships of users in an organization (with their roles). Users who are not members
// are skipped.
func (s *Directory) RemoveMembers(ctx context.Context, orgRef string, userIDs []string) error {
	ids, err := checkBatch("members", userIDs)
	if err != nil {
		return err
	}
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		for _, uid := range ids {
			m, err := s.Store.GetMembership(ctx, o.ID, uid)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := s.Store.DeleteMembership(ctx, m.ID); err != nil {
				return err
			}
			if err := s.Audit(ctx, storage.AuditEvent{Type: audit.EventMembershipDeleted, UserID: uid, OrganizationID: o.ID,
				Data: storage.JSONMap{"membership_id": m.ID}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Membership returns the organization (by id or name) and the user's membership in it.
func (s *Directory) Membership(ctx context.Context, orgRef, userID string) (storage.Organization, storage.Membership, error) {
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return o, storage.Membership{}, err
	}
	m, err := s.Store.GetMembership(ctx, o.ID, userID)
	return o, m, notFound(err, "member", userID)
}

// SetMemberStatus changes a membership's status (active, invited, suspended) and returns it.
func (s *Directory) SetMemberStatus(ctx context.Context, orgRef, userID, status string) (storage.Membership, error) {
	if err := checkStatus(status); err != nil {
		return storage.Membership{}, err
	}
	o, m, err := s.Membership(ctx, orgRef, userID)
	if err != nil || m.Status == status {
		return m, err
	}
	from := m.Status
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.UpdateMembership(ctx, m.ID, func(old storage.Membership) (storage.Membership, error) {
			from = old.Status
			old.Status = status
			return old, nil
		}); err != nil {
			return notFound(err, "member", userID)
		}
		if from == status {
			return nil
		}
		return s.Audit(ctx, storage.AuditEvent{Type: audit.EventMembershipUpdated, UserID: userID, OrganizationID: o.ID,
			Data: storage.JSONMap{"membership_id": m.ID, "from": from, "to": status}})
	})
	if err != nil {
		return m, err
	}
	m, err = s.Store.GetMembershipByID(ctx, m.ID)
	return m, notFound(err, "member", userID)
}

// MemberInfo is a member with the roles of the membership.
type MemberInfo struct {
	storage.Member
	Roles []storage.AssignedRole
}

// ListMembers returns a page of an organization's members with their roles, and the total count.
func (s *Directory) ListMembers(ctx context.Context, orgRef string, p storage.Page) ([]MemberInfo, int64, error) {
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return nil, 0, err
	}
	ms, n, err := s.Store.ListMembers(ctx, o.ID, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.withRoles(ctx, ms)
	return out, n, err
}

// ListMembersFrom is ListOrganizationsFrom for the members of an organization (id or name), in joining order.
func (s *Directory) ListMembersFrom(ctx context.Context, orgRef, from string, take int) ([]MemberInfo, string, error) {
	c, err := checkpoint(from, take)
	if err != nil {
		return nil, "", err
	}
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return nil, "", err
	}
	ms, next, err := s.Store.ListMembersAfter(ctx, o.ID, c)
	if err != nil {
		return nil, "", checkpointError(err)
	}
	out, err := s.withRoles(ctx, ms)
	return out, next, err
}

// withRoles adds each membership's roles.
func (s *Directory) withRoles(ctx context.Context, ms []storage.Member) ([]MemberInfo, error) {
	out := make([]MemberInfo, 0, len(ms))
	for _, m := range ms {
		roles, err := s.Store.ListAssignedRoles(ctx, storage.SubjectMembership, m.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, MemberInfo{Member: m, Roles: roles})
	}
	return out, nil
}

// MemberRoles lists the roles of a user's membership in an organization.
func (s *Directory) MemberRoles(ctx context.Context, orgRef, userID string) ([]storage.AssignedRole, error) {
	_, m, err := s.Membership(ctx, orgRef, userID)
	if err != nil {
		return nil, err
	}
	return s.Store.ListAssignedRoles(ctx, storage.SubjectMembership, m.ID)
}

// AssignMemberRoles gives a user's membership the roles (tenant-wide, or custom to this organization) it does
// not hold yet, recording source, and returns the roles newly assigned.
func (s *Directory) AssignMemberRoles(ctx context.Context, orgRef, userID string, roleIDs []string, source string) ([]storage.Role, error) {
	o, m, err := s.Membership(ctx, orgRef, userID)
	if err != nil {
		return nil, err
	}
	return s.assign(ctx, roleSubject{Kind: storage.SubjectMembership, ID: m.ID, UserID: userID, OrganizationID: o.ID}, roleIDs, source)
}

// RemoveMemberRoles takes roles from a user's membership and returns the roles it held among them.
func (s *Directory) RemoveMemberRoles(ctx context.Context, orgRef, userID string, roleIDs []string) ([]storage.Role, error) {
	o, m, err := s.Membership(ctx, orgRef, userID)
	if err != nil {
		return nil, err
	}
	return s.unassign(ctx, roleSubject{Kind: storage.SubjectMembership, ID: m.ID, UserID: userID, OrganizationID: o.ID}, roleIDs)
}

// ---- machine clients in organizations ----

// OrganizationClients lists the machine clients allowed into an organization.
func (s *Directory) OrganizationClients(ctx context.Context, orgRef string) ([]storage.Client, error) {
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return nil, err
	}
	ids, err := s.Store.OrganizationClients(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Client, 0, len(ids))
	for _, id := range ids {
		c, err := s.Store.GetClientByID(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// AddOrganizationClient allows a machine client (one with the client_credentials grant) into an organization.
// Allowing it again changes nothing.
func (s *Directory) AddOrganizationClient(ctx context.Context, orgRef, clientID string) (storage.Organization, error) {
	if clientID == "" {
		return storage.Organization{}, invalid("client_id", "is required")
	}
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return o, err
	}
	c, err := s.Store.GetClientByID(ctx, clientID)
	if err != nil {
		return o, notFound(err, "client", clientID)
	}
	if !c.GrantTypes.Has("client_credentials") {
		return o, invalid("client_id", "client %q does not use the client_credentials grant", clientID)
	}
	return o, s.Store.InTx(ctx, func(ctx context.Context) error {
		in, err := s.Store.ClientInOrganization(ctx, c.ID, o.ID)
		if err != nil || in {
			return err
		}
		if err := s.Store.AddClientOrganization(ctx, c.ID, o.ID); err != nil {
			return notFound(err, "client", clientID)
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventOrganizationClientAdded, ClientID: c.ID, OrganizationID: o.ID})
	})
}

// RemoveOrganizationClient stops a client from getting tokens for an organization.
func (s *Directory) RemoveOrganizationClient(ctx context.Context, orgRef, clientID string) error {
	if clientID == "" {
		return invalid("client_id", "is required")
	}
	o, err := s.Organization(ctx, orgRef)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.RemoveClientOrganization(ctx, clientID, o.ID); err != nil {
			return notFound(err, "client", clientID)
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventOrganizationClientRemoved, ClientID: clientID, OrganizationID: o.ID})
	})
}
