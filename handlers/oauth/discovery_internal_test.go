package oauth

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestDiscoveryCacheIsBounded: the Host header (port included) is chosen by the client, so what discovery
// caches must not grow with every distinct Host an attacker sends: it caches one template per kind and algorithm.
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
	if st := s.Memo.Held(); st.Held["discovery"] != 1 || st.Loads["discovery"] != 1 {
		t.Errorf("after requests with %d distinct Host headers the cache holds %d discovery entries (%d loaded), want one",
			hosts, st.Held["discovery"], st.Loads["discovery"])
	}
}

// TestMetadataTemplate: a document written from its template is the metadata serialized for that base URL.
func TestMetadataTemplate(t *testing.T) {
	for _, alg := range []string{keys.AlgRS256, keys.AlgES256} {
		tpl, err := newMetadataTemplate(alg)
		if err != nil {
			t.Fatal(err)
		}
		for _, base := range []string{"https://acme.example.com", "http://acme.localhost:8080", "https://xn--bcher-kva.example"} {
			var got bytes.Buffer
			if err := tpl.writeTo(&got, base); err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(metadata(base, alg))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s %s:\n got %s\nwant %s", alg, base, got.Bytes(), want)
			}
		}
	}
}
