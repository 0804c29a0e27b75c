package testenv

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RedisServer is a private redis-server on a free loopback port, for tests that take Redis away and bring it
// back. The shared test Redis is never stopped: only this one is.
type RedisServer struct {
	t    testing.TB
	bin  string
	dir  string
	Port string
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server in a temporary directory. It skips the test when
// AUTHIO_TEST_REDIS_URL is absent (the Redis suites are off) and fails it when that variable is set but
// redis-server cannot be found or started. The server is killed when the test ends.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	if os.Getenv("AUTHIO_TEST_REDIS_URL") == "" {
		t.Skip("set AUTHIO_TEST_REDIS_URL to run the Redis outage tests (they start a private redis-server)")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/redis-server"); serr != nil {
			t.Fatalf("AUTHIO_TEST_REDIS_URL is set but redis-server is not installed: %v", err)
		}
		bin = "/usr/bin/redis-server"
	}
	r := &RedisServer{t: t, bin: bin, dir: t.TempDir(), Port: FreePort(t)}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// FreePort returns a loopback TCP port nothing listens on (at the time of the call).
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	return port
}

// URL is the redis:// URL of the server.
func (r *RedisServer) URL() string { return "redis://127.0.0.1:" + r.Port + "/0" }

// Start (re)starts the server on its port and waits until it answers PING.
func (r *RedisServer) Start() {
	r.t.Helper()
	if r.cmd != nil {
		r.t.Fatal("redis-server is already running")
	}
	cmd := exec.Command(r.bin, "--port", r.Port, "--bind", "127.0.0.1", "--dir", r.dir, "--save", "",
		"--appendonly", "no", "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning")
	cmd.Dir = r.dir
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for !r.answers() {
		if time.Now().After(deadline) {
			r.Stop()
			r.t.Fatalf("redis-server on port %s did not answer PING", r.Port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. Stopping a stopped
// server does nothing.
func (r *RedisServer) Stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *RedisServer) answers() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+r.Port, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
