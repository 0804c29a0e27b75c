package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// RoleSpec describes a role to create.
type RoleSpec struct {
	Name           string
	Description    string
	OrganizationID string // id or name of the organization the role is custom to; "" for a tenant-wide role
	Permissions    []storage.Permission
}

// RoleUpdate changes the fields that are not nil. A role's organization never changes.
type RoleUpdate struct {
	Name, Description *string
}

func checkRoleName(name string) (string, error) {
	name, err := checkText("name", name, true, 100)
	if err == nil && strings.HasPrefix(name, "rol_") {
		return "", invalid("name", "must not start with rol_, which marks role ids")
	}
	return name, err
}

var knownSources = map[string]bool{storage.SourceManual: true, storage.SourceDefault: true, storage.SourceSCIM: true,
	storage.SourceSSO: true, storage.SourceCustomerAPI: true}

func checkSource(source string) error {
	if !knownSources[source] {
		return invalid("source", "unknown role source %q", source)
	}
	return nil
}

// CreateRole validates spec and stores a role with its permissions.
func (s *Directory) CreateRole(ctx context.Context, spec RoleSpec) (storage.Role, error) {
	name, err := checkRoleName(spec.Name)
	if err != nil {
		return storage.Role{}, err
	}
	desc, err := checkText("description", spec.Description, false, 500)
	if err != nil {
		return storage.Role{}, err
	}
	now := s.Now().UTC()
	r := storage.Role{ID: ids.New("rol"), Name: name, Description: desc, CreatedAt: now, UpdatedAt: now}
	if spec.OrganizationID != "" {
		o, err := s.Organization(ctx, spec.OrganizationID)
		if errors.Is(err, storage.ErrNotFound) {
			return r, invalid("organization_id", "no organization %q", spec.OrganizationID)
		} else if err != nil {
			return r, err
		}
		r.OrganizationID = o.ID
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		perms, err := s.checkPermissions(ctx, spec.Permissions, true)
		if err != nil {
			return err
		}
		if err := s.Store.CreateRole(ctx, r); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return conflict("name", "a role named %q already exists %s", name, roleScope(r))
			}
			return err
		}
		if len(perms) > 0 {
			return s.Store.AddRolePermissions(ctx, r.ID, perms)
		}
		return nil
	})
	if err != nil {
		return storage.Role{}, err
	}
	r.TenantID, _ = storage.TenantFromContext(ctx)
	return r, nil
}

func roleScope(r storage.Role) string {
	if r.OrganizationID == "" {
		return "in the tenant"
	}
	return "in organization " + r.OrganizationID
}

// Role finds a role of the tenant by id.
func (s *Directory) Role(ctx context.Context, id string) (storage.Role, error) {
	r, err := s.Store.GetRole(ctx, id)
	return r, notFound(err, "role", id)
}

// ResolveRole finds a role by id ("rol_…") or by name: a tenant-wide role first, then one custom to orgID.
func (s *Directory) ResolveRole(ctx context.Context, ref, orgID string) (storage.Role, error) {
	if strings.HasPrefix(ref, "rol_") {
		return s.Role(ctx, ref)
	}
	roles, _, err := s.Store.ListRoles(ctx, storage.Page{})
	if err != nil {
		return storage.Role{}, err
	}
	var custom *storage.Role
	for i, r := range roles {
		if r.Name != ref {
			continue
		}
		if r.OrganizationID == "" {
			return r, nil
		}
		if orgID != "" && r.OrganizationID == orgID {
			custom = &roles[i]
		}
	}
	if custom != nil {
		return *custom, nil
	}
	return storage.Role{}, &NotFoundError{Resource: "role", ID: ref}
}

// ListRoles returns a page of the tenant's roles and their total count.
func (s *Directory) ListRoles(ctx context.Context, p storage.Page) ([]storage.Role, int64, error) {
	return s.Store.ListRoles(ctx, p)
}

// UpdateRole renames or redescribes a role and returns it as stored.
func (s *Directory) UpdateRole(ctx context.Context, id string, upd RoleUpdate) (storage.Role, error) {
	if upd.Name != nil {
		n, err := checkRoleName(*upd.Name)
		if err != nil {
			return storage.Role{}, err
		}
		upd.Name = &n
	}
	if upd.Description != nil {
		d, err := checkText("description", *upd.Description, false, 500)
		if err != nil {
			return storage.Role{}, err
		}
		upd.Description = &d
	}
	var scope storage.Role
	err := s.Store.UpdateRole(ctx, id, func(old storage.Role) (storage.Role, error) {
		scope = old
		if upd.Name != nil {
			old.Name = *upd.Name
		}
		if upd.Description != nil {
			old.Description = *upd.Description
		}
		return old, nil
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return storage.Role{}, conflict("name", "a role named %q already exists %s", *upd.Name, roleScope(scope))
	} else if err != nil {
		return storage.Role{}, notFound(err, "role", id)
	}
	return s.Role(ctx, id)
}

// DeleteRole removes a role with its permissions and assignments; organizations that had it as their default
// role no longer have one.
func (s *Directory) DeleteRole(ctx context.Context, id string) error {
	if err := s.Store.DeleteRole(ctx, id); err != nil {
		return notFound(err, "role", id)
	}
	return nil
}

// checkPermissions checks that each permission names a resource server of the tenant (by identifier or id) and
// a scope it defines, and returns them keyed by the resource server's identifier, without repeats. With
// mustExist false (removal), permissions on resource servers or scopes that are gone pass as given.
func (s *Directory) checkPermissions(ctx context.Context, ps []storage.Permission, mustExist bool) ([]storage.Permission, error) {
	if len(ps) > maxBatch {
		return nil, invalid("permissions", "at most %d at a time", maxBatch)
	}
	out := make([]storage.Permission, 0, len(ps))
	seen := map[storage.Permission]bool{}
	for _, p := range ps {
		if p.ResourceServer == "" || p.Name == "" {
			return nil, invalid("permissions", "each needs resource_server_identifier and permission_name")
		}
		rs, found, err := s.resourceServer(ctx, p.ResourceServer)
		if err != nil {
			return nil, err
		}
		switch {
		case found && rs.Scopes.Has(p.Name):
			p.ResourceServer = rs.Identifier
		case !mustExist:
			if found {
				p.ResourceServer = rs.Identifier
			}
		case !found:
			return nil, invalid("permissions", "no resource server %q", p.ResourceServer)
		default:
			return nil, invalid("permissions", "%q is not a scope of resource server %q", p.Name, rs.Identifier)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// ResolvePermission reads "AUDIENCE:SCOPE", where both parts may hold colons (urn:authio:management,
// read:organizations): it splits at the last colon whose left side is a resource server of the tenant defining
// the right side as a scope.
func (s *Directory) ResolvePermission(ctx context.Context, v string) (storage.Permission, error) {
	var audience string // the longest audience that names a resource server, for the error
	for i := strings.LastIndex(v, ":"); i > 0; i = strings.LastIndex(v[:i], ":") {
		p := storage.Permission{ResourceServer: v[:i], Name: v[i+1:]}
		if p.Name == "" {
			continue
		}
		rs, found, err := s.resourceServer(ctx, p.ResourceServer)
		if err != nil {
			return p, err
		}
		if found && rs.Scopes.Has(p.Name) {
			p.ResourceServer = rs.Identifier
			return p, nil
		}
		if found && audience == "" {
			audience = rs.Identifier
		}
	}
	if audience != "" {
		return storage.Permission{}, invalid("permissions", "%q: resource server %q defines no such scope", v, audience)
	}
	return storage.Permission{}, invalid("permissions", "%q names no resource server of the tenant (AUDIENCE:SCOPE)", v)
}

// RolePermissions lists a role's permissions.
func (s *Directory) RolePermissions(ctx context.Context, roleID string) ([]storage.Permission, error) {
	if _, err := s.Role(ctx, roleID); err != nil {
		return nil, err
	}
	return s.Store.ListRolePermissions(ctx, roleID)
}

// AddRolePermissions adds scopes of the tenant's resource servers to a role.
func (s *Directory) AddRolePermissions(ctx context.Context, roleID string, ps []storage.Permission) error {
	if len(ps) == 0 {
		return invalid("permissions", "at least one is required")
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Role(ctx, roleID); err != nil {
			return err
		}
		perms, err := s.checkPermissions(ctx, ps, true)
		if err != nil {
			return err
		}
		return notFound(s.Store.AddRolePermissions(ctx, roleID, perms), "role", roleID)
	})
	return err
}

// RemoveRolePermissions takes permissions from a role; ones it does not hold are ignored.
func (s *Directory) RemoveRolePermissions(ctx context.Context, roleID string, ps []storage.Permission) error {
	if len(ps) == 0 {
		return invalid("permissions", "at least one is required")
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Role(ctx, roleID); err != nil {
			return err
		}
		perms, err := s.checkPermissions(ctx, ps, false)
		if err != nil {
			return err
		}
		return notFound(s.Store.RemoveRolePermissions(ctx, roleID, perms), "role", roleID)
	})
	return err
}

// ---- assignments ----

// roleSubject is who holds roles: a membership (organization tokens), a user or a client (internal tokens).
type roleSubject struct {
	Kind                             string // storage.SubjectMembership, SubjectUser or SubjectClient
	ID                               string // membership, user or client id
	UserID, OrganizationID, ClientID string // recorded on the audit events
}

// rolesFor loads roles by id and checks sub may hold them: roles custom to an organization go only to
// memberships of that organization.
func (s *Directory) rolesFor(ctx context.Context, sub roleSubject, ids []string) ([]storage.Role, error) {
	roles := make([]storage.Role, 0, len(ids))
	for _, id := range ids {
		r, err := s.Role(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.OrganizationID != "" {
			if sub.Kind != storage.SubjectMembership {
				return nil, invalid("roles", "role %q is custom to an organization; only tenant-wide roles go to %ss", id, sub.Kind)
			}
			if r.OrganizationID != sub.OrganizationID {
				return nil, invalid("roles", "role %q is custom to another organization", id)
			}
		}
		roles = append(roles, r)
	}
	return roles, nil
}

func (s *Directory) roleEvent(typ string, sub roleSubject, r storage.Role, source string) storage.AuditEvent {
	data := storage.JSONMap{"role_id": r.ID, "role_name": r.Name, "subject": sub.Kind}
	if source != "" {
		data["source"] = source
	}
	return storage.AuditEvent{Type: typ, UserID: sub.UserID, OrganizationID: sub.OrganizationID, ClientID: sub.ClientID, Data: data}
}

// assignRoles gives sub the roles it lacks and audits each; callers run it in a transaction.
func (s *Directory) assignRoles(ctx context.Context, sub roleSubject, ids []string, source string) ([]storage.Role, error) {
	roles, err := s.rolesFor(ctx, sub, ids)
	if err != nil {
		return nil, err
	}
	addedIDs, err := s.Store.AssignRoles(ctx, sub.Kind, sub.ID, ids, source)
	if err != nil {
		return nil, err
	}
	added := pick(roles, addedIDs)
	for _, r := range added {
		if err := s.Audit(ctx, s.roleEvent(audit.EventRoleAssigned, sub, r, source)); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// removeRoles takes roles from sub and audits each one it held; callers run it in a transaction.
func (s *Directory) removeRoles(ctx context.Context, sub roleSubject, ids []string) ([]storage.Role, error) {
	roles := make([]storage.Role, 0, len(ids))
	for _, id := range ids {
		r, err := s.Role(ctx, id)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	held, err := s.Store.ListAssignedRoles(ctx, sub.Kind, sub.ID)
	if err != nil {
		return nil, err
	}
	source := map[string]string{}
	for _, h := range held {
		source[h.ID] = h.Source
	}
	removedIDs, err := s.Store.UnassignRoles(ctx, sub.Kind, sub.ID, ids)
	if err != nil {
		return nil, err
	}
	removed := pick(roles, removedIDs)
	for _, r := range removed {
		if err := s.Audit(ctx, s.roleEvent(audit.EventRoleRemoved, sub, r, source[r.ID])); err != nil {
			return nil, err
		}
	}
	return removed, nil
}

// pick returns the roles whose ids are in ids, in the order of roles.
func pick(roles []storage.Role, ids []string) []storage.Role {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := []storage.Role{}
	for _, r := range roles {
		if want[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

func (s *Directory) userSubject(ctx context.Context, userID string) (roleSubject, error) {
	_, err := s.User(ctx, userID)
	return roleSubject{Kind: storage.SubjectUser, ID: userID, UserID: userID}, err
}

func (s *Directory) clientSubject(ctx context.Context, clientID string) (roleSubject, error) {
	_, err := s.Client(ctx, clientID)
	return roleSubject{Kind: storage.SubjectClient, ID: clientID, ClientID: clientID}, err
}

// assign checks the role ids and source, then gives sub the roles in a transaction.
func (s *Directory) assign(ctx context.Context, sub roleSubject, roleIDs []string, source string) ([]storage.Role, error) {
	ids, err := checkBatch("roles", roleIDs)
	if err != nil {
		return nil, err
	}
	if err := checkSource(source); err != nil {
		return nil, err
	}
	var added []storage.Role
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		added, err = s.assignRoles(ctx, sub, ids, source)
		return err
	})
	return added, err
}

// unassign checks the role ids, then takes the roles from sub in a transaction.
func (s *Directory) unassign(ctx context.Context, sub roleSubject, roleIDs []string) ([]storage.Role, error) {
	ids, err := checkBatch("roles", roleIDs)
	if err != nil {
		return nil, err
	}
	var removed []storage.Role
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		removed, err = s.removeRoles(ctx, sub, ids)
		return err
	})
	return removed, err
}

// UserRoles lists a user's tenant-level roles (those of internal tokens).
func (s *Directory) UserRoles(ctx context.Context, userID string) ([]storage.AssignedRole, error) {
	sub, err := s.userSubject(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.Store.ListAssignedRoles(ctx, sub.Kind, sub.ID)
}

// AssignUserRoles gives a user tenant-wide roles it lacks and returns the roles newly assigned.
func (s *Directory) AssignUserRoles(ctx context.Context, userID string, roleIDs []string, source string) ([]storage.Role, error) {
	sub, err := s.userSubject(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.assign(ctx, sub, roleIDs, source)
}

// RemoveUserRoles takes tenant-level roles from a user and returns the roles it held among them.
func (s *Directory) RemoveUserRoles(ctx context.Context, userID string, roleIDs []string) ([]storage.Role, error) {
	sub, err := s.userSubject(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.unassign(ctx, sub, roleIDs)
}

// ClientRoles lists a machine client's tenant-level roles.
func (s *Directory) ClientRoles(ctx context.Context, clientID string) ([]storage.AssignedRole, error) {
	sub, err := s.clientSubject(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return s.Store.ListAssignedRoles(ctx, sub.Kind, sub.ID)
}

// AssignClientRoles gives a client tenant-wide roles it lacks and returns the roles newly assigned.
func (s *Directory) AssignClientRoles(ctx context.Context, clientID string, roleIDs []string, source string) ([]storage.Role, error) {
	sub, err := s.clientSubject(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return s.assign(ctx, sub, roleIDs, source)
}

// RemoveClientRoles takes tenant-level roles from a client and returns the roles it held among them.
func (s *Directory) RemoveClientRoles(ctx context.Context, clientID string, roleIDs []string) ([]storage.Role, error) {
	sub, err := s.clientSubject(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return s.unassign(ctx, sub, roleIDs)
}
