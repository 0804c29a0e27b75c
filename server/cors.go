package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// allowedOrigin reports whether origin is a web origin registered by any client of the tenant in ctx, and the
// error of a lookup that failed (then the origin is not allowed, and a preflight answers 5xx). The tenant's
// origins are read through the cache (memo.Origins).
func (s *Server) allowedOrigin(ctx context.Context, origin string) (bool, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok || origin == "" {
		return false, nil
	}
	set, err := memo.Get(ctx, s.Memo, memo.Origins, tid, "", func(ctx context.Context) (map[string]bool, int, error) {
		clients, err := s.Store.ListClients(ctx)
		if err != nil {
			return nil, 0, err
		}
		set := map[string]bool{}
		for _, c := range clients {
			for _, o := range c.WebOrigins {
				set[strings.ToLower(o)] = true
			}
		}
		return set, memo.SizeOf(set), nil
	})
	if err != nil {
		return false, err
	}
	return set[strings.ToLower(origin)], nil
}

// CORS answers preflights and adds CORS headers for origins registered as a web origin of any of the tenant's
// clients, so browser apps can call the token, userinfo, account and discovery endpoints. methods is the
// Access-Control-Allow-Methods value for preflights.
func (s *Server) CORS(next http.Handler, methods string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed, err := s.allowedOrigin(r.Context(), origin)
		if origin != "" {
			w.Header().Add("Vary", "Origin")
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, X-Request-Id")
		}
		if r.Method == http.MethodOptions {
			if err != nil {
				// A preflight refused during an outage would read as "this origin is not registered".
				httpx.LogFailure(r.Context(), s.Logger, "CORS preflight: loading web origins failed", err)
				httpx.WriteFailure(w, err)
				return
			}
			if !allowed {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", methods)
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Auth0-Client")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
