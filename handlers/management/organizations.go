package management

import (
	"net/http"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

type organizationView struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	DisplayName   string         `json:"display_name"`
	Branding      map[string]any `json:"branding"`
	Metadata      map[string]any `json:"metadata"`
	DefaultRoleID *string        `json:"default_role_id"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

func viewOrganization(o storage.Organization) organizationView {
	return organizationView{ID: o.ID, Name: o.Name, DisplayName: o.DisplayName, Branding: orEmpty(o.Branding),
		Metadata: orEmpty(o.Metadata), DefaultRoleID: optional(o.DefaultRoleID), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

type organizationBody struct {
	Name          *string         `json:"name"`
	DisplayName   *string         `json:"display_name"`
	Metadata      *map[string]any `json:"metadata"`
	Branding      *map[string]any `json:"branding"`
	DefaultRoleID *string         `json:"default_role_id"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// listOrganizations serves GET /organizations: an offset page (page, per_page, include_totals), or with from or
// take a checkpoint page, {"organizations": [...], "next": cursor} without next on the last page.
func (h *Handler) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if c, err := parseCheckpoint(q); err != nil {
		return err
	} else if c.on {
		orgs, next, err := h.S.ListOrganizationsFrom(r.Context(), c.from, c.take)
		if err != nil {
			return asQueryError(err)
		}
		writeCheckpoint(w, "organizations", mapSlice(orgs, viewOrganization), next)
		return nil
	}
	p, err := parsePaging(q)
	if err != nil {
		return err
	}
	orgs, n, err := h.S.ListOrganizations(r.Context(), p.store())
	if err != nil {
		return err
	}
	writeList(w, p, "organizations", mapSlice(orgs, viewOrganization), n)
	return nil
}

func (h *Handler) createOrganization(w http.ResponseWriter, r *http.Request) error {
	var b organizationBody
	if err := decode(r, &b); err != nil {
		return err
	}
	o, err := h.S.CreateOrganization(r.Context(), directory.OrganizationSpec{Name: deref(b.Name), DisplayName: deref(b.DisplayName),
		Metadata: deref(b.Metadata), Branding: deref(b.Branding), DefaultRoleID: deref(b.DefaultRoleID)})
	if err != nil {
		return err
	}
	return created(w, viewOrganization(o))
}

func (h *Handler) getOrganization(w http.ResponseWriter, r *http.Request) error {
	o, err := h.S.Organization(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewOrganization(o))
}

func (h *Handler) getOrganizationByName(w http.ResponseWriter, r *http.Request) error {
	o, err := h.S.OrganizationByName(r.Context(), pathVar(r, "name"))
	if err != nil {
		return err
	}
	return ok(w, viewOrganization(o))
}

func (h *Handler) updateOrganization(w http.ResponseWriter, r *http.Request) error {
	var b organizationBody
	if err := decode(r, &b); err != nil {
		return err
	}
	o, err := h.S.UpdateOrganization(r.Context(), pathVar(r, "id"), directory.OrganizationUpdate{Name: b.Name,
		DisplayName: b.DisplayName, Metadata: b.Metadata, Branding: b.Branding, DefaultRoleID: b.DefaultRoleID})
	if err != nil {
		return err
	}
	return ok(w, viewOrganization(o))
}

func (h *Handler) deleteOrganization(w http.ResponseWriter, r *http.Request) error {
	if err := h.S.DeleteOrganization(r.Context(), pathVar(r, "id")); err != nil {
		return err
	}
	return noContent(w)
}

// ---- members ----

type roleRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Source string `json:"source"`
}

func viewRoleRef(r storage.AssignedRole) roleRef {
	return roleRef{ID: r.ID, Name: r.Name, Source: r.Source}
}

type memberView struct {
	UserID       string    `json:"user_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	MembershipID string    `json:"membership_id"`
	JoinedAt     time.Time `json:"joined_at"`
	Roles        []roleRef `json:"roles"`
}

type membersBody struct {
	Members []string `json:"members"`
	Status  string   `json:"status,omitempty"`
}

func viewMember(m directory.MemberInfo) memberView {
	return memberView{UserID: m.UserID, Email: m.Email, Name: m.Name, Status: m.Status, MembershipID: m.ID,
		JoinedAt: m.JoinedAt, Roles: mapSlice(m.Roles, viewRoleRef)}
}

// listMembers serves GET /organizations/{id}/members: an offset page, or with from or take a checkpoint page,
// {"members": [...], "next": cursor} without next on the last page.
func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if c, err := parseCheckpoint(q); err != nil {
		return err
	} else if c.on {
		ms, next, err := h.S.ListMembersFrom(r.Context(), pathVar(r, "id"), c.from, c.take)
		if err != nil {
			return asQueryError(err)
		}
		writeCheckpoint(w, "members", mapSlice(ms, viewMember), next)
		return nil
	}
	p, err := parsePaging(q)
	if err != nil {
		return err
	}
	ms, n, err := h.S.ListMembers(r.Context(), pathVar(r, "id"), p.store())
	if err != nil {
		return err
	}
	writeList(w, p, "members", mapSlice(ms, viewMember), n)
	return nil
}

func (h *Handler) addMembers(w http.ResponseWriter, r *http.Request) error {
	var b membersBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if _, err := h.S.AddMembers(r.Context(), pathVar(r, "id"), b.Members, b.Status); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) removeMembers(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Members []string `json:"members"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := h.S.RemoveMembers(r.Context(), pathVar(r, "id"), b.Members); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) updateMember(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Status string `json:"status"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	m, err := h.S.SetMemberStatus(r.Context(), pathVar(r, "id"), pathVar(r, "user_id"), b.Status)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"membership_id": m.ID, "organization_id": m.OrganizationID, "user_id": m.UserID,
		"status": m.Status, "joined_at": m.JoinedAt})
}

type rolesBody struct {
	Roles []string `json:"roles"`
}

func (h *Handler) listMemberRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	roles, err := h.S.MemberRoles(r.Context(), pathVar(r, "id"), pathVar(r, "user_id"))
	if err != nil {
		return err
	}
	writeList(w, p, "roles", mapSlice(directory.Paginate(roles, p.store()), viewAssignedRole), int64(len(roles)))
	return nil
}

func (h *Handler) assignMemberRoles(w http.ResponseWriter, r *http.Request) error {
	var b rolesBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := h.mayAssignRoles(r.Context(), b.Roles); err != nil {
		return err
	}
	if _, err := h.S.AssignMemberRoles(r.Context(), pathVar(r, "id"), pathVar(r, "user_id"), b.Roles, storage.SourceManual); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) removeMemberRoles(w http.ResponseWriter, r *http.Request) error {
	var b rolesBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if _, err := h.S.RemoveMemberRoles(r.Context(), pathVar(r, "id"), pathVar(r, "user_id"), b.Roles); err != nil {
		return err
	}
	return noContent(w)
}

// ---- machine clients ----

type clientRefBody struct {
	ClientID string `json:"client_id"`
}

func (h *Handler) listOrganizationClients(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	cs, err := h.S.OrganizationClients(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	writeList(w, p, "clients", mapSlice(directory.Paginate(cs, p.store()), viewClient), int64(len(cs)))
	return nil
}

func (h *Handler) addOrganizationClient(w http.ResponseWriter, r *http.Request) error {
	var b clientRefBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if _, err := h.S.AddOrganizationClient(r.Context(), pathVar(r, "id"), b.ClientID); err != nil {
		return err
	}
	return noContent(w)
}

func (h *Handler) removeOrganizationClient(w http.ResponseWriter, r *http.Request) error {
	var b clientRefBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := h.S.RemoveOrganizationClient(r.Context(), pathVar(r, "id"), b.ClientID); err != nil {
		return err
	}
	return noContent(w)
}
