// Package audit is the tenant's audit trail: the event types Authio records, who acted (Actor) and from
// where (the client IP), carried in the request context, and the Recorder that stamps and appends events to the
// audit log of the tenant in scope. Events written with a transaction's context commit with the change they
// record.
package audit

import (
	"context"
	"time"

	"github.com/authio/authio/storage"
)

// Audit event types. Each names what happened to what; Data carries the details (source of a role, the
// organizations of a switch).
const (
	EventMembershipCreated = "organization_membership.created"
	EventMembershipUpdated = "organization_membership.updated"
	EventMembershipDeleted = "organization_membership.deleted"
	EventRoleAssigned      = "role.assigned"
	EventRoleRemoved       = "role.removed"
	EventOrgSwitched       = "session.org_switched"
	EventSignInSucceeded   = "signin.succeeded"
	EventSignInFailed      = "signin.failed"
	EventSessionEnded      = "session.ended"
	EventAPIKeyUsed        = "api_key.used"
)

// Actor is who performs a change: a user, a client, an API key, or the operator's CLI.
type Actor struct {
	Kind string // "user", "client", "api_key", "cli"
	ID   string
}

// String renders the actor as the audit log stores it, e.g. "api_key:apk_…".
func (a Actor) String() string {
	if a.Kind == "" {
		return ""
	}
	if a.ID == "" {
		return a.Kind
	}
	return a.Kind + ":" + a.ID
}

type actorKey struct{}

// WithActor records who is acting for the audit events written with ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor set by WithActor (zero when none).
func ActorFromContext(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

type clientIPKey struct{}

// WithClientIP records the request's client address for audit events.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIPFromContext returns the address set by WithClientIP, or "".
func ClientIPFromContext(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// Recorder appends events to the audit log of the tenant in scope.
type Recorder struct {
	Store storage.Audit
	// Now is the clock events are stamped with.
	Now func() time.Time
	// NewID makes event ids from a prefix ("evt" → "evt_…").
	NewID func(prefix string) string
}

// Record appends e to the log of the tenant in ctx's scope, filling its id, time, actor and IP from ctx where e
// leaves them empty. Called with a transaction's ctx (Store.InTx), the event commits with the change it
// records. storage.ErrNoTenant without a scope.
func (a *Recorder) Record(ctx context.Context, e storage.AuditEvent) error {
	e.ID = a.NewID("evt")
	if e.CreatedAt.IsZero() {
		e.CreatedAt = a.Now().UTC()
	}
	if e.Actor == "" {
		e.Actor = ActorFromContext(ctx).String()
	}
	if e.IP == "" {
		e.IP = ClientIPFromContext(ctx)
	}
	return a.Store.AppendAudit(ctx, e)
}
