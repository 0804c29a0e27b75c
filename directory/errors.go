package directory

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/authio/authio/storage"
)

// The management services (organizations, members, roles, resource servers, users, clients, API keys) are what
// the Management API and the CLI call. Each validates its input, resolves ids within the tenant of ctx (never
// one taken from the input), and writes its audit events in the transaction of the change.

// NotFoundError says which resource an id or name did not find. It matches storage.ErrNotFound.
type NotFoundError struct {
	Resource string // "organization", "user", "role", "member", "resource_server", "client", "api_key"
	ID       string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s %q", strings.ReplaceAll(e.Resource, "_", " "), e.ID)
}

// Unwrap lets errors.Is(err, storage.ErrNotFound) see through.
func (e *NotFoundError) Unwrap() error { return storage.ErrNotFound }

// ConflictError is a change refused because it collides with what exists (a taken name, say). It matches
// storage.ErrAlreadyExists.
type ConflictError struct {
	Field, Message string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// Unwrap lets errors.Is(err, storage.ErrAlreadyExists) see through.
func (e *ConflictError) Unwrap() error { return storage.ErrAlreadyExists }

func conflict(field, format string, args ...any) error {
	return &ConflictError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// notFound turns storage.ErrNotFound into a NotFoundError naming the resource; other errors pass unchanged.
func notFound(err error, resource, id string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return &NotFoundError{Resource: resource, ID: id}
	}
	return err
}

// Audit event types of management changes (membership and role events are in audit.go).
const (
	EventOrganizationCreated = "organization.created"
	EventOrganizationUpdated = "organization.updated"
	EventOrganizationDeleted = "organization.deleted"
	// A machine client allowed into, or removed from, an organization.
	EventOrganizationClientAdded   = "organization_client.created"
	EventOrganizationClientRemoved = "organization_client.deleted"
	EventAPIKeyCreated             = "api_key.created"
	EventClientSecretRotated       = "client.secret_rotated"
	EventUserCreated               = "user.created"
	EventUserUpdated               = "user.updated"
	EventUserDeleted               = "user.deleted"
)

// checkText trims a free-text field and checks its length and that it holds no control characters.
func checkText(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", invalid(field, "is required")
		}
		return "", nil
	}
	if len(v) > max {
		return "", invalid(field, "must be at most %d characters", max)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", invalid(field, "must not contain control characters")
	}
	return v, nil
}

// MaxCheckpointTake is the most items a checkpoint page (Auth0's take) may ask for; DefaultCheckpointTake is
// what one that names no number gets.
const (
	MaxCheckpointTake     = 100
	DefaultCheckpointTake = 50
)

// checkpoint checks a checkpoint page's take (0 for the default) and makes the storage request.
func checkpoint(from string, take int) (storage.Checkpoint, error) {
	if take == 0 {
		take = DefaultCheckpointTake
	}
	if take < 1 || take > MaxCheckpointTake {
		return storage.Checkpoint{}, invalid("take", "must be between 1 and %d", MaxCheckpointTake)
	}
	return storage.Checkpoint{From: from, Take: take}, nil
}

// checkpointError turns a cursor no page produced into a ValidationError of field "from".
func checkpointError(err error) error {
	if errors.Is(err, storage.ErrBadCursor) {
		return invalid("from", "is not a next value from a previous page of this list")
	}
	return err
}

// PageFrom returns a checkpoint page of items, a whole list in (time, id) order as key gives it (storage.CheckpointOf),
// with the rules of ListOrganizationsFrom.
func PageFrom[T any](items []T, from string, take int, key func(T) (time.Time, string)) ([]T, string, error) {
	c, err := checkpoint(from, take)
	if err != nil {
		return nil, "", err
	}
	page, next, err := storage.CheckpointOf(items, c, key)
	return page, next, checkpointError(err)
}

// Paginate returns the page p of items (all of them for a zero Limit); for lists storage returns whole.
func Paginate[T any](items []T, p storage.Page) []T {
	if p.Offset >= len(items) {
		return []T{}
	}
	items = items[p.Offset:]
	if p.Limit > 0 && p.Limit < len(items) {
		items = items[:p.Limit]
	}
	return items
}

// dedupe returns ids without repeats or empty entries, in their first order.
func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// Invalid returns a *ValidationError for field, its message formatted from format and args.
func Invalid(field, format string, args ...any) error { return invalid(field, format, args...) }

// Conflict returns a *ConflictError for field, its message formatted from format and args.
func Conflict(field, format string, args ...any) error { return conflict(field, format, args...) }

// NotFound turns storage.ErrNotFound into a *NotFoundError naming resource and id; other errors pass through.
func NotFound(err error, resource, id string) error { return notFound(err, resource, id) }
