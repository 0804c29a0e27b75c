package oidf

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// The RP's checks must catch what the suite catches, or a passing plan would mean nothing: each is fed a
// defect and must report it (and must pass the sound value next to it).

func signed(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) jwt {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	idt, err := parseJWT(raw)
	if err != nil {
		t.Fatal(err)
	}
	return idt
}

func jwksOf(t *testing.T, key *rsa.PrivateKey, kid string) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChecksCatchDefects(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const iss, aud = "https://op.test/", "cli_1"
	good := map[string]any{"iss": iss, "aud": aud, "sub": "user_1", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"auth_time": now.Unix(), "nonce": "n-123"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name  string
		check func() error
		bad   bool
	}{
		{name: "sound ID token", check: func() error { return validateIDToken(signed(t, key, "k1", good), iss, aud, now) }},
		{name: "wrong issuer", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("iss", "https://evil.test/")), iss, aud, now)
		}},
		{name: "issuer without the trailing slash", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("iss", strings.TrimSuffix(iss, "/"))), iss, aud, now)
		}},
		{name: "other audience", bad: true, check: func() error { return validateIDToken(signed(t, key, "k1", with("aud", []any{"cli_2"})), iss, aud, now) }},
		{name: "expired", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("exp", now.Add(-10*time.Minute).Unix())), iss, aud, now)
		}},
		{name: "exp in milliseconds", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("exp", now.Add(time.Hour).UnixMilli())), iss, aud, now)
		}},
		{name: "stale iat", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("iat", now.Add(-time.Hour).Unix())), iss, aud, now)
		}},
		{name: "auth_time in the future", bad: true, check: func() error {
			return validateIDToken(signed(t, key, "k1", with("auth_time", now.Add(time.Hour).Unix())), iss, aud, now)
		}},
		{name: "empty acr", bad: true, check: func() error { return validateIDToken(signed(t, key, "k1", with("acr", "")), iss, aud, now) }},
		{name: "signature verifies", check: func() error { return verifySignature(signed(t, key, "k1", good).Raw, jwksOf(t, key, "k1")) }},
		{name: "signed by another key", bad: true, check: func() error { return verifySignature(signed(t, other, "k1", good).Raw, jwksOf(t, key, "k1")) }},
		{name: "unknown kid", bad: true, check: func() error { return verifySignature(signed(t, key, "k9", good).Raw, jwksOf(t, key, "k1")) }},
		{name: "alg none", bad: true, check: func() error {
			raw := algNone(signed(t, key, "k1", good).Raw)
			return verifySignature(raw, jwksOf(t, key, "k1"))
		}},
		{name: "nonce matches", check: func() error { return validateIDTokenNonce(signed(t, key, "k1", good), "n-123") }},
		{name: "nonce differs", bad: true, check: func() error { return validateIDTokenNonce(signed(t, key, "k1", good), "n-124") }},
		{name: "nonce returned unasked", bad: true, check: func() error { return validateIDTokenNonce(signed(t, key, "k1", good), "") }},
		{name: "email_verified as a string", bad: true, check: func() error {
			return validateStandardClaims(map[string]any{"sub": "u", "email_verified": "true"})
		}},
		{name: "birthdate out of shape", bad: true, check: func() error { return validateStandardClaims(map[string]any{"sub": "u", "birthdate": "19/01/1981"}) }},
		{name: "birthdate without a year", check: func() error { return validateStandardClaims(map[string]any{"sub": "u", "birthdate": "0000-01-19"}) }},
		{name: "name \"null\"", bad: true, check: func() error { return validateStandardClaims(map[string]any{"sub": "u", "name": "null"}) }},
		{name: "updated_at in milliseconds", bad: true, check: func() error {
			return checkUpdatedAt(map[string]any{"updated_at": float64(now.UnixMilli())}, "userinfo", now)
		}},
		{name: "sub with a control character", bad: true, check: func() error { return checkSubject(signed(t, key, "k1", with("sub", "a\tb"))) }},
		{name: "profile claims missing", bad: true, check: func() error {
			return scopesReturned(map[string]any{"sub": "u", "name": "n"}, "openid profile")
		}},
		{name: "unrequested claim in the ID token", bad: true, check: func() error {
			return nonRequestedClaims(signed(t, key, "k1", with("email", "a@b.test")), "openid")
		}},
		{name: "email asked for", check: func() error {
			return nonRequestedClaims(signed(t, key, "k1", with("email", "a@b.test")), "openid email")
		}},
		{name: "quote in error_description", bad: true, check: func() error { return errorDescriptionOK(`the "code" is used`) }},
		{name: "plain error_description", check: func() error { return errorDescriptionOK("The code was used, or it expired.") }},
		{name: "short code", bad: true, check: func() error { return checkLength("code", "abc123") }},
		{name: "low-entropy code", bad: true, check: func() error { return checkEntropy("code", strings.Repeat("ab", 40)) }},
		{name: "random code", check: func() error { return checkEntropy("code", randomString(43, alnum)) }},
		{name: "refreshed ID token keeps iat", bad: true, check: func() error {
			return compareIDTokens(signed(t, key, "k1", good), signed(t, key, "k1", good))
		}},
		{name: "refreshed ID token changes auth_time", bad: true, check: func() error {
			second := with("auth_time", now.Add(-time.Minute).Unix())
			second["iat"] = now.Add(time.Second).Unix()
			return compareIDTokens(signed(t, key, "k1", good), signed(t, key, "k1", second))
		}},
		{name: "sound refreshed ID token", check: func() error {
			return compareIDTokens(signed(t, key, "k1", good), signed(t, key, "k1", with("iat", now.Add(time.Second).Unix())))
		}},
		{name: "state lost", bad: true, check: func() error { return stateMatches("abc", url.Values{}) }},
		{name: "state altered", bad: true, check: func() error { return stateMatches("a-._~", url.Values{"state": {"a-._"}}) }},
		{name: "http endpoint", bad: true, check: func() error {
			return allEndpointsHTTPS(map[string]any{"token_endpoint": "http://op.test/token", "authorization_endpoint": "https://op.test/a"})
		}},
		{name: "metadata of the wrong type", bad: true, check: func() error {
			return metadataStructure(map[string]any{"scopes_supported": "openid profile"})
		}},
		{name: "unknown metadata", bad: true, check: func() error { return unexpectedMetadata(map[string]any{"issuer": iss, "x_custom": true}) }},
		{name: "scope-token with a space", bad: true, check: func() error {
			if !scopeToken("a b") {
				return fmt.Errorf("not a scope-token")
			}
			return nil
		}},
		{name: "at_hash wrong", bad: true, check: func() error {
			return checkHalfHash(signed(t, key, "k1", with("at_hash", base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef")))), "at_hash", "token")
		}},
		{name: "at_hash right", check: func() error {
			h, _ := halfHash("RS256", "token")
			return checkHalfHash(signed(t, key, "k1", with("at_hash", h)), "at_hash", "token")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.bad && err == nil {
				t.Errorf("the check let the defect through")
			}
			if !tt.bad && err != nil {
				t.Errorf("the check refused a sound value: %v", err)
			}
		})
	}
}
