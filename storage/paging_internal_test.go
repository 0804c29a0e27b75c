package storage

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// TestDecodeCursorRefusesUnstorable: a cursor is decoded from base64 after request input was checked, so its id
// is checked here: one holding a NUL byte or bytes that are not UTF-8 is ErrBadCursor (a 400), never a value
// handed to SQL (where Postgres fails with a 500).
func TestDecodeCursorRefusesUnstorable(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, from string
		ok         bool
	}{
		{"made by encode", cursor{at: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), id: "org_a"}.encode(), true},
		{"NUL in the id", enc("2024-01-01T00:00:00Z|org_\x00x"), false},
		{"id not UTF-8", enc("2024-01-01T00:00:00Z|org_\xff\xfe"), false},
		{"time not UTF-8", enc("2024-01-01T00:00:00\xffZ|org_a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeCursor(tc.from)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadCursor)) {
				t.Errorf("decodeCursor: %v, want ok=%v or ErrBadCursor", err, tc.ok)
			}
		})
	}
}
