package oauth

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/storage"
)

func TestMergeCustomClaims(t *testing.T) {
	for _, tc := range []struct {
		name    string
		custom  map[string]any
		refused []string // nil: merged
	}{
		{name: "namespaced claims merge", custom: map[string]any{"https://acme.test/plan": "gold", "tier": 3}},
		{name: "subject", custom: map[string]any{"sub": "user_other"}, refused: []string{"sub"}},
		{name: "organization and permissions", custom: map[string]any{"org_id": "org_x", "permissions": []string{"*"}, "ok": 1},
			refused: []string{"org_id", "permissions"}},
		{name: "issuer and audience", custom: map[string]any{"iss": "https://evil.test", "aud": "x"}, refused: []string{"aud", "iss"}},
		{name: "identity claims", custom: map[string]any{"email": "ceo@acme.test", "email_verified": true}, refused: []string{"email", "email_verified"}},
		{name: "sign-in claims", custom: map[string]any{"amr": []string{"mfa"}, "acr": "2", "auth_time": 1}, refused: []string{"acr", "amr", "auth_time"}},
		{name: "fosite's own", custom: map[string]any{"at_hash": "x", "nonce": "n", "rat": 1}, refused: []string{"at_hash", "nonce", "rat"}},
		{name: "empty name", custom: map[string]any{"": 1}, refused: []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"sub": "user_1", "org_id": "org_1"}
			err := MergeCustomClaims(claims, tc.custom)
			if tc.refused == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				for k, v := range tc.custom {
					if claims[k] != v {
						t.Errorf("%s = %v, want %v", k, claims[k], v)
					}
				}
				return
			}
			var re *ReservedClaimError
			if !errors.As(err, &re) || !slices.Equal(re.Names, tc.refused) {
				t.Fatalf("err = %v, want the reserved names %v", err, tc.refused)
			}
			if len(claims) != 2 || claims["sub"] != "user_1" || claims["org_id"] != "org_1" {
				t.Errorf("claims changed by a refused merge: %v", claims)
			}
		})
	}
}

// Every claim the builder can set, and every claim discovery lists, is reserved.
func TestRegisteredClaimsAreReserved(t *testing.T) {
	for _, name := range append(ClaimsSupported(), ClaimOrgID, ClaimActOrg, ClaimOrgName, ClaimRoles, ClaimPermissions, "client_id", "scope") {
		if !IsReservedClaim(name) {
			t.Errorf("%q is not reserved", name)
		}
	}
	u := storage.User{ID: "user_1", Email: "a@acme.test", Name: "A", UpdatedAt: time.Unix(1700000000, 0),
		Profile: storage.UserProfile{GivenName: "G", FamilyName: "F", MiddleName: "M", Nickname: "N", PreferredUsername: "P",
			Profile: "https://p.test", Picture: "https://p.test/x.png", Website: "https://w.test", Gender: "g",
			Birthdate: "2000-01-02", Zoneinfo: "Europe/Paris", Locale: "fr-FR"}}
	c := UserClaims(u, fosite.Arguments{"openid", "profile", "email"})
	if len(c) != 16 {
		t.Errorf("UserClaims of a full profile = %d claims, want 16: %v", len(c), c)
	}
	for name := range c {
		if !slices.Contains(ClaimsSupported(), name) {
			t.Errorf("UserClaims sets %q, which discovery does not list", name)
		}
	}
}
