package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// upstream is an OpenID Connect provider as its discovery document describes it, with its key set (which
// refreshes itself when a token names a key it has not seen).
type upstream struct {
	cfg  gooidc.ProviderConfig
	keys *gooidc.RemoteKeySet
	// multiTenant: a Microsoft authority (common, organizations) whose issuer has the {tenantid} placeholder;
	// each ID token's issuer is checked against its own tid (checkMicrosoftIssuer).
	multiTenant bool
	size        int // estimated bytes, for the cache's budget
}

func (u *upstream) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: u.cfg.AuthURL, TokenURL: u.cfg.TokenURL}
}

// maxDiscovery bounds the discovery document read (real ones are a few kilobytes).
const maxDiscovery = 256 << 10

// signingAlgs are the ID token algorithms go-oidc verifies with a provider's published keys (HS256 would take
// the client secret as the key, and "none" nothing).
var signingAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// upstream returns the provider's metadata, from the server's cache when it has them: per tenant, connection
// and discovery URL, dropped when the tenant's connections change (and after an hour at most).
func (c *Connection) upstream(ctx context.Context) (*upstream, error) {
	if c.deps.Memo == nil {
		return c.discover(ctx)
	}
	tid, _ := storage.TenantFromContext(ctx)
	return memo.Get(ctx, c.deps.Memo, memo.Upstream, tid, c.rec.ID+"\x00"+c.s.discoveryURL(),
		func(ctx context.Context) (*upstream, int, error) {
			u, err := c.discover(ctx)
			if err != nil {
				return nil, 0, err
			}
			return u, u.size, nil
		})
}

// discover reads and checks the provider's discovery document (OpenID Connect Discovery 1.0 §4). Any failure
// is authn.ErrUpstreamUnavailable: the provider is down, or not configured the way the connection says.
func (c *Connection) discover(ctx context.Context) (*upstream, error) {
	unavailable := func(format string, args ...any) error {
		return fmt.Errorf("oidc: discovery at %s: %s: %w", c.s.discoveryURL(), fmt.Sprintf(format, args...), authn.ErrUpstreamUnavailable)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.s.discoveryURL(), nil)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	client := c.deps.Client()
	resp, err := client.Do(req)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscovery+1))
	if err != nil {
		return nil, unavailable("%v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, unavailable("HTTP %d", resp.StatusCode)
	}
	if len(body) > maxDiscovery {
		return nil, unavailable("document larger than %d bytes", maxDiscovery)
	}
	var cfg gooidc.ProviderConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, unavailable("not a JSON discovery document: %v", err)
	}
	if cfg.IssuerURL == "" || cfg.AuthURL == "" || cfg.TokenURL == "" || cfg.JWKSURL == "" {
		return nil, unavailable("issuer, authorization_endpoint, token_endpoint and jwks_uri are required")
	}
	for name, u := range map[string]string{"authorization_endpoint": cfg.AuthURL, "token_endpoint": cfg.TokenURL, "jwks_uri": cfg.JWKSURL} {
		if err := checkURL(name, u); err != nil {
			return nil, unavailable("%v", err)
		}
	}
	if cfg.UserInfoURL != "" && checkURL("userinfo_endpoint", cfg.UserInfoURL) != nil {
		cfg.UserInfoURL = ""
	}
	up := &upstream{}
	want := c.s.issuer
	switch {
	case cfg.IssuerURL == want:
	case strings.TrimSuffix(cfg.IssuerURL, "/") == strings.TrimSuffix(want, "/") && c.s.preset == PresetGeneric:
		// The same issuer but for a trailing slash (issuers such as Auth0's and Authio's end with one): the
		// provider's own spelling is the one its ID tokens carry.
	case c.s.preset == PresetMicrosoft && (c.s.tenant == "common" || c.s.tenant == "organizations") &&
		cfg.IssuerURL == c.s.authority+"/{tenantid}/v2.0":
		up.multiTenant = true
	case c.s.preset == PresetMicrosoft && c.s.tenant == "consumers" && cfg.IssuerURL == c.s.authority+"/"+consumersTenant+"/v2.0":
		// Personal accounts: one tenant, whose id the issuer names.
	default:
		return nil, unavailable("it names the issuer %q, not %q", cfg.IssuerURL, want)
	}
	var algs []string
	for _, a := range cfg.Algorithms {
		if slices.Contains(signingAlgs, a) {
			algs = append(algs, a)
		}
	}
	if len(cfg.Algorithms) > 0 && len(algs) == 0 {
		return nil, unavailable("no supported ID token signing algorithm among %v", cfg.Algorithms)
	}
	cfg.Algorithms = algs // none listed: go-oidc takes RS256, the one every provider must support
	up.cfg = cfg
	up.keys = gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), client), cfg.JWKSURL)
	up.size = len(body) + 8<<10 // the document's strings, and a key set of a few parsed public keys
	return up, nil
}
