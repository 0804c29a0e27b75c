// Package config loads Authio's configuration from AUTHIO_* environment variables, lets command-line flags
// override them, and validates the result, reporting every problem at once.
package config

import (
	"flag"
	"fmt"
	"net"
	netmail "net/mail"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/mail"
)

// Config is the whole configuration of a server or CLI process.
type Config struct {
	DatabaseURL  string // sqlite:PATH or postgres://…
	RedisURL     string // redis://…; empty = in-process cache (single node)
	Listen       string // public listener, host:port
	AdminListen  string // metrics and TLS-ask listener; empty = disabled
	BaseDomain   string // tenants get <slug>.<BaseDomain>
	PublicScheme string // http or https: the scheme issuers are built with
	SecretKey    string // encrypts private keys, keys hashes; >= 32 characters
	LogLevel     string // debug, info, warn, error
	LogFormat    string // text or json
	DBMaxConns   int    // Postgres pool size
	// TrustedProxies are the addresses of reverse proxies (Caddy, a load balancer) whose X-Forwarded-For
	// header names the real client; requests from anywhere else are judged by their own address.
	TrustedProxies []netip.Prefix

	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	IDTokenTTL      time.Duration
	SessionTTL      time.Duration

	// CacheMaxBytes bounds the in-process cache (server/memo) by the estimated size of its entries, in bytes
	// (AUTHIO_CACHE_MAX_BYTES, default 128 MiB: about 14,000 tenants that issue tokens and serve JWKS).
	CacheMaxBytes int64
	// CacheTTL is the cache's safety TTL (AUTHIO_CACHE_TTL, default 10m): entries live until a committed change
	// invalidates them, or this long when no invalidation reaches them (a message lost, or a change made by
	// another process with no Redis to announce it).
	CacheTTL time.Duration
	// MemoryLimit is the soft memory limit of the Go runtime (runtime/debug.SetMemoryLimit), in bytes
	// (AUTHIO_MEMORY_LIMIT, "off" for none): 0 means the default, MemoryLimitFor.
	MemoryLimit int64

	// PasswordCost is the bcrypt cost of user passwords for tenants whose settings choose none
	// (AUTHIO_PASSWORD_COST, default 12): 10 to 15, or down to 4 (bcrypt's minimum) with --dev, for tests.
	PasswordCost int

	// KeyPool is how many RSA signing keys a running server keeps generated ahead of need in the database's key
	// pool (AUTHIO_KEY_POOL, default 4, 0 to 100000), so creating a tenant or importing a few does not wait
	// 50-100 ms of CPU per key; 0 keeps none (keys already pooled are still used). The server generates them in
	// the background on one core; the pool is shared by replicas and kept across restarts. A control plane that
	// creates RSA tenants in bursts keeps a burst's worth ready, or fills the pool on every core before one
	// (`authio key pool fill`). Each pooled key is about 1.7 KiB in the database.
	KeyPool int
	// AdminToken is the bearer token of the admin listener's tenant API (/admin/v1/…; AUTHIO_ADMIN_TOKEN, at least
	// 32 characters). Empty: that API is off (the admin listener still serves metrics and /tls/ask).
	AdminToken string

	// SMTPURL is the mail server email is sent through (AUTHIO_SMTP_URL): smtp://user:pass@host:port (STARTTLS
	// when the server offers it, required when credentials are given; port 587 by default) or smtps://… (implicit
	// TLS, port 465 by default). Empty: no email is sent (serve --dev writes it to the log and /dev/outbox).
	SMTPURL string
	// SMTPFrom is the default sender, "Name <address>" or an address (AUTHIO_SMTP_FROM; default
	// "Authio <no-reply@BASE_DOMAIN>"); a tenant's email_from setting replaces it for that tenant.
	SMTPFrom string

	Dev bool // serve --dev: SQLite file, generated secret, demo tenant
}

// vars maps each recognised environment variable to its field. Unknown AUTHIO_* variables are errors, so a
// typo never silently falls back to a default.
var vars = []string{
	"AUTHIO_DATABASE_URL", "AUTHIO_REDIS_URL", "AUTHIO_LISTEN", "AUTHIO_ADMIN_LISTEN", "AUTHIO_BASE_DOMAIN",
	"AUTHIO_PUBLIC_SCHEME", "AUTHIO_SECRET_KEY", "AUTHIO_LOG_LEVEL", "AUTHIO_LOG_FORMAT", "AUTHIO_DB_MAX_CONNS",
	"AUTHIO_TRUSTED_PROXIES", "AUTHIO_ACCESS_TOKEN_TTL", "AUTHIO_REFRESH_TOKEN_TTL", "AUTHIO_ID_TOKEN_TTL", "AUTHIO_SESSION_TTL",
	"AUTHIO_PASSWORD_COST", "AUTHIO_CACHE_MAX_BYTES", "AUTHIO_CACHE_TTL", "AUTHIO_MEMORY_LIMIT", "AUTHIO_KEY_POOL",
	"AUTHIO_ADMIN_TOKEN", "AUTHIO_SMTP_URL", "AUTHIO_SMTP_FROM",
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		DatabaseURL:     "sqlite:./authio.db",
		Listen:          "127.0.0.1:8080",
		BaseDomain:      "localhost",
		PublicScheme:    "http",
		LogLevel:        "info",
		LogFormat:       "text",
		DBMaxConns:      32,
		AccessTokenTTL:  time.Hour,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		IDTokenTTL:      time.Hour,
		SessionTTL:      7 * 24 * time.Hour,
		PasswordCost:    12,
		KeyPool:         4,
		CacheMaxBytes:   128 << 20,
		CacheTTL:        10 * time.Minute,
	}
}

// Load builds a Config from the environment (getenv/environ, so tests need not touch the process) and then
// from args parsed by fs. It returns the remaining positional arguments. It does not validate.
func Load(fs *flag.FlagSet, args []string, environ []string) (Config, []string, error) {
	c := Defaults()
	env := map[string]string{}
	var problems []string
	known := map[string]bool{}
	for _, v := range vars {
		known[v] = true
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "AUTHIO_") || strings.HasPrefix(k, "AUTHIO_TEST_") {
			continue
		}
		if !known[k] {
			problems = append(problems, fmt.Sprintf("unknown environment variable %s", k))
			continue
		}
		env[k] = v
	}
	str := func(k string, dst *string) {
		if v, ok := env[k]; ok {
			*dst = v
		}
	}
	dur := func(k string, dst *time.Duration) {
		if v, ok := env[k]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not a duration (e.g. 1h, 15m)", k, v))
				return
			}
			*dst = d
		}
	}
	str("AUTHIO_DATABASE_URL", &c.DatabaseURL)
	str("AUTHIO_REDIS_URL", &c.RedisURL)
	str("AUTHIO_LISTEN", &c.Listen)
	str("AUTHIO_ADMIN_LISTEN", &c.AdminListen)
	str("AUTHIO_BASE_DOMAIN", &c.BaseDomain)
	str("AUTHIO_PUBLIC_SCHEME", &c.PublicScheme)
	str("AUTHIO_SECRET_KEY", &c.SecretKey)
	str("AUTHIO_LOG_LEVEL", &c.LogLevel)
	str("AUTHIO_LOG_FORMAT", &c.LogFormat)
	if v, ok := env["AUTHIO_DB_MAX_CONNS"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("AUTHIO_DB_MAX_CONNS: %q is not a number", v))
		}
		c.DBMaxConns = n
	}
	if v, ok := env["AUTHIO_PASSWORD_COST"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("AUTHIO_PASSWORD_COST: %q is not a number", v))
		}
		c.PasswordCost = n
	}
	if v, ok := env["AUTHIO_KEY_POOL"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("AUTHIO_KEY_POOL: %q is not a number", v))
		}
		c.KeyPool = n
	}
	str("AUTHIO_ADMIN_TOKEN", &c.AdminToken)
	str("AUTHIO_SMTP_URL", &c.SMTPURL)
	str("AUTHIO_SMTP_FROM", &c.SMTPFrom)
	size := func(k string, dst *int64) {
		if v, ok := env[k]; ok {
			n, err := ParseBytes(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", k, err))
				return
			}
			*dst = n
		}
	}
	size("AUTHIO_CACHE_MAX_BYTES", &c.CacheMaxBytes)
	if v, ok := env["AUTHIO_MEMORY_LIMIT"]; ok && strings.TrimSpace(v) == "off" {
		c.MemoryLimit = MemoryLimitOff
	} else {
		size("AUTHIO_MEMORY_LIMIT", &c.MemoryLimit)
	}
	dur("AUTHIO_CACHE_TTL", &c.CacheTTL)
	proxies := env["AUTHIO_TRUSTED_PROXIES"]
	dur("AUTHIO_ACCESS_TOKEN_TTL", &c.AccessTokenTTL)
	dur("AUTHIO_REFRESH_TOKEN_TTL", &c.RefreshTokenTTL)
	dur("AUTHIO_ID_TOKEN_TTL", &c.IDTokenTTL)
	dur("AUTHIO_SESSION_TTL", &c.SessionTTL)

	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "database URL: sqlite:PATH or postgres://… (AUTHIO_DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL; empty for the in-process cache (AUTHIO_REDIS_URL)")
	fs.StringVar(&c.Listen, "listen", c.Listen, "public listen address (AUTHIO_LISTEN)")
	fs.StringVar(&c.AdminListen, "admin-listen", c.AdminListen, "admin listen address for /metrics and /tls/ask (AUTHIO_ADMIN_LISTEN)")
	fs.StringVar(&c.BaseDomain, "base-domain", c.BaseDomain, "base domain of default tenant domains (AUTHIO_BASE_DOMAIN)")
	fs.StringVar(&c.PublicScheme, "public-scheme", c.PublicScheme, "http or https (AUTHIO_PUBLIC_SCHEME)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (AUTHIO_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (AUTHIO_LOG_FORMAT)")
	fs.IntVar(&c.KeyPool, "key-pool", c.KeyPool, "RSA signing keys kept generated ahead of need, 0 to 100000 (AUTHIO_KEY_POOL)")
	fs.Func("cache-max-bytes", "size bound of the in-process cache, e.g. 64MiB (AUTHIO_CACHE_MAX_BYTES)", func(v string) error {
		n, err := ParseBytes(v)
		c.CacheMaxBytes = n
		return err
	})
	fs.DurationVar(&c.CacheTTL, "cache-ttl", c.CacheTTL, "safety TTL of cached entries (AUTHIO_CACHE_TTL)")
	fs.Func("memory-limit", `soft memory limit of the Go runtime, e.g. 512MiB, or "off"; default: the cache size plus 96MiB (AUTHIO_MEMORY_LIMIT)`, func(v string) error {
		if strings.TrimSpace(v) == "off" {
			c.MemoryLimit = MemoryLimitOff
			return nil
		}
		n, err := ParseBytes(v)
		c.MemoryLimit = n
		return err
	})
	fs.StringVar(&proxies, "trusted-proxies", proxies, "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed (AUTHIO_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	prefixes, err := ParsePrefixes(proxies)
	if err != nil {
		problems = append(problems, "trusted proxies: "+err.Error())
	}
	c.TrustedProxies = prefixes
	// Tenants' default domains are built from the base domain: keep it in the one form domains are stored in
	// (Validate reports it when it has none).
	if d, err := canon.Domain(c.BaseDomain); err == nil {
		c.BaseDomain = d
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return c, fs.Args(), Problems(problems)
	}
	return c, fs.Args(), nil
}

// ParsePrefixes parses a comma-separated list of IP addresses and CIDR prefixes.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// MemoryLimitOff is Config.MemoryLimit when AUTHIO_MEMORY_LIMIT is "off": no soft limit.
const MemoryLimitOff = -1

// MemoryLimitHeadroom is what the default memory limit allows above the cache: the rest of the server's live heap
// (connection pools, buffers, requests in flight) and room for the collector to work in.
const MemoryLimitHeadroom = 96 << 20

// MemoryLimitFor is the soft memory limit c asks for, in bytes: MemoryLimit when set, the cache's bound plus
// MemoryLimitHeadroom by default, and 0 (none) when it is MemoryLimitOff.
func MemoryLimitFor(c Config) int64 {
	switch {
	case c.MemoryLimit == MemoryLimitOff:
		return 0
	case c.MemoryLimit > 0:
		return c.MemoryLimit
	}
	return c.CacheMaxBytes + MemoryLimitHeadroom
}

// ParseBytes reads a size in bytes: a whole number, optionally followed by B, KiB, MiB, GiB (powers of 1024) or
// KB, MB, GB (powers of 1000), as in "64MiB" or "500MB".
func ParseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size in bytes (e.g. 67108864, 64MiB, 500MB)", v)
	}
	return n * mult, nil
}

// Validate reports every problem with c at once, joined into one line.
// LoadProblems joins what Load found (unknown variables, values that do not parse) with what Validate finds in
// the rest, so a start-up that fails says everything at once. Problems with the secret key are left out when
// skipSecret (the key may still come from .authio-dev-secret).
func LoadProblems(loaded Problems, c Config, skipSecret bool) error {
	all := append(Problems{}, loaded...)
	for _, q := range c.problems() {
		if skipSecret && strings.Contains(q, "AUTHIO_SECRET_KEY") {
			continue
		}
		all = append(all, q)
	}
	sort.Strings(all)
	return fmt.Errorf("invalid configuration: %w", all)
}

// Problems lists what is wrong with a configuration; its Error joins them into one line.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "; ") }

// Validate reports every problem with c at once, joined into one line (an error holding Problems).
func (c Config) Validate() error {
	if p := c.problems(); len(p) > 0 {
		return fmt.Errorf("invalid configuration: %w", p)
	}
	return nil
}

// problems lists what Validate refuses, sorted.
func (c Config) problems() Problems {
	var p []string
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:") && len(c.DatabaseURL) > len("sqlite:"):
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
	default:
		p = append(p, "database URL must be sqlite:PATH or postgres://…")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		p = append(p, "Redis URL must start with redis:// or rediss://")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p = append(p, fmt.Sprintf("listen address %q must be host:port", c.Listen))
	}
	if c.AdminListen != "" {
		if _, _, err := net.SplitHostPort(c.AdminListen); err != nil {
			p = append(p, fmt.Sprintf("admin listen address %q must be host:port", c.AdminListen))
		} else if c.AdminListen == c.Listen {
			p = append(p, "admin listen address must differ from the public one")
		}
	}
	if _, err := canon.Domain(c.BaseDomain); err != nil {
		p = append(p, fmt.Sprintf("base domain %q must be a bare host name", c.BaseDomain))
	}
	if c.PublicScheme != "http" && c.PublicScheme != "https" {
		p = append(p, fmt.Sprintf("public scheme %q must be http or https", c.PublicScheme))
	}
	switch {
	case c.SecretKey == "":
		p = append(p, `AUTHIO_SECRET_KEY is not set: set it to a random value of at least 32 characters `+
			`(e.g. openssl rand -base64 48), or run "authio serve --dev" for development`)
	case len(c.SecretKey) < 32:
		p = append(p, "secret key (AUTHIO_SECRET_KEY) must be at least 32 characters")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("log level %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p = append(p, fmt.Sprintf("log format %q must be text or json", c.LogFormat))
	}
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		p = append(p, "database pool size must be between 1 and 1000")
	}
	if c.KeyPool < 0 || c.KeyPool > 100000 {
		p = append(p, fmt.Sprintf("key pool (AUTHIO_KEY_POOL) %d must be between 0 and 100000", c.KeyPool))
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL); err != nil {
			p = append(p, "AUTHIO_SMTP_URL "+err.Error())
		}
	}
	if c.SMTPFrom != "" {
		if _, err := netmail.ParseAddress(c.SMTPFrom); err != nil {
			p = append(p, fmt.Sprintf("AUTHIO_SMTP_FROM %q must be an email address, optionally with a name (Name <address>)", c.SMTPFrom))
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		p = append(p, "admin token (AUTHIO_ADMIN_TOKEN) must be at least 32 characters")
	}
	if minCost := map[bool]int{false: 10, true: 4}[c.Dev]; c.PasswordCost < minCost || c.PasswordCost > 15 {
		p = append(p, fmt.Sprintf("password cost (AUTHIO_PASSWORD_COST) %d must be between 10 and 15 (4 and 15 with --dev)", c.PasswordCost))
	}
	if c.CacheMaxBytes < 1<<20 {
		p = append(p, "cache size (AUTHIO_CACHE_MAX_BYTES) must be at least 1MiB")
	}
	if c.MemoryLimit != 0 && c.MemoryLimit != MemoryLimitOff && c.MemoryLimit < 32<<20 {
		p = append(p, `memory limit (AUTHIO_MEMORY_LIMIT) must be at least 32MiB, or "off"`)
	} else if c.MemoryLimit > 0 && c.MemoryLimit < c.CacheMaxBytes+32<<20 {
		p = append(p, "memory limit (AUTHIO_MEMORY_LIMIT) must leave at least 32MiB above the cache (AUTHIO_CACHE_MAX_BYTES)")
	}
	for name, d := range map[string]time.Duration{"access token TTL": c.AccessTokenTTL, "refresh token TTL": c.RefreshTokenTTL,
		"ID token TTL": c.IDTokenTTL, "session TTL": c.SessionTTL, "cache TTL (AUTHIO_CACHE_TTL)": c.CacheTTL} {
		if d <= 0 {
			p = append(p, name+" must be positive")
		}
	}
	sort.Strings(p)
	return p
}
