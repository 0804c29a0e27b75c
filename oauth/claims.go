// Package oauth holds what Authio's OAuth 2.0 / OpenID Connect composition is made of and every other part
// reads: the registry of grant types the token endpoint serves (composition, client validation, discovery),
// and the claims: which names are reserved, which standard claims each scope returns.
package oauth

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ory/fosite"

	"github.com/authio/authio/storage"
)

// Access-token claims Authio adds. An organization token carries ClaimOrgID (and ClaimActOrg, the same
// value), ClaimOrgName, ClaimRoles and ClaimPermissions; an internal token carries only the last two.
const (
	ClaimOrgID       = "org_id"
	ClaimActOrg      = "act_org"
	ClaimOrgName     = "org_name"
	ClaimRoles       = "roles"
	ClaimPermissions = "permissions"
)

// ClaimIdP is the ID-token claim naming the connection the sign-in session signed in through (its name: "google",
// "acme-sso", …). It is left out for the tenant's default password connection, the sign-in every tenant has (so
// a plain password sign-in's ID token carries no claim it was not asked for, as OpenID conformance checks), and
// for sessions older than its record.
const ClaimIdP = "idp"

// reservedClaims are the claim names Authio (or fosite on its behalf) sets in ID tokens, access tokens and
// userinfo responses, with what each means. Nothing but the claims builder may set them: custom claims (a
// future pre-token hook, MergeCustomClaims) that use one are refused, so no extension can forge an issuer, a
// subject, an organization, a permission or the identity the user proved.
var reservedClaims = map[string]string{
	// RFC 7519 §4.1 registered claims.
	"iss": "issuer", "sub": "subject", "aud": "audience", "exp": "expiry", "iat": "issued at", "nbf": "not before",
	"jti": "token id",
	// RFC 9068 / RFC 8693 access-token claims.
	"client_id": "client the token was issued to", "scope": "granted scopes", "scp": "granted scopes (list form)",
	"act": "actor (delegation)", "may_act": "who may act", "cnf": "confirmation key",
	// Authio's organization and authorization claims.
	ClaimOrgID: "active organization id", ClaimActOrg: "active organization id (alias)", ClaimOrgName: "active organization name",
	ClaimRoles: "role names", ClaimPermissions: "permissions on the audience",
	// OIDC Core §2 ID-token claims.
	"amr": "authentication methods", "acr": "authentication context class", "auth_time": "time of sign-in",
	"sid": "sign-in session id", ClaimIdP: "connection signed in through", "nonce": "client nonce", "azp": "authorized party", "at_hash": "access token hash",
	"c_hash": "code hash", "s_hash": "state hash", "rat": "request time (fosite; never issued)",
	// JOSE header names some libraries read from claims.
	"typ": "token type",
	// OIDC Core §5.1 standard claims come from the user record (scopeClaims): a hook may not override them,
	// so the ID token and userinfo always agree with the directory.
	"email": "", "email_verified": "", "name": "", "given_name": "", "family_name": "", "middle_name": "",
	"nickname": "", "preferred_username": "", "profile": "", "picture": "", "website": "", "gender": "",
	"birthdate": "", "zoneinfo": "", "locale": "", "updated_at": "", "phone_number": "",
	"phone_number_verified": "", "address": "",
}

// IsReservedClaim reports whether name is a claim only Authio may set.
func IsReservedClaim(name string) bool {
	_, ok := reservedClaims[name]
	return ok
}

// ReservedClaimError refuses custom claims that use reserved names.
type ReservedClaimError struct {
	Names []string // sorted
}

func (e *ReservedClaimError) Error() string {
	return fmt.Sprintf("reserved claim names cannot be set: %s", strings.Join(e.Names, ", "))
}

// MergeCustomClaims adds custom claims (from a pre-token hook, say) to claims. When any custom name is
// reserved (IsReservedClaim) or empty, nothing is merged and the error names them all: a hook that tries to
// set sub or org_id is a bug to surface, not a value to drop silently.
func MergeCustomClaims(claims, custom map[string]any) error {
	var bad []string
	for k := range custom {
		if k == "" || IsReservedClaim(k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return &ReservedClaimError{Names: bad}
	}
	for k, v := range custom {
		claims[k] = v
	}
	return nil
}

// idTokenClaims are the claims an ID token of a user may carry besides those a scope returns.
var idTokenClaims = []string{"iss", "sub", "aud", "exp", "iat", "jti", "auth_time", "nonce", "amr", "sid", ClaimIdP, "at_hash",
	ClaimOrgID, ClaimOrgName}

// scopeClaims are the OIDC Core §5.4 scopes and the standard claims each returns, in ID tokens and userinfo
// alike (UserClaims).
var scopeClaims = []struct {
	scope  string
	claims []string
}{
	{"profile", []string{"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"}},
	{"email", []string{"email", "email_verified"}},
}

// UserClaims are the standard claims (OIDC Core §5.1) of u that scopes grant: with profile, every profile claim
// the user has and updated_at (seconds since the epoch, as §5.1 requires); with email, email and
// email_verified. The ID token and the userinfo response both take them from here, so they agree.
func UserClaims(u storage.User, scopes fosite.Arguments) map[string]any {
	c := map[string]any{}
	if scopes.Has("profile") {
		p := u.Profile
		for k, v := range map[string]string{"name": u.Name, "given_name": p.GivenName, "family_name": p.FamilyName,
			"middle_name": p.MiddleName, "nickname": p.Nickname, "preferred_username": p.PreferredUsername,
			"profile": p.Profile, "picture": p.Picture, "website": p.Website, "gender": p.Gender,
			"birthdate": p.Birthdate, "zoneinfo": p.Zoneinfo, "locale": p.Locale} {
			if v != "" {
				c[k] = v
			}
		}
		c["updated_at"] = u.UpdatedAt.Unix()
	}
	if scopes.Has("email") {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	return c
}
