package router_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server/router"
	"github.com/authio/authio/storage"
)

// withHost sends the request with this Host header whatever its URL says, for spellings a URL cannot carry.
func withHost(h string) testenv.RequestOption { return func(r *http.Request) { r.Host = h } }

// spelled is tn reached under another spelling of its host: requests made through it carry that Host.
func spelled(tn *testenv.Tenant, host string) *testenv.Tenant {
	s := *tn
	s.Host, s.Issuer = host, "http://"+host
	return &s
}

const discoveryPath = "/.well-known/openid-configuration"

// issuerAt returns the issuer of the discovery document served for Host: host, failing unless it is a 200.
func issuerAt(t *testing.T, c *http.Client, env *testenv.Env, host string) string {
	t.Helper()
	r := testenv.Get(t, c, "http://"+env.Addr+discoveryPath, withHost(host))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("Host %q: discovery status %d\n%s", host, r.StatusCode, r.Body)
	}
	iss, _ := r.JSON(t)["issuer"].(string)
	return iss
}

// wantBadHost checks that Host: host is refused with 400 invalid_request and no discovery document.
func wantBadHost(t *testing.T, c *http.Client, env *testenv.Env, host string) {
	t.Helper()
	r := testenv.Get(t, c, "http://"+env.Addr+discoveryPath, withHost(host))
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("Host %q: status %d, want 400\n%s", host, r.StatusCode, r.Body)
	}
	body := r.JSON(t)
	if body["error"] != "invalid_request" || body["error_description"] == "" || len(body) != 2 {
		t.Errorf("Host %q: body %v, want exactly {error: invalid_request, error_description}", host, body)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Host %q: Content-Type %q", host, r.Header.Get("Content-Type"))
	}
}

// TestHostsAreCanonical: the Host header picks the tenant and the issuer, so every spelling of a tenant's domain
// gives that one issuer, and a Host that is not a host name is refused before any tenant is looked up.
func TestHostsAreCanonical(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		c := env.Client(testenv.ClientOptions{NoRedirects: true})
		p := env.Port

		t.Run("invalid hosts are 400", func(t *testing.T) {
			for _, host := range []string{
				"acme.localhost:abc",
				"acme.localhost:0",
				"acme.localhost:65536",
				"acme.localhost:99999",
				"acme.localhost:-1",
				"acme.localhost:",
				"acme.localhost:" + p + ":" + p,
				"acme..localhost:" + p,
				"acme.localhost..:" + p,
				".acme.localhost:" + p,
				"ac_me.localhost:" + p,
				"acme%2elocalhost:" + p,
				"[::1]:" + p,
				// Refused before lookup: an unknown name spelled wrongly is 400, not 404.
				"nosuch.localhost:abc",
			} {
				wantBadHost(t, c, env, host)
			}
			// A well-formed unknown host is still a plain 404.
			if r := testenv.Get(t, c, "http://"+env.Addr+discoveryPath, withHost("nosuch.localhost:"+p)); r.StatusCode != http.StatusNotFound {
				t.Errorf("unknown host: status %d, want 404", r.StatusCode)
			}
		})

		t.Run("spellings share one issuer", func(t *testing.T) {
			for _, host := range []string{
				"acme.localhost:" + p,
				"ACME.LOCALHOST:" + p,
				"Acme.Localhost:" + p,
				"acme.localhost.:" + p,
				"ACME.localhost.:" + p,
				"acme.localhost:0" + p,
			} {
				if got := issuerAt(t, c, env, host); got != acme.Issuer {
					t.Errorf("Host %q: issuer %q, want %q", host, got, acme.Issuer)
				}
			}
			r := testenv.Get(t, c, "http://"+env.Addr+discoveryPath, withHost("ACME.localhost.:"+p))
			doc := r.JSON(t)
			for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"} {
				if s, _ := doc[k].(string); !strings.HasPrefix(s, acme.Issuer) {
					t.Errorf("%s = %q, want it under %s", k, s, acme.Issuer)
				}
			}
		})

		t.Run("the default port is no port", func(t *testing.T) {
			for _, host := range []string{"acme.localhost:80", "acme.localhost", "ACME.localhost.:080"} {
				if got := issuerAt(t, c, env, host); got != "http://acme.localhost/" {
					t.Errorf("Host %q on an http listener: issuer %q, want http://acme.localhost/", host, got)
				}
			}
			if got := issuerAt(t, c, env, "acme.localhost:443"); got != "http://acme.localhost:443/" {
				t.Errorf("Host acme.localhost:443 on an http listener: issuer %q, want the port kept", got)
			}
		})

		t.Run("a token from one spelling verifies at another", func(t *testing.T) {
			svc := acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"}})
			upper := spelled(acme, "ACME.LocalHost:"+p)
			r := upper.ClientCredentials(t, c, svc.ClientID, svc.ClientSecret, nil)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("token via %s: status %d\n%s", upper.Host, r.StatusCode, r.Body)
			}
			tok := testenv.TokensOf(t, r)
			if _, claims := testenv.DecodeJWT(t, tok.AccessToken); claims["iss"] != acme.Issuer {
				t.Errorf("token via %s: iss %v, want %s", upper.Host, claims["iss"], acme.Issuer)
			}
			// A relying party configured through the trailing-dot spelling: its discovery gives the issuer and
			// JWKS it verifies with.
			doc := testenv.Get(t, c, spelled(acme, "acme.localhost.:"+p).URL(discoveryPath)).JSON(t)
			iss, _ := doc["issuer"].(string)
			jwksURI, _ := doc["jwks_uri"].(string)
			ctx := oidc.ClientContext(context.Background(), c)
			v := oidc.NewVerifier(iss, oidc.NewRemoteKeySet(ctx, jwksURI), &oidc.Config{SkipClientIDCheck: true})
			if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
				t.Errorf("token issued via %s does not verify against the issuer of acme.localhost.:%s (%s): %v", upper.Host, p, iss, err)
			}
			if got := spelled(acme, "acme.localhost:0"+p).Introspect(t, c, svc.ClientID, svc.ClientSecret, tok.AccessToken); got["active"] != true {
				t.Errorf("introspection via another spelling: %v", got)
			}
		})
	})
}

// TestHTTPSDefaultPort: on an https listener 443 is the port that goes without saying, and 80 is not.
func TestHTTPSDefaultPort(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := opts
		o.Configure = func(c *config.Config) { c.PublicScheme = "https" }
		env := testenv.New(t, o)
		env.NewTenant("acme")
		c := env.Client(testenv.ClientOptions{NoRedirects: true})
		for host, want := range map[string]string{
			"acme.localhost:443":  "https://acme.localhost/",
			"ACME.localhost.":     "https://acme.localhost/",
			"acme.localhost:80":   "https://acme.localhost:80/",
			"acme.localhost:8443": "https://acme.localhost:8443/",
		} {
			if got := issuerAt(t, c, env, host); got != want {
				t.Errorf("Host %q on an https listener: issuer %q, want %q", host, got, want)
			}
		}
	})
}

// TestIDNDomains: a Unicode domain an operator adds is stored and served in its ASCII form, under one issuer.
func TestIDNDomains(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme := env.NewTenant("acme")
		c := env.Client(testenv.ClientOptions{NoRedirects: true})
		p := env.Port
		ctx := context.Background()

		if _, err := env.S.AddDomain(ctx, "acme", " Bücher.localhost. "); err != nil {
			t.Fatalf("AddDomain(Bücher.localhost.): %v", err)
		}
		ds, err := env.S.Store.ListDomains(ctx, acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ds, []string{"acme.localhost", "xn--bcher-kva.localhost"}) {
			t.Errorf("stored domains %v, want the IDN in ASCII form", ds)
		}
		// The same name in other spellings is the same domain.
		for _, d := range []string{"xn--bcher-kva.localhost", "BÜCHER.localhost", "bu\u0308cher.localhost"} {
			var ve *directory.ValidationError
			if _, err := env.S.AddDomain(ctx, "acme", d); !errors.As(err, &ve) || ve.Field != "domain" || !strings.Contains(ve.Message, "already") {
				t.Errorf("AddDomain(%q) again: %v, want a domain validation error saying it is taken", d, err)
			}
		}
		for _, d := range []string{"not a domain", "acme.example:8443", "https://acme.example", "a..example", "[::1]", "ex_ample.test"} {
			var ve *directory.ValidationError
			if _, err := env.S.AddDomain(ctx, "acme", d); !errors.As(err, &ve) || ve.Field != "domain" {
				t.Errorf("AddDomain(%q): %v, want a validation error of field domain", d, err)
			}
		}

		want := "http://xn--bcher-kva.localhost:" + p + "/"
		for _, host := range []string{"xn--bcher-kva.localhost:" + p, "XN--BCHER-KVA.LOCALHOST.:" + p} {
			if got := issuerAt(t, c, env, host); got != want {
				t.Errorf("Host %q: issuer %q, want %q", host, got, want)
			}
		}
		// A client given the Unicode URL sends the ASCII Host (as browsers do) and gets the one issuer.
		r := testenv.Get(t, c, "http://bücher.localhost:"+p+discoveryPath)
		if r.StatusCode != http.StatusOK || r.JSON(t)["issuer"] != want {
			t.Errorf("Unicode URL: status %d, body %s; want issuer %s", r.StatusCode, r.Body, want)
		}
		if kids, want := testenv.KidsOf(t, spelled(acme, "xn--bcher-kva.localhost:"+p).JWKS(t, c)), acme.KeyIDs(t); !slices.Equal(kids, want) {
			t.Errorf("JWKS on the IDN domain: %v, want acme's %v", kids, want)
		}
		// Raw UTF-8 in the Host header is not a host name on the wire (RFC 9110 §7.2): refused, never a
		// second issuer.
		if status, _ := rawGet(t, env.Addr, "bücher.localhost:"+p, discoveryPath); status != http.StatusBadRequest {
			t.Errorf("raw UTF-8 Host: status %d, want 400", status)
		}

		// Caddy's on-demand TLS question gets the same answer for every spelling.
		admin := httptest.NewServer(router.Admin(env.S))
		t.Cleanup(admin.Close)
		for domain, status := range map[string]int{
			"bücher.localhost":         http.StatusOK,
			"XN--BCHER-KVA.localhost.": http.StatusOK,
			"Acme.Localhost":           http.StatusOK,
			"nosuch.localhost":         http.StatusNotFound,
			"acme.localhost:abc":       http.StatusBadRequest,
			"acme..localhost":          http.StatusBadRequest,
			"acme localhost":           http.StatusBadRequest,
		} {
			r := testenv.Get(t, http.DefaultClient, admin.URL+"/tls/ask?"+url.Values{"domain": {domain}}.Encode())
			if r.StatusCode != status {
				t.Errorf("/tls/ask?domain=%s: status %d, want %d", domain, r.StatusCode, status)
			}
		}
	})
}

// rawGet sends a GET of path with exactly this Host header, bytes as given (Go's client would clean or refuse
// some), and returns the status and body.
func rawGet(t *testing.T, addr, host, path string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestOddHostNeverReachesAnotherTenant: however a client spells globex's host, it gets globex (its issuer and
// keys) or an error, never acme.
func TestOddHostNeverReachesAnotherTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		env := testenv.New(t, opts)
		acme, globex := env.NewTenant("acme"), env.NewTenant("globex")
		p := env.Port
		globexKids := globex.KeyIDs(t)
		for _, host := range []string{
			"GLOBEX.localhost:" + p,
			"globex.localhost.:" + p,
			"Globex.LocalHost.:00" + p,
			"globex.localhost:acme.localhost",
			"globex.localhost:" + p + ":acme.localhost",
			"globex.localhost:" + p + "@acme.localhost",
			"acme.localhost@globex.localhost:" + p,
			"globex.localhost.acme.localhost:" + p,
			"acme.localhost.globex.localhost:" + p,
			"globex.localhost:" + p + "/acme.localhost",
			"globex.localhost%2f@acme.localhost:" + p,
		} {
			status, body := rawGet(t, env.Addr, host, discoveryPath)
			switch status {
			case http.StatusBadRequest, http.StatusNotFound:
				if strings.Contains(body, "issuer") {
					t.Errorf("Host %q: %d with an issuer\n%s", host, status, body)
				}
				continue
			case http.StatusOK:
			default:
				t.Errorf("Host %q: status %d\n%s", host, status, body)
				continue
			}
			var doc struct{ Issuer string }
			if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Issuer != globex.Issuer {
				t.Errorf("Host %q: issuer %q (%v), want globex's %q (acme's is %q)", host, doc.Issuer, err, globex.Issuer, acme.Issuer)
			}
			_, jwks := rawGet(t, env.Addr, host, "/.well-known/jwks.json")
			if kids := testenv.KidsOf(t, []byte(jwks)); !slices.Equal(kids, globexKids) {
				t.Errorf("Host %q: JWKS kids %v, want globex's %v", host, kids, globexKids)
			}
		}
	})
}
