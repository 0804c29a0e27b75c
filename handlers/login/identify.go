package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// The sign-in page's steps, as its forms post them in the field "step". A POST /login without "step" is a
// sign-in method's form (see loginSubmit).
const (
	// stepIdentify posts the email step: the address the user types, kept in the flow for the methods step.
	stepIdentify = "identify"
	// stepReset is "Not you?" on the methods step: the email is forgotten and the email step shows again.
	stepReset = "reset"
)

// identify is POST /login with step=identify: the email step. Nothing is looked up: a known and an unknown
// address get the same answer (the methods step), so the page tells nobody which addresses have accounts. With
// a flow, the address is stored in it and the browser goes back to GET /login (so a reload posts nothing);
// without one, the methods step is shown directly.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request, p templates.Page, flow *storage.AuthFlow) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	msg := ""
	if email == "" {
		msg = "Enter your email address."
	} else if _, err := directory.NormalizeEmail(email); err != nil || len(email) > 254 {
		msg = "Enter an email address like name@example.com."
	}
	if msg != "" {
		p.Email, p.LoginStep, p.FieldErrors = email, templates.LoginStepIdentify, map[string]string{"email": msg}
		h.renderLogin(w, r, http.StatusBadRequest, p, nil, nil)
		return
	}
	if flow == nil {
		p.Email, p.LoginStep = email, templates.LoginStepMethods
		h.renderLogin(w, r, http.StatusOK, p, nil, nil)
		return
	}
	h.setFlowEmail(w, r, *flow, email)
}

// notYou is POST /login with step=reset ("Not you?"): the email is forgotten (login_hint included) and the email
// step shows again.
func (h *Handler) notYou(w http.ResponseWriter, r *http.Request, p templates.Page, flow *storage.AuthFlow) {
	if flow == nil {
		p.Email, p.LoginStep = "", templates.LoginStepIdentify
		h.renderLogin(w, r, http.StatusOK, p, nil, nil)
		return
	}
	h.setFlowEmail(w, r, *flow, "")
}

// setFlowEmail records email as the flow's (empty: none, login_hint ignored) and sends the browser to the
// sign-in page of the flow.
func (h *Handler) setFlowEmail(w http.ResponseWriter, r *http.Request, f storage.AuthFlow, email string) {
	_, err := h.S.AdvanceFlow(r.Context(), f, func(nf storage.AuthFlow) storage.AuthFlow {
		nf.LoginEmail = &email
		return nf
	})
	var gone *authn.FlowGoneError
	if errors.As(err, &gone) {
		h.flowGone(w, r, gone)
		return
	} else if err != nil {
		h.failed(w, r, "recording the email in the sign-in flow failed", err)
		return
	}
	http.Redirect(w, r, "/login?"+url.Values{"state": {f.ID}}.Encode(), http.StatusSeeOther)
}
