package directory

import (
	"context"
	"strconv"
	"time"

	"github.com/authio/authio/storage"
)

// Audit log pages: DefaultLogTake events unless asked otherwise, never more than MaxLogTake.
const (
	DefaultLogTake = 50
	MaxLogTake     = 100
)

// LogQuery selects audit events; zero fields do not filter.
type LogQuery struct {
	Type, UserID, OrganizationID string
	Since, Until                 time.Time
	From                         string // cursor from a previous page's next
	Take                         int    // 0 means DefaultLogTake
}

// AuditLog returns one page of the tenant's audit log, newest first, and the cursor of the next page ("" when
// this page is the last).
func (s *Directory) AuditLog(ctx context.Context, q LogQuery) ([]storage.AuditEvent, string, error) {
	take := q.Take
	if take == 0 {
		take = DefaultLogTake
	}
	if take < 1 || take > MaxLogTake {
		return nil, "", invalid("take", "must be between 1 and %d", MaxLogTake)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, "", invalid("until", "must be after since")
	}
	f := storage.AuditFilter{Type: q.Type, UserID: q.UserID, OrganizationID: q.OrganizationID, Since: q.Since, Until: q.Until,
		Limit: take + 1}
	if q.From != "" {
		seq, err := strconv.ParseInt(q.From, 10, 64)
		if err != nil || seq <= 0 {
			return nil, "", invalid("from", "is not a cursor from a previous page")
		}
		f.Before = seq
	}
	events, err := s.Store.ListAudit(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(events) > take {
		events = events[:take]
		next = strconv.FormatInt(events[take-1].Seq, 10)
	}
	return events, next, nil
}
