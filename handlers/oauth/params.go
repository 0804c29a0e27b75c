package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"sort"

	"github.com/authio/authio/httpx"
	"github.com/ory/fosite"
)

// repeatable are the parameters a request may send more than once. RFC 8693 §2.1 names several audiences or
// resources by repeating audience and resource, RFC 8707 §2 repeats resource at the authorization and token
// endpoints, and fosite.GetAudiences reads a repeated audience as that list (a single one as space-separated).
// RFC 6749 §3.1 allows every other parameter once: "first value wins" would let a proxy, a logger and fosite
// each see a different request.
var repeatable = map[string]bool{"audience": true, "resource": true}

// repeatedParam returns the alphabetically first parameter of form sent more than once, or "".
func repeatedParam(form url.Values) string {
	var names []string
	for name, vs := range form {
		if len(vs) > 1 && !repeatable[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return names[0]
}

// errRepeated is RFC 6749 §3.1's invalid_request for a parameter sent more than once.
func errRepeated(name string) error {
	return fosite.ErrInvalidRequest.WithHintf("The %.64q parameter must not be included more than once.", name)
}

// parseParams parses r's query and form body as fosite does, so parameters are counted where fosite reads
// them; a body it cannot parse is invalid_request, as fosite would answer.
func parseParams(r *http.Request) error {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return fosite.ErrInvalidRequest.WithHint("Unable to parse HTTP body, make sure to send a properly formatted form request body.").
			WithWrap(err).WithDebug(err.Error())
	}
	return nil
}

// bodyParamsOnce is invalid_request when a body parameter is sent more than once. The token, introspection and
// revocation endpoints read the body alone (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1; fosite reads
// r.PostForm), so a parameter in the query does not count.
func bodyParamsOnce(r *http.Request) error {
	if err := parseParams(r); err != nil {
		return err
	}
	if name := repeatedParam(r.PostForm); name != "" {
		return errRepeated(name)
	}
	return oneClient(r)
}

// oneClient is invalid_request when a request names its client twice: Basic credentials and a client_secret in
// the body (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request"), or Basic
// credentials of one client and a client_id of another in the body. fosite would authenticate the Basic one and
// ignore the rest, and a proxy or a log would see another client than the one served.
func oneClient(r *http.Request) error {
	id, _, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	if r.PostForm.Has("client_secret") {
		return fosite.ErrInvalidRequest.WithHint("Use one client authentication method: Basic credentials or client_secret in the body, not both.")
	}
	if u, err := url.QueryUnescape(id); err == nil {
		id = u
	}
	if body := r.PostForm.Get("client_id"); body != "" && body != id {
		return fosite.ErrInvalidRequest.WithHint("The client_id in the body is not the client of the Basic credentials.")
	}
	return nil
}

// authorizeTargetOnce is invalid_request when client_id or redirect_uri is sent more than once: fosite would
// validate the first and the browser could be sent to either, so such a request gets the error page, never a
// redirect. /authorize reads the query and, for a POST, the body together (fosite reads r.Form), so one in
// each counts as two. Other repeated parameters are refused once fosite has validated the redirect URI.
func authorizeTargetOnce(r *http.Request) error {
	if err := parseParams(r); err != nil {
		return err
	}
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(r.Form[name]) > 1 {
			return errRepeated(name)
		}
	}
	return nil
}

// writeJSONError writes a fosite error as RFC 6749 §5.2's JSON, description included, where fosite's own writer
// (the revocation endpoint's) drops it.
func writeJSONError(w http.ResponseWriter, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	httpx.WriteJSON(w, rfc.CodeField, map[string]string{"error": rfc.ErrorField, "error_description": rfc.GetDescription()})
}
