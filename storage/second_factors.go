package storage

import (
	"context"
	"time"
)

// SecondFactors keeps the second factors of the users of the tenant in the context: a TOTP credential
// (CredentialTOTP, its secret encrypted by the caller) and recovery codes (CredentialRecoveryCode, each a hash).
// They are credentials rows on the tenant's default password connection (DefaultPasswordConnection, which cannot
// be deleted), since a second factor belongs to no connection. Every use of a one-time value is one conditional
// write: of concurrent uses, exactly one succeeds.
type SecondFactors interface {
	// TOTPCredential returns the user's TOTP credential, confirmed or pending; ErrNotFound for none.
	TOTPCredential(ctx context.Context, userID string) (Credential, error)
	// StartTOTP stores c, a pending TOTP credential for c.UserID, replacing the user's pending one if any.
	// ErrAlreadyExists when the user has a confirmed TOTP credential (remove it first); ErrNotFound when the user
	// is not the tenant's.
	StartTOTP(ctx context.Context, c Credential) error
	// ConfirmTOTP confirms the user's pending TOTP credential id, records step as its last accepted step, and
	// replaces the user's recovery codes with codes (their Secret is the hash), in one transaction.
	// ErrAlreadyUsed when id is not a pending TOTP credential of the user any more (confirmed concurrently, or
	// replaced).
	ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time, codes []Credential) error
	// UseTOTPStep accepts step for the user's confirmed TOTP credential id with one conditional update
	// (otp_step < step), recording at as its last use. ErrAlreadyUsed when that step or a later one was accepted
	// before (a replayed code) or the credential is gone or pending.
	UseTOTPStep(ctx context.Context, userID, id string, step int64, at time.Time) error
	// ReplaceRecoveryCodes deletes the user's recovery codes, used or not, and stores codes (Secret: the hash).
	// ErrNotFound when the user is not the tenant's.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes []Credential) error
	// UseRecoveryCode consumes the user's unused recovery code whose hash is hash with one conditional update
	// (last_used_at IS NULL), at at. ErrAlreadyUsed when there is no such unused code (never issued, or used).
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error
	// DeleteSecondFactors removes the user's TOTP credential and recovery codes and returns how many rows went.
	DeleteSecondFactors(ctx context.Context, userID string) (int64, error)
	// DeleteUserCredentials removes the user's credentials with ids (of any type); ErrNotFound when none of
	// them is the user's.
	DeleteUserCredentials(ctx context.Context, userID string, ids []string) error
	// SetSessionAMR replaces the authentication methods (RFC 8176) of the browser session id, as when a second
	// factor is passed within it. ErrNotFound when the tenant has no such session.
	SetSessionAMR(ctx context.Context, id string, amr []string) error
}

var _ SecondFactors = (*Store)(nil)

func (s *Store) TOTPCredential(ctx context.Context, userID string) (Credential, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return Credential{}, err
	}
	var c Credential
	err = db.Where("user_id = ? AND type = ?", userID, CredentialTOTP).Take(&c).Error
	return c, mapErr(err)
}

func (s *Store) StartTOTP(ctx context.Context, c Credential) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		// The user's row lock orders concurrent enrolments of one user.
		if err := s.lockRow(ctx, &User{}, c.UserID); err != nil {
			return err
		}
		if err := s.owned(ctx, &User{}, c.UserID); err != nil {
			return err
		}
		conn, err := s.defaultPasswordConnection(ctx)
		if err != nil {
			return err
		}
		db, tid, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		var confirmed int64
		if err := db.Model(&Credential{}).Where("user_id = ? AND type = ? AND pending = ?", c.UserID, CredentialTOTP, false).
			Count(&confirmed).Error; err != nil {
			return mapErr(err)
		}
		if confirmed > 0 {
			return ErrAlreadyExists
		}
		if err := db.Where("user_id = ? AND type = ?", c.UserID, CredentialTOTP).Delete(&Credential{}).Error; err != nil {
			return mapErr(err)
		}
		if c.ID == "" {
			c.ID = newRowID("crd")
		}
		c.TenantID, c.ConnectionID, c.Type, c.Pending, c.OTPStep = tid, conn, CredentialTOTP, true, 0
		c.CreatedAt, c.LastUsedAt = c.CreatedAt.UTC(), nil
		if c.Metadata == nil {
			c.Metadata = JSONMap{}
		}
		return mapErr(s.conn(ctx).Create(&c).Error)
	})
}

func (s *Store) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time, codes []Credential) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		res := db.Model(&Credential{}).
			Where("id = ? AND user_id = ? AND type = ? AND pending = ?", id, userID, CredentialTOTP, true).
			Updates(map[string]any{"pending": false, "otp_step": step, "last_used_at": at.UTC()})
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrAlreadyUsed
		}
		return s.replaceRecoveryCodes(ctx, userID, codes)
	})
}

func (s *Store) UseTOTPStep(ctx context.Context, userID, id string, step int64, at time.Time) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := db.Model(&Credential{}).
		Where("id = ? AND user_id = ? AND type = ? AND pending = ? AND otp_step < ?", id, userID, CredentialTOTP, false, step).
		Updates(map[string]any{"otp_step": step, "last_used_at": at.UTC()})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrAlreadyUsed
	}
	return nil
}

func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes []Credential) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &User{}, userID); err != nil {
			return err
		}
		if err := s.owned(ctx, &User{}, userID); err != nil {
			return err
		}
		return s.replaceRecoveryCodes(ctx, userID, codes)
	})
}

// replaceRecoveryCodes deletes the user's recovery codes and stores codes, within the caller's transaction.
func (s *Store) replaceRecoveryCodes(ctx context.Context, userID string, codes []Credential) error {
	db, tid, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	if err := db.Where("user_id = ? AND type = ?", userID, CredentialRecoveryCode).Delete(&Credential{}).Error; err != nil {
		return mapErr(err)
	}
	if len(codes) == 0 {
		return nil
	}
	conn, err := s.defaultPasswordConnection(ctx)
	if err != nil {
		return err
	}
	rows := make([]Credential, len(codes))
	for i, c := range codes {
		if c.ID == "" {
			c.ID = newRowID("crd")
		}
		c.TenantID, c.UserID, c.ConnectionID, c.Type, c.Pending, c.OTPStep = tid, userID, conn, CredentialRecoveryCode, false, 0
		c.CreatedAt, c.LastUsedAt = c.CreatedAt.UTC(), nil
		if c.Metadata == nil {
			c.Metadata = JSONMap{}
		}
		rows[i] = c
	}
	return mapErr(s.conn(ctx).Create(&rows).Error)
}

func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := db.Model(&Credential{}).
		Where("user_id = ? AND type = ? AND secret = ? AND last_used_at IS NULL", userID, CredentialRecoveryCode, hash).
		Update("last_used_at", at.UTC())
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrAlreadyUsed
	}
	return nil
}

func (s *Store) DeleteSecondFactors(ctx context.Context, userID string) (int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	res := db.Where("user_id = ? AND type IN ?", userID, []string{CredentialTOTP, CredentialRecoveryCode}).Delete(&Credential{})
	return res.RowsAffected, mapErr(res.Error)
}

func (s *Store) DeleteUserCredentials(ctx context.Context, userID string, ids []string) error {
	if len(ids) == 0 {
		return ErrNotFound
	}
	return s.deleteWhere(ctx, &Credential{}, "user_id = ? AND id IN ?", userID, ids)
}

func (s *Store) SetSessionAMR(ctx context.Context, id string, amr []string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := db.Model(&LoginSession{}).Where("id = ?", id).Update("amr", StringList(amr))
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
