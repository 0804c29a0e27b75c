package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// ResumePath continues a sign-in flow: GET ResumePath?state=<flow id> runs the flow's next step (the sign-in
// page, the organization picker, or the authorization response). The organization picker's links add
// organization=<org id>.
const ResumePath = "/authorize/resume"

// MaxFlowParams bounds, in bytes (URL-encoded), the authorization request a sign-in flow keeps: anyone can
// start a flow without signing in, so what one request may leave in the database for 15 minutes is small.
// Standard requests are well under 2 KB; a bigger one is refused with invalid_request before anything is stored.
const MaxFlowParams = 8 << 10

// startFlow stores a validated authorization request that needs the user as a sign-in flow bound to this
// browser, and sends the browser to its first step: the sign-in page, or (ls set: the browser's session is good
// enough for this request) the flow's next step.
func (h *Handler) startFlow(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, ls *storage.LoginSession) {
	ctx := r.Context()
	params := url.Values{}
	for k, v := range ar.GetRequestForm() {
		params[k] = append([]string(nil), v...)
	}
	encoded := params.Encode()
	if len(encoded) > MaxFlowParams {
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHintf(
			"The authorization request is too large to keep during sign-in (%d bytes of parameters, at most %d).",
			len(encoded), MaxFlowParams))
		return
	}
	f := storage.AuthFlow{
		ClientID:     ar.GetClient().GetID(),
		Params:       encoded,
		Organization: params.Get("organization"),
		OrgRequired:  params.Get("organization") == "" && oauth.UserPicksOrganization(ar.GetClient()),
	}
	if ls != nil {
		at := ls.AuthTime
		f.UserID, f.SessionID, f.AuthTime, f.AMR = ls.UserID, ls.ID, &at, ls.AMR
	}
	browser, fresh := authn.FlowBrowser(r)
	f, err := h.S.StartFlow(ctx, browser, f)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	if fresh {
		http.SetCookie(w, h.S.FlowBrowserCookie(browser))
	}
	next := ResumePath
	if authn.NextFlowStep(f) == authn.StepLogin {
		next = LoginPath
	}
	http.Redirect(w, r, next+"?"+url.Values{"state": {f.ID}}.Encode(), http.StatusFound)
}

// resume runs the next step of the flow named by the state parameter. Every step is a GET of the same URL, so
// back and refresh show the current step again; a completed, expired, unknown or other browser's flow shows
// the "expired" page.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w = &issWriter{ResponseWriter: w, iss: server.TenantFromContext(ctx).Issuer}
	q := r.URL.Query()
	f, err := h.S.OpenFlow(ctx, r, q.Get("state"))
	if err != nil {
		h.flowError(w, r, err)
		return
	}
	ar, err := h.storedRequest(r, f)
	if err != nil {
		// The client or its redirect URI changed since the flow started: answer as /authorize would now.
		h.authorizeError(w, r, ar, err)
		return
	}
	ls, user, signedIn, err := h.browserSession(r)
	if err != nil {
		h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	if f.SessionID != "" && (!signedIn || ls.ID != f.SessionID) {
		// Signed out, or signed in as someone else in another tab, since this flow identified the user.
		f.SessionID = ""
	}

	if authn.NextFlowStep(f) == authn.StepLogin && signedIn && sessionSatisfies(ar.GetRequestForm(), ls, h.Now().UTC()) {
		// Signed in meanwhile (in another tab, say) in a way this request accepts: no need to ask again.
		f, err = h.S.AdvanceFlow(ctx, f, func(old storage.AuthFlow) storage.AuthFlow {
			at := ls.AuthTime
			old.UserID, old.SessionID, old.AuthTime, old.AMR, old.OrganizationID = ls.UserID, ls.ID, &at, ls.AMR, ""
			return old
		})
		if err != nil {
			h.flowError(w, r, err)
			return
		}
	}

	// Once the user is known: must they pass a second factor before going on? (Decided once per flow; the
	// second-factor page clears it when it no longer applies.)
	if authn.NextFlowStep(f) != authn.StepLogin && !f.MFARequired && !authn.MultiFactor(f.AMR) {
		need, err := h.S.MFARequired(ctx, user)
		if err != nil {
			h.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
			return
		}
		if need {
			f, err = h.S.AdvanceFlow(ctx, f, func(old storage.AuthFlow) storage.AuthFlow {
				old.MFARequired = true
				return old
			})
			if err != nil {
				h.flowError(w, r, err)
				return
			}
		}
	}

	if org := q.Get("organization"); org != "" && authn.NextFlowStep(f) == authn.StepOrganization {
		f, err = h.S.AdvanceFlow(ctx, f, func(old storage.AuthFlow) storage.AuthFlow {
			old.OrganizationID = org
			return old
		})
		if err != nil {
			h.flowError(w, r, err)
			return
		}
		if ar, err = h.storedRequest(r, f); err != nil {
			h.authorizeError(w, r, ar, err)
			return
		}
	}

	switch authn.NextFlowStep(f) {
	case authn.StepLogin:
		http.Redirect(w, r, LoginPath+"?"+url.Values{"state": {f.ID}}.Encode(), http.StatusFound)
		return
	case authn.StepMFA:
		http.Redirect(w, r, MFAPath+"?"+url.Values{"state": {f.ID}}.Encode(), http.StatusFound)
		return
	case authn.StepOrganization:
		h.orgPicker(w, r, ar, user, f)
		return
	}
	access, picker, ok := h.organization(w, r, ar, user, ls, false)
	if !ok {
		return
	}
	if picker {
		// The client has come to require an organization since the flow started.
		f, err = h.S.AdvanceFlow(ctx, f, func(old storage.AuthFlow) storage.AuthFlow {
			old.OrgRequired = true
			return old
		})
		if err != nil {
			h.flowError(w, r, err)
			return
		}
		h.orgPicker(w, r, ar, user, f)
		return
	}
	h.completeAuthorize(w, r, ar, user, ls, access, f.CreatedAt.UTC(), &f)
}

// storedRequest rebuilds flow f's authorization request and validates it again through fosite (the client and
// its redirect URI may have changed since), with the organization the user chose in the flow, if any.
func (h *Handler) storedRequest(r *http.Request, f storage.AuthFlow) (fosite.AuthorizeRequester, error) {
	q, err := url.ParseQuery(f.Params)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err).WithDebug("stored flow parameters do not parse")
	}
	if f.OrganizationID != "" {
		q.Set("organization", f.OrganizationID)
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/authorize?"+q.Encode(), nil)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	req.Host = r.Host
	ar, err := h.Provider.NewAuthorizeRequest(r.Context(), req)
	if err == nil && ar.GetClient().GetID() != f.ClientID {
		return nil, fosite.ErrServerError.WithDebug("stored flow names another client")
	}
	return ar, err
}

// flowError answers a flow id that cannot be used with the "expired" page (FlowGonePage), and a failure of
// ours with a 5xx page.
func (h *Handler) flowError(w http.ResponseWriter, r *http.Request, err error) {
	var gone *authn.FlowGoneError
	if !errors.As(err, &gone) {
		h.authorizeError(w, r, nil, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	status, p := FlowGonePage(gone)
	p.TenantName = server.TenantFromContext(r.Context()).Name
	p.RequestID = httpx.RequestIDFromContext(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	if renderErr := h.Pages.Render(w, status, templates.PageError, p); renderErr != nil {
		http.Error(w, http.StatusText(status), status)
	}
}

// FlowGonePage is the page for a sign-in flow id that cannot be used: 410 with a link that starts the same
// authorization request again when the flow is this browser's (it expired or was completed), 400 and no link
// otherwise (unknown here, another browser's: nothing about it is shown).
func FlowGonePage(gone *authn.FlowGoneError) (int, templates.Page) {
	p := templates.Page{
		Title:   "This sign-in link has expired",
		Message: "Sign-in links work once, for 15 minutes, in the browser that opened them. Go back to the application and sign in again.",
	}
	if restart := gone.RestartURL(); restart != "" {
		p.LinkURL, p.LinkText = restart, "Sign in again"
		return http.StatusGone, p
	}
	return http.StatusBadRequest, p
}
