// Package admin serves the tenant API of the admin listener, for the platform's control plane: POST
// /admin/v1/tenants:import creates tenants (with their signing keys and clients) from JSON lines or a JSON array,
// as `authio tenant import` does, and streams one result per line back. It answers only a bearer token equal to
// AUTHIO_ADMIN_TOKEN and is off when none is configured; it is never served on tenant domains.
package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
)

// Services is what the tenant API needs of the server.
type Services interface {
	// ImportTenants creates the tenants of r (JSON lines or a JSON array of server.TenantSpec) and hands emit one
	// result per line, in input order (server.Server.ImportTenants).
	ImportTenants(ctx context.Context, r io.Reader, emit func(server.ImportResult) error) (server.ImportSummary, error)
}

// MaxImportBytes bounds the body of one import request (bytes): about 100,000 tenants of a few hundred bytes.
const MaxImportBytes = 64 << 20

// ImportTimeout bounds one import request, reading and answering included.
const ImportTimeout = time.Hour

// Handler serves /admin/v1.
type Handler struct {
	S Services
	// Token is the bearer token callers must present (AUTHIO_ADMIN_TOKEN); empty turns the API off.
	Token  string
	Logger *slog.Logger
}

// Mount adds the tenant API to r (the admin listener's router).
func (h *Handler) Mount(r *mux.Router) {
	r.Handle("/admin/v1/tenants:import", h.authorized(http.HandlerFunc(h.importTenants))).Methods(http.MethodPost)
}

// authorized refuses a request without the admin token: 404 while the API is off, 401 (RFC 6750) for a missing
// or wrong token.
func (h *Handler) authorized(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(h.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.Token == "" {
			httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
				"error_description": "The tenant API is off: set AUTHIO_ADMIN_TOKEN to turn it on."})
			return
		}
		auth := r.Header.Get("Authorization")
		if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
			httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_request", "A bearer token is required.")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(auth[7:])))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			httpx.WriteBearerError(w, http.StatusUnauthorized, "invalid_token", "The token is not the admin token.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// importTenants answers POST /admin/v1/tenants:import. The body is JSON lines (Content-Type application/x-ndjson
// or application/jsonl) or a JSON array (application/json) of tenant specs; the answer, 200, is JSON lines
// (application/x-ndjson), one server.ImportResult per input line in input order, streamed as lines are done. A
// body over MaxImportBytes is refused (413) before anything is created; an import that stops early (the array
// stops being JSON) ends with a line whose "line" is 0 and whose "status" is "error".
func (h *Handler) importTenants(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		mt = ""
	case mt == "application/json", mt == "application/x-ndjson", mt == "application/jsonl":
	default:
		mt = ""
	}
	if mt == "" {
		httpx.WriteJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "invalid_request",
			"error_description": "The body must be JSON lines (application/x-ndjson) or a JSON array (application/json)."})
		return
	}
	rc := http.NewResponseController(w)
	// RSA tenants are created at tens per second per core: the listener's read and write timeouts, made for small
	// requests, would cut a large import short.
	deadline := time.Now().Add(ImportTimeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	// The whole body first: an HTTP/1.1 server cannot read a request once it answers, and a client that sends
	// everything before reading would otherwise wait on an answer that waits on it.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		httpx.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "invalid_request",
			"error_description": "The body is larger than 64 MiB: split the import."})
		return
	} else if err != nil {
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request",
			"error_description": "The body could not be read."})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flushed := time.Now()
	emit := func(res server.ImportResult) error {
		if err := enc.Encode(res); err != nil {
			return err
		}
		// Flush now and then, so a long import shows progress without a write per line.
		if time.Since(flushed) >= 100*time.Millisecond {
			flushed = time.Now()
			return rc.Flush()
		}
		return nil
	}
	sum, err := h.S.ImportTenants(r.Context(), bytes.NewReader(body), emit)
	if err != nil && r.Context().Err() == nil {
		var be *httpx.BodyError
		msg := "The import stopped: a server failure; the lines not reported can be imported again."
		switch {
		case errors.As(err, &be):
			msg = "The import stopped: " + be.Message
		default:
			httpx.LogFailure(r.Context(), h.Logger, "tenant import failed", err)
		}
		_ = enc.Encode(server.ImportResult{Status: server.ImportFailed, Error: &server.ImportError{Message: msg}})
	}
	h.Logger.Info("tenant import", "created", sum.Created, "exists", sum.Exists, "failed", sum.Failed,
		"request_id", httpx.RequestIDFromContext(r.Context()))
}
