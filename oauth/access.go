package oauth

import (
	"context"
	"errors"
	"time"

	"github.com/ory/fosite"

	"github.com/authio/authio/storage"
)

// Organization tokens and internal tokens.
//
// A token names an organization when the request asked for one (authorize or client credentials with
// "organization", or a switch): its claims then carry the organization and the roles and permissions of the
// user's membership (or of the machine client). Without an organization the token is internal: its roles and
// permissions are the subject's tenant-level ones. Permissions are always those on the token's audiences.

// OrgError says why a subject may not have tokens for an organization. Description is meant for the client
// (error_description) and for hosted pages; it never tells a non-member whether the organization exists.
type OrgError struct {
	Code        string // stable: not_member, suspended, invited, usage_denied, organization_required, organization_missing, client_not_allowed
	Description string
}

func (e *OrgError) Error() string { return e.Description }

func orgErr(code, desc string) error { return &OrgError{Code: code, Description: desc} }

// Organization usage of a client: whether its tokens may, must or must not name an organization.
func orgUsage(c fosite.Client) string {
	if fc, ok := c.(*storage.FositeClient); ok && fc.OrganizationUsage != "" {
		return fc.OrganizationUsage
	}
	return storage.OrgUsageDeny
}

// OrganizationUsage returns the client's organization usage (deny, allow or require).
func OrganizationUsage(c fosite.Client) string { return orgUsage(c) }

// CheckOrgUsage refuses an organization the client may not ask for, or a missing one it must: code
// organization_required when the user may choose one after signing in, organization_missing when the client must
// name it (its organization_require_behavior is no_prompt, Auth0's default).
func CheckOrgUsage(c fosite.Client, requested string) error {
	switch usage := orgUsage(c); {
	case requested != "" && usage == storage.OrgUsageDeny:
		return orgErr("usage_denied", "This application does not use organizations (its organization_usage is deny).")
	case requested == "" && usage == storage.OrgUsageRequire && orgRequireBehavior(c) == "no_prompt":
		return orgErr("organization_missing", "This application requires an organization: pass the organization parameter (its organization_require_behavior is no_prompt).")
	case requested == "" && usage == storage.OrgUsageRequire:
		return orgErr("organization_required", "This application requires an organization.")
	}
	return nil
}

// UserPicksOrganization reports whether, when an authorization request of client c names no organization, the
// user picks one after signing in: c requires an organization and may prompt for it (not no_prompt).
func UserPicksOrganization(c fosite.Client) bool {
	var oe *OrgError
	return errors.As(CheckOrgUsage(c, ""), &oe) && oe.Code == "organization_required"
}

// orgRequireBehavior is the client's organization_require_behavior ("" for post_login_prompt).
func orgRequireBehavior(c fosite.Client) string {
	if fc, ok := c.(*storage.FositeClient); ok {
		return fc.OrganizationRequireBehavior
	}
	return ""
}

// OrgAccess is an organization a subject may have tokens for, with the user's membership and the user as they
// are now (zero for a client).
type OrgAccess struct {
	Org        storage.Organization
	Membership storage.Membership
	User       storage.User
}

// UserOrganization checks, in one query, that user is an active member of the organization named by idOrName
// (id or name) in the tenant of ctx: an *OrgError when not (a deleted user is no member), ErrGrantWithdrawn when
// the user is blocked.
func (s *Service) UserOrganization(ctx context.Context, userID, idOrName string) (OrgAccess, error) {
	notMember := orgErr("not_member", "You are not a member of this organization.")
	org, m, u, err := s.Store.OrganizationMembership(ctx, idOrName, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return OrgAccess{}, notMember
	} else if err != nil {
		return OrgAccess{}, err
	}
	if u.Blocked {
		return OrgAccess{}, ErrGrantWithdrawn
	}
	switch m.Status {
	case storage.MembershipActive:
		return OrgAccess{Org: org, Membership: m, User: u}, nil
	case storage.MembershipSuspended:
		return OrgAccess{}, orgErr("suspended", "Your membership in this organization is suspended.")
	case storage.MembershipInvited:
		return OrgAccess{}, orgErr("invited", "Your invitation to this organization has not been accepted yet.")
	}
	return OrgAccess{}, notMember
}

// ClientOrganization checks that a machine client has been allowed into the organization named by idOrName.
func (s *Service) ClientOrganization(ctx context.Context, clientID, idOrName string) (OrgAccess, error) {
	denied := orgErr("client_not_allowed", "This client is not allowed into this organization.")
	org, err := s.Store.GetOrganization(ctx, idOrName)
	if errors.Is(err, storage.ErrNotFound) {
		return OrgAccess{}, denied
	} else if err != nil {
		return OrgAccess{}, err
	}
	in, err := s.Store.ClientInOrganization(ctx, clientID, org.ID)
	if err != nil {
		return OrgAccess{}, err
	}
	if !in {
		return OrgAccess{}, denied
	}
	return OrgAccess{Org: org}, nil
}

// ActiveMemberships lists the organizations a user may pick: their active memberships only.
func (s *Service) ActiveMemberships(ctx context.Context, userID string) ([]storage.UserMembership, error) {
	all, err := s.Store.ListUserMemberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, m := range all {
		if m.Status == storage.MembershipActive {
			out = append(out, m)
		}
	}
	return out, nil
}

// GrantAudience grants the requested audiences (fosite has checked the client may ask for them), or the
// client itself when none was asked for, so every access token names its audience (RFC 9068).
func GrantAudience(ar fosite.Requester) {
	if len(ar.GetRequestedAudience()) == 0 {
		ar.GrantAudience(ar.GetClient().GetID())
		return
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
}

// tokenAudiences are the audiences the tokens of ar will carry: those already granted (refresh), else those the
// authorization asked for (a code grants its audiences only while the response is written), else the client.
func tokenAudiences(ar fosite.AccessRequester) []string {
	if a := ar.GetGrantedAudience(); len(a) > 0 {
		return a
	}
	if a := ar.GetRequestedAudience(); len(a) > 0 {
		return a
	}
	return []string{ar.GetClient().GetID()}
}

// LiveUser returns the user with id if the user still exists and is not blocked, ErrGrantWithdrawn if not, or
// the storage error. Every path that mints or honours a user's token asks it.
func (s *Service) LiveUser(ctx context.Context, id string) (storage.User, error) {
	u, err := s.Store.GetUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Blocked) {
		return storage.User{}, ErrGrantWithdrawn
	}
	return u, err
}

// AccessDeniedError turns an OrgError (or a blocked user, ErrGrantWithdrawn) into access_denied with its
// description; other errors are server errors.
func AccessDeniedError(err error) *fosite.RFC6749Error {
	var oe *OrgError
	if errors.As(err, &oe) {
		return fosite.ErrAccessDenied.WithHint(oe.Description)
	}
	if errors.Is(err, ErrGrantWithdrawn) {
		return fosite.ErrAccessDenied.WithHint("This account is blocked.")
	}
	return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
}

// Lifetimes returns the access and refresh token lifetimes for tokens with the given audiences: those of
// their resource servers (the shortest when there are several), or ok=false when no audience is one.
func (s *Service) Lifetimes(ctx context.Context, audiences []string) (access, refresh time.Duration, ok bool, err error) {
	for _, aud := range audiences {
		rs, found, err := s.ResourceServer(ctx, aud)
		if err != nil {
			return 0, 0, false, err
		}
		if !found {
			continue
		}
		at, rt := time.Duration(rs.TokenLifetime)*time.Second, time.Duration(rs.RefreshLifetime)*time.Second
		if at <= 0 {
			at = DefaultResourceTokenLifetime * time.Second
		}
		if rt <= 0 {
			rt = DefaultResourceRefreshLifetime * time.Second
		}
		if !ok || at < access {
			access = at
		}
		if !ok || rt < refresh {
			refresh = rt
		}
		ok = true
	}
	return access, refresh, ok, nil
}

// applyLifetimes overrides the expiry fosite set from tenant defaults with the resource server's lifetimes.
// A refreshed grant keeps the refresh expiry fosite gave it unless the resource server's is shorter.
func (s *Service) applyLifetimes(ctx context.Context, ar fosite.AccessRequester) error {
	// A code exchange grants its audiences only while fosite writes the response; until then the audiences
	// the authorization request asked for are the ones it will get.
	auds := ar.GetGrantedAudience()
	if len(auds) == 0 {
		auds = ar.GetRequestedAudience()
	}
	at, rt, ok, err := s.Lifetimes(ctx, auds)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	if !ok {
		return nil
	}
	now := s.Now().UTC().Round(time.Second)
	sess := ar.GetSession()
	sess.SetExpiresAt(fosite.AccessToken, now.Add(at))
	if exp := sess.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() && now.Add(rt).Before(exp) {
		sess.SetExpiresAt(fosite.RefreshToken, now.Add(rt))
	}
	return nil
}

// ErrGrantWithdrawn means a token's grant no longer holds: its user is gone or blocked, its membership is no
// longer active, or its machine client is no longer allowed into its organization.
var ErrGrantWithdrawn = errors.New("the token's user, membership or organization access has been withdrawn")

// LivePermissions re-evaluates, now, what the subject of an access token's session may do on audience: an
// organization token needs its user's membership (or its client's access) to be active still, a user must
// still exist and not be blocked, and roles and permissions are read afresh rather than taken from the token. APIs Authio serves
// itself (the Management API) use it so a suspension or a role removal counts at once, not at token expiry.
func (s *Service) LivePermissions(ctx context.Context, sess *Session, audience string) ([]string, error) {
	auds := []string{audience}
	orgID := sess.OrgID()
	if sess.Subject == "" || sess.Subject == sess.ClientID {
		if orgID != "" {
			_, err := s.ClientOrganization(ctx, sess.ClientID, orgID)
			var oe *OrgError
			if errors.As(err, &oe) {
				return nil, ErrGrantWithdrawn
			} else if err != nil {
				return nil, err
			}
		}
		g, err := s.clientGrants(ctx, sess.ClientID, auds)
		return g.Permissions, err
	}
	if orgID != "" {
		a, err := s.UserOrganization(ctx, sess.Subject, orgID) // ErrGrantWithdrawn for a blocked user
		var oe *OrgError
		if errors.As(err, &oe) {
			return nil, ErrGrantWithdrawn
		} else if err != nil {
			return nil, err
		}
		g, err := s.Store.GrantsFor(ctx, storage.SubjectMembership, a.Membership.ID, auds)
		return g.Permissions, err
	}
	if _, err := s.LiveUser(ctx, sess.Subject); err != nil {
		return nil, err
	}
	g, err := s.Store.GrantsFor(ctx, storage.SubjectUser, sess.Subject, auds)
	return g.Permissions, err
}
