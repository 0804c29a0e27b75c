package server

import (
	"errors"
	"slices"
	"strings"
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

func TestProfileUpdate(t *testing.T) {
	s := func(v string) *string { return &v }
	old := storage.UserProfile{GivenName: "Alice", Picture: "https://img.test/a.png"}
	for _, tc := range []struct {
		name    string
		upd     ProfileUpdate
		want    storage.UserProfile
		changed []string
		field   string // the refused field, "" when accepted
	}{
		{name: "nothing", upd: ProfileUpdate{}, want: old},
		{name: "set and trim", upd: ProfileUpdate{FamilyName: s("  Liddell "), Locale: s("en-GB"), Zoneinfo: s("America/Argentina/Buenos_Aires")},
			want:    storage.UserProfile{GivenName: "Alice", FamilyName: "Liddell", Picture: "https://img.test/a.png", Locale: "en-GB", Zoneinfo: "America/Argentina/Buenos_Aires"},
			changed: []string{"family_name", "zoneinfo", "locale"}},
		{name: "clear", upd: ProfileUpdate{Picture: s("")}, want: storage.UserProfile{GivenName: "Alice"}, changed: []string{"picture"}},
		{name: "same value", upd: ProfileUpdate{GivenName: s("Alice")}, want: old},
		{name: "birthdates", upd: ProfileUpdate{Birthdate: s("0000-02-29")}, want: storage.UserProfile{GivenName: "Alice", Picture: "https://img.test/a.png", Birthdate: "0000-02-29"}, changed: []string{"birthdate"}},
		{name: "year only", upd: ProfileUpdate{Birthdate: s("1980")}, want: storage.UserProfile{GivenName: "Alice", Picture: "https://img.test/a.png", Birthdate: "1980"}, changed: []string{"birthdate"}},
		{name: "locale with underscore", upd: ProfileUpdate{Locale: s("fr_CA")}, want: storage.UserProfile{GivenName: "Alice", Picture: "https://img.test/a.png", Locale: "fr_CA"}, changed: []string{"locale"}},
		{name: "picture not a URL", upd: ProfileUpdate{Picture: s("me.png")}, field: "picture"},
		{name: "picture javascript", upd: ProfileUpdate{Picture: s("javascript:alert(1)")}, field: "picture"},
		{name: "website ftp", upd: ProfileUpdate{Website: s("ftp://files.test/")}, field: "website"},
		{name: "profile with credentials", upd: ProfileUpdate{Profile: s("https://u:p@host.test/")}, field: "profile"},
		{name: "URL too long", upd: ProfileUpdate{Picture: s("https://img.test/" + strings.Repeat("a", 2048))}, field: "picture"},
		{name: "name too long", upd: ProfileUpdate{Nickname: s(strings.Repeat("n", 256))}, field: "nickname"},
		{name: "control character", upd: ProfileUpdate{GivenName: s("A\x00B")}, field: "given_name"},
		{name: "birthdate format", upd: ProfileUpdate{Birthdate: s("02/01/2000")}, field: "birthdate"},
		{name: "birthdate impossible", upd: ProfileUpdate{Birthdate: s("2001-02-29")}, field: "birthdate"},
		{name: "locale shape", upd: ProfileUpdate{Locale: s("english please")}, field: "locale"},
		{name: "zoneinfo shape", upd: ProfileUpdate{Zoneinfo: s("../etc/passwd")}, field: "zoneinfo"},
		{name: "one bad field refuses all", upd: ProfileUpdate{GivenName: s("Bob"), Locale: s("!!")}, field: "locale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := tc.upd.Apply(old)
			if tc.field != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || !slices.Equal(changed, tc.changed) {
				t.Errorf("Apply = %+v %v, want %+v %v", got, changed, tc.want, tc.changed)
			}
		})
	}
}
