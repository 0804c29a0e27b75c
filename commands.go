package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/config"
	"github.com/authio/authio/demoapp"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server"
	"github.com/authio/authio/server/router"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// devSecretFile keeps the generated secret key of serve --dev, so restarts and the CLI can decrypt keys.
const devSecretFile = ".authio-dev-secret"

// devCacheTTL is the cache's safety TTL under serve --dev without Redis: the CLI runs beside it and nothing
// tells the server of the CLI's changes, so what it caches lives seconds, not minutes.
const devCacheTTL = 5 * time.Second

// setup parses a command's arguments (its own flags already defined on fs; the configuration flags are added
// here), runs check on them, then completes and validates the configuration. A flag that does not parse, an
// unexpected argument and a failed check are usage errors, reported before any configuration problem: what the
// command line lacks comes first. -h prints the command's help on stdout and returns flag.ErrHelp.
func setup(fs *flag.FlagSet, args, environ []string, stdout, stderr io.Writer, dev bool, check func() error) (config.Config, error) {
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	// The flag package's own messages would list every configuration flag; the command answers instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cfg, rest, err := config.Load(fs, args, environ)
	var loaded config.Problems
	if errors.Is(err, flag.ErrHelp) {
		commandHelp(stdout, fs, own)
		return cfg, err
	} else if err != nil && !errors.As(err, &loaded) {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + strings.TrimPrefix(f, "-")
		}
		return cfg, usageError{msg: msg}
	}
	if len(rest) > 0 {
		return cfg, usageError{msg: fmt.Sprintf("unexpected arguments: %s", strings.Join(rest, " "))}
	}
	// Flags reach storage as typed: refuse what the database cannot keep before anything is opened.
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		if why := httpx.Unstorable(f.Value.String()); why != "" {
			bad = append(bad, "--"+f.Name+" "+why)
		}
	})
	if len(bad) > 0 {
		return cfg, usageError{msg: strings.Join(bad, "; ")}
	}
	if check != nil {
		if err := check(); err != nil {
			return cfg, err
		}
	}
	if loaded != nil {
		// Say everything wrong at once: what did not load, and what is wrong with the rest.
		return cfg, config.LoadProblems(loaded, cfg, true)
	}
	if cfg.SecretKey == "" {
		if b, err := os.ReadFile(devSecretFile); err == nil {
			cfg.SecretKey = strings.TrimSpace(string(b))
			fmt.Fprintf(stderr, "authio: using the development secret key in %s\n", devSecretFile)
		} else if dev {
			cfg.SecretKey = ids.Random(32)
			if err := os.WriteFile(devSecretFile, []byte(cfg.SecretKey+"\n"), 0o600); err != nil {
				return cfg, fmt.Errorf("writing %s: %w", devSecretFile, err)
			}
			fmt.Fprintf(stderr, "authio: generated a development secret key in %s (set AUTHIO_SECRET_KEY in production)\n", devSecretFile)
		}
	}
	cfg.Dev = dev
	if dev && cfg.RedisURL == "" && !explicit(fs, environ, "cache-ttl", "AUTHIO_CACHE_TTL") {
		cfg.CacheTTL = devCacheTTL
	}
	return cfg, cfg.Validate()
}

// commandHelp prints a command's synopsis and the flags it defines itself (own). The configuration flags every
// command accepts are named once, not listed: they are serve's, and "authio serve -h" lists them.
func commandHelp(w io.Writer, fs *flag.FlagSet, own map[string]bool) {
	name := fs.Name()
	if c, ok := lookupCommand(name); ok {
		fmt.Fprintf(w, "Usage: authio %s\n", c.synopsisText(len("Usage: authio ")))
		if c.summary != "" {
			fmt.Fprintf(w, "\n%s.\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if !own[f.Name] && name != "serve" {
			return
		}
		if n == 0 {
			fmt.Fprintln(tw, "\nFlags:")
		}
		n++
		typ, text := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + typ
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			text += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, typ, text)
	})
	_ = tw.Flush()
	if n == 0 {
		fmt.Fprintln(w, "\nNo flags of its own.")
	}
	if name != "serve" {
		fmt.Fprintln(w, "\nIt reads the server's configuration: AUTHIO_* environment variables, or --database-url, --redis-url "+
			"and the other flags that \"authio serve -h\" lists.")
	}
}

// explicit reports whether flag name was given on the command line or variable in the environment.
func explicit(fs *flag.FlagSet, environ []string, name, variable string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	for _, kv := range environ {
		set = set || strings.HasPrefix(kv, variable+"=")
	}
	return set
}

// open builds a Server for a CLI command and applies pending migrations.
func open(ctx context.Context, cfg config.Config, stderr io.Writer) (*server.Server, error) {
	s, err := server.New(cfg, newLogger(stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := checkSecretKey(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkSecretKey stops a command whose AUTHIO_SECRET_KEY is not the database's (see server.CheckSecretKey)
// before it changes or serves anything, saying which key to use instead.
func checkSecretKey(ctx context.Context, s *server.Server) error {
	err := s.CheckSecretKey(ctx)
	if errors.Is(err, keys.ErrSecretKeyMismatch) {
		return fmt.Errorf("%w: run with the key it was created with (for a database made by \"authio serve --dev\", "+
			"unset AUTHIO_SECRET_KEY so that the one in %s is used)", err, devSecretFile)
	}
	return err
}

// withServer loads configuration for a CLI command (its own flags already on fs), opens the server's services
// with migrations applied, and runs fn. check runs after flags are parsed, before anything is opened.
func withServer(ctx context.Context, fs *flag.FlagSet, args, environ []string, stdout, stderr io.Writer, check func() error, fn func(s *server.Server) error) error {
	cfg, err := setup(fs, args, environ, stdout, stderr, false, check)
	if err != nil {
		return err
	}
	s, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

func cmdServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dev := false
	for _, a := range args {
		if a == "--dev" || a == "-dev" {
			dev = true
		}
	}
	fs.Bool("dev", false, "development mode: SQLite file, generated secret key, demo tenant")
	cfg, err := setup(fs, args, environ, stdout, stderr, dev, nil)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	// A soft limit: the collector runs more often as memory nears it, so memory stays bounded without trading
	// it for throughput the rest of the time (the collector's own pacing, GOGC, is left as it is). GOMEMLIMIT in
	// the environment wins over the default, not over AUTHIO_MEMORY_LIMIT.
	if limit := config.MemoryLimitFor(cfg); limit > 0 && (cfg.MemoryLimit != 0 || os.Getenv("GOMEMLIMIT") == "") {
		debug.SetMemoryLimit(limit)
		logger.Debug("soft memory limit", "bytes", limit)
	}
	s, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Store.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		logger.Info("applied migrations", "versions", applied)
	}
	if err := checkSecretKey(ctx, s); err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	pages, err := templates.New(templates.FS)
	if err != nil {
		return err
	}
	opts := router.Options{DevCallback: dev, ListTenantHosts: dev, DevOutbox: dev}
	if !s.MailConfigured() {
		logger.Warn("no SMTP server configured (AUTHIO_SMTP_URL): no email can be sent, and sign-in by email " +
			"and other email pages answer that the email could not be sent")
	} else if dev {
		logger.Info("development mail: every email is written to this log and listed at /dev/outbox on its tenant's host")
	}
	if dev {
		demo, err := seedDemo(ctx, s)
		if err != nil {
			return fmt.Errorf("seeding the demo tenant: %w", err)
		}
		if opts.DemoApp, err = demoapp.New(demo.app); err != nil {
			return err
		}
		opts.DemoAppHost = demo.appHost
		demo.print(stdout)
	}
	public := server.NewHTTPServer(cfg.Listen, router.New(s, pages, opts))
	var admin = server.NewHTTPServer(cfg.AdminListen, router.Admin(s))
	if cfg.AdminListen == "" {
		admin = nil
	}
	logger.Info("authio started", "listen", cfg.Listen, "admin", cfg.AdminListen, "database", s.Store.Dialect(), "redis", cfg.RedisURL != "")
	return server.Serve(ctx, logger, public, admin)
}

func cmdMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, err := setup(fs, args, environ, stdout, stderr, false, nil)
	if err != nil {
		return err
	}
	s, err := server.New(cfg, newLogger(stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Store.Migrate(ctx)
	if err != nil {
		return err
	}
	if err := checkSecretKey(ctx, s); err != nil {
		return err
	}
	if applied == nil {
		applied = []int{}
	}
	return printJSON(stdout, map[string]any{"applied": applied})
}

func cmdTenantCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	slug := fs.String("slug", "", "tenant slug (default domain <slug>.<base domain>) (required)")
	name := fs.String("name", "", "display name")
	alg := fs.String("signing-alg", keys.AlgRS256, "token signing algorithm: RS256 or ES256")
	signup := fs.Bool("signup", false, "allow users to sign up on the hosted pages")
	var domains rawListFlag
	fs.Var(&domains, "domain", "additional domain (repeatable)")
	return withServer(ctx, fs, args, environ, stdout, stderr, required(requiredFlag{"slug", slug}), func(s *server.Server) error {
		info, err := s.CreateTenant(ctx, *slug, *name, *alg, domains)
		if err != nil {
			return err
		}
		if *signup {
			// CreateTenant has no sign-up parameter on purpose: it is a policy the operator opts into.
			if err := s.SetSignup(ctx, info.ID, true); err != nil {
				return err
			}
		}
		return printJSON(stdout, info)
	})
}

// cmdTenantImport creates the tenants of a file of JSON lines (server.TenantSpec, one per line) or of a JSON
// array, and prints one JSON line per input line (server.ImportResult) as each is done, in order. A summary goes
// to stderr; the command fails when any line did.
func cmdTenantImport(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant import", flag.ContinueOnError)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			_, err := setup(fs, args, environ, stdout, stderr, false, nil)
			return err
		}
		return usageError{msg: "tenant import needs a FILE of JSON lines or a JSON array first (- for standard input)"}
	}
	path, args := args[0], args[1:]
	cfg, err := setup(fs, args, environ, stdout, stderr, false, nil)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	s, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	enc := json.NewEncoder(stdout)
	start := time.Now()
	sum, err := s.ImportTenants(audit.WithActor(ctx, audit.Actor{Kind: "cli"}), in, func(r server.ImportResult) error {
		return enc.Encode(r)
	})
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "authio: %d created, %d existed, %d failed in %.1f s (%.0f tenants created per second)\n",
		sum.Created, sum.Exists, sum.Failed, secs, float64(sum.Created)/max(secs, 1e-3))
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d lines failed (see their \"error\")", sum.Failed, sum.Created+sum.Exists+sum.Failed)
	}
	return nil
}

func cmdTenantList(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant list", flag.ContinueOnError)
	return withServer(ctx, fs, args, environ, stdout, stderr, nil, func(s *server.Server) error {
		infos, err := s.TenantInfos(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, infos)
	})
}

func cmdDomainAdd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("domain add", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	domain := fs.String("domain", "", "host name to add (required)")
	check := required(requiredFlag{"tenant", tenant}, requiredFlag{"domain", domain})
	return withServer(ctx, fs, args, environ, stdout, stderr, check, func(s *server.Server) error {
		t, err := s.AddDomain(ctx, *tenant, *domain)
		if err != nil {
			return tenantErr(err, *tenant)
		}
		// AddDomain stored the canonical form; print that one, which is what the tenant answers on.
		stored, _ := canon.Domain(strings.TrimSpace(*domain))
		return printJSON(stdout, map[string]string{"tenant": t.Slug, "domain": stored})
	})
}

func cmdDomainRemove(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("domain remove", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	domain := fs.String("domain", "", "host name to remove (required)")
	check := required(requiredFlag{"tenant", tenant}, requiredFlag{"domain", domain})
	return withServer(ctx, fs, args, environ, stdout, stderr, check, func(s *server.Server) error {
		t, err := s.RemoveDomain(ctx, *tenant, *domain)
		if err != nil {
			return tenantErr(err, *tenant)
		}
		removed, _ := canon.Domain(strings.TrimSpace(*domain))
		return printJSON(stdout, map[string]string{"tenant": t.Slug, "removed": removed})
	})
}

func tenantErr(err error, tenant string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no tenant %q", tenant)
	}
	return err
}

// withTenant is withServer for a command scoped to --tenant, which it requires (before check): fn gets a
// context scoped to the tenant, with the CLI as the actor of audit events.
func withTenant(ctx context.Context, fs *flag.FlagSet, args, environ []string, stdout, stderr io.Writer, tenant *string, check func() error,
	fn func(s *server.Server, tctx context.Context) error) error {
	all := func() error {
		if err := required(requiredFlag{"tenant", tenant})(); err != nil || check == nil {
			return err
		}
		return check()
	}
	return withServer(ctx, fs, args, environ, stdout, stderr, all, func(s *server.Server) error {
		tctx, _, err := tenantContext(ctx, s, *tenant)
		if err != nil {
			return err
		}
		return fn(s, tctx)
	})
}

// tenantContext resolves --tenant for a tenant-scoped command.
func tenantContext(ctx context.Context, s *server.Server, tenant string) (context.Context, storage.Tenant, error) {
	if tenant == "" {
		return ctx, storage.Tenant{}, usageError{msg: "--tenant is required"}
	}
	t, err := s.Store.GetTenant(ctx, tenant)
	if err != nil {
		return ctx, t, tenantErr(err, tenant)
	}
	// Changes made from the CLI are the operator's: audit events say so.
	return audit.WithActor(storage.WithTenant(ctx, t.ID), audit.Actor{Kind: "cli"}), t, nil
}

func cmdClientCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	var spec directory.ClientSpec
	fs.StringVar(&spec.Name, "name", "", "client name (required)")
	fs.StringVar(&spec.Type, "type", "confidential", "public or confidential")
	var redirects, logouts, audiences, origins rawListFlag
	var grants, scopes listFlag
	fs.Var(&redirects, "redirect-uri", "redirect URI, exact match (repeatable)")
	fs.Var(&logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant", "grant types, comma separated: authorization_code,refresh_token,client_credentials,token_exchange")
	fs.Var(&audiences, "audience", "audience (API identifier) the client may request (repeatable)")
	fs.Var(&scopes, "scope", "scope the client may request (repeatable; default openid profile email offline_access)")
	fs.Var(&origins, "web-origin", "browser origin allowed by CORS (repeatable)")
	fs.StringVar(&spec.OrganizationUsage, "organization-usage", "", "deny (default), allow or require tokens for an organization")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, required(requiredFlag{"name", &spec.Name}), func(s *server.Server, tctx context.Context) error {
		spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.GrantTypes = redirects, logouts, grants
		spec.Audiences, spec.Scopes, spec.WebOrigins = audiences, scopes, origins
		out, err := s.CreateClient(tctx, spec)
		if err != nil {
			return err
		}
		return printJSON(stdout, out)
	})
}

func cmdUserCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	email := fs.String("email", "", "email address (required)")
	password := fs.String("password", "", "password, at least 8 characters (required)")
	verified := fs.Bool("email-verified", false, "mark the email address as verified (OIDC email_verified)")
	name := fs.String("name", "", "full name (OIDC name)")
	var profile directory.ProfileUpdate
	for _, f := range []struct {
		flag, usage string
		dst         **string
	}{
		{"given-name", "given name (OIDC given_name)", &profile.GivenName},
		{"family-name", "family name (OIDC family_name)", &profile.FamilyName},
		{"middle-name", "middle name", &profile.MiddleName},
		{"nickname", "casual name", &profile.Nickname},
		{"preferred-username", "shorthand name the user goes by", &profile.PreferredUsername},
		{"profile", "profile page URL (http or https)", &profile.Profile},
		{"picture", "picture URL (http or https)", &profile.Picture},
		{"website", "web page or blog URL (http or https)", &profile.Website},
		{"gender", "gender", &profile.Gender},
		{"birthdate", "birthdate: YYYY-MM-DD, 0000-MM-DD or YYYY", &profile.Birthdate},
		{"zoneinfo", "time zone, e.g. Europe/Paris", &profile.Zoneinfo},
		{"locale", "BCP 47 language tag, e.g. en-US", &profile.Locale},
	} {
		*f.dst = fs.String(f.flag, "", f.usage)
	}
	check := required(requiredFlag{"email", email}, requiredFlag{"password", password})
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		u, err := s.AddUser(tctx, directory.UserSpec{Email: *email, Password: *password, EmailVerified: *verified, Name: *name, Profile: profile})
		if err != nil {
			return err
		}
		return printJSON(stdout, userView{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, UserProfile: u.Profile})
	})
}

// userView is how user create prints the user it stored: the profile claims it has, under their OIDC names.
type userView struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	storage.UserProfile
}

func cmdKeyRotate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("key rotate", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	return withServer(ctx, fs, args, environ, stdout, stderr, required(requiredFlag{"tenant", tenant}), func(s *server.Server) error {
		_, t, err := tenantContext(ctx, s, *tenant)
		if err != nil {
			return err
		}
		k, err := s.RotateKey(ctx, t)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"kid": k.ID, "alg": k.Alg})
	})
}

// cmdKeyPoolFill generates RSA signing keys into the key pool on every core (or --workers of them), for a
// control plane about to create a burst of RS256 tenants: each tenant created while the pool holds a key takes it
// instead of spending 50-100 ms of CPU generating one. A running server keeps AUTHIO_KEY_POOL keys there by itself,
// on one core.
func cmdKeyPoolFill(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("key pool fill", flag.ContinueOnError)
	count := fs.Int("count", 0, "keys to generate (required, 1 to 100000)")
	workers := fs.Int("workers", runtime.NumCPU(), "keys generated at once")
	check := func() error {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "count" })
		if !given {
			return usageError{msg: "--count is required"}
		}
		if *count < 1 || *count > 100000 {
			return usageError{msg: "--count must be between 1 and 100000"}
		}
		if *workers < 1 {
			return usageError{msg: "--workers must be at least 1"}
		}
		return nil
	}
	return withServer(ctx, fs, args, environ, stdout, stderr, check, func(s *server.Server) error {
		start := time.Now()
		added, err := s.KeyPool.Fill(ctx, *count, *workers)
		if err != nil {
			return fmt.Errorf("filling the key pool (%d keys added): %w", added, err)
		}
		ready, err := s.KeyPool.Ready(ctx)
		if err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		return printJSON(stdout, map[string]any{"added": added, "ready": ready, "seconds": math.Round(secs*100) / 100,
			"keys_per_second": math.Round(float64(added)/max(secs, 0.001)*10) / 10})
	})
}

// cmdKeyPoolStatus prints how many RSA keys the key pool holds (a running server keeps its AUTHIO_KEY_POOL there).
func cmdKeyPoolStatus(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("key pool status", flag.ContinueOnError)
	return withServer(ctx, fs, args, environ, stdout, stderr, func() error { return nil }, func(s *server.Server) error {
		ready, err := s.KeyPool.Ready(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"alg": keys.AlgRS256, "ready": ready})
	})
}

// requiredFlag is a flag a command cannot run without.
type requiredFlag struct {
	name string
	val  *string
}

// required returns a check for withServer that names the first of flags left empty.
func required(flags ...requiredFlag) func() error {
	return func() error {
		for _, f := range flags {
			if *f.val == "" {
				return usageError{msg: "--" + f.name + " is required"}
			}
		}
		return nil
	}
}

// lookupUser finds the user named by exactly one of --user and --email.
func lookupUser(ctx context.Context, s *server.Server, id, email string) (storage.User, error) {
	if id != "" {
		return s.User(ctx, id)
	}
	return s.UserByEmail(ctx, email)
}

// oneOf checks that exactly one of the named flags is set.
func oneOf(names string, vals ...string) error {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return usageError{msg: "exactly one of " + names + " is required"}
	}
	return nil
}

func cmdOrgCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("org create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	name := fs.String("name", "", "organization name: lower-case letters, digits and hyphens (required)")
	display := fs.String("display-name", "", "display name (default: the name)")
	defaultRole := fs.String("default-role", "", "role (id or tenant-wide name) every new member gets")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, required(requiredFlag{"name", name}), func(s *server.Server, tctx context.Context) error {
		spec := directory.OrganizationSpec{Name: *name, DisplayName: *display}
		if *defaultRole != "" {
			r, err := s.ResolveRole(tctx, *defaultRole, "")
			if err != nil {
				return err
			}
			spec.DefaultRoleID = r.ID
		}
		o, err := s.CreateOrganization(tctx, spec)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"id": o.ID, "name": o.Name, "display_name": o.DisplayName})
	})
}

func cmdOrgAddClient(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("org add-client", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	org := fs.String("org", "", "organization id or name (required)")
	client := fs.String("client", "", "id of a client with the client_credentials grant (required)")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, required(requiredFlag{"org", org}, requiredFlag{"client", client}), func(s *server.Server, tctx context.Context) error {
		o, err := s.AddOrganizationClient(tctx, *org, *client)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"organization_id": o.ID, "client_id": *client})
	})
}

// roleView is how the CLI prints a role held by a subject.
type roleView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Source string `json:"source"`
}

func cmdMemberAdd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("member add", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	org := fs.String("org", "", "organization id or name (required)")
	userID := fs.String("user", "", "user id")
	email := fs.String("email", "", "user email")
	status := fs.String("status", storage.MembershipActive, "active, invited or suspended")
	var roles rawListFlag
	fs.Var(&roles, "role", "role id or name to assign on the membership (repeatable)")
	check := func() error {
		if *org == "" {
			return usageError{msg: "--org is required"}
		}
		return oneOf("--user and --email", *userID, *email)
	}
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		o, err := s.Organization(tctx, *org)
		if err != nil {
			return err
		}
		u, err := lookupUser(tctx, s, *userID, *email)
		if err != nil {
			return err
		}
		// Resolve every role before changing anything, so a bad --role adds no member.
		roleIDs := make([]string, 0, len(roles))
		for _, ref := range roles {
			r, err := s.ResolveRole(tctx, ref, o.ID)
			if err != nil {
				return err
			}
			if r.OrganizationID != "" && r.OrganizationID != o.ID {
				return fmt.Errorf("roles: role %q is custom to another organization", ref)
			}
			roleIDs = append(roleIDs, r.ID)
		}
		if _, err := s.AddMembers(tctx, o.ID, []string{u.ID}, *status); err != nil {
			return err
		}
		if len(roleIDs) > 0 {
			if _, err := s.AssignMemberRoles(tctx, o.ID, u.ID, roleIDs, storage.SourceManual); err != nil {
				return err
			}
		}
		_, m, err := s.Membership(tctx, o.ID, u.ID)
		if err != nil {
			return err
		}
		held, err := s.MemberRoles(tctx, o.ID, u.ID)
		if err != nil {
			return err
		}
		views := make([]roleView, 0, len(held))
		for _, r := range held {
			views = append(views, roleView{ID: r.ID, Name: r.Name, Source: r.Source})
		}
		return printJSON(stdout, map[string]any{"id": m.ID, "organization_id": o.ID, "user_id": u.ID, "status": m.Status, "roles": views})
	})
}

func cmdRoleCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("role create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	name := fs.String("name", "", "role name (required)")
	desc := fs.String("description", "", "description")
	org := fs.String("org", "", "organization (id or name) the role is custom to; default tenant-wide")
	var perms rawListFlag
	fs.Var(&perms, "permission", "AUDIENCE:SCOPE of a resource server (repeatable), e.g. urn:authio:management:read:organizations")
	check := func() error {
		if err := required(requiredFlag{"name", name})(); err != nil {
			return err
		}
		for _, p := range perms {
			if i := strings.LastIndex(p, ":"); i <= 0 || i == len(p)-1 {
				return usageError{msg: fmt.Sprintf("--permission %q must be AUDIENCE:SCOPE", p)}
			}
		}
		return nil
	}
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		// Audiences and scopes both may hold colons; the tenant's resource servers tell where one ends.
		var parsed []storage.Permission
		for _, p := range perms {
			pp, err := s.ResolvePermission(tctx, p)
			if err != nil {
				return err
			}
			parsed = append(parsed, pp)
		}
		r, err := s.CreateRole(tctx, directory.RoleSpec{Name: *name, Description: *desc, OrganizationID: *org, Permissions: parsed})
		if err != nil {
			return err
		}
		ps, err := s.RolePermissions(tctx, r.ID)
		if err != nil {
			return err
		}
		var orgID *string
		if r.OrganizationID != "" {
			orgID = &r.OrganizationID
		}
		return printJSON(stdout, map[string]any{"id": r.ID, "name": r.Name, "organization_id": orgID, "permissions": ps})
	})
}

func cmdRoleAssign(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("role assign", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	role := fs.String("role", "", "role id, or name (tenant-wide first, then custom to --org) (required)")
	org := fs.String("org", "", "organization id or name: assign on the user's membership")
	userID := fs.String("user", "", "user id")
	email := fs.String("email", "", "user email")
	client := fs.String("client", "", "machine client id: a tenant-level client role")
	check := func() error {
		if *role == "" {
			return usageError{msg: "--role is required"}
		}
		if *client != "" && *org != "" {
			return usageError{msg: "--client takes no --org: client roles are tenant-level"}
		}
		return oneOf("--user, --email and --client", *userID, *email, *client)
	}
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, check, func(s *server.Server, tctx context.Context) error {
		orgID := ""
		if *org != "" {
			o, err := s.Organization(tctx, *org)
			if err != nil {
				return err
			}
			orgID = o.ID
		}
		r, err := s.ResolveRole(tctx, *role, orgID)
		if err != nil {
			return err
		}
		ids := []string{r.ID}
		var (
			subject string
			assign  func() ([]storage.Role, error)
		)
		if *client != "" {
			subject = storage.SubjectClient + ":" + *client
			assign = func() ([]storage.Role, error) { return s.AssignClientRoles(tctx, *client, ids, storage.SourceManual) }
		} else {
			u, err := lookupUser(tctx, s, *userID, *email)
			if err != nil {
				return err
			}
			if orgID != "" {
				_, m, err := s.Membership(tctx, orgID, u.ID)
				if err != nil {
					return err
				}
				subject = storage.SubjectMembership + ":" + m.ID
				assign = func() ([]storage.Role, error) {
					return s.AssignMemberRoles(tctx, orgID, u.ID, ids, storage.SourceManual)
				}
			} else {
				subject = storage.SubjectUser + ":" + u.ID
				assign = func() ([]storage.Role, error) { return s.AssignUserRoles(tctx, u.ID, ids, storage.SourceManual) }
			}
		}
		added, err := assign()
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"role": r.ID, "subject": subject, "source": storage.SourceManual, "assigned": len(added) > 0})
	})
}

func cmdAPIKeyCreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	name := fs.String("name", "", "a name to recognise the key by")
	test := fs.Bool("test", false, "make an sk_test_ key instead of sk_live_")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, nil, func(s *server.Server, tctx context.Context) error {
		k, err := s.CreateAPIKey(tctx, *name, *test)
		if err != nil {
			return err
		}
		return printJSON(stdout, k)
	})
}

func cmdAPICreate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("api create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant slug or id (required)")
	identifier := fs.String("identifier", "", "audience: an absolute URI or a URN, e.g. https://api.example.com (required)")
	name := fs.String("name", "", "display name (required)")
	lifetime := fs.Int("token-lifetime", 0, fmt.Sprintf("access token lifetime in seconds (default %d, at most %d)",
		directory.DefaultResourceTokenLifetime, directory.MaxResourceTokenLifetime))
	var scopes listFlag
	fs.Var(&scopes, "scope", "scope the API defines (repeatable or comma separated)")
	return withTenant(ctx, fs, args, environ, stdout, stderr, tenant, required(requiredFlag{"identifier", identifier}, requiredFlag{"name", name}), func(s *server.Server, tctx context.Context) error {
		spec := directory.ResourceServerSpec{Identifier: *identifier, Name: *name, TokenLifetime: *lifetime}
		for _, sc := range scopes {
			spec.Scopes = append(spec.Scopes, storage.Scope{Value: sc})
		}
		rs, err := s.CreateResourceServer(tctx, spec)
		if err != nil {
			return err
		}
		scopes := []storage.Scope(rs.Scopes)
		if scopes == nil {
			scopes = []storage.Scope{}
		}
		return printJSON(stdout, map[string]any{"id": rs.ID, "identifier": rs.Identifier, "name": rs.Name, "scopes": scopes})
	})
}
