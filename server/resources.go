package server

import (
	"context"
	"errors"
	"strings"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// ResourceServer returns the resource server an audience names in the tenant of ctx, including the built-in
// Management API; found is false for an audience that is no resource server (a client id, say). Stored ones are
// read through the cache (memo.ResourceServer).
func (s *Server) ResourceServer(ctx context.Context, audience string) (rs storage.ResourceServer, found bool, err error) {
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
