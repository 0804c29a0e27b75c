// Package httpx holds what every HTTP surface shares: the request id, JSON bodies and responses, the one
// classifier of failures (a backing service down is a 5xx, never a client error), and the check that refuses
// input storage cannot keep. Handlers and middleware use it; it knows nothing of tenants or OAuth flows beyond
// fosite's error type.
package httpx

import (
	"context"
	"encoding/json"
	"net/http"
)

// MaxBodyBytes bounds every request body (bytes); OAuth and form posts are tiny.
const MaxBodyBytes = 64 << 10

// WriteJSON writes v as JSON with status, uncached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteBearerError answers a request whose bearer token is missing or refused as RFC 6750 says: a
// WWW-Authenticate challenge and a JSON body.
func WriteBearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
	WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

type requestIDKey struct{}

// WithRequestID carries the request id for logs and error pages.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request id, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
