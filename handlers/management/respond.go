package management

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
)

// apiError is an answer the caller may read: an HTTP status, a stable snake_case code and a message. Anything
// else a handler returns is logged and answered with a bare 500.
type apiError struct {
	status  int
	code    string
	message string
	scope   string // the scope an insufficient_scope answer asked for
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is the Management API's error shape (Auth0's).
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

// toAPIError maps what the server layer returns onto the answer the caller sees; nil for an unknown error.
func toAPIError(err error) *apiError {
	var (
		ae  *apiError
		ve  *directory.ValidationError
		nf  *directory.NotFoundError
		ce  *directory.ConflictError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return errorf(http.StatusBadRequest, "invalid_body", "%s", ve.Error())
	case errors.As(err, &nf):
		msg := fmt.Sprintf("No %s found", strings.ReplaceAll(nf.Resource, "_", " "))
		if nf.ID != "" {
			msg += fmt.Sprintf(" for %q", nf.ID)
		}
		return errorf(http.StatusNotFound, nf.Resource+"_not_found", "%s.", msg)
	case errors.As(err, &ce):
		return errorf(http.StatusConflict, "conflict", "%s", ce.Error())
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "The request body is larger than %d bytes.", mbe.Limit)
	}
	return nil
}

// fail writes err as the Management API's error JSON. Unknown errors are logged with the request id and
// answered with a generic 500 (their text may hold SQL or other internals), or with 503 and Retry-After when
// the database or the cache failed (httpx.IsUnavailable).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae == nil {
		httpx.LogFailure(r.Context(), h.Logger, "management API request failed", err)
		ae = errorf(http.StatusInternalServerError, "internal_error", "Internal error; request id %s.", httpx.RequestIDFromContext(r.Context()))
		if httpx.IsUnavailable(err) {
			ae = errorf(http.StatusServiceUnavailable, "temporarily_unavailable",
				"The service is temporarily unavailable; retry shortly. Request id %s.", httpx.RequestIDFromContext(r.Context()))
			httpx.SetRetryAfter(w, ae.status)
		}
	}
	switch {
	case ae.status == http.StatusUnauthorized && ae.code == "invalid_token":
		w.Header().Set("WWW-Authenticate", `Bearer realm="management", error="invalid_token"`)
	case ae.status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="management"`)
	case ae.code == "insufficient_scope":
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="management", error="insufficient_scope", scope=%q`, ae.scope))
	}
	httpx.WriteJSON(w, ae.status, errorBody{StatusCode: ae.status, Error: http.StatusText(ae.status), Message: ae.message, ErrorCode: ae.code})
}

// renameFields rewrites a validation error's field with names, so messages use the API's field names where
// the server's are the CLI's flags.
func renameFields(err error, names map[string]string) error {
	var ve *directory.ValidationError
	if errors.As(err, &ve) {
		if n, ok := names[ve.Field]; ok {
			return &directory.ValidationError{Field: n, Message: ve.Message}
		}
	}
	return err
}

// decode reads a JSON object body into v (httpx.DecodeJSON's rules); bad input is invalid_body.
func decode(r *http.Request, v any) error {
	err := httpx.DecodeJSON(r, v)
	var be *httpx.BodyError
	if errors.As(err, &be) {
		return errorf(http.StatusBadRequest, "invalid_body", "%s", be.Message)
	}
	return err
}

// Paging, as Auth0's lists do it: page is 0-based, per_page defaults to 50 and may not exceed 100.
const (
	defaultPerPage = 50
	maxPerPage     = 100
)

type paging struct {
	page, perPage int
	totals        bool
}

func (p paging) store() storage.Page {
	return storage.Page{Offset: p.page * p.perPage, Limit: p.perPage}
}

func queryError(param, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid_query_string", "%s: %s", param, fmt.Sprintf(format, args...))
}

func parsePaging(q url.Values) (paging, error) {
	p := paging{perPage: defaultPerPage}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return p, queryError("page", "must be a page number from 0")
		}
		p.page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPerPage {
			return p, queryError("per_page", "must be between 1 and %d", maxPerPage)
		}
		p.perPage = n
	}
	if v := q.Get("include_totals"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, queryError("include_totals", "must be true or false")
		}
		p.totals = b
	}
	return p, nil
}

// checkpoint is a checkpoint page request (Auth0's from and take): on when either parameter is present, which
// overrides page and per_page. take 0 is the default (directory.DefaultCheckpointTake).
type checkpoint struct {
	on   bool
	from string
	take int
}

func parseCheckpoint(q url.Values) (checkpoint, error) {
	c := checkpoint{on: q.Has("from") || q.Has("take"), from: q.Get("from")}
	if v := q.Get("take"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > directory.MaxCheckpointTake {
			return c, queryError("take", "must be a number from 1 to %d", directory.MaxCheckpointTake)
		}
		c.take = n
	}
	return c, nil
}

// asQueryError reports a validation error of a query parameter (from, take, since, …) as invalid_query_string.
func asQueryError(err error) error {
	var ve *directory.ValidationError
	if errors.As(err, &ve) {
		return queryError(ve.Field, "%s", ve.Message)
	}
	return err
}

// writeCheckpoint answers a checkpoint page: {key: items, "next": cursor}, without next on the last page (Auth0:
// "when next is no longer included in the response, no pages are remaining").
func writeCheckpoint[T any](w http.ResponseWriter, key string, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	body := map[string]any{key: items}
	if next != "" {
		body["next"] = next
	}
	httpx.WriteJSON(w, http.StatusOK, body)
}

// writeList answers a page of items: a bare array, or with include_totals an object holding the items under
// key with start, limit, length and total.
func writeList[T any](w http.ResponseWriter, p paging, key string, items []T, total int64) {
	if items == nil {
		items = []T{}
	}
	if !p.totals {
		httpx.WriteJSON(w, http.StatusOK, items)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{key: items, "start": p.page * p.perPage, "limit": p.perPage,
		"length": len(items), "total": total})
}

// mapSlice converts each element of in with f.
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// orEmpty returns m, or an empty object for nil, so JSON shows {} rather than null.
func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// optional returns nil for "", so JSON shows null.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
