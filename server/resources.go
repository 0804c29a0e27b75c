package server

import (
	"context"
	"errors"
	"strings"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/oauth"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// ResourceServer returns the resource server an audience names in the tenant of ctx, including the built-in
// Management API; found is false for an audience that is no resource server (a client id, say). Stored ones are
// read through the cache (memo.ResourceServer).
func (s *Server) ResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error) {
	if audience, err = s.CanonicalAudience(ctx, audience); errors.Is(err, oauth.ErrForeignAudience) {
		return rs, false, nil
	} else if err != nil {
		return rs, false, err
	}
	tid, _ := storage.TenantFromContext(ctx)
	if audience == directory.ManagementAudience || audience == "api_management" {
		return directory.ManagementResourceServer(tid), true, nil
	}
	type lookup struct {
		rs    storage.ResourceServer
		found bool
	}
	l, err := memo.Get(ctx, s.Memo, memo.ResourceServer, tid, audience, func(ctx context.Context) (lookup, int, error) {
		rs, err := s.Store.GetResourceServer(ctx, audience)
		if errors.Is(err, storage.ErrNotFound) {
			return lookup{}, 0, nil
		}
		l := lookup{rs: rs, found: err == nil}
		return l, memo.SizeOf(l), err
	})
	return l.rs, l.found, err
}

// clientGrants returns a machine client's roles and permissions on audiences, read through the cache
// (memo.ClientGrants). User grants are not cached: a membership change must count on the very next sign-in,
// refresh or switch.
func (s *Server) clientGrants(ctx context.Context, clientID string, audiences []string) (storage.Grants, error) {
	tid, _ := storage.TenantFromContext(ctx)
	key := clientID + "\x00" + strings.Join(audiences, "\x00")
	return memo.Get(ctx, s.Memo, memo.ClientGrants, tid, key, func(ctx context.Context) (storage.Grants, int, error) {
		g, err := s.Store.GrantsFor(ctx, storage.SubjectClient, clientID, audiences)
		return g, memo.SizeOf(g), err
	})
}

// CanonicalAudience returns the name roles, permissions and resource servers know audience aud by: the Management
// API's identifier (directory.ManagementAudience) for its URL on one of the tenant's own domains in Auth0's form,
// https://{domain}/api/v2/ (directory.ManagementURLHost), and aud itself for anything else, an API URL on a host
// no tenant answers on included. The Management API URL of a domain of another tenant, or one whose host is not
// spelled cleanly (directory.MalformedManagementURL), is oauth.ErrForeignAudience.
func (s *Server) CanonicalAudience(ctx context.Context, aud string) (string, error) {
	domain, ok := directory.ManagementURLHost(aud, s.Config.PublicScheme)
	if !ok {
		if directory.MalformedManagementURL(aud) {
			// It may spell another tenant's domain in a way not read here: never grant it.
			return "", oauth.ErrForeignAudience
		}
		return aud, nil
	}
	tid, err := tenancy.TenantID(ctx)
	if err != nil {
		return "", err
	}
	if sc, ok := tenancy.From(ctx); ok {
		if name, _, _ := strings.Cut(sc.Host, ":"); name == domain {
			return directory.ManagementAudience, nil // the domain this request came in on
		}
	}
	t, err := s.Tenants.Resolve(ctx, domain)
	switch {
	case errors.Is(err, ErrUnknownHost):
		return aud, nil
	case err != nil:
		return "", err
	case t.ID != tid:
		return "", oauth.ErrForeignAudience
	}
	return directory.ManagementAudience, nil
}

// IsManagementAudience reports whether aud names the Management API of the tenant in ctx: its identifier, or its
// URL on one of the tenant's domains. Another tenant's URL is no error here, just not this tenant's API.
func (s *Server) IsManagementAudience(ctx context.Context, aud string) (bool, error) {
	c, err := s.CanonicalAudience(ctx, aud)
	if errors.Is(err, oauth.ErrForeignAudience) {
		return false, nil
	}
	return c == directory.ManagementAudience, err
}
