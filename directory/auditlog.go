package directory

import (
	"context"
	"errors"
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

// filter is the storage filter of q's type, user, organization and time window.
func (q LogQuery) filter() (storage.AuditFilter, error) {
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return storage.AuditFilter{}, invalid("until", "must be after since")
	}
	return storage.AuditFilter{Type: q.Type, UserID: q.UserID, OrganizationID: q.OrganizationID, Since: q.Since, Until: q.Until}, nil
}

// take is q.Take checked, DefaultLogTake for 0.
func (q LogQuery) take() (int, error) {
	if q.Take == 0 {
		return DefaultLogTake, nil
	}
	if q.Take < 1 || q.Take > MaxLogTake {
		return 0, invalid("take", "must be between 1 and %d", MaxLogTake)
	}
	return q.Take, nil
}

// AuditLogPage returns an offset page p of the audit events q selects (its From and Take aside), newest first, and
// how many events q selects in all: Auth0's page, per_page and include_totals.
func (s *Directory) AuditLogPage(ctx context.Context, q LogQuery, p storage.Page) ([]storage.AuditEvent, int64, error) {
	f, err := q.filter()
	if err != nil {
		return nil, 0, err
	}
	n, err := s.Store.CountAudit(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	f.Offset, f.Limit = p.Offset, p.Limit
	events, err := s.Store.ListAudit(ctx, f)
	return events, n, err
}

// AuditLogAfter returns the audit events q selects that came after the event with id q.From ("" for the oldest),
// oldest first, at most q.Take (DefaultLogTake for 0, at most MaxLogTake): Auth0's checkpoint, from which a log
// export reads forward; the next checkpoint is the last event's id. A From that is no event of the tenant is a
// ValidationError of field "from".
func (s *Directory) AuditLogAfter(ctx context.Context, q LogQuery) ([]storage.AuditEvent, error) {
	f, err := q.filter()
	if err != nil {
		return nil, err
	}
	if f.Limit, err = q.take(); err != nil {
		return nil, err
	}
	f.Ascending = true
	if q.From != "" {
		e, err := s.Store.GetAuditEvent(ctx, q.From)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, invalid("from", "is not the id of a log event of this tenant")
		} else if err != nil {
			return nil, err
		}
		f.After = e.Seq
	}
	return s.Store.ListAudit(ctx, f)
}

// AuditEvent finds one event of the tenant's audit log by its id.
func (s *Directory) AuditEvent(ctx context.Context, id string) (storage.AuditEvent, error) {
	e, err := s.Store.GetAuditEvent(ctx, id)
	return e, notFound(err, "log", id)
}

// AuditLog returns one page of the tenant's audit log, newest first, and the cursor of the next page ("" when
// this page is the last); q.From is such a cursor.
func (s *Directory) AuditLog(ctx context.Context, q LogQuery) ([]storage.AuditEvent, string, error) {
	take, err := q.take()
	if err != nil {
		return nil, "", err
	}
	f, err := q.filter()
	if err != nil {
		return nil, "", err
	}
	f.Limit = take + 1
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
