package directory

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authio/authio/storage"
)

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
