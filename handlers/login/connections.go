package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Paths of the upstream sign-in steps. A redirect kind's provider sends the browser back to CallbackPath with
// the flow id as state; a POST-binding kind's provider posts to PostCallbackPath with the flow id in
// authn.PostStateField.
const (
	CallbackPath     = authn.CallbackPath
	PostCallbackPath = "/login/callback/post"
)

// resubmitField marks a provider's answer that our own page posted again (see postCallback).
const resubmitField = "authio_resubmit"

// startUpstream is GET (redirect kinds) or POST (POST-binding kinds) /login/{connection}/start?state=<flow id>:
// it records the connection in the flow, then sends the browser to the provider.
func (h *Handler) startUpstream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := h.openFlow(w, r, r.FormValue("state"))
	if !ok {
		return
	}
	conn, ok := h.upstream(w, r, mux.Vars(r)["connection"])
	if !ok {
		return
	}
	_, isRedirect := conn.(authn.RedirectConnection)
	if isRedirect != (r.Method == http.MethodGet) {
		h.errorPage(w, r, http.StatusMethodNotAllowed, "This sign-in method is not available", "Go back and choose another way to sign in.")
		return
	}
	f, err := h.S.AdvanceFlow(ctx, f, func(nf storage.AuthFlow) storage.AuthFlow {
		nf.ConnectionID = conn.Record().ID
		return nf
	})
	var gone *authn.FlowGoneError
	if errors.As(err, &gone) {
		h.flowGone(w, r, gone)
		return
	} else if err != nil {
		h.failed(w, r, "recording the connection in the sign-in flow failed", err)
		return
	}
	callback := server.TenantFromContext(ctx).BaseURL
	switch k := conn.(type) {
	case authn.RedirectConnection:
		to, err := k.LoginURL(ctx, f.ID, callback+CallbackPath)
		if err != nil {
			h.failed(w, r, "building the provider's sign-in URL failed", err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusSeeOther)
	case authn.PostBindingConnection:
		action, fields, err := k.POSTData(ctx, h.S.FlowRequestID(f.ID), f.ID, callback+PostCallbackPath)
		if err != nil {
			h.failed(w, r, "building the provider's sign-in request failed", err)
			return
		}
		hidden := make(map[string]string, len(fields))
		for name := range fields {
			hidden[name] = fields.Get(name)
		}
		h.render(w, r, http.StatusOK, templates.PagePostBinding, templates.Page{Action: action, Hidden: hidden})
	}
}

// upstream opens the redirect or POST-binding connection name (or id) names; ok=false: the response is written
// (404 for an unknown one, a form kind included, 403 for a disabled one).
func (h *Handler) upstream(w http.ResponseWriter, r *http.Request, name string) (authn.Connection, bool) {
	conn, err := h.S.SignInConnection(r.Context(), name, "")
	switch {
	case errors.Is(err, signin.ErrConnectionDisabled):
		h.Logger.Info("sign-in refused: connection disabled", "request_id", httpx.RequestIDFromContext(r.Context()))
		h.errorPage(w, r, http.StatusForbidden, "This sign-in method is turned off", "Contact your administrator, or go back and choose another way to sign in.")
		return nil, false
	case err == nil && (authn.Shape(conn) == "redirect" || authn.Shape(conn) == "post"):
		return conn, true
	case err == nil || errors.Is(err, signin.ErrUnknownConnection):
		h.Logger.Info("sign-in refused: unknown upstream connection", "request_id", httpx.RequestIDFromContext(r.Context()))
		h.errorPage(w, r, http.StatusNotFound, "This sign-in method is not available", "Go back and choose another way to sign in.")
		return nil, false
	}
	h.failed(w, r, "opening the sign-in connection failed", err)
	return nil, false
}

// callback is GET /login/callback?state=<flow id>: a redirect kind's provider sends the browser back here.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	f, conn, ok := h.upstreamFlow(w, r, r.URL.Query().Get("state"))
	if !ok {
		return
	}
	rc, ok := conn.(authn.RedirectConnection)
	if !ok {
		h.flowGone(w, r, &authn.FlowGoneError{Flow: &f})
		return
	}
	user, amr, err := h.S.SignInUpstream(r.Context(), conn, h.S.ClientIP(r), func(ctx context.Context) (authn.Identity, error) {
		return rc.HandleCallback(ctx, r)
	})
	if !h.signInRefused(w, r, templates.Page{Flow: f.ID}, conn, err) {
		h.startSession(w, r, user, &f, amr, conn)
	}
}

// postCallback is POST /login/callback/post: a POST-binding provider posts its answer here from its own site.
// Browsers leave SameSite=Lax cookies (the flow's) off such a cross-site POST, so an answer without them is
// posted again by a page of ours, same-site, which brings them.
func (h *Handler) postCallback(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "This request is not valid", "The sign-in response could not be read.")
		return
	}
	if _, err := r.Cookie(authn.FlowCookie); err != nil && r.PostForm.Get(resubmitField) == "" {
		hidden := map[string]string{resubmitField: "1"}
		for name := range r.PostForm {
			hidden[name] = r.PostForm.Get(name)
		}
		h.render(w, r, http.StatusOK, templates.PagePostBinding, templates.Page{Action: PostCallbackPath, Hidden: hidden})
		return
	}
	f, conn, ok := h.upstreamFlow(w, r, r.PostForm.Get(authn.PostStateField))
	if !ok {
		return
	}
	pc, ok := conn.(authn.PostBindingConnection)
	if !ok {
		h.flowGone(w, r, &authn.FlowGoneError{Flow: &f})
		return
	}
	requestID := h.S.FlowRequestID(f.ID)
	user, amr, err := h.S.SignInUpstream(r.Context(), conn, h.S.ClientIP(r), func(ctx context.Context) (authn.Identity, error) {
		return pc.HandlePOST(ctx, r, requestID)
	})
	if !h.signInRefused(w, r, templates.Page{Flow: f.ID}, conn, err) {
		h.startSession(w, r, user, &f, amr, conn)
	}
}

// upstreamFlow opens the flow a provider's answer names and the connection that flow sent the browser to. A
// flow that sent it nowhere (or whose connection is gone) is the expired page: an answer it did not ask for.
func (h *Handler) upstreamFlow(w http.ResponseWriter, r *http.Request, state string) (storage.AuthFlow, authn.Connection, bool) {
	f, ok := h.openFlow(w, r, state)
	if !ok {
		return f, nil, false
	}
	if f.ConnectionID == "" {
		h.Logger.Info("upstream answer for a flow that started no upstream sign-in", "request_id", httpx.RequestIDFromContext(r.Context()))
		h.flowGone(w, r, &authn.FlowGoneError{Flow: &f})
		return f, nil, false
	}
	conn, ok := h.upstream(w, r, f.ConnectionID)
	return f, conn, ok
}
