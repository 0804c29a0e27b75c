package server

import (
	"context"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/authio/authio/authn/mfa"
	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/storage"
)

// EventTenantSettingsUpdated is audited, with the changed settings and their new values, when a tenant's
// settings change.
const EventTenantSettingsUpdated = "tenant.settings_updated"

// Defaults of the tenant settings (storage.TenantSettings stores 0 for "the default"). Durations are seconds.
const (
	DefaultBruteForceThreshold         = 10
	DefaultBruteForceBlockSeconds      = 3600
	DefaultIPFailureLimit              = 100
	DefaultIPFailureWindowSeconds      = 3600
	DefaultAccountFailureLimit         = 1000
	DefaultAccountFailureWindowSeconds = 3600
	// MaxRefreshTokenReuseInterval bounds refresh_token_reuse_interval: a grace period, not a second lifetime.
	MaxRefreshTokenReuseInterval = 300
)

// TenantSettingsUpdate changes the settings that are not nil; each is named in errors and the audit log by its
// JSON name in storage.TenantSettings.
type TenantSettingsUpdate struct {
	RefreshTokenReuseInterval   *int
	BruteForceThreshold         *int
	BruteForceBlockSeconds      *int
	IPFailureLimit              *int
	IPFailureWindowSeconds      *int
	AccountFailureLimit         *int
	AccountFailureWindowSeconds *int
	// PasswordHash sets the algorithm ("bcrypt") and cost (10 to 15) of passwords hashed from now on.
	PasswordHash *storage.PasswordHashSettings
	// EmailVerification sets storage.TenantSettings.EmailVerification: "optional" or "required".
	EmailVerification *string
	// EmailFrom, EmailBrandColor and EmailLogoURL set the tenant's email branding (storage.TenantSettings); ""
	// returns to the default.
	EmailFrom, EmailBrandColor, EmailLogoURL *string
	// MFA sets the second-factor policy: "optional" or "required" (mfa.ModeOptional, mfa.ModeRequired).
	MFA *string
}

// emailSettings pairs the email branding settings with their new values in u, and checks a new value.
func (u TenantSettingsUpdate) emailSettings(ts *storage.TenantSettings) []struct {
	name          string
	field, update *string
	check         func(v string) string // "" when v is acceptable, else what is wrong
} {
	type es = struct {
		name          string
		field, update *string
		check         func(v string) string
	}
	return []es{
		{"email_from", &ts.EmailFrom, u.EmailFrom, func(v string) string {
			if a, err := netmail.ParseAddress(v); err != nil || len(v) > 320 || strings.ContainsAny(v, "\r\n") || a == nil {
				return "must be an email address, optionally with a name (Name <address>)"
			}
			return ""
		}},
		{"email_brand_color", &ts.EmailBrandColor, u.EmailBrandColor, func(v string) string {
			if !brandColorRE.MatchString(v) {
				return "must be a color written #rrggbb"
			}
			return ""
		}},
		{"email_logo_url", &ts.EmailLogoURL, u.EmailLogoURL, func(v string) string {
			if p, err := url.Parse(v); err != nil || p.Scheme != "https" || p.Host == "" || len(v) > 2048 {
				return "must be an https URL"
			}
			return ""
		}},
	}
}

var brandColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// setting is one integer tenant setting: its name, where it lives, the value 0 stands for, and its range.
type setting struct {
	name     string
	field    *int // in the settings being read or changed
	update   *int // the new value; nil leaves it
	def      int
	min, max int
}

// settings lists every field of ts, paired with its new value in u. A field added to storage.TenantSettings
// must be added here (the Management API tests check that every field is served).
func (u TenantSettingsUpdate) settings(ts *storage.TenantSettings) []setting {
	return []setting{
		{"refresh_token_reuse_interval", &ts.RefreshTokenReuseInterval, u.RefreshTokenReuseInterval, 0, 0, MaxRefreshTokenReuseInterval},
		{"brute_force_threshold", &ts.BruteForceThreshold, u.BruteForceThreshold, DefaultBruteForceThreshold, 1, 1000},
		{"brute_force_block_seconds", &ts.BruteForceBlockSeconds, u.BruteForceBlockSeconds, DefaultBruteForceBlockSeconds, 60, 30 * 24 * 3600},
		{"ip_failure_limit", &ts.IPFailureLimit, u.IPFailureLimit, DefaultIPFailureLimit, 1, 1_000_000},
		{"ip_failure_window_seconds", &ts.IPFailureWindowSeconds, u.IPFailureWindowSeconds, DefaultIPFailureWindowSeconds, 60, 24 * 3600},
		{"account_failure_limit", &ts.AccountFailureLimit, u.AccountFailureLimit, DefaultAccountFailureLimit, 1, 1_000_000},
		{"account_failure_window_seconds", &ts.AccountFailureWindowSeconds, u.AccountFailureWindowSeconds, DefaultAccountFailureWindowSeconds, 60, 24 * 3600},
	}
}

// EffectiveSettings returns ts with every field left at 0 set to the default it stands for.
func EffectiveSettings(ts storage.TenantSettings) storage.TenantSettings {
	for _, f := range (TenantSettingsUpdate{}).settings(&ts) {
		if *f.field == 0 {
			*f.field = f.def
		}
	}
	if ts.EmailVerification == "" {
		ts.EmailVerification = storage.EmailVerificationOptional
	}
	if ts.MFA == "" {
		ts.MFA = mfa.ModeOptional
	}
	return ts
}

// TenantSettings returns the settings of the tenant in ctx as they are stored now, defaults filled in.
func (s *Server) TenantSettings(ctx context.Context) (storage.TenantSettings, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return storage.TenantSettings{}, storage.ErrNoTenant
	}
	t, err := s.Store.GetTenant(ctx, tid)
	if err != nil {
		return storage.TenantSettings{}, err
	}
	return s.effectiveSettings(t.Settings), nil
}

// effectiveSettings is EffectiveSettings with the password hashing in effect filled in too (it depends on the
// server's configuration, not only on the tenant).
func (s *Server) effectiveSettings(ts storage.TenantSettings) storage.TenantSettings {
	ts = EffectiveSettings(ts)
	if ts.PasswordHash == nil || ts.PasswordHash.Cost == 0 {
		cost := s.Config.PasswordCost
		if cost == 0 {
			cost = PasswordCost
		}
		ts.PasswordHash = &storage.PasswordHashSettings{Algorithm: "bcrypt", Cost: cost}
	}
	return ts
}

// UpdateTenantSettings changes the settings of the tenant in ctx and returns them, defaults filled in. A value out
// of its range is a ValidationError naming the setting, and then nothing changes. A change is audited
// (EventTenantSettingsUpdated) in its transaction; once committed, every replica's cache drops the old settings
// (this replica's before UpdateTenantSettings returns).
func (s *Server) UpdateTenantSettings(ctx context.Context, upd TenantSettingsUpdate) (storage.TenantSettings, error) {
	tid, ok := storage.TenantFromContext(ctx)
	if !ok {
		return storage.TenantSettings{}, storage.ErrNoTenant
	}
	for _, f := range upd.settings(&storage.TenantSettings{}) {
		if f.update != nil && (*f.update < f.min || *f.update > f.max) {
			return storage.TenantSettings{}, invalid(f.name, "must be an integer from %d to %d", f.min, f.max)
		}
	}
	for _, f := range upd.emailSettings(&storage.TenantSettings{}) {
		if f.update != nil && *f.update != "" {
			if msg := f.check(*f.update); msg != "" {
				return storage.TenantSettings{}, invalid(f.name, "%s", msg)
			}
		}
	}
	if ph := upd.PasswordHash; ph != nil {
		if ph.Algorithm != "bcrypt" {
			return storage.TenantSettings{}, invalid("password_hash.algorithm", `must be "bcrypt"`)
		}
		if ph.Cost < password.MinTenantCost || ph.Cost > password.MaxTenantCost {
			return storage.TenantSettings{}, invalid("password_hash.cost", "must be an integer from %d to %d",
				password.MinTenantCost, password.MaxTenantCost)
		}
	}
	if ev := upd.EmailVerification; ev != nil && *ev != storage.EmailVerificationOptional && *ev != storage.EmailVerificationRequired {
		return storage.TenantSettings{}, invalid("email_verification", `must be "optional" or "required"`)
	}
	if upd.MFA != nil && *upd.MFA != mfa.ModeOptional && *upd.MFA != mfa.ModeRequired {
		return storage.TenantSettings{}, invalid("mfa", `must be "optional" or "required"`)
	}
	var changed []string
	values := storage.JSONMap{}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		err := s.Store.UpdateTenant(ctx, tid, func(t storage.Tenant) (storage.Tenant, error) {
			changed, values = nil, storage.JSONMap{}
			for _, f := range upd.settings(&t.Settings) {
				cur := *f.field
				if cur == 0 {
					cur = f.def
				}
				if f.update != nil && *f.update != cur {
					*f.field = *f.update
					changed = append(changed, f.name)
					values[f.name] = *f.update
				}
			}
			for _, f := range upd.emailSettings(&t.Settings) {
				if f.update != nil && *f.update != *f.field {
					*f.field = *f.update
					changed = append(changed, f.name)
					values[f.name] = *f.update
				}
			}
			if ph := upd.PasswordHash; ph != nil {
				if cur := s.effectiveSettings(t.Settings).PasswordHash; *cur != *ph {
					v := *ph
					t.Settings.PasswordHash = &v
					changed = append(changed, "password_hash")
					values["password_hash"] = storage.JSONMap{"algorithm": v.Algorithm, "cost": v.Cost}
				}
			}
			if ev := upd.EmailVerification; ev != nil && *ev != EffectiveSettings(t.Settings).EmailVerification {
				t.Settings.EmailVerification = *ev
				changed = append(changed, "email_verification")
				values["email_verification"] = *ev
			}
			if upd.MFA != nil && *upd.MFA != EffectiveSettings(t.Settings).MFA {
				t.Settings.MFA = *upd.MFA
				changed = append(changed, "mfa")
				values["mfa"] = *upd.MFA
			}
			return t, nil
		})
		if err != nil || len(changed) == 0 {
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: EventTenantSettingsUpdated, Data: storage.JSONMap{"changed": changed, "values": values}})
	})
	if err != nil {
		return storage.TenantSettings{}, err
	}
	return s.TenantSettings(ctx)
}
