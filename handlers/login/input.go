package login

import (
	"net/http"

	"github.com/authio/authio/httpx"
)

// RefuseInput answers a request httpx.CheckInput refused with the error page (400) naming the field; the
// request goes no further, so a sign-in attempt with such an email is neither counted nor audited.
func (h *Handler) RefuseInput(w http.ResponseWriter, r *http.Request, e *httpx.InputError) {
	h.errorPage(w, r, http.StatusBadRequest, "This request is not valid", e.Error())
}
