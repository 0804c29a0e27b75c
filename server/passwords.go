package server

import (
	"context"

	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/storage"
)

// PasswordCost is the bcrypt cost of user passwords when neither the tenant (setting password_hash) nor the
// configuration (AUTHIO_PASSWORD_COST) chooses one.
const PasswordCost = password.DefaultCost

// HashPassword hashes a user password with bcrypt at cost; Server.HashPassword picks the tenant's cost.
func HashPassword(pw string, cost int) (string, error) { return password.Hash(pw, cost) }

// CheckPassword compares pw with a bcrypt hash; an empty hash still spends the time of a hash of cost dummyCost.
func CheckPassword(hash, pw string, dummyCost int) bool { return password.Check(hash, pw, dummyCost) }

// PasswordCostFor is the bcrypt cost for passwords set in the tenant in ctx: the tenant's password_hash setting,
// else the configured AUTHIO_PASSWORD_COST, else PasswordCost.
func (s *Server) PasswordCostFor(ctx context.Context) int {
	var ts storage.TenantSettings
	if t := TenantFromContext(ctx); t != nil {
		ts = t.Settings
	} else if tid, ok := storage.TenantFromContext(ctx); ok { // the CLI has no request tenant
		if t, err := s.Store.GetTenant(ctx, tid); err == nil {
			ts = t.Settings
		}
	}
	if ts.PasswordHash != nil && ts.PasswordHash.Cost > 0 {
		return ts.PasswordHash.Cost
	}
	if s.Config.PasswordCost > 0 {
		return s.Config.PasswordCost
	}
	return PasswordCost
}

// HashPassword hashes a password for the tenant in ctx at its cost (PasswordCostFor).
func (s *Server) HashPassword(ctx context.Context, pw string) (string, error) {
	return password.Hash(pw, s.PasswordCostFor(ctx))
}
