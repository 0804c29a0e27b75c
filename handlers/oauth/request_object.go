package oauth

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"
)

// maxAuthorizeForm is how much of a POST /authorize body is parsed, as fosite does.
const maxAuthorizeForm = 1 << 20

// takeRequestObject removes the request and request_uri parameters (OIDC Core §6, RFC 9101) from r's form
// before fosite reads it, and returns the error the client must get for them: nil when there are none.
// Authio supports neither, and discovery says so (request_parameter_supported and
// request_uri_parameter_supported are false). Left to fosite, they are refused before the redirect URI is
// validated (an error page where OIDC Core §6.1 and §6.2 ask for a redirect), ignored without the openid
// scope, or taken for a pushed authorization request that nothing stores (a 500). Without them fosite
// validates the client, the redirect URI and the response mode, and the caller answers with the returned
// error through the redirect URI once it is validated. err is an invalid_request for a body that cannot be
// parsed, as fosite would report it.
func takeRequestObject(r *http.Request) (unsupported, err error) {
	if err := r.ParseMultipartForm(maxAuthorizeForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, fosite.ErrInvalidRequest.WithHint("Unable to parse HTTP body, make sure to send a properly formatted form request body.").WithWrap(err)
	}
	byValue, byReference := r.Form.Get("request") != "", r.Form.Get("request_uri") != ""
	for _, p := range []string{"request", "request_uri"} {
		r.Form.Del(p)
		r.PostForm.Del(p)
	}
	switch {
	case byValue && byReference:
		return fosite.ErrInvalidRequest.WithHint("The request and request_uri parameters must not be used together (OpenID Connect Core 1.0, section 6)."), nil
	case byValue:
		return fosite.ErrRequestNotSupported.WithHint("Authorization parameters are read from the query or the form only: request objects are not supported."), nil
	case byReference:
		return fosite.ErrRequestURINotSupported.WithHint("Authorization parameters are read from the query or the form only: request_uri is not supported."), nil
	}
	return nil, nil
}
