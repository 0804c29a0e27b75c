package storage

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Checkpoint asks for one checkpoint page of a list (keyset pagination): the items after the cursor From, in the
// list's order, at most Take of them. From is "" for the first page, else the Next of the page before: an opaque
// cursor naming the position of that page's last item (its time and id), so items added or removed meanwhile
// neither repeat nor shift the items still to come.
type Checkpoint struct {
	From string
	Take int
}

// ErrBadCursor is returned for a Checkpoint.From that no page of the list produced.
var ErrBadCursor = errors.New("storage: not a cursor of this list")

// cursor is a position in a list ordered by (a time column, id).
type cursor struct {
	at time.Time
	id string
}

// encode makes the opaque form of c: base64url of the time (RFC 3339, nanoseconds, UTC), "|", the id.
func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.at.UTC().Format(time.RFC3339Nano) + "|" + c.id))
}

// decodeCursor reads a cursor made by encode; ErrBadCursor for anything else.
func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	// The decoded bytes were never checked as request input: an id Postgres cannot compare (a NUL byte, bytes
	// that are not UTF-8) is no cursor of any list, not a database error.
	if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
		return cursor{}, ErrBadCursor
	}
	at, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" || len(id) > 64 {
		return cursor{}, ErrBadCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	return cursor{at: t.UTC(), id: id}, nil
}

// checkpointPage runs q, a query (with its model or table set) of rows ordered by (timeCol, idCol), for the page c asks for: the rows after
// c.From, at most c.Take (default 50). key returns a row's time and id. It returns the rows and the Next cursor,
// "" when no row follows.
func checkpointPage[T any](q *gorm.DB, timeCol, idCol string, c Checkpoint, key func(T) (time.Time, string)) ([]T, string, error) {
	take := c.Take
	if take <= 0 {
		take = 50
	}
	if c.From != "" {
		cur, err := decodeCursor(c.From)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("("+timeCol+" > ? OR ("+timeCol+" = ? AND "+idCol+" > ?))", cur.at, cur.at, cur.id)
	}
	var rows []T
	if err := q.Order(timeCol + ", " + idCol).Limit(take + 1).Scan(&rows).Error; err != nil {
		return nil, "", mapErr(err)
	}
	next := ""
	if len(rows) > take {
		rows = rows[:take]
		at, id := key(rows[take-1])
		next = cursor{at: at, id: id}.encode()
	}
	return rows, next, nil
}

// CheckpointOf returns the page c asks for of items, a whole list already ordered by (time, id) as key gives
// them, in memory: for lists short enough to read whole (a tenant's connections). Its cursors are those of the
// queries: ErrBadCursor for any other.
func CheckpointOf[T any](items []T, c Checkpoint, key func(T) (time.Time, string)) ([]T, string, error) {
	take := c.Take
	if take <= 0 {
		take = 50
	}
	start := 0
	if c.From != "" {
		cur, err := decodeCursor(c.From)
		if err != nil {
			return nil, "", err
		}
		for start < len(items) {
			at, id := key(items[start])
			if at = at.UTC(); at.After(cur.at) || (at.Equal(cur.at) && id > cur.id) {
				break
			}
			start++
		}
	}
	page := items[start:]
	if len(page) <= take {
		return page, "", nil
	}
	page = page[:take]
	at, id := key(page[take-1])
	return page, cursor{at: at, id: id}.encode(), nil
}
