package config_test

import (
	"flag"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authio/authio/config"
)

const secret = "0123456789abcdef0123456789abcdef0123456789abcdef"

func load(t *testing.T, args, environ []string) (config.Config, []string, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, args, environ)
}

func TestDefaultsAreValidWithASecret(t *testing.T) {
	c := config.Defaults()
	c.SecretKey = secret
	if err := c.Validate(); err != nil {
		t.Errorf("defaults plus a secret key: %v", err)
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		check   func(t *testing.T, c config.Config)
		rest    []string
	}{
		{name: "trusted proxies", environ: []string{"AUTHIO_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.7"},
			args: []string{"--trusted-proxies", "10.0.0.0/8,192.168.1.7,fd00::/8"}, check: func(t *testing.T, c config.Config) {
				want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")}
				if !reflect.DeepEqual(c.TrustedProxies, want) {
					t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
				}
			}},
		{name: "defaults", check: func(t *testing.T, c config.Config) {
			if !reflect.DeepEqual(c, config.Defaults()) {
				t.Errorf("got %+v, want the defaults", c)
			}
		}},
		{name: "environment", environ: []string{
			"AUTHIO_DATABASE_URL=postgres://u@db/authio", "AUTHIO_REDIS_URL=redis://r:6379/1", "AUTHIO_LISTEN=0.0.0.0:80",
			"AUTHIO_ADMIN_LISTEN=127.0.0.1:9090", "AUTHIO_BASE_DOMAIN=auth.example.com", "AUTHIO_PUBLIC_SCHEME=https",
			"AUTHIO_SECRET_KEY=" + secret, "AUTHIO_LOG_LEVEL=debug", "AUTHIO_LOG_FORMAT=json", "AUTHIO_DB_MAX_CONNS=7",
			"AUTHIO_ACCESS_TOKEN_TTL=5m", "AUTHIO_REFRESH_TOKEN_TTL=48h", "AUTHIO_ID_TOKEN_TTL=10m", "AUTHIO_SESSION_TTL=12h",
			"AUTHIO_PASSWORD_COST=11", "AUTHIO_CACHE_MAX_BYTES=32MiB", "AUTHIO_CACHE_TTL=5m", "AUTHIO_MEMORY_LIMIT=500MB",
			"AUTHIO_KEY_POOL=9", "AUTHIO_ADMIN_TOKEN=" + secret, "HOME=/root", "PATH=/usr/bin",
		}, check: func(t *testing.T, c config.Config) {
			want := config.Config{
				DatabaseURL: "postgres://u@db/authio", RedisURL: "redis://r:6379/1", Listen: "0.0.0.0:80",
				AdminListen: "127.0.0.1:9090", BaseDomain: "auth.example.com", PublicScheme: "https", SecretKey: secret,
				LogLevel: "debug", LogFormat: "json", DBMaxConns: 7, AccessTokenTTL: 5 * time.Minute,
				RefreshTokenTTL: 48 * time.Hour, IDTokenTTL: 10 * time.Minute, SessionTTL: 12 * time.Hour, PasswordCost: 11,
				KeyPool: 9, AdminToken: secret,
				CacheMaxBytes: 32 << 20, CacheTTL: 5 * time.Minute, MemoryLimit: 500_000_000,
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got  %+v\nwant %+v", c, want)
			}
		}},
		{name: "flags override the environment",
			environ: []string{"AUTHIO_LISTEN=0.0.0.0:80", "AUTHIO_DATABASE_URL=sqlite:/env.db", "AUTHIO_PUBLIC_SCHEME=http"},
			args:    []string{"--listen", "127.0.0.1:9000", "--database-url=sqlite:/flag.db", "-public-scheme", "https", "extra"},
			rest:    []string{"extra"},
			check: func(t *testing.T, c config.Config) {
				if c.Listen != "127.0.0.1:9000" || c.DatabaseURL != "sqlite:/flag.db" || c.PublicScheme != "https" {
					t.Errorf("flags did not win: %+v", c)
				}
			}},
		{name: "cache and memory flags", environ: []string{"AUTHIO_CACHE_MAX_BYTES=32MiB", "AUTHIO_MEMORY_LIMIT=1GiB"},
			args: []string{"--cache-max-bytes", "128MiB", "--cache-ttl=90s", "--memory-limit", "268435456"},
			check: func(t *testing.T, c config.Config) {
				if c.CacheMaxBytes != 128<<20 || c.CacheTTL != 90*time.Second || c.MemoryLimit != 256<<20 {
					t.Errorf("cache %d bytes, TTL %v, memory limit %d; want 128MiB, 90s, 256MiB", c.CacheMaxBytes, c.CacheTTL, c.MemoryLimit)
				}
			}},
		{name: "no memory limit", environ: []string{"AUTHIO_MEMORY_LIMIT=off"}, check: func(t *testing.T, c config.Config) {
			if c.MemoryLimit != config.MemoryLimitOff || config.MemoryLimitFor(c) != 0 {
				t.Errorf("AUTHIO_MEMORY_LIMIT=off: MemoryLimit %d, limit %d; want off and none", c.MemoryLimit, config.MemoryLimitFor(c))
			}
		}},
		{name: "test variables are not configuration", environ: []string{"AUTHIO_TEST_POSTGRES_DSN=postgres://x", "AUTHIO_TEST_REDIS_URL=redis://x"},
			check: func(t *testing.T, c config.Config) {
				if !reflect.DeepEqual(c, config.Defaults()) {
					t.Errorf("AUTHIO_TEST_* changed the configuration: %+v", c)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rest, err := load(t, tc.args, tc.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if strings.Join(rest, " ") != strings.Join(tc.rest, " ") {
				t.Errorf("remaining args = %v, want %v", rest, tc.rest)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		want    []string
	}{
		{name: "unknown variable (a typo)", environ: []string{"AUTHIO_DATABSE_URL=sqlite:x.db"}, want: []string{"AUTHIO_DATABSE_URL"}},
		{name: "two unknown variables, both named", environ: []string{"AUTHIO_FOO=1", "AUTHIO_BAR=2"}, want: []string{"AUTHIO_FOO", "AUTHIO_BAR"}},
		{name: "bad duration", environ: []string{"AUTHIO_SESSION_TTL=forever"}, want: []string{"AUTHIO_SESSION_TTL", "forever"}},
		{name: "bad password cost", environ: []string{"AUTHIO_PASSWORD_COST=twelve"}, want: []string{"AUTHIO_PASSWORD_COST", "twelve"}},
		{name: "bad number", environ: []string{"AUTHIO_DB_MAX_CONNS=many"}, want: []string{"AUTHIO_DB_MAX_CONNS"}},
		{name: "bad key pool", environ: []string{"AUTHIO_KEY_POOL=lots"}, want: []string{"AUTHIO_KEY_POOL", "lots"}},
		{name: "bad size", environ: []string{"AUTHIO_CACHE_MAX_BYTES=lots"}, want: []string{"AUTHIO_CACHE_MAX_BYTES", "lots"}},
		{name: "negative size", environ: []string{"AUTHIO_MEMORY_LIMIT=-1MiB"}, want: []string{"AUTHIO_MEMORY_LIMIT"}},
		{name: "bad size flag", args: []string{"--cache-max-bytes", "64 MiBs"}, want: []string{"cache-max-bytes"}},
		{name: "bad trusted proxy", environ: []string{"AUTHIO_TRUSTED_PROXIES=10.0.0.0/8,caddy"}, want: []string{"trusted proxies", "caddy"}},
		{name: "unknown flag", args: []string{"--no-such-flag"}, want: []string{"no-such-flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.args, tc.environ)
			if err == nil {
				t.Fatal("Load accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := config.Defaults()
	valid.SecretKey = secret
	for _, tc := range []struct {
		name   string
		modify func(c *config.Config)
		want   []string // every problem must be named
	}{
		{name: "valid", modify: func(*config.Config) {}},
		{name: "scheme", modify: func(c *config.Config) { c.PublicScheme = "ftp" }, want: []string{"ftp"}},
		{name: "short secret", modify: func(c *config.Config) { c.SecretKey = "short" }, want: []string{"AUTHIO_SECRET_KEY"}},
		{name: "database URL", modify: func(c *config.Config) { c.DatabaseURL = "mysql://x" }, want: []string{"database URL"}},
		{name: "empty sqlite path", modify: func(c *config.Config) { c.DatabaseURL = "sqlite:" }, want: []string{"database URL"}},
		{name: "redis URL", modify: func(c *config.Config) { c.RedisURL = "http://r" }, want: []string{"Redis URL"}},
		{name: "listen", modify: func(c *config.Config) { c.Listen = "8080" }, want: []string{"8080"}},
		{name: "admin on the public address", modify: func(c *config.Config) { c.AdminListen = c.Listen }, want: []string{"admin listen"}},
		{name: "base domain", modify: func(c *config.Config) { c.BaseDomain = "http://x" }, want: []string{"base domain"}},
		{name: "log level", modify: func(c *config.Config) { c.LogLevel = "loud" }, want: []string{"loud"}},
		{name: "TTL", modify: func(c *config.Config) { c.SessionTTL = 0 }, want: []string{"session TTL"}},
		{name: "password cost below 10", modify: func(c *config.Config) { c.PasswordCost = 4 }, want: []string{"AUTHIO_PASSWORD_COST"}},
		{name: "password cost 4 with --dev", modify: func(c *config.Config) { c.PasswordCost, c.Dev = 4, true }},
		{name: "tiny cache", modify: func(c *config.Config) { c.CacheMaxBytes = 1000 }, want: []string{"AUTHIO_CACHE_MAX_BYTES"}},
		{name: "cache TTL", modify: func(c *config.Config) { c.CacheTTL = 0 }, want: []string{"AUTHIO_CACHE_TTL"}},
		{name: "tiny memory limit", modify: func(c *config.Config) { c.MemoryLimit = 1 << 20 }, want: []string{"AUTHIO_MEMORY_LIMIT"}},
		{name: "memory limit below the cache", modify: func(c *config.Config) { c.CacheMaxBytes, c.MemoryLimit = 512<<20, 256<<20 },
			want: []string{"AUTHIO_MEMORY_LIMIT"}},
		{name: "memory limit off", modify: func(c *config.Config) { c.MemoryLimit = config.MemoryLimitOff }},
		{name: "password cost above 15", modify: func(c *config.Config) { c.PasswordCost = 16 }, want: []string{"AUTHIO_PASSWORD_COST"}},
		{name: "key pool off", modify: func(c *config.Config) { c.KeyPool = 0 }},
		{name: "key pool too big", modify: func(c *config.Config) { c.KeyPool = 100001 }, want: []string{"AUTHIO_KEY_POOL"}},
		{name: "negative key pool", modify: func(c *config.Config) { c.KeyPool = -1 }, want: []string{"AUTHIO_KEY_POOL"}},
		{name: "short admin token", modify: func(c *config.Config) { c.AdminToken = "short" }, want: []string{"AUTHIO_ADMIN_TOKEN"}},
		{name: "every problem at once", modify: func(c *config.Config) {
			c.PublicScheme, c.SecretKey, c.LogFormat, c.DBMaxConns, c.AccessTokenTTL = "ftp", "", "xml", 0, -time.Second
		}, want: []string{"ftp", "AUTHIO_SECRET_KEY", "xml", "pool size", "access token TTL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.modify(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if got := strings.Count(msg, ";") + 1; got != len(tc.want) {
				t.Errorf("error lists %d problems, want %d: %q", got, len(tc.want), msg)
			}
		})
	}
}

func TestMemoryLimitFor(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cache, set  int64
		wantLimited int64
	}{
		{"default: the cache and headroom", 128 << 20, 0, 128<<20 + config.MemoryLimitHeadroom},
		{"a bigger cache moves it", 1 << 30, 0, 1<<30 + config.MemoryLimitHeadroom},
		{"set", 128 << 20, 1 << 30, 1 << 30},
		{"off", 128 << 20, config.MemoryLimitOff, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Defaults()
			c.CacheMaxBytes, c.MemoryLimit = tc.cache, tc.set
			if got := config.MemoryLimitFor(c); got != tc.wantLimited {
				t.Errorf("MemoryLimitFor = %d, want %d", got, tc.wantLimited)
			}
		})
	}
}
