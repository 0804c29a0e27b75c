package management_test

// Attack review of issue 8's profile claims on users (PATCH /api/v2/users, claims built at token time).

import (
	"net/http"
	"testing"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/storage"
)

// TestAttackProfileCannotInjectClaims: profile fields are the only claims an administrator writes into tokens,
// so they are where a reserved claim (org_id, sub, roles, …) or a script URL would be smuggled in. Reserved
// names, metadata that is not an object and non-http(s) URLs in any casing or disguise are refused with 400 and
// change nothing; metadata objects are stored but never become claims; another tenant's key cannot touch the user
// at all (404).
func TestAttackProfileCannotInjectClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		u := f.acme.NewUser("alice@acme.test")
		path := "/users/" + u.ID
		f.must(t, http.StatusOK, "PATCH", path, map[string]any{"given_name": "Alice", "picture": "https://img.acme.test/a.png"})

		for name, body := range map[string]map[string]any{
			"org_id":                     {"org_id": "org_evil"},
			"sub":                        {"sub": "user_admin"},
			"roles":                      {"roles": []string{"admin"}},
			"permissions":                {"permissions": []string{"*"}},
			"acr":                        {"acr": "urn:mace:incommon:iap:gold"},
			"app_metadata not an object": {"app_metadata": []string{"org_id"}},
			"user_metadata a string":     {"user_metadata": "roles=admin"},
			"metadata member unnamed":    {"app_metadata": map[string]any{"": "x"}},
			"tenant_id":                  {"tenant_id": f.globex.ID},
			"picture javascript: upper":  {"picture": "JavaScript:alert(1)"},
			"picture javascript spaced":  {"picture": " javascript:alert(1)"},
			"picture data:":              {"picture": "data:text/html,<script>alert(1)</script>"},
			"picture https without host": {"picture": "https:javascript:alert(1)"},
			"website vbscript":           {"website": "vbscript:msgbox(1)"},
			"profile protocol-relative":  {"profile": "//evil.example/x"},
			"picture with credentials":   {"picture": "https://user:pass@img.acme.test/a.png"},
			"given_name with NUL":        {"given_name": "Al\x00ice"},
			"given_name with newline":    {"given_name": "Alice\r\nSet-Cookie: x=y"},
			"nickname as object":         {"nickname": map[string]any{"org_id": "org_evil"}},
		} {
			if r := f.api(t, "PATCH", path, body); r.StatusCode != http.StatusBadRequest {
				t.Errorf("PATCH %s: %d %s, want 400", name, r.StatusCode, r.Body)
			}
		}
		after, err := f.env.S.Store.GetUser(f.acme.Ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Profile.GivenName != "Alice" || after.Profile.Picture != "https://img.acme.test/a.png" || after.Profile.Website != "" ||
			after.Profile.Profile != "" || after.Profile.Nickname != "" {
			t.Errorf("refused PATCHes changed the profile: %+v", after.Profile)
		}

		// Metadata is Auth0's and stored as given, but it is never a claim: whatever it holds, the user's tokens and
		// userinfo carry no org_id, roles or permissions from it, and no metadata at all.
		evil := map[string]any{"org_id": "org_evil", "roles": []string{"admin"}, "permissions": []string{"*"}, "sub": "user_admin",
			"iss": "https://evil.example/", "email_verified": true}
		f.must(t, http.StatusOK, "PATCH", path, map[string]any{"app_metadata": evil, "user_metadata": evil})
		cl := f.acme.NewClient(directory.ClientSpec{Name: "web", Type: storage.ClientPublic, RedirectURIs: []string{portalRedirect}})
		browser := f.env.Client(testenv.ClientOptions{StopAt: []string{portalRedirect}})
		ar := testenv.NewAuthRequest(cl.ClientID, portalRedirect)
		tk := testenv.TokensOf(t, ar.Exchange(t, f.acme, browser, ar.Code(t, f.acme, browser, "alice@acme.test", testenv.Password)))
		ui := testenv.Get(t, f.c, f.acme.URL("/userinfo"), testenv.Bearer(tk.AccessToken)).JSON(t)
		_, idClaims := testenv.DecodeJWT(t, tk.IDToken)
		_, atClaims := testenv.DecodeJWT(t, tk.AccessToken)
		for what, claims := range map[string]map[string]any{"ID token": idClaims, "access token": atClaims, "userinfo": ui} {
			if claims["sub"] != u.ID || claims["org_id"] != nil || claims["user_metadata"] != nil || claims["app_metadata"] != nil ||
				claims["email_verified"] == true || claims["iss"] == "https://evil.example/" {
				t.Errorf("%s carries metadata: %v", what, claims)
			}
			if r, _ := claims["roles"].([]any); len(r) != 0 {
				t.Errorf("%s roles = %v", what, claims["roles"])
			}
			if p, _ := claims["permissions"].([]any); len(p) != 0 {
				t.Errorf("%s permissions = %v", what, claims["permissions"])
			}
		}

		// Another tenant's key: 404 for the user, and nothing changes.
		r := f.globex.API(t, f.c, "PATCH", path, f.globexKey, map[string]any{"given_name": "Mallory"})
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("globex's key patching acme's user: %d %s, want 404", r.StatusCode, r.Body)
		}
		if r := f.globex.API(t, f.c, "GET", path, f.globexKey, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("globex's key reading acme's user: %d %s", r.StatusCode, r.Body)
		}
		if again, _ := f.env.S.Store.GetUser(f.acme.Ctx, u.ID); again.Profile.GivenName != "Alice" {
			t.Errorf("another tenant changed the profile: %+v", again.Profile)
		}
	})
}
