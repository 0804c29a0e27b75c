package storage

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"
)

// OneTimeSecret is a single-use secret sent to a user (an email sign-in link and its code; verification and reset
// links): only keyed hashes are stored. It is open until it is consumed (ConsumedAt set, once) or expires.
// OneTimeEmailSignIn is the purpose of the email connection's sign-in secrets (a link and a code mailed to a
// user's address): they die when the address changes.
const OneTimeEmailSignIn = "email_signin"

type OneTimeSecret struct {
	ID       string // "ots_…"
	TenantID string
	// Purpose names what the secret is for ("email_signin", "verify_email", "password_reset"): a secret of one
	// purpose is never accepted for another.
	Purpose string
	// UserID is the user the secret proves something about; "" for none (an address without an account gets a
	// secret too, so known and unknown addresses cost the same work).
	UserID string
	// FlowID is the sign-in flow the secret belongs to; "" for none.
	FlowID string
	// SecretHash is the keyed hash of the link's token (keys.Secrets.TokenHash), unique in the tenant.
	SecretHash string
	// CodeHash is the keyed hash of a short code typed instead of following the link; "" for none.
	CodeHash string
	// Attempts counts wrong codes.
	Attempts   int
	ExpiresAt  time.Time
	ConsumedAt *time.Time
	CreatedAt  time.Time
}

// OneTimeSecrets stores the one-time secrets of the tenant in the context. Every consuming write is one
// conditional UPDATE (consumed_at IS NULL, not expired, under the attempts limit) whose affected row count says
// who won: of several concurrent consumers of one secret exactly one succeeds, the others get ErrAlreadyUsed.
type OneTimeSecrets interface {
	// CreateOneTimeSecret stores sec (its ID, Purpose, hashes, ExpiresAt and CreatedAt set by the caller; the
	// tenant is ctx's) and returns it as stored. When sec.FlowID is set, the flow's open secrets of the same
	// purpose are consumed in the same transaction and sec starts with the highest Attempts of the flow's secrets
	// of that purpose, so a limit on wrong codes holds per flow however often a secret is sent again.
	// ErrAlreadyExists when the secret hash is taken.
	CreateOneTimeSecret(ctx context.Context, sec OneTimeSecret) (OneTimeSecret, error)
	// OneTimeSecretByHash returns the secret of purpose whose SecretHash is hash, open or not; ErrNotFound when
	// the tenant has none.
	OneTimeSecretByHash(ctx context.Context, purpose, hash string) (OneTimeSecret, error)
	// OpenOneTimeSecretForFlow returns the newest open secret (not consumed, not expired at now) of purpose bound
	// to flowID; ErrNotFound when there is none.
	OpenOneTimeSecretForFlow(ctx context.Context, purpose, flowID string, now time.Time) (OneTimeSecret, error)
	// ConsumeOneTimeSecret consumes the open secret of purpose whose SecretHash is hash — and whose flow is
	// flowID, when flowID is not "" — and returns it. ErrAlreadyUsed when no open secret matched (unknown,
	// consumed, expired, another flow's, another tenant's).
	ConsumeOneTimeSecret(ctx context.Context, purpose, hash, flowID string, now time.Time) (OneTimeSecret, error)
	// ConsumeOneTimeSecretByID consumes the open secret id if its Attempts are under maxAttempts. ErrAlreadyUsed
	// otherwise.
	ConsumeOneTimeSecretByID(ctx context.Context, id string, maxAttempts int, now time.Time) error
	// RecordOneTimeCodeFailure adds one wrong attempt to the open secret id, consuming it when its Attempts reach
	// maxAttempts, in one conditional UPDATE, and returns the attempts left (0: the secret is dead).
	// ErrAlreadyUsed when the secret was not open.
	RecordOneTimeCodeFailure(ctx context.Context, id string, maxAttempts int, now time.Time) (int, error)
	// InvalidateOneTimeSecrets consumes every open secret of purpose of userID and returns how many.
	InvalidateOneTimeSecrets(ctx context.Context, purpose, userID string, now time.Time) (int64, error)
}

var _ OneTimeSecrets = (*Store)(nil)

// oneTimeRow is a row of one_time_secrets: user and flow are NULL when empty.
type oneTimeRow struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Purpose    string
	UserID     *string
	FlowID     *string
	SecretHash string
	CodeHash   string
	Attempts   int
	ExpiresAt  time.Time
	ConsumedAt *time.Time
	CreatedAt  time.Time
}

func (oneTimeRow) TableName() string { return "one_time_secrets" }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r oneTimeRow) secret() OneTimeSecret {
	return OneTimeSecret{ID: r.ID, TenantID: r.TenantID, Purpose: r.Purpose, UserID: deref(r.UserID), FlowID: deref(r.FlowID),
		SecretHash: r.SecretHash, CodeHash: r.CodeHash, Attempts: r.Attempts, ExpiresAt: r.ExpiresAt.UTC(),
		ConsumedAt: utcPtr(r.ConsumedAt), CreatedAt: r.CreatedAt.UTC()}
}

func (s *Store) CreateOneTimeSecret(ctx context.Context, sec OneTimeSecret) (OneTimeSecret, error) {
	var out OneTimeSecret
	err := s.inTx(ctx, func(ctx context.Context) error {
		db, tid, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		row := oneTimeRow{ID: sec.ID, TenantID: tid, Purpose: sec.Purpose, UserID: nullable(sec.UserID), FlowID: nullable(sec.FlowID),
			SecretHash: sec.SecretHash, CodeHash: sec.CodeHash, Attempts: sec.Attempts, ExpiresAt: sec.ExpiresAt.UTC(),
			CreatedAt: sec.CreatedAt.UTC()}
		if sec.FlowID != "" {
			// One sender at a time per flow (Postgres; SQLite serializes writers anyway), so two sends at once
			// cannot both start from the same count.
			if err := s.lockRow(ctx, &AuthFlow{}, sec.FlowID); err != nil {
				return err
			}
			var most sql.NullInt64
			if err := db.Model(&oneTimeRow{}).Where("purpose = ? AND flow_id = ?", sec.Purpose, sec.FlowID).
				Select("MAX(attempts)").Row().Scan(&most); err != nil {
				return mapErr(err)
			}
			if most.Valid && int(most.Int64) > row.Attempts {
				row.Attempts = int(most.Int64)
			}
			if err := db.Model(&oneTimeRow{}).Where("purpose = ? AND flow_id = ? AND consumed_at IS NULL", sec.Purpose, sec.FlowID).
				Update("consumed_at", row.CreatedAt).Error; err != nil {
				return mapErr(err)
			}
		}
		if err := s.conn(ctx).Create(&row).Error; err != nil {
			return mapErr(err)
		}
		out = row.secret()
		return nil
	})
	return out, err
}

func (s *Store) OneTimeSecretByHash(ctx context.Context, purpose, hash string) (OneTimeSecret, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return OneTimeSecret{}, err
	}
	var r oneTimeRow
	if err := db.Where("purpose = ? AND secret_hash = ?", purpose, hash).Take(&r).Error; err != nil {
		return OneTimeSecret{}, mapErr(err)
	}
	return r.secret(), nil
}

func (s *Store) OpenOneTimeSecretForFlow(ctx context.Context, purpose, flowID string, now time.Time) (OneTimeSecret, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return OneTimeSecret{}, err
	}
	var r oneTimeRow
	if err := db.Where("purpose = ? AND flow_id = ? AND consumed_at IS NULL AND expires_at > ?", purpose, flowID, now.UTC()).
		Order("created_at DESC, id DESC").Take(&r).Error; err != nil {
		return OneTimeSecret{}, mapErr(err)
	}
	return r.secret(), nil
}

// openSecrets narrows db to the secrets that can still be consumed at now.
func openSecrets(db *gorm.DB, now time.Time) *gorm.DB {
	return db.Model(&oneTimeRow{}).Where("consumed_at IS NULL AND expires_at > ?", now.UTC())
}

func (s *Store) ConsumeOneTimeSecret(ctx context.Context, purpose, hash, flowID string, now time.Time) (OneTimeSecret, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return OneTimeSecret{}, err
	}
	q := openSecrets(db, now).Where("purpose = ? AND secret_hash = ?", purpose, hash)
	if flowID != "" {
		q = q.Where("flow_id = ?", flowID)
	}
	res := q.Update("consumed_at", now.UTC())
	if res.Error != nil {
		return OneTimeSecret{}, mapErr(res.Error)
	}
	if res.RowsAffected != 1 {
		return OneTimeSecret{}, ErrAlreadyUsed
	}
	return s.OneTimeSecretByHash(ctx, purpose, hash)
}

func (s *Store) ConsumeOneTimeSecretByID(ctx context.Context, id string, maxAttempts int, now time.Time) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	res := openSecrets(db, now).Where("id = ? AND attempts < ?", id, maxAttempts).Update("consumed_at", now.UTC())
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrAlreadyUsed
	}
	return nil
}

func (s *Store) RecordOneTimeCodeFailure(ctx context.Context, id string, maxAttempts int, now time.Time) (int, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	now = now.UTC()
	res := openSecrets(db, now).Where("id = ? AND attempts < ?", id, maxAttempts).Updates(map[string]any{
		"attempts":    gorm.Expr("attempts + 1"),
		"consumed_at": gorm.Expr("CASE WHEN attempts + 1 >= ? THEN ? ELSE consumed_at END", maxAttempts, now),
	})
	if res.Error != nil {
		return 0, mapErr(res.Error)
	}
	if res.RowsAffected != 1 {
		return 0, ErrAlreadyUsed
	}
	var r oneTimeRow
	if err := db.Where("id = ?", id).Take(&r).Error; err != nil {
		return 0, mapErr(err)
	}
	return max(0, maxAttempts-r.Attempts), nil
}

func (s *Store) InvalidateOneTimeSecrets(ctx context.Context, purpose, userID string, now time.Time) (int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	res := openSecrets(db, now).Where("purpose = ? AND user_id = ?", purpose, userID).Update("consumed_at", now.UTC())
	return res.RowsAffected, mapErr(res.Error)
}
