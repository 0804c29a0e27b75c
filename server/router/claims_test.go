package router_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/storage"
)

// The claims builder: every grant's tokens take their claims from the directory as it is when they are minted,
// the ID token's user claims are /userinfo's for the same scopes, and nothing fosite adds that Authio does not
// issue (rat, acr "0") reaches a token.

// standardClaims are the claims of c that a scope grants (UserClaims): the part the ID token and userinfo share.
func standardClaims(c map[string]any) map[string]any {
	out := map[string]any{}
	for _, name := range oauth.ClaimsSupported() {
		if v, ok := c[name]; ok && name != "sub" && name != "iss" && name != "aud" && name != "exp" && name != "iat" &&
			name != "jti" && name != "auth_time" && name != "nonce" && name != "amr" && name != "sid" && name != "idp" && name != "at_hash" &&
			name != oauth.ClaimOrgID && name != oauth.ClaimOrgName {
			out[name] = v
		}
	}
	return out
}

func userinfo(t *testing.T, o *orgSetup, accessToken string) map[string]any {
	t.Helper()
	r := testenv.Get(t, o.browser, o.acme.URL("/userinfo"), testenv.Bearer(accessToken))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", r.StatusCode, r.Body)
	}
	return r.JSON(t)
}

// sameAsUserinfo fails unless idToken's standard claims are exactly userinfo's for accessToken.
func sameAsUserinfo(t *testing.T, o *orgSetup, what, idToken, accessToken string) map[string]any {
	t.Helper()
	id := standardClaims(o.claims(t, idToken))
	ui := userinfo(t, o, accessToken)
	if ui["sub"] != o.claims(t, idToken)["sub"] {
		t.Errorf("%s: userinfo sub %v, ID token sub %v", what, ui["sub"], o.claims(t, idToken)["sub"])
	}
	delete(ui, "sub")
	a, _ := json.Marshal(id)
	b, _ := json.Marshal(ui)
	if string(a) != string(b) {
		t.Errorf("%s: ID token standard claims %s, userinfo %s", what, a, b)
	}
	return id
}

// noFositeExtras fails if a token carries rat or fosite's placeholder acr.
func noFositeExtras(t *testing.T, what string, c map[string]any) {
	t.Helper()
	if _, ok := c["rat"]; ok {
		t.Errorf("%s carries rat: %v", what, c["rat"])
	}
	if v, ok := c["acr"]; ok {
		t.Errorf("%s carries acr %v, want none (Authio defines no authentication context classes)", what, v)
	}
}

func TestClaimsBuiltAtTokenTimeForEveryGrant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		key := o.acme.APIKey(t)
		patch := func(t *testing.T, body map[string]any) {
			t.Helper()
			if r := o.acme.API(t, o.browser, http.MethodPatch, "/users/"+o.alice.ID, key, body); r.StatusCode != http.StatusOK {
				t.Fatalf("PATCH user: %d %s", r.StatusCode, r.Body)
			}
		}
		patch(t, map[string]any{"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
			"picture": "https://img.acme.test/alice.png", "locale": "en-GB", "zoneinfo": "Europe/London"})

		// acr_values makes fosite put acr "0" in the ID token unless the builder's signer drops it.
		_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI},
			"acr_values": {"urn:mace:incommon:iap:silver"}})
		t.Run("authorization code", func(t *testing.T) {
			id := sameAsUserinfo(t, o, "code grant", tk.IDToken, tk.AccessToken)
			if id["given_name"] != "Alice" || id["family_name"] != "Liddell" || id["picture"] != "https://img.acme.test/alice.png" ||
				id["locale"] != "en-GB" || id["zoneinfo"] != "Europe/London" || id["name"] != "Alice Liddell" || id["email"] != o.alice.Email {
				t.Errorf("ID token profile claims = %v", id)
			}
			if _, ok := id["middle_name"]; ok {
				t.Errorf("unset profile claim present: %v", id)
			}
			idt, at := o.claims(t, tk.IDToken), o.claims(t, tk.AccessToken)
			noFositeExtras(t, "code grant ID token", idt)
			noFositeExtras(t, "code grant access token", at)
			if idt["org_id"] != o.acmeOrg.ID || idt["sid"] == nil || idt["auth_time"] == nil {
				t.Errorf("ID token grant claims = %v", idt)
			}
			wantOrgClaims(t, "code grant access token", at, o.acmeOrg, []string{"admin"}, []string{"read:docs", "write:docs"})
		})

		t.Run("refresh after a profile change, without signing in again", func(t *testing.T) {
			patch(t, map[string]any{"given_name": "Alicia", "picture": "", "nickname": "Ali"})
			ref := testenv.TokensOf(t, testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(tk.RefreshToken)))
			id := sameAsUserinfo(t, o, "refresh grant", ref.IDToken, ref.AccessToken)
			if id["given_name"] != "Alicia" || id["nickname"] != "Ali" {
				t.Errorf("refreshed ID token = %v, want the changed profile", id)
			}
			if _, ok := id["picture"]; ok {
				t.Errorf("refreshed ID token still has the removed picture: %v", id)
			}
			noFositeExtras(t, "refreshed ID token", o.claims(t, ref.IDToken))
			noFositeExtras(t, "refreshed access token", o.claims(t, ref.AccessToken))
			tk = ref
		})

		t.Run("token exchange", func(t *testing.T) {
			x := testenv.TokensOf(t, o.exchange(t, url.Values{"subject_token": {tk.RefreshToken},
				"subject_token_type": {oauth.TokenTypeRefresh}, "organization": {"globex"}}))
			at := o.claims(t, x.AccessToken)
			wantOrgClaims(t, "exchanged access token", at, o.globex, []string{"member"}, []string{"read:docs"})
			noFositeExtras(t, "exchanged access token", at)
			if ui := userinfo(t, o, x.AccessToken); ui["given_name"] != "Alicia" || ui["sub"] != o.alice.ID {
				t.Errorf("userinfo of the exchanged token = %v", ui)
			}
			// The exchanged refresh token's next ID token is built too, for the new organization.
			patch(t, map[string]any{"family_name": "Pleasance"})
			ref := testenv.TokensOf(t, testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(x.RefreshToken)))
			id := sameAsUserinfo(t, o, "refresh of an exchanged grant", ref.IDToken, ref.AccessToken)
			if id["family_name"] != "Pleasance" || o.claims(t, ref.IDToken)["org_id"] != o.globex.ID {
				t.Errorf("ID token after exchange and refresh = %v", o.claims(t, ref.IDToken))
			}
			tk = ref
		})

		t.Run("switch-org", func(t *testing.T) {
			r := o.switchOrg(t, tk.AccessToken, map[string]string{"organization_id": "acme-corp", "refresh_token": tk.RefreshToken})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("switch-org: %d %s", r.StatusCode, r.Body)
			}
			var sw testenv.Tokens
			if err := json.Unmarshal([]byte(r.Body), &sw); err != nil {
				t.Fatal(err)
			}
			at := o.claims(t, sw.AccessToken)
			wantOrgClaims(t, "switched access token", at, o.acmeOrg, []string{"admin"}, []string{"read:docs", "write:docs"})
			noFositeExtras(t, "switched access token", at)
			ref := testenv.TokensOf(t, testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), o.refreshForm(sw.RefreshToken)))
			sameAsUserinfo(t, o, "refresh of a switched grant", ref.IDToken, ref.AccessToken)
			if c := o.claims(t, ref.IDToken); c["org_id"] != o.acmeOrg.ID || c["family_name"] != "Pleasance" {
				t.Errorf("ID token after switch and refresh = %v", c)
			}
		})

		t.Run("scopes decide the standard claims, the same in both", func(t *testing.T) {
			ar := testenv.NewAuthRequest(o.spa.ClientID, orgRedirect)
			ar.Scope = "openid offline_access"
			code := ar.Code(t, o.acme, o.browser, o.alice.Email, testenv.Password)
			tk := testenv.TokensOf(t, ar.Exchange(t, o.acme, o.browser, code))
			if id := sameAsUserinfo(t, o, "openid only", tk.IDToken, tk.AccessToken); len(id) != 0 {
				t.Errorf("openid-only ID token has standard claims %v", id)
			}
		})

		t.Run("client credentials", func(t *testing.T) {
			svc := o.acme.NewClient(directory.ClientSpec{Name: "svc", Type: storage.ClientConfidential,
				GrantTypes: []string{"client_credentials"}, Audiences: []string{docsAPI}})
			_, err := o.env.S.Store.AssignRoles(o.acme.Ctx, storage.SubjectClient, svc.ClientID, []string{o.member.ID}, storage.SourceManual)
			must(t, "client role", err)
			cc := testenv.TokensOf(t, o.acme.ClientCredentials(t, o.browser, svc.ClientID, svc.ClientSecret, url.Values{"audience": {docsAPI}}))
			at := o.claims(t, cc.AccessToken)
			if at["sub"] != svc.ClientID || at["client_id"] != svc.ClientID || !slices.Equal(strs(at["permissions"]), []string{"read:docs"}) ||
				!slices.Equal(strs(at["roles"]), []string{"member"}) || at["org_id"] != nil {
				t.Errorf("client credentials access token = %v", at)
			}
			noFositeExtras(t, "client credentials access token", at)
		})
	})
}

// Every claim a token carries is reserved: a custom-claims hook can override none of them.
func TestIssuedClaimsAreReserved(t *testing.T) {
	o := newOrgSetup(t, storage.OrgUsageAllow)
	_, tk := o.signIn(t, o.browser, o.alice.Email, url.Values{"organization": {"acme-corp"}, "audience": {docsAPI}})
	for what, raw := range map[string]string{"ID token": tk.IDToken, "access token": tk.AccessToken} {
		for name := range o.claims(t, raw) {
			if !oauth.IsReservedClaim(name) {
				t.Errorf("%s claim %q is not reserved", what, name)
			}
		}
	}
	for name := range userinfo(t, o, tk.AccessToken) {
		if !oauth.IsReservedClaim(name) {
			t.Errorf("userinfo claim %q is not reserved", name)
		}
	}
}

// Tenant B's user is never in tenant A's claims, even with the same email; B's tokens are nothing at A.
func TestClaimsStayInTheirTenant(t *testing.T) {
	testenv.EachBackend(t, func(t *testing.T, opts testenv.Options) {
		o := newOrgSetupOn(t, storage.OrgUsageAllow, opts)
		other := o.env.NewTenant("other")
		twin := other.NewUser(o.alice.Email)
		otherKey, key := other.APIKey(t), o.acme.APIKey(t)
		if r := other.API(t, o.browser, http.MethodPatch, "/users/"+twin.ID, otherKey, map[string]any{"given_name": "Mallory"}); r.StatusCode != http.StatusOK {
			t.Fatalf("PATCH twin: %d %s", r.StatusCode, r.Body)
		}
		// A's API cannot reach B's user.
		if r := o.acme.API(t, o.browser, http.MethodPatch, "/users/"+twin.ID, key, map[string]any{"given_name": "Eve"}); r.StatusCode != http.StatusNotFound {
			t.Errorf("PATCH of another tenant's user: %d %s, want 404", r.StatusCode, r.Body)
		}
		_, tk := o.signIn(t, o.browser, o.alice.Email, nil)
		for what, c := range map[string]map[string]any{"ID token": o.claims(t, tk.IDToken), "userinfo": userinfo(t, o, tk.AccessToken)} {
			if c["sub"] != o.alice.ID || c["given_name"] != nil {
				t.Errorf("%s of tenant A = %v, want A's user without B's profile", what, c)
			}
		}
		// B's user signs in at B; B's tokens are refused at A.
		spaB := other.NewClient(directory.ClientSpec{Name: "spa", Type: storage.ClientPublic, RedirectURIs: []string{orgRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}})
		ar := testenv.NewAuthRequest(spaB.ClientID, orgRedirect)
		tkB := testenv.TokensOf(t, ar.Exchange(t, other, o.browser, ar.Code(t, other, o.browser, twin.Email, testenv.Password)))
		if r := testenv.Get(t, o.browser, o.acme.URL("/userinfo"), testenv.Bearer(tkB.AccessToken)); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("tenant B's access token at A's userinfo: %d %s", r.StatusCode, r.Body)
		}
		r := testenv.PostForm(t, o.browser, o.acme.URL("/oauth/token"), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tkB.RefreshToken}, "client_id": {spaB.ClientID}})
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.JSON(t)["access_token"] != nil {
			t.Errorf("tenant B's refresh token at A: %d %s", r.StatusCode, r.Body)
		}
	})
}

// Discovery's lists are the registry's, and the registry is what the token endpoint and client validation use.
func TestDiscoveryListsAreTheRegistry(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	acme := env.NewTenant("acme")
	c := env.Client(testenv.ClientOptions{})
	doc := testenv.Get(t, c, acme.URL("/.well-known/openid-configuration")).JSON(t)
	for field, want := range map[string][]string{"grant_types_supported": oauth.GrantTypesSupported(),
		"scopes_supported": oauth.ScopesSupported(), "claims_supported": oauth.ClaimsSupported()} {
		if got := strs(doc[field]); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	for _, claim := range []string{"given_name", "family_name", "picture", "locale", "zoneinfo", "birthdate", "updated_at", "email"} {
		if !slices.Contains(strs(doc["claims_supported"]), claim) {
			t.Errorf("claims_supported lacks %s", claim)
		}
	}
	// A confidential client may be given every registered grant, and the token endpoint knows every one of them.
	var names []string
	for _, g := range oauth.GrantTypes() {
		names = append(names, g.Name)
	}
	all := acme.NewClient(directory.ClientSpec{Name: "all", Type: storage.ClientConfidential, GrantTypes: names,
		RedirectURIs: []string{"https://app.acme.test/cb"}})
	for _, g := range names {
		r := testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{"grant_type": {g}}, testenv.BasicAuth(all.ClientID, all.ClientSecret))
		if e := testenv.OAuthError(t, r); e == "unsupported_grant_type" {
			t.Errorf("registered grant %s: unsupported_grant_type", g)
		}
	}
	r := testenv.PostForm(t, c, acme.URL("/oauth/token"), url.Values{"grant_type": {"password"}}, testenv.BasicAuth(all.ClientID, all.ClientSecret))
	if e := testenv.OAuthError(t, r); e != "unsupported_grant_type" {
		t.Errorf("unregistered grant password: %s, want unsupported_grant_type", e)
	}
	if _, err := env.S.CreateClient(acme.Ctx, directory.ClientSpec{Name: "x", Type: storage.ClientPublic, GrantTypes: []string{"password"}}); err == nil {
		t.Error("client with an unregistered grant created")
	}
}
