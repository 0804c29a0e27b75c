package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
)

// BenchmarkCreateTenant measures the server work of creating one tenant with its signing key (Server.CreateTenant:
// validation, the key sealed under the secret key, one transaction for the tenant, its domain, its password
// connection and its key) on every backend (Postgres when AUTHIO_TEST_POSTGRES_DSN is set). ES256 generates its
// key in the call (about 15 µs); RS256-pooled takes the RSA key from the key pool (filled before each call,
// untimed), as a server whose pool holds keys does; RS256-generated generates the RSA-2048 key in the call, as
// when the pool is empty. Run:
//
//	go test ./server -run '^$' -bench CreateTenant -benchtime 50x
func BenchmarkCreateTenant(b *testing.B) {
	for _, be := range testenv.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			env := testenv.New(b, be.Options(b))
			for _, mode := range []string{"ES256", "RS256-pooled", "RS256-generated"} {
				b.Run(mode, func(b *testing.B) {
					alg := keys.AlgES256
					if strings.HasPrefix(mode, "RS256") {
						alg = keys.AlgRS256
					}
					ctx := context.Background()
					for i := 0; b.Loop(); i++ {
						if mode == "RS256-pooled" {
							b.StopTimer()
							if _, err := env.S.KeyPool.Fill(ctx, 1, 1); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
						} else if n, _ := env.S.KeyPool.Ready(ctx); n > 0 {
							b.Fatalf("%s: the key pool holds %d keys", mode, n)
						}
						if _, err := env.S.CreateTenant(ctx, fmt.Sprintf("b-%s-%d-%d", strings.ToLower(mode), i, time.Now().UnixNano()), "", alg, nil); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
