// Package signbench measures the raw cost of signing a typical Authio access
// token (a JWT with header typ "at+jwt" and a kid) with RS256 (RSA-2048,
// PKCS#1 v1.5, SHA-256) and ES256 (ECDSA P-256, SHA-256), both with the
// standard library directly and through go-jose v3 (the library overhead).
//
// It gives the ceiling against which token issuance is judged in
// BENCHMARKS.md: a client_credentials request cannot be faster than one
// signature. Run it with both one and two cores so the 2-core ceiling shows:
//
//	go test ./scripts/signbench -run '^$' -bench . -cpu 1,2 -benchtime 3s
//
// Every benchmark uses b.RunParallel, so with -cpu 2 it uses two goroutines
// on two Ps, and reports throughput as the extra metric "ops/s"
// (b.N / wall time), which is what scripts/bench.sh reads.
package signbench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

const kid = "key_01JBENCHSIGNBENCHKEY0000"

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	keysErr  error
)

func keys(tb testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	tb.Helper()
	keysOnce.Do(func() {
		rsaKey, keysErr = rsa.GenerateKey(rand.Reader, 2048)
		if keysErr != nil {
			return
		}
		ecKey, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return rsaKey, ecKey
}

// payload is the JSON of a typical client_credentials access token.
func payload() []byte {
	now := time.Now().Unix()
	claims := map[string]any{
		"iss":       "https://rs.localhost:19080",
		"sub":       "cli_01JBENCHCLIENT00000000000",
		"aud":       []string{"https://api.bench.test"},
		"exp":       now + 3600,
		"iat":       now,
		"nbf":       now,
		"jti":       "6f1c2a4e-0d7b-4d55-9a6c-8f3e2b1d9c07",
		"client_id": "cli_01JBENCHCLIENT00000000000",
		"scope":     "read",
	}
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return b
}

var b64 = base64.RawURLEncoding

func header(alg string) []byte {
	return []byte(fmt.Sprintf(`{"alg":%q,"kid":%q,"typ":"at+jwt"}`, alg, kid))
}

// signingInput returns base64url(header) + "." + base64url(payload).
func signingInput(hdr, pl []byte) []byte {
	out := make([]byte, 0, b64.EncodedLen(len(hdr))+1+b64.EncodedLen(len(pl))+400)
	out = b64.AppendEncode(out, hdr)
	out = append(out, '.')
	out = b64.AppendEncode(out, pl)
	return out
}

// signRS256 builds a compact JWS with crypto/rsa directly.
func signRS256(key *rsa.PrivateKey, hdr, pl []byte) (string, error) {
	in := signingInput(hdr, pl)
	sum := sha256.Sum256(in)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	in = append(in, '.')
	in = b64.AppendEncode(in, sig)
	return string(in), nil
}

// signES256 builds a compact JWS with crypto/ecdsa directly (JWS wants the
// fixed-width r||s form, not ASN.1).
func signES256(key *ecdsa.PrivateKey, hdr, pl []byte) (string, error) {
	in := signingInput(hdr, pl)
	sum := sha256.Sum256(in)
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", err
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	in = append(in, '.')
	in = b64.AppendEncode(in, sig[:])
	return string(in), nil
}

func joseSigner(tb testing.TB, alg jose.SignatureAlgorithm, key any) jose.Signer {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func signJose(s jose.Signer, pl []byte) (string, error) {
	obj, err := s.Sign(pl)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// runParallel runs sign in b.RunParallel and reports ops/s (wall clock).
func runParallel(b *testing.B, sign func() (string, error)) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sign(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

// BenchmarkSignRS256 is the raw ceiling: crypto/rsa 2048-bit, SHA-256.
func BenchmarkSignRS256(b *testing.B) {
	rk, _ := keys(b)
	hdr, pl := header("RS256"), payload()
	runParallel(b, func() (string, error) { return signRS256(rk, hdr, pl) })
}

// BenchmarkSignRS256GoJose is the same token signed through go-jose v3.
func BenchmarkSignRS256GoJose(b *testing.B) {
	rk, _ := keys(b)
	s, pl := joseSigner(b, jose.RS256, rk), payload()
	runParallel(b, func() (string, error) { return signJose(s, pl) })
}

// BenchmarkSignES256 is crypto/ecdsa P-256, SHA-256.
func BenchmarkSignES256(b *testing.B) {
	_, ek := keys(b)
	hdr, pl := header("ES256"), payload()
	runParallel(b, func() (string, error) { return signES256(ek, hdr, pl) })
}

// BenchmarkSignES256GoJose is the same token signed through go-jose v3.
func BenchmarkSignES256GoJose(b *testing.B) {
	_, ek := keys(b)
	s, pl := joseSigner(b, jose.ES256, ek), payload()
	runParallel(b, func() (string, error) { return signJose(s, pl) })
}

// TestSignVerify signs once with each method and verifies every token with
// go-jose, so `go test ./...` exercises the package (and proves the
// hand-built stdlib tokens are valid JWS).
func TestSignVerify(t *testing.T) {
	rk, ek := keys(t)
	pl := payload()

	cases := []struct {
		name string
		alg  jose.SignatureAlgorithm
		pub  any
		sign func() (string, error)
	}{
		{"RS256/stdlib", jose.RS256, &rk.PublicKey, func() (string, error) { return signRS256(rk, header("RS256"), pl) }},
		{"RS256/go-jose", jose.RS256, &rk.PublicKey, func() (string, error) { return signJose(joseSigner(t, jose.RS256, rk), pl) }},
		{"ES256/stdlib", jose.ES256, &ek.PublicKey, func() (string, error) { return signES256(ek, header("ES256"), pl) }},
		{"ES256/go-jose", jose.ES256, &ek.PublicKey, func() (string, error) { return signJose(joseSigner(t, jose.ES256, ek), pl) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.sign()
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(tok, "."); n != 2 {
				t.Fatalf("compact JWS has %d dots, want 2", n)
			}
			obj, err := jose.ParseSigned(tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(obj.Signatures) != 1 {
				t.Fatalf("got %d signatures", len(obj.Signatures))
			}
			h := obj.Signatures[0].Header
			if h.Algorithm != string(tc.alg) || h.KeyID != kid {
				t.Fatalf("header alg=%q kid=%q", h.Algorithm, h.KeyID)
			}
			if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" {
				t.Fatalf("header typ=%q, want at+jwt", typ)
			}
			got, err := obj.Verify(tc.pub)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if string(got) != string(pl) {
				t.Fatalf("payload changed: %s", got)
			}
			// A wrong key must not verify.
			var other any
			if tc.alg == jose.RS256 {
				k2, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					t.Fatal(err)
				}
				other = k2.Public()
			} else {
				k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				other = k2.Public()
			}
			if _, err := obj.Verify(other); err == nil {
				t.Fatal("verified with the wrong key")
			}
		})
	}
}
