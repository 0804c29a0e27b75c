package management

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/authio/authio/directory"
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

// listLogs serves the audit log, newest first, a page at a time: {"logs": [...], "next": cursor or null}; the
// next page is ?from=<cursor> with the same filters.
func (h *Handler) listLogs(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := directory.LogQuery{Type: v.Get("type"), UserID: v.Get("user_id"), OrganizationID: v.Get("organization_id"), From: v.Get("from")}
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
	if s := v.Get("take"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return queryError("take", "must be between 1 and %d", directory.MaxLogTake)
		}
		q.Take = n
	}
	events, next, err := h.S.AuditLog(r.Context(), q)
	var ve *directory.ValidationError
	if errors.As(err, &ve) {
		return queryError(ve.Field, "%s", ve.Message)
	} else if err != nil {
		return err
	}
	return ok(w, map[string]any{"logs": mapSlice(events, viewLog), "next": optional(next)})
}
