package oauth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/config"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// TestDiscoveryCacheIsBounded: the Host header (port included) is chosen by the client, so a cache keyed by
// it must not grow with every distinct Host an attacker sends: the cache's byte bound holds.
func TestDiscoveryCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "authio.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.SecretKey = "authio-test-secret-key-0123456789-abcdefghijklmn"
	cfg.CacheMaxBytes = 1 << 20 // 5,000 documents of about 2 KB each would need ten times that
	s := server.NewWith(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), store, cache.NewMemory())
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.CreateTenant(ctx, "acme", "Acme", keys.AlgRS256, nil); err != nil {
		t.Fatal(err)
	}
	pages, err := templates.New(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{S: s, Provider: s.Provider, Keys: s.Keys, Metrics: s.Metrics, Pages: pages, Logger: s.Logger, Now: time.Now, Memo: s.Memo}
	r := mux.NewRouter()
	tenant := r.NewRoute().Subrouter()
	tenant.Use(s.ResolveTenant)
	h.Mount(tenant)

	const hosts = 5000
	for i := range hosts {
		req := httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil)
		req.Host = fmt.Sprintf("acme.localhost:%d", 10000+i)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"issuer":"http://`+req.Host+`/"`) {
			t.Fatalf("discovery on %s: %d %s", req.Host, w.Code, w.Body)
		}
	}
	st := s.Memo.Stats()
	if st.Loads["discovery"] < hosts {
		t.Errorf("%d documents serialized for %d distinct Host headers", st.Loads["discovery"], hosts)
	}
	if st.Bytes > st.MaxBytes {
		t.Errorf("the cache holds %d bytes after requests with %d distinct Host headers; its bound is %d", st.Bytes, hosts, st.MaxBytes)
	}
}
