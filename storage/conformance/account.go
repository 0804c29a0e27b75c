package conformance

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authio/authio/storage"
)

// testAccount covers what the account page stores: a user's session list, signing out the other sessions, the
// last-seen write (conditional, once a minute), and unlinking an identity under a check of what remains — each
// refused across tenants.
func testAccount(t *testing.T, s storage.Storage) {
	_, ctx := newTenant(t, s)
	_, ctxB := newTenant(t, s)
	u := newUser(t, s, ctx)
	other := newUser(t, s, ctx)

	t.Run("sessions", func(t *testing.T) {
		older := storage.LoginSession{ID: "ses_" + rnd(t), UserID: u.ID, CookieHash: rnd(t) + rnd(t), AuthTime: at(-time.Hour),
			AMR: storage.StringList{"pwd"}, ExpiresAt: at(time.Hour), CreatedAt: at(-time.Hour)}
		mustNil(t, "CreateSession (older)", s.CreateSession(ctx, older))
		newer := newSession(t, s, ctx, u.ID, at(time.Hour))
		newSession(t, s, ctx, u.ID, at(-time.Second)) // expired
		othersSession := newSession(t, s, ctx, other.ID, at(time.Hour))

		list, err := s.ListUserSessions(ctx, u.ID, now())
		mustNil(t, "ListUserSessions", err)
		if len(list) != 2 || list[0].ID != newer.ID || list[1].ID != older.ID {
			t.Fatalf("ListUserSessions = %+v, want the newer then the older live session", list)
		}
		if got, err := s.ListUserSessions(ctxB, u.ID, now()); err != nil || len(got) != 0 {
			t.Errorf("tenant B lists tenant A's sessions: %+v %v", got, err)
		}

		// Touch: written when never seen, not again within the interval, again after it; never across tenants.
		t0 := now()
		wrote, err := s.TouchSession(ctxB, newer.ID, t0)
		if err != nil || wrote {
			t.Errorf("tenant B touched tenant A's session: %v %v", wrote, err)
		}
		for _, step := range []struct {
			at   time.Time
			want bool
		}{{t0, true}, {t0.Add(30 * time.Second), false}, {t0.Add(storage.SessionTouchInterval), true}, {t0.Add(storage.SessionTouchInterval + time.Second), false}} {
			wrote, err := s.TouchSession(ctx, newer.ID, step.at.In(westZone))
			mustNil(t, "TouchSession", err)
			if wrote != step.want {
				t.Errorf("TouchSession at +%v wrote %v, want %v", step.at.Sub(t0), wrote, step.want)
			}
		}
		list, _ = s.ListUserSessions(ctx, u.ID, now())
		if list[0].LastSeenAt == nil || !list[0].LastSeenAt.Equal(t0.Add(storage.SessionTouchInterval)) {
			t.Errorf("LastSeenAt = %v, want %v", list[0].LastSeenAt, t0.Add(storage.SessionTouchInterval))
		}

		n, err := s.DeleteOtherUserSessions(ctxB, u.ID, newer.ID)
		if err != nil || n != 0 {
			t.Errorf("tenant B ended %d of tenant A's sessions (%v)", n, err)
		}
		n, err = s.DeleteOtherUserSessions(ctx, u.ID, newer.ID)
		mustNil(t, "DeleteOtherUserSessions", err)
		if n != 2 { // the older one and the expired one
			t.Errorf("DeleteOtherUserSessions ended %d, want 2", n)
		}
		list, _ = s.ListUserSessions(ctx, u.ID, now())
		if len(list) != 1 || list[0].ID != newer.ID {
			t.Errorf("after DeleteOtherUserSessions: %+v, want the kept session only", list)
		}
		if _, err := s.SessionByCookieHash(ctx, othersSession.CookieHash, now()); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
	})

	t.Run("user agent is kept, cut at the limit", func(t *testing.T) {
		ls := storage.LoginSession{ID: "ses_" + rnd(t), UserID: u.ID, CookieHash: rnd(t) + rnd(t), AuthTime: now(),
			ExpiresAt: at(time.Hour), CreatedAt: now(), UserAgent: strings.Repeat("é", 400)}
		mustNil(t, "CreateSession", s.CreateSession(ctx, ls))
		got, err := s.SessionByCookieHash(ctx, ls.CookieHash, now())
		mustNil(t, "SessionByCookieHash", err)
		if len(got.UserAgent) > storage.MaxUserAgent || len(got.UserAgent) < storage.MaxUserAgent-1 || got.UserAgent != strings.Repeat("é", len(got.UserAgent)/2) {
			t.Errorf("stored user agent of %d bytes, want %d cut on a character boundary", len(got.UserAgent), storage.MaxUserAgent)
		}
	})

	con := storage.Connection{ID: "con_" + rnd(t), Name: "upstream", Type: storage.ConnectionOIDC, Settings: storage.JSONMap{},
		Enabled: true, CreatedAt: now(), UpdatedAt: now()}
	mustNil(t, "CreateConnection", s.CreateConnection(ctx, con))
	link := func(userID string) storage.Identity {
		t.Helper()
		i := storage.Identity{ID: "idn_" + rnd(t), ConnectionID: con.ID, Subject: rnd(t), UserID: userID, CreatedAt: now(), UpdatedAt: now()}
		mustNil(t, "LinkIdentity", s.LinkIdentity(ctx, i))
		return i
	}
	// A user who signs in only through upstream identities: no password credential.
	upstreamUser := func() storage.User {
		t.Helper()
		v := storage.User{ID: "usr_" + rnd(t), Email: "up-" + rnd(t) + "@example.test", CreatedAt: now(), UpdatedAt: now()}
		mustNil(t, "CreateUser", s.CreateUser(ctx, v))
		return v
	}
	onlyIfAnotherRemains := func(creds []storage.Credential, rest []storage.Identity) error {
		if len(rest) > 0 || len(creds) > 0 {
			return nil
		}
		return errLast
	}

	t.Run("unlink", func(t *testing.T) {
		v := upstreamUser()
		a, b := link(v.ID), link(v.ID)
		_, err := s.UnlinkIdentity(ctxB, v.ID, a.ID, onlyIfAnotherRemains)
		wantErr(t, "UnlinkIdentity from tenant B", err, storage.ErrNotFound)
		_, err = s.UnlinkIdentity(ctx, other.ID, a.ID, onlyIfAnotherRemains)
		wantErr(t, "UnlinkIdentity naming another user", err, storage.ErrNotFound)

		got, err := s.UnlinkIdentity(ctx, v.ID, a.ID, func(creds []storage.Credential, rest []storage.Identity) error {
			if len(rest) != 1 || rest[0].ID != b.ID {
				t.Errorf("allowed saw rest %+v, want the other identity", rest)
			}
			return onlyIfAnotherRemains(creds, rest)
		})
		mustNil(t, "UnlinkIdentity", err)
		if got.ID != a.ID || got.ConnectionID != con.ID {
			t.Errorf("UnlinkIdentity returned %+v", got)
		}
		_, err = s.UnlinkIdentity(ctx, v.ID, b.ID, onlyIfAnotherRemains)
		wantErr(t, "unlinking the last identity", err, errLast)
		// A password credential is another way in: the same rule lets a user who has one unlink their last identity.
		w := newUser(t, s, ctx)
		last := link(w.ID)
		_, err = s.UnlinkIdentity(ctx, w.ID, last.ID, onlyIfAnotherRemains)
		mustNil(t, "unlinking the last identity of a user with a password", err)
		if is, _ := s.ListIdentities(ctx, v.ID); len(is) != 1 || is[0].ID != b.ID {
			t.Errorf("identities after the refusal: %+v", is)
		}
	})

	t.Run("parallel unlinks of the last two identities: one succeeds", func(t *testing.T) {
		v := upstreamUser()
		ids := []storage.Identity{link(v.ID), link(v.ID)}
		var (
			wg   sync.WaitGroup
			errs = make([]error, len(ids))
		)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UnlinkIdentity(ctx, v.ID, ids[i].ID, onlyIfAnotherRemains)
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errLast):
				refused++
			default:
				t.Errorf("UnlinkIdentity: %v", err)
			}
		}
		if is, _ := s.ListIdentities(ctx, v.ID); ok != 1 || refused != 1 || len(is) != 1 {
			t.Errorf("%d unlinked, %d refused, %d identities left; want 1, 1, 1", ok, refused, len(is))
		}
	})
}

var errLast = errors.New("conformance: the last way to sign in")
