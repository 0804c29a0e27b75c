package server

import (
	"context"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
)

// Audit appends e to the audit log of the tenant in ctx (audit.Recorder.Record).
func (s *Server) Audit(ctx context.Context, e storage.AuditEvent) error {
	return (&audit.Recorder{Store: s.Store, Now: s.Now, NewID: ids.New}).Record(ctx, e)
}
