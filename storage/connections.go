package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Connections manages the sign-in connections of the tenant in the context. Names are unique per tenant.
type Connections interface {
	// CreateConnection stores c. ErrAlreadyExists when the tenant has a connection of that name.
	CreateConnection(ctx context.Context, c Connection) error
	// GetConnection finds a connection by id ("con_…") or name.
	GetConnection(ctx context.Context, idOrName string) (Connection, error)
	// ListConnections returns the tenant's connections ordered by creation.
	ListConnections(ctx context.Context) ([]Connection, error)
	// UpdateConnection applies fn to the stored connection inside a transaction; id, type and creation time
	// cannot change.
	UpdateConnection(ctx context.Context, id string, fn func(old Connection) (Connection, error)) error
	// DeleteConnection removes a connection with its credentials and identities.
	DeleteConnection(ctx context.Context, id string) error
}

// Credentials manages what the users of the tenant in the context prove connections with.
type Credentials interface {
	// SetPasswordCredential makes hash the user's password on the connection, replacing any previous one; an
	// empty hash removes it. ErrNotFound when the user or the connection is not the tenant's.
	SetPasswordCredential(ctx context.Context, userID, connectionID, hash string) error
	// PasswordCredential returns the user's password credential on the connection; ErrNotFound for none.
	PasswordCredential(ctx context.Context, userID, connectionID string) (Credential, error)
	// ListCredentials returns every credential of the user, of any type and connection, oldest first.
	ListCredentials(ctx context.Context, userID string) ([]Credential, error)
}

// Identities links upstream accounts to the users of the tenant in the context.
type Identities interface {
	// LinkIdentity stores i. ErrAlreadyExists when (connection, subject) is already linked; ErrNotFound when
	// the user or the connection is not the tenant's.
	LinkIdentity(ctx context.Context, i Identity) error
	// IdentityBySubject finds the identity of an upstream subject on a connection; ErrNotFound for none.
	IdentityBySubject(ctx context.Context, connectionID, subject string) (Identity, error)
	// ListIdentities returns the user's linked identities, oldest first.
	ListIdentities(ctx context.Context, userID string) ([]Identity, error)
	// ListUserLinks returns the identities of the users (password credentials and linked upstream accounts),
	// each user's oldest first, in one pair of queries however many users are asked about.
	ListUserLinks(ctx context.Context, userIDs []string) ([]UserLink, error)
	// UnlinkIdentity removes the user's identity id once allowed approves what the user keeps, and returns it
	// (see Store.UnlinkIdentity).
	UnlinkIdentity(ctx context.Context, userID, id string, allowed func(creds []Credential, rest []Identity) error) (Identity, error)
}

var (
	_ Connections = (*Store)(nil)
	_ Credentials = (*Store)(nil)
	_ Identities  = (*Store)(nil)
)

// passwordHashOf is the SQL for the password hash of the user row aliased alias: its credential on the tenant's
// default password connection, the empty string for none. It keeps User.PasswordHash filled now that users has no such column.
func passwordHashOf(alias string) string {
	return `COALESCE((SELECT cr.secret FROM credentials cr JOIN connections cn ON cn.id = cr.connection_id
		WHERE cr.user_id = ` + alias + `.id AND cr.tenant_id = ` + alias + `.tenant_id AND cr.type = 'password'
		AND cn.name = '` + DefaultPasswordConnection + `'), '')`
}

// withPasswordHash selects users with their PasswordHash (see passwordHashOf).
func withPasswordHash(db *gorm.DB) *gorm.DB {
	return db.Select("users.*, " + passwordHashOf("users") + " AS password_hash")
}

// newRowID returns prefix_ and 24 random hex digits, the shape migration 0005 gives the rows it creates.
func newRowID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's randomness source failing is not recoverable
	}
	return prefix + "_" + hex.EncodeToString(b)
}

// defaultPasswordConnection returns the id of the tenant's default password connection.
func (s *Store) defaultPasswordConnection(ctx context.Context) (string, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	if err := db.Model(&Connection{}).Where("name = ?", DefaultPasswordConnection).Pluck("id", &ids).Error; err != nil {
		return "", mapErr(err)
	}
	if len(ids) == 0 {
		return "", ErrNotFound
	}
	return ids[0], nil
}

// ---- connections ----

func (s *Store) CreateConnection(ctx context.Context, c Connection) error {
	tid, ok := TenantFromContext(ctx)
	if !ok {
		return ErrNoTenant
	}
	c.TenantID = tid
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return mapErr(s.conn(ctx).Create(&c).Error)
}

func (s *Store) GetConnection(ctx context.Context, idOrName string) (Connection, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Connection{}, err
	}
	var c Connection
	// An id match wins over a name match, as in GetOrganization.
	err = db.Where("id = ? OR name = ?", idOrName, idOrName).
		Order(clause.OrderBy{Expression: clause.Expr{SQL: "CASE WHEN id = ? THEN 0 ELSE 1 END", Vars: []any{idOrName}, WithoutParentheses: true}}).
		Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var cs []Connection
	err = db.Order("created_at, id").Find(&cs).Error
	return cs, mapErr(err)
}

func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(old Connection) (Connection, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Connection{}, id); err != nil {
			return err
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var old Connection
		if err := db.Where("id = ?", id).Take(&old).Error; err != nil {
			return mapErr(err)
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		c.ID, c.TenantID, c.Type, c.CreatedAt = old.ID, old.TenantID, old.Type, old.CreatedAt
		c.UpdatedAt = s.Now()
		return mapErr(db.Where("id = ?", id).Select("*").Updates(&c).Error)
	})
}

func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	return s.deleteWhere(ctx, &Connection{}, "id = ?", id)
}

// ---- credentials ----

func (s *Store) SetPasswordCredential(ctx context.Context, userID, connectionID, hash string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		// The user's row lock orders this change against a sign-in's CreateSessionFor, which share-locks it.
		if err := s.lockRow(ctx, &User{}, userID); err != nil {
			return err
		}
		if err := s.owned(ctx, &User{}, userID); err != nil {
			return err
		}
		if err := s.owned(ctx, &Connection{}, connectionID); err != nil {
			return err
		}
		return s.setPassword(ctx, userID, connectionID, hash)
	})
}

// setPassword writes the password credential of a user and connection already known to be the tenant's.
func (s *Store) setPassword(ctx context.Context, userID, connectionID, hash string) error {
	db, tid, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	if err := db.Where("user_id = ? AND connection_id = ? AND type = ?", userID, connectionID, CredentialPassword).
		Delete(&Credential{}).Error; err != nil {
		return mapErr(err)
	}
	if hash == "" {
		return nil
	}
	return mapErr(s.conn(ctx).Create(&Credential{ID: newRowID("crd"), TenantID: tid, UserID: userID,
		ConnectionID: connectionID, Type: CredentialPassword, Secret: hash, CreatedAt: s.Now()}).Error)
}

func (s *Store) PasswordCredential(ctx context.Context, userID, connectionID string) (Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Credential{}, err
	}
	var c Credential
	err = db.Where("user_id = ? AND connection_id = ? AND type = ?", userID, connectionID, CredentialPassword).Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) ListCredentials(ctx context.Context, userID string) ([]Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var cs []Credential
	err = db.Where("user_id = ?", userID).Order("created_at, id").Find(&cs).Error
	return cs, mapErr(err)
}

// ---- identities ----

func (s *Store) LinkIdentity(ctx context.Context, i Identity) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		tid, ok := TenantFromContext(ctx)
		if !ok {
			return ErrNoTenant
		}
		if err := s.owned(ctx, &User{}, i.UserID); err != nil {
			return err
		}
		if err := s.owned(ctx, &Connection{}, i.ConnectionID); err != nil {
			return err
		}
		i.TenantID = tid
		if i.ID == "" {
			i.ID = newRowID("idn")
		}
		i.CreatedAt, i.UpdatedAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC()
		return mapErr(s.conn(ctx).Create(&i).Error)
	})
}

func (s *Store) IdentityBySubject(ctx context.Context, connectionID, subject string) (Identity, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Identity{}, err
	}
	var i Identity
	err = db.Where("connection_id = ? AND subject = ?", connectionID, subject).Take(&i).Error
	return i, mapErr(err)
}

func (s *Store) ListIdentities(ctx context.Context, userID string) ([]Identity, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	var is []Identity
	err = db.Where("user_id = ?", userID).Order("created_at, id").Find(&is).Error
	return is, mapErr(err)
}

func (s *Store) ListUserLinks(ctx context.Context, userIDs []string) ([]UserLink, error) {
	tid, err := tenantOf(ctx)
	if err != nil || len(userIDs) == 0 {
		return nil, err
	}
	var creds, ids []UserLink
	err = s.conn(ctx).Table("credentials c").
		Select("c.user_id, c.connection_id, n.name AS connection_name, n.type AS connection_type, '' AS subject, c.created_at").
		Joins("JOIN connections n ON n.id = c.connection_id AND n.tenant_id = c.tenant_id").
		Where("c.tenant_id = ? AND c.user_id IN ? AND c.type = ?", tid, userIDs, CredentialPassword).
		Order("c.created_at, c.id").Scan(&creds).Error
	if err != nil {
		return nil, mapErr(err)
	}
	err = s.conn(ctx).Table("identities i").
		Select("i.user_id, i.connection_id, n.name AS connection_name, n.type AS connection_type, i.subject, i.created_at").
		Joins("JOIN connections n ON n.id = i.connection_id AND n.tenant_id = i.tenant_id").
		Where("i.tenant_id = ? AND i.user_id IN ?", tid, userIDs).
		Order("i.created_at, i.id").Scan(&ids).Error
	if err != nil {
		return nil, mapErr(err)
	}
	out := append(creds, ids...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
