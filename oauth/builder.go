package oauth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/storage"
)

// The claims builder. A grant records only what it is — subject, client, sign-in session (sid, auth_time,
// amr), the organization chosen, the scopes and audiences granted — and every claim a token carries is built
// from the directory as it is when the token is minted: for the authorization code, refresh, client
// credentials and token exchange grants alike, inside fosite's token handler chain (claimsHandler, the last
// handler of the composition, so it runs after every grant handler has validated the request and loaded the
// grant, and before any handler mints a token). The switch-org endpoint and /userinfo use the same functions.
// So a profile edit, a role change, a suspension or a block counts at the next token, without signing in again.

// AuthorizeSession records, when a sign-in completes an authorization request, what the user is granting:
// the subject, the client, the sign-in session ls (its id becomes sid, its connection idp; its auth_time and amr
// are kept), the
// organization chosen (nil: an internal token), and requestedAt, when the authorization request was first
// seen (fosite judges prompt and max_age against it). It grants the requested scopes and audiences (or the
// client as audience) on ar. No claim is frozen here: the token endpoint builds them all.
func (s *Service) AuthorizeSession(_ context.Context, ar fosite.AuthorizeRequester, user storage.User, ls storage.LoginSession,
	access *OrgAccess, requestedAt time.Time) (*Session, error) {
	if user.ID == "" {
		return nil, errors.New("authorize session without a user")
	}
	sess := NewSession(user.ID, ar.GetClient().GetID())
	claims := sess.IDTokenClaims()
	claims.AuthTime = ls.AuthTime.UTC()
	claims.RequestedAt = requestedAt.UTC()
	claims.AuthenticationMethodsReferences = ls.AMR
	if ls.ID != "" {
		claims.Extra["sid"] = ls.ID
	}
	if ls.ConnectionName != "" && ls.ConnectionName != storage.DefaultPasswordConnection {
		claims.Extra[ClaimIdP] = ls.ConnectionName
	}
	if access != nil {
		sess.Org = access.Org.ID
	}
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	GrantAudience(ar)
	return sess, nil
}

// claimsHandler is the claims builder in fosite's token handler chain. It must be the last handler added: the
// request phase runs every handler in order, and the grant handlers before it load and validate the grant.
type claimsHandler struct {
	s *Service
}

var _ fosite.TokenEndpointHandler = (*claimsHandler)(nil)

func (h *claimsHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (h *claimsHandler) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	gt := ar.GetGrantTypes()
	return len(gt) == 1 && IsGrantTypeSupported(gt[0])
}

// HandleTokenEndpointRequest builds the token claims of a validated request (buildClaims).
func (h *claimsHandler) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	return h.s.buildClaims(ctx, ar)
}

// PopulateTokenEndpointResponse has nothing to add: the claims are in the session the grant handlers mint from.
func (h *claimsHandler) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return fosite.ErrUnknownRequest
}

// buildClaims sets the ID-token and access-token claims and the lifetimes of ar's tokens, from the grant ar's
// session records and the directory now:
//   - client credentials: the client is the subject; an "organization" parameter makes an organization token
//     if the client may use organizations and has been allowed into that one; roles and permissions are the
//     client's on the audience;
//   - a user's grant: the user must still exist and not be blocked, an organization's membership must still be
//     active and its policy met, and roles, permissions and profile claims are read afresh — anything withdrawn
//     is invalid_grant (RFC 6749 §5.2). A switch has read and judged the target membership in this request
//     already (switchTo), and the builder takes that read;
//   - every grant: the lifetimes of the audience's resource server apply; a switch never outlives the token it
//     started from.
//
// Errors are fosite errors, ready for WriteAccessError: storage failures are server errors (5xx), never
// invalid_grant.
func (s *Service) buildClaims(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		if err := s.clientClaims(ctx, ar, sess); err != nil {
			return err
		}
	} else if err := s.userClaims(ctx, ar, sess); err != nil {
		return err
	}
	if err := s.applyLifetimes(ctx, ar); err != nil {
		return err
	}
	if st := sess.exchange; st != nil && !st.bound.IsZero() {
		if sess.GetExpiresAt(st.boundType).After(st.bound) {
			sess.SetExpiresAt(st.boundType, st.bound)
		}
	}
	return nil
}

func (s *Service) clientClaims(ctx context.Context, ar fosite.AccessRequester, sess *Session) error {
	client := ar.GetClient()
	// RFC 9068: a token issued to a client on its own behalf has the client as its subject.
	sess.ClientID = client.GetID()
	sess.Subject = sess.ClientID
	GrantAudience(ar)
	auds, err := s.canonicalAudiences(ctx, ar.GetGrantedAudience())
	if err != nil {
		return audienceError(err)
	}
	scopes := ar.GetRequestedScopes()
	if len(scopes) == 0 && len(ar.GetRequestedAudience()) > 0 {
		// No scope asked for: every scope the client is granted on the audience, as Auth0 answers.
		if scopes, err = s.defaultClientScopes(ctx, client, auds); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	} else if err := s.checkDefinedScopes(ctx, auds, scopes); err != nil {
		return err
	}
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	orgParam := ar.GetRequestForm().Get("organization")
	if err := CheckOrgUsage(client, orgParam); err != nil {
		return fosite.ErrInvalidRequest.WithHint(err.Error())
	}
	var access *OrgAccess
	if orgParam != "" {
		a, err := s.ClientOrganization(ctx, client.GetID(), orgParam)
		if err != nil {
			return AccessDeniedError(err)
		}
		access = &a
	}
	g, err := s.clientGrants(ctx, client.GetID(), auds)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	setAccessClaims(sess, access, g)
	return nil
}

// defaultClientScopes are the scopes a client-credentials request that asks for none is granted: the client's
// scopes that the resource server of each audience (auds, canonical names) defines; for an audience that is no
// registered resource server, every scope of the client except the OpenID Connect ones, which mean nothing to a
// client acting for itself.
func (s *Service) defaultClientScopes(ctx context.Context, client fosite.Client, auds []string) ([]string, error) {
	oidc := map[string]bool{}
	for _, sc := range ScopesSupported() {
		oidc[sc] = true
	}
	var out []string
	for _, aud := range auds {
		rs, found, err := s.ResourceServer(ctx, aud)
		if err != nil {
			return nil, err
		}
		defined := map[string]bool{}
		for _, sc := range rs.Scopes {
			defined[sc.Value] = true
		}
		for _, sc := range client.GetScopes() {
			if (found && defined[sc] || !found && !oidc[sc]) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out, nil
}

// checkDefinedScopes refuses, with invalid_scope (RFC 6749 §5.2), a requested scope that none of the requested
// APIs defines, when at least one of the audiences is a registered API: a client's list of scopes says what it may
// ask for, the API's definition what exists. Audiences that are no registered API leave the request as it was.
func (s *Service) checkDefinedScopes(ctx context.Context, auds, scopes []string) error {
	defined, anyAPI := map[string]bool{}, false
	for _, aud := range auds {
		rs, found, err := s.ResourceServer(ctx, aud)
		if err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		if !found {
			continue
		}
		anyAPI = true
		for _, sc := range rs.Scopes {
			defined[sc.Value] = true
		}
	}
	if !anyAPI {
		return nil
	}
	for _, sc := range scopes {
		if !defined[sc] {
			return fosite.ErrInvalidScope.WithHintf("Scope %q is not defined by the requested API.", sc)
		}
	}
	return nil
}

// audienceError is the token endpoint's answer when an audience could not be resolved: access_denied for another
// tenant's API, a server error otherwise.
func audienceError(err error) error {
	if errors.Is(err, ErrForeignAudience) {
		return fosite.ErrAccessDenied.WithHint("The audience is another tenant's API.")
	}
	return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
}

// userClaims re-reads everything a user's tokens say about the user and sets the claims.
func (s *Service) userClaims(ctx context.Context, ar fosite.AccessRequester, sess *Session) error {
	if sess.Subject == "" || sess.Subject == sess.ClientID {
		return nil // a client's own grant reached a user grant's path: nothing about a user to say
	}
	withdrawn := fosite.ErrInvalidGrant.WithHint("The user of this grant no longer exists or has been blocked.")
	var (
		u      storage.User
		access *OrgAccess
	)
	switch orgID := sess.OrgID(); {
	case sess.exchange != nil:
		a := sess.exchange.to
		u, access = a.User, &a
	case orgID != "":
		// The membership query brings the user along: one read for both.
		a, err := s.UserOrganization(ctx, sess.Subject, orgID)
		var oe *OrgError
		if errors.Is(err, ErrGrantWithdrawn) {
			return withdrawn
		} else if errors.As(err, &oe) {
			return fosite.ErrInvalidGrant.WithHintf("The grant's organization no longer accepts this user: %s", oe.Description)
		} else if err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		claims := sess.IDTokenClaims()
		err = s.CheckOrgPolicy(ctx, PolicyInput{Org: a.Org, Membership: a.Membership, UserID: a.User.ID,
			AuthTime: claims.AuthTime, AMR: claims.AuthenticationMethodsReferences})
		var pe *PolicyError
		if errors.As(err, &pe) {
			return fosite.ErrInvalidGrant.WithHint(pe.Description)
		} else if err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		u, access = a.User, &a
	default:
		var err error
		if u, err = s.LiveUser(ctx, sess.Subject); errors.Is(err, ErrGrantWithdrawn) {
			return withdrawn
		} else if err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	}
	var g storage.Grants
	if sess.exchange != nil {
		g = sess.exchange.grants // read by the switch with the membership
	} else {
		kind, subject := storage.SubjectUser, u.ID
		if access != nil {
			kind, subject = storage.SubjectMembership, access.Membership.ID
		}
		auds, err := s.canonicalAudiences(ctx, tokenAudiences(ar))
		if err != nil {
			return audienceError(err)
		}
		if g, err = s.Store.GrantsFor(ctx, kind, subject, auds); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	}
	setAccessClaims(sess, access, g)
	setIDTokenClaims(sess, access, u, ar.GetGrantedScopes())
	return nil
}

// setAccessClaims replaces the access-token claims: roles and permissions always, the organization for an
// organization token.
func setAccessClaims(sess *Session, access *OrgAccess, g storage.Grants) {
	roles, perms := g.Roles, g.Permissions
	if roles == nil {
		roles = []string{}
	}
	if perms == nil {
		perms = []string{}
	}
	sess.AccessClaims = map[string]any{ClaimRoles: roles, ClaimPermissions: perms}
	sess.Org = ""
	if access != nil {
		sess.Org = access.Org.ID
		sess.AccessClaims[ClaimOrgID] = access.Org.ID
		sess.AccessClaims[ClaimActOrg] = access.Org.ID
		sess.AccessClaims[ClaimOrgName] = access.Org.Name
	}
}

// setIDTokenClaims replaces the ID token's claims beyond the sign-in's (sid, idp, auth_time, amr): the organization,
// and the user's standard claims for scopes (UserClaims, as userinfo answers them).
func setIDTokenClaims(sess *Session, access *OrgAccess, u storage.User, scopes fosite.Arguments) {
	c := sess.IDTokenClaims()
	extra := UserClaims(u, scopes)
	for _, k := range []string{"sid", ClaimIdP} { // the sign-in's, kept
		if v, ok := c.Extra[k]; ok {
			extra[k] = v
		}
	}
	if access != nil {
		extra[ClaimOrgID] = access.Org.ID
		extra[ClaimOrgName] = access.Org.Name
	}
	c.Extra = extra
	// Authio has no authentication context classes: fosite's placeholder "0" for acr_values says nothing.
	c.AuthenticationContextClassReference = ""
}

// UserInfo answers /userinfo (OIDC Core §5.3) for an access token's session and granted scopes: sub and the
// standard claims the scopes grant, read now, exactly as the ID token carries them (UserClaims).
// ErrGrantWithdrawn when the user is gone or blocked; other errors are storage failures.
func (s *Service) UserInfo(ctx context.Context, sess *Session, scopes fosite.Arguments) (map[string]any, error) {
	u, err := s.LiveUser(ctx, sess.Subject)
	if err != nil {
		return nil, err
	}
	c := UserClaims(u, scopes)
	c["sub"] = u.ID
	return c, nil
}

// tokenSigner signs ID tokens and access tokens without the claims fosite adds that Authio does not issue:
// rat (not a registered claim) and acr "0" (fosite's stand-in when acr_values was asked for and no class
// applies; OIDC Core §2 makes acr optional, and "0" would claim a level nobody checked).
type tokenSigner struct {
	jwt.Signer
}

// Generate implements jwt.Signer.
func (t tokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	delete(claims, "rat")
	if acr, ok := claims["acr"].(string); ok && (acr == "" || acr == "0") {
		delete(claims, "acr")
	}
	return t.Signer.Generate(ctx, claims, header)
}
