package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// organization resolves the organization an authorization request is for, once the user is signed in:
// the "organization" parameter (id or name) when given, none otherwise (an internal token). picker=true when the
// client requires an organization and none was given: the user chooses one in the flow. ok=false means a
// response has been written.
func (h *Handler) organization(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, user storage.User,
	ls storage.LoginSession, promptNone bool) (access *oauth.OrgAccess, picker, ok bool) {
	ctx := r.Context()
	orgParam := ar.GetRequestForm().Get("organization")
	if err := oauth.CheckOrgUsage(ar.GetClient(), orgParam); err != nil {
		var oe *oauth.OrgError
		if errors.As(err, &oe) && oe.Code == "organization_required" {
			if promptNone {
				h.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("An organization must be chosen: pass organization or drop prompt=none."))
				return nil, false, false
			}
			return nil, true, true
		}
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint(err.Error()))
		return nil, false, false
	}
	if orgParam == "" {
		return nil, false, true
	}
	a, err := h.S.UserOrganization(ctx, user.ID, orgParam)
	if err != nil {
		h.authorizeError(w, r, ar, oauth.AccessDeniedError(err))
		return nil, false, false
	}
	err = h.S.CheckOrgPolicy(ctx, oauth.PolicyInput{Org: a.Org, Membership: a.Membership, UserID: user.ID,
		AuthTime: ls.AuthTime, AMR: ls.AMR})
	var pe *oauth.PolicyError
	if errors.As(err, &pe) {
		h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint(pe.Description))
		return nil, false, false
	} else if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return nil, false, false
	}
	return &a, false, true
}

// orgPicker lists the user's active memberships, each a link that records the choice in flow f and continues it.
// It is the flow's organization step: a GET of the flow's URL shows it again (back, refresh).
func (h *Handler) orgPicker(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, user storage.User, f storage.AuthFlow) {
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
	choices := make([]templates.Choice, 0, len(ms))
	for _, m := range ms {
		q := url.Values{"state": {f.ID}, "organization": {m.OrganizationID}}
		label := m.OrganizationDisplayName
		if label == "" {
			label = m.OrganizationName
		}
		choices = append(choices, templates.Choice{Label: label, Detail: m.OrganizationName, URL: ResumePath + "?" + q.Encode()})
	}
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.Pages.Render(w, http.StatusOK, templates.PageOrgPicker, templates.Page{
		TenantName: server.TenantFromContext(ctx).Name, Email: user.Email, Choices: choices,
		RequestID: httpx.RequestIDFromContext(ctx),
	}); err != nil {
		h.Logger.Error("rendering the organization picker failed", "request_id", httpx.RequestIDFromContext(ctx), "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}
