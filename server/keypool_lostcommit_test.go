package server_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// commitLoser is a TCP proxy to Postgres that, once armed, passes the next COMMIT on, waits for the server's
// answer and drops the connection instead of passing it back: the transaction committed, and the client only
// sees a broken connection.
type commitLoser struct {
	ln    net.Listener
	armed atomic.Bool
	lost  atomic.Int32
}

func newCommitLoser(t *testing.T, target string) *commitLoser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitLoser{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return p
}

func (p *commitLoser) serve(client net.Conn, target string) {
	server, err := net.Dial("tcp", target)
	if err != nil {
		_ = client.Close()
		return
	}
	var once sync.Once
	closeBoth := func() { once.Do(func() { _ = client.Close(); _ = server.Close() }) }
	defer closeBoth()
	var muted atomic.Bool
	answered := make(chan struct{}, 1)
	go func() {
		defer closeBoth()
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && muted.Load() {
				select {
				case answered <- struct{}{}:
				default:
				}
			} else if n > 0 {
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			commit := bytes.Contains(bytes.ToLower(chunk), []byte("commit"))
			if commit && p.armed.CompareAndSwap(true, false) {
				muted.Store(true)
			}
			if _, err := server.Write(chunk); err != nil {
				return
			}
			if muted.Load() {
				select {
				case <-answered: // the server has committed and said so
				case <-time.After(10 * time.Second):
				}
				p.lost.Add(1)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestRotationLostCommitKeepsKeyOutOfPool: when the answer to a rotation's COMMIT is lost (the connection drops
// after Postgres committed), the rotation fails with a 5xx-class error, but the pooled key it took is the tenant's
// now and must not go back to the pool, where the next tenant or rotation would take it again; and the change is
// announced to the caches as if it had committed, since it may have.
func TestRotationLostCommitKeepsKeyOutOfPool(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("AUTHIO_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set AUTHIO_TEST_POSTGRES_DSN: the lost COMMIT answer is Postgres's")
	}
	host := dsn[strings.Index(dsn, "@")+1:]
	host = host[:strings.IndexAny(host, "/?")]
	p := newCommitLoser(t, host)
	env := testenv.New(t, testenv.Options{Store: testenv.PostgresStore(t, strings.Replace(dsn, host, p.ln.Addr().String(), 1))})
	s, ctx := env.S, context.Background()
	for _, slug := range []string{"lost-a", "lost-b"} {
		if _, err := s.CreateTenant(ctx, slug, "", keys.AlgRS256, nil); err != nil {
			t.Fatal(err)
		}
	}
	a, b := env.Tenant("lost-a").Stored(t), env.Tenant("lost-b").Stored(t)
	if added, err := s.KeyPool.Fill(ctx, 1, 1); err != nil || added != 1 {
		t.Fatalf("Fill: %d %v", added, err)
	}
	c := env.Client(testenv.ClientOptions{})
	before := testenv.KidsOf(t, env.Tenant("lost-a").JWKS(t, c)) // cached until a change is announced
	p.armed.Store(true)
	_, err := s.RotateKey(ctx, a)
	if p.lost.Load() != 1 || err == nil {
		t.Fatalf("rotation through the proxy: %v with %d answers lost, want a failure after one lost COMMIT answer", err, p.lost.Load())
	}
	ks, err := s.Store.ListKeys(storage.WithTenant(ctx, a.ID), time.Now())
	if err != nil || len(ks) != 2 || !ks[0].Active {
		t.Fatalf("lost-a's keys after the rotation: %d (%v), want the pooled key active and the old one retired", len(ks), err)
	}
	kid := ks[0].ID // the pooled key: its commit happened
	poolHolds(t, s, 0, "after a rotation whose COMMIT answer was lost")
	// The change is announced all the same: the cached key set is dropped, and the new key published at once
	// instead of after the cache's safety TTL.
	if kids := testenv.KidsOf(t, env.Tenant("lost-a").JWKS(t, c)); !slices.Contains(kids, kid) {
		t.Errorf("lost-a's JWKS after the rotation: %v (before: %v), want it to publish %s", kids, before, kid)
	}
	k, err := s.RotateKey(ctx, b)
	if err != nil || k.ID == kid {
		t.Fatalf("the next rotation: %+v %v, want a key of its own", k.ID, err)
	}
}
