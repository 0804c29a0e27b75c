package directory

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/oauth"
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
		g, ok := oauth.LookupGrantType(name) // the grant registry: aliases resolve to the grant_type value
		if !ok {
			return invalid("grant", "unknown grant type %q (%s)", name, oauth.GrantSpellings())
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
func (s *Directory) CreateClient(ctx context.Context, spec ClientSpec) (CreatedClient, error) {
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
	return out, nil
}

// newClientSecret returns a fresh 256-bit client secret and the keyed hash to store in its place.
func (s *Directory) newClientSecret(ctx context.Context) (secret, hash string) {
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
func (s *Directory) CreateUser(ctx context.Context, email, password, name string) (storage.User, error) {
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

// NormalizeEmail is normalizeEmail for the other services: the canonical form of an address (canon.Email), or a
// *ValidationError of field "email" when it is not one.
func NormalizeEmail(email string) (string, error) { return normalizeEmail(email) }
