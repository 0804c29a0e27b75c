package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/storage"
)

// Switching the active organization. A user's session is theirs, not an organization's: a switch takes one
// of the user's live tokens and mints tokens for another organization with the same subject, the same
// sign-in (sid, auth_time, amr), no more scope than before, and an audience within the token's (or, for a
// client that authenticates, within the client's allowed audiences). Two doors lead here:
// POST /v1/sessions/switch-org (SwitchOrganization) and RFC 8693 token exchange at the token endpoint
// (tokenExchangeHandler). Both refuse a non-member or suspended member, a token of another client or tenant,
// and an expired or revoked token, and both write session.org_switched.

// RFC 8693 token type identifiers.
const (
	TokenTypeAccess  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefresh = "urn:ietf:params:oauth:token-type:refresh_token"
)

// ErrInvalidTarget is RFC 8693's error for an audience the client may not ask for.
var ErrInvalidTarget = &fosite.RFC6749Error{ErrorField: "invalid_target", DescriptionField: "The requested audience is not allowed.",
	CodeField: http.StatusBadRequest}

// ErrInvalidSubjectToken means a switch's token is unknown, expired, revoked, another tenant's, or not a user's.
var ErrInvalidSubjectToken = errors.New("the token is invalid, expired, revoked or not a user's token")

// Grant is a validated, live token of a user: what a switch starts from.
type Grant struct {
	Use     fosite.TokenUse
	Request fosite.Requester // the stored request: client, granted scopes and audiences
	Session *Session
}

// UserGrant validates token as a live token of use (access or refresh) issued to a user in the tenant of ctx.
// It does not look the user up. A token it could not check (the database failed) is not invalid: that error
// comes back as it is (OAuthError: 5xx), never as ErrInvalidSubjectToken.
func (s *Service) UserGrant(ctx context.Context, token string, use fosite.TokenUse) (Grant, error) {
	if token == "" {
		return Grant{}, ErrInvalidSubjectToken
	}
	sess := NewSession("", "")
	got, req, err := s.Provider.IntrospectToken(ctx, token, use, sess)
	if rfc := httpx.OAuthError(err); rfc != nil && rfc.CodeField >= http.StatusInternalServerError {
		return Grant{}, rfc
	}
	if err != nil || got != use {
		return Grant{}, ErrInvalidSubjectToken
	}
	if sess.Subject == "" || sess.Subject == sess.ClientID {
		return Grant{}, ErrInvalidSubjectToken // a client's own token has no user to switch
	}
	// Whether the user still exists is for the caller to ask where it matters: a switch needs an active
	// membership, which a deleted user no longer has.
	return Grant{Use: use, Request: req, Session: sess}, nil
}

// switchTo fills ar, a fresh request of client, for a switch of grant g into the organization orgParam, with
// the requested scopes and audiences (empty: those of g). Errors are fosite errors: invalid_grant when the user
// has been deleted or blocked since g was issued, access_denied when the user is not an active member.
func (s *Service) switchTo(ctx context.Context, ar fosite.AccessRequester, g Grant, orgParam string, scopes, audiences []string) (OrgAccess, error) {
	client := ar.GetClient()
	if g.Request.GetClient().GetID() != client.GetID() {
		return OrgAccess{}, fosite.ErrInvalidRequest.WithHint("The token was issued to another client.")
	}
	if orgParam == "" {
		return OrgAccess{}, fosite.ErrInvalidRequest.WithHint("The organization to switch to is missing.")
	}
	if err := CheckOrgUsage(client, orgParam); err != nil {
		return OrgAccess{}, fosite.ErrInvalidRequest.WithHint(err.Error())
	}
	userID := g.Session.Subject
	withdrawn := fosite.ErrInvalidGrant.WithHint("The token's user no longer exists or has been blocked.")
	access, err := s.UserOrganization(ctx, userID, orgParam) // the user comes with the membership, in one read
	var oe *OrgError
	if errors.Is(err, ErrGrantWithdrawn) {
		return OrgAccess{}, withdrawn
	} else if errors.As(err, &oe) {
		// Not a member — or no longer a user at all, which only this refusal pays a second read to tell.
		if _, lerr := s.LiveUser(ctx, userID); errors.Is(lerr, ErrGrantWithdrawn) {
			return OrgAccess{}, withdrawn
		} else if lerr != nil {
			return OrgAccess{}, fosite.ErrServerError.WithWrap(lerr).WithDebug(lerr.Error())
		}
		return OrgAccess{}, AccessDeniedError(err)
	} else if err != nil {
		return OrgAccess{}, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	old := g.Session.IDTokenClaims()
	// The seam for the target organization's auth policy (SSO only, MFA, maximum session age).
	if err := s.CheckOrgPolicy(ctx, PolicyInput{Org: access.Org, Membership: access.Membership, UserID: userID,
		AuthTime: old.AuthTime, AMR: old.AuthenticationMethodsReferences}); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			return OrgAccess{}, fosite.ErrInteractionRequired.WithHint(pe.Description).WithDebug(pe.Requirement)
		}
		return OrgAccess{}, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}

	granted := g.Request.GetGrantedScopes()
	if len(scopes) == 0 {
		scopes = granted
	}
	for _, sc := range scopes {
		if !granted.Has(sc) {
			return OrgAccess{}, fosite.ErrInvalidScope.WithHintf("Scope %q was not granted to the token being exchanged: scopes can only shrink.", sc)
		}
	}
	if len(audiences) == 0 {
		audiences = g.Request.GetGrantedAudience()
	}
	if err := s.pc.GetAudienceStrategy(ctx)(client.GetAudience(), audiences); err != nil {
		return OrgAccess{}, ErrInvalidTarget.WithHint("The client may not ask for this audience.")
	}
	// A public client proves nothing but the token it presents, and access tokens travel to APIs: whoever
	// holds one (that API's server, say) could otherwise trade it for a token to another API, the Management
	// API included. Only an authenticated client may move to another of its audiences.
	if client.IsPublic() {
		if err := s.pc.GetAudienceStrategy(ctx)(g.Request.GetGrantedAudience(), audiences); err != nil {
			return OrgAccess{}, ErrInvalidTarget.WithHint("A public client can only keep the audience of the token it exchanges.")
		}
	}

	sess := NewSession(userID, client.GetID())
	// The switched tokens start a rotation family of their own but stay part of the sign-in they came from:
	// revoking it (or detecting reuse in it) revokes them too.
	sess.GrantID = g.Session.GrantID
	if sess.GrantID == "" {
		sess.GrantID = g.Request.GetID()
	}
	sess.Org = access.Org.ID
	claims := sess.IDTokenClaims()
	claims.AuthTime, claims.AuthenticationMethodsReferences = old.AuthTime, old.AuthenticationMethodsReferences
	for _, k := range []string{"sid", ClaimIdP} {
		if v, ok := old.Extra[k]; ok {
			claims.Extra[k] = v
		}
	}
	ar.SetSession(sess)
	for _, sc := range scopes {
		ar.GrantScope(sc)
	}
	for _, a := range audiences {
		ar.GrantAudience(a)
	}
	now := s.Now().UTC().Round(time.Second)
	sess.SetExpiresAt(fosite.AccessToken, now.Add(s.pc.GetAccessTokenLifespan(ctx)))
	sess.SetExpiresAt(fosite.RefreshToken, now.Add(s.pc.GetRefreshTokenLifespan(ctx)))
	// The claims builder takes the membership read and judged here, and applies the resource server's
	// lifetimes within the bound: a switch moves a grant to another organization, it never lengthens it, so the
	// token it starts from bounds the token of the same kind it mints (an access token cannot renew itself by
	// switching again and again, nor a refresh token restart its lifetime).
	// The roles and permissions of the membership on the tokens' audiences, read here with the membership so
	// that the claims builder has nothing left to read.
	auds, err := s.canonicalAudiences(ctx, tokenAudiences(ar))
	if err != nil {
		return OrgAccess{}, audienceError(err)
	}
	grants, err := s.Store.GrantsFor(ctx, storage.SubjectMembership, access.Membership.ID, auds)
	if err != nil {
		return OrgAccess{}, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	sess.exchange = &exchangeState{from: g.Session.OrgID(), to: access, grants: grants,
		bound: g.Session.GetExpiresAt(g.Use), boundType: fosite.TokenType(g.Use)}
	return access, nil
}

// Minted are the tokens of a switch.
type Minted struct {
	AccessToken  string
	RefreshToken string // only when the switch started from a refresh token
	// IDToken is an ID token for the new organization when the token switched from was granted openid (OpenID
	// Connect Core §3.1.3.3): the same sign-in (sid, auth_time, amr), aud the client, org_id and org_name of the
	// organization switched to. "" otherwise.
	IDToken   string
	ExpiresIn time.Duration
}

// mintSwitch stores and returns the tokens of a prepared switch and records it in the audit log.
func (s *Service) mintSwitch(ctx context.Context, ar fosite.AccessRequester, withRefresh bool, from string, to OrgAccess, via string) (Minted, error) {
	at, atSig, err := s.strategy.GenerateAccessToken(ctx, ar)
	if err != nil {
		return Minted{}, err
	}
	var idToken string
	if ar.GetGrantedScopes().Has("openid") {
		if idToken, err = s.switchIDToken(ctx, ar, at); err != nil {
			return Minted{}, err
		}
	}
	var rt, rtSig string
	if withRefresh {
		if rt, rtSig, err = s.strategy.GenerateRefreshToken(ctx, ar); err != nil {
			return Minted{}, err
		}
	}
	// The token records and the session.org_switched event are stored together, in one transaction (on Postgres
	// one statement of the store's group commit): no token is handed out unless its event is stored, and no
	// event is stored for tokens that were not.
	stored := ar.Sanitize(nil)
	userID := ar.GetSession().GetSubject()
	err = s.Store.WriteTogether(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateAccessTokenSession(ctx, atSig, stored); err != nil {
			return err
		}
		if withRefresh {
			if err := s.Store.CreateRefreshTokenSession(ctx, rtSig, atSig, stored); err != nil {
				return err
			}
		}
		return s.Audit(audit.WithActor(ctx, audit.Actor{Kind: "user", ID: userID}), storage.AuditEvent{
			Type: audit.EventOrgSwitched, UserID: userID, OrganizationID: to.Org.ID, ClientID: ar.GetClient().GetID(),
			Data: storage.JSONMap{"from": from, "to": to.Org.ID, "via": via},
		})
	})
	if err != nil {
		return Minted{}, err
	}
	return Minted{AccessToken: at, RefreshToken: rt, IDToken: idToken,
		ExpiresIn: time.Until(ar.GetSession().GetExpiresAt(fosite.AccessToken)).Round(time.Second)}, nil
}

// switchIDToken signs the ID token of a switch whose access token is accessToken. Its claims are the ones the
// claims builder set on ar's session (the organization's, the user's for the granted scopes, sid) and the sign-in
// switchTo carried over (auth_time, amr); at_hash binds it to the access token. It is judged against no request
// parameter: a token request's prompt, max_age or nonce belongs to no sign-in, and a switch is not one.
func (s *Service) switchIDToken(ctx context.Context, ar fosite.AccessRequester, accessToken string) (string, error) {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return "", fosite.ErrServerError.WithDebug("unexpected session type")
	}
	helper := openid.IDTokenHandleHelper{IDTokenStrategy: s.idTokens}
	hash, err := helper.ComputeHash(ctx, sess, accessToken)
	if err != nil {
		return "", err
	}
	claims := sess.IDTokenClaims()
	claims.AccessTokenHash, claims.CodeHash, claims.Nonce = hash, "", ""
	claims.ExpiresAt = time.Time{} // the tenant's ID token lifetime, from now
	req := &fosite.Request{ID: ar.GetID(), RequestedAt: ar.GetRequestedAt(), Client: ar.GetClient(), Session: sess, Form: url.Values{}}
	return s.idTokens.GenerateIDToken(ctx, s.pc.GetIDTokenLifespan(ctx), req)
}

// SwitchResult is what POST /v1/sessions/switch-org answers.
type SwitchResult struct {
	Minted
	Scope       []string
	Org         storage.Organization
	Memberships []MembershipView
}

// SwitchError is a refused switch: Status and Code for the JSON error, Description for people.
type SwitchError struct {
	Status      int
	Code        string
	Description string
}

func (e *SwitchError) Error() string { return e.Code + ": " + e.Description }

// SwitchOrganization switches the user of accessToken into the organization orgParam (id or name). With a
// refresh token of the same user and client, a refresh token bound to the new organization comes back too.
//
// A switch costs two database transactions: one for every read (the tokens, the membership with its user, the
// roles and permissions, the memberships the answer lists) and one that stores the tokens with their audit event.
func (s *Service) SwitchOrganization(ctx context.Context, accessToken, refreshToken, orgParam string) (SwitchResult, error) {
	var (
		ar     = fosite.NewAccessRequest(NewSession("", ""))
		from   string
		access OrgAccess
		views  []MembershipView
	)
	err := s.Store.InReadTx(ctx, func(ctx context.Context) error {
		g, err := s.UserGrant(ctx, accessToken, fosite.AccessToken)
		if errors.Is(err, ErrInvalidSubjectToken) {
			return &SwitchError{Status: http.StatusUnauthorized, Code: "invalid_token",
				Description: "The access token is invalid, expired, revoked or not a user's token."}
		} else if err != nil {
			return err
		}
		base := g
		if refreshToken != "" {
			rg, err := s.UserGrant(ctx, refreshToken, fosite.RefreshToken)
			if errors.Is(err, ErrInvalidSubjectToken) {
				return &SwitchError{Status: http.StatusUnauthorized, Code: "invalid_token",
					Description: "The refresh token is invalid, expired, revoked or not a user's token."}
			} else if err != nil {
				return err
			}
			if rg.Session.Subject != g.Session.Subject || rg.Request.GetClient().GetID() != g.Request.GetClient().GetID() {
				return &SwitchError{Status: http.StatusBadRequest, Code: "invalid_request",
					Description: "The refresh token belongs to another user or client than the access token."}
			}
			base = rg
		}
		ar.Client = base.Request.GetClient()
		ar.GrantTypes = fosite.Arguments{GrantTokenExchange}
		ar.RequestedAt = s.Now().UTC()
		from = g.Session.OrgID()
		access, err = s.switchTo(ctx, ar, base, orgParam, nil, nil)
		if err == nil {
			err = s.buildClaims(ctx, ar) // the token endpoint's claims builder, as for a token exchange
		}
		if err != nil {
			return switchError(err)
		}
		// The memberships the answer lists do not change with the tokens minted: read them with the rest.
		views, err = s.MembershipViews(ctx, g.Session.Subject)
		return err
	})
	if err != nil {
		return SwitchResult{}, err
	}
	minted, err := s.mintSwitch(ctx, ar, refreshToken != "", from, access, "switch-org")
	if err != nil {
		return SwitchResult{}, err
	}
	return SwitchResult{Minted: minted, Scope: ar.GetGrantedScopes(), Org: access.Org, Memberships: views}, nil
}

// switchError turns the fosite error of a refused switch into the switch endpoint's answer.
func switchError(err error) error {
	rfc := httpx.OAuthError(err)
	status := rfc.CodeField
	switch {
	case status >= http.StatusInternalServerError:
		return err // a failure of ours, not a refusal
	case rfc.ErrorField == fosite.ErrAccessDenied.ErrorField, rfc.ErrorField == fosite.ErrInteractionRequired.ErrorField:
		status = http.StatusForbidden
	case rfc.ErrorField == fosite.ErrInvalidGrant.ErrorField:
		// The bearer token's user is gone or blocked: at this endpoint the token itself is no longer good.
		return &SwitchError{Status: http.StatusUnauthorized, Code: "invalid_token",
			Description: "The access token's user no longer exists or has been blocked."}
	}
	if status < 400 {
		status = http.StatusBadRequest
	}
	return &SwitchError{Status: status, Code: rfc.ErrorField, Description: rfc.GetDescription()}
}

// MembershipView is a user's membership as the user sees it: the organization, the status and the roles.
type MembershipView struct {
	ID           string   `json:"id"`
	Organization OrgView  `json:"organization"`
	Status       string   `json:"status"`
	Roles        []string `json:"roles"`
	JoinedAt     string   `json:"joined_at"`
}

// OrgView is the public face of an organization.
type OrgView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// MembershipViews lists the user's own memberships (every status) with their role names.
func (s *Service) MembershipViews(ctx context.Context, userID string) ([]MembershipView, error) {
	ms, err := s.Store.ListUserMembershipsWithRoles(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]MembershipView, 0, len(ms))
	for _, m := range ms {
		out = append(out, MembershipView{ID: m.ID, Status: m.Status, Roles: m.Roles, JoinedAt: m.JoinedAt.UTC().Format(time.RFC3339),
			Organization: OrgView{ID: m.OrganizationID, Name: m.OrganizationName, DisplayName: m.OrganizationDisplayName}})
	}
	return out, nil
}

// tokenExchangeHandler serves RFC 8693 token exchange at the token endpoint for switching organization:
// subject_token (an access or refresh token of this tenant and client), subject_token_type, organization,
// and optionally a narrower scope or, for a client that authenticates, another of its allowed audiences.
type tokenExchangeHandler struct {
	s *Service
}

var _ fosite.TokenEndpointHandler = (*tokenExchangeHandler)(nil)

func (h *tokenExchangeHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *tokenExchangeHandler) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	return ar.GetGrantTypes().ExactOne(GrantTokenExchange)
}

func (h *tokenExchangeHandler) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	if !ar.GetClient().GetGrantTypes().Has(GrantTokenExchange) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not allowed to use token exchange.")
	}
	form := ar.GetRequestForm()
	if form.Get("actor_token") != "" || form.Get("actor_token_type") != "" {
		return fosite.ErrInvalidRequest.WithHint("Delegation (actor_token) is not supported.")
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccess {
		return fosite.ErrInvalidRequest.WithHint("Only access tokens can be requested (requested_token_type).")
	}
	var use fosite.TokenUse
	switch form.Get("subject_token_type") {
	case TokenTypeAccess:
		use = fosite.AccessToken
	case TokenTypeRefresh:
		use = fosite.RefreshToken
	case "":
		return fosite.ErrInvalidRequest.WithHint("subject_token_type is missing.")
	default:
		return fosite.ErrInvalidRequest.WithHint("subject_token_type must be an access or refresh token type.")
	}
	// Every read of the exchange (the subject token, the membership with its user, the roles and permissions)
	// in one transaction; the tokens and their audit event are stored in one more (mintSwitch).
	err := h.s.Store.InReadTx(ctx, func(ctx context.Context) error {
		// RFC 8693 §2.2.2: an invalid subject token is invalid_request.
		g, err := h.s.UserGrant(ctx, form.Get("subject_token"), use)
		if errors.Is(err, ErrInvalidSubjectToken) {
			return fosite.ErrInvalidRequest.WithHint("The subject_token is invalid, expired, revoked or not a user's token of this client.")
		} else if err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		_, err = h.s.switchTo(ctx, ar, g, form.Get("organization"), ar.GetRequestedScopes(), ar.GetRequestedAudience())
		return err
	})
	if err != nil {
		return err
	}
	// A refresh token comes back for a refresh-token subject, and only while the narrowed scope still holds
	// offline_access (as for any other grant).
	// The claims builder, next in the chain, sets the claims and lifetimes.
	ar.GetSession().(*Session).exchange.refresh = use == fosite.RefreshToken &&
		ar.GetGrantedScopes().HasOneOf(h.s.pc.GetRefreshTokenScopes(ctx)...)
	return nil
}

// exchangeState carries a validated switch to the claims builder and the response phase; it is never stored.
type exchangeState struct {
	from      string           // the organization switched from ("" for an internal token)
	to        OrgAccess        // the target membership, read and judged in this request
	grants    storage.Grants   // its roles and permissions on the tokens' audiences, read with it
	refresh   bool             // whether a refresh token comes back
	bound     time.Time        // the expiry of the token switched from (zero: none)
	boundType fosite.TokenType // its kind: the minted token of that kind may not outlive it
}

func (h *tokenExchangeHandler) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok || sess.exchange == nil {
		return fosite.ErrServerError.WithDebug("token exchange response without a prepared request")
	}
	st := sess.exchange
	m, err := h.s.mintSwitch(ctx, ar, st.refresh, st.from, st.to, "token_exchange")
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	resp.SetAccessToken(m.AccessToken)
	resp.SetTokenType("Bearer")
	resp.SetExpiresIn(m.ExpiresIn)
	resp.SetScopes(ar.GetGrantedScopes())
	resp.SetExtra("issued_token_type", TokenTypeAccess)
	if m.RefreshToken != "" {
		resp.SetExtra("refresh_token", m.RefreshToken)
	}
	if m.IDToken != "" {
		resp.SetExtra("id_token", m.IDToken)
	}
	return nil
}

// switchStrategy is what minting a switch needs from fosite's token strategy.
type switchStrategy interface {
	oauth2.AccessTokenStrategy
	oauth2.RefreshTokenStrategy
}
