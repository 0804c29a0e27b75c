package storage

import (
	"context"
	"time"
)

// Purposes of user tickets.
const (
	// TicketVerifyEmail proves that the user reads the mailbox of their stored address: redeeming it marks the
	// address verified.
	TicketVerifyEmail = "verify_email"
	// TicketPasswordReset lets whoever holds it choose the user's new password once.
	TicketPasswordReset = "password_reset"
)

// UserTicket is a single-use link mailed to (or made by the Management API for) one user: verify the email
// address or reset the password. Only TokenHash (keys.Secrets.TokenHash of the link's token) is stored.
type UserTicket struct {
	ID       string `gorm:"primaryKey"` // "tkt_…"
	TenantID string `gorm:"primaryKey"`
	Purpose  string // TicketVerifyEmail or TicketPasswordReset
	UserID   string
	// Email is the user's stored address when the ticket was made (canonical form): a verification proves this
	// address only, so a ticket whose user has changed address since is void.
	Email     string
	TokenHash string
	// FlowID is the sign-in flow the user was in when asking for the link ("" for none): the page after a reset
	// leads back to it.
	FlowID string
	// Source says who made the ticket: "signup", "resend", "forgot" (the hosted pages) or "api" (Management API).
	Source string
	// ResultURL is where the browser goes once the ticket is used ("" for Authio's own page); the Management API
	// accepts only URLs of the tenant's clients. MarkEmailVerified (password reset) also marks the address
	// verified; IncludeEmail adds the address to ResultURL's query.
	ResultURL         string
	MarkEmailVerified bool
	IncludeEmail      bool
	CreatedAt         time.Time
	ExpiresAt         time.Time
	// ConsumedAt is set, once, when the ticket is used or revoked.
	ConsumedAt *time.Time
}

// TableName is the table of user tickets.
func (UserTicket) TableName() string { return "user_tickets" }

// UserTickets stores the user tickets of the tenant in the context.
type UserTickets interface {
	// CreateUserTicket stores t. ErrAlreadyExists when its id or token hash is taken.
	CreateUserTicket(ctx context.Context, t UserTicket) error
	// OpenUserTicket returns the ticket of purpose whose token hashes to tokenHash when it is open (not consumed,
	// not expired at now); ErrNotFound otherwise. It changes nothing: a page may show a form for it.
	OpenUserTicket(ctx context.Context, purpose, tokenHash string, now time.Time) (UserTicket, error)
	// RedeemUserTicket consumes the open ticket of purpose whose token hashes to tokenHash, at now, with one
	// conditional write, and returns it: of several concurrent calls, on any replica, exactly one succeeds; the
	// others, and any call for a ticket that is consumed, expired or unknown, get ErrAlreadyUsed. Called inside
	// a transaction, the consumption commits (or rolls back) with it.
	RedeemUserTicket(ctx context.Context, purpose, tokenHash string, now time.Time) (UserTicket, error)
	// RevokeUserTickets consumes every open ticket of purpose of user userID at now and returns how many.
	RevokeUserTickets(ctx context.Context, userID, purpose string, now time.Time) (int64, error)
}

var _ UserTickets = (*Store)(nil)

func (s *Store) CreateUserTicket(ctx context.Context, t UserTicket) error {
	t.CreatedAt, t.ExpiresAt, t.ConsumedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), utcPtr(t.ConsumedAt)
	return s.create(ctx, &t, func(tid string) { t.TenantID = tid })
}

func (s *Store) OpenUserTicket(ctx context.Context, purpose, tokenHash string, now time.Time) (UserTicket, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return UserTicket{}, err
	}
	var t UserTicket
	err = db.Where("purpose = ? AND token_hash = ? AND consumed_at IS NULL AND expires_at > ?", purpose, tokenHash, now.UTC()).
		Take(&t).Error
	return t, mapErr(err)
}

func (s *Store) RedeemUserTicket(ctx context.Context, purpose, tokenHash string, now time.Time) (UserTicket, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return UserTicket{}, err
	}
	now = now.UTC()
	res := db.Model(&UserTicket{}).
		Where("purpose = ? AND token_hash = ? AND consumed_at IS NULL AND expires_at > ?", purpose, tokenHash, now).
		Update("consumed_at", now)
	if res.Error != nil {
		return UserTicket{}, mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return UserTicket{}, ErrAlreadyUsed
	}
	var t UserTicket
	if err := db.Where("purpose = ? AND token_hash = ?", purpose, tokenHash).Take(&t).Error; err != nil {
		return UserTicket{}, mapErr(err)
	}
	return t, nil
}

func (s *Store) RevokeUserTickets(ctx context.Context, userID, purpose string, now time.Time) (int64, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	res := db.Model(&UserTicket{}).Where("user_id = ? AND purpose = ? AND consumed_at IS NULL", userID, purpose).
		Update("consumed_at", now.UTC())
	return res.RowsAffected, mapErr(res.Error)
}
