package httpx

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"
)

// Where CheckInput found input that storage cannot keep.
const (
	InPath   = "path"   // a path segment (decoded: the router matches on the escaped path)
	InQuery  = "query"  // a query parameter's name or value
	InForm   = "form"   // a field of an urlencoded or multipart body, name or value
	InHeader = "header" // the client id of Basic credentials
)

const (
	reasonNUL  = "must not contain a NUL byte"
	reasonUTF8 = "must be valid UTF-8"
)

// InputError is the part of a request that storage cannot keep: text holding a NUL byte, or bytes that are not
// UTF-8. Postgres refuses both in text and jsonb columns, so unchecked they become a 500 deep inside a handler
// (SQLite stores them and hands them to every later reader). Its message names the field and never echoes the
// bad value, nor a name that is itself the bad input.
type InputError struct {
	In     string // InPath, InQuery, InForm or InHeader
	Name   string // the path variable, parameter or field; "" when the name itself is the bad input (or unknown)
	Reason string // what is wrong, e.g. "must not contain a NUL byte"
}

func (e *InputError) Error() string {
	var what string
	switch {
	case e.In == InHeader:
		what = "The " + e.Name + " in the Authorization header"
	case e.Name == "" && e.In == InPath:
		what = "The path"
	case e.Name == "":
		what = "A " + inputPlace(e.In) + " name"
	default:
		what = "The " + inputPlace(e.In) + " " + quoteName(e.Name)
	}
	return what + " " + e.Reason + "."
}

func inputPlace(in string) string {
	switch in {
	case InPath:
		return "path segment"
	case InQuery:
		return "query parameter"
	}
	return "form field"
}

// quoteName shows a (valid UTF-8) name in a message: quoted, so a name with spaces or quotes stays readable,
// and cut short, so a message stays short.
func quoteName(name string) string {
	const max = 64
	if len(name) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		return strconv.Quote(name[:cut] + "…")
	}
	return strconv.Quote(name)
}

// Unstorable says why s cannot be stored — it holds a NUL byte, or is not valid UTF-8 — or "" when it can. Every
// entry point that is not an HTTP request (the CLI's flags) asks it too.
func Unstorable(s string) string { return unstorable(s) }

// unstorable says why s cannot be stored, or "" when it can.
func unstorable(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return reasonNUL
	}
	if !utf8.ValidString(s) {
		return reasonUTF8
	}
	return ""
}

// CheckInput returns the first part of r that storage cannot keep, or nil: a path segment (named by its route
// variable), then a query parameter, then a field of an application/x-www-form-urlencoded or multipart/form-data
// body, then the client id of Basic credentials (fosite looks the client up by it). Run it after the route
// matched, so mux.Vars names the segments. It reads a form body and puts the same bytes back, so the handler
// parses it as if untouched, errors included; a body it cannot read is left to the handler, which refuses it.
// JSON bodies are DecodeJSON's to check.
//
// The other inputs never reach storage as sent: net/http refuses a Host header with control or non-ASCII bytes
// before any handler runs; bearer tokens, API keys, session cookies and codes are looked up by their hash (and an
// access token's JWT signature is verified first); Origin is compared in memory with registered origins;
// X-Forwarded-For is parsed as IP addresses; X-Request-Id is only logged, escaped by slog.
func CheckInput(r *http.Request) *InputError {
	if e := checkPath(r); e != nil {
		return e
	}
	if e := checkPairs(InQuery, r.URL.RawQuery); e != nil {
		return e
	}
	if e := checkFormBody(r); e != nil {
		return e
	}
	if id, _, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1 form-encodes the client id; fosite decodes it before the lookup.
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if reason := unstorable(id); reason != "" {
			return &InputError{In: InHeader, Name: "client_id", Reason: reason}
		}
	}
	return nil
}

// RefuseBadInput is middleware that answers a request CheckInput refuses with refuse (each surface answers in
// its own error shape) and passes every other request to next; refusals are logged at debug level to logger.
// Mount it on routes, after tenant resolution.
func RefuseBadInput(logger *slog.Logger, refuse func(http.ResponseWriter, *http.Request, *InputError)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A CORS preflight is answered from its Origin and Access-Control-Request-* headers alone (Server.CORS);
			// refusing it would only keep the browser app from seeing the refusal of the request itself.
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			if e := CheckInput(r); e != nil {
				// Names only: the value may be a secret (a refresh token, a password).
				logger.Debug("request refused: input storage cannot keep", "request_id", RequestIDFromContext(r.Context()),
					"in", e.In, "name", e.Name, "reason", e.Reason)
				refuse(w, r, e)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// checkPath checks each decoded segment of the escaped path the router matched, so "%00" and "%FF" count, and an
// escaped slash stays inside its segment.
func checkPath(r *http.Request) *InputError {
	// The decoded path is every decoded segment joined by slashes (an escaped slash decodes to one too), and a
	// string split at ASCII slashes keeps its validity: when the whole path is storable, every segment is. Only a
	// refused path is walked segment by segment, to name the segment.
	if unstorable(r.URL.Path) == "" {
		return nil
	}
	vars := mux.Vars(r)
	for _, seg := range strings.Split(r.URL.EscapedPath(), "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			dec = seg // net/http refuses bad escapes in the request line; keep checking the raw text regardless
		}
		reason := unstorable(dec)
		if reason == "" {
			continue
		}
		e := &InputError{In: InPath, Reason: reason}
		names := make([]string, 0, len(vars))
		for name := range vars {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if v := vars[name]; v == seg || v == dec {
				e.Name = name
				break
			}
		}
		return e
	}
	return nil
}

// checkPairs checks the names and values of an urlencoded string in order. A pair net/url cannot decode is
// skipped: url.ParseQuery drops it, so it reaches no handler.
func checkPairs(in, raw string) *InputError {
	// Without a percent escape, every decoded name and value is a piece of raw (with '+' read as a space): one
	// check of raw covers them all.
	if strings.IndexByte(raw, '%') < 0 && unstorable(raw) == "" {
		return nil
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		if reason := unstorable(name); reason != "" {
			return &InputError{In: in, Reason: reason}
		}
		if reason := unstorable(value); reason != "" {
			return &InputError{In: in, Name: name, Reason: reason}
		}
	}
	return nil
}

// checkFormBody checks the fields of a form body, which every handler parses the same way (r.ParseForm or
// r.ParseMultipartForm, as fosite does at the token, introspection and revocation endpoints), and puts the body
// back. net/http parses a multipart body for any method, so the method is not looked at.
func checkFormBody(r *http.Request) *InputError {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	var (
		mt     string
		params map[string]string
	)
	// The token, introspection and revocation endpoints take a form on every request: recognise it without
	// parsing the media type.
	if len(ct) >= len(formType) && strings.EqualFold(ct[:len(formType)], formType) && (len(ct) == len(formType) || ct[len(formType)] == ';') {
		mt = formType
	} else {
		var err error
		// Any other spelling net/http parses as a form ("…urlencoded ; charset=utf-8", other case) is checked too:
		// the fast path above only saves the parse.
		if mt, params, err = mime.ParseMediaType(ct); err != nil || (mt != formType && mt != "multipart/form-data") {
			return nil
		}
	}
	orig := r.Body
	buf := bytes.NewBuffer(make([]byte, 0, max(min(r.ContentLength, MaxBodyBytes), 0)+bytes.MinRead))
	_, err := buf.ReadFrom(orig)
	b := buf.Bytes()
	r.Body = &replayBody{data: b, err: err, closer: orig}
	if err != nil {
		return nil
	}
	if mt == formType {
		return checkPairs(InForm, string(b))
	}
	mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil // the end, or a malformed body that the handler's own parse refuses
		}
		name := p.FormName()
		if reason := unstorable(name); reason != "" {
			return &InputError{In: InForm, Reason: reason}
		}
		if name == "" || p.FileName() != "" {
			continue // net/http keeps no value for these; no handler reads uploaded files
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil
		}
		if reason := unstorable(string(v)); reason != "" {
			return &InputError{In: InForm, Name: name, Reason: reason}
		}
	}
}

// formType is the media type of an urlencoded form body.
const formType = "application/x-www-form-urlencoded"

// replayBody serves the bytes CheckInput read, then the error reading them ended with (nil: io.EOF), and closes
// the original body.
type replayBody struct {
	data   []byte
	err    error
	closer io.Closer
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		if b.err == nil {
			return 0, io.EOF
		}
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *replayBody) Close() error { return b.closer.Close() }
