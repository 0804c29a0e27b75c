package cache

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// When Redis goes away, every call says so with ErrUnavailable, so callers can answer "temporarily
// unavailable" rather than mistake the failure for an answer. The test runs its own redis-server and kills
// it; the shared one is never touched.
func TestRedisFailuresAreUnavailable(t *testing.T) {
	redisTestURL(t) // the Redis suites are on
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("AUTHIO_TEST_REDIS_URL is set but redis-server is not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			_ = srv.Process.Kill()
			_ = srv.Wait()
		}
	}
	t.Cleanup(kill)
	var r *Redis
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r, err = NewRedis("redis://127.0.0.1:"+strconv.Itoa(port)+"/0?dial_timeout=1s&max_retries=-1", "t:"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	if err := r.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set while up: %v", err)
	}
	if _, ok, err := r.Get(ctx, "missing"); ok || err != nil {
		t.Fatalf("Get of a missing key while up: ok=%v err=%v, want an answer", ok, err)
	}

	kill()
	for name, err := range map[string]error{
		"Get":     func() error { _, _, err := r.Get(ctx, "k"); return err }(),
		"Count":   func() error { _, _, err := r.Count(ctx, "k"); return err }(),
		"Hit":     func() error { _, _, err := r.Hit(ctx, "k", time.Minute); return err }(),
		"SetNX":   func() error { _, err := r.SetNX(ctx, "k", nil, time.Minute); return err }(),
		"Set":     r.Set(ctx, "k", []byte("v"), time.Minute),
		"Delete":  r.Delete(ctx, "k"),
		"Publish": r.Publish(ctx, "ch", "m"),
		"Ping":    r.Ping(ctx),
	} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", name, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Get(ctx, "k"); !errors.Is(err, ErrClosed) || errors.Is(err, ErrUnavailable) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}
