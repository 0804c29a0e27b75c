package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// BodyError is a request body that is not the JSON object an endpoint expects; Message is for the caller and
// never echoes the body.
type BodyError struct{ Message string }

func (e *BodyError) Error() string { return e.Message }

func bodyErrorf(format string, args ...any) *BodyError {
	return &BodyError{Message: fmt.Sprintf(format, args...)}
}

// DecodeJSON reads a request body into v strictly: Content-Type application/json, one JSON object, no unknown
// fields, nothing after it, every member name exactly a field's name (never another case of it) and given once in
// its object (at any depth, free-form maps too), and no string (key or value, at any depth) that storage cannot keep: none with a
// NUL character, and a body of UTF-8 only. It returns a *BodyError for bad input, naming the field where there
// is one (name, metadata.plan, callbacks[1]), or the *http.MaxBytesError when the body is over the server's
// limit; each JSON API answers these in its own error shape.
func DecodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return bodyErrorf("The body must be JSON with Content-Type application/json.")
	}
	// The whole body, before decoding: the decoder hides invalid UTF-8 by replacing it with U+FFFD.
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	return DecodeJSONObject(raw, v)
}

// DecodeJSONObject is DecodeJSON for JSON already read, such as one line of a JSON-lines file: exactly one JSON
// object, no unknown fields, no string storage cannot keep. Bad input is a *BodyError.
func DecodeJSONObject(raw []byte, v any) error {
	if be := unstorableJSON(raw); be != nil {
		return be
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bodyErrorf("The body must hold exactly one JSON object.")
	}
	if be := namesMismatch(raw, reflect.TypeOf(v)); be != nil {
		return be
	}
	return nil
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return bodyErrorf("The body is empty; a JSON object is required.")
	case errors.As(err, &ute):
		if ute.Field == "" {
			return bodyErrorf("The body must be a JSON object.")
		}
		return bodyErrorf("%s: must be %s.", ute.Field, jsonKind(ute.Type))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return bodyErrorf("The body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return bodyErrorf("Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return bodyErrorf("The body is not a valid request.")
}

// jsonKind names a Go type the way a JSON caller thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}
