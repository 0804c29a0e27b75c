package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/server"
)

// TestCLIWithRedisDown: with AUTHIO_REDIS_URL pointing at a port where nothing answers, every command still does
// its work and prints its JSON; stderr warns that Redis is unreachable and that announcements were dropped,
// without the URL's password. A malformed Redis URL is still a configuration error.
func TestCLIWithRedisDown(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	env := append(append([]string{}, c.environ...),
		"AUTHIO_REDIS_URL=redis://:hunter2-secret@127.0.0.1:"+testenv.FreePort(t)+"/0", "AUTHIO_LOG_LEVEL=warn")
	runCmd := func(t *testing.T, announces bool, args ...string) map[string]any {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, env, &stdout, &stderr); err != nil {
			t.Fatalf("authio %s with Redis down: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		var v map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
			t.Fatalf("authio %s: stdout is not a JSON object: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
		logs := stderr.String()
		if !strings.Contains(logs, "Redis is unreachable") {
			t.Errorf("authio %s: no warning that Redis is unreachable on stderr:\n%s", strings.Join(args, " "), logs)
		}
		if announces && !strings.Contains(logs, "dropped") {
			t.Errorf("authio %s: no warning that the announcement was dropped:\n%s", strings.Join(args, " "), logs)
		}
		if strings.Contains(logs, "hunter2") {
			t.Errorf("authio %s: stderr shows the Redis password:\n%s", strings.Join(args, " "), logs)
		}
		return v
	}

	tenant := runCmd(t, true, "tenant", "create", "--slug", "acme", "--name", "Acme")
	if tenant["slug"] != "acme" {
		t.Errorf("tenant create printed %v", tenant)
	}
	runCmd(t, true, "domain", "add", "--tenant", "acme", "--domain", "login.acme.test")
	if cl := runCmd(t, true, "client", "create", "--tenant", "acme", "--name", "svc", "--type", "confidential",
		"--grant", "client_credentials"); cl["client_secret"] == nil {
		t.Errorf("client create printed %v", cl)
	}
	runCmd(t, false, "user", "create", "--tenant", "acme", "--email", "alice@acme.test", "--password", "correct horse battery")
	if k := runCmd(t, true, "key", "rotate", "--tenant", "acme"); k["kid"] == nil {
		t.Errorf("key rotate printed %v", k)
	}

	var stdout, stderr bytes.Buffer
	bad := append(append([]string{}, c.environ...), "AUTHIO_REDIS_URL=redis://127.0.0.1:6379/not-a-db")
	if err := run(context.Background(), []string{"tenant", "list"}, bad, &stdout, &stderr); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("a malformed Redis URL: error %v, want one line", err)
	}
}

// TestServeWithRedisDown: `authio serve` starts while Redis does not answer, and /readyz says ready with the cache
// degraded.
func TestServeWithRedisDown(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := "127.0.0.1:" + testenv.FreePort(t)
	env := append(append([]string{}, c.environ...), "AUTHIO_REDIS_URL=redis://127.0.0.1:"+testenv.FreePort(t)+"/0", "AUTHIO_LISTEN="+addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, &stdout, &stderr) }()

	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve exited with Redis down: %v\n%s", err, stderr.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			var rd server.Readiness
			derr := json.NewDecoder(resp.Body).Decode(&rd)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || derr != nil || rd.Status != "ready" || rd.Checks["cache"] != server.CacheDegraded {
				t.Fatalf("readyz: status %d, %+v (%v); want 200, ready, cache degraded", resp.StatusCode, rd, derr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not listen within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after shutdown: %v", err)
	}
}
