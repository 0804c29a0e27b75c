package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/authio/authio/internal/canon"
)

// ---- tenants (not tenant-scoped: this is how a tenant is found) ----

// CreateTenant stores t, its domains and its password connection in one transaction. The writes run in t's
// tenancy scope, so the changes reported to the commit hooks name it.
func (s *Store) CreateTenant(ctx context.Context, t Tenant, domains []string) error {
	return s.inTx(WithTenant(ctx, t.ID), func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := mapErr(db.Create(&t).Error); err != nil {
			return err
		}
		for _, d := range domains {
			if err := mapErr(db.Create(&TenantDomain{Domain: strings.ToLower(d), TenantID: t.ID, CreatedAt: t.CreatedAt}).Error); err != nil {
				return err
			}
		}
		// Every tenant starts with the password connection, as migration 0005 gave the tenants before it.
		return mapErr(db.Create(&Connection{ID: newRowID("con"), TenantID: t.ID, Name: DefaultPasswordConnection,
			Type: ConnectionPassword, Settings: JSONMap{}, Enabled: true, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.CreatedAt.UTC()}).Error)
	})
}

func (s *Store) GetTenant(ctx context.Context, idOrSlug string) (Tenant, error) {
	var t Tenant
	col := "slug"
	if strings.HasPrefix(idOrSlug, "ten_") {
		col = "id"
	}
	err := s.conn(ctx).Where(col+" = ?", idOrSlug).Take(&t).Error
	return t, mapErr(err)
}

func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	var ts []Tenant
	err := s.conn(ctx).Order("created_at, id").Find(&ts).Error
	return ts, mapErr(err)
}

func (s *Store) TenantByDomain(ctx context.Context, domain string) (Tenant, error) {
	var t Tenant
	err := s.conn(ctx).Joins("JOIN tenant_domains d ON d.tenant_id = tenants.id").
		Where("d.domain = ?", strings.ToLower(domain)).Take(&t).Error
	return t, mapErr(err)
}

func (s *Store) AddDomain(ctx context.Context, tenantID, domain string) error {
	t, err := s.GetTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	return mapErr(s.conn(WithTenant(ctx, t.ID)).Create(&TenantDomain{Domain: strings.ToLower(domain), TenantID: t.ID, CreatedAt: s.Now()}).Error)
}

// RemoveDomain detaches domain from the tenant with id (or slug) tenantID. ErrNotFound when the tenant does not
// have it.
func (s *Store) RemoveDomain(ctx context.Context, tenantID, domain string) error {
	t, err := s.GetTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	res := s.conn(WithTenant(ctx, t.ID)).Where("tenant_id = ? AND domain = ?", t.ID, strings.ToLower(domain)).Delete(&TenantDomain{})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *Store) ListDomains(ctx context.Context, tenantID string) ([]string, error) {
	var ds []string
	err := s.conn(ctx).Model(&TenantDomain{}).Where("tenant_id = ?", tenantID).Order("created_at, domain").Pluck("domain", &ds).Error
	return ds, mapErr(err)
}

// ---- signing keys ----

func (s *Store) AddKey(ctx context.Context, k SigningKey, retireUntil time.Time) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	k.TenantID = tid
	k.CreatedAt, k.RetiredAt, k.ExpiresAt = k.CreatedAt.UTC(), utcPtr(k.RetiredAt), utcPtr(k.ExpiresAt)
	retireUntil = retireUntil.UTC()
	return s.inTx(ctx, func(ctx context.Context) error {
		if k.Active {
			// Rotations of one tenant run one at a time (on Postgres; SQLite has one writer): two that overlapped
			// would each retire the keys active before both, and leave both new keys active.
			if err := s.lockRow(ctx, &Tenant{}, tid); err != nil {
				return err
			}
			db, _, err := s.scoped(ctx)
			if err != nil {
				return err
			}
			now := s.Now()
			err = db.Model(&SigningKey{}).Where("active = ?", true).
				Updates(map[string]any{"active": false, "retired_at": now, "expires_at": retireUntil}).Error
			if err != nil {
				return err
			}
		}
		return mapErr(s.conn(ctx).Create(&k).Error)
	})
}

func (s *Store) ListKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var ks []SigningKey
	err = db.Where("active = ? OR expires_at > ?", true, now.UTC()).Order("created_at DESC, id").Find(&ks).Error
	return ks, mapErr(err)
}

// ---- clients ----

func (s *Store) CreateClient(ctx context.Context, c Client) error {
	return s.create(ctx, &c, func(tid string) { c.TenantID = tid })
}

func (s *Store) GetClientByID(ctx context.Context, id string) (Client, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Client{}, err
	}
	var c Client
	err = db.Where("id = ?", id).Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) ListClients(ctx context.Context) ([]Client, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var cs []Client
	err = db.Order("created_at, id").Find(&cs).Error
	return cs, mapErr(err)
}

func (s *Store) ListClientPage(ctx context.Context, p Page) ([]Client, int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Model(&Client{}).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var cs []Client
	err = pageQuery(db.Order("created_at, id"), p).Find(&cs).Error
	return cs, n, mapErr(err)
}

func (s *Store) UpdateClient(ctx context.Context, id string, fn func(old Client) (Client, error)) error {
	err := s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Client{}, id); err != nil {
			return err
		}
		old, err := s.GetClientByID(ctx, id)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		c.ID, c.TenantID, c.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		c.UpdatedAt = s.Now()
		return s.update(ctx, id, &c)
	})
	return err
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.deleteWhere(ctx, &Client{}, "id = ?", id); err != nil {
			return err
		}
		for _, q := range []struct {
			model any
			where string
			args  []any
		}{
			{&roleAssignment{}, "subject_kind = ? AND subject_id = ?", []any{SubjectClient, id}},
			{&clientOrganization{}, "client_id = ?", []any{id}},
		} {
			db, _, _ := s.scoped(ctx)
			if err := db.Where(q.where, q.args...).Delete(q.model).Error; err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// ---- users ----

func (s *Store) CreateUser(ctx context.Context, u User) error {
	u.Email = canon.Email(u.Email)
	if u.PasswordHash == "" {
		return s.create(ctx, &u, func(tid string) { u.TenantID = tid })
	}
	// The password is a credential of the default password connection, written with the user.
	return s.inTx(ctx, func(ctx context.Context) error {
		con, err := s.defaultPasswordConnection(ctx)
		if err != nil {
			return err
		}
		if err := s.create(ctx, &u, func(tid string) { u.TenantID = tid }); err != nil {
			return err
		}
		return s.setPassword(ctx, u.ID, con, u.PasswordHash)
	})
}

func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return User{}, err
	}
	var u User
	err = withPasswordHash(db).Where("id = ?", id).Take(&u).Error
	return u, mapErr(err)
}

func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return User{}, err
	}
	var u User
	err = withPasswordHash(db).Where("email = ?", canon.Email(email)).Take(&u).Error
	return u, mapErr(err)
}

func (s *Store) ListUsers(ctx context.Context, p Page) ([]User, int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Model(&User{}).Count(&n).Error; err != nil {
		return nil, 0, mapErr(err)
	}
	var out []User
	err = pageQuery(withPasswordHash(db).Order("created_at, id"), p).Find(&out).Error
	return out, n, mapErr(err)
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(old User) (User, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &User{}, id); err != nil {
			return err
		}
		old, err := s.GetUser(ctx, id)
		if err != nil {
			return err
		}
		u, err := fn(old)
		if err != nil {
			return err
		}
		u.ID, u.TenantID, u.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		u.Email = canon.Email(u.Email)
		u.UpdatedAt = s.Now()
		if err := s.update(ctx, id, &u); err != nil {
			return err
		}
		if u.PasswordHash == old.PasswordHash {
			return nil
		}
		// A new password goes to the default password connection's credential, under the user's row lock.
		con, err := s.defaultPasswordConnection(ctx)
		if err != nil {
			return err
		}
		return s.setPassword(ctx, id, con, u.PasswordHash)
	})
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &User{}, id); err != nil {
			return err
		}
		// The user's memberships would go with the user by foreign key, and with them the ids their role
		// assignments are found by: remove those assignments (and the user's own) while the memberships remain.
		db, tid, _ := s.scoped(ctx)
		members := s.conn(ctx).Model(&Membership{}).Select("id").Where("tenant_id = ? AND user_id = ?", tid, id)
		if err := db.Where("(subject_kind = ? AND subject_id IN (?)) OR (subject_kind = ? AND subject_id = ?)",
			SubjectMembership, members, SubjectUser, id).Delete(&roleAssignment{}).Error; err != nil {
			return mapErr(err)
		}
		if err := db.Where("user_id = ?", id).Delete(&Membership{}).Error; err != nil {
			return mapErr(err)
		}
		res := db.Where("id = ?", id).Delete(&User{})
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return mapErr(db.Where("user_id = ?", id).Delete(&LoginSession{}).Error)
	})
}

// ---- browser sessions ----

func (s *Store) CreateSession(ctx context.Context, ls LoginSession) error {
	ls.AuthTime, ls.ExpiresAt, ls.CreatedAt = ls.AuthTime.UTC(), ls.ExpiresAt.UTC(), ls.CreatedAt.UTC()
	ls.LastSeenAt = utcPtr(ls.LastSeenAt)
	ls.UserAgent = truncateUTF8(ls.UserAgent, MaxUserAgent)
	return s.create(ctx, &ls, func(tid string) { ls.TenantID = tid })
}

// CreateSessionFor stores ls for a user who signed in with the password whose hash is passwordHash (its credential
// on the default password connection; "" for a user who has none), only if that is still the user's password and
// the user is not blocked; ErrCredentialsChanged otherwise. The check and the
// insert are one transaction holding a share lock on the user, so a sign-in whose password check ran while an
// administrator changed the password (or blocked the user) either finishes first — and that change's ending of
// the user's sessions ends this one — or sees the change and opens nothing.
func (s *Store) CreateSessionFor(ctx context.Context, ls LoginSession, passwordHash string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		q := db.Model(&User{}).Where("id = ? AND blocked = ?", ls.UserID, false)
		if s.dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "SHARE"})
		}
		var ids []string
		if err := q.Pluck("id", &ids).Error; err != nil {
			return mapErr(err)
		}
		if len(ids) == 0 {
			return ErrCredentialsChanged
		}
		// The password lives in credentials: read it in a statement of its own, after the lock, so that under
		// READ COMMITTED it sees a change that committed while this waited (a subquery in the locking statement
		// would be re-checked with that statement's older snapshot).
		var hashes []string
		if err := db.Model(&User{}).Where("id = ?", ls.UserID).Pluck(passwordHashOf("users"), &hashes).Error; err != nil {
			return mapErr(err)
		}
		if len(hashes) == 0 || hashes[0] != passwordHash {
			return ErrCredentialsChanged
		}
		return s.CreateSession(ctx, ls)
	})
}

func (s *Store) SessionByCookieHash(ctx context.Context, cookieHash string, now time.Time) (LoginSession, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return LoginSession{}, err
	}
	var ls LoginSession
	err = db.Where("cookie_hash = ? AND expires_at > ?", cookieHash, now.UTC()).Take(&ls).Error
	return ls, mapErr(err)
}

func (s *Store) DeleteSession(ctx context.Context, id string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := db.Where("id = ?", id).Delete(&LoginSession{})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return mapErr(db.Where("user_id = ?", userID).Delete(&LoginSession{}).Error)
}

// DeleteExpired removes token records, sessions, sign-in flows, one-time secrets, user tickets and passkey challenges that expired before cutoff. Not tenant-scoped: housekeeping.
func (s *Store) DeleteExpired(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	cutoff = cutoff.UTC()
	err := s.inTx(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&oauthToken{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		res = s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&LoginSession{})
		n += res.RowsAffected
		if res.Error != nil {
			return res.Error
		}
		res = s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&AuthFlow{})
		n += res.RowsAffected
		if res.Error != nil {
			return res.Error
		}
		res = s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&oneTimeRow{})
		n += res.RowsAffected
		if res.Error != nil {
			return res.Error
		}
		res = s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&UserTicket{})
		n += res.RowsAffected
		if res.Error != nil {
			return res.Error
		}
		res = s.conn(ctx).Where("expires_at < ?", cutoff).Delete(&PasskeyChallenge{})
		n += res.RowsAffected
		return res.Error
	})
	return n, err
}

var gormNotFound = gorm.ErrRecordNotFound

// utcPtr converts a stored instant to UTC. SQLite keeps times as text and compares them as text, so every
// instant that is stored or compared must be in one zone; callers' times may be in any.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// UpdateTenant applies fn to a tenant inside a transaction; id and slug cannot change.
func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(old Tenant) (Tenant, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Tenant{}, id); err != nil {
			return err
		}
		old, err := s.GetTenant(ctx, id)
		if err != nil {
			return err
		}
		t, err := fn(old)
		if err != nil {
			return err
		}
		t.ID, t.Slug, t.CreatedAt, t.UpdatedAt = old.ID, old.Slug, old.CreatedAt, s.Now()
		return mapErr(s.conn(WithTenant(ctx, old.ID)).Model(&Tenant{}).Where("id = ?", old.ID).Select("*").Updates(&t).Error)
	})
}
