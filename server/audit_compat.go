package server

import (
	"context"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/storage"
)

// Audit appends e to the audit log of the tenant in ctx (audit.Recorder.Record).
func (s *Server) Audit(ctx context.Context, e storage.AuditEvent) error {
	return (&audit.Recorder{Store: s.Store, Now: s.Now, NewID: NewID}).Record(ctx, e)
}

// Forwarders to the audit package while call sites move over (issue 8's package split).
const (
	EventMembershipCreated = audit.EventMembershipCreated
	EventMembershipUpdated = audit.EventMembershipUpdated
	EventMembershipDeleted = audit.EventMembershipDeleted
	EventRoleAssigned      = audit.EventRoleAssigned
	EventRoleRemoved       = audit.EventRoleRemoved
	EventOrgSwitched       = audit.EventOrgSwitched
	EventSignInSucceeded   = audit.EventSignInSucceeded
	EventSignInFailed      = audit.EventSignInFailed
	EventSessionEnded      = audit.EventSessionEnded
	EventAPIKeyUsed        = audit.EventAPIKeyUsed
)

type Actor = audit.Actor

var (
	WithActor           = audit.WithActor
	ActorFromContext    = audit.ActorFromContext
	WithClientIP        = audit.WithClientIP
	ClientIPFromContext = audit.ClientIPFromContext
)
