package server

import (
	"context"
	"errors"
	"strings"

	"github.com/authio/authio/oauth"
	"github.com/authio/authio/tenancy"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// ResourceServer returns the resource server an audience names in the tenant of ctx, including the built-in
// Management API; found is false for an audience that is no resource server (a client id, say).
func (s *Server) ResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error) {
	if audience, err = s.CanonicalAudience(ctx, audience); errors.Is(err, oauth.ErrForeignAudience) {
		return rs, false, nil
	} else if err != nil {
		return rs, false, err
	}
	if audience == directory.ManagementAudience || audience == "api_management" {
		tid, _ := storage.TenantFromContext(ctx)
		return directory.ManagementResourceServer(tid), true, nil
	}
	return s.cachedResourceServer(ctx, audience)
}

// lookupResourceServer reads a resource server from storage; found is false when there is none.
func (s *Server) lookupResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error) {
	rs, err = s.Store.GetResourceServer(ctx, audience)
	if errors.Is(err, storage.ErrNotFound) {
		return rs, false, nil
	}
	return rs, err == nil, err
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
