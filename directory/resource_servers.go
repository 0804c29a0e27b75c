package directory

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// ResourceServerSpec describes a resource server (an API) to create.
type ResourceServerSpec struct {
	Identifier           string // the audience: an absolute URI or a urn-like name, never changed afterwards
	Name                 string
	Scopes               []storage.Scope
	TokenLifetime        int // seconds; 0 means DefaultResourceTokenLifetime
	RefreshTokenLifetime int // seconds; 0 means DefaultResourceRefreshLifetime
	Metadata             map[string]any
}

// ResourceServerUpdate changes the fields that are not nil. The identifier never changes: it may be given only
// with its current value.
type ResourceServerUpdate struct {
	Identifier                          *string
	Name                                *string
	Scopes                              *[]storage.Scope
	TokenLifetime, RefreshTokenLifetime *int
	Metadata                            *map[string]any
}

// maxRefreshLifetime bounds refresh token lifetimes of resource servers (a year).
const maxRefreshLifetime = 365 * 24 * 3600

func isManagementAPI(ref string) bool {
	return ref == ManagementAudience || ref == ManagementResourceServer("").ID
}

func checkIdentifier(id string) error {
	if id == "" {
		return invalid("identifier", "is required")
	}
	if len(id) > 255 || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalid("identifier", "must be at most 255 characters without spaces")
	}
	// https://api.example.com/ or urn:example:api: a scheme and something after it.
	u, err := url.Parse(id)
	if err != nil || !u.IsAbs() || (u.Host == "" && u.Opaque == "" && strings.Trim(u.Path, "/") == "") {
		return invalid("identifier", "must be an absolute URI such as https://api.example.com or a URN such as urn:example:api")
	}
	return nil
}

func checkScopes(scopes []storage.Scope) ([]storage.Scope, error) {
	if len(scopes) > 500 {
		return nil, invalid("scopes", "at most 500")
	}
	out := make([]storage.Scope, 0, len(scopes))
	seen := map[string]bool{}
	for _, sc := range scopes {
		if sc.Value == "" || len(sc.Value) > 280 || strings.ContainsAny(sc.Value, " \t\r\n\"\\") {
			return nil, invalid("scopes", "%q is not a valid scope value", sc.Value)
		}
		if seen[sc.Value] {
			return nil, invalid("scopes", "%q appears twice", sc.Value)
		}
		seen[sc.Value] = true
		d, err := checkText("scopes", sc.Description, false, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, storage.Scope{Value: sc.Value, Description: d})
	}
	return out, nil
}

func checkLifetime(field string, v, def, max int) (int, error) {
	if v == 0 {
		return def, nil
	}
	if v < 0 || v > max {
		return 0, invalid(field, "must be between 1 and %d seconds", max)
	}
	return v, nil
}

// checkRSMetadata checks the metadata keys Authio itself reads.
func checkRSMetadata(m map[string]any) error {
	for _, k := range []string{"internal", "sync"} {
		if v, ok := m[k]; ok {
			if _, isBool := v.(bool); !isBool {
				return invalid("metadata", "%s must be true or false", k)
			}
		}
	}
	return nil
}

// CreateResourceServer validates spec and stores a resource server in the tenant of ctx.
func (s *Directory) CreateResourceServer(ctx context.Context, spec ResourceServerSpec) (storage.ResourceServer, error) {
	var rs storage.ResourceServer
	if err := checkIdentifier(spec.Identifier); err != nil {
		return rs, err
	}
	if isManagementAPI(spec.Identifier) {
		return rs, conflict("identifier", "%s is the built-in Management API, which every tenant has", spec.Identifier)
	}
	name, err := checkText("name", spec.Name, true, 200)
	if err != nil {
		return rs, err
	}
	scopes, err := checkScopes(spec.Scopes)
	if err != nil {
		return rs, err
	}
	at, err := checkLifetime("token_lifetime", spec.TokenLifetime, DefaultResourceTokenLifetime, MaxResourceTokenLifetime)
	if err != nil {
		return rs, err
	}
	rt, err := checkLifetime("refresh_token_lifetime", spec.RefreshTokenLifetime, DefaultResourceRefreshLifetime, maxRefreshLifetime)
	if err != nil {
		return rs, err
	}
	if err := checkRSMetadata(spec.Metadata); err != nil {
		return rs, err
	}
	now := s.Now().UTC()
	rs = storage.ResourceServer{ID: ids.New("api"), Identifier: spec.Identifier, Name: name, Scopes: scopes,
		TokenLifetime: at, RefreshLifetime: rt, Metadata: jsonMap(spec.Metadata), CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateResourceServer(ctx, rs); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.ResourceServer{}, conflict("identifier", "a resource server with identifier %q already exists", spec.Identifier)
		}
		return storage.ResourceServer{}, err
	}
	rs.TenantID, _ = storage.TenantFromContext(ctx)
	return rs, nil
}

// ResourceServerByRef finds a resource server by id or identifier, the built-in Management API included.
func (s *Directory) ResourceServerByRef(ctx context.Context, ref string) (storage.ResourceServer, error) {
	rs, found, err := s.resourceServer(ctx, ref)
	if err == nil && !found {
		err = &NotFoundError{Resource: "resource_server", ID: ref}
	}
	return rs, err
}

// ListResourceServers returns a page of the tenant's resource servers, the built-in Management API first, and
// their total count.
func (s *Directory) ListResourceServers(ctx context.Context, p storage.Page) ([]storage.ResourceServer, int64, error) {
	var out []storage.ResourceServer
	sp := p
	if p.Offset == 0 {
		tid, _ := storage.TenantFromContext(ctx)
		out = append(out, ManagementResourceServer(tid))
		if p.Limit > 0 {
			sp.Limit--
		}
	} else {
		sp.Offset--
	}
	if p.Limit > 0 && sp.Limit == 0 {
		// Only the built-in one fits on this page; still count the rest.
		_, n, err := s.Store.ListResourceServers(ctx, storage.Page{Limit: 1})
		return out, n + 1, err
	}
	rest, n, err := s.Store.ListResourceServers(ctx, sp)
	if err != nil {
		return nil, 0, err
	}
	return append(out, rest...), n + 1, nil
}

// UpdateResourceServer changes a resource server found by id or identifier. Role permissions on scopes it no
// longer defines are removed with them.
func (s *Directory) UpdateResourceServer(ctx context.Context, ref string, upd ResourceServerUpdate) (storage.ResourceServer, error) {
	rs, err := s.ResourceServerByRef(ctx, ref)
	if err != nil {
		return rs, err
	}
	if isManagementAPI(rs.Identifier) {
		return rs, invalid("identifier", "the built-in Management API cannot be changed")
	}
	if upd.Identifier != nil && *upd.Identifier != rs.Identifier {
		return rs, invalid("identifier", "cannot be changed: it is the audience of issued tokens")
	}
	if upd.Name != nil {
		n, err := checkText("name", *upd.Name, true, 200)
		if err != nil {
			return rs, err
		}
		upd.Name = &n
	}
	if upd.Scopes != nil {
		sc, err := checkScopes(*upd.Scopes)
		if err != nil {
			return rs, err
		}
		upd.Scopes = &sc
	}
	if upd.TokenLifetime != nil {
		v, err := checkLifetime("token_lifetime", *upd.TokenLifetime, DefaultResourceTokenLifetime, MaxResourceTokenLifetime)
		if err != nil {
			return rs, err
		}
		upd.TokenLifetime = &v
	}
	if upd.RefreshTokenLifetime != nil {
		v, err := checkLifetime("refresh_token_lifetime", *upd.RefreshTokenLifetime, DefaultResourceRefreshLifetime, maxRefreshLifetime)
		if err != nil {
			return rs, err
		}
		upd.RefreshTokenLifetime = &v
	}
	if upd.Metadata != nil {
		if err := checkRSMetadata(*upd.Metadata); err != nil {
			return rs, err
		}
	}
	err = s.Store.UpdateResourceServer(ctx, rs.ID, func(old storage.ResourceServer) (storage.ResourceServer, error) {
		if upd.Name != nil {
			old.Name = *upd.Name
		}
		if upd.Scopes != nil {
			old.Scopes = *upd.Scopes
		}
		if upd.TokenLifetime != nil {
			old.TokenLifetime = *upd.TokenLifetime
		}
		if upd.RefreshTokenLifetime != nil {
			old.RefreshLifetime = *upd.RefreshTokenLifetime
		}
		if upd.Metadata != nil {
			old.Metadata = jsonMap(*upd.Metadata)
		}
		return old, nil
	})
	if err != nil {
		return rs, notFound(err, "resource_server", ref)
	}
	return s.ResourceServerByRef(ctx, rs.ID)
}

// DeleteResourceServer removes a resource server, found by id or identifier, and every role permission on it.
func (s *Directory) DeleteResourceServer(ctx context.Context, ref string) error {
	rs, err := s.ResourceServerByRef(ctx, ref)
	if err != nil {
		return err
	}
	if isManagementAPI(rs.Identifier) {
		return invalid("identifier", "the built-in Management API cannot be deleted")
	}
	if err := s.Store.DeleteResourceServer(ctx, rs.ID); err != nil {
		return notFound(err, "resource_server", ref)
	}
	return nil
}
