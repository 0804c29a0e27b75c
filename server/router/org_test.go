package router_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

const (
	docsAPI     = "https://docs.acme.test"
	orgRedirect = "https://app.acme.test/org-callback"
)

// orgSetup is tenant acme with two organizations (Acme Corp and Globex), alice in both (admin in Acme, member
// in Globex), bob in Globex only, carol suspended in Acme, a docs API with three scopes, and a public SPA
// that may use organizations and token exchange.
type orgSetup struct {
	env                 *testenv.Env
	acme                *testenv.Tenant
	alice, bob, carol   storage.User
	acmeOrg, globex     storage.Organization
	admin, member, supp storage.Role
	spa                 directory.CreatedClient
	browser             *http.Client
	jwks                []byte
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newOrgSetup(t *testing.T, usage string) *orgSetup {
	t.Helper()
	return newOrgSetupOn(t, usage, testenv.Options{})
}

// newOrgSetupOn is newOrgSetup on a backend of the test's choosing (testenv.Backends).
func newOrgSetupOn(t *testing.T, usage string, opts testenv.Options) *orgSetup {
	t.Helper()
	env := testenv.New(t, opts)
	acme := env.NewTenant("acme")
	st, ctx := env.S.Store, acme.Ctx
	o := &orgSetup{env: env, acme: acme}
	o.alice, o.bob, o.carol = acme.NewUser("alice@acme.test"), acme.NewUser("bob@globex.test"), acme.NewUser("carol@acme.test")
	now := time.Now().UTC()
	must(t, "resource server", st.CreateResourceServer(ctx, storage.ResourceServer{ID: ids.New("api"), Identifier: docsAPI,
		Name: "Docs", Scopes: storage.ScopeList{{Value: "read:docs"}, {Value: "write:docs"}, {Value: "support:access"}},
		TokenLifetime: directory.DefaultResourceTokenLifetime, RefreshLifetime: directory.DefaultResourceRefreshLifetime,
		CreatedAt: now, UpdatedAt: now}))
	org := func(name, display string) storage.Organization {
		org := storage.Organization{ID: ids.New("org"), Name: name, DisplayName: display, CreatedAt: now, UpdatedAt: now}
		must(t, "organization "+name, st.CreateOrganization(ctx, org))
		return org
	}
	o.acmeOrg, o.globex = org("acme-corp", "Acme Corp"), org("globex", "Globex Inc")
	role := func(name string, perms ...string) storage.Role {
		r := storage.Role{ID: ids.New("rol"), Name: name, CreatedAt: now, UpdatedAt: now}
		must(t, "role "+name, st.CreateRole(ctx, r))
		var ps []storage.Permission
		for _, p := range perms {
			ps = append(ps, storage.Permission{ResourceServer: docsAPI, Name: p})
		}
		must(t, "permissions of "+name, st.AddRolePermissions(ctx, r.ID, ps))
		return r
	}
	o.admin, o.member, o.supp = role("admin", "read:docs", "write:docs"), role("member", "read:docs"), role("support", "support:access")
	join := func(u storage.User, org storage.Organization, status string, roles ...storage.Role) {
		m := storage.Membership{ID: ids.New("mem"), OrganizationID: org.ID, UserID: u.ID, Status: status,
			JoinedAt: now, CreatedAt: now, UpdatedAt: now}
		must(t, "membership", st.CreateMembership(ctx, m))
		for _, r := range roles {
			_, err := st.AssignRoles(ctx, storage.SubjectMembership, m.ID, []string{r.ID}, storage.SourceManual)
			must(t, "assign "+r.Name, err)
		}
	}
	join(o.alice, o.acmeOrg, storage.MembershipActive, o.admin)
	join(o.alice, o.globex, storage.MembershipActive, o.member)
	join(o.bob, o.globex, storage.MembershipActive, o.admin)
	join(o.carol, o.acmeOrg, storage.MembershipSuspended, o.member)
	_, err := st.AssignRoles(ctx, storage.SubjectUser, o.alice.ID, []string{o.supp.ID}, storage.SourceManual)
	must(t, "tenant role", err)
	o.spa = acme.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{orgRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token", "token_exchange"}, Audiences: []string{docsAPI, directory.ManagementAudience},
		OrganizationUsage: usage})
	o.browser = env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	o.jwks = acme.JWKS(t, o.browser)
	return o
}

// signIn runs the browser flow for user with extra authorization parameters and returns the tokens.
func (o *orgSetup) signIn(t *testing.T, browser *http.Client, email string, extra url.Values) (*testenv.AuthRequest, testenv.Tokens) {
	t.Helper()
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra = extra
	code := ar.Code(t, o.acme, browser, email, testenv.Password)
	return ar, testenv.TokensOf(t, ar.Exchange(t, o.acme, browser, code))
}

func (o *orgSetup) claims(t *testing.T, token string) map[string]any {
	t.Helper()
	_, c := testenv.VerifyJWT(t, token, o.jwks)
	return c
}

func (o *orgSetup) switchOrg(t *testing.T, bearer string, body any) *testenv.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	return testenv.Do(t, o.browser, http.MethodPost, o.acme.URL("/v1/sessions/switch-org"), strings.NewReader(string(b)),
		testenv.Bearer(bearer), testenv.Header("Content-Type", "application/json"))
}

func (o *orgSetup) exchange(t *testing.T, form url.Values) *testenv.Response {
	t.Helper()
	v := url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {o.spa.ClientID}}
	for k, vs := range form {
		v[k] = vs
	}
	return testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), v)
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func wantOrgClaims(t *testing.T, what string, c map[string]any, org storage.Organization, roles, perms []string) {
	t.Helper()
	if c["org_id"] != org.ID || c["act_org"] != org.ID || c["org_name"] != org.Name {
		t.Errorf("%s: org_id=%v act_org=%v org_name=%v, want %s / %s", what, c["org_id"], c["act_org"], c["org_name"], org.ID, org.Name)
	}
	if got := strs(c["roles"]); !slices.Equal(got, roles) {
		t.Errorf("%s: roles = %v, want %v", what, got, roles)
	}
	if got := strs(c["permissions"]); !slices.Equal(got, perms) {
		t.Errorf("%s: permissions = %v, want %v", what, got, perms)
	}
}

func TestOrganizationTokensAndSwitching(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)

	// 1. Sign in once, for Acme (by name), with the docs API as audience.
	_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}})
	at := o.claims(t, tk.AccessToken)
	wantOrgClaims(t, "Acme access token", at, o.acmeOrg, []string{"admin"}, []string{"read:docs", "write:docs"})
	if at["sub"] != o.alice.ID || !slices.Equal(strs(at["aud"]), []string{docsAPI}) {
		t.Errorf("access token sub=%v aud=%v", at["sub"], at["aud"])
	}
	if tk.ExpiresIn < directory.DefaultResourceTokenLifetime-5 || tk.ExpiresIn > directory.DefaultResourceTokenLifetime {
		t.Errorf("expires_in = %d, want the resource server's default %d", tk.ExpiresIn, directory.DefaultResourceTokenLifetime)
	}
	idt := o.claims(t, tk.IDToken)
	if idt["org_id"] != o.acmeOrg.ID || idt["org_name"] != "acme-corp" {
		t.Errorf("ID token org_id=%v org_name=%v", idt["org_id"], idt["org_name"])
	}

	// 2. Switch to Globex through the endpoint, with the refresh token: same sub, Globex's roles.
	r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": o.globex.ID, "refresh_token": tk.RefreshToken})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("switch-org: %d %s", r.StatusCode, r.Body)
	}
	var sw struct {
		AccessToken        string              `json:"access_token"`
		RefreshToken       string              `json:"refresh_token"`
		TokenType          string              `json:"token_type"`
		ExpiresIn          int                 `json:"expires_in"`
		ActiveOrganization struct{ ID string } `json:"active_organization"`
		Memberships        []struct {
			Organization struct{ ID string }
			Status       string
			Roles        []string
		}
	}
	decodeInto(t, r.Body, &sw)
	if sw.TokenType != "Bearer" || sw.RefreshToken == "" || sw.ExpiresIn <= 0 || sw.ActiveOrganization.ID != o.globex.ID {
		t.Fatalf("switch-org response: %s", r.Body)
	}
	if len(sw.Memberships) != 2 {
		t.Fatalf("memberships in switch response = %+v, want alice's two", sw.Memberships)
	}
	g := o.claims(t, sw.AccessToken)
	wantOrgClaims(t, "Globex access token", g, o.globex, []string{"member"}, []string{"read:docs"})
	if g["sub"] != at["sub"] || g["sid"] != at["sid"] {
		t.Errorf("switched token sub=%v sid=%v, want %v %v", g["sub"], g["sid"], at["sub"], at["sid"])
	}

	// 3. The new refresh token stays bound to Globex.
	rr := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {sw.RefreshToken}, "client_id": {o.spa.ClientID}})
	ref := testenv.TokensOf(t, rr)
	wantOrgClaims(t, "refreshed Globex token", o.claims(t, ref.AccessToken), o.globex, []string{"member"}, []string{"read:docs"})
	// …and the original one stays bound to Acme.
	rr = testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tk.RefreshToken}, "client_id": {o.spa.ClientID}})
	wantOrgClaims(t, "refreshed Acme token", o.claims(t, testenv.TokensOf(t, rr).AccessToken), o.acmeOrg,
		[]string{"admin"}, []string{"read:docs", "write:docs"})

	// The refresh rotated the Globex grant, which revokes the access token the switch returned.
	if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(sw.AccessToken)); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("switched access token after its grant was refreshed: %d", r.StatusCode)
	}

	// 4. RFC 8693 token exchange back to Acme with the refreshed Globex access token, narrowing the scope.
	x := o.exchange(t, url.Values{"subject_token": {ref.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess},
		"organization": {"acme-corp"}, "scope": {"openid email"}})
	if x.StatusCode != http.StatusOK {
		t.Fatalf("token exchange: %d %s", x.StatusCode, x.Body)
	}
	xb := x.JSON(t)
	if xb["issued_token_type"] != oauth.TokenTypeAccess || xb["refresh_token"] != nil || xb["scope"] != "openid email" {
		t.Errorf("token exchange response: %s", x.Body)
	}
	xc := o.claims(t, xb["access_token"].(string))
	wantOrgClaims(t, "exchanged Acme token", xc, o.acmeOrg, []string{"admin"}, []string{"read:docs", "write:docs"})
	if xc["sub"] != o.alice.ID || xc["scope"] != "openid email" {
		t.Errorf("exchanged token sub=%v scope=%v", xc["sub"], xc["scope"])
	}
	// With a refresh token as subject, a refresh token bound to the target comes back.
	x = o.exchange(t, url.Values{"subject_token": {ref.RefreshToken}, "subject_token_type": {oauth.TokenTypeRefresh},
		"organization": {o.acmeOrg.ID}})
	xb = x.JSON(t)
	if x.StatusCode != http.StatusOK || xb["refresh_token"] == nil {
		t.Fatalf("exchange of a refresh token: %d %s", x.StatusCode, x.Body)
	}

	// 5. Every switch is in the audit log.
	events, err := o.env.S.Store.ListAudit(o.acme.Ctx, storage.AuditFilter{Type: audit.EventOrgSwitched})
	must(t, "audit", err)
	if len(events) != 3 {
		t.Fatalf("%d session.org_switched events, want 3: %+v", len(events), events)
	}
	first := events[len(events)-1]
	if first.UserID != o.alice.ID || first.ClientID != o.spa.ClientID || first.Data["from"] != o.acmeOrg.ID ||
		first.Data["to"] != o.globex.ID || first.IP == "" || first.Actor != "user:"+o.alice.ID {
		t.Errorf("first switch event = %+v", first)
	}
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestInternalTokens(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"audience": {docsAPI}})
	c := o.claims(t, tk.AccessToken)
	if _, has := c["org_id"]; has {
		t.Errorf("internal token has org_id %v", c["org_id"])
	}
	if got := strs(c["permissions"]); !slices.Equal(got, []string{"support:access"}) {
		t.Errorf("internal token permissions = %v, want alice's tenant-level support:access", got)
	}
	if got := strs(c["roles"]); !slices.Equal(got, []string{"support"}) {
		t.Errorf("internal token roles = %v", got)
	}
	// Refreshing an internal token never gains an organization.
	r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tk.RefreshToken}, "client_id": {o.spa.ClientID}})
	if _, has := o.claims(t, testenv.TokensOf(t, r).AccessToken)["org_id"]; has {
		t.Error("refreshed internal token has org_id")
	}
}

func TestOrganizationRefusals(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)

	t.Run("authorize", func(t *testing.T) {
		for _, tc := range []struct {
			name, email, org, want, desc string
		}{
			{"non-member", o.bob.Email, "acme-corp", "access_denied", "not a member"},
			{"unknown organization looks the same", o.bob.Email, "no-such-org", "access_denied", "not a member"},
			{"suspended member", o.carol.Email, o.acmeOrg.ID, "access_denied", "suspended"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				browser := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
				ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
				ar.Extra = url.Values{"organization": {tc.org}}
				resp := testenv.Get(t, browser, ar.URL(o.acme))
				resp = o.acme.Submit(t, browser, testenv.ParseForm(t, resp.Body), url.Values{"email": {tc.email}, "password": {testenv.Password}})
				q := ar.Callback(t, o.acme, resp)
				if q.Get("error") != tc.want || !strings.Contains(q.Get("error_description"), tc.desc) || q.Get("code") != "" {
					t.Errorf("callback %v, want error=%s mentioning %q", q, tc.want, tc.desc)
				}
			})
		}
	})

	_, alice := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"globex"}})
	bobBrowser := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	_, bob := o.signIn(t, bobBrowser, o.bob.Email, url.Values{"organization": {"globex"}})

	other := o.env.NewTenant("globex")
	otherSPA := other.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{orgRedirect},
		OrganizationUsage: storage.OrgUsageAllow})
	other.NewUser(o.alice.Email)
	ar := testenv.NewAuthRequest(otherSPA.ClientID, orgRedirect)
	foreignBrowser := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	foreign := testenv.TokensOf(t, ar.Exchange(t, other, foreignBrowser, ar.Code(t, other, foreignBrowser, o.alice.Email, testenv.Password)))

	revokedBrowser := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	_, revoked := o.signIn(t, revokedBrowser, o.alice.Email, nil)
	rv := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/revoke"), url.Values{"token": {revoked.AccessToken}, "client_id": {o.spa.ClientID}})
	if rv.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", rv.StatusCode, rv.Body)
	}

	before := auditCount(t, o)
	t.Run("switch-org", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			bearer string
			body   any
			status int
			code   string
		}{
			{"bob into Acme (not a member)", bob.AccessToken, map[string]string{"organization_id": o.acmeOrg.ID}, 403, "access_denied"},
			{"unknown organization", bob.AccessToken, map[string]string{"organization_id": "org_nope"}, 403, "access_denied"},
			{"another tenant's token", foreign.AccessToken, map[string]string{"organization_id": o.globex.ID}, 401, "invalid_token"},
			{"revoked token", revoked.AccessToken, map[string]string{"organization_id": o.globex.ID}, 401, "invalid_token"},
			{"garbage token", "eyJhbGciOiJub25lIn0.e30.", map[string]string{"organization_id": o.globex.ID}, 401, "invalid_token"},
			{"refresh token as bearer", alice.RefreshToken, map[string]string{"organization_id": o.globex.ID}, 401, "invalid_token"},
			{"someone else's refresh token", alice.AccessToken, map[string]string{"organization_id": o.globex.ID, "refresh_token": bob.RefreshToken}, 400, "invalid_request"},
			{"missing organization", alice.AccessToken, map[string]string{}, 400, "invalid_request"},
			{"unknown field", alice.AccessToken, map[string]string{"organization_id": o.globex.ID, "org": "x"}, 400, "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := o.switchOrg(t, tc.bearer, tc.body)
				if r.StatusCode != tc.status || testenv.OAuthError(t, r) != tc.code || strings.Contains(r.Body, "access_token\"") {
					t.Errorf("got %d %s, want %d %s", r.StatusCode, r.Body, tc.status, tc.code)
				}
			})
		}
		r := testenv.Do(t, o.browser, http.MethodPost, o.acme.URL("/v1/sessions/switch-org"), strings.NewReader(`{"organization_id":"x"}`),
			testenv.Header("Content-Type", "application/json"))
		if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("switch without a token: %d %v", r.StatusCode, r.Header)
		}
	})

	t.Run("token exchange", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			code   string
		}{
			{"not a member", url.Values{"subject_token": {bob.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"acme-corp"}}, 403, "access_denied"},
			{"another tenant's token", url.Values{"subject_token": {foreign.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"globex"}}, 400, "invalid_request"},
			{"revoked token", url.Values{"subject_token": {revoked.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"globex"}}, 400, "invalid_request"},
			{"wrong token type", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeRefresh}, "organization": {"acme-corp"}}, 400, "invalid_request"},
			{"missing token type", url.Values{"subject_token": {alice.AccessToken}, "organization": {"acme-corp"}}, 400, "invalid_request"},
			{"missing organization", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}}, 400, "invalid_request"},
			{"wider scope", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"acme-corp"}, "scope": {"openid admin:all"}}, 400, "invalid_scope"},
			{"audience not allowed", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"acme-corp"}, "audience": {"https://elsewhere.test"}}, 400, "invalid_target"},
			{"public client moving to another of its audiences", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"acme-corp"}, "audience": {directory.ManagementAudience}}, 400, "invalid_target"},
			{"actor token", url.Values{"subject_token": {alice.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"acme-corp"}, "actor_token": {bob.AccessToken}, "actor_token_type": {oauth.TokenTypeAccess}}, 400, "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := o.exchange(t, tc.form)
				if r.StatusCode != tc.status || testenv.OAuthError(t, r) != tc.code {
					t.Errorf("got %d %s, want %d %s", r.StatusCode, r.Body, tc.status, tc.code)
				}
			})
		}
	})
	if n := auditCount(t, o); n != before {
		t.Errorf("refused switches wrote %d session.org_switched events", n-before)
	}

	t.Run("suspension ends refresh and switching", func(t *testing.T) {
		_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"globex"}})
		m, err := o.env.S.Store.GetMembership(o.acme.Ctx, o.globex.ID, o.alice.ID)
		must(t, "membership", err)
		must(t, "suspend", o.env.S.Store.UpdateMembership(o.acme.Ctx, m.ID, func(m storage.Membership) (storage.Membership, error) {
			m.Status = storage.MembershipSuspended
			return m, nil
		}))
		r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tk.RefreshToken}, "client_id": {o.spa.ClientID}})
		if r.StatusCode != http.StatusBadRequest || testenv.OAuthError(t, r) != "invalid_grant" || !strings.Contains(r.Body, "suspended") {
			t.Errorf("refresh after suspension: %d %s", r.StatusCode, r.Body)
		}
		r = o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": o.globex.ID})
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "suspended") {
			t.Errorf("switch into a suspended membership: %d %s", r.StatusCode, r.Body)
		}
	})
}

func auditCount(t *testing.T, o *orgSetup) int {
	t.Helper()
	events, err := o.env.S.Store.ListAudit(o.acme.Ctx, storage.AuditFilter{Type: audit.EventOrgSwitched, Limit: 1000})
	must(t, "audit", err)
	return len(events)
}

func TestOrganizationUsage(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageDeny)
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra = url.Values{"organization": {"globex"}}
	resp := testenv.Get(t, o.browser, ar.URL(o.acme))
	resp = o.acme.Submit(t, o.browser, testenv.ParseForm(t, resp.Body), url.Values{"email": {o.alice.Email}, "password": {testenv.Password}})
	if q := ar.Callback(t, o.acme, resp); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("organization with a deny client: %v", q)
	}
	_, tk := o.signIn(t, o.browser, o.alice.Email, nil)
	if r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": o.globex.ID}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("switch with a deny client: %d %s", r.StatusCode, r.Body)
	}
}

func TestOrganizationPicker(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageRequire)
	// Carol's only membership is suspended; she gets no picker and no token.
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	carol := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	resp := testenv.Get(t, carol, ar.URL(o.acme))
	resp = o.acme.Submit(t, carol, testenv.ParseForm(t, resp.Body), url.Values{"email": {o.carol.Email}, "password": {testenv.Password}})
	if q := ar.Callback(t, o.acme, resp); q.Get("error") != "access_denied" {
		t.Errorf("carol without active memberships: %v", q)
	}

	// Alice signs in without naming an organization and with prompt=login: the picker lists her two active
	// memberships and nobody else's, and choosing keeps the fresh sign-in.
	ar = testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra = url.Values{"prompt": {"login"}, "audience": {docsAPI}}
	resp = testenv.Get(t, o.browser, ar.URL(o.acme))
	resp = o.acme.Submit(t, o.browser, testenv.ParseForm(t, resp.Body), url.Values{"email": {o.alice.Email}, "password": {testenv.Password}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "Choose an organization") {
		t.Fatalf("after sign-in: %d\n%s", resp.StatusCode, resp.Body)
	}
	for _, want := range []string{"Acme Corp", "Globex Inc"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("picker lacks %s", want)
		}
	}
	if n := strings.Count(resp.Body, `class="choice"`); n != 2 {
		t.Errorf("picker shows %d organizations, want 2", n)
	}
	if strings.Contains(resp.Body, o.bob.Email) || strings.Contains(resp.Body, o.carol.Email) {
		t.Error("picker mentions other users")
	}
	var link string
	for _, m := range regexpAll(`href="(/authorize/resume\?[^"]+)"`, resp.Body) {
		if strings.Contains(m, url.QueryEscape(o.globex.ID)) {
			link = html.UnescapeString(m)
		}
	}
	if link == "" {
		t.Fatalf("no link for Globex in the picker:\n%s", resp.Body)
	}
	// The picker is a step of the stored flow: a refresh (or back) shows it again.
	pickerURL := resp.Request.URL.String()
	if again := testenv.Get(t, o.browser, pickerURL); again.StatusCode != http.StatusOK || !strings.Contains(again.Body, "Choose an organization") {
		t.Fatalf("refreshing the picker: %d\n%s", again.StatusCode, again.Body)
	}
	// Back from the picker to the sign-in page of the same flow goes on to the picker: the user signed in already.
	flowID := resp.Request.URL.Query().Get("state")
	if back := testenv.Get(t, o.browser, o.acme.URL("/login?state="+url.QueryEscape(flowID))); back.StatusCode != http.StatusOK ||
		!strings.Contains(back.Body, "Choose an organization") {
		t.Fatalf("back to the sign-in page after signing in: %d\n%s", back.StatusCode, back.Body)
	}
	q := ar.Callback(t, o.acme, testenv.Get(t, o.browser, o.acme.URL(link)))
	if q.Get("code") == "" {
		t.Fatalf("choosing Globex: %v", q)
	}
	// Once chosen, the flow is complete: back to the picker, or the choice replayed, is the expired page.
	for what, u := range map[string]string{"back to the picker": pickerURL, "the choice replayed": o.acme.URL(link)} {
		if r := testenv.Get(t, o.browser, u); r.StatusCode != http.StatusGone || !strings.Contains(r.Body, "This sign-in link has expired") {
			t.Errorf("%s after the flow completed: %d\n%s", what, r.StatusCode, r.Body)
		}
	}
	tk := testenv.TokensOf(t, ar.Exchange(t, o.acme, o.browser, q.Get("code")))
	wantOrgClaims(t, "picked Globex", o.claims(t, tk.AccessToken), o.globex, []string{"member"}, []string{"read:docs"})

	// prompt=none cannot show the picker.
	ar = testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra = url.Values{"prompt": {"none"}}
	if q := ar.Callback(t, o.acme, testenv.Get(t, o.browser, ar.URL(o.acme))); q.Get("error") != "interaction_required" {
		t.Errorf("prompt=none with a require client and no organization: %v", q)
	}
}

func TestMachineOrganizationTokens(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	svc := o.acme.NewClient(directory.ClientSpec{Name: "worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
		Audiences: []string{docsAPI}, Scopes: []string{"read:docs"}, OrganizationUsage: storage.OrgUsageAllow})
	deny := o.acme.NewClient(directory.ClientSpec{Name: "deny", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
		Audiences: []string{docsAPI}})
	must(t, "allow into Globex", o.env.S.Store.AddClientOrganization(o.acme.Ctx, svc.ClientID, o.globex.ID))
	_, err := o.env.S.Store.AssignRoles(o.acme.Ctx, storage.SubjectClient, svc.ClientID, []string{o.member.ID}, storage.SourceManual)
	must(t, "client role", err)

	r := o.acme.ClientCredentials(t, o.browser, svc.ClientID, svc.ClientSecret, url.Values{"audience": {docsAPI}, "organization": {"globex"}})
	tk := testenv.TokensOf(t, r)
	c := o.claims(t, tk.AccessToken)
	wantOrgClaims(t, "machine Globex token", c, o.globex, []string{"member"}, []string{"read:docs"})
	if c["sub"] != svc.ClientID {
		t.Errorf("machine token sub = %v", c["sub"])
	}
	// Internal machine token: the client's own roles, no organization.
	c = o.claims(t, testenv.TokensOf(t, o.acme.ClientCredentials(t, o.browser, svc.ClientID, svc.ClientSecret, url.Values{"audience": {docsAPI}})).AccessToken)
	if _, has := c["org_id"]; has || !slices.Equal(strs(c["permissions"]), []string{"read:docs"}) {
		t.Errorf("internal machine token: %v", c)
	}
	for _, tc := range []struct {
		name     string
		id, sec  string
		org      string
		status   int
		code     string
		contains string
	}{
		{"not allowed into Acme", svc.ClientID, svc.ClientSecret, "acme-corp", 403, "access_denied", "not allowed"},
		{"unknown organization", svc.ClientID, svc.ClientSecret, "nope", 403, "access_denied", "not allowed"},
		{"client that denies organizations", deny.ClientID, deny.ClientSecret, "globex", 400, "invalid_request", "organization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := o.acme.ClientCredentials(t, o.browser, tc.id, tc.sec, url.Values{"audience": {docsAPI}, "organization": {tc.org}})
			if r.StatusCode != tc.status || testenv.OAuthError(t, r) != tc.code || !strings.Contains(r.Body, tc.contains) {
				t.Errorf("got %d %s, want %d %s", r.StatusCode, r.Body, tc.status, tc.code)
			}
		})
	}
}

func TestMePrivacy(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	_, alice := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}})
	bobBrowser := o.env.Client(testenv.ClientOptions{StopAt: []string{orgRedirect}})
	_, bob := o.signIn(t, bobBrowser, o.bob.Email, nil)

	me := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), testenv.Bearer(alice.AccessToken)).JSON(t)
	if me["id"] != o.alice.ID || me["email"] != o.alice.Email {
		t.Errorf("/v1/me = %v", me)
	}
	if ao, _ := me["active_organization"].(map[string]any); ao["id"] != o.acmeOrg.ID {
		t.Errorf("/v1/me active_organization = %v", me["active_organization"])
	}
	r := testenv.Get(t, bobBrowser, o.acme.URL("/v1/me/memberships"), testenv.Bearer(bob.AccessToken))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/v1/me/memberships: %d %s", r.StatusCode, r.Body)
	}
	var ms struct {
		Memberships []struct {
			Organization struct{ ID string }
			Roles        []string
		}
	}
	decodeInto(t, r.Body, &ms)
	if len(ms.Memberships) != 1 || ms.Memberships[0].Organization.ID != o.globex.ID || !slices.Equal(ms.Memberships[0].Roles, []string{"admin"}) {
		t.Errorf("bob's memberships = %+v", ms)
	}
	for _, leak := range []string{o.alice.ID, o.alice.Email, o.acmeOrg.ID} {
		if strings.Contains(r.Body, leak) {
			t.Errorf("bob's memberships mention %s", leak)
		}
	}
	// No way to ask about someone else: the user is the token's subject, and the Management API refuses user
	// tokens without permissions.
	for _, path := range []string{"/v1/me/memberships?user_id=" + o.alice.ID, "/api/v2/users/" + o.alice.ID + "/organizations"} {
		r := testenv.Get(t, bobBrowser, o.acme.URL(path), testenv.Bearer(bob.AccessToken))
		if strings.Contains(r.Body, o.acmeOrg.ID) {
			t.Errorf("%s with bob's token leaks alice's memberships: %d %s", path, r.StatusCode, r.Body)
		}
	}
	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"garbage", "abc"}, {"refresh token", alice.RefreshToken}} {
		var opts []testenv.RequestOption
		if tc.token != "" {
			opts = append(opts, testenv.Bearer(tc.token))
		}
		if r := testenv.Get(t, o.browser, o.acme.URL("/v1/me"), opts...); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("/v1/me with %s: %d", tc.name, r.StatusCode)
		}
	}
	// Another tenant's host never answers with acme's user.
	other := o.env.NewTenant("other")
	if r := testenv.Get(t, o.browser, other.URL("/v1/me"), testenv.Bearer(alice.AccessToken)); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("acme token on another tenant's /v1/me: %d %s", r.StatusCode, r.Body)
	}
}

// mfaPolicy stands in for the authentication-methods issue: it asks for a second factor in one organization.
type mfaPolicy struct{ orgID string }

func (p mfaPolicy) Check(_ context.Context, in oauth.PolicyInput) error {
	if in.Org.ID == p.orgID && !slices.Contains(in.AMR, "mfa") {
		return &oauth.PolicyError{Requirement: "mfa", Description: "This organization requires multi-factor authentication."}
	}
	return nil
}

func TestOrganizationPolicySeam(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	o.env.S.OrgPolicy = mfaPolicy{orgID: o.globex.ID}
	_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}})
	r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": o.globex.ID})
	if r.StatusCode != http.StatusForbidden || testenv.OAuthError(t, r) != "interaction_required" || !strings.Contains(r.Body, "multi-factor") {
		t.Errorf("switch into an MFA organization: %d %s", r.StatusCode, r.Body)
	}
	x := o.exchange(t, url.Values{"subject_token": {tk.AccessToken}, "subject_token_type": {oauth.TokenTypeAccess}, "organization": {"globex"}})
	if testenv.OAuthError(t, x) != "interaction_required" {
		t.Errorf("exchange into an MFA organization: %d %s", x.StatusCode, x.Body)
	}
	ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
	ar.Extra = url.Values{"organization": {"globex"}}
	if q := ar.Callback(t, o.acme, testenv.Get(t, o.browser, ar.URL(o.acme))); q.Get("error") != "access_denied" {
		t.Errorf("authorize into an MFA organization: %v", q)
	}
	// Acme asks for nothing more.
	if r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": o.acmeOrg.ID}); r.StatusCode != http.StatusOK {
		t.Errorf("switch into Acme: %d %s", r.StatusCode, r.Body)
	}
}

// regexpAll returns the first group of every match of pattern in s.
func regexpAll(pattern, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestMachineGrantsFollowChanges: what client credentials caches (the audience's resource server, the client's
// roles and permissions) changes on the very next token after a change through the server.
func TestMachineGrantsFollowChanges(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	const aud = "https://billing.acme.test"
	svc := acme.NewClient(directory.ClientSpec{Name: "worker", Type: storage.ClientConfidential, GrantTypes: []string{"client_credentials"},
		Audiences: []string{aud}})
	c := env.Client(testenv.ClientOptions{})
	token := func() (int, []string) {
		t.Helper()
		tk := testenv.TokensOf(t, acme.ClientCredentials(t, c, svc.ClientID, svc.ClientSecret, url.Values{"audience": {aud}}))
		_, claims := testenv.DecodeJWT(t, tk.AccessToken)
		return tk.ExpiresIn, strs(claims["permissions"])
	}
	if exp, perms := token(); exp < 3500 || len(perms) != 0 {
		t.Fatalf("before any resource server: expires_in %d, permissions %v", exp, perms)
	}
	ctx := acme.Ctx
	if _, err := env.S.CreateResourceServer(ctx, directory.ResourceServerSpec{Identifier: aud, Name: "Billing", TokenLifetime: 120,
		Scopes: []storage.Scope{{Value: "read:invoices"}, {Value: "pay:invoices"}}}); err != nil {
		t.Fatal(err)
	}
	if exp, _ := token(); exp > 120 || exp < 115 {
		t.Errorf("right after the resource server was created: expires_in %d, want its 120", exp)
	}
	role, err := env.S.CreateRole(ctx, directory.RoleSpec{Name: "payer", Permissions: []storage.Permission{{ResourceServer: aud, Name: "read:invoices"}}})
	must(t, "role", err)
	_, err = env.S.AssignClientRoles(ctx, svc.ClientID, []string{role.ID}, storage.SourceManual)
	must(t, "assign", err)
	if _, perms := token(); !slices.Equal(perms, []string{"read:invoices"}) {
		t.Errorf("after the assignment: %v", perms)
	}
	must(t, "add permission", env.S.AddRolePermissions(ctx, role.ID, []storage.Permission{{ResourceServer: aud, Name: "pay:invoices"}}))
	if _, perms := token(); !slices.Equal(perms, []string{"pay:invoices", "read:invoices"}) {
		t.Errorf("after adding a permission: %v", perms)
	}
	_, err = env.S.RemoveClientRoles(ctx, svc.ClientID, []string{role.ID})
	must(t, "unassign", err)
	if _, perms := token(); len(perms) != 0 {
		t.Errorf("after removing the role: %v", perms)
	}
}

// TestExchangeToAnotherAudience: a confidential client, which proves itself, may trade a user's token for one
// to another of its audiences; the token alone (a public client) cannot, see TestOrganizationRefusals.
func TestExchangeToAnotherAudience(t *testing.T) {
	t.Parallel()
	o := newOrgSetup(t, storage.OrgUsageAllow)
	web := o.acme.NewClient(directory.ClientSpec{Name: "web", Type: storage.ClientConfidential, RedirectURIs: []string{orgRedirect},
		GrantTypes: []string{"authorization_code", "token_exchange"}, Audiences: []string{docsAPI, directory.ManagementAudience},
		OrganizationUsage: storage.OrgUsageAllow})
	ar := testenv.NewAuthRequest(web.ClientID, orgRedirect)
	ar.Extra = url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}}
	code := ar.Code(t, o.acme, o.browser, o.alice.Email, testenv.Password)
	tk := testenv.TokensOf(t, testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {orgRedirect}, "code_verifier": {ar.Verifier}}, testenv.BasicAuth(web.ClientID, web.ClientSecret)))
	form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "subject_token": {tk.AccessToken},
		"subject_token_type": {oauth.TokenTypeAccess}, "organization": {"globex"}, "audience": {directory.ManagementAudience}}
	if r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), form, testenv.BasicAuth(web.ClientID, "wrong-secret")); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("exchange with a wrong secret: %d %s", r.StatusCode, r.Body)
	}
	r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), form, testenv.BasicAuth(web.ClientID, web.ClientSecret))
	c := o.claims(t, testenv.TokensOf(t, r).AccessToken)
	if !slices.Equal(strs(c["aud"]), []string{directory.ManagementAudience}) || c["org_id"] != o.globex.ID {
		t.Errorf("exchanged token aud=%v org_id=%v", c["aud"], c["org_id"])
	}
}
