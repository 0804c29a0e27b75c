package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// TestExchangeAttack3: switching organization by RFC 8693 token exchange with an ID token in the answer. An
// attacker holding one of alice's tokens (or being alice) tries to carry one organization's roles into another,
// to reach an organization where alice is suspended or that belongs to another tenant, to widen the audience
// through a public client, to switch with tokens that are revoked, rotated away, another client's or an ID token,
// and to keep switched tokens alive after the sign-in they came from is revoked.
func TestExchangeAttack3(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		p := newProto(t, opts)
		ctx, st, now := p.acme.Ctx, p.env.S.Store, time.Now().UTC()
		jwks := p.acme.JWKS(t, p.c)

		if _, err := p.env.S.CreateResourceServer(ctx, directory.ResourceServerSpec{Identifier: api, Name: "Things",
			Scopes: []storage.Scope{{Value: "read:things"}, {Value: "admin:things"}}}); err != nil {
			t.Fatal(err)
		}
		role, err := p.env.S.CreateRole(ctx, directory.RoleSpec{Name: "acme-admin", OrganizationID: p.acmeOrg.ID,
			Permissions: []storage.Permission{{ResourceServer: api, Name: "admin:things"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.env.S.AssignMemberRoles(ctx, p.acmeOrg.ID, p.alice.ID, []string{role.ID}, storage.SourceManual); err != nil {
			t.Fatal(err)
		}
		// initech: alice is a suspended member.
		initech := storage.Organization{ID: ids.New("org"), Name: "initech", DisplayName: "Initech", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOrganization(ctx, initech); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateMembership(ctx, storage.Membership{ID: ids.New("mem"), OrganizationID: initech.ID, UserID: p.alice.ID,
			Status: storage.MembershipSuspended, JoinedAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// An organization of tenant globex.
		foreignOrg := storage.Organization{ID: ids.New("org"), Name: "umbrella", DisplayName: "Umbrella", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateOrganization(p.globex.Ctx, foreignOrg); err != nil {
			t.Fatal(err)
		}
		// A public client allowed the API and the Management API.
		wide := p.acme.NewClient(directory.ClientSpec{Name: "wide", Type: storage.ClientPublic, RedirectURIs: []string{appRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token", "token_exchange"}, OrganizationUsage: storage.OrgUsageAllow,
			Audiences: []string{api, directory.ManagementAudience}, Scopes: []string{"openid", "profile", "email", "offline_access", "read:things", "admin:things"}})

		signIn := func(t *testing.T, clientID string, extra url.Values) testenv.Tokens {
			t.Helper()
			b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
			ar := testenv.NewAuthRequest(clientID, appRedirect)
			for k, v := range extra {
				ar.Extra[k] = v
			}
			return testenv.TokensOf(t, ar.Exchange(t, p.acme, b, ar.Code(t, p.acme, b, "alice@acme.test", testenv.Password)))
		}
		exchange := func(clientID, subject, subjectType, org string, extra url.Values) *testenv.Response {
			form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {clientID}, "subject_token": {subject},
				"subject_token_type": {subjectType}, "organization": {org}}
			for k, v := range extra {
				form[k] = v
			}
			return testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), form)
		}
		refused := func(t *testing.T, r *testenv.Response, codes ...string) {
			t.Helper()
			if r.StatusCode < 400 || r.StatusCode >= 500 || strings.Contains(r.Body, "access_token") || strings.Contains(r.Body, "id_token") {
				t.Fatalf("status %d, want a refusal without tokens\n%s", r.StatusCode, r.Body)
			}
			if e := testenv.OAuthError(t, r); !slices.Contains(codes, e) {
				t.Errorf("error %q, want one of %v\n%s", e, codes, r.Body)
			}
		}
		userinfo := func(token string) int {
			return testenv.Get(t, p.c, p.acme.URL("/userinfo"), testenv.Bearer(token)).StatusCode
		}

		admin := signIn(t, wide.ClientID, url.Values{"organization": {"acme-corp"}, "audience": {api}, "scope": {"openid profile email offline_access admin:things"}})
		_, at := testenv.VerifyJWT(t, admin.AccessToken, jwks)
		if perms, _ := at["permissions"].([]any); !slices.Contains(perms, any("admin:things")) {
			t.Fatalf("setup: acme-corp's token lacks admin:things: %v", at)
		}

		t.Run("acme-corp's roles do not follow into globex", func(t *testing.T) {
			for _, subj := range []struct{ tok, typ string }{{admin.AccessToken, oauth.TokenTypeAccess}, {admin.RefreshToken, oauth.TokenTypeRefresh}} {
				tk := testenv.TokensOf(t, exchange(wide.ClientID, subj.tok, subj.typ, "globex", nil))
				_, c := testenv.VerifyJWT(t, tk.AccessToken, jwks)
				if c["org_id"] != p.globexOrg.ID || c["act_org"] != nil && c["act_org"] != p.globexOrg.ID {
					t.Errorf("org_id/act_org = %v/%v, want globex's %s", c["org_id"], c["act_org"], p.globexOrg.ID)
				}
				if perms, _ := c["permissions"].([]any); slices.Contains(perms, any("admin:things")) {
					t.Errorf("acme-corp's permission admin:things came along into globex: %v", perms)
				}
				if roles, _ := c["roles"].([]any); slices.Contains(roles, any("acme-admin")) {
					t.Errorf("acme-corp's role came along into globex: %v", roles)
				}
				_, idc := testenv.VerifyJWT(t, tk.IDToken, jwks)
				if idc["org_id"] != p.globexOrg.ID || idc["org_name"] != "globex" || idc["nonce"] != nil {
					t.Errorf("ID token org_id/org_name/nonce = %v/%v/%v", idc["org_id"], idc["org_name"], idc["nonce"])
				}
				for k, v := range idc {
					if s, ok := v.(string); ok && (s == p.acmeOrg.ID || s == "acme-corp") {
						t.Errorf("ID token claim %s names acme-corp", k)
					}
					if roles, ok := v.([]any); ok && slices.Contains(roles, any("acme-admin")) {
						t.Errorf("ID token claim %s carries acme-corp's role", k)
					}
				}
			}
		})

		t.Run("a public client cannot move to another of its audiences", func(t *testing.T) {
			for _, aud := range []string{directory.ManagementAudience, "http://" + p.acme.Host + "/api/v2/", "https://acme.localhost/api/v2/"} {
				refused(t, exchange(wide.ClientID, admin.AccessToken, oauth.TokenTypeAccess, "globex", url.Values{"audience": {aud}}),
					"invalid_target", "access_denied", "invalid_request")
				refused(t, exchange(wide.ClientID, admin.RefreshToken, oauth.TokenTypeRefresh, "globex", url.Values{"audience": {aud}}),
					"invalid_target", "access_denied", "invalid_request")
			}
		})

		t.Run("scopes only shrink", func(t *testing.T) {
			tk := signIn(t, wide.ClientID, url.Values{"organization": {"acme-corp"}, "audience": {api}, "scope": {"openid read:things"}})
			refused(t, exchange(wide.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", url.Values{"scope": {"openid read:things admin:things"}}), "invalid_scope")
			refused(t, exchange(wide.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", url.Values{"scope": {"openid offline_access"}}), "invalid_scope")
			r := exchange(wide.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil)
			if got := testenv.TokensOf(t, r); got.RefreshToken != "" {
				t.Errorf("a refresh token from an access token without offline_access: %s", r.Body)
			}
		})

		t.Run("an organization where alice is suspended", func(t *testing.T) {
			for _, org := range []string{"initech", initech.ID} {
				refused(t, exchange(wide.ClientID, admin.AccessToken, oauth.TokenTypeAccess, org, nil), "access_denied")
				refused(t, exchange(wide.ClientID, admin.RefreshToken, oauth.TokenTypeRefresh, org, nil), "access_denied")
			}
		})

		t.Run("suspended after the switch: the switched refresh token stops", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			sw := testenv.TokensOf(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil))
			if sw.RefreshToken == "" {
				t.Fatal("no refresh token from a refresh-token switch")
			}
			if _, err := p.env.S.SetMemberStatus(ctx, "globex", p.alice.ID, storage.MembershipSuspended); err != nil {
				t.Fatal(err)
			}
			defer func() { _, _ = p.env.S.SetMemberStatus(ctx, "globex", p.alice.ID, storage.MembershipActive) }()
			r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {sw.RefreshToken}, "client_id": {p.spa.ClientID}})
			refused(t, r, "invalid_grant")
			refused(t, exchange(p.spa.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil), "access_denied")
		})

		t.Run("another tenant's organization", func(t *testing.T) {
			for _, org := range []string{"umbrella", foreignOrg.ID} {
				refused(t, exchange(wide.ClientID, admin.AccessToken, oauth.TokenTypeAccess, org, nil), "access_denied", "invalid_request")
			}
		})

		t.Run("another client's token", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, nil)
			refused(t, exchange(wide.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil), "invalid_request")
			refused(t, exchange(wide.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil), "invalid_request")
		})

		t.Run("an ID token is no subject token", func(t *testing.T) {
			refused(t, exchange(wide.ClientID, admin.IDToken, oauth.TokenTypeAccess, "globex", nil), "invalid_request")
			refused(t, exchange(wide.ClientID, admin.IDToken, oauth.TokenTypeRefresh, "globex", nil), "invalid_request")
			refused(t, exchange(wide.ClientID, admin.IDToken, "urn:ietf:params:oauth:token-type:id_token", "globex", nil), "invalid_request")
		})

		t.Run("a revoked refresh token and its access token", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/revoke"), url.Values{"token": {tk.RefreshToken}, "client_id": {p.spa.ClientID}})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			refused(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil), "invalid_request")
			refused(t, exchange(p.spa.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil), "invalid_request")
		})

		t.Run("a revoked access token", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/revoke"), url.Values{"token": {tk.AccessToken}, "client_id": {p.spa.ClientID}})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			refused(t, exchange(p.spa.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil), "invalid_request")
		})

		t.Run("a refresh token already rotated away", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			testenv.TokensOf(t, testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tk.RefreshToken}, "client_id": {p.spa.ClientID}}))
			refused(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil), "invalid_request", "invalid_grant")
		})

		t.Run("revoking the sign-in's refresh token revokes what was switched from it", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			sw := testenv.TokensOf(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil))
			if userinfo(sw.AccessToken) != http.StatusOK {
				t.Fatalf("the switched access token does not work at all")
			}
			r := testenv.PostForm(t, p.c, p.acme.URL("/oauth/revoke"), url.Values{"token": {tk.RefreshToken}, "client_id": {p.spa.ClientID}})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
			}
			if s := userinfo(sw.AccessToken); s != http.StatusUnauthorized {
				t.Errorf("the switched access token still answers userinfo (%d) after its sign-in was revoked", s)
			}
			again := testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {sw.RefreshToken}, "client_id": {p.spa.ClientID}})
			refused(t, again, "invalid_grant")
		})

		t.Run("reuse of the sign-in's refresh token revokes what was switched from it", func(t *testing.T) {
			tk := signIn(t, p.spa.ClientID, url.Values{"organization": {"acme-corp"}})
			sw := testenv.TokensOf(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil))
			refresh := func(rt string) *testenv.Response {
				return testenv.PostForm(t, p.c, p.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {rt}, "client_id": {p.spa.ClientID}})
			}
			testenv.TokensOf(t, refresh(tk.RefreshToken))
			refused(t, refresh(tk.RefreshToken), "invalid_grant") // reuse: the family is revoked
			refused(t, refresh(sw.RefreshToken), "invalid_grant")
		})

		t.Run("a blocked user's token", func(t *testing.T) {
			carol := p.acme.NewUser("carol@acme.test")
			if err := st.CreateMembership(ctx, storage.Membership{ID: ids.New("mem"), OrganizationID: p.globexOrg.ID, UserID: carol.ID,
				Status: storage.MembershipActive, JoinedAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			b := p.env.Client(testenv.ClientOptions{StopAt: []string{appOrigin}})
			ar := testenv.NewAuthRequest(p.spa.ClientID, appRedirect)
			tk := testenv.TokensOf(t, ar.Exchange(t, p.acme, b, ar.Code(t, p.acme, b, "carol@acme.test", testenv.Password)))
			blocked := true
			if _, err := p.env.S.UpdateUser(ctx, carol.ID, directory.UserUpdate{Blocked: &blocked}); err != nil {
				t.Fatal(err)
			}
			refused(t, exchange(p.spa.ClientID, tk.AccessToken, oauth.TokenTypeAccess, "globex", nil), "invalid_grant", "invalid_request")
			refused(t, exchange(p.spa.ClientID, tk.RefreshToken, oauth.TokenTypeRefresh, "globex", nil), "invalid_grant", "invalid_request")
		})

		t.Run("at globex, acme's token with globex's client and its own organization", func(t *testing.T) {
			form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {p.foreign.ClientID}, "subject_token": {admin.AccessToken},
				"subject_token_type": {oauth.TokenTypeAccess}, "organization": {"umbrella"}}
			refused(t, testenv.PostForm(t, p.c, p.globex.URL("/oauth/token"), form), "invalid_request", "invalid_client")
			form.Set("subject_token", admin.RefreshToken)
			form.Set("subject_token_type", oauth.TokenTypeRefresh)
			refused(t, testenv.PostForm(t, p.c, p.globex.URL("/oauth/token"), form), "invalid_request", "invalid_client")
		})
	})
}
