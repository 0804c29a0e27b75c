package management

import (
	"net/http"
	"net/url"
	"time"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
)

type logView struct {
	LogID          string         `json:"log_id"`
	Date           time.Time      `json:"date"`
	Type           string         `json:"type"`
	Actor          string         `json:"actor,omitempty"`
	UserID         string         `json:"user_id,omitempty"`
	OrganizationID string         `json:"organization_id,omitempty"`
	ClientID       string         `json:"client_id,omitempty"`
	IP             string         `json:"ip,omitempty"`
	Data           map[string]any `json:"data"`
}

func viewLog(e storage.AuditEvent) logView {
	return logView{LogID: e.ID, Date: e.CreatedAt, Type: e.Type, Actor: e.Actor, UserID: e.UserID, OrganizationID: e.OrganizationID,
		ClientID: e.ClientID, IP: e.IP, Data: orEmpty(e.Data)}
}

// listLogs serves GET /logs, filtered by type, user_id, organization_id, since and until, in Auth0's two ways:
//   - an offset page (page, per_page, include_totals), newest first: a bare array, or the totals object
//     {"logs": [...], "start", "limit", "length", "total"};
//   - with from or take, a checkpoint: the events after the event from ("" or absent: from the oldest), oldest
//     first, at most take, as a bare array with a Link header whose rel="next" URL continues after the last one
//     (after an empty page, the same URL again: new events may come).
func (h *Handler) listLogs(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := directory.LogQuery{Type: v.Get("type"), UserID: v.Get("user_id"), OrganizationID: v.Get("organization_id")}
	for _, t := range []struct {
		param string
		dst   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(t.param); s != "" {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return queryError(t.param, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			*t.dst = tm
		}
	}
	c, err := parseCheckpoint(v)
	if err != nil {
		return err
	}
	if c.on {
		q.From, q.Take = c.from, c.take
		events, err := h.S.AuditLogAfter(r.Context(), q)
		if err != nil {
			return asQueryError(err)
		}
		next := v
		if len(events) > 0 {
			next = url.Values{}
			for k, vs := range v {
				next[k] = vs
			}
			next.Set("from", events[len(events)-1].ID)
		}
		if t := server.TenantFromContext(r.Context()); t != nil {
			w.Header().Set("Link", "<"+t.URL("/api/v2/logs?"+next.Encode())+`>; rel="next"`)
		}
		return ok(w, mapSlice(events, viewLog))
	}
	p, err := parsePaging(v)
	if err != nil {
		return err
	}
	events, total, err := h.S.AuditLogPage(r.Context(), q, p.store())
	if err != nil {
		return asQueryError(err)
	}
	writeList(w, p, "logs", mapSlice(events, viewLog), total)
	return nil
}

// getLog serves GET /logs/{id}: one event of the audit log.
func (h *Handler) getLog(w http.ResponseWriter, r *http.Request) error {
	e, err := h.S.AuditEvent(r.Context(), pathVar(r, "id"))
	if err != nil {
		return err
	}
	return ok(w, viewLog(e))
}
