package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ory/fosite"

	"github.com/authio/authio/httpx"
)

// jsonAsForm lets the token and revocation endpoints take an application/json body (a "charset" parameter
// allowed) as well as the form RFC 6749 §3.2 and RFC 7009 §2.1 define: Auth0's SDKs send JSON there
// (auth0-spa-js unless useFormData, the server SDKs always). The body must be one flat JSON object whose values
// are strings — {"grant_type": "authorization_code", "code": "…"} — and stands for the form with those
// parameters, so everything after it (client authentication with client_secret in the body as
// client_secret_post, the one-client and repeated-parameter rules, every grant) is the form's. A number or
// true/false stands for its JSON literal text ("max_age": 3600 is max_age=3600), as Auth0 accepts it:
// auth0-spa-js copies an app's authorizationParams, numbers included, into its refresh-token requests. The size
// limit is the form's (httpx.MaxBodyBytes). A body that is not such an object is invalid_request naming what is
// wrong: not JSON, not an object, a value that is null, an object or an array (naming the parameter), a
// parameter given twice, a string storage cannot keep. Other content types are left alone.
//
// On success r's body is replaced by the form's urlencoded bytes and its Content-Type by the form's.
func jsonAsForm(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" || r.Body == nil {
		return nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fosite.ErrInvalidRequest.WithHintf("The body is larger than %d bytes.", mbe.Limit)
		}
		return fosite.ErrInvalidRequest.WithHint("The body could not be read.").WithWrap(err)
	}
	// Syntax, one value, and strings storage can keep, as every JSON body Authio takes is checked.
	check := r.Clone(r.Context())
	check.Body = io.NopCloser(bytes.NewReader(raw))
	var obj map[string]json.RawMessage
	if err := httpx.DecodeJSON(check, &obj); err != nil {
		var be *httpx.BodyError
		if errors.As(err, &be) {
			return fosite.ErrInvalidRequest.WithHint(be.Message)
		}
		return fosite.ErrInvalidRequest.WithHint("The body is not valid JSON.").WithWrap(err)
	}
	form, err := flatStrings(raw)
	if err != nil {
		return err
	}
	encoded := form.Encode()
	r.Body = io.NopCloser(strings.NewReader(encoded))
	r.ContentLength = int64(len(encoded))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Form, r.PostForm, r.MultipartForm = nil, nil, nil
	return nil
}

// flatStrings reads raw, a JSON text DecodeJSON accepted, as one object of string (or number or true/false,
// taken as their literal text) values, in order, refusing a name given twice (RFC 6749 §3.1, as for a form).
func flatStrings(raw []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fosite.ErrInvalidRequest.WithHint("The body must be a JSON object of string parameters.")
	}
	form := url.Values{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The body is not valid JSON.")
		}
		name, _ := kt.(string)
		if form.Has(name) {
			return nil, errRepeated(name)
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The body is not valid JSON.")
		}
		var kind string
		switch v := vt.(type) {
		case string:
			form.Set(name, v)
			continue
		case json.Number:
			form.Set(name, v.String())
			continue
		case bool:
			form.Set(name, strconv.FormatBool(v))
			continue
		case json.Delim:
			kind = "an object"
			if v == '[' {
				kind = "an array"
			}
		default:
			kind = "null"
		}
		return nil, fosite.ErrInvalidRequest.WithHintf("The %.64q parameter must be a string, not %s.", name, kind)
	}
	return form, nil
}
