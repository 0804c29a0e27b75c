package login

import (
	"errors"
	"net/http"

	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// signedUp continues a sign-up that created user: a verification link goes to the address, then either the
// session starts (the tenant's email_verification is "optional") or the page asks the user to open the link
// first ("required": no session until the address is verified).
func (h *Handler) signedUp(w http.ResponseWriter, r *http.Request, user storage.User, flow *storage.AuthFlow) {
	ctx := r.Context()
	flowID := ""
	if flow != nil {
		flowID = flow.ID
	}
	sendErr := h.S.SendVerification(ctx, user, flowID, "signup")
	if sendErr != nil && !errors.Is(sendErr, tickets.ErrSendFailed) {
		h.failed(w, r, "sign-up: making the verification link failed", sendErr)
		return
	}
	if !h.S.EmailVerificationRequired(ctx) {
		// The user goes on; a mail that could not be sent is logged (tickets) and can be asked for again.
		// A kind that registers credentials for signed-in users (passkeys) is offered before the flow goes on.
		h.startSessionTo(w, r, user, flow, []string{"pwd"}, nil, h.enrollPath(r))
		return
	}
	p := templates.Page{Flow: flowID, Email: user.Email}
	p.Message = "We sent a link to " + user.Email + ". Open it to verify your address, then sign in."
	if sendErr != nil {
		p.Error = "We could not send the email. Try again."
		p.Message = "Your account is created, but its email address must be verified before you can sign in."
	}
	h.Logger.Info("signed up; waiting for email verification", "request_id", httpx.RequestIDFromContext(ctx), "user_id", user.ID)
	h.render(w, r, http.StatusOK, templates.PageVerifyEmail, p)
}
