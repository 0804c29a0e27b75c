package cache

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func rawRedis(t *testing.T, rawURL string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Two deployments sharing one Redis under different prefixes must not see each other's keys or messages.
func TestRedisPrefixIsolation(t *testing.T) {
	rawURL := redisTestURL(t)
	pa, pb := testPrefix(t, rawURL), testPrefix(t, rawURL)
	a, b := newTestRedis(t, rawURL, pa), newTestRedis(t, rawURL, pb)
	ctx := t.Context()

	if err := a.Set(ctx, "k", []byte("a"), longTTL); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Get(ctx, "k"); err != nil || ok {
		t.Errorf("b.Get of a's key = %v, %v; want absent", ok, err)
	}
	if ok, err := b.SetNX(ctx, "k", []byte("b"), longTTL); err != nil || !ok {
		t.Errorf("b.SetNX of a's key = %v, %v; want stored", ok, err)
	}
	if _, _, err := a.Hit(ctx, "h", longTTL); err != nil {
		t.Fatal(err)
	}
	if n, _, err := b.Count(ctx, "h"); err != nil || n != 0 {
		t.Errorf("b.Count of a's counter = %d, %v; want 0", n, err)
	}
	if err := b.Delete(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if n, _, err := a.Count(ctx, "h"); err != nil || n != 1 {
		t.Errorf("a's counter after b.Delete = %d, %v; want 1", n, err)
	}

	raw := rawRedis(t, rawURL)
	for key, want := range map[string]int64{pa + "k": 1, pb + "k": 1, pa + "h": 1, "k": 0, "h": 0} {
		if n, err := raw.Exists(ctx, key).Result(); err != nil || n != want {
			t.Errorf("EXISTS %q = %d, %v; want %d", key, n, err, want)
		}
	}

	onA, onB := subscribe(t, a, "ch"), subscribe(t, b, "ch")
	if err := a.Publish(ctx, "ch", "for a"); err != nil {
		t.Fatal(err)
	}
	onA.waitFor(t, "for a")
	onB.expectNothing(t)
}

// PubSub reconnects and resubscribes after its connection drops; the subscriber must keep receiving.
func TestRedisSubscribeSurvivesReconnect(t *testing.T) {
	rawURL := redisTestURL(t)
	// A unique client name lets the test kill only this subscription's connection on a shared Redis.
	name := "authio-test-" + rand.Text()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("client_name", name)
	u.RawQuery = q.Encode()
	prefix := testPrefix(t, rawURL)
	sub, pub := newTestRedis(t, u.String(), prefix), newTestRedis(t, rawURL, prefix)
	ctx := t.Context()
	rec := subscribe(t, sub, "ch")

	raw := rawRedis(t, rawURL)
	before := pubsubConnID(t, raw, name)
	if err := raw.Do(ctx, "CLIENT", "KILL", "ID", before).Err(); err != nil {
		t.Fatal(err)
	}

	// Messages published while the subscription is reconnecting are lost (at-most-once), so publish until
	// one gets through.
	deadline := time.Now().Add(waitLimit)
	for i := 0; ; i++ {
		msg := fmt.Sprint("after-kill-", i)
		if err := pub.Publish(ctx, "ch", msg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if slices.Contains(rec.got(), msg) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message delivered within %v of the connection being killed", waitLimit)
		}
	}
	if after := pubsubConnID(t, raw, name); after == before {
		t.Errorf("pubsub connection id still %s; the kill did not take", after)
	}
}

// pubsubConnID returns the id of the one pubsub connection named name.
func pubsubConnID(t *testing.T, raw *redis.Client, name string) string {
	t.Helper()
	list, err := raw.Do(t.Context(), "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for line := range strings.Lines(list) {
		fields := strings.Fields(line)
		if slices.Contains(fields, "name="+name) {
			for _, f := range fields {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) != 1 {
		t.Fatalf("found %d pubsub connections named %s, want 1:\n%s", len(ids), name, list)
	}
	return ids[0]
}

func TestNewRedisUnreachable(t *testing.T) {
	// Port 1 on loopback refuses connections; the password must not leak into the error.
	_, err := NewRedis("redis://authio:hunter2-secret@127.0.0.1:1/0", "p:")
	if err == nil {
		t.Fatal("NewRedis of an unreachable server: no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestOpen(t *testing.T) {
	c, err := Open("", "ignored:")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*Memory); !ok {
		t.Errorf("Open(\"\") = %T, want *Memory", c)
	}
	for _, bad := range []string{"http://127.0.0.1:6379", "redis://authio:hunter2-secret@[::1", "redis://127.0.0.1:6379/not-a-db"} {
		_, err := Open(bad, "p:")
		if err == nil {
			t.Errorf("Open(%q): no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error leaks the password: %v", bad, err)
		}
	}
}
