package memo_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// heapPer returns the heap each of n values made by mk holds, measured: the live heap after making them all,
// less the live heap before, divided by n.
func heapPer(t *testing.T, n int, mk func(i int) any) (measured int, estimated int) {
	t.Helper()
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = mk(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if after.HeapAlloc <= before.HeapAlloc {
		t.Fatalf("the heap did not grow (%d to %d bytes) while %d values were made and kept", before.HeapAlloc, after.HeapAlloc, n)
	}
	measured = int(after.HeapAlloc-before.HeapAlloc) / n
	estimated = memo.SizeOf(keep[0])
	runtime.KeepAlive(keep)
	return measured, estimated
}

// TestEntryCostIsHonest: the bytes the cache counts for its entries, bookkeeping included, are what holding
// them costs.
func TestEntryCostIsHonest(t *testing.T) {
	const n = 20000
	m := memo.New(memo.Options{})
	defer m.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		id := fmt.Sprintf("cli_%020d", i)
		if _, err := memo.Get(context.Background(), m, memo.Client, "ten_0123456789abcdefghij", id, func(context.Context) (string, int, error) {
			v := "value of " + id
			return v, memo.SizeOf(v), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st := m.Stats()
	runtime.GC()
	runtime.ReadMemStats(&after)
	measured := float64(after.HeapAlloc-before.HeapAlloc) / n
	estimated := float64(st.Bytes) / float64(st.Entries)
	t.Logf("%d entries: measured %.0f bytes each, counted %.0f", st.Entries, measured, estimated)
	if st.Entries != n {
		t.Fatalf("%d entries, want %d", st.Entries, n)
	}
	if r := estimated / measured; r < 0.7 || r > 1.6 {
		t.Errorf("an entry counts %.0f bytes and costs %.0f (%.2f×)", estimated, measured, r)
	}
	runtime.KeepAlive(m)
}

// TestSizeOfIsHonest: what the cache counts an entry at is what the entry holds, within a margin, for the
// values it keeps: parsed private keys (the bulk of the memory at 10,000 tenants), verified tokens, clients.
func TestSizeOfIsHonest(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parsed := func(key any) func(int) any {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return func(int) any {
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			return &jose.JSONWebKey{Key: priv, KeyID: "key_0123456789abcdefghij", Algorithm: "RS256", Use: "sig"}
		}
	}
	claims := jwt.MapClaims{"iss": "https://acme.example.com/", "sub": "cli_0123456789abcdefghij", "aud": []any{"https://api.acme.test"},
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "jti": "a2c9b8e1-5b8a-4a3c-9a61-0d1f6c0b4f1e",
		"scope": "read write", "permissions": []any{"read", "write"}, "client_id": "cli_0123456789abcdefghij"}
	raw, err := jwt.NewWithClaims(jose.RS256, claims).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	client := storage.Client{ID: "cli_0123456789abcdefghij", TenantID: "ten_0123456789abcdefghij", Name: "Acme dashboard",
		Type: storage.ClientConfidential, SecretHash: "hs256$0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		RedirectURIs: []string{"https://app.acme.test/callback"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		Audiences: []string{"https://api.acme.test"}, WebOrigins: []string{"https://app.acme.test"}}
	clientJSON, err := json.Marshal(client)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		n    int
		mk   func(i int) any
	}{
		{"parsed RSA-2048 private key", 300, parsed(rsaKey)},
		{"parsed P-256 private key", 1000, parsed(ecKey)},
		{"verified token", 1000, func(int) any {
			tok, err := jwt.ParseWithClaims(raw, jwt.MapClaims{}, func(*jwt.Token) (any, error) { return &rsaKey.PublicKey, nil })
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"client", 2000, func(int) any {
			var c storage.Client
			if err := json.Unmarshal(clientJSON, &c); err != nil {
				t.Fatal(err)
			}
			return &storage.FositeClient{Client: c}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			measured, estimated := heapPer(t, tc.n, tc.mk)
			t.Logf("measured %d bytes, estimated %d", measured, estimated)
			if r := float64(estimated) / float64(measured); r < 0.8 || r > 1.6 {
				t.Errorf("estimated %d bytes for %d measured (%.2f×): the byte budget would not mean bytes", estimated, measured, r)
			}
		})
	}
}
