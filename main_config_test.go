package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestConfigurationProblemsAllAtOnce: an unknown variable or a value that does not parse no longer hides the
// other problems: one line lists them all.
func TestConfigurationProblemsAllAtOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	_, err := c.runEnv([]string{"AUTHIO_FOO=1", "AUTHIO_ACCESS_TOKEN_TTL=xyz", "AUTHIO_LISTEN=bogus"}, "tenant", "list")
	if err == nil {
		t.Fatal("tenant list with a broken configuration succeeded")
	}
	for _, want := range []string{"AUTHIO_FOO", "AUTHIO_ACCESS_TOKEN_TTL", `listen address "bogus"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("error spans several lines: %q", err)
	}
}

// TestDevCacheTTL: serve --dev without Redis keeps cached entries for seconds, so what the CLI changes beside it
// shows soon; a TTL given by flag or environment, or Redis, keeps the configured one.
func TestDevCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dev     bool
		args    []string
		environ []string
		want    time.Duration
	}{
		{"dev", true, nil, nil, devCacheTTL},
		{"not dev", false, nil, nil, 10 * time.Minute},
		{"dev with Redis", true, nil, []string{"AUTHIO_REDIS_URL=redis://127.0.0.1:6379/0"}, 10 * time.Minute},
		{"dev with a TTL in the environment", true, nil, []string{"AUTHIO_CACHE_TTL=1m"}, time.Minute},
		{"dev with a TTL flag", true, []string{"--cache-ttl", "30s"}, nil, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			environ := append([]string{"AUTHIO_SECRET_KEY=" + strings.Repeat("k", 40), "AUTHIO_PASSWORD_COST=10"}, tc.environ...)
			cfg, err := setup(fs, tc.args, environ, io.Discard, tc.dev)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CacheTTL != tc.want {
				t.Errorf("cache TTL %v, want %v", cfg.CacheTTL, tc.want)
			}
		})
	}
}
