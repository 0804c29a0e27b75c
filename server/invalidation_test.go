package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// Every change that affects what the cache holds must reach the reads that go through it: at once on the
// replica that made it, and within a second on the others. Each case below first reads through the cache on
// the reading replica (so the old value is cached there), then makes one change through the writing replica,
// then reads again until the new value shows. The cached reads are the real ones: HTTP requests a client makes.

// invalidationFixture is a tenant with what the cases change: a machine client with a role on an API, a second
// client, a browser client with a web origin, an extra domain.
type invalidationFixture struct {
	w, r     *testenv.Tenant // the tenant on the writing and on the reading replica
	c        *http.Client    // dials the reading replica
	svc      directory.CreatedClient
	other    directory.CreatedClient
	spa      directory.CreatedClient
	role     storage.Role
	extra    string // a second domain of the tenant
	ctx      context.Context
	write    *testenv.Env
	readHost func(host string) int // status of discovery on host, at the reading replica
}

const (
	api2        = "https://api2.acme.test"
	spaOrigin   = "https://app.acme.test"
	newOrigin   = "https://new.acme.test"
	extraDomain = "login.acme.test"
)

func newInvalidationFixture(t *testing.T, w, r *testenv.Env) *invalidationFixture {
	t.Helper()
	f := &invalidationFixture{write: w}
	f.w = w.NewTenant("acme")
	f.r = r.Tenant("acme")
	f.ctx = f.w.Ctx
	f.c = r.Client(testenv.ClientOptions{NoRedirects: true})
	s := w.S
	if _, err := s.CreateResourceServer(f.ctx, directory.ResourceServerSpec{Identifier: api, Name: "API", TokenLifetime: 3600,
		Scopes: []storage.Scope{{Value: "read"}, {Value: "write"}}}); err != nil {
		t.Fatal(err)
	}
	role, err := s.CreateRole(f.ctx, directory.RoleSpec{Name: "reader", Permissions: []storage.Permission{{ResourceServer: api, Name: "read"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.role = role
	f.svc = f.w.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
		Audiences: []string{api}})
	if _, err := s.AssignClientRoles(f.ctx, f.svc.ClientID, []string{role.ID}, storage.SourceManual); err != nil {
		t.Fatal(err)
	}
	f.other = f.w.NewClient(directory.ClientSpec{Name: "other", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})
	f.spa = f.w.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{spaRedirect},
		WebOrigins: []string{spaOrigin}})
	if _, err := s.AddDomain(context.Background(), f.w.ID, extraDomain); err != nil {
		t.Fatal(err)
	}
	f.readHost = func(host string) int {
		return testenv.Get(t, f.c, "http://"+host+":"+r.Port+"/.well-known/openid-configuration").StatusCode
	}
	return f
}

// token asks the reading replica for a client-credentials token; ok is false when it refused.
func (f *invalidationFixture) token(t *testing.T, id, secret, audience string) (claims map[string]any, kid string, ok bool) {
	t.Helper()
	form := url.Values{}
	if audience != "" {
		form.Set("audience", audience)
	}
	r := f.r.ClientCredentials(t, f.c, id, secret, form)
	if r.StatusCode != http.StatusOK {
		return nil, "", false
	}
	h, c := testenv.DecodeJWT(t, testenv.TokensOf(t, r).AccessToken)
	kid, _ = h["kid"].(string)
	return c, kid, true
}

func (f *invalidationFixture) permissions(t *testing.T) []string {
	t.Helper()
	c, _, ok := f.token(t, f.svc.ClientID, f.svc.ClientSecret, api)
	if !ok {
		t.Fatal("no token for the machine client")
	}
	var out []string
	ps, _ := c["permissions"].([]any)
	for _, p := range ps {
		out = append(out, p.(string))
	}
	slices.Sort(out)
	return out
}

func (f *invalidationFixture) lifetime(t *testing.T, audience string) time.Duration {
	t.Helper()
	c, _, ok := f.token(t, f.svc.ClientID, f.svc.ClientSecret, audience)
	if !ok {
		t.Fatal("no token for the machine client")
	}
	return time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second
}

func (f *invalidationFixture) preflight(t *testing.T, origin string) int {
	t.Helper()
	return testenv.Do(t, f.c, http.MethodOptions, f.r.URL("/oauth/token"), nil, testenv.Header("Origin", origin),
		testenv.Header("Access-Control-Request-Method", "POST")).StatusCode
}

// about reports whether a token lifetime read from whole-second exp and iat claims is d.
func about(got, d time.Duration) bool { return got >= d-time.Second && got <= d+time.Second }

type invalidationCase struct {
	name string
	// seen reports whether the reading replica shows the change; it must report false before (the old value
	// is then cached there).
	seen  func(t *testing.T, f *invalidationFixture) bool
	write func(t *testing.T, f *invalidationFixture)
}

func invalidationCases() []invalidationCase {
	var rotated, secret string
	return []invalidationCase{
		{"a key rotation reaches JWKS and signing", func(t *testing.T, f *invalidationFixture) bool {
			_, kid, _ := f.token(t, f.svc.ClientID, f.svc.ClientSecret, api)
			return rotated != "" && kid == rotated && slices.Contains(testenv.KidsOf(t, f.r.JWKS(t, f.c)), rotated)
		}, func(t *testing.T, f *invalidationFixture) {
			k, err := f.write.S.RotateKey(context.Background(), f.w.Stored(t))
			if err != nil {
				t.Fatal(err)
			}
			rotated = k.ID
		}},
		{"a client update (audiences)", func(t *testing.T, f *invalidationFixture) bool {
			_, _, ok := f.token(t, f.svc.ClientID, f.svc.ClientSecret, api2)
			return ok
		}, func(t *testing.T, f *invalidationFixture) {
			if _, err := f.write.S.UpdateClient(f.ctx, f.svc.ClientID, directory.ClientUpdate{Audiences: &[]string{api, api2}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a client update (web origins, CORS)", func(t *testing.T, f *invalidationFixture) bool {
			return f.preflight(t, newOrigin) == http.StatusNoContent
		}, func(t *testing.T, f *invalidationFixture) {
			if _, err := f.write.S.UpdateClient(f.ctx, f.spa.ClientID, directory.ClientUpdate{WebOrigins: &[]string{spaOrigin, newOrigin}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a client secret rotation", func(t *testing.T, f *invalidationFixture) bool {
			_, _, newOK := f.token(t, f.svc.ClientID, secret, api)
			_, _, oldOK := f.token(t, f.svc.ClientID, f.svc.ClientSecret, api)
			return secret != "" && newOK && !oldOK
		}, func(t *testing.T, f *invalidationFixture) {
			cc, err := f.write.S.RotateClientSecret(f.ctx, f.svc.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			secret = cc.ClientSecret
			t.Cleanup(func() { f.svc.ClientSecret = secret }) // the cases after this one use the new secret
		}},
		{"a client deletion", func(t *testing.T, f *invalidationFixture) bool {
			_, _, ok := f.token(t, f.other.ClientID, f.other.ClientSecret, "")
			return !ok
		}, func(t *testing.T, f *invalidationFixture) {
			if err := f.write.S.DeleteClient(f.ctx, f.other.ClientID); err != nil {
				t.Fatal(err)
			}
		}},
		{"a role's permissions", func(t *testing.T, f *invalidationFixture) bool {
			return slices.Equal(f.permissions(t), []string{"read", "write"})
		}, func(t *testing.T, f *invalidationFixture) {
			if err := f.write.S.AddRolePermissions(f.ctx, f.role.ID, []storage.Permission{{ResourceServer: api, Name: "write"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a role taken from the client", func(t *testing.T, f *invalidationFixture) bool {
			return len(f.permissions(t)) == 0
		}, func(t *testing.T, f *invalidationFixture) {
			if _, err := f.write.S.RemoveClientRoles(f.ctx, f.svc.ClientID, []string{f.role.ID}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a resource server change", func(t *testing.T, f *invalidationFixture) bool {
			return about(f.lifetime(t, api), 120*time.Second)
		}, func(t *testing.T, f *invalidationFixture) {
			lifetime := 120
			if _, err := f.write.S.UpdateResourceServer(f.ctx, api, directory.ResourceServerUpdate{TokenLifetime: &lifetime}); err != nil {
				t.Fatal(err)
			}
		}},
		{"tenant settings, changed through the store alone", func(t *testing.T, f *invalidationFixture) bool {
			return about(f.lifetime(t, ""), 300*time.Second)
		}, func(t *testing.T, f *invalidationFixture) {
			if err := f.write.S.Store.UpdateTenant(context.Background(), f.w.ID, func(old storage.Tenant) (storage.Tenant, error) {
				old.AccessTokenTTL = 300
				return old, nil
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a domain removal", func(t *testing.T, f *invalidationFixture) bool {
			return f.readHost(extraDomain) == http.StatusNotFound
		}, func(t *testing.T, f *invalidationFixture) {
			if _, err := f.write.S.RemoveDomain(context.Background(), f.w.Slug, extraDomain); err != nil {
				t.Fatal(err)
			}
		}},
		{"a domain added where the host was unknown", func(t *testing.T, f *invalidationFixture) bool {
			return f.readHost("sso.acme.test") == http.StatusOK
		}, func(t *testing.T, f *invalidationFixture) {
			if _, err := f.write.S.AddDomain(context.Background(), f.w.ID, "sso.acme.test"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a client's web origins, changed through the store alone", func(t *testing.T, f *invalidationFixture) bool {
			return f.preflight(t, spaOrigin) == http.StatusForbidden
		}, func(t *testing.T, f *invalidationFixture) {
			if err := f.write.S.Store.UpdateClient(f.ctx, f.spa.ClientID, func(old storage.Client) (storage.Client, error) {
				old.WebOrigins = []string{newOrigin}
				return old, nil
			}); err != nil {
				t.Fatal(err)
			}
		}},
	}
}

// runInvalidation runs every case with f, waiting up to within for the reading replica to show each change
// (0: it must show at once).
func runInvalidation(t *testing.T, f *invalidationFixture, within time.Duration) {
	for _, tc := range invalidationCases() {
		ok := t.Run(tc.name, func(t *testing.T) {
			if tc.seen(t, f) {
				t.Fatal("the reading replica shows the change before it was made")
			}
			tc.write(t, f)
			deadline := time.Now().Add(within)
			for !tc.seen(t, f) {
				if time.Now().After(deadline) {
					t.Fatalf("the reading replica does not show the change %v after it committed", within)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		if !ok {
			return // the cases build on each other
		}
	}
}

// TestChangesReachTheCache: on one server, a committed change shows in the very next read, whatever the path
// it took (the directory's services, or the store alone).
func TestChangesReachTheCache(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		env := testenv.New(t, o)
		runInvalidation(t, newInvalidationFixture(t, env, env), 0)
	})
}

// TestChangesReachTheOtherReplica: a change committed through one replica reaches the cache of the other
// within a second (through the Redis the replicas share).
func TestChangesReachTheOtherReplica(t *testing.T) {
	t.Parallel()
	a, b := twoReplicas(t)
	runInvalidation(t, newInvalidationFixture(t, a, b), time.Second)
}

// TestColdTenantDecryptsItsKeyOnce: serving a tenant's JWKS and discovery decrypts no private key, and the
// first tokens of a tenant nobody has asked for yet, requested all at once, decrypt and parse its key once.
func TestColdTenantDecryptsItsKeyOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})
	c := env.Client(testenv.ClientOptions{})
	env.S.Memo.Flush() // cold, as after a restart
	base := env.S.Memo.Stats().Loads["signing_key"]
	keyLoads := func() uint64 { return env.S.Memo.Stats().Loads["signing_key"] - base }

	acme.JWKS(t, c)
	if r := testenv.Get(t, c, acme.URL("/.well-known/openid-configuration")); r.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", r.StatusCode)
	}
	if n := keyLoads(); n != 0 {
		t.Errorf("JWKS and discovery decrypted %d private keys, want none", n)
	}
	outs := testenv.Concurrently(8, func(int) *http.Client { return c }, func(int) *http.Request {
		req := testenv.FormRequest(acme.URL("/oauth/token"), url.Values{"grant_type": {"client_credentials"}})
		req.SetBasicAuth(svc.ClientID, svc.ClientSecret)
		return req
	})
	for i, o := range outs {
		if o.Err != nil || o.Status != http.StatusOK {
			t.Fatalf("token request %d: %v %d %s", i, o.Err, o.Status, o.Body)
		}
	}
	if n := keyLoads(); n != 1 {
		t.Errorf("8 concurrent first tokens decrypted the key %d times, want once", n)
	}
}
