package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/authio/authio/demoapp"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// What serve --dev sets up in the demo tenant. The password is fixed so the README walkthrough works; dev mode
// listens on loopback only by default.
const (
	demoEmail    = "demo@demo.test"
	demoPassword = "demo-password"
	demoAPI      = "https://api.demo.test"
	// demoAppClient and demoByHandClient are the names of the demo tenant's two public clients: the demo app's,
	// and the one whose redirect URI is the dev callback page, for trying the flow by hand with curl.
	demoAppClient    = "demo-app-web"
	demoByHandClient = "demo-app"
)

// demoOrg is one organization of the demo tenant and the role the demo user has in it.
type demoOrg struct{ name, display, role string }

// demoOrgs are the organizations the demo user belongs to, so the app's picker and switching have two to
// choose from.
func demoOrgs() []demoOrg {
	return []demoOrg{{"acme", "Acme Corp", "admin"}, {"globex", "Globex Inc", "member"}}
}

// demoSetup is what seedDemo made sure exists, for the demo app and the lines serve --dev prints.
type demoSetup struct {
	issuer    string // http://demo.localhost:8080/
	appHost   string // app.localhost (no port)
	appOrigin string // http://app.localhost:8080
	app       demoapp.Config
	byHand    string // client id of the dev-callback client
	redirect  string // its redirect URI
}

// hostAt is name with the listener's port, in the canonical form the server answers with (canon.Host drops the
// scheme's default port, and only that one). Port 0 (a listener on a random port) has no port to add.
func hostAt(s *server.Server, name string) (string, error) {
	if _, port, _ := net.SplitHostPort(s.Config.Listen); port != "" && port != "0" {
		name += ":" + port
	}
	return canon.Host(name, s.Config.PublicScheme)
}

// seedDemo makes sure the demo tenant has what the demo needs, creating only what is missing, so running
// serve --dev again (or after changes of your own) changes nothing that exists: the demo user; an API with two
// scopes; roles admin and member; organizations Acme and Globex with the demo user a member of both (admin in
// one, member in the other); the demo app's client (public, PKCE, organization required, the app's origin as
// web origin) and the client for the dev callback page.
func seedDemo(ctx context.Context, s *server.Server) (demoSetup, error) {
	var d demoSetup
	t, err := s.Store.GetTenant(ctx, "demo")
	if errors.Is(err, storage.ErrNotFound) {
		if _, err = s.CreateTenant(ctx, "demo", "Demo", keys.AlgRS256, nil); err != nil {
			return d, err
		}
		t, err = s.Store.GetTenant(ctx, "demo")
	}
	if err != nil {
		return d, err
	}
	tctx := storage.WithTenant(ctx, t.ID)
	host, err := hostAt(s, "demo."+s.Config.BaseDomain)
	if err != nil {
		return d, err
	}
	appHost, err := hostAt(s, "app."+s.Config.BaseDomain)
	if err != nil {
		return d, err
	}
	scheme := s.Config.PublicScheme
	d.issuer = scheme + "://" + host + "/"
	d.appHost, _, _ = strings.Cut(appHost, ":")
	d.appOrigin = scheme + "://" + appHost
	d.redirect = scheme + "://" + host + "/dev/callback"
	if _, err := s.Tenants.Resolve(ctx, d.appHost); err == nil {
		s.Logger.Warn("a tenant answers on the demo app's host; in --dev the demo app takes it", "host", d.appHost)
	}

	user, err := s.UserByEmail(tctx, demoEmail)
	if errors.Is(err, storage.ErrNotFound) {
		given, family := "Demo", "User"
		user, err = s.AddUser(tctx, directory.UserSpec{Email: demoEmail, Password: demoPassword, Name: "Demo User", EmailVerified: true,
			Profile: directory.ProfileUpdate{GivenName: &given, FamilyName: &family}})
	}
	if err != nil {
		return d, err
	}
	if _, err := s.ResourceServerByRef(tctx, demoAPI); errors.Is(err, storage.ErrNotFound) {
		_, err = s.CreateResourceServer(tctx, directory.ResourceServerSpec{Identifier: demoAPI, Name: "Demo API",
			Scopes: []storage.Scope{{Value: "read:docs"}, {Value: "write:docs"}}})
		if err != nil {
			return d, err
		}
	} else if err != nil {
		return d, err
	}
	roles := map[string][]string{"admin": {"read:docs", "write:docs"}, "member": {"read:docs"}}
	roleIDs := map[string]string{}
	for _, name := range []string{"admin", "member"} {
		r, err := s.ResolveRole(tctx, name, "")
		if errors.Is(err, storage.ErrNotFound) {
			var perms []storage.Permission
			for _, sc := range roles[name] {
				perms = append(perms, storage.Permission{ResourceServer: demoAPI, Name: sc})
			}
			r, err = s.CreateRole(tctx, directory.RoleSpec{Name: name, Description: "Demo " + name, Permissions: perms})
		}
		if err != nil {
			return d, err
		}
		roleIDs[name] = r.ID
	}
	for _, o := range demoOrgs() {
		org, err := s.Organization(tctx, o.name)
		if errors.Is(err, storage.ErrNotFound) {
			org, err = s.CreateOrganization(tctx, directory.OrganizationSpec{Name: o.name, DisplayName: o.display})
		}
		if err != nil {
			return d, err
		}
		// A membership that exists stays as it is (suspended, other roles): only a missing one is added.
		if _, _, err := s.Membership(tctx, org.ID, user.ID); errors.Is(err, storage.ErrNotFound) {
			if _, err := s.AddMembers(tctx, org.ID, []string{user.ID}, storage.MembershipActive); err != nil {
				return d, err
			}
			if _, err := s.AssignMemberRoles(tctx, org.ID, user.ID, []string{roleIDs[o.role]}, storage.SourceManual); err != nil {
				return d, err
			}
		} else if err != nil {
			return d, err
		}
	}

	clients, err := s.Store.ListClients(tctx)
	if err != nil {
		return d, err
	}
	// A client is found again by its name and redirect URI: another port makes another one.
	find := func(name, redirect string) string {
		for _, c := range clients {
			if c.Name == name && c.RedirectURIs.Has(redirect) {
				return c.ID
			}
		}
		return ""
	}
	appID := find(demoAppClient, d.appOrigin+"/callback")
	if appID == "" {
		cc, err := s.CreateClient(tctx, directory.ClientSpec{Name: demoAppClient, Type: storage.ClientPublic,
			RedirectURIs: []string{d.appOrigin + "/callback"}, PostLogoutRedirectURIs: []string{d.appOrigin + "/"},
			WebOrigins: []string{d.appOrigin}, GrantTypes: []string{"authorization_code", "refresh_token"},
			Audiences: []string{demoAPI}, OrganizationUsage: storage.OrgUsageRequire})
		if err != nil {
			return d, err
		}
		appID = cc.ClientID
	}
	d.byHand = find(demoByHandClient, d.redirect)
	if d.byHand == "" {
		issuer := strings.TrimSuffix(d.issuer, "/")
		cc, err := s.CreateClient(tctx, directory.ClientSpec{Name: demoByHandClient, Type: storage.ClientPublic,
			RedirectURIs: []string{d.redirect}, PostLogoutRedirectURIs: []string{issuer + "/login"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, WebOrigins: []string{issuer}})
		if err != nil {
			return d, err
		}
		d.byHand = cc.ClientID
	}
	tenantHosts := "." + s.Config.BaseDomain
	if _, port, ok := strings.Cut(host, ":"); ok {
		tenantHosts += ":" + port
	}
	d.app = demoapp.Config{Issuer: d.issuer, ClientID: appID, Audience: demoAPI, TenantHosts: tenantHosts}
	return d, nil
}

// print writes what serve --dev shows at start: the demo app first, then what to try by hand.
func (d demoSetup) print(w io.Writer) {
	verifier := ids.Random(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {d.byHand}, "redirect_uri": {d.redirect},
		"scope": {"openid profile email offline_access"}, "state": {ids.Random(12)}, "nonce": {ids.Random(12)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	orgs := make([]string, 0, len(demoOrgs()))
	for _, o := range demoOrgs() {
		orgs = append(orgs, o.display+" ("+o.role+")")
	}
	issuer := strings.TrimSuffix(d.issuer, "/")
	fmt.Fprintf(w, `
Authio is running in development mode.

  Demo app      %s/
                sign in, choose an organization, see the tokens decoded, refresh, switch, sign out
  Demo user     %s / %s   (member of %s)
  Demo tenant   %s   (discovery: %s/.well-known/openid-configuration)
  Clients       %s (the demo app: public, PKCE)   %s (by hand, below)

  By hand:      %s/authorize?%s

  After sign-in the page shows the code. Exchange it with:
    curl -s %s/oauth/token -d grant_type=authorization_code -d client_id=%s \
      -d redirect_uri=%s -d code_verifier=%s -d code=CODE

`, d.appOrigin, demoEmail, demoPassword, strings.Join(orgs, ", "), issuer, issuer, d.app.ClientID, d.byHand,
		issuer, q.Encode(), issuer, d.byHand, url.QueryEscape(d.redirect), verifier)
}
