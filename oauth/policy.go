package oauth

import (
	"context"
	"time"

	"github.com/authio/authio/storage"
)

// Organization auth policy: the seam where an organization's own requirements (SSO only, MFA, a maximum
// session age) are enforced whenever a session acts in it — when a token for it is issued at /authorize and
// when a session switches into it. Server.OrgPolicy is nil until those requirements exist, and a nil policy
// asks for nothing beyond an active membership.

// PolicyInput is what a policy judges: the organization, the membership and how the session signed in.
type PolicyInput struct {
	Org        storage.Organization
	Membership storage.Membership
	UserID     string
	AuthTime   time.Time // when the session signed in
	AMR        []string  // how: "pwd", later "mfa", "sso", …
}

// OrgPolicy decides whether a session may act in an organization.
type OrgPolicy interface {
	// Check returns nil to allow, a *PolicyError when the user must do more (sign in again, use SSO or a
	// second factor), or another error when the policy could not be evaluated.
	Check(ctx context.Context, in PolicyInput) error
}

// PolicyError says what an organization requires before the session may act in it.
type PolicyError struct {
	Requirement string // stable: "sso", "mfa", "max_age", …
	Description string // for the client and the user
}

func (e *PolicyError) Error() string { return e.Description }

// CheckOrgPolicy applies the organization's policy (none when Server.OrgPolicy is nil).
func (s *Service) CheckOrgPolicy(ctx context.Context, in PolicyInput) error {
	if s.OrgPolicy == nil {
		return nil
	}
	return s.OrgPolicy.Check(ctx, in)
}
