package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// organization resolves the organization an authorization request is for, once the user is signed in:
// the "organization" parameter (id or name) when given, the picker when the client requires one and none was
// given, none otherwise (an internal token). ok=false means a response has been written.
func (h *Handler) organization(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, user storage.User,
	ls storage.LoginSession, requestedAt time.Time, fresh, promptNone bool) (access *server.OrgAccess, ok bool) {
	ctx := r.Context()
	orgParam := ar.GetRequestForm().Get("organization")
	if err := server.CheckOrgUsage(ar.GetClient(), orgParam); err != nil {
		var oe *server.OrgError
		if errors.As(err, &oe) && oe.Code == "organization_required" {
			if promptNone {
				h.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("An organization must be chosen: pass organization or drop prompt=none."))
				return nil, false
			}
			h.orgPicker(w, r, ar, user, requestedAt, fresh)
			return nil, false
		}
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint(err.Error()))
		return nil, false
	}
	if orgParam == "" {
		return nil, true
	}
	a, err := h.S.UserOrganization(ctx, user.ID, orgParam)
	if err != nil {
		h.authorizeError(w, r, ar, server.AccessDeniedError(err))
		return nil, false
	}
	err = h.S.CheckOrgPolicy(ctx, server.PolicyInput{Org: a.Org, Membership: a.Membership, UserID: user.ID,
		AuthTime: ls.AuthTime, AMR: ls.AMR})
	var pe *server.PolicyError
	if errors.As(err, &pe) {
		h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint(pe.Description))
		return nil, false
	} else if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return nil, false
	}
	return &a, true
}

// orgPicker lists the user's active memberships, each a link back to this authorization request with the
// organization chosen. A request that came back from the sign-in page keeps its proof of a fresh sign-in: each
// link carries a login ticket bound to its own parameters.
func (h *Handler) orgPicker(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, user storage.User,
	requestedAt time.Time, fresh bool) {
	ctx := r.Context()
	ms, err := h.S.ActiveMemberships(ctx, user.ID)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	if len(ms) == 0 {
		h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("You are not an active member of any organization."))
		return
	}
	base := r.URL.Query()
	if r.Method == http.MethodPost {
		base = ar.GetRequestForm()
	}
	choices := make([]templates.Choice, 0, len(ms))
	for _, m := range ms {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Del(TicketParam)
		q.Set("organization", m.OrganizationID)
		if fresh {
			q.Set(TicketParam, h.S.LoginTicket(ctx, requestedAt, bindingOf(q)))
		}
		label := m.OrganizationDisplayName
		if label == "" {
			label = m.OrganizationName
		}
		choices = append(choices, templates.Choice{Label: label, Detail: m.OrganizationName, URL: "/authorize?" + q.Encode()})
	}
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "same-origin")
	if err := h.Pages.Render(w, http.StatusOK, templates.PageOrgPicker, templates.Page{
		TenantName: server.TenantFromContext(ctx).Name, Email: user.Email, Choices: choices,
		RequestID: server.RequestIDFromContext(ctx),
	}); err != nil {
		h.Logger.Error("rendering the organization picker failed", "request_id", server.RequestIDFromContext(ctx), "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}
