package storage

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxUserAgent is the longest User-Agent a session keeps (LoginSession.UserAgent); longer headers are cut.
const MaxUserAgent = 512

// SessionTouchInterval is how often, at most, TouchSession writes a session's last use.
const SessionTouchInterval = time.Minute

// ListUserSessions returns the user's unexpired browser sessions at now, newest first.
func (s *Store) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]LoginSession, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var out []LoginSession
	err = db.Where("user_id = ? AND expires_at > ?", userID, now.UTC()).Order("created_at DESC, id DESC").Find(&out).Error
	return out, mapErr(err)
}

// DeleteOtherUserSessions ends every browser session of the user except keepID, and returns how many it ended.
func (s *Store) DeleteOtherUserSessions(ctx context.Context, userID, keepID string) (int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	res := db.Where("user_id = ? AND id <> ?", userID, keepID).Delete(&LoginSession{})
	return res.RowsAffected, mapErr(res.Error)
}

// TouchSession records that session id was used at now, with one conditional write that changes nothing when
// the recorded last use is less than SessionTouchInterval old: concurrent requests of one browser write it once
// a minute at most. It reports whether it wrote. A session that is gone is no error (nothing to touch).
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) (bool, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return false, err
	}
	now = now.UTC()
	res := db.Model(&LoginSession{}).
		Where("id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)", id, now.Add(-SessionTouchInterval)).
		Update("last_seen_at", now)
	return res.RowsAffected > 0, mapErr(res.Error)
}

// UnlinkIdentity removes the user's linked upstream identity id, under a lock on the user's row so that two
// concurrent unlinks see each other. Before deleting, it calls allowed with what the user would keep (every
// credential and the other identities); an error from allowed stops it and is returned as is. ErrNotFound when
// the user has no such identity (another user's, or another tenant's, included). It returns the identity removed.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, id string, allowed func(creds []Credential, rest []Identity) error) (Identity, error) {
	var removed Identity
	err := s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &User{}, userID); err != nil {
			return err
		}
		if err := s.owned(ctx, &User{}, userID); err != nil {
			return err
		}
		idents, err := s.ListIdentities(ctx, userID)
		if err != nil {
			return err
		}
		var rest []Identity
		found := false
		for _, i := range idents {
			if i.ID == id {
				found, removed = true, i
				continue
			}
			rest = append(rest, i)
		}
		if !found {
			return ErrNotFound
		}
		creds, err := s.ListCredentials(ctx, userID)
		if err != nil {
			return err
		}
		if err := allowed(creds, rest); err != nil {
			return err
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		res := db.Where("id = ? AND user_id = ?", id, userID).Delete(&Identity{})
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return Identity{}, err
	}
	return removed, nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence; invalid bytes are dropped.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
