package signin

import (
	"context"
	"errors"
	"regexp"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/emailotp"
	"github.com/authio/authio/authn/oidc"
	"github.com/authio/authio/authn/passkey"
	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// Audit event types of connection changes.
const (
	EventConnectionCreated = "connection.created"
	EventConnectionUpdated = "connection.updated"
	EventConnectionDeleted = "connection.deleted"
)

// NewRegistry returns the registry of the connection kinds Authio signs in with. Adding a kind is one
// line here (see package authn).
func NewRegistry(deps authn.Deps) *authn.Registry {
	reg := authn.NewRegistry(deps)
	reg.Register(password.Type, password.New)
	reg.Register(emailotp.Type, emailotp.New)
	reg.Register(passkey.Type, passkey.New)
	reg.Register(oidc.Type, oidc.New, oidc.SecretSettings...)
	return reg
}

// StrategyOf is the Auth0 "strategy" of a connection type: "auth0" for the password database connection (what
// Auth0 calls its own user store), "samlp" for SAML, and the type itself for the others.
func StrategyOf(typ string) string {
	switch typ {
	case storage.ConnectionPassword:
		return "auth0"
	case storage.ConnectionSAML:
		return "samlp"
	}
	return typ
}

// StrategyOfConnection is the Auth0 strategy of a stored connection: StrategyOf its type, except for an oidc
// connection with a preset, which shows Auth0's strategy for that provider ("google-oauth2", "waad", "github").
// Presets are stored as type oidc with the setting preset (see package authn/oidc).
func StrategyOfConnection(c storage.Connection) string {
	if c.Type == storage.ConnectionOIDC {
		if s := oidc.StrategyOf(c.Settings); s != "" {
			return s
		}
	}
	return StrategyOf(c.Type)
}

// typeOfStrategy inverts StrategyOf; the type names themselves are accepted too. preset is the oidc preset an
// Auth0 social strategy stands for ("" for the others).
func typeOfStrategy(strategy string) (typ, preset string) {
	switch strategy {
	case "auth0":
		return storage.ConnectionPassword, ""
	case "samlp":
		return storage.ConnectionSAML, ""
	}
	if p := oidc.PresetOfStrategy(strategy); p != "" {
		return storage.ConnectionOIDC, p
	}
	return strategy, ""
}

// passwordConnection opens the tenant's default password connection. ErrConnectionDisabled when it is disabled.
func (s *SignInService) passwordConnection(ctx context.Context) (*password.Connection, error) {
	rec, err := s.Store.GetConnection(ctx, storage.DefaultPasswordConnection)
	if err != nil {
		return nil, err
	}
	c, err := s.registry.Open(rec)
	if errors.Is(err, authn.ErrDisabled) {
		return nil, ErrConnectionDisabled
	} else if err != nil {
		return nil, err
	}
	pc, ok := c.(*password.Connection)
	if !ok {
		return nil, errors.New("server: the default password connection is not of the password kind")
	}
	return pc, nil
}

// connectionNameRE is Auth0's rule for connection names: letters, digits and inner hyphens, at most 128.
var connectionNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$`)

// ConnectionSpec describes a connection to create.
type ConnectionSpec struct {
	Name     string
	Strategy string // an Auth0 strategy ("auth0") or a connection type ("password")
	Settings map[string]any
	Enabled  *bool // nil: enabled
}

// ConnectionUpdate changes the fields that are not nil. Name and Strategy cannot change: they may be given only
// with their current values.
type ConnectionUpdate struct {
	Name, Strategy *string
	Enabled        *bool
	Settings       *map[string]any
}

// ListConnections returns the connections of the tenant in ctx, filtered by name and strategy when not empty.
func (s *SignInService) ListConnections(ctx context.Context, name, strategy string) ([]storage.Connection, error) {
	all, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := []storage.Connection{}
	for _, c := range all {
		if (name == "" || c.Name == name) && (strategy == "" || StrategyOfConnection(c) == strategy || c.Type == strategy) {
			out = append(out, s.public(c))
		}
	}
	return out, nil
}

// GetConnection returns a connection of the tenant in ctx by id; a NotFoundError otherwise.
func (s *SignInService) GetConnection(ctx context.Context, id string) (storage.Connection, error) {
	c, err := s.Store.GetConnection(ctx, id)
	if err == nil && c.ID != id {
		err = storage.ErrNotFound // by id only: names are for ?name=
	}
	return s.public(c), directory.NotFound(err, "connection", id)
}

// public is c as the connection service shows it: without the settings its kind registers as secret (Auth0
// never returns a connection's client_secret either). They are stored sealed and are read only by the kind.
func (s *SignInService) public(c storage.Connection) storage.Connection {
	c.Settings = s.registry.Public(c.Type, c.Settings)
	return c
}

// CreateConnection validates and stores a connection of a type that has a registered kind, and audits it.
func (s *SignInService) CreateConnection(ctx context.Context, spec ConnectionSpec) (storage.Connection, error) {
	if spec.Name == "" {
		return storage.Connection{}, directory.Invalid("name", "is required")
	}
	if !connectionNameRE.MatchString(spec.Name) {
		return storage.Connection{}, directory.Invalid("name", "must be 1 to 128 letters, digits or hyphens, starting and ending with a letter or digit")
	}
	if spec.Strategy == "" {
		return storage.Connection{}, directory.Invalid("strategy", "is required")
	}
	typ, preset := typeOfStrategy(spec.Strategy)
	if !s.registry.Has(typ) {
		return storage.Connection{}, directory.Invalid("strategy", "%q is not a supported strategy (supported: %s)", spec.Strategy, supportedStrategies(s.registry))
	}
	now := s.now().UTC()
	c := storage.Connection{ID: ids.New("con"), Name: spec.Name, Type: typ, Settings: storage.JSONMap{},
		Enabled: spec.Enabled == nil || *spec.Enabled, CreatedAt: now, UpdatedAt: now}
	for k, v := range spec.Settings {
		c.Settings[k] = v
	}
	if preset != "" {
		// An Auth0 social strategy is the oidc kind with that provider's preset.
		if p, given := c.Settings[oidc.SettingPreset]; given && p != preset {
			return storage.Connection{}, directory.Invalid("options", "preset %v does not match strategy %s", p, spec.Strategy)
		}
		c.Settings[oidc.SettingPreset] = preset
	}
	if err := s.registry.Validate(c); err != nil {
		return storage.Connection{}, directory.Invalid("options", "%s", err.Error())
	}
	c, err := s.registry.Seal(c)
	if err != nil {
		return storage.Connection{}, err
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateConnection(ctx, c); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return directory.Conflict("name", "a connection with this name already exists")
			}
			return err
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventConnectionCreated, Data: storage.JSONMap{
			"connection_id": c.ID, "name": c.Name, "strategy": StrategyOfConnection(c)}})
	})
	if err != nil {
		return storage.Connection{}, err
	}
	c.TenantID, _ = storage.TenantFromContext(ctx)
	return s.public(c), nil
}

// UpdateConnection changes a connection's enabled flag and settings, validated by its kind, and audits the
// change. Disabling the password connection refuses password sign-in (and sign-up) from the next request on.
func (s *SignInService) UpdateConnection(ctx context.Context, id string, upd ConnectionUpdate) (storage.Connection, error) {
	var changed []string
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		changed = nil
		err := s.Store.UpdateConnection(ctx, id, func(old storage.Connection) (storage.Connection, error) {
			if upd.Name != nil && *upd.Name != old.Name {
				return old, directory.Invalid("name", "cannot be changed")
			}
			if upd.Strategy != nil && *upd.Strategy != StrategyOfConnection(old) {
				return old, directory.Invalid("strategy", "cannot be changed")
			}
			if upd.Enabled != nil && *upd.Enabled != old.Enabled {
				old.Enabled = *upd.Enabled
				changed = append(changed, "enabled")
			}
			if upd.Settings != nil {
				next := storage.JSONMap{}
				for k, v := range *upd.Settings {
					next[k] = v
				}
				// A secret setting left out keeps its stored value: the Management API never shows it, so a
				// client that reads a connection and writes its options back does not erase it. An empty string
				// removes it.
				if secret := s.registry.SecretSettings(old.Type); len(secret) > 0 {
					plain, err := s.registry.Unseal(old)
					if err != nil {
						return old, err
					}
					for _, name := range secret {
						if _, given := next[name]; !given {
							if v, ok := plain.Settings[name]; ok {
								next[name] = v
							}
						}
					}
				}
				// A preset is what the connection is (its strategy): left out, it is kept; it cannot change.
				if old.Type == storage.ConnectionOIDC {
					if p, had := old.Settings[oidc.SettingPreset]; had {
						if _, given := next[oidc.SettingPreset]; !given {
							next[oidc.SettingPreset] = p
						}
					}
					if oidc.StrategyOf(next) != oidc.StrategyOf(old.Settings) {
						return old, directory.Invalid("options", "preset cannot be changed")
					}
				}
				old.Settings = next
				changed = append(changed, "options")
				if err := s.registry.Validate(old); err != nil && !errors.Is(err, authn.ErrUnknownType) {
					return old, directory.Invalid("options", "%s", err.Error())
				}
				sealed, err := s.registry.Seal(old)
				if err != nil {
					return old, err
				}
				old = sealed
			}
			return old, nil
		})
		if err != nil {
			return directory.NotFound(err, "connection", id)
		}
		if len(changed) == 0 {
			return nil
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventConnectionUpdated, Data: storage.JSONMap{"connection_id": id, "changed": changed}})
	})
	if err != nil {
		return storage.Connection{}, err
	}
	c, err := s.Store.GetConnection(ctx, id)
	return s.public(c), err
}

// DeleteConnection removes a connection of the tenant in ctx, by id, with the credentials and linked identities
// made through it, and audits it. The tenant's default password connection cannot be deleted (a
// *directory.ValidationError naming id): the users' passwords are its credentials; disable it instead. A
// *directory.NotFoundError for an id the tenant does not have.
func (s *SignInService) DeleteConnection(ctx context.Context, id string) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.GetConnection(ctx, id)
		if err == nil && c.ID != id {
			err = storage.ErrNotFound // by id only, as GetConnection
		}
		if err != nil {
			return directory.NotFound(err, "connection", id)
		}
		if c.Name == storage.DefaultPasswordConnection {
			return directory.Invalid("id", "%s is the tenant's default password connection, which holds its users' passwords: "+
				"it cannot be deleted (disable it instead: PATCH {\"enabled\": false})", c.Name)
		}
		if err := s.Store.DeleteConnection(ctx, c.ID); err != nil {
			return directory.NotFound(err, "connection", id)
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventConnectionDeleted, Data: storage.JSONMap{
			"connection_id": c.ID, "name": c.Name, "strategy": StrategyOf(c.Type)}})
	})
}

func supportedStrategies(reg *authn.Registry) string {
	out := ""
	for i, t := range reg.Types() {
		if i > 0 {
			out += ", "
		}
		out += StrategyOf(t)
	}
	return out
}
