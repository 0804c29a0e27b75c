package cache_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server/cache"
)

// Generous: nothing here asserts how fast Redis comes back, only that it does.
const outageWait = 20 * time.Second

// events records what a subscription and the cache's resubscription hook saw.
type events struct {
	mu     sync.Mutex
	msgs   []string
	resubs []string
}

func (e *events) msg(m string) {
	e.mu.Lock()
	e.msgs = append(e.msgs, m)
	e.mu.Unlock()
}

func (e *events) resub(ch string) {
	e.mu.Lock()
	e.resubs = append(e.resubs, ch)
	e.mu.Unlock()
}

func (e *events) got() (msgs, resubs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.msgs), slices.Clone(e.resubs)
}

func openRedis(t *testing.T, url, prefix string) cache.Cache {
	t.Helper()
	c, err := cache.Open(url, prefix)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// publishUntilDelivered publishes numbered messages until one reaches e: pub/sub is at most once, and a
// subscription that is still reconnecting misses what is published meanwhile.
func publishUntilDelivered(t *testing.T, pub cache.Cache, channel string, e *events) {
	t.Helper()
	deadline := time.Now().Add(outageWait)
	round := testenv.RandomString(6) // a message of an earlier call must not count
	for i := 0; ; i++ {
		m := fmt.Sprint("probe-", round, "-", i)
		_ = pub.Publish(context.Background(), channel, m) // fails until Redis answers
		time.Sleep(50 * time.Millisecond)
		if msgs, _ := e.got(); slices.Contains(msgs, m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message on %q reached the subscriber within %v", channel, outageWait)
		}
	}
}

// TestRedisOutageAndReturn: go-redis's PubSub is trusted to reconnect and resubscribe on its own after Redis
// is killed and restarted; this checks it on a real redis-server, and that the cache reports the
// resubscription (messages published during the outage were lost) through OnResubscribe.
func TestRedisOutageAndReturn(t *testing.T) {
	t.Parallel()
	rs := testenv.StartRedis(t)
	prefix := "outage-" + testenv.RandomString(6) + ":"
	sub, pub := openRedis(t, rs.URL(), prefix), openRedis(t, rs.URL(), prefix)
	var e events
	sub.(cache.Reconnecting).OnResubscribe(e.resub)
	stop, err := sub.Subscribe(t.Context(), "ch", e.msg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	publishUntilDelivered(t, pub, "ch", &e)
	if _, resubs := e.got(); len(resubs) != 0 {
		t.Errorf("resubscriptions reported before any outage: %q", resubs)
	}

	rs.Stop()
	if err := sub.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeds with redis-server killed")
	}
	if err := pub.Publish(context.Background(), "ch", "lost"); err == nil {
		t.Error("Publish succeeds with redis-server killed")
	}

	rs.Start()
	publishUntilDelivered(t, pub, "ch", &e)
	if _, resubs := e.got(); !slices.Contains(resubs, "ch") {
		t.Errorf("the subscription came back without OnResubscribe reporting it (reported %q)", resubs)
	}
	if err := sub.Ping(context.Background()); err != nil {
		t.Errorf("Ping after Redis returned: %v", err)
	}
}

// TestRedisUnreachableAtStart: Open and Subscribe succeed while Redis is down (only a malformed URL is an
// error); the subscription goes live when Redis starts, and says so.
func TestRedisUnreachableAtStart(t *testing.T) {
	t.Parallel()
	rs := testenv.StartRedis(t)
	rs.Stop()
	prefix := "outage-" + testenv.RandomString(6) + ":"
	sub := openRedis(t, rs.URL(), prefix)
	if err := sub.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeds with no redis-server")
	}
	withPassword := openRedis(t, "redis://:hunter2-secret@127.0.0.1:"+rs.Port+"/0", prefix)
	if err := withPassword.Ping(context.Background()); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Ping with no redis-server = %v; want an error without the password", err)
	}
	var e events
	sub.(cache.Reconnecting).OnResubscribe(e.resub)
	stop, err := sub.Subscribe(t.Context(), "ch", e.msg)
	if err != nil {
		t.Fatalf("Subscribe with Redis down: %v", err)
	}
	defer stop()

	rs.Start()
	pub := openRedis(t, rs.URL(), prefix)
	publishUntilDelivered(t, pub, "ch", &e)
	if _, resubs := e.got(); !slices.Equal(resubs, []string{"ch"}) {
		t.Errorf("OnResubscribe reported %q, want the late subscription to %q once", resubs, "ch")
	}

	if _, err := cache.Open("redis://127.0.0.1:6379/not-a-db", prefix); err == nil {
		t.Error("Open of a malformed URL: no error")
	}
}
