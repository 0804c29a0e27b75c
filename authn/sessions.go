package authn

import (
	"context"
	"errors"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// ErrUserGone is what a SessionDeps.LiveUser answers for a user who was deleted or blocked: such a user has no
// session, whatever the cookie says.
var ErrUserGone = errors.New("authn: user deleted or blocked")

// SessionDeps are what the browser sessions need from the rest of Authio.
type SessionDeps struct {
	Store   storage.Storage
	Secrets *keys.Secrets
	// Now is the server's clock; TTL the session lifetime (AUTHIO_SESSION_TTL).
	Now func() time.Time
	TTL time.Duration
	// LiveUser returns a user who still exists and is not blocked; an error wrapping ErrUserGone otherwise.
	LiveUser func(ctx context.Context, id string) (storage.User, error)
	// Audit appends an event to the tenant's audit log.
	Audit func(ctx context.Context, e storage.AuditEvent) error
}

// SessionService keeps browser sign-in sessions: a random cookie whose hash is stored with the user, when and
// how they signed in (auth_time, amr). Every method works on the tenant in ctx's tenancy scope.
type SessionService struct {
	store    storage.Storage
	secrets  *keys.Secrets
	now      func() time.Time
	ttl      time.Duration
	liveUser func(ctx context.Context, id string) (storage.User, error)
	audit    func(ctx context.Context, e storage.AuditEvent) error
}

// NewSessionService returns the session service over d.
func NewSessionService(d SessionDeps) *SessionService {
	return &SessionService{store: d.Store, secrets: d.Secrets, now: d.Now, ttl: d.TTL, liveUser: d.LiveUser, audit: d.Audit}
}

// StartSession records a browser session for u, who has just signed in through the connection named connection
// with the methods amr (RFC 8176) — for a password, proving the hash u carries — and returns the cookie value to
// set. storage.ErrCredentialsChanged when that password was changed, or the user
// blocked, while the sign-in was under way: the session is not opened.
func (s *SessionService) StartSession(ctx context.Context, u storage.User, amr []string, connection string) (string, storage.LoginSession, error) {
	cookie := ids.Random(32)
	now := s.now().UTC().Truncate(time.Second)
	ls := storage.LoginSession{
		ID: ids.New("ses"), UserID: u.ID, CookieHash: s.secrets.TokenHash(cookie), AuthTime: now, AMR: amr,
		ConnectionName: connection, ExpiresAt: now.Add(s.ttl), CreatedAt: now, UserAgent: userAgentFrom(ctx), LastSeenAt: &now,
	}
	if err := s.store.CreateSessionFor(ctx, ls, u.PasswordHash); err != nil {
		return "", ls, err
	}
	return cookie, ls, nil
}

// SessionFromCookie returns the live session and its user for a cookie value; storage.ErrNotFound when there is
// none, or its user has been deleted or blocked.
func (s *SessionService) SessionFromCookie(ctx context.Context, cookie string) (storage.LoginSession, storage.User, error) {
	if cookie == "" {
		return storage.LoginSession{}, storage.User{}, storage.ErrNotFound
	}
	ls, err := s.store.SessionByCookieHash(ctx, s.secrets.TokenHash(cookie), s.now().UTC())
	if err != nil {
		return ls, storage.User{}, err
	}
	// A deleted or blocked user has no session, whatever the cookie says.
	u, err := s.liveUser(ctx, ls.UserID)
	if errors.Is(err, ErrUserGone) {
		return storage.LoginSession{}, storage.User{}, storage.ErrNotFound
	} else if err != nil {
		return ls, u, err
	}
	// The session list on the account page shows when each session was last used: record this use, once a
	// minute at most (the store's write is conditional too, for concurrent requests of one browser).
	now := s.now().UTC()
	if ls.LastSeenAt == nil || now.Sub(*ls.LastSeenAt) >= storage.SessionTouchInterval {
		wrote, err := s.store.TouchSession(ctx, ls.ID, now)
		if err != nil {
			return ls, u, err
		}
		if wrote {
			ls.LastSeenAt = &now
		}
	}
	return ls, u, nil
}

type userAgentKey struct{}

// WithUserAgent records the browser's User-Agent header for the session StartSession opens with ctx (the account
// page's session list shows it summarised).
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

func userAgentFrom(ctx context.Context) string {
	ua, _ := ctx.Value(userAgentKey{}).(string)
	return ua
}

// EndSession ends a browser session and records session.ended. Of several concurrent calls for one session
// exactly one ends it; the others get storage.ErrNotFound and record nothing.
func (s *SessionService) EndSession(ctx context.Context, ls storage.LoginSession) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteSession(ctx, ls.ID); err != nil {
			return err
		}
		return s.audit(audit.WithActor(ctx, audit.Actor{Kind: "user", ID: ls.UserID}), storage.AuditEvent{
			Type: audit.EventSessionEnded, UserID: ls.UserID, Data: storage.JSONMap{"session_id": ls.ID}})
	})
}

// UserSessions lists the user's unexpired browser sessions, newest first.
func (s *SessionService) UserSessions(ctx context.Context, userID string) ([]storage.LoginSession, error) {
	return s.store.ListUserSessions(ctx, userID, s.now())
}

// EndUserSession ends the user's session id (recording session.ended, as EndSession does). storage.ErrNotFound
// when the user has no such live session: another user's, another tenant's, or one already ended.
func (s *SessionService) EndUserSession(ctx context.Context, userID, id string) error {
	list, err := s.store.ListUserSessions(ctx, userID, s.now())
	if err != nil {
		return err
	}
	for _, ls := range list {
		if ls.ID == id {
			return s.EndSession(ctx, ls)
		}
	}
	return storage.ErrNotFound
}

// EndOtherSessions ends every session of ls's user except ls, records session.others_ended, and returns how many
// it ended.
func (s *SessionService) EndOtherSessions(ctx context.Context, ls storage.LoginSession) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if n, err = s.store.DeleteOtherUserSessions(ctx, ls.UserID, ls.ID); err != nil {
			return err
		}
		return s.audit(audit.WithActor(ctx, audit.Actor{Kind: "user", ID: ls.UserID}), storage.AuditEvent{
			Type: audit.EventSessionsEnded, UserID: ls.UserID, Data: storage.JSONMap{"kept": ls.ID, "count": n}})
	})
	return n, err
}
