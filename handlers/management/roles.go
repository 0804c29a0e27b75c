package management

import (
	"context"
	"net/http"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

type roleView struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Description    string     `json:"description"`
	OrganizationID *string    `json:"organization_id"` // null for a tenant-wide role
	Source         string     `json:"source,omitempty"`
	AssignedAt     *time.Time `json:"assigned_at,omitempty"`
}

func viewRole(r storage.Role) roleView {
	return roleView{ID: r.ID, Name: r.Name, Description: r.Description, OrganizationID: optional(r.OrganizationID)}
}

func viewAssignedRole(r storage.AssignedRole) roleView {
	v := viewRole(r.Role)
	at := r.AssignedAt
	v.Source, v.AssignedAt = r.Source, &at
	return v
}

type roleBody struct {
	Name           *string `json:"name"`
	Description    *string `json:"description"`
	OrganizationID string  `json:"organization_id,omitempty"`
}

func (h *Handler) listRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	roles, n, err := h.S.ListRoles(r.Context(), p.store())
	if err != nil {
		return err
	}
	writeList(w, p, "roles", mapSlice(roles, viewRole), n)
	return nil
}

func (h *Handler) createRole(w http.ResponseWriter, r *http.Request) error {
	var b roleBody
	if err := decode(r, &b); err != nil {
		return err
	}
	role, err := h.S.CreateRole(r.Context(), directory.RoleSpec{Name: deref(b.Name), Description: deref(b.Description),
		OrganizationID: b.OrganizationID})
	if err != nil {
		return err
	}
	return created(w, viewRole(role))
}

func (h *Handler) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := h.S.Role(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewRole(role))
}

func (h *Handler) updateRole(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	role, err := h.S.UpdateRole(r.Context(), pathVar(r, "id"), directory.RoleUpdate{Name: b.Name, Description: b.Description})
	if err != nil {
		return err
	}
	return ok(w, viewRole(role))
}

func (h *Handler) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteRole(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}

// ---- permissions ----

type permissionView struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
	ResourceServerName       string `json:"resource_server_name,omitempty"`
	Description              string `json:"description,omitempty"`
}

type permissionsBody struct {
	Permissions []storage.Permission `json:"permissions"`
}

func (h *Handler) listRolePermissions(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	perms, err := h.S.RolePermissions(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	page := directory.Paginate(perms, p.store())
	servers := map[string]storage.ResourceServer{}
	views := make([]permissionView, 0, len(page))
	for _, perm := range page {
		rs, seen := servers[perm.ResourceServer]
		if !seen {
			if rs, _, err = h.S.ResourceServer(r.Context(), perm.ResourceServer); err != nil {
				return err
			}
			servers[perm.ResourceServer] = rs
		}
		v := permissionView{ResourceServerIdentifier: perm.ResourceServer, PermissionName: perm.Name, ResourceServerName: rs.Name}
		for _, sc := range rs.Scopes {
			if sc.Value == perm.Name {
				v.Description = sc.Description
			}
		}
		views = append(views, v)
	}
	writeList(w, p, "permissions", views, int64(len(perms)))
	return nil
}

func (h *Handler) addRolePermissions(w http.ResponseWriter, r *http.Request) error {
	var b permissionsBody
	if err := decode(r, &b); err != nil {
		return err
	}
	grants, err := h.permissionGrants(r.Context(), b.Permissions)
	if err != nil {
		return err
	}
	if err := mayGrant(r.Context(), grants); err != nil {
		return err
	}
	if err := h.S.AddRolePermissions(r.Context(), pathVar(r, "id"), b.Permissions); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) removeRolePermissions(w http.ResponseWriter, r *http.Request) error {
	var b permissionsBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := h.S.RemoveRolePermissions(r.Context(), pathVar(r, "id"), b.Permissions); err != nil {
		return err
	}
	return noContent(w)
}

// ---- tenant-level roles of users and clients ----

func (h *Handler) listSubjectRoles(w http.ResponseWriter, r *http.Request, list func() ([]storage.AssignedRole, error)) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	roles, err := list()
	if err != nil {
		return err
	}
	writeList(w, p, "roles", mapSlice(directory.Paginate(roles, p.store()), viewAssignedRole), int64(len(roles)))
	return nil
}

func (h *Handler) changeSubjectRoles(w http.ResponseWriter, r *http.Request, change func(ids []string) ([]storage.Role, error)) error {
	var b rolesBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if _, err := change(b.Roles); err != nil {
		return err
	}
	return noContent(w)
}

// mayAssignRoles refuses roles holding Management API permissions the caller lacks (Auth0's update:users still
// assigns roles; it just cannot hand out more of this API than the caller has).
func (h *Handler) mayAssignRoles(ctx context.Context, refs []string) error {
	grants, err := h.roleGrants(ctx, refs)
	if err != nil {
		return err
	}
	return mayGrant(ctx, grants)
}

func (h *Handler) listUserRoles(w http.ResponseWriter, r *http.Request) error {
	return h.listSubjectRoles(w, r, func() ([]storage.AssignedRole, error) { return h.S.UserRoles(r.Context(), pathVar(r, "id")) })
}

func (h *Handler) assignUserRoles(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectRoles(w, r, func(ids []string) ([]storage.Role, error) {
		if err := h.mayAssignRoles(r.Context(), ids); err != nil {
			return nil, err
		}
		return h.S.AssignUserRoles(r.Context(), pathVar(r, "id"), ids, storage.SourceManual)
	})
}

func (h *Handler) removeUserRoles(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectRoles(w, r, func(ids []string) ([]storage.Role, error) {
		return h.S.RemoveUserRoles(r.Context(), pathVar(r, "id"), ids)
	})
}

func (h *Handler) listClientRoles(w http.ResponseWriter, r *http.Request) error {
	return h.listSubjectRoles(w, r, func() ([]storage.AssignedRole, error) { return h.S.ClientRoles(r.Context(), pathVar(r, "id")) })
}

func (h *Handler) assignClientRoles(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectRoles(w, r, func(ids []string) ([]storage.Role, error) {
		if err := h.mayAssignRoles(r.Context(), ids); err != nil {
			return nil, err
		}
		return h.S.AssignClientRoles(r.Context(), pathVar(r, "id"), ids, storage.SourceManual)
	})
}

func (h *Handler) removeClientRoles(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectRoles(w, r, func(ids []string) ([]storage.Role, error) {
		return h.S.RemoveClientRoles(r.Context(), pathVar(r, "id"), ids)
	})
}
