package oauth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// Single-use grants. An authorization code and a refresh token are each consumed by one conditional write
// (storage.Store.InvalidateAuthorizeCodeSession, RotateRefreshTokenTo): of several concurrent redemptions, on
// one replica or many, exactly one succeeds. fosite's own handlers read the record, then write without
// looking at what the write changed, and turn a lost race into a 500; the two wrappers here give the losers
// the RFC's answer instead:
//   - a second redemption of a code is invalid_grant, and the tokens issued with the code are revoked
//     (RFC 6749 §4.1.2, RFC 9700 §4.2.4 on code replay);
//   - a second use of a refresh token is reuse: invalid_grant, and the whole rotation family is revoked
//     (RFC 9700 §4.14.2), unless the tenant's refresh_token_reuse_interval allows the retry of a client whose
//     network lost the answer — then the retry gets the same successor refresh token back, so the family never
//     forks.

var (
	_ fosite.TokenEndpointHandler = (*refreshGrant)(nil)
	_ fosite.TokenEndpointHandler = (*codeGrant)(nil)
)

// refreshSuccessorPurpose is the encryption purpose of the successor stored with a rotated refresh token.
const refreshSuccessorPurpose = "refresh-successor"

// refreshGrant is fosite's refresh-token grant with single-use rotation and the tenant's reuse interval.
type refreshGrant struct {
	*oauth2.RefreshTokenGrantHandler
	store   *storage.Store
	secrets *keys.Secrets
	now     func() time.Time // the server's clock
}

// reuseInterval is the tenant's refresh_token_reuse_interval (0: strict rotation).
func reuseInterval(ctx context.Context) time.Duration {
	if t := tenantOf(ctx); t != nil && t.Settings.RefreshTokenReuseInterval > 0 {
		return time.Duration(t.Settings.RefreshTokenReuseInterval) * time.Second
	}
	return 0
}

// refreshState carries a replay within the reuse interval from the request to the response phase; it is never
// stored.
type refreshState struct {
	successor string // the refresh token to answer with, unchanged
}

// HandleTokenEndpointRequest validates a refresh request (RFC 6749 §6) as fosite's handler does, but decides
// reuse from a single read of the presented token: a token found rotated is either a retry within the reuse
// interval — then the request is judged as if its successor had been presented — or reuse, and the family
// goes. (Checking the interval first and then letting fosite read again would let a concurrent rotation slip in
// between and make a legitimate retry revoke the family.)
func (r *refreshGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	if !r.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest
	}
	client := ar.GetClient()
	if !client.GetGrantTypes().Has("refresh_token") {
		return fosite.ErrUnauthorizedClient.WithHint("The OAuth 2.0 Client is not allowed to use authorization grant 'refresh_token'.")
	}
	token := ar.GetRequestForm().Get("refresh_token")
	signature := r.RefreshTokenStrategy.RefreshTokenSignature(ctx, token)
	orig, err := r.store.GetRefreshTokenSession(ctx, signature, ar.GetSession())
	replay := ""
	if errors.Is(err, fosite.ErrInactiveToken) {
		successor, ok, rerr := r.replayable(ctx, signature, client)
		if rerr != nil {
			return fosite.ErrServerError.WithWrap(rerr).WithDebug(rerr.Error())
		}
		if !ok {
			return r.reuse(ctx, orig)
		}
		// A retry within the interval stands for its successor, which must itself still be live: if it was
		// rotated in turn, the presented token is two generations old, and that is reuse.
		token, replay = successor, successor
		signature = r.RefreshTokenStrategy.RefreshTokenSignature(ctx, token)
		if orig, err = r.store.GetRefreshTokenSession(ctx, signature, ar.GetSession()); errors.Is(err, fosite.ErrInactiveToken) {
			return r.reuse(ctx, orig)
		}
	}
	if errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The refresh token is malformed or not valid.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	if err := r.RefreshTokenStrategy.ValidateRefreshToken(ctx, orig, token); errors.Is(err, fosite.ErrTokenExpired) {
		return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The refresh token expired.")
	} else if err != nil {
		return fosite.ErrInvalidRequest.WithWrap(err).WithDebug(err.Error())
	}
	if scopes := r.Config.GetRefreshTokenScopes(ctx); len(scopes) > 0 && !orig.GetGrantedScopes().HasOneOf(scopes...) {
		return fosite.ErrScopeNotGranted.WithHintf("The OAuth 2.0 Client was not granted scope %s and may thus not perform the 'refresh_token' authorization grant.",
			strings.Join(scopes, " or "))
	}
	if orig.GetClient().GetID() != client.GetID() {
		return fosite.ErrInvalidGrant.WithHint("The OAuth 2.0 Client ID from this request does not match the ID during the initial token issuance.")
	}
	ar.SetID(orig.GetID())
	ar.SetSession(orig.GetSession().Clone())
	ar.SetRequestedScopes(orig.GetRequestedScopes())
	ar.SetRequestedAudience(orig.GetRequestedAudience())
	for _, scope := range orig.GetGrantedScopes() {
		if !r.Config.GetScopeStrategy(ctx)(client.GetScopes(), scope) {
			return fosite.ErrInvalidScope.WithHintf("The OAuth 2.0 Client is not allowed to request scope '%s'.", scope)
		}
		ar.GrantScope(scope)
	}
	if err := r.Config.GetAudienceStrategy(ctx)(client.GetAudience(), orig.GetGrantedAudience()); err != nil {
		return err
	}
	for _, aud := range orig.GetGrantedAudience() {
		ar.GrantAudience(aud)
	}
	now := r.now().UTC()
	sess := ar.GetSession()
	sess.SetExpiresAt(fosite.AccessToken, now.Add(fosite.GetEffectiveLifespan(client, fosite.GrantTypeRefreshToken, fosite.AccessToken,
		r.Config.GetAccessTokenLifespan(ctx))).Round(time.Second))
	if rt := fosite.GetEffectiveLifespan(client, fosite.GrantTypeRefreshToken, fosite.RefreshToken, r.Config.GetRefreshTokenLifespan(ctx)); rt > -1 {
		sess.SetExpiresAt(fosite.RefreshToken, now.Add(rt).Round(time.Second))
	}
	if replay != "" {
		s, ok := sess.(*Session)
		if !ok {
			return fosite.ErrServerError.WithDebug("unexpected session type")
		}
		s.refresh = &refreshState{successor: replay}
	}
	return nil
}

// reuse answers a refresh token presented after it was rotated (outside any reuse interval): every token of its
// family is revoked (RFC 9700 §4.14.2), and the request gets invalid_grant.
func (r *refreshGrant) reuse(ctx context.Context, orig fosite.Requester) error {
	if orig == nil {
		return fosite.ErrServerError.WithDebug("a rotated refresh token came back without its request")
	}
	// The presented token belongs to the family (same request id): revoking the family deletes it too.
	if err := revokeGrant(ctx, r.store, orig.GetID()); err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return fosite.ErrInvalidGrant.WithHint("The refresh token was already used.").
		WithDebug("Refresh token reuse was detected: every token of its family has been revoked.")
}

// replayable reports whether the refresh token with signature was rotated within the tenant's reuse interval
// for client, and returns its successor. With a zero interval it asks storage nothing.
func (r *refreshGrant) replayable(ctx context.Context, signature string, client fosite.Client) (string, bool, error) {
	interval := reuseInterval(ctx)
	if interval <= 0 {
		return "", false, nil
	}
	rot, err := r.store.RefreshTokenRotation(ctx, signature)
	if errors.Is(err, storage.ErrNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	if rot.Active || rot.RotatedAt == nil || len(rot.Successor) == 0 || rot.ClientID != client.GetID() ||
		time.Since(*rot.RotatedAt) > interval {
		return "", false, nil
	}
	tid, _ := storage.TenantFromContext(ctx)
	plain, err := r.secrets.Decrypt(refreshSuccessorPurpose+":"+tid, rot.Successor)
	if err != nil {
		return "", false, err
	}
	return string(plain), true, nil
}

// PopulateTokenEndpointResponse rotates the refresh token: one transaction consumes the presented token with a
// conditional write and stores the new access and refresh tokens. A request that loses the race to a
// concurrent rotation is a reuse.
func (r *refreshGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !r.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest
	}
	if sess, ok := ar.GetSession().(*Session); ok && sess.refresh != nil {
		return r.answerWith(ctx, ar, resp, sess.refresh.successor)
	}
	at, atSig, err := r.AccessTokenStrategy.GenerateAccessToken(ctx, ar)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	rt, rtSig, err := r.RefreshTokenStrategy.GenerateRefreshToken(ctx, ar)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	var successor []byte
	if reuseInterval(ctx) > 0 {
		tid, _ := storage.TenantFromContext(ctx)
		if successor, err = r.secrets.Encrypt(refreshSuccessorPurpose+":"+tid, []byte(rt)); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	}
	presented := r.RefreshTokenStrategy.RefreshTokenSignature(ctx, ar.GetRequestForm().Get("refresh_token"))
	stored := ar.Sanitize(nil)
	stored.SetID(ar.GetID())

	err = r.store.InTx(ctx, func(ctx context.Context) error {
		if err := r.store.RotateRefreshTokenTo(ctx, ar.GetID(), presented, r.now(), successor); err != nil {
			return err
		}
		if err := r.store.CreateAccessTokenSession(ctx, atSig, stored); err != nil {
			return err
		}
		return r.store.CreateRefreshTokenSession(ctx, rtSig, atSig, stored)
	})
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return r.lostRace(ctx, ar, resp, presented)
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	writeTokens(ctx, ar, resp, at, rt)
	return nil
}

// lostRace answers a request whose refresh token was rotated by a concurrent request after this one read it:
// within the reuse interval it gets the winner's successor; otherwise it is reuse, and the family goes.
func (r *refreshGrant) lostRace(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder, signature string) error {
	successor, ok, err := r.replayable(ctx, signature, ar.GetClient())
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	if ok {
		return r.answerWith(ctx, ar, resp, successor)
	}
	if err := revokeGrant(ctx, r.store, ar.GetID()); err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return fosite.ErrInvalidGrant.WithHint("The refresh token was already used.").
		WithDebug("Concurrent reuse of a refresh token was detected: every token of its family has been revoked.")
}

// answerWith answers a retry within the reuse interval: a new access token, and the successor refresh token
// that the first request already received, unchanged.
func (r *refreshGrant) answerWith(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder, successor string) error {
	at, atSig, err := r.AccessTokenStrategy.GenerateAccessToken(ctx, ar)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	stored := ar.Sanitize(nil)
	stored.SetID(ar.GetID())
	// The successor must still be live, and stay so until the new access token is stored: a revocation of the
	// family that starts meanwhile waits for this transaction and then revokes that access token too.
	err = r.store.InTx(ctx, func(ctx context.Context) error {
		if err := r.store.LockLiveRefreshToken(ctx, r.RefreshTokenStrategy.RefreshTokenSignature(ctx, successor)); err != nil {
			return err
		}
		return r.store.CreateAccessTokenSession(ctx, atSig, stored)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return fosite.ErrInvalidGrant.WithHint("The refresh token was already used.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	writeTokens(ctx, ar, resp, at, successor)
	return nil
}

// writeTokens fills a token response as fosite's grant handlers do.
func writeTokens(_ context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder, accessToken, refreshToken string) {
	resp.SetAccessToken(accessToken)
	resp.SetTokenType("Bearer")
	resp.SetExpiresIn(time.Until(ar.GetSession().GetExpiresAt(fosite.AccessToken)).Round(time.Second))
	resp.SetScopes(ar.GetGrantedScopes())
	if refreshToken != "" {
		resp.SetExtra("refresh_token", refreshToken)
	}
}

// revokeGrant revokes every access and refresh token of a grant (one authorization, one rotation family), those
// of a rotation in flight included (storage.Store.RevokeRefreshToken). Its deletes run as statements of their
// own, not in one transaction: several requests that detect the same reuse revoke the same rows at once, and
// transactions holding some of those rows while waiting for others could deadlock.
func revokeGrant(ctx context.Context, store *storage.Store, requestID string) error {
	return store.RevokeRefreshToken(ctx, requestID)
}

// codeGrant is fosite's authorization-code grant with its phases rearranged for the claims builder and for
// single use. The request phase grants the scopes and audiences the authorization recorded, so the claims
// builder, which runs after it, knows what the tokens will carry (fosite grants them only in its response
// phase). The response phase is written here: fosite's loads the code's session a second time — undoing what
// the builder re-read about the user, the membership and the roles — and answers a lost race with a 500.
type codeGrant struct {
	*oauth2.AuthorizeExplicitGrantHandler
	store *storage.Store
}

// HandleTokenEndpointRequest validates the code as fosite does (RFC 6749 §4.1.3) and grants the authorized
// scopes and audiences.
func (c *codeGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	if err := c.AuthorizeExplicitGrantHandler.HandleTokenEndpointRequest(ctx, ar); err != nil {
		return err
	}
	signature := c.AuthorizeCodeStrategy.AuthorizeCodeSignature(ctx, ar.GetRequestForm().Get("code"))
	// fosite loaded the code's session into ar; only the stored request's grants are needed here, so its
	// session goes into a scratch value.
	authorized, err := c.CoreStorage.GetAuthorizeCodeSession(ctx, signature, NewSession("", ""))
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		return c.replayed(ctx, ar)
	} else if errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrInvalidGrant.WithHint("The authorization code is not valid.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	for _, scope := range authorized.GetGrantedScopes() {
		ar.GrantScope(scope)
	}
	for _, aud := range authorized.GetGrantedAudience() {
		ar.GrantAudience(aud)
	}
	return nil
}

// PopulateTokenEndpointResponse mints the tokens and consumes the code in one transaction, with a conditional
// write: of concurrent redemptions exactly one wins.
func (c *codeGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !c.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest
	}
	code := ar.GetRequestForm().Get("code")
	signature := c.AuthorizeCodeStrategy.AuthorizeCodeSignature(ctx, code)
	if err := c.AuthorizeCodeStrategy.ValidateAuthorizeCode(ctx, ar, code); err != nil {
		return fosite.ErrInvalidGrant.WithWrap(err).WithDebug(err.Error())
	}
	at, atSig, err := c.AccessTokenStrategy.GenerateAccessToken(ctx, ar)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	var rt, rtSig string
	scopes := c.Config.GetRefreshTokenScopes(ctx)
	if (len(scopes) == 0 || ar.GetGrantedScopes().HasOneOf(scopes...)) && ar.GetClient().GetGrantTypes().Has("refresh_token") {
		if rt, rtSig, err = c.RefreshTokenStrategy.GenerateRefreshToken(ctx, ar); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	}
	stored := ar.Sanitize(nil)
	err = c.store.InTx(ctx, func(ctx context.Context) error {
		if err := c.store.InvalidateAuthorizeCodeSession(ctx, signature); err != nil {
			return err
		}
		if err := c.store.CreateAccessTokenSession(ctx, atSig, stored); err != nil {
			return err
		}
		if rtSig == "" {
			return nil
		}
		return c.store.CreateRefreshTokenSession(ctx, rtSig, atSig, stored)
	})
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return c.replayed(ctx, ar)
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	writeTokens(ctx, ar, resp, at, rt)
	return nil
}

// replayed answers a code that another request redeemed first: invalid_grant, and the tokens issued with it
// are revoked (RFC 6749 §4.1.2).
func (c *codeGrant) replayed(ctx context.Context, ar fosite.AccessRequester) error {
	if err := revokeGrant(ctx, c.store, ar.GetID()); err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.").
		WithDebug("Concurrent redemption of an authorization code: the tokens issued with it have been revoked.")
}
