package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/authn/tickets"
	"github.com/authio/authio/config"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/mail"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// Server holds Authio's services. Handlers reach storage only through it.
type Server struct {
	// Directory serves the tenant's users, organizations, roles, clients, resource servers and API keys; its
	// methods are the server's.
	*directory.Directory
	// FlowService keeps sign-in flows and SessionService browser sessions (package authn); their methods are
	// the server's.
	*authn.FlowService
	*authn.SessionService
	// Service is the OAuth composition (package oauth): fosite with Authio's grants and the claims builder, its
	// Provider and OrgPolicy, and the grant reads (UserOrganization, LiveUser, switching, …).
	*oauth.Service
	// SignInService is the sign-in pipeline over connections, with its throttling (package authn/signin).
	*signin.SignInService
	// Factors keeps users' second factors: authenticator apps (TOTP) and recovery codes (package authn/mfa).
	*mfa.Factors

	Config  config.Config
	Logger  *slog.Logger
	Store   *storage.Store
	Cache   cache.Cache
	Secrets *keys.Secrets
	Keys    *keys.KeyManager
	// KeyPool hands out signing keys for new tenants, RSA ones generated ahead of need (the store's key pool,
	// kept at Config.KeyPool keys while Start runs).
	KeyPool *keys.KeyPool
	Tenants *TenantResolver
	// Memo is the one in-process cache of database reads (package server/memo), kept correct by the store's
	// commit hook (committed) here and by the invalidations other processes send.
	Memo    *memo.Memo
	Metrics *Metrics
	Now     func() time.Time
	// Connections opens the tenant's stored connections into their kinds (see package authn).
	Connections *authn.Registry
	// Mail sends email (package mail): a mail.Queue over AUTHIO_SMTP_URL, or in --dev a mail.Dev that also writes
	// it to the log and to Outbox. Tests may replace it before requests are made. SendMail renders and sends.
	Mail mail.Sender
	// MailTemplates renders each message kind with a tenant's branding.
	MailTemplates *mail.Templates
	// Outbox keeps the latest messages of each tenant in --dev (nil otherwise), listed at /dev/outbox.
	Outbox *mail.Outbox
	// EmailSendWindow is how long a request that may send a sign-in email takes, sent or not (default 1s; see
	// authn/emailotp). Tests shorten it.
	EmailSendWindow time.Duration
	// mailQueue retries temporary failures until Close.
	mailQueue *mail.Queue
	// Tickets is email verification and password reset (package authn/tickets; server/tickets.go).
	Tickets *tickets.Service
	// Upstream is the HTTP client upstream sign-in kinds (authn/oidc) reach identity providers with
	// (NewUpstreamClient); tests may replace it before serving.
	Upstream *http.Client

	health *cacheHealth
	// origin names this process in the invalidations it sends, so it skips its own.
	origin string
	// localCounters hold sign-in failures while Redis does not answer (see throttleCounters).
	localCounters *cache.Memory
	stops         []func()
	wg            sync.WaitGroup
	cancel        context.CancelFunc
}

// New opens storage and the cache and composes the provider. It does not run migrations. An unreachable Redis
// does not stop it: it logs a warning and the server runs degraded until Redis answers (see cacheHealth); a
// malformed Redis URL is an error.
func New(cfg config.Config, logger *slog.Logger) (*Server, error) {
	store, err := storage.Open(cfg.DatabaseURL, storage.Options{MaxOpenConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	cache.LogRedisTo(logger)
	c, err := cache.Open(cfg.RedisURL, "authio:")
	if err != nil {
		store.Close()
		return nil, err
	}
	s := NewWith(cfg, logger, store, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*healthTimeout)
	defer cancel()
	_ = s.health.check(ctx)
	return s, nil
}

// NewWith builds a Server over an open store and cache (tests use it to share them).
func NewWith(cfg config.Config, logger *slog.Logger, store *storage.Store, c cache.Cache) *Server {
	secrets := keys.NewSecrets(cfg.SecretKey)
	m := memo.New(memo.Options{MaxBytes: cfg.CacheMaxBytes, TTL: cfg.CacheTTL, ShortTTL: unannouncedTTL,
		Uncommitted: uncommitted})
	km := keys.NewKeyManager(store, secrets, m)
	s := &Server{
		Config:   cfg,
		Logger:   logger,
		Store:    store,
		Cache:    c,
		Secrets:  secrets,
		Memo:     m,
		Keys:     km,
		KeyPool:  keys.NewKeyPool(store, km, cfg.KeyPool),
		Tenants:  NewTenantResolver(store, m, km),
		Metrics:  NewMetrics(),
		Now:      time.Now,
		Upstream: NewUpstreamClient(),
		origin:   ids.Random(12),
	}
	s.setupMail()
	s.Metrics.Registry.MustRegister(memoCollector{m}, keyPoolCollector{s})
	s.stops = append(s.stops, store.OnCommit(memo.Tables(), s.committed), store.SetClientCache(memoClients{m}))
	s.Directory = directory.New(directory.Deps{Store: store, Audit: s.Audit, Now: func() time.Time { return s.Now() },
		Secrets: secrets, HashPassword: s.HashPassword, ResourceServer: s.ResourceServer})
	now := func() time.Time { return s.Now() }
	s.FlowService = authn.NewFlowService(store, secrets, now, cfg.PublicScheme == "https")
	s.SessionService = authn.NewSessionService(authn.SessionDeps{Store: store, Secrets: secrets, Now: now,
		TTL: cfg.SessionTTL, Audit: s.Audit, LiveUser: func(ctx context.Context, id string) (storage.User, error) {
			u, err := s.LiveUser(ctx, id)
			if errors.Is(err, oauth.ErrGrantWithdrawn) {
				return u, authn.ErrUserGone
			}
			return u, err
		}})
	s.EmailSendWindow = time.Second
	s.Connections = signin.NewRegistry(authn.Deps{Store: store, Passkeys: store, PasswordCost: s.PasswordCostFor, OneTime: store, Secrets: secrets,
		Now: now, SendMail: s.SendMail, MailUsable: func() error { return mail.Usable(s.Mail) },
		SendWindow: func() time.Duration { return s.EmailSendWindow },
		HTTPClient: func() *http.Client { return s.Upstream }, Memo: m,
		BaseURL: func(ctx context.Context) string {
			if t := TenantFromContext(ctx); t != nil {
				return t.BaseURL
			}
			return ""
		}, Audit: s.Audit, Tx: store.InTx})
	s.health = newCacheHealth(c, logger, s.flushLocalCaches)
	s.localCounters = cache.NewMemory()
	s.SignInService = signin.New(signin.Deps{Store: store, Secrets: secrets, Registry: s.Connections,
		Counters: throttleCounters{s}, Logger: logger, Now: now, Audit: s.Audit,
		Settings: func(ctx context.Context) storage.TenantSettings {
			var ts storage.TenantSettings
			if t := TenantFromContext(ctx); t != nil {
				ts = t.Settings
			}
			return EffectiveSettings(ts)
		},
		SignupEnabled: func(ctx context.Context) bool { t := TenantFromContext(ctx); return t != nil && t.SignupEnabled },
		PasswordCost:  s.PasswordCostFor, CreateUser: s.CreateUser})
	s.Tickets = s.newTickets()
	s.Factors = mfa.New(mfa.Deps{Store: store, Secrets: secrets, Now: now, Audit: s.Audit,
		Mode: func(ctx context.Context) string {
			var ts storage.TenantSettings
			if t := TenantFromContext(ctx); t != nil {
				ts = t.Settings
			}
			return EffectiveSettings(ts).MFA
		}})
	m.SetUnannounced(s.health.degraded)
	s.Service = oauth.NewService(oauth.Deps{Config: cfg, Store: store, Secrets: secrets, Signer: &keys.Signer{Keys: s.Keys},
		Now: func() time.Time { return s.Now() }, Audit: s.Audit, ResourceServer: s.ResourceServer, ClientGrants: s.clientGrants,
		CanonicalAudience: s.CanonicalAudience})
	return s
}

// Start subscribes to cross-replica invalidations, starts watching whether Redis answers and starts
// housekeeping; Close stops them. Redis need not answer: subscriptions go live when it does.
func (s *Server) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	if rc, ok := s.Cache.(cache.Reconnecting); ok {
		rc.OnResubscribe(func(channel string) {
			// Announcements published while the subscription was down are lost.
			s.Logger.Info("cache invalidations resumed; dropping local caches in case some were missed", "channel", channel)
			s.flushLocalCaches()
		})
	}
	stop, err := s.Cache.Subscribe(ctx, memo.Channel, s.heard)
	if err != nil {
		return fmt.Errorf("subscribe to cache invalidations: %w", err)
	}
	s.stops = append(s.stops, stop)
	if s.KeyPool.Target() > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.KeyPool.Run(ctx, func(err error) { s.Logger.Error("keeping the signing key pool filled failed", "err", err) })
		}()
	}
	if s.health.remote {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.health.run(ctx)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			// Keep expired grants for a day so late reuse still finds (and rejects) them.
			if n, err := s.Store.DeleteExpired(ctx, s.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				s.Logger.Warn("housekeeping failed", "err", err)
			} else if n > 0 {
				s.Logger.Debug("housekeeping removed expired records", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Close stops background work and releases connections.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	for _, stop := range s.stops {
		stop()
	}
	s.wg.Wait()
	s.Tickets.Wait() // mails asked for in the background
	s.mailQueue.Close()
	s.Memo.Close()
	return errors.Join(s.Cache.Close(), s.localCounters.Close(), s.Store.Close())
}

// Ready reports whether the database answers: a replica can serve without Redis (degraded), never without
// its database.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Readiness is the body of /readyz. Status is "ready" (HTTP 200) when the database answers, whatever Redis does,
// and "not_ready" (503) otherwise. Checks name each dependency's state: "database" is "ok" or "unavailable";
// "cache" is CacheOK, CacheDegraded (Redis configured but not answering: the replica serves, with the
// degradations described in cachehealth.go) or CacheInProcess (no Redis configured).
type Readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Readiness checks the database now and reports the cache as the health monitor last saw it. err is the
// database's error, for the log; it is never shown to the caller.
func (s *Server) Readiness(ctx context.Context) (Readiness, error) {
	r := Readiness{Status: "ready", Checks: map[string]string{"database": "ok", "cache": s.health.status()}}
	err := s.Ready(ctx)
	if err != nil {
		r.Status, r.Checks["database"] = "not_ready", "unavailable"
	}
	return r, err
}

// Serve runs the public and admin HTTP servers until ctx ends, then shuts them down gracefully.
func Serve(ctx context.Context, logger *slog.Logger, public *http.Server, admin *http.Server) error {
	errc := make(chan error, 2)
	run := func(hs *http.Server, name string) {
		logger.Info("listening", "listener", name, "addr", hs.Addr)
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			hint := ""
			if errors.Is(err, syscall.EADDRINUSE) {
				hint = " (another process uses this address: choose another with --listen / AUTHIO_LISTEN, or " +
					"--admin-listen / AUTHIO_ADMIN_LISTEN for the admin listener)"
			}
			errc <- fmt.Errorf("%s listener: %w%s", name, err, hint)
		}
	}
	go run(public, "public")
	if admin != nil {
		go run(admin, "admin")
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := public.Shutdown(sctx)
	if admin != nil {
		err = errors.Join(err, admin.Shutdown(sctx))
	}
	return err
}

// NewHTTPServer wraps h with the timeouts every listener needs.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
