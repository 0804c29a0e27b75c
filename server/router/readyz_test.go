package router_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
)

// TestReadyz: /readyz answers JSON naming each dependency; it is ready while the database answers, and says
// which cache serves. A database that does not answer makes it not ready.
func TestReadyz(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := opts
		wantCache := server.CacheInProcess
		if o.Cache != nil {
			wantCache = server.CacheOK // Redis
		}
		env := testenv.New(t, o)
		c := env.Client(testenv.ClientOptions{NoRedirects: true})
		url := "http://127.0.0.1:" + env.Port + "/readyz"
		readyz := func(t *testing.T, status int) server.Readiness {
			t.Helper()
			r := testenv.Get(t, c, url)
			if r.StatusCode != status || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("GET /readyz: status %d, Content-Type %q, want %d JSON\n%s", r.StatusCode, r.Header.Get("Content-Type"), status, r.Body)
			}
			var rd server.Readiness
			if err := json.Unmarshal([]byte(r.Body), &rd); err != nil {
				t.Fatalf("GET /readyz: %v\n%s", err, r.Body)
			}
			return rd
		}
		want := server.Readiness{Status: "ready", Checks: map[string]string{"database": "ok", "cache": wantCache}}
		if got := readyz(t, http.StatusOK); !reflect.DeepEqual(got, want) {
			t.Errorf("readyz = %+v, want %+v", got, want)
		}
		if r := testenv.Do(t, c, http.MethodHead, url, nil); r.StatusCode != http.StatusOK || r.Body != "" {
			t.Errorf("HEAD /readyz: status %d, body %q", r.StatusCode, r.Body)
		}

		if err := env.S.Store.Close(); err != nil {
			t.Fatal(err)
		}
		want = server.Readiness{Status: "not_ready", Checks: map[string]string{"database": "unavailable", "cache": wantCache}}
		if got := readyz(t, http.StatusServiceUnavailable); !reflect.DeepEqual(got, want) {
			t.Errorf("readyz with the database closed = %+v, want %+v", got, want)
		}
	})
}
