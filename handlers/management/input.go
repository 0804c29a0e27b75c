package management

import (
	"net/http"

	"github.com/authio/authio/httpx"
)

// inputErrorCodes are the error codes of input storage cannot keep, by where it was found.
var inputErrorCodes = map[string]string{
	httpx.InPath:   "invalid_uri",
	httpx.InQuery:  "invalid_query_string",
	httpx.InForm:   "invalid_body",
	httpx.InHeader: "invalid_header",
}

// RefuseInput answers a request httpx.CheckInput refused: 400 in the Management API's error shape, with a
// code saying where the input was (invalid_uri, invalid_query_string, invalid_body) and a message naming it,
// with the API's CORS headers so an admin portal in the browser can read it.
func (h *Handler) RefuseInput(w http.ResponseWriter, r *http.Request, e *httpx.InputError) {
	code, ok := inputErrorCodes[e.In]
	if !ok {
		code = "invalid_request"
	}
	h.S.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, errorf(http.StatusBadRequest, code, "%s", e.Error()))
	}), "").ServeHTTP(w, r)
}
