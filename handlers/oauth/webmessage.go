package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// response_mode=web_message (Auth0's; auth0-spa-js uses it for getTokenSilently in a hidden iframe and for
// loginWithPopup). The authorization response — code, state, iss, or error, error_description, state, iss — is
// an HTML page whose one script posts {type: "authorization_response", response: {…}} to the window that opened
// the page (a popup's opener) or else its parent (the iframe's page). The message goes to one origin: the
// client's registered web origin that the validated redirect URI belongs to, never "*"; a client that has not
// registered that origin gets the error page instead, for successes and errors alike, since the response would
// otherwise go to a window nobody vouched for. The page may be framed by the client's web origins only
// (Content-Security-Policy frame-ancestors), runs no script but its own (a nonce), and is never cached.

// isWebMessage reports whether ar asks for its response by web message.
func isWebMessage(ar fosite.AuthorizeRequester) bool {
	return ar != nil && ar.GetResponseMode() == oauth.ResponseModeWebMessage
}

// webMessageTarget returns the origin a web_message response to ar goes to — the client's registered web origin
// equal to the redirect URI's origin — and the client's web origins that may frame the page. ok is false when
// no registered web origin is the redirect URI's origin.
func webMessageTarget(ar fosite.AuthorizeRequester) (target string, ancestors []string, ok bool) {
	c, isStored := ar.GetClient().(*storage.FositeClient)
	redirect := ar.GetRedirectURI()
	if !isStored || redirect == nil {
		return "", nil, false
	}
	want, valid := originOf(redirect)
	for _, o := range c.WebOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			continue
		}
		origin, ok := originOf(u)
		if !ok {
			continue
		}
		ancestors = append(ancestors, origin)
		if valid && origin == want {
			target = origin
		}
	}
	return target, ancestors, target != ""
}

// hostPort is what an origin's host may hold: a DNS name or an IP literal, and a port. Anything else (a web
// origin stored before validation was strict, say) never reaches a header or a script.
var hostPort = regexp.MustCompile(`^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$`)

// originOf is u's origin as browsers serialize it (RFC 6454 §6.1): scheme://host[:port], lower case, without the
// scheme's default port; ok is false for a URI that has no web origin (another scheme, no host).
func originOf(u *url.URL) (string, bool) {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if (scheme != "http" && scheme != "https") || !hostPort.MatchString(host) {
		return "", false
	}
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return scheme + "://" + host, true
}

// writeWebMessage answers ar, a web_message request, with params (the authorization response) posted to the
// client's web origin; without one for the redirect URI it shows the error page (webMessageRefused).
func (h *Handler) writeWebMessage(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, params url.Values) {
	target, ancestors, ok := webMessageTarget(ar)
	if !ok {
		h.webMessageRefused(w, r)
		return
	}
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		h.authorizeError(w, r, nil, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return
	}
	n := base64.RawURLEncoding.EncodeToString(nonce)
	response := make(map[string]string, len(params))
	for k := range params {
		response[k] = params.Get(k)
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+n+"'; base-uri 'none'; form-action 'none'; "+
		"frame-ancestors "+strings.Join(ancestors, " "))
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	if err := h.Pages.RenderWebMessage(w, templates.WebMessage{Nonce: n, TargetOrigin: target, Response: response}); err != nil {
		httpx.LogFailure(r.Context(), h.Logger, "rendering the web_message response failed", err)
		hd.Del("Content-Security-Policy")
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// webMessageRefused is the error page for a web_message request whose redirect URI's origin the client has not
// registered as a web origin.
func (h *Handler) webMessageRefused(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusBadRequest, "This sign-in link is not valid",
		"The application asked for the answer by web message (response_mode=web_message), but the origin of its "+
			"redirect URI is not one of its registered web origins.")
}
