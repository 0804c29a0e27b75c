package router_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

func TestManagementAPICORS(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	acme.NewClient(directory.ClientSpec{Name: "portal", Type: storage.ClientPublic, RedirectURIs: []string{"https://portal.acme.test/cb"},
		WebOrigins: []string{"https://portal.acme.test"}})
	c := env.Client(testenv.ClientOptions{})
	for _, tc := range []struct {
		name, origin string
		status       int
		allowOrigin  string
	}{
		{"registered origin", "https://portal.acme.test", http.StatusNoContent, "https://portal.acme.test"},
		{"unregistered origin", "https://evil.test", http.StatusForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.Do(t, c, http.MethodOptions, acme.URL("/api/v2/organizations/org_x/members"), nil,
				testenv.Header("Origin", tc.origin), testenv.Header("Access-Control-Request-Method", "POST"))
			if r.StatusCode != tc.status || r.Header.Get("Access-Control-Allow-Origin") != tc.allowOrigin {
				t.Errorf("preflight: %d, Allow-Origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
			if tc.allowOrigin != "" && r.Header.Get("Access-Control-Allow-Methods") != "DELETE, GET, POST" {
				t.Errorf("Allow-Methods = %q", r.Header.Get("Access-Control-Allow-Methods"))
			}
		})
	}
	// The actual request carries the header too, even when it is refused.
	r := testenv.Get(t, c, acme.URL("/api/v2/organizations"), testenv.Header("Origin", "https://portal.acme.test"))
	if r.StatusCode != http.StatusUnauthorized || r.Header.Get("Access-Control-Allow-Origin") != "https://portal.acme.test" {
		t.Errorf("GET without credentials: %d, Allow-Origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	s := newAcme(t)
	browser := s.env.Client(testenv.ClientOptions{StopAt: []string{spaRedirect}})
	ar := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
	ar.Code(t, s.acme, browser, s.user.Email, testenv.Password)
	silent := func() url.Values {
		a := testenv.NewAuthRequest(s.spa.ClientID, spaRedirect)
		a.Extra = url.Values{"prompt": {"none"}}
		return a.Callback(t, s.acme, testenv.Get(t, browser, a.URL(s.acme)))
	}
	if q := silent(); q.Get("code") == "" {
		t.Fatalf("the session does not work before the change: %v", q)
	}
	key := s.acme.APIKey(t)
	if r := s.acme.API(t, browser, http.MethodPatch, "/users/"+s.user.ID, key, map[string]any{"name": "Alice"}); r.StatusCode != http.StatusOK {
		t.Fatalf("PATCH name: %d %s", r.StatusCode, r.Body)
	}
	if q := silent(); q.Get("code") == "" {
		t.Errorf("a name change ended the session: %v", q)
	}
	if r := s.acme.API(t, browser, http.MethodPatch, "/users/"+s.user.ID, key, map[string]any{"password": "a brand new password"}); r.StatusCode != http.StatusOK {
		t.Fatalf("PATCH password: %d %s", r.StatusCode, r.Body)
	}
	if q := silent(); q.Get("error") != "login_required" {
		t.Errorf("after a password change, prompt=none = %v, want login_required", q)
	}
	events, err := s.env.S.Store.ListAudit(s.acme.Ctx, storage.AuditFilter{Type: directory.EventUserUpdated})
	if err != nil || len(events) != 2 || events[0].Data["changed"] == nil {
		t.Errorf("user.updated events = %+v, %v", events, err)
	}
}
