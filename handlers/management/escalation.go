package management

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// No caller hands out Management API power it does not hold itself. A client's Management API scopes (with the
// API among its audiences), a role's Management API permissions, and the roles of a user, member or client all
// become what some token may do on this API; a route that sets any of them checks that the caller holds every
// Management API scope it would newly give, so create:clients, update:clients, update:roles or update:users is
// never worth more than the caller already has. A secret API key holds every scope.

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// callerOf returns the authenticated caller endpoint stored in ctx; a request that did not pass endpoint holds
// nothing.
func callerOf(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// managementScope reports whether s is a scope of the Management API.
func managementScope(s string) bool {
	return slices.ContainsFunc(directory.ManagementScopes, func(sc storage.Scope) bool { return sc.Value == s })
}

// mayGrant answers 403 insufficient_scope naming the first Management API scope of grants the caller does not hold.
func mayGrant(ctx context.Context, grants []string) error {
	p := callerOf(ctx)
	if p.all {
		return nil
	}
	for _, s := range grants {
		if managementScope(s) && !p.scopes[s] {
			e := errorf(http.StatusForbidden, "insufficient_scope",
				"Insufficient scope; the caller cannot grant %s, which it does not hold itself.", s)
			e.scope = s
			return e
		}
	}
	return nil
}

// hasManagementAudience reports whether any of auds names this tenant's Management API.
func (h *Handler) hasManagementAudience(ctx context.Context, auds []string) (bool, error) {
	for _, a := range auds {
		ok, err := h.S.IsManagementAudience(ctx, a)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// clientGrants returns the Management API scopes a client with these audiences and scopes may obtain through its
// own scopes (none when the API is not among its audiences).
func (h *Handler) clientGrants(ctx context.Context, auds, scopes []string) ([]string, error) {
	mgmt, err := h.hasManagementAudience(ctx, auds)
	if err != nil || !mgmt {
		return nil, err
	}
	var out []string
	for _, s := range scopes {
		if managementScope(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// permissionGrants returns the Management API scopes among perms.
func (h *Handler) permissionGrants(ctx context.Context, perms []storage.Permission) ([]string, error) {
	var out []string
	for _, pm := range perms {
		mgmt, err := h.S.IsManagementAudience(ctx, pm.ResourceServer)
		if err != nil {
			return nil, err
		}
		if mgmt {
			out = append(out, pm.Name)
		}
	}
	return out, nil
}

// roleGrants returns the Management API permissions of the roles named by refs; a role that does not exist adds
// nothing (the assignment itself answers that).
func (h *Handler) roleGrants(ctx context.Context, refs []string) ([]string, error) {
	var out []string
	for _, ref := range refs {
		role, err := h.S.Role(ctx, ref)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		perms, err := h.S.RolePermissions(ctx, role.ID)
		if err != nil {
			return nil, err
		}
		g, err := h.permissionGrants(ctx, perms)
		if err != nil {
			return nil, err
		}
		out = append(out, g...)
	}
	return out, nil
}

// clientPower returns every Management API scope a client's token may carry: when the API is among its audiences,
// its own scopes and its tenant-level roles' permissions.
func (h *Handler) clientPower(ctx context.Context, c storage.Client) ([]string, error) {
	own, err := h.clientGrants(ctx, c.Audiences, c.Scopes)
	if err != nil {
		return nil, err
	}
	if mgmt, err := h.hasManagementAudience(ctx, c.Audiences); err != nil || !mgmt {
		return nil, err
	}
	roles, err := h.S.ClientRoles(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	viaRoles, err := h.roleGrants(ctx, ids)
	return append(own, viaRoles...), err
}

// without returns the members of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
