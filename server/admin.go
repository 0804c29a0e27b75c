package server

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/server/cache"
	"github.com/authio/authio/storage"
)

// ValidationError is bad input from an operator or user; its message names the field.
type ValidationError struct {
	Field, Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

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

// CreateTenant creates a tenant answering on <slug>.<base domain> plus extra domains, with a fresh signing key.
// Domains are stored canonical (tenantDomain); a domain that is not a host name is a ValidationError of field
// "domain".
func (s *Server) CreateTenant(ctx context.Context, slug, name, alg string, extraDomains []string) (TenantInfo, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if !slugRE.MatchString(slug) {
		return TenantInfo{}, invalid("slug", "must be 1-63 lower-case letters, digits or hyphens")
	}
	if strings.TrimSpace(name) == "" {
		name = slug
	}
	if alg == "" {
		alg = keys.AlgRS256
	}
	if alg != keys.AlgRS256 && alg != keys.AlgES256 {
		return TenantInfo{}, invalid("signing-alg", "must be RS256 or ES256")
	}
	def, err := tenantDomain(slug + "." + s.Config.BaseDomain)
	if err != nil {
		return TenantInfo{}, err
	}
	domains := []string{def}
	for _, d := range extraDomains {
		d, err := tenantDomain(d)
		if err != nil {
			return TenantInfo{}, err
		}
		domains = append(domains, d)
	}
	now := s.Now().UTC()
	t := storage.Tenant{ID: ids.New("ten"), Slug: slug, Name: strings.TrimSpace(name), SigningAlg: alg, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateTenant(ctx, t, domains); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return TenantInfo{}, invalid("slug", "a tenant with this slug or one of these domains already exists")
		}
		return TenantInfo{}, err
	}
	key, err := s.Keys.NewSigningKey(alg)
	if err != nil {
		return TenantInfo{}, err
	}
	if err := s.Store.AddKey(storage.WithTenant(ctx, t.ID), key, now); err != nil {
		return TenantInfo{}, err
	}
	s.announce(ctx, tenantsChannel, "changed")
	return TenantInfo{ID: t.ID, Slug: t.Slug, Name: t.Name, Domains: domains}, nil
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
	s.announce(ctx, tenantsChannel, "changed")
	return t, nil
}

// ClientSpec describes a client to create.
type ClientSpec struct {
	Name                   string
	Type                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Audiences              []string
	Scopes                 []string
	WebOrigins             []string
	OrganizationUsage      string // deny (default), allow or require
}

// CreatedClient is what the CLI prints; the secret is shown only here.
type CreatedClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// checkOrganizationUsage normalises a client's organization usage ("" means deny).
func checkOrganizationUsage(v string) (string, error) {
	switch v {
	case "":
		return storage.OrgUsageDeny, nil
	case storage.OrgUsageDeny, storage.OrgUsageAllow, storage.OrgUsageRequire:
		return v, nil
	}
	return "", invalid("organization_usage", "must be deny, allow or require")
}

// normalizeClientSpec validates spec and fills its defaults in place: grant aliases resolved, default grants and
// scopes, organization usage, web origins without a trailing slash. CreateClient and UpdateClient share it, so a
// client can never be changed into one that could not have been created.
func normalizeClientSpec(spec *ClientSpec) error {
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Name == "" {
		return invalid("name", "is required")
	}
	if spec.Type != storage.ClientPublic && spec.Type != storage.ClientConfidential {
		return invalid("type", "must be public or confidential")
	}
	if len(spec.GrantTypes) == 0 {
		spec.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	grants := make([]string, len(spec.GrantTypes))
	for i, name := range spec.GrantTypes {
		g, ok := LookupGrantType(name) // the grant registry: aliases resolve to the grant_type value
		if !ok {
			return invalid("grant", "unknown grant type %q (%s)", name, grantSpellings())
		}
		if g.ConfidentialOnly && spec.Type == storage.ClientPublic {
			return invalid("grant", "public clients cannot use %s", g.Name)
		}
		grants[i] = g.Name
	}
	spec.GrantTypes = grants
	hasCode := false
	for _, g := range spec.GrantTypes {
		hasCode = hasCode || g == "authorization_code"
	}
	if hasCode && len(spec.RedirectURIs) == 0 {
		return invalid("redirect-uri", "at least one is required for authorization_code")
	}
	for _, l := range []struct {
		field string
		uris  []string
	}{{"redirect-uri", spec.RedirectURIs}, {"post-logout-redirect-uri", spec.PostLogoutRedirectURIs}} {
		for _, u := range l.uris {
			pu, err := url.Parse(u)
			if err != nil || pu.Scheme == "" || pu.Fragment != "" || (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host == "" {
				return invalid(l.field, "%q must be an absolute URI without a fragment", u)
			}
		}
	}
	for _, o := range spec.WebOrigins {
		pu, err := url.Parse(o)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || (pu.Path != "" && pu.Path != "/") {
			return invalid("web-origin", "%q must be an origin like https://app.example.com", o)
		}
	}
	spec.WebOrigins = trimOrigins(spec.WebOrigins)
	for _, a := range spec.Audiences {
		if strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t") {
			return invalid("audience", "%q is not a valid audience", a)
		}
	}
	if len(spec.Scopes) == 0 {
		spec.Scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	for _, sc := range spec.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\"\\") {
			return invalid("scope", "%q is not a valid scope", sc)
		}
	}
	usage, err := checkOrganizationUsage(spec.OrganizationUsage)
	if err != nil {
		return err
	}
	spec.OrganizationUsage = usage
	return nil
}

// CreateClient validates spec and stores a client in the tenant of ctx. Confidential clients get a generated
// 256-bit secret, returned once and stored as a keyed hash.
func (s *Server) CreateClient(ctx context.Context, spec ClientSpec) (CreatedClient, error) {
	if err := normalizeClientSpec(&spec); err != nil {
		return CreatedClient{}, err
	}
	now := s.Now().UTC()
	c := storage.Client{
		ID: ids.New("cli"), Name: spec.Name, Type: spec.Type, OrganizationUsage: spec.OrganizationUsage,
		RedirectURIs: spec.RedirectURIs, PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs,
		GrantTypes: spec.GrantTypes, Scopes: spec.Scopes, Audiences: spec.Audiences,
		WebOrigins: spec.WebOrigins, CreatedAt: now, UpdatedAt: now,
	}
	out := CreatedClient{ClientID: c.ID}
	if c.Type == storage.ClientConfidential {
		out.ClientSecret, c.SecretHash = s.newClientSecret(ctx)
	}
	if err := s.Store.CreateClient(ctx, c); err != nil {
		return CreatedClient{}, err
	}
	s.announce(ctx, clientsChannel, c.ID)
	return out, nil
}

// newClientSecret returns a fresh 256-bit client secret and the keyed hash to store in its place.
func (s *Server) newClientSecret(ctx context.Context) (secret, hash string) {
	secret = ids.Random(32)
	h, _ := keys.NewSecretHasher(s.Secrets).Hash(ctx, []byte(secret))
	return secret, string(h)
}

func trimOrigins(in []string) []string {
	out := make([]string, 0, len(in))
	for _, o := range in {
		out = append(out, strings.TrimSuffix(o, "/"))
	}
	return out
}

// CreateUser validates and stores a user in the tenant of ctx, with the password as the user's credential on the
// tenant's password connection (storage.DefaultPasswordConnection), bcrypt-hashed at the tenant's cost.
func (s *Server) CreateUser(ctx context.Context, email, password, name string) (storage.User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return storage.User{}, err
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return storage.User{}, err
	}
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return storage.User{}, err
	}
	now := s.Now().UTC()
	u := storage.User{ID: ids.New("user"), Email: email, Name: strings.TrimSpace(name), PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.User{}, invalid("email", "a user with this email already exists")
		}
		return storage.User{}, err
	}
	u.TenantID, _ = storage.TenantFromContext(ctx)
	return u, nil
}

// normalizeEmail puts an email address in canonical form (canon.Email: trimmed, NFC, case-folded) and checks it:
// users are keyed by (tenant, canonical email), so two spellings a person reads as one address are one user.
func normalizeEmail(email string) (string, error) {
	email = canon.Email(email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return "", invalid("email", "is not a valid email address")
	}
	return email, nil
}

// CheckPasswordPolicy enforces the minimum password rules.
func CheckPasswordPolicy(pw string) error {
	if len(pw) < 8 {
		return invalid("password", "must be at least 8 characters")
	}
	if len(pw) > 72 {
		return invalid("password", "must be at most 72 bytes")
	}
	return nil
}

// RotateKey makes a new active key for the tenant in ctx; the old one stays in JWKS until its tokens expire.
// The old key stays published for the longest lifetime any of its tokens can have: the tenant's defaults or a
// resource server's own (the Management API's included).
func (s *Server) RotateKey(ctx context.Context, t storage.Tenant) (storage.SigningKey, error) {
	tctx := storage.WithTenant(ctx, t.ID)
	keep := s.pc.MaxTokenLifetime(t)
	rsMax, err := s.Store.MaxTokenLifetime(tctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if builtin := managementResourceServer(t.ID).TokenLifetime; builtin > rsMax {
		rsMax = builtin
	}
	if d := time.Duration(rsMax)*time.Second + 5*time.Minute; d > keep {
		keep = d
	}
	k, err := s.Keys.Rotate(tctx, t.SigningAlg, s.Now().Add(keep))
	if err != nil {
		return k, err
	}
	s.announce(tctx, keys.Channel, t.ID)
	return k, nil
}

// SetSignup turns self-service sign-up on or off for a tenant.
func (s *Server) SetSignup(ctx context.Context, tenantID string, enabled bool) error {
	if err := s.Store.UpdateTenant(ctx, tenantID, func(t storage.Tenant) (storage.Tenant, error) {
		t.SignupEnabled = enabled
		return t, nil
	}); err != nil {
		return err
	}
	s.announce(ctx, tenantsChannel, "changed")
	return nil
}

// announce tells other replicas that something they cache changed. The change itself is already stored, so a
// failure only delays them until their caches expire: it is retried for up to announceBudget (tried once while
// Redis is known not to answer), then dropped with a warning. It never fails the caller's operation, and a
// cancelled request does not cancel it.
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
