package oidf

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// The suite's relying party lives at a base URL of its own (its "base_url"); the redirect URI is base_url +
// "/callback" and the post-logout redirect URI base_url + "/post_logout_redirect", as the suite registers them.
// The host is never dialled: the browser stops at any redirect that leaves the OP.
const (
	rpBase        = "https://rp.oidf.test/test/a/authio"
	rpRedirectURI = rpBase + "/callback"
	rpPostLogout  = rpBase + "/post_logout_redirect"
)

// clientConf is a statically registered client as the suite's configuration names it (client, client2,
// client_secret_post): id and secret.
type clientConf struct {
	ID, Secret string
}

// op is the OpenID Provider under test: an Authio server behind a TLS-terminating proxy (the issuer is
// https://<tenant host>/, requests reach the server over plain HTTP, as behind Caddy), with one tenant, the
// clients the plans' configuration asks for and one user who has every standard claim Authio serves.
type op struct {
	env          *testenv.Env
	tn           *testenv.Tenant
	host         string // tenant host:port, as in the issuer
	issuer       string // https://<host>/
	discoveryURL string

	client     clientConf // "client": client_secret_basic
	clientPost clientConf // "client_secret_post"
	client2    clientConf // "client2", for oidcc-refresh-token
	twoURIs    clientConf // two redirect URIs, for the extra oidcc-ensure-redirect-uri-in-authorization-request

	email, password string
	sub             string

	other *testenv.Tenant // another tenant on the same server, for the cross-tenant check
}

// newOP starts a server with o's backend and registers what the plans need.
func newOP(t *testing.T, o testenv.Options) *op {
	t.Helper()
	o.Configure = func(c *config.Config) { c.PublicScheme = "https" }
	env := testenv.New(t, o)
	tn := env.NewTenant("conformance")
	p := &op{env: env, tn: tn, host: tn.Host, issuer: "https://" + tn.Host + "/",
		email: "oidf-user@conformance.test", password: "conformance-suite-password-1"}
	// The suite's discovery URL is the issuer with .well-known/openid-configuration appended.
	p.discoveryURL = p.issuer + ".well-known/openid-configuration"

	register := func(name string, redirects []string) clientConf {
		cc := tn.NewClient(directory.ClientSpec{Name: name, Type: storage.ClientConfidential, RedirectURIs: redirects,
			PostLogoutRedirectURIs: []string{rpPostLogout}, GrantTypes: []string{"authorization_code", "refresh_token"}})
		return clientConf{ID: cc.ClientID, Secret: cc.ClientSecret}
	}
	p.client = register("oidf-client", []string{rpRedirectURI})
	p.clientPost = register("oidf-client-secret-post", []string{rpRedirectURI})
	p.client2 = register("oidf-client2", []string{rpRedirectURI})
	p.twoURIs = register("oidf-two-redirect-uris", []string{rpRedirectURI, rpBase + "/callback2"})

	// The user is created over the Management API, with every profile claim set, as the suite's instructions
	// ask of a test user (oidcc-scope-profile expects them all at /userinfo).
	api := env.Client(testenv.ClientOptions{NoRedirects: true})
	r := tn.API(t, api, http.MethodPost, "/users", tn.APIKey(t), map[string]any{
		"connection": "Username-Password-Authentication", "email": p.email, "password": p.password,
		"email_verified": true, "name": "Buffy Anne Summers", "given_name": "Buffy", "family_name": "Summers",
		"middle_name": "Anne", "nickname": "Buffy", "preferred_username": "buffy",
		"profile": "https://profiles.conformance.test/buffy", "picture": "https://profiles.conformance.test/buffy.png",
		"website": "https://buffy.conformance.test", "gender": "female", "birthdate": "1981-01-19",
		"zoneinfo": "America/Los_Angeles", "locale": "en-US",
	})
	if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusOK {
		t.Fatalf("create the test user: status %d\n%s", r.StatusCode, r.Body)
	}
	p.sub, _ = r.JSON(t)["user_id"].(string)
	if p.sub == "" {
		t.Fatalf("create the test user: no user_id in %s", r.Body)
	}
	p.other = env.NewTenant("elsewhere")
	return p
}

// proxyTransport is the TLS-terminating proxy in front of the server: the test RP and its browser speak https
// (cookies marked Secure are sent, as in production), and the request reaches the server over plain HTTP on
// the test listener whatever host name the URL carries. Anything but https is refused, as the suite's client
// would never send it.
type proxyTransport struct {
	next http.RoundTripper
}

func (p proxyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		return nil, fmt.Errorf("the test RP only speaks https, not %s", r.URL)
	}
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.Scheme = "http"
	r2.URL = &u
	return p.next.RoundTrip(r2)
}

// transport dials the server's listener for every host; a fresh one per browser keeps connections apart.
func (p *op) transport(t *testing.T) http.RoundTripper {
	addr := p.env.Addr
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		MaxIdleConnsPerHost: 4,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return proxyTransport{next: tr}
}

// url is an absolute https URL on the OP.
func (p *op) url(path string) string { return "https://" + p.host + path }

// isOP reports whether host:port is the OP's.
func (p *op) isOP(host string) bool { return strings.EqualFold(host, p.host) }
