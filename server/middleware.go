package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
)

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// WriteString writes s without copying it into a byte slice first (io.StringWriter, as net/http's writer is).
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += n
	return n, err
}

// requestID is the id of request r in logs and answers: the caller's X-Request-Id when it sends one of at most 64
// bytes, else a new random one (16 characters).
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		id = ids.Random(12)
	}
	return id
}

// Observe assigns a request id, bounds the body, recovers panics as a bare 500, and logs and counts the request.
func (s *Server) Observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(audit.WithClientIP(httpx.WithRequestID(r.Context(), id), s.ClientIP(r)))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes)
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic serving request", "request_id", id, "panic", p)
				if sw.status == 0 {
					http.Error(sw, "internal server error", http.StatusInternalServerError)
				}
			}
			route := "unmatched"
			if cr := mux.CurrentRoute(r); cr != nil {
				if tpl, err := cr.GetPathTemplate(); err == nil {
					route = tpl
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.Metrics.Requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.Metrics.Latency.WithLabelValues(route).Observe(d.Seconds())
			level := slog.LevelDebug
			if status >= 500 && r.Context().Err() == nil {
				level = slog.LevelError
			}
			if !s.Logger.Enabled(r.Context(), level) {
				return
			}
			attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "host", r.Host, "status", status, "duration_ms", d.Milliseconds()}
			if t := TenantFromContext(r.Context()); t != nil {
				attrs = append(attrs, "tenant", t.Slug)
			}
			if cid := clientIDOf(r); cid != "" {
				attrs = append(attrs, "client_id", cid)
			}
			s.Logger.Log(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// Identify gives each request on the admin listener an id as Observe does on the public one (requestID): echoed
// in X-Request-Id and carried for the log lines the request causes, with the caller's address. It does no more:
// the admin listener's bodies (an import) and durations (a profile) are not the public listener's.
func (s *Server) Identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(audit.WithClientIP(httpx.WithRequestID(r.Context(), id), s.ClientIP(r))))
	})
}

// ResolveTenant attaches the tenant answering on the request's Host. The Host is canonicalized first
// (canon.Host: lower case, no trailing dot, IDNs in ASCII, a numeric port without the scheme's default), so
// however a client spells a tenant domain it gets one issuer; a Host that is not a host name gets 400
// invalid_request before any lookup, and an unknown host a bare 404 JSON.
func (s *Server) ResolveTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, err := canon.Host(r.Host, s.Config.PublicScheme)
		if err != nil {
			httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The Host header is not a valid host name."})
			return
		}
		name, _, _ := strings.Cut(host, ":")
		h, err := s.Tenants.ResolveHost(r.Context(), name)
		if errors.Is(err, ErrUnknownHost) {
			httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No tenant answers on this host."})
			return
		} else if err != nil {
			httpx.LogFailure(r.Context(), s.Logger, "tenant resolution failed", err)
			httpx.WriteFailure(w, err)
			return
		}
		tenant := NewTenant(h.Tenant, s.Config.PublicScheme, host)
		tenant.JWKS = h.JWKS
		next.ServeHTTP(w, r.WithContext(WithTenant(r.Context(), tenant)))
	})
}

// clientIDOf names the OAuth client a request speaks for, from Basic credentials or the client_id parameter
// (never the secret).
func clientIDOf(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if !ok {
		if r.Form != nil {
			id = r.Form.Get("client_id")
		} else {
			id = r.URL.Query().Get("client_id")
		}
	}
	// Only something shaped like a client id is logged: a caller who puts a secret (an API key, say) where the
	// client id belongs must not get it into the log.
	if !strings.HasPrefix(id, "cli_") || len(id) > 64 {
		return ""
	}
	return id
}

// ClientIP is the address a request came from: the connection's peer, or, when that peer is a trusted proxy,
// the right-most X-Forwarded-For entry that is not itself a trusted proxy. Left-most entries are whatever the
// client chose to send and are never believed.
func (s *Server) ClientIP(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop ends what can be believed
		}
		if !s.trusted(hop) {
			return hop.Unmap().String()
		}
	}
	return addr.Unmap().String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.Config.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
