package storage

import (
	"context"
	"time"
)

// Passkey challenge purposes (PasskeyChallenge.Purpose).
const (
	PasskeyLogin    = "login"    // a sign-in ceremony (navigator.credentials.get)
	PasskeyRegister = "register" // a registration ceremony (navigator.credentials.create)
)

// PasskeyChallenge is the server half of a WebAuthn ceremony under way: the challenge sent to the browser and
// what the ceremony's check needs (Session, go-webauthn's SessionData as JSON), bound to what started it
// (Binding: "flow:<flow id>" for a sign-in, "session:<session id>" for a registration by a signed-in user) and
// used at most once before ExpiresAt.
type PasskeyChallenge struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Binding   string
	Purpose   string
	Challenge string // base64url, as the browser's clientDataJSON carries it back
	RPID      string `gorm:"column:rp_id"`
	// UserID is the user a registration is for, or whose passkeys a sign-in after the email step allowed ("" for a
	// discoverable sign-in, and for an email that names nobody).
	UserID     string
	Session    string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt *time.Time
}

// Passkeys keeps the passkeys (credentials of type CredentialWebAuthn) of the users of the tenant in the context,
// and the challenges of the ceremonies that register and use them.
type Passkeys interface {
	// CreatePasskey stores c as a passkey (its Type is set to CredentialWebAuthn). ErrAlreadyExists when the
	// tenant has a passkey with that credential id on that RP ID; ErrNotFound when the user or the connection is
	// not the tenant's.
	CreatePasskey(ctx context.Context, c Credential) error
	// PasskeyByCredentialID finds the passkey with credentialID (base64url) registered on rpID; ErrNotFound for
	// none (a passkey of another RP ID or tenant is none).
	PasskeyByCredentialID(ctx context.Context, rpID, credentialID string) (Credential, error)
	// GetPasskey finds one of userID's passkeys by its row id ("crd_…"); ErrNotFound for none.
	GetPasskey(ctx context.Context, userID, id string) (Credential, error)
	// ListPasskeys returns userID's passkeys on every RP ID, oldest first.
	ListPasskeys(ctx context.Context, userID string) ([]Credential, error)
	// UsePasskey records a sign-in with passkey id: sign count to, last use at, metadata. The write is conditional
	// on the stored sign count still being from (what the sign-in read), so of parallel sign-ins that read the same
	// count exactly one advances it; the others get ErrAlreadyUsed. ErrNotFound for no such passkey.
	UsePasskey(ctx context.Context, id string, from, to int64, at time.Time, metadata JSONMap) error
	// UpdatePasskey applies fn to the metadata of userID's passkey id in a transaction (a rename); ErrNotFound
	// for none.
	UpdatePasskey(ctx context.Context, userID, id string, fn func(metadata JSONMap) (JSONMap, error)) error
	// DeletePasskey removes userID's passkey id; ErrNotFound for none.
	DeletePasskey(ctx context.Context, userID, id string) error

	// CreatePasskeyChallenge stores c, and drops the challenges of its binding that are used or expired at c's
	// creation time, and the oldest beyond MaxOpenPasskeyChallenges.
	CreatePasskeyChallenge(ctx context.Context, c PasskeyChallenge) error
	// ConsumePasskeyChallenge uses the challenge of binding and purpose whose value is challenge, once, with one
	// conditional write, and returns it. ErrAlreadyUsed when there is no such challenge open at now: unknown,
	// used before (also by a concurrent call), or expired.
	ConsumePasskeyChallenge(ctx context.Context, binding, purpose, challenge string, now time.Time) (PasskeyChallenge, error)
}

var _ Passkeys = (*Store)(nil)

// TableName of the challenges.
func (PasskeyChallenge) TableName() string { return "passkey_challenges" }

func (s *Store) CreatePasskey(ctx context.Context, c Credential) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.owned(ctx, &User{}, c.UserID); err != nil {
			return err
		}
		if err := s.owned(ctx, &Connection{}, c.ConnectionID); err != nil {
			return err
		}
		if c.ID == "" {
			c.ID = newRowID("crd")
		}
		c.Type = CredentialWebAuthn
		if c.Metadata == nil {
			c.Metadata = JSONMap{}
		}
		c.CreatedAt, c.LastUsedAt = c.CreatedAt.UTC(), utcPtr(c.LastUsedAt)
		return s.create(ctx, &c, func(tid string) { c.TenantID = tid })
	})
}

func (s *Store) PasskeyByCredentialID(ctx context.Context, rpID, credentialID string) (Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Credential{}, err
	}
	var c Credential
	err = db.Where("type = ? AND webauthn_rp_id = ? AND webauthn_credential_id = ?", CredentialWebAuthn, rpID, credentialID).
		Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) GetPasskey(ctx context.Context, userID, id string) (Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Credential{}, err
	}
	var c Credential
	err = db.Where("id = ? AND user_id = ? AND type = ?", id, userID, CredentialWebAuthn).Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) ListPasskeys(ctx context.Context, userID string) ([]Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return nil, err
	}
	cs := []Credential{}
	err = db.Where("user_id = ? AND type = ?", userID, CredentialWebAuthn).Order("created_at, id").Find(&cs).Error
	return cs, mapErr(err)
}

func (s *Store) UsePasskey(ctx context.Context, id string, from, to int64, at time.Time, metadata JSONMap) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	at = at.UTC()
	if metadata == nil {
		metadata = JSONMap{}
	}
	res := db.Model(&Credential{}).Where("id = ? AND type = ? AND webauthn_sign_count = ?", id, CredentialWebAuthn, from).
		Updates(map[string]any{"webauthn_sign_count": to, "last_used_at": at, "metadata": metadata})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := db.Model(&Credential{}).Where("id = ? AND type = ?", id, CredentialWebAuthn).Count(&n).Error; err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return ErrAlreadyUsed
}

func (s *Store) UpdatePasskey(ctx context.Context, userID, id string, fn func(metadata JSONMap) (JSONMap, error)) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &Credential{}, id); err != nil {
			return err
		}
		c, err := s.GetPasskey(ctx, userID, id)
		if err != nil {
			return err
		}
		md, err := fn(c.Metadata)
		if err != nil {
			return err
		}
		if md == nil {
			md = JSONMap{}
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		return mapErr(db.Model(&Credential{}).Where("id = ?", id).Update("metadata", md).Error)
	})
}

func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	return s.deleteWhere(ctx, &Credential{}, "id = ? AND user_id = ? AND type = ?", id, userID, CredentialWebAuthn)
}

func (s *Store) CreatePasskeyChallenge(ctx context.Context, c PasskeyChallenge) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		c.CreatedAt, c.ExpiresAt, c.ConsumedAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC(), nil
		if err := db.Where("binding = ? AND (consumed_at IS NOT NULL OR expires_at <= ?)", c.Binding, c.CreatedAt).
			Delete(&PasskeyChallenge{}).Error; err != nil {
			return mapErr(err)
		}
		if c.ID == "" {
			c.ID = newRowID("pkc")
		}
		if err := s.create(ctx, &c, func(tid string) { c.TenantID = tid }); err != nil {
			return err
		}
		// At most MaxOpenPasskeyChallenges per binding: a page that begins again and again keeps its newest.
		newest := db.Model(&PasskeyChallenge{}).Select("id").Where("binding = ?", c.Binding).
			Order("created_at DESC, id DESC").Limit(MaxOpenPasskeyChallenges)
		return mapErr(db.Where("binding = ? AND id NOT IN (?)", c.Binding, newest).Delete(&PasskeyChallenge{}).Error)
	})
}

// MaxOpenPasskeyChallenges is how many challenges one binding (a flow, a session) keeps; creating another drops
// the oldest.
const MaxOpenPasskeyChallenges = 5

func (s *Store) ConsumePasskeyChallenge(ctx context.Context, binding, purpose, challenge string, now time.Time) (PasskeyChallenge, error) {
	var out PasskeyChallenge
	now = now.UTC()
	err := s.inTx(ctx, func(ctx context.Context) error {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var open []PasskeyChallenge
		if err := db.Where("binding = ? AND purpose = ? AND challenge = ? AND consumed_at IS NULL AND expires_at > ?",
			binding, purpose, challenge, now).Limit(1).Find(&open).Error; err != nil {
			return mapErr(err)
		}
		if len(open) == 0 {
			return ErrAlreadyUsed
		}
		// The use itself is the conditional write: a concurrent call that read the same open row changes nothing.
		res := db.Model(&PasskeyChallenge{}).Where("id = ? AND consumed_at IS NULL", open[0].ID).Update("consumed_at", now)
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrAlreadyUsed
		}
		out = open[0]
		out.ConsumedAt = &now
		return nil
	})
	return out, err
}
