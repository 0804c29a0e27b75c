package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authio/authio/authn"
)

// LoginURL implements authn.RedirectConnection: the provider's authorization endpoint with the code flow's
// parameters, state (the flow id), the PKCE challenge (S256) and, for OpenID Connect, the nonce; both derived
// from the flow id. For OpenID Connect the provider's metadata is read first (cached): a provider that cannot
// be reached is authn.ErrUpstreamUnavailable.
func (c *Connection) LoginURL(ctx context.Context, state, callbackURL string) (string, error) {
	verifier, err := c.perFlow("pkce", state)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	var ep oauth2.Endpoint
	if c.s.oidcProvider() {
		up, err := c.upstream(ctx)
		if err != nil {
			return "", err
		}
		ep = up.endpoint()
		nonce, err := c.perFlow("nonce", state)
		if err != nil {
			return "", err
		}
		opts = append(opts, gooidc.Nonce(nonce))
	} else {
		ep = oauth2.Endpoint{AuthURL: c.s.authorizeURL, TokenURL: c.s.tokenURL, AuthStyle: oauth2.AuthStyleInParams}
	}
	return c.config(ep, callbackURL).AuthCodeURL(state, opts...), nil
}

func (c *Connection) config(ep oauth2.Endpoint, callbackURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.s.clientID, ClientSecret: c.s.clientSecret, Endpoint: ep, RedirectURL: callbackURL,
		Scopes: c.s.scopes}
}

// HandleCallback implements authn.RedirectConnection: it redeems the code (with the flow's PKCE verifier) and,
// for OpenID Connect, verifies the ID token (go-oidc: signature with an algorithm the provider lists, issuer,
// audience, expiry; here: the flow's nonce, at_hash, Microsoft's per-tenant issuer), then reads the account
// (GitHub: its user and email APIs). The provider's error answer, a refused code or a token that does not
// verify is authn.ErrInvalidCredentials; a provider that cannot be reached or answers nonsense is
// authn.ErrUpstreamUnavailable.
func (c *Connection) HandleCallback(ctx context.Context, r *http.Request) (authn.Identity, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return authn.Identity{}, fmt.Errorf("oidc: the provider answered %.64q: %w", e, authn.ErrInvalidCredentials)
	}
	code, state := q.Get("code"), q.Get("state")
	if code == "" || state == "" {
		return authn.Identity{}, fmt.Errorf("oidc: the callback carries no code: %w", authn.ErrInvalidCredentials)
	}
	verifier, err := c.perFlow("pkce", state)
	if err != nil {
		return authn.Identity{}, err
	}
	callbackURL := authn.CallbackPath
	if c.deps.BaseURL != nil {
		callbackURL = c.deps.BaseURL(ctx) + authn.CallbackPath
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, c.deps.Client())
	if !c.s.oidcProvider() {
		ep := oauth2.Endpoint{AuthURL: c.s.authorizeURL, TokenURL: c.s.tokenURL, AuthStyle: oauth2.AuthStyleInParams}
		tok, err := c.exchange(hctx, c.config(ep, callbackURL), code, verifier)
		if err != nil {
			return authn.Identity{}, err
		}
		return c.github(hctx, tok)
	}
	up, err := c.upstream(ctx)
	if err != nil {
		return authn.Identity{}, err
	}
	// RFC 9207: a provider that names itself in the authorization response must name the issuer this flow went
	// to (a mix-up between providers otherwise goes unnoticed). A multi-tenant authority's answer is checked by
	// the ID token's tid instead.
	if iss := q.Get("iss"); iss != "" && !up.multiTenant && iss != up.cfg.IssuerURL {
		return authn.Identity{}, fmt.Errorf("oidc: the authorization response names another issuer: %w", authn.ErrInvalidCredentials)
	}
	tok, err := c.exchange(hctx, c.config(up.endpoint(), callbackURL), code, verifier)
	if err != nil {
		return authn.Identity{}, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return authn.Identity{}, fmt.Errorf("oidc: the token response has no ID token: %w", authn.ErrUpstreamUnavailable)
	}
	nonce, err := c.perFlow("nonce", state)
	if err != nil {
		return authn.Identity{}, err
	}
	idt, claims, err := c.verify(hctx, up, raw, nonce)
	if err != nil {
		return authn.Identity{}, err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return authn.Identity{}, fmt.Errorf("oidc: at_hash: %v: %w", err, authn.ErrInvalidCredentials)
		}
	}
	id := authn.Identity{Subject: idt.Subject, Email: claims.Email, EmailVerified: claims.verified(c.s.preset), Name: claims.Name,
		Profile: map[string]any{"iss": idt.Issuer}}
	if claims.Picture != "" {
		id.Profile["picture"] = claims.Picture
	}
	if claims.TID != "" && c.s.preset == PresetMicrosoft {
		id.Profile["tid"] = claims.TID
	}
	if id.Email == "" && up.cfg.UserInfoURL != "" {
		// Some providers keep the email for userinfo (OIDC Core §5.3), which must name the same subject.
		ui, err := up.cfg.NewProvider(hctx).UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return authn.Identity{}, fmt.Errorf("oidc: userinfo: %v: %w", err, authn.ErrUpstreamUnavailable)
		}
		if ui.Subject != idt.Subject {
			return authn.Identity{}, fmt.Errorf("oidc: userinfo names another subject: %w", authn.ErrInvalidCredentials)
		}
		id.Email, id.EmailVerified = ui.Email, ui.EmailVerified
	}
	return id, nil
}

// exchange redeems code at the token endpoint. An error answer (4xx, or GitHub's error in a 200) is
// ErrInvalidCredentials: the code, verifier or client was refused; anything else is ErrUpstreamUnavailable.
func (c *Connection) exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	switch {
	case err == nil:
		return tok, nil
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
		return nil, fmt.Errorf("oidc: the token endpoint refused the code (%.64q, HTTP %d): %w", re.ErrorCode, re.Response.StatusCode,
			authn.ErrInvalidCredentials)
	}
	return nil, fmt.Errorf("oidc: token endpoint: %v: %w", err, authn.ErrUpstreamUnavailable)
}

// idClaims are the ID token claims the kind reads.
type idClaims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
	Name          string `json:"name"`
	Picture       string `json:"picture"`
	TID           string `json:"tid"`
	// XMSEdov is Microsoft's optional claim that the email's domain is verified by the account's tenant.
	XMSEdov any `json:"xms_edov"`
}

// verified reports whether the provider vouches for the email: email_verified true (a JSON true, or the string
// "true" some providers send); for Microsoft, which sends no email_verified, its optional claim xms_edov true.
func (c idClaims) verified(preset string) bool {
	if isTrue(c.EmailVerified) {
		return true
	}
	return preset == PresetMicrosoft && isTrue(c.XMSEdov)
}

func isTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

// fetchFailure is where keySet records that the provider's key set could not be fetched during one Verify.
type fetchFailure struct{ err error }

type fetchFailureKey struct{}

// keySet is the provider's remote key set, telling a key set that cannot be fetched (the provider's failure,
// a 502) from a token no key verifies (the token's).
type keySet struct{ remote *gooidc.RemoteKeySet }

// VerifySignature implements gooidc.KeySet.
func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	// go-oidc's RemoteKeySet reports a failed fetch as "fetching keys …" (v3.21, oidc/jwks.go).
	if err != nil && strings.HasPrefix(err.Error(), "fetching keys") {
		if f, ok := ctx.Value(fetchFailureKey{}).(*fetchFailure); ok {
			f.err = err
		}
	}
	return payload, err
}

// verify checks raw, an ID token from up's token endpoint, and returns it with the claims the kind reads.
func (c *Connection) verify(ctx context.Context, up *upstream, raw, nonce string) (*gooidc.IDToken, idClaims, error) {
	var cl idClaims
	cfg := &gooidc.Config{ClientID: c.s.clientID, SupportedSigningAlgs: up.cfg.Algorithms, SkipIssuerCheck: up.multiTenant}
	if c.deps.Now != nil {
		cfg.Now = c.deps.Now
	}
	failure := &fetchFailure{}
	idt, err := gooidc.NewVerifier(up.cfg.IssuerURL, keySet{up.keys}, cfg).Verify(context.WithValue(ctx, fetchFailureKey{}, failure), raw)
	if failure.err != nil {
		return nil, cl, fmt.Errorf("oidc: the provider's keys: %v: %w", failure.err, authn.ErrUpstreamUnavailable)
	}
	if err != nil {
		return nil, cl, fmt.Errorf("oidc: ID token: %v: %w", err, authn.ErrInvalidCredentials)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, cl, fmt.Errorf("oidc: the ID token's nonce is not this sign-in's: %w", authn.ErrInvalidCredentials)
	}
	if idt.Subject == "" {
		return nil, cl, fmt.Errorf("oidc: the ID token has no subject: %w", authn.ErrInvalidCredentials)
	}
	if err := idt.Claims(&cl); err != nil {
		return nil, cl, fmt.Errorf("oidc: ID token claims: %v: %w", err, authn.ErrInvalidCredentials)
	}
	if up.multiTenant {
		if err := c.checkMicrosoftIssuer(idt.Issuer, cl.TID); err != nil {
			return nil, cl, err
		}
	}
	return idt, cl, nil
}

// checkMicrosoftIssuer validates the issuer of an ID token from a multi-tenant Microsoft authority (common,
// organizations), whose discovery names the issuer https://login.microsoftonline.com/{tenantid}/v2.0: the
// token's tid must be a tenant id (a GUID) and its iss exactly the template with that tid, so a token is
// accepted only as issued by the tenant it says it comes from. organizations also refuses the personal-account
// tenant.
func (c *Connection) checkMicrosoftIssuer(iss, tid string) error {
	if !guidRE.MatchString(tid) {
		return fmt.Errorf("oidc: the ID token's tid %.64q is not a tenant id: %w", tid, authn.ErrInvalidCredentials)
	}
	if want := c.s.authority + "/" + tid + "/v2.0"; iss != want {
		return fmt.Errorf("oidc: the ID token's issuer %.128q is not its tenant's (%s): %w", iss, want, authn.ErrInvalidCredentials)
	}
	if c.s.tenant == "organizations" && tid == consumersTenant {
		return fmt.Errorf("oidc: a personal Microsoft account on an organizations connection: %w", authn.ErrInvalidCredentials)
	}
	return nil
}
