package directory

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/authio/authio/storage"
)

// ProfileUpdate changes a user's standard profile claims (OIDC Core §5.1), by claim name: a nil field is left
// as it is, "" removes the claim. Values are checked by Apply: text at most 255 characters without control
// characters; profile, picture and website absolute http(s) URLs of at most 2048 characters; birthdate
// YYYY-MM-DD, 0000-MM-DD (year withheld) or YYYY; locale a BCP 47 tag such as "fr-CA" (OIDC Core also allows
// "fr_CA"); zoneinfo a time zone database name such as "Europe/Paris". A bad value is a *ValidationError naming
// the claim.
type ProfileUpdate struct {
	GivenName, FamilyName, MiddleName, Nickname, PreferredUsername *string
	Profile, Picture, Website                                      *string
	Gender, Birthdate, Zoneinfo, Locale                            *string
}

var (
	localeRE   = regexp.MustCompile(`^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$`)
	zoneinfoRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9_+-]*)(?:/[A-Za-z0-9][A-Za-z0-9_+-]*){0,3}$`)
)

// Apply checks upd and returns old with its fields changed, and the claim names that changed.
func (upd ProfileUpdate) Apply(old storage.UserProfile) (storage.UserProfile, []string, error) {
	p := old
	var changed []string
	for _, f := range []struct {
		name  string
		in    *string
		out   *string
		check func(field, v string) (string, error)
	}{
		{"given_name", upd.GivenName, &p.GivenName, profileText},
		{"family_name", upd.FamilyName, &p.FamilyName, profileText},
		{"middle_name", upd.MiddleName, &p.MiddleName, profileText},
		{"nickname", upd.Nickname, &p.Nickname, profileText},
		{"preferred_username", upd.PreferredUsername, &p.PreferredUsername, profileText},
		{"profile", upd.Profile, &p.Profile, profileURL},
		{"picture", upd.Picture, &p.Picture, profileURL},
		{"website", upd.Website, &p.Website, profileURL},
		{"gender", upd.Gender, &p.Gender, profileText},
		{"birthdate", upd.Birthdate, &p.Birthdate, profileBirthdate},
		{"zoneinfo", upd.Zoneinfo, &p.Zoneinfo, profileShape(zoneinfoRE, 64, `a time zone name such as "Europe/Paris"`)},
		{"locale", upd.Locale, &p.Locale, profileShape(localeRE, 35, `a BCP 47 language tag such as "en-US"`)},
	} {
		if f.in == nil {
			continue
		}
		v := strings.TrimSpace(*f.in)
		if v != "" {
			var err error
			if v, err = f.check(f.name, v); err != nil {
				return old, nil, err
			}
		}
		if v != *f.out {
			*f.out = v
			changed = append(changed, f.name)
		}
	}
	return p, changed, nil
}

func profileText(field, v string) (string, error) { return checkText(field, v, false, 255) }

func profileURL(field, v string) (string, error) {
	if len(v) > 2048 {
		return "", invalid(field, "must be at most 2048 characters")
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", invalid(field, "must be an absolute http or https URL")
	}
	return v, nil
}

func profileBirthdate(field, v string) (string, error) {
	bad := invalid(field, "must be YYYY-MM-DD, 0000-MM-DD or YYYY (OIDC Core §5.1)")
	switch len(v) {
	case 4:
		if _, err := time.Parse("2006", v); err != nil {
			return "", bad
		}
	case 10:
		d := v
		if strings.HasPrefix(v, "0000-") {
			d = "2000" + v[4:] // a leap year, so 0000-02-29 is a date
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return "", bad
		}
	default:
		return "", bad
	}
	return v, nil
}

func profileShape(re *regexp.Regexp, max int, what string) func(field, v string) (string, error) {
	return func(field, v string) (string, error) {
		if len(v) > max || !re.MatchString(v) {
			return "", invalid(field, "must be %s", what)
		}
		return v, nil
	}
}
