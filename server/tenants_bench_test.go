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
// key in the call (about 15 µs); RS256-pooled takes the RSA key from the KeyPool, as a running server with one
// ready does; RS256-generated generates the RSA-2048 key in the call, as when the pool is empty or off. Run:
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
					pool := keys.NewKeyPool(1)
					env.S.KeyPool = pool
					ctx := context.Background()
					for i := 0; b.Loop(); i++ {
						if mode == "RS256-pooled" {
							b.StopTimer()
							fill(b, pool)
							b.StartTimer()
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

// fill makes the pool hold one key, with nothing left running that would compete with the timed work.
func fill(b *testing.B, p *keys.KeyPool) {
	b.Helper()
	if p.Ready() > 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	for p.Ready() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}
