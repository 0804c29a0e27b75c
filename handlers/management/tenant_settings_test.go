package management_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

// settingNames lists the JSON names of every field of storage.TenantSettings, so a setting added there and not
// served by the API fails this test.
func settingNames(t *testing.T) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeFor[storage.TenantSettings]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("storage.TenantSettings.%s has no JSON name", typ.Field(i).Name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func TestTenantSettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		defaults := map[string]any{
			"refresh_token_reuse_interval":   0.0,
			"brute_force_threshold":          float64(server.DefaultBruteForceThreshold),
			"brute_force_block_seconds":      float64(server.DefaultBruteForceBlockSeconds),
			"ip_failure_limit":               float64(server.DefaultIPFailureLimit),
			"ip_failure_window_seconds":      float64(server.DefaultIPFailureWindowSeconds),
			"account_failure_limit":          float64(server.DefaultAccountFailureLimit),
			"account_failure_window_seconds": float64(server.DefaultAccountFailureWindowSeconds),
			// The tests' server hashes at bcrypt's minimum cost (testenv.Config).
			"password_hash": map[string]any{"algorithm": "bcrypt", "cost": float64(bcrypt.MinCost)},
			// A password sign-in does not wait for the email to be verified unless the tenant asks for it.
			"email_verification": "optional",
			"email_from":         "", "email_brand_color": "", "email_logo_url": "",
			"mfa": "optional",
		}
		got := obj(t, f.must(t, http.StatusOK, "GET", "/tenants/settings", nil))
		if keys := keysOf(got); !slices.Equal(keys, settingNames(t)) {
			t.Fatalf("GET /tenants/settings serves %v, want every tenant setting %v", keys, settingNames(t))
		}
		if !reflect.DeepEqual(got, defaults) {
			t.Errorf("settings of a new tenant = %v, want the defaults %v", got, defaults)
		}

		want := maps(defaults, map[string]any{"brute_force_threshold": 5.0, "refresh_token_reuse_interval": 30.0})
		if got := obj(t, f.must(t, http.StatusOK, "PATCH", "/tenants/settings",
			map[string]any{"brute_force_threshold": 5, "refresh_token_reuse_interval": 30})); !reflect.DeepEqual(got, want) {
			t.Errorf("PATCH answered %v, want %v", got, want)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/tenants/settings", nil)); !reflect.DeepEqual(got, want) {
			t.Errorf("GET after PATCH = %v, want %v", got, want)
		}
		if st := f.acme.Stored(t).Settings; st.BruteForceThreshold != 5 || st.RefreshTokenReuseInterval != 30 {
			t.Errorf("stored settings = %+v", st)
		}
		audited := func(t *testing.T) []any {
			t.Helper()
			return arr(t, obj(t, f.must(t, http.StatusOK, "GET", "/logs?include_totals=true&type="+server.EventTenantSettingsUpdated, nil))["logs"])
		}
		if events := audited(t); len(events) != 1 {
			t.Fatalf("%s events = %v, want 1", server.EventTenantSettingsUpdated, events)
		} else {
			e := obj(t, events[0])
			d := obj(t, e["data"])
			if !reflect.DeepEqual(d["changed"], []any{"refresh_token_reuse_interval", "brute_force_threshold"}) ||
				!reflect.DeepEqual(d["values"], map[string]any{"refresh_token_reuse_interval": 30.0, "brute_force_threshold": 5.0}) ||
				!strings.HasPrefix(e["actor"].(string), "api_key:") {
				t.Errorf("audit event = %v", e)
			}
		}

		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{name: "threshold zero", body: map[string]any{"brute_force_threshold": 0}, field: "brute_force_threshold"},
			{name: "reuse interval over 300", body: map[string]any{"refresh_token_reuse_interval": 301}, field: "refresh_token_reuse_interval"},
			{name: "negative reuse interval", body: map[string]any{"refresh_token_reuse_interval": -1}, field: "refresh_token_reuse_interval"},
			{name: "window too short", body: map[string]any{"ip_failure_window_seconds": 10}, field: "ip_failure_window_seconds"},
			{name: "block too long", body: map[string]any{"brute_force_block_seconds": 31 * 24 * 3600}, field: "brute_force_block_seconds"},
			{name: "not a number", body: map[string]any{"account_failure_limit": "many"}, field: "account_failure_limit"},
			{name: "fraction", body: map[string]any{"account_failure_window_seconds": 90.5}, field: "account_failure_window_seconds"},
			{name: "unknown setting", body: map[string]any{"brute_force_treshold": 3}, field: "brute_force_treshold"},
			{name: "a valid and an invalid value", body: map[string]any{"ip_failure_limit": 50, "brute_force_threshold": -1}, field: "brute_force_threshold"},
			{name: "bcrypt cost below 10", body: map[string]any{"password_hash": map[string]any{"algorithm": "bcrypt", "cost": 9}}, field: "password_hash.cost"},
			{name: "bcrypt cost above 15", body: map[string]any{"password_hash": map[string]any{"cost": 16}}, field: "password_hash.cost"},
			{name: "unknown algorithm", body: map[string]any{"password_hash": map[string]any{"algorithm": "md5", "cost": 12}}, field: "password_hash.algorithm"},
			{name: "unknown email_verification", body: map[string]any{"email_verification": "sometimes"}, field: "email_verification"},
			{name: "email_verification not a string", body: map[string]any{"email_verification": true}, field: "email_verification"},
			{name: "unknown password_hash field", body: map[string]any{"password_hash": map[string]any{"cost": 12, "rounds": 3}}, field: "rounds"},
			{name: "sender not an address", body: map[string]any{"email_from": "Acme <nowhere>"}, field: "email_from"},
			{name: "brand color not #rrggbb", body: map[string]any{"email_brand_color": "red;background:url(x)"}, field: "email_brand_color"},
			{name: "logo over http", body: map[string]any{"email_logo_url": "http://acme.test/logo.png"}, field: "email_logo_url"},
			{name: "unknown mfa policy", body: map[string]any{"mfa": "sometimes"}, field: "mfa"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.api(t, "PATCH", "/tenants/settings", tc.body), http.StatusBadRequest, "invalid_body", tc.field)
				if got := obj(t, f.must(t, http.StatusOK, "GET", "/tenants/settings", nil)); !reflect.DeepEqual(got, want) {
					t.Errorf("a refused PATCH changed the settings: %v, want %v", got, want)
				}
			})
		}
		if events := audited(t); len(events) != 1 {
			t.Errorf("refused changes were audited: %v", events)
		}

		// Another tenant's key gets nothing of acme's settings, and its own tenant's are its own.
		wantError(t, f.acme.API(t, f.c, "GET", "/tenants/settings", f.globexKey, nil), http.StatusUnauthorized, "invalid_token")
		wantError(t, f.acme.API(t, f.c, "PATCH", "/tenants/settings", f.globexKey, map[string]any{"brute_force_threshold": 1}),
			http.StatusUnauthorized, "invalid_token")
		if got := obj(t, decode(t, f.globex.API(t, f.c, "GET", "/tenants/settings", f.globexKey, nil), http.StatusOK)); !reflect.DeepEqual(got, defaults) {
			t.Errorf("globex's settings = %v, want the defaults", got)
		}
		if got := obj(t, f.must(t, http.StatusOK, "GET", "/tenants/settings", nil)); !reflect.DeepEqual(got, want) {
			t.Errorf("acme's settings after globex's attempts = %v, want %v", got, want)
		}
	})
}

// TestTenantSettingsScopes: reading and changing the settings are separate Management API scopes.
func TestTenantSettingsScopes(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		cl := managementClient(f.acme, "read:tenant_settings")
		reader := testenv.TokensOf(t, f.acme.ClientCredentials(t, f.c, cl.ClientID, cl.ClientSecret,
			url.Values{"audience": {directory.ManagementAudience}, "scope": {"read:tenant_settings"}})).AccessToken
		decode(t, f.acme.API(t, f.c, "GET", "/tenants/settings", reader, nil), http.StatusOK)
		wantError(t, f.acme.API(t, f.c, "PATCH", "/tenants/settings", reader, map[string]any{"brute_force_threshold": 3}),
			http.StatusForbidden, "insufficient_scope", "update:tenant_settings")
		if st := f.acme.Stored(t).Settings; st.BruteForceThreshold != 0 {
			t.Errorf("a refused PATCH stored %+v", st)
		}
		for _, scope := range []string{"read:tenant_settings", "update:tenant_settings"} {
			if !slices.ContainsFunc(directory.ManagementScopes, func(s storage.Scope) bool { return s.Value == scope }) {
				t.Errorf("%s is not a Management API scope", scope)
			}
		}
	})
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// maps returns a copy of base with over's entries set.
func maps(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// TestTenantPasswordCost: the password_hash setting chooses the bcrypt cost of passwords set afterwards (users
// created and passwords changed through the Management API), and a user keeps signing in across the change.
func TestTenantPasswordCost(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		costOf := func(t *testing.T, email string) int {
			t.Helper()
			u, err := f.env.S.Store.GetUserByEmail(f.acme.Ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			c, err := bcrypt.Cost([]byte(u.PasswordHash))
			if err != nil {
				t.Fatalf("stored hash of %s: %v", email, err)
			}
			return c
		}
		body := map[string]any{"email": "before@acme.test", "password": "correct horse battery"}
		before := obj(t, f.must(t, http.StatusCreated, "POST", "/users", body))
		if c := costOf(t, "before@acme.test"); c != bcrypt.MinCost {
			t.Fatalf("cost before the setting = %d, want the server's %d", c, bcrypt.MinCost)
		}
		got := obj(t, f.must(t, http.StatusOK, "PATCH", "/tenants/settings", map[string]any{"password_hash": map[string]any{"algorithm": "bcrypt", "cost": 10}}))
		if !reflect.DeepEqual(got["password_hash"], map[string]any{"algorithm": "bcrypt", "cost": 10.0}) {
			t.Fatalf("PATCH answered password_hash %v", got["password_hash"])
		}
		f.must(t, http.StatusCreated, "POST", "/users", map[string]any{"email": "after@acme.test", "password": "correct horse battery"})
		if c := costOf(t, "after@acme.test"); c != 10 {
			t.Errorf("cost of a user created after the setting = %d, want 10", c)
		}
		f.must(t, http.StatusOK, "PATCH", "/users/"+before["user_id"].(string), map[string]any{"password": "another horse battery"})
		if c := costOf(t, "before@acme.test"); c != 10 {
			t.Errorf("cost of a password changed after the setting = %d, want 10", c)
		}
		// Globex's passwords are untouched by acme's setting.
		if got := obj(t, decode(t, f.globex.API(t, f.c, "GET", "/tenants/settings", f.globexKey, nil), http.StatusOK)); got["password_hash"].(map[string]any)["cost"] != float64(bcrypt.MinCost) {
			t.Errorf("globex's password_hash = %v", got["password_hash"])
		}
	})
}
