package oidf

// The checks the suite's modules make, as functions returning nil when the check passes. Each carries the name
// of the suite condition it reproduces, so a failure reads like the suite's log. They are written from what the
// suite's conditions check (read for the facts), in our own Go.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// skew is the clock skew the suite allows when it judges token times.
const skew = 5 * time.Minute

// jwt is a compact JWS split into its decoded parts.
type jwt struct {
	Raw    string
	Header map[string]any
	Claims map[string]any
}

// parseJWT decodes a compact JWS without verifying it (the suite's ExtractIdTokenFromTokenResponse).
func parseJWT(raw string) (jwt, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return jwt{}, fmt.Errorf("not a compact JWT (%d parts): %q", len(parts), abbreviate(raw, 80))
	}
	out := jwt{Raw: raw}
	for i, dst := range []*map[string]any{&out.Header, &out.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return jwt{}, fmt.Errorf("JWT part %d is not base64url: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return jwt{}, fmt.Errorf("JWT part %d is not a JSON object: %v", i, err)
		}
	}
	return out, nil
}

// number returns a JSON number claim as an int64 (seconds), and whether it was a number.
func number(v any) (int64, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// ValidateIdToken: iss is the discovered issuer, aud holds the client id, exp not past (with skew) nor absurdly
// far, iat neither in the future nor more than the skew in the past, auth_time (if any) within the last year and
// not in the future, acr (if any) not empty.
func validateIDToken(idt jwt, issuer, clientID string, now time.Time) error {
	c := idt.Claims
	if c["iss"] == nil {
		return errors.New("'iss' claim missing")
	}
	if str(c["iss"]) != issuer {
		return fmt.Errorf("issuer mismatch: got %v, want %q", c["iss"], issuer)
	}
	switch aud := c["aud"].(type) {
	case nil:
		return errors.New("'aud' claim missing")
	case string:
		if aud != clientID {
			return fmt.Errorf("'aud' %q is not our client id %q", aud, clientID)
		}
	case []any:
		if !slices.Contains(aud, any(clientID)) {
			return fmt.Errorf("'aud' %v does not contain our client id %q", aud, clientID)
		}
	default:
		return fmt.Errorf("'aud' is neither a string nor an array: %v", aud)
	}
	exp, ok := number(c["exp"])
	if !ok {
		return fmt.Errorf("'exp' claim missing or not a number: %v", c["exp"])
	}
	if now.Add(-skew).After(time.Unix(exp, 0)) {
		return fmt.Errorf("token expired (exp %d, now %d)", exp, now.Unix())
	}
	if time.Unix(exp, 0).After(now.AddDate(50, 0, 0)) {
		return fmt.Errorf("'exp' %d is more than 50 years ahead (milliseconds instead of seconds?)", exp)
	}
	iat, ok := number(c["iat"])
	if !ok {
		return fmt.Errorf("'iat' claim missing or not a number: %v", c["iat"])
	}
	if now.Add(skew).Before(time.Unix(iat, 0)) {
		return fmt.Errorf("'iat' %d is in the future (now %d)", iat, now.Unix())
	}
	if now.Add(-skew).After(time.Unix(iat, 0)) {
		return fmt.Errorf("'iat' %d is more than 5 minutes in the past (now %d)", iat, now.Unix())
	}
	if c["auth_time"] != nil {
		at, ok := number(c["auth_time"])
		if !ok {
			return fmt.Errorf("'auth_time' is not a number: %v", c["auth_time"])
		}
		if now.AddDate(0, 0, -365).After(time.Unix(at, 0)) {
			return fmt.Errorf("'auth_time' %d is over a year in the past", at)
		}
		if now.Add(skew).Before(time.Unix(at, 0)) {
			return fmt.Errorf("'auth_time' %d is in the future (now %d)", at, now.Unix())
		}
	}
	if acr, ok := c["acr"].(string); ok && acr == "" {
		return errors.New("'acr' is an empty string")
	}
	return nil
}

// idTokenOnlyClaims are the claims about the token rather than the user, left out when an ID token's identity
// claims are checked (ValidateIdTokenStandardClaims).
var idTokenOnlyClaims = []string{"iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "c_hash",
	"at_hash", "s_hash", "jti", "nbf", "verified_claims"}

// standardClaimKinds are the OIDC Core §5.1 claims and the JSON type each must have.
var standardClaimKinds = map[string]string{
	"sub": "string", "name": "string", "given_name": "string", "family_name": "string", "middle_name": "string",
	"nickname": "string", "preferred_username": "string", "profile": "string", "picture": "string",
	"website": "string", "email": "string", "email_verified": "bool", "gender": "string", "birthdate": "birthdate",
	"zoneinfo": "string", "locale": "string", "phone_number": "string", "phone_number_verified": "bool",
	"address": "address", "updated_at": "number", "_claim_names": "object", "_claim_sources": "object", "txn": "string",
}

var birthdateRE = regexp.MustCompile(`^(\d{4})(-(\d{2})-(\d{2}))?$`)

func validClaim(kind string, v any) bool {
	switch kind {
	case "string":
		s, ok := v.(string)
		return ok && strings.TrimSpace(s) != "" && !strings.EqualFold(s, "null")
	case "bool":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "birthdate":
		s, _ := v.(string)
		m := birthdateRE.FindStringSubmatch(s)
		if m == nil {
			return false
		}
		year := 0
		fmt.Sscanf(m[1], "%d", &year)
		if m[2] == "" {
			return year >= 1850 && year <= time.Now().Year()
		}
		if _, err := time.Parse("2006-01-02", "2000"+m[2]); err != nil {
			return false
		}
		if year == 0 {
			return true
		}
		_, err := time.Parse("2006-01-02", s)
		return err == nil && year >= 1850 && year <= time.Now().Year()
	case "address":
		a, ok := v.(map[string]any)
		if !ok || len(a) == 0 {
			return false
		}
		for k, x := range a {
			switch k {
			case "formatted", "street_address", "locality", "region", "postal_code", "country":
				if !validClaim("string", x) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// validateStandardClaims is the suite's check of identity claims (ValidateIdTokenStandardClaims,
// ValidateUserInfoStandardClaims): a non-empty object whose standard claims have their types; unknown claims
// are allowed.
func validateStandardClaims(claims map[string]any) error {
	if len(claims) == 0 {
		return errors.New("no identity claims")
	}
	var bad []string
	for k, v := range claims {
		if kind, ok := standardClaimKinds[k]; ok && !validClaim(kind, v) {
			bad = append(bad, fmt.Sprintf("%s=%v is not a valid %s", k, v, kind))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// identityClaims returns the ID token's claims without the token-only ones.
func identityClaims(idt jwt) map[string]any {
	out := map[string]any{}
	for k, v := range idt.Claims {
		if !slices.Contains(idTokenOnlyClaims, k) {
			out[k] = v
		}
	}
	return out
}

// ValidateIdTokenNonce: the ID token's nonce is the request's, and absent when the request had none.
func validateIDTokenNonce(idt jwt, nonce string) error {
	got, has := idt.Claims["nonce"]
	if nonce == "" {
		if has {
			return fmt.Errorf("no nonce was sent but the ID token has nonce %v", got)
		}
		return nil
	}
	if str(got) != nonce {
		return fmt.Errorf("nonce %v, want %q", got, nonce)
	}
	return nil
}

// ValidateIdTokenACRClaimAgainstRequest: an acr claim, when present, is a string (the suite sends no claims
// request for acr in these plans, so nothing more is asked).
func validateIDTokenACRType(idt jwt) error {
	if v, ok := idt.Claims["acr"]; ok {
		if _, isString := v.(string); !isString {
			return fmt.Errorf("acr must be a string, got %v", v)
		}
	}
	return nil
}

// CheckForSubjectInIdToken: sub present, at most 255 characters, printable ASCII.
func checkSubject(idt jwt) error {
	sub := str(idt.Claims["sub"])
	if sub == "" {
		return errors.New("the ID token has no 'sub'")
	}
	if len(sub) > 255 {
		return fmt.Errorf("'sub' exceeds 255 characters: %q", sub)
	}
	for i, c := range []byte(sub) {
		if c < 0x20 || c >= 0x7f {
			return fmt.Errorf("'sub' has a non-printable or non-ASCII byte 0x%02x at %d", c, i)
		}
	}
	return nil
}

// EnsureIdTokenUpdatedAtValid / EnsureUserInfoUpdatedAtValid: updated_at, when present, neither in the future
// nor before 1990.
func checkUpdatedAt(claims map[string]any, where string, now time.Time) error {
	v, ok := claims["updated_at"]
	if !ok {
		return nil
	}
	at, isNum := number(v)
	if !isNum {
		return fmt.Errorf("updated_at in %s is not a number of seconds: %v", where, v)
	}
	if now.Add(skew).Before(time.Unix(at, 0)) {
		return fmt.Errorf("updated_at %d in %s is in the future", at, where)
	}
	if time.Unix(at, 0).Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
		return fmt.Errorf("updated_at %d in %s is before 1990", at, where)
	}
	return nil
}

// ktyOfAlg is the key type a JWS algorithm needs.
func ktyOfAlg(alg string) string {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return "RSA"
	case strings.HasPrefix(alg, "ES"):
		return "EC"
	case strings.HasPrefix(alg, "HS"):
		return "oct"
	case alg == "EdDSA" || alg == "Ed25519":
		return "OKP"
	}
	return ""
}

// verifySignature is ValidateIdTokenSignature: the JWS verifies with a key of the server's JWKS chosen as the
// suite chooses it: by kid when the header has one (a key with that kid whose kty fits the algorithm, and whose
// alg and use, when present, are the header's alg and "sig"), otherwise any fitting key. More than one key with
// the header's kid, kty, alg and use=sig is an error.
func verifySignature(raw string, jwks []byte) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return fmt.Errorf("the server JWKS does not parse: %v", err)
	}
	var rawSet struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(jwks, &rawSet)
	jws, err := jose.ParseSigned(raw)
	if err != nil {
		return fmt.Errorf("not a JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return fmt.Errorf("%d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	kty := ktyOfAlg(h.Algorithm)
	fits := func(i int) bool {
		k := rawSet.Keys[i]
		if str(k["kty"]) != kty {
			return false
		}
		if a, ok := k["alg"].(string); ok && a != h.Algorithm {
			return false
		}
		if u, ok := k["use"].(string); ok && u != "sig" {
			return false
		}
		return true
	}
	exact := 0
	for _, k := range rawSet.Keys {
		if h.KeyID != "" && str(k["kid"]) == h.KeyID && str(k["alg"]) == h.Algorithm && str(k["use"]) == "sig" && str(k["kty"]) == kty {
			exact++
		}
	}
	if exact > 1 {
		return fmt.Errorf("more than one key in the JWKS has kid %q, kty %s, alg %s and use sig", h.KeyID, kty, h.Algorithm)
	}
	tried := false
	for i := range rawSet.Keys {
		if i >= len(set.Keys) || !fits(i) || (h.KeyID != "" && str(rawSet.Keys[i]["kid"]) != h.KeyID) {
			continue
		}
		tried = true
		if _, err := jws.Verify(set.Keys[i].Public()); err == nil {
			return nil
		} else if h.KeyID != "" {
			return fmt.Errorf("the signature does not verify with the JWKS key %q: %v", h.KeyID, err)
		}
	}
	if !tried {
		return fmt.Errorf("the JWKS has no key with kid %q fitting alg %s", h.KeyID, h.Algorithm)
	}
	return errors.New("the signature verifies with none of the JWKS keys")
}

// halfHash is the at_hash / c_hash of value for a JWS algorithm: the left half of its SHA-2 digest, base64url.
func halfHash(alg, value string) (string, error) {
	if !strings.HasSuffix(alg, "256") {
		return "", fmt.Errorf("hash for alg %q not implemented by the test RP", alg)
	}
	sum := sha256.Sum256([]byte(value))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// ValidateAtHash (when at_hash is present) / ValidateCHash.
func checkHalfHash(idt jwt, claim, value string) error {
	got, ok := idt.Claims[claim].(string)
	if !ok {
		if idt.Claims[claim] != nil {
			return fmt.Errorf("%s is not a string", claim)
		}
		return nil
	}
	want, err := halfHash(str(idt.Header["alg"]), value)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s %q, want %q", claim, got, want)
	}
	return nil
}

// shannonEntropy is the suite's entropy estimate: bits per character times length.
func shannonEntropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	e := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		e -= p * math.Log2(p)
	}
	return e * float64(n)
}

// EnsureMinimumAuthorizationCodeLength / EnsureMinimumRefreshTokenLength (128 bits) and the entropy checks
// (more than 96 bits by the suite's estimate).
func checkLength(what, v string) error {
	if len(v)*8 < 128 {
		return fmt.Errorf("%s is %d bits long, want at least 128", what, len(v)*8)
	}
	return nil
}

func checkEntropy(what, v string) error {
	if e := shannonEntropy(v); e <= 96 {
		return fmt.Errorf("%s has an estimated %.1f bits of entropy, want more than 96", what, e)
	}
	return nil
}

// vschar: RFC 6749 Appendix A's %x20-7E (EnsureAccessTokenContainsAllowedCharactersOnly and the refresh token's).
func checkVSChar(what, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for i, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("%s has byte 0x%02x at %d, outside %%x20-7E", what, c, i)
		}
	}
	return nil
}

// errorDescriptionOK is RFC 6749 §4.1.2.1 / §5.2's character set for error_description (tab, LF and CR are let
// through here and warned about separately, as the suite does).
func errorDescriptionOK(s string) error {
	for i, c := range []byte(s) {
		if c == 0x09 || c == 0x0a || c == 0x0d || c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) {
			continue
		}
		return fmt.Errorf("error_description has byte 0x%02x (%q) at %d, outside %%x09-0A / %%x0D / %%x20-21 / %%x23-5B / %%x5D-7E: %q", c, string(c), i, s)
	}
	return nil
}

func noCRLFTab(s string) error {
	if strings.ContainsAny(s, "\r\n\t") {
		return fmt.Errorf("error_description contains CR, LF or TAB: %q", s)
	}
	return nil
}

// errorCodeOK is the character set of the error parameter (%x20-21 / %x23-5B / %x5D-7E), non-empty.
func errorCodeOK(s string) error {
	if s == "" {
		return errors.New("the 'error' field is missing or empty")
	}
	for i, c := range []byte(s) {
		if c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) {
			continue
		}
		return fmt.Errorf("error has byte 0x%02x at %d outside %%x20-21 / %%x23-5B / %%x5D-7E", c, i)
	}
	return nil
}

// errorURIOK: error_uri, when present, is a URI made of %x21 / %x23-5B / %x5D-7E.
func errorURIOK(s string) error {
	if s == "" {
		return nil
	}
	if _, err := url.ParseRequestURI(s); err != nil {
		return fmt.Errorf("error_uri %q is not a URI: %v", s, err)
	}
	for i, c := range []byte(s) {
		if c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) {
			continue
		}
		return fmt.Errorf("error_uri has byte 0x%02x at %d outside %%x21 / %%x23-5B / %%x5D-7E", c, i)
	}
	return nil
}

// contentTypeIs checks a response's media type (the suite's content-type checks ignore parameters).
func contentTypeIs(header string, want string) error {
	if header == "" {
		return errors.New("no Content-Type header")
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil || mt != want {
		return fmt.Errorf("Content-Type %q, want %s", header, want)
	}
	return nil
}

// scopeClaims maps each OIDC Core §5.4 scope to the claims it asks for (the suite's table, which follows the
// spec and pyoidc).
var scopeClaims = map[string][]string{
	"openid":         {"sub"},
	"profile":        {"name", "given_name", "family_name", "middle_name", "nickname", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "preferred_username"},
	"email":          {"email", "email_verified"},
	"address":        {"address"},
	"phone":          {"phone_number", "phone_number_verified"},
	"offline_access": {},
}

// VerifyScopesReturnedInUserInfoClaims: every claim the requested scopes stand for is present.
func scopesReturned(claims map[string]any, scope string) error {
	var missing []string
	for _, sc := range strings.Fields(scope) {
		for _, c := range scopeClaims[sc] {
			if _, ok := claims[c]; !ok {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("claims of scope %q missing: %v", scope, missing)
	}
	return nil
}

// idTokenAllowedClaims are claims an ID token may carry without being asked for
// (EnsureIdTokenDoesNotContainNonRequestedClaims), besides those the requested scopes stand for.
var idTokenAllowedClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
	"at_hash", "c_hash", "nbf", "jti", "sid", "s_hash", "openbanking_intent_id", "txn"}

func nonRequestedClaims(idt jwt, scope string) error {
	allowed := slices.Clone(idTokenAllowedClaims)
	if slices.Contains(strings.Fields(scope), "openid") {
		for _, sc := range strings.Fields(scope) {
			allowed = append(allowed, scopeClaims[sc]...)
		}
	}
	var extra []string
	for k := range idt.Claims {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("the ID token has claims that were not requested: %v", extra)
	}
	return nil
}

// claimSourcesReferenced is EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources.
func claimSourcesReferenced(claims map[string]any) error {
	names, hasNames := claims["_claim_names"].(map[string]any)
	sources, hasSources := claims["_claim_sources"].(map[string]any)
	switch {
	case !hasNames && !hasSources:
		return nil
	case !hasNames:
		return errors.New("_claim_sources without _claim_names")
	case !hasSources:
		return errors.New("_claim_names without _claim_sources")
	}
	referenced := map[string]bool{}
	for _, v := range names {
		referenced[str(v)] = true
	}
	for k := range sources {
		if !referenced[k] {
			return fmt.Errorf("_claim_sources member %q is not referenced from _claim_names", k)
		}
	}
	return nil
}
