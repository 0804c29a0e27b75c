package management_test

// Attack review of issue 8's profile claims on users (PATCH /api/v2/users, claims built at token time).

import (
	"net/http"
	"testing"
)

// TestAttackProfileCannotInjectClaims: profile fields are the only claims an administrator writes into tokens,
// so they are where a reserved claim (org_id, sub, roles, …) or a script URL would be smuggled in. Reserved
// names, metadata maps and non-http(s) URLs in any casing or disguise are refused with 400 and change nothing;
// another tenant's key cannot touch the user at all (404).
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
			"app_metadata":               {"app_metadata": map[string]any{"org_id": "org_evil"}},
			"user_metadata":              {"user_metadata": map[string]any{"roles": "admin"}},
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
