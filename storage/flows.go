package storage

import (
	"context"
	"time"
)

// AuthFlow is a pending authorization request that needs the user: /authorize stores it, the browser carries
// only ID, and each sign-in step (identify and authenticate, choose an organization) records what it
// satisfied. The last step completes it, once.
type AuthFlow struct {
	// ID is the flow's public, opaque, random id ("flw_…"), the only thing the browser's URLs carry.
	ID       string `gorm:"primaryKey"`
	TenantID string
	// BrowserHash is a hash of the browser's flow cookie: a flow id presented by another browser is refused.
	BrowserHash string
	ClientID    string
	// Params is the validated authorization request, form-encoded (url.Values.Encode).
	Params string
	// Organization is the "organization" parameter as requested ("" when none).
	Organization string
	// OrgRequired: the client requires an organization and the request named none, so the user chooses one.
	OrgRequired bool
	// UserID, SessionID, AuthTime and AMR are set once the user is identified and authenticated: by a sign-in
	// within the flow, or by the browser session /authorize found acceptable.
	UserID    string
	SessionID string
	AuthTime  *time.Time
	AMR       StringList
	// OrganizationID is the organization the user chose in the flow ("" until then).
	OrganizationID string
	// ConnectionID is the upstream connection (redirect or POST binding) the flow sent the browser to, whose
	// callback it now expects ("" until then).
	ConnectionID string
	// LoginEmail is the address typed at the sign-in page's email step: nil until one is given (the request's
	// login_hint stands in), "" once the user chose "Not you?".
	LoginEmail *string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// CompletedAt is set, once, when the flow produced its authorization response.
	CompletedAt *time.Time
}

// Flows stores sign-in flows of the tenant in the context.
type Flows interface {
	// CreateFlow stores f. ErrAlreadyExists when its id is taken.
	CreateFlow(ctx context.Context, f AuthFlow) error
	// GetFlow returns the flow with id, whether open, expired or completed; ErrNotFound when the tenant has none.
	GetFlow(ctx context.Context, id string) (AuthFlow, error)
	// AdvanceFlow applies fn to an open flow (not completed, not expired at now) and stores the result in a
	// transaction; id, tenant, browser binding, request, creation, expiry and completion cannot change.
	// ErrNotFound when there is no such flow; ErrAlreadyUsed when it is completed or expired (also when that
	// happened concurrently: the write is conditional on completed_at still being NULL).
	AdvanceFlow(ctx context.Context, id string, now time.Time, fn func(f AuthFlow) (AuthFlow, error)) error
	// CompleteFlow marks an open flow completed at now with one conditional write: of several concurrent
	// calls, on any replica, exactly one succeeds; the others, and any call for a flow that is completed,
	// expired or unknown, get ErrAlreadyUsed.
	CompleteFlow(ctx context.Context, id string, now time.Time) error
}

var _ Flows = (*Store)(nil)

func (s *Store) CreateFlow(ctx context.Context, f AuthFlow) error {
	tid, ok := TenantFromContext(ctx)
	if !ok {
		return ErrNoTenant
	}
	f.TenantID = tid
	f.AuthTime, f.CompletedAt = utcPtr(f.AuthTime), utcPtr(f.CompletedAt)
	f.CreatedAt, f.ExpiresAt = f.CreatedAt.UTC(), f.ExpiresAt.UTC()
	if f.AMR == nil {
		f.AMR = StringList{}
	}
	return mapErr(s.conn(ctx).Create(&f).Error)
}

func (s *Store) GetFlow(ctx context.Context, id string) (AuthFlow, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return AuthFlow{}, err
	}
	var f AuthFlow
	if err := db.Where("id = ?", id).Take(&f).Error; err != nil {
		return AuthFlow{}, mapErr(err)
	}
	return f, nil
}

func (s *Store) AdvanceFlow(ctx context.Context, id string, now time.Time, fn func(f AuthFlow) (AuthFlow, error)) error {
	now = now.UTC()
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.lockRow(ctx, &AuthFlow{}, id); err != nil {
			return err
		}
		old, err := s.GetFlow(ctx, id)
		if err != nil {
			return err
		}
		if old.CompletedAt != nil || !now.Before(old.ExpiresAt) {
			return ErrAlreadyUsed
		}
		f, err := fn(old)
		if err != nil {
			return err
		}
		f.ID, f.TenantID, f.BrowserHash, f.ClientID, f.Params = old.ID, old.TenantID, old.BrowserHash, old.ClientID, old.Params
		f.CreatedAt, f.ExpiresAt, f.CompletedAt = old.CreatedAt, old.ExpiresAt, nil
		f.AuthTime = utcPtr(f.AuthTime)
		if f.AMR == nil {
			f.AMR = StringList{}
		}
		db, _, err := s.scoped(ctx)
		if err != nil {
			return err
		}
		res := db.Model(&AuthFlow{}).Where("id = ? AND completed_at IS NULL", id).
			Select("organization", "org_required", "user_id", "session_id", "auth_time", "amr", "organization_id", "connection_id", "login_email").Updates(&f)
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrAlreadyUsed
		}
		return nil
	})
}

func (s *Store) CompleteFlow(ctx context.Context, id string, now time.Time) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	now = now.UTC()
	res := db.Model(&AuthFlow{}).Where("id = ? AND completed_at IS NULL AND expires_at > ?", id, now).
		Update("completed_at", now)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrAlreadyUsed
	}
	return nil
}
