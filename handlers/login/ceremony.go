package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/httpx"
)

// BeginPath is where the sign-in page's script gets the options of a ceremony kind (authn.Ceremony) before it
// fills in the kind's form: POST /login/{connection}/begin with state, email and csrf_token.
const BeginPath = "/login/{connection}/begin"

// beginCeremony is POST /login/{connection}/begin: the JSON options of a ceremony for this browser's open flow.
// Errors are JSON too ({"error", "error_description"}): 400 without a usable flow, 404 for a connection that is
// not a ceremony kind of this tenant, 403 for a disabled one.
func (h *Handler) beginCeremony(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	f, err := h.S.OpenFlow(ctx, r, r.PostFormValue("state"))
	var gone *authn.FlowGoneError
	switch {
	case errors.As(err, &gone):
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "flow_expired",
			"error_description": "This sign-in has expired. Reload the page and try again."})
		return
	case err != nil:
		h.jsonFailed(w, r, "beginning a sign-in ceremony: loading the flow failed", err)
		return
	}
	conn, err := h.S.SignInConnection(ctx, mux.Vars(r)["connection"], "")
	var cer authn.Ceremony
	if err == nil {
		cer, _ = conn.(authn.Ceremony)
	}
	switch {
	case errors.Is(err, signin.ErrConnectionDisabled):
		httpx.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "connection_disabled",
			"error_description": "This sign-in method is turned off here."})
		return
	case (err == nil && cer == nil) || errors.Is(err, signin.ErrUnknownConnection):
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "This sign-in method is not available."})
		return
	case err != nil:
		h.jsonFailed(w, r, "beginning a sign-in ceremony: opening the connection failed", err)
		return
	}
	opts, err := cer.Begin(ctx, f.ID, strings.TrimSpace(r.PostFormValue("email")))
	if err != nil {
		h.jsonFailed(w, r, "beginning a sign-in ceremony failed", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, opts)
}

// jsonFailed answers an infrastructure failure of a JSON step: a 5xx and an error log line.
func (h *Handler) jsonFailed(w http.ResponseWriter, r *http.Request, msg string, err error) {
	httpx.LogFailure(r.Context(), h.Logger, msg, err)
	httpx.WriteFailure(w, err)
}

// enrollPath is where a new account goes to register a credential of a kind that offers it (authn.Enrollable),
// "" when no enabled connection of the tenant does.
func (h *Handler) enrollPath(r *http.Request) string {
	conns, err := h.S.LoginConnections(r.Context())
	if err != nil {
		h.Logger.Warn("after sign-up: listing the sign-in methods failed; no enrolment offered",
			"request_id", httpx.RequestIDFromContext(r.Context()), "err", err)
		return ""
	}
	for _, c := range conns {
		if e, ok := c.(authn.Enrollable); ok && c.Record().Enabled {
			return e.EnrollPath()
		}
	}
	return ""
}
