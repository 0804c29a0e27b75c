package oauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// The SPA of the protocol suites: an Auth0 SDK in a browser app at appOrigin uses the app's origin as its
// redirect URI and registers it as a web origin.
const (
	appOrigin   = "https://app.acme.test"
	appRedirect = appOrigin + "/callback"
	appBye      = appOrigin + "/bye"
)

// proto is tenant acme with alice (member of organizations acme-corp and globex), a public SPA that may use
// organizations, refresh tokens and token exchange, a confidential machine client, and tenant globex with a
// client of its own: the setup of the protocol suites (web_message, JSON bodies, token types, error codes).
type proto struct {
	env          *testenv.Env
	acme, globex *testenv.Tenant
	alice        storage.User
	acmeOrg      storage.Organization
	globexOrg    storage.Organization
	spa          directory.CreatedClient // public: code, refresh, exchange; web origin appOrigin
	picker       directory.CreatedClient // public, requires an organization; web origin appOrigin
	noOrigins    directory.CreatedClient // public, no web origin registered
	svc          directory.CreatedClient // confidential: client credentials
	foreign      directory.CreatedClient // globex's SPA, with the same redirect URI and web origin
	c            *http.Client            // stops at the app's URIs
}

func newProto(t *testing.T, opts testenv.Options) *proto {
	t.Helper()
	env := testenv.New(t, opts)
	p := &proto{env: env, acme: env.NewTenant("acme"), globex: env.NewTenant("globex")}
	p.alice = p.acme.NewUser("alice@acme.test")
	st, ctx, now := env.S.Store, p.acme.Ctx, time.Now().UTC()
	org := func(name string) storage.Organization {
		o := storage.Organization{ID: ids.New("org"), Name: name, DisplayName: name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatalf("organization %s: %v", name, err)
		}
		m := storage.Membership{ID: ids.New("mem"), OrganizationID: o.ID, UserID: p.alice.ID, Status: storage.MembershipActive,
			JoinedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateMembership(ctx, m); err != nil {
			t.Fatalf("membership in %s: %v", name, err)
		}
		return o
	}
	p.acmeOrg, p.globexOrg = org("acme-corp"), org("globex")
	p.spa = p.acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic,
		RedirectURIs: []string{appRedirect, appOrigin, "https://other.acme.test/callback"}, PostLogoutRedirectURIs: []string{appBye},
		WebOrigins: []string{appOrigin}, GrantTypes: []string{"authorization_code", "refresh_token", "token_exchange"},
		OrganizationUsage: storage.OrgUsageAllow})
	p.picker = p.acme.NewClient(directory.ClientSpec{Name: "picker", Type: storage.ClientPublic, RedirectURIs: []string{appOrigin},
		WebOrigins: []string{appOrigin}, OrganizationUsage: storage.OrgUsageRequire})
	p.noOrigins = p.acme.NewClient(directory.ClientSpec{Name: "no-origins", Type: storage.ClientPublic, RedirectURIs: []string{appOrigin}})
	p.svc = p.acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
		GrantTypes: []string{"client_credentials"}, Audiences: []string{api}, Scopes: []string{"read:things"}})
	p.foreign = p.globex.NewClient(directory.ClientSpec{Name: "globex-spa", Type: storage.ClientPublic,
		RedirectURIs: []string{appRedirect}, PostLogoutRedirectURIs: []string{appBye}, WebOrigins: []string{appOrigin},
		GrantTypes: []string{"authorization_code", "refresh_token", "token_exchange"}, OrganizationUsage: storage.OrgUsageAllow})
	p.c = env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
	return p
}

// browser is a fresh browser signed in to acme as alice (through the SPA), and the same browser without
// redirects.
func (p *proto) browser(t *testing.T) (follow, step *http.Client) {
	t.Helper()
	follow = p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin, "https://other.acme.test"}})
	ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
	ar.Code(t, p.acme, follow, "alice@acme.test", testenv.Password)
	return follow, p.env.Client(testenv.ClientOptions{Jar: follow.Jar, NoRedirects: true})
}

// signIn signs alice in through the SPA in a fresh browser and returns the tokens (scope openid profile email
// offline_access).
func (p *proto) signIn(t *testing.T, extra url.Values) testenv.Tokens {
	t.Helper()
	b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
	ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
	for k, v := range extra {
		ar.Extra[k] = v
	}
	return testenv.TokensOf(t, ar.Exchange(t, p.acme, b, ar.Code(t, p.acme, b, "alice@acme.test", testenv.Password)))
}

// exchangeForm is an RFC 8693 request of the SPA switching subject (an access token) into organization org.
func (p *proto) exchangeForm(subject, subjectType, org string) url.Values {
	return url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {p.spa.ClientID}, "subject_token": {subject},
		"subject_token_type": {subjectType}, "organization": {org}}
}
