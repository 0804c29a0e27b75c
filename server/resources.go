package server

import (
	"context"
	"errors"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// ResourceServer returns the resource server an audience names in the tenant of ctx, including the built-in
// Management API; found is false for an audience that is no resource server (a client id, say).
func (s *Server) ResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error) {
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
