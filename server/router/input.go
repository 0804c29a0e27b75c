package router

import (
	"net/http"
	"strings"

	"github.com/authio/authio/handlers/account"
	"github.com/authio/authio/handlers/login"
	"github.com/authio/authio/handlers/management"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
)

// refuseInput answers a request httpx.CheckInput refused in the error shape of the surface it was sent to:
// the Management API's JSON, the account endpoints' JSON, the hosted pages' error page, or the OAuth endpoints'
// answers. A path no surface claims gets the OAuth JSON error, the shape of the router's own 404, so a route
// added later is covered before anyone thinks of it.
func refuseInput(o *oauth.Handler, l *login.Handler, a *account.Handler, m *management.Handler) func(http.ResponseWriter, *http.Request, *httpx.InputError) {
	return func(w http.ResponseWriter, r *http.Request, e *httpx.InputError) {
		p := r.URL.Path
		switch {
		case p == "/api/v2" || strings.HasPrefix(p, "/api/v2/"):
			m.RefuseInput(w, r, e)
		case strings.HasPrefix(p, "/v1/"):
			a.RefuseInput(w, r, e)
		case p == "/login" || p == "/signup" || p == "/oidc/logout" || p == "/v2/logout" ||
			p == "/account" || strings.HasPrefix(p, "/account/"): // the account page is a hosted page too
			l.RefuseInput(w, r, e)
		default:
			o.RefuseInput(w, r, e)
		}
	}
}
