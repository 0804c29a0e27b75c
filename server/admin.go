package server

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	domainRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
)

// TenantInfo is a tenant with its domains, as the CLI prints it.
type TenantInfo struct {
	ID      string   `json:"id"`
	Slug    string   `json:"slug"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// CreateTenant creates a tenant answering on <slug>.<base domain> plus extra domains, with a fresh signing key,
// all in one transaction (see storeTenant). Domains are stored canonical (tenantDomain); a domain that is not a
// host name is a ValidationError of field "domain", and a slug or domain that is taken one of field "slug". The
// RSA key comes from the key pool when it holds one, so the call then costs a few milliseconds instead of the
// 50-100 ms of generating one.
func (s *Server) CreateTenant(ctx context.Context, slug, name, alg string, extraDomains []string) (TenantInfo, error) {
	p, err := s.prepareTenant(TenantSpec{Slug: slug, Name: name, SigningAlg: alg, Domains: extraDomains})
	if err != nil {
		return TenantInfo{}, err
	}
	key, err := s.KeyPool.Take(ctx, p.tenant.SigningAlg)
	if err != nil {
		return TenantInfo{}, err
	}
	info, _, err := s.storeTenant(ctx, p, key)
	if err != nil {
		s.returnKey(ctx, key, err)
	}
	if errors.Is(err, storage.ErrAlreadyExists) {
		return TenantInfo{}, invalid("slug", "a tenant with this slug or one of these domains already exists")
	} else if err != nil {
		return TenantInfo{}, err
	}
	return info, nil
}

// tenantDomain returns the canonical form of a domain an operator gives a tenant (canon.Domain, surrounding
// space trimmed), the one form ResolveTenant looks up: a Unicode name is stored in its ASCII form. A tenant
// domain also needs at least two labels.
func tenantDomain(d string) (string, error) {
	c, err := canon.Domain(strings.TrimSpace(d))
	if err != nil {
		return "", invalid("domain", "%q is not a host name", d)
	}
	if !domainRE.MatchString(c) {
		return "", invalid("domain", "%q must be a host name of at least two labels, such as auth.example.com", d)
	}
	return c, nil
}

// TenantInfos lists every tenant with its domains.
func (s *Server) TenantInfos(ctx context.Context) ([]TenantInfo, error) {
	ts, err := s.Store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TenantInfo, 0, len(ts))
	for _, t := range ts {
		ds, err := s.Store.ListDomains(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, TenantInfo{ID: t.ID, Slug: t.Slug, Name: t.Name, Domains: ds})
	}
	return out, nil
}

// AddDomain attaches a host name to a tenant, stored canonical (tenantDomain): "Bücher.Example." is stored and
// served as "xn--bcher-kva.example". A domain that is not a host name is a ValidationError of field "domain".
func (s *Server) AddDomain(ctx context.Context, tenant, domain string) (storage.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, tenant)
	if err != nil {
		return t, err
	}
	domain, err = tenantDomain(domain)
	if err != nil {
		return t, err
	}
	if err := s.Store.AddDomain(ctx, t.ID, domain); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return t, invalid("domain", "%q already belongs to a tenant", domain)
		}
		return t, err
	}
	return t, nil
}

// RemoveDomain detaches a host name from a tenant (id or slug); the tenant's default domain cannot go. Every
// replica stops serving the tenant on it at once (the committed change invalidates their caches). A domain the
// tenant does not have is a ValidationError of field "domain".
func (s *Server) RemoveDomain(ctx context.Context, tenant, domain string) (storage.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, tenant)
	if err != nil {
		return t, err
	}
	domain, err = tenantDomain(domain)
	if err != nil {
		return t, err
	}
	if def, _ := tenantDomain(t.Slug + "." + s.Config.BaseDomain); domain == def {
		return t, invalid("domain", "%q is the tenant's default domain", domain)
	}
	if err := s.Store.RemoveDomain(ctx, t.ID, domain); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return t, invalid("domain", "%q is not a domain of tenant %s", domain, t.Slug)
		}
		return t, err
	}
	return t, nil
}

// RotateKey makes a new active key for the tenant in ctx (an RSA one from the key pool while it holds one); the old
// one stays in JWKS until its tokens expire.
// The old key stays published for the longest lifetime any of its tokens can have: the tenant's defaults or a
// resource server's own (the Management API's included).
func (s *Server) RotateKey(ctx context.Context, t storage.Tenant) (storage.SigningKey, error) {
	tctx := storage.WithTenant(ctx, t.ID)
	keep := s.MaxTokenLifetime(t)
	rsMax, err := s.Store.MaxTokenLifetime(tctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if builtin := directory.ManagementResourceServer(t.ID).TokenLifetime; builtin > rsMax {
		rsMax = builtin
	}
	if d := time.Duration(rsMax)*time.Second + 5*time.Minute; d > keep {
		keep = d
	}
	// An RSA key comes from the key pool while it holds one (keys.KeyPool), so a rotation costs no key generation.
	k, err := s.KeyPool.Take(tctx, t.SigningAlg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if err := s.Keys.Rotate(tctx, k, s.Now().Add(keep)); err != nil {
		s.returnKey(ctx, k, err)
		return storage.SigningKey{}, err
	}
	return k, nil
}

// SetSignup turns self-service sign-up on or off for a tenant.
func (s *Server) SetSignup(ctx context.Context, tenantID string, enabled bool) error {
	return s.Store.UpdateTenant(ctx, tenantID, func(t storage.Tenant) (storage.Tenant, error) {
		t.SignupEnabled = enabled
		return t, nil
	})
}

// announce tells other replicas that something they cache changed (committed sends what a commit invalidated).
// The change itself is already stored, so a failure only delays them until their caches expire: it is retried
// for up to announceBudget (tried once while Redis is known not to answer), then dropped with a warning. It never
// fails the caller's operation, and a cancelled request does not cancel it.
func (s *Server) announce(ctx context.Context, channel, msg string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceBudget)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := s.Cache.Publish(ctx, channel, msg)
		if err == nil {
			return
		}
		if errors.Is(err, cache.ErrClosed) || s.health.degraded() || sleepCtx(ctx, wait) != nil {
			s.health.failed(err)
			s.Logger.Warn("announcing a change to other replicas failed; dropped: they will see it when their caches expire",
				"channel", channel, "err", err)
			return
		}
		wait *= 2
	}
}
