package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// fakeMicrosoft is a Microsoft-identity-platform-like provider on loopback: its multi-tenant discovery names the
// issuer {authority}/{tenantid}/v2.0, and its token endpoint answers the ID token the test prepared for a code.
type fakeMicrosoft struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	mu  sync.Mutex
	// grants are the ID token claims to answer per code; the token endpoint adds nonce from the authorize
	// request recorded for the code's state, aud and times.
	grants map[string]map[string]any
	// challenges: code → the S256 challenge it was issued for; the token endpoint checks the verifier.
	challenges map[string]string
	nonces     map[string]string
}

func newFakeMicrosoft(t *testing.T) *fakeMicrosoft {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMicrosoft{key: key, grants: map[string]map[string]any{}, challenges: map[string]string{}, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /common/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := f.srv.URL
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                base + "/{tenantid}/v2.0",
			"authorization_endpoint":                base + "/common/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/common/oauth2/v2.0/token",
			"jwks_uri":                              base + "/common/discovery/v2.0/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /common/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /common/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		code := r.PostFormValue("code")
		f.mu.Lock()
		claims, ok := f.grants[code]
		challenge, nonce := f.challenges[code], f.nonces[code]
		delete(f.grants, code)
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		now := time.Now()
		all := map[string]any{"aud": r.PostFormValue("client_id"), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": nonce}
		if id, _, ok := r.BasicAuth(); ok {
			all["aud"] = id
		}
		for k, v := range claims {
			all[k] = v
		}
		payload, _ := json.Marshal(all)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		if err != nil {
			t.Error(err)
			return
		}
		jws, _ := signer.Sign(payload)
		raw, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + code, "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// issue prepares code for the authorization request at authorize (the URL Authio sent the browser to), with
// claims for its ID token.
func (f *fakeMicrosoft) issue(authorize *url.URL, code string, claims map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grants[code] = claims
	f.challenges[code] = authorize.Query().Get("code_challenge")
	f.nonces[code] = authorize.Query().Get("nonce")
}

const (
	tenantA = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantB = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
)

func TestMicrosoftMultiTenantIssuer(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		ms := newFakeMicrosoft(t)
		env := testenv.New(t, o)
		f := &upstreamFixture{env: env, acme: env.NewTenant("acme")}
		f.app = f.acme.NewClient(directory.ClientSpec{Name: "app", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect}})
		f.conn = f.connection(t, f.acme, "microsoft", "waad", map[string]any{"client_id": "ms-app", "client_secret": "ms-secret",
			"tenant": "common", "authority": ms.srv.URL})
		for i, tc := range []struct {
			name   string
			claims map[string]any
			want   int
		}{
			{"the issuer of the token's own tenant", map[string]any{"iss": ms.srv.URL + "/" + tenantA + "/v2.0", "tid": tenantA,
				"sub": "ms-sub-1", "email": "gina@contoso.test", "xms_edov": true}, http.StatusSeeOther},
			{"another tenant's issuer than the tid", map[string]any{"iss": ms.srv.URL + "/" + tenantB + "/v2.0", "tid": tenantA,
				"sub": "ms-sub-2", "email": "hank@contoso.test", "email_verified": true}, http.StatusUnauthorized},
			{"a tid that is no GUID", map[string]any{"iss": ms.srv.URL + "/evil/v2.0", "tid": "evil",
				"sub": "ms-sub-3", "email": "ivan@contoso.test", "email_verified": true}, http.StatusUnauthorized},
			{"the placeholder itself as the issuer", map[string]any{"iss": ms.srv.URL + "/{tenantid}/v2.0", "tid": tenantA,
				"sub": "ms-sub-4", "email": "jane@contoso.test", "email_verified": true}, http.StatusUnauthorized},
			{"no tid", map[string]any{"iss": ms.srv.URL + "/" + tenantA + "/v2.0",
				"sub": "ms-sub-5", "email": "kim@contoso.test", "email_verified": true}, http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := f.start(t, f.acme, f.app, "microsoft")
				if !strings.HasPrefix(s.toIdP.String(), ms.srv.URL+"/common/oauth2/v2.0/authorize?") {
					t.Fatalf("sent to %s, want the fake's authorize endpoint", s.toIdP)
				}
				code := "code-" + string(rune('a'+i))
				ms.issue(s.toIdP, code, tc.claims)
				r := testenv.Get(t, s.browser, f.acme.URL("/login/callback?"+url.Values{"code": {code}, "state": {s.flow}}.Encode()))
				if r.StatusCode != tc.want {
					t.Fatalf("callback: status %d, want %d\n%s", r.StatusCode, tc.want, r.Body)
				}
				email, _ := tc.claims["email"].(string)
				_, created := f.acmeUser(t, email)
				if created != (tc.want == http.StatusSeeOther) {
					t.Errorf("user %s created: %v", email, created)
				}
				if tc.want == http.StatusSeeOther {
					claims := f.finish(t, s, r)
					if claims["idp"] != "microsoft" || !sameStrings(claims["amr"], "fed") {
						t.Errorf("ID token idp %v amr %v", claims["idp"], claims["amr"])
					}
				}
			})
		}
		t.Run("a token without the flow's nonce is refused", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "microsoft")
			ms.issue(s.toIdP, "code-nonce", map[string]any{"iss": ms.srv.URL + "/" + tenantA + "/v2.0", "tid": tenantA,
				"sub": "ms-sub-1", "email": "gina@contoso.test", "xms_edov": true, "nonce": "not-this-flows"})
			r := testenv.Get(t, s.browser, f.acme.URL("/login/callback?"+url.Values{"code": {"code-nonce"}, "state": {s.flow}}.Encode()))
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", r.StatusCode)
			}
		})
	})
}

// fakeGitHub is a GitHub-like OAuth 2.0 provider: a token endpoint (form-encoded answers, errors in a 200 as
// GitHub does) and the user and email APIs.
type fakeGitHub struct {
	srv    *httptest.Server
	mu     sync.Mutex
	codes  map[string]string // code → PKCE challenge
	emails []map[string]any
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		code := r.PostFormValue("code")
		g.mu.Lock()
		challenge, ok := g.codes[code]
		delete(g.codes, code)
		g.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		if !ok || r.PostFormValue("client_secret") != "gh-secret" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.Write([]byte("error=bad_verification_code&error_description=The+code+passed+is+incorrect"))
			return
		}
		w.Write([]byte("access_token=gho_" + code + "&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer"))
	})
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer gho_") {
			w.WriteHeader(http.StatusUnauthorized)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		return true
	}
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			json.NewEncoder(w).Encode(map[string]any{"id": 583231, "login": "octocat", "name": "The Octocat", "email": "public@octo.test"})
		}
	})
	mux.HandleFunc("GET /user/emails", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			g.mu.Lock()
			defer g.mu.Unlock()
			json.NewEncoder(w).Encode(g.emails)
		}
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func TestGitHubPreset(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, o testenv.Options) {
		gh := newFakeGitHub(t)
		env := testenv.New(t, o)
		f := &upstreamFixture{env: env, acme: env.NewTenant("acme")}
		f.app = f.acme.NewClient(directory.ClientSpec{Name: "app", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect}})
		f.conn = f.connection(t, f.acme, "github", "github", map[string]any{"client_id": "gh-app", "client_secret": "gh-secret",
			"authorization_endpoint": gh.srv.URL + "/login/oauth/authorize", "token_endpoint": gh.srv.URL + "/login/oauth/access_token",
			"api_base_url": gh.srv.URL})
		callback := func(t *testing.T, code string) (*signIn, *testenv.Response) {
			s := f.start(t, f.acme, f.app, "github")
			q := s.toIdP.Query()
			if !strings.HasPrefix(s.toIdP.String(), gh.srv.URL+"/login/oauth/authorize?") || q.Get("code_challenge_method") != "S256" ||
				q.Get("state") != s.flow || q.Get("client_id") != "gh-app" || q.Get("scope") != "read:user user:email" {
				t.Fatalf("sent to %s", s.toIdP)
			}
			gh.mu.Lock()
			gh.codes[code] = q.Get("code_challenge")
			gh.mu.Unlock()
			return s, testenv.Get(t, s.browser, f.acme.URL("/login/callback?"+url.Values{"code": {code}, "state": {s.flow}}.Encode()))
		}

		t.Run("the primary address unverified is refused", func(t *testing.T) {
			gh.mu.Lock()
			gh.emails = []map[string]any{{"email": "other@octo.test", "primary": false, "verified": true},
				{"email": "octo@octo.test", "primary": true, "verified": false}}
			gh.mu.Unlock()
			_, r := callback(t, "c1")
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403\n%s", r.StatusCode, r.Body)
			}
			for _, e := range []string{"other@octo.test", "octo@octo.test", "public@octo.test"} {
				if _, ok := f.acmeUser(t, e); ok {
					t.Errorf("user %s created", e)
				}
			}
		})

		t.Run("the primary verified address signs in, the GitHub id as subject", func(t *testing.T) {
			gh.mu.Lock()
			gh.emails = []map[string]any{{"email": "other@octo.test", "primary": false, "verified": true},
				{"email": "octo@octo.test", "primary": true, "verified": true}}
			gh.mu.Unlock()
			s, r := callback(t, "c2")
			claims := f.finish(t, s, r)
			u, ok := f.acmeUser(t, "octo@octo.test")
			if !ok || claims["sub"] != u.ID || claims["idp"] != "github" || u.Name != "The Octocat" {
				t.Fatalf("user %+v (%v), claims %v", u, ok, claims)
			}
			if _, err := env.S.Store.IdentityBySubject(f.acme.Ctx, f.conn.ID, "583231"); err != nil {
				t.Errorf("identity by GitHub id: %v", err)
			}
		})

		t.Run("a code the token endpoint refuses is a 401", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "github")
			r := testenv.Get(t, s.browser, f.acme.URL("/login/callback?"+url.Values{"code": {"unknown"}, "state": {s.flow}}.Encode()))
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", r.StatusCode)
			}
		})

		t.Run("the provider's error answer is a 401", func(t *testing.T) {
			s := f.start(t, f.acme, f.app, "github")
			r := testenv.Get(t, s.browser, f.acme.URL("/login/callback?"+url.Values{"error": {"access_denied"}, "state": {s.flow}}.Encode()))
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", r.StatusCode)
			}
		})
	})
}
