package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fstorage "github.com/ory/fosite/storage"
	"gorm.io/gorm/clause"
)

var (
	_ fosite.Storage                     = (*Store)(nil)
	_ oauth2.CoreStorage                 = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
	_ fstorage.Transactional             = (*Store)(nil)
	_ fosite.Client                      = (*FositeClient)(nil)
	_ fosite.ResponseModeClient          = (*FositeClient)(nil)
)

// Token record kinds.
const (
	kindCode    = "code"
	kindAccess  = "access"
	kindRefresh = "refresh"
	kindPKCE    = "pkce"
	kindOIDC    = "oidc"
	kindJTI     = "jti"
)

// FositeClient adapts a stored Client to fosite.Client.
type FositeClient struct {
	Client
}

func (c *FositeClient) GetID() string                   { return c.ID }
func (c *FositeClient) GetHashedSecret() []byte         { return []byte(c.SecretHash) }
func (c *FositeClient) GetRedirectURIs() []string       { return c.RedirectURIs }
func (c *FositeClient) GetGrantTypes() fosite.Arguments { return fosite.Arguments(c.GrantTypes) }
func (c *FositeClient) GetScopes() fosite.Arguments     { return fosite.Arguments(c.Scopes) }
func (c *FositeClient) IsPublic() bool                  { return c.Type == ClientPublic }

// GetResponseModes lists the response modes discovery advertises.
func (c *FositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFormPost}
}

// GetAudience lists the audiences the client may request; its own id is always one of them (the audience of
// tokens issued without an explicit audience).
func (c *FositeClient) GetAudience() fosite.Arguments {
	return append(fosite.Arguments{c.ID}, c.Audiences...)
}
func (c *FositeClient) GetResponseTypes() fosite.Arguments {
	if c.GrantTypes.Has("authorization_code") {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments{}
}

// GetClient implements fosite.ClientManager for the tenant in the context, through the client cache
// (SetClientCache): client authentication runs on every token and introspection request. Inside a transaction
// that wrote to clients the cache is neither read nor filled: it may have changed the client, and what it reads
// must not outlive a rollback.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context) (*FositeClient, error) {
		c, err := s.GetClientByID(ctx, id)
		if err != nil {
			return nil, err
		}
		return &FositeClient{Client: c}, nil
	}
	var fc *FositeClient
	if cc := s.clientCache(); cc != nil && !WrittenInTransaction(ctx, "clients") {
		fc, err = cc.Client(ctx, tid, id, load)
	} else {
		fc, err = load(ctx)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return fc, nil
}

// clientCacheBox holds the ClientCache in an atomic pointer.
type clientCacheBox struct{ c ClientCache }

// SetClientCache makes GetClient read through c (the server's cache, which the changes reported to OnCommit keep
// correct). It returns a function that stops using c, unless another cache has replaced it since.
func (s *Store) SetClientCache(c ClientCache) (unset func()) {
	box := &clientCacheBox{c: c}
	s.clients.Store(box)
	return func() { s.clients.CompareAndSwap(box, nil) }
}

func (s *Store) clientCache() ClientCache {
	if b := s.clients.Load(); b != nil {
		return b.c
	}
	return nil
}

// ClientAssertionJWTValid returns fosite.ErrJTIKnown when jti was seen and has not expired.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	var n int64
	err = db.Model(&oauthToken{}).Where("kind = ? AND signature = ? AND expires_at > ?", kindJTI, sigHash(jti), s.Now()).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT records jti until exp.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	exp = exp.UTC()
	// An expired record of the same jti may still be there; it no longer protects anything.
	if err := s.conn(ctx).Where("tenant_id = ? AND kind = ? AND signature = ? AND expires_at <= ?", tid, kindJTI, sigHash(jti), s.Now()).
		Delete(&oauthToken{}).Error; err != nil {
		return err
	}
	err = s.conn(ctx).Create(&oauthToken{Signature: sigHash(jti), Kind: kindJTI, TenantID: tid, RequestID: jti, Active: true,
		RequestedAt: s.Now(), ExpiresAt: &exp, Data: []byte("{}")}).Error
	if errors.Is(mapErr(err), ErrAlreadyExists) {
		return fosite.ErrJTIKnown
	}
	return err
}

// storedRequest is the serialised form of a fosite request.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"requested_at"`
	ClientID          string          `json:"client_id"`
	RequestedScope    []string        `json:"scopes,omitempty"`
	GrantedScope      []string        `json:"granted_scopes,omitempty"`
	RequestedAudience []string        `json:"audience,omitempty"`
	GrantedAudience   []string        `json:"granted_audience,omitempty"`
	Form              url.Values      `json:"form,omitempty"`
	Session           json.RawMessage `json:"session"`
}

// sigHash is how token signatures are stored: a leaked table holds no usable token.
func sigHash(signature string) string {
	sum := sha256.Sum256([]byte(signature))
	return hex.EncodeToString(sum[:])
}

func (s *Store) createToken(ctx context.Context, kind, signature string, req fosite.Requester, tokenType fosite.TokenType) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	sess, err := json.Marshal(req.GetSession())
	if err != nil {
		return err
	}
	data, err := json.Marshal(storedRequest{
		ID:                req.GetID(),
		RequestedAt:       req.GetRequestedAt(),
		ClientID:          req.GetClient().GetID(),
		RequestedScope:    req.GetRequestedScopes(),
		GrantedScope:      req.GetGrantedScopes(),
		RequestedAudience: req.GetRequestedAudience(),
		GrantedAudience:   req.GetGrantedAudience(),
		Form:              req.GetRequestForm(),
		Session:           sess,
	})
	if err != nil {
		return err
	}
	row := oauthToken{
		Signature:   sigHash(signature),
		Kind:        kind,
		TenantID:    tid,
		RequestID:   req.GetID(),
		ClientID:    req.GetClient().GetID(),
		Active:      true,
		RequestedAt: req.GetRequestedAt().UTC(),
		Data:        data,
	}
	row.GrantID = row.RequestID
	if gr, ok := req.GetSession().(GrantRooted); ok && gr.GrantRoot() != "" {
		row.GrantID = gr.GrantRoot()
	}
	if sess := req.GetSession(); sess != nil {
		row.Subject = sess.GetSubject()
		if exp := sess.GetExpiresAt(tokenType); !exp.IsZero() {
			exp = exp.UTC()
			row.ExpiresAt = &exp
		}
	}
	return s.insertToken(ctx, &row)
}

// getToken loads a record and rebuilds its request into session. It returns the request even for inactive
// records, with active=false.
func (s *Store) getToken(ctx context.Context, kind, signature string, session fosite.Session) (fosite.Requester, bool, error) {
	clientID, active, data, err := s.selectToken(ctx, kind, sigHash(signature))
	if errors.Is(err, ErrNotFound) {
		return nil, false, fosite.ErrNotFound
	} else if err != nil {
		return nil, false, err
	}
	var sr storedRequest
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, false, err
	}
	client, err := s.GetClient(ctx, clientID)
	if err != nil {
		return nil, false, err
	}
	if session != nil && len(sr.Session) > 0 {
		if err := json.Unmarshal(sr.Session, session); err != nil {
			return nil, false, err
		}
	}
	req := &fosite.Request{
		ID:                sr.ID,
		RequestedAt:       sr.RequestedAt,
		Client:            client,
		RequestedScope:    sr.RequestedScope,
		GrantedScope:      sr.GrantedScope,
		RequestedAudience: sr.RequestedAudience,
		GrantedAudience:   sr.GrantedAudience,
		Form:              sr.Form,
		Session:           session,
	}
	if req.Form == nil {
		req.Form = url.Values{}
	}
	return req, active, nil
}

func (s *Store) deleteToken(ctx context.Context, kind, signature string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return db.Where("kind = ? AND signature = ?", kind, sigHash(signature)).Delete(&oauthToken{}).Error
}

func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, code string, req fosite.Requester) error {
	return s.createToken(ctx, kindCode, code, req, fosite.AuthorizeCode)
}

func (s *Store) GetAuthorizeCodeSession(ctx context.Context, code string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, kindCode, code, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession consumes an authorization code with one conditional write: of several
// concurrent redemptions, on any replica, exactly one changes the row; the others get ErrAlreadyUsed.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	return s.consume(ctx, kindCode, sigHash(code), nil)
}

// consume flips an active single-use record to inactive in one conditional UPDATE and reports
// ErrAlreadyUsed when another request got there first (or the record is gone). extra columns are set in the
// same statement. Inside a transaction on Postgres, a concurrent consumer blocks on the row until this one
// commits or rolls back, then re-evaluates the condition: it cannot see the record as still active.
func (s *Store) consume(ctx context.Context, kind, hashedSig string, extra map[string]any) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	set := map[string]any{"active": false}
	for k, v := range extra {
		set[k] = v
	}
	res := db.Model(&oauthToken{}).Where("kind = ? AND signature = ? AND active = ?", kind, hashedSig, true).Updates(set)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrAlreadyUsed
	}
	return nil
}

// UseOnce records that the one-time secret of purpose (e.g. a login ticket) has been used, with one insert
// that the primary key makes conditional: the first call succeeds, every later or concurrent call, on any
// replica, gets ErrAlreadyUsed. Only a hash of secret is stored; the record is kept until expiresAt (and a day
// of housekeeping grace), which must be at least the secret's own lifetime.
func (s *Store) UseOnce(ctx context.Context, purpose, secret string, expiresAt time.Time) error {
	tid, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	exp := expiresAt.UTC()
	err = mapErr(s.conn(ctx).Create(&oauthToken{Signature: sigHash(secret), Kind: "once:" + purpose, TenantID: tid,
		RequestID: "-", Active: false, RequestedAt: now, ExpiresAt: &exp, Data: []byte("{}")}).Error)
	if errors.Is(err, ErrAlreadyExists) {
		return ErrAlreadyUsed
	}
	return err
}

func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.createToken(ctx, kindAccess, signature, req, fosite.AccessToken)
}

func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, kindAccess, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, fosite.ErrNotFound
	}
	return req, nil
}

func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, kindAccess, signature)
}

func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, _ string, req fosite.Requester) error {
	return s.createToken(ctx, kindRefresh, signature, req, fosite.RefreshToken)
}

func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, kindRefresh, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, kindRefresh, signature)
}

// RotateRefreshToken marks the used refresh token inactive (so a replay is detected as reuse) and revokes the
// access tokens issued with it. It is RotateRefreshTokenTo without a successor record.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	return s.RotateRefreshTokenTo(ctx, requestID, signature, s.Now(), nil)
}

// RotateRefreshTokenTo consumes the refresh token with signature in one conditional write — of several
// concurrent rotations, on any replica, exactly one succeeds and the others get ErrAlreadyUsed — recording
// when it was rotated and its successor (already encrypted by the caller; nil to keep none), then revokes the
// access tokens of the grant issued before. Call it inside a transaction that also stores the successor, so a
// concurrent rotation waits for the outcome.
func (s *Store) RotateRefreshTokenTo(ctx context.Context, requestID, signature string, rotatedAt time.Time, successor []byte) error {
	extra := map[string]any{"rotated_at": rotatedAt.UTC()}
	if successor != nil {
		extra["successor"] = successor
	}
	if err := s.consume(ctx, kindRefresh, sigHash(signature), extra); err != nil {
		return err
	}
	return s.RevokeAccessToken(ctx, requestID)
}

// RefreshRotation is what the store knows of a refresh token's rotation.
type RefreshRotation struct {
	ClientID  string
	Active    bool       // not rotated (nor revoked) yet
	RotatedAt *time.Time // when it was rotated; nil while active
	Successor []byte     // the encrypted successor recorded at rotation, if any
}

// RefreshTokenRotation returns the rotation record of the refresh token with signature; ErrNotFound when the
// token is unknown or its family was revoked.
func (s *Store) RefreshTokenRotation(ctx context.Context, signature string) (RefreshRotation, error) {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return RefreshRotation{}, err
	}
	var row oauthToken
	err = db.Select("client_id", "active", "rotated_at", "successor").
		Where("kind = ? AND signature = ?", kindRefresh, sigHash(signature)).Take(&row).Error
	if err != nil {
		return RefreshRotation{}, mapErr(err)
	}
	return RefreshRotation{ClientID: row.ClientID, Active: row.Active, RotatedAt: row.RotatedAt, Successor: row.Successor}, nil
}

// RevokeRefreshToken revokes a whole grant: every refresh token of the rotation family requestID and every access
// token issued with them, and likewise for the sign-in it descends from and every family switched from it
// (GrantRooted), since a stolen token switched into another organization is the same theft. A rotation in flight (RotateRefreshTokenTo in its transaction) has locked the token it
// consumes and inserted a successor that a DELETE begun before its commit cannot see; such a DELETE waits on the
// lock, and the next one, begun after the commit, finds the successor. So the deletes are repeated until one
// round finds nothing: then no rotation of the family was in flight, and none can start (there is no live token
// left to rotate). Bounded, so a pathological stream of rotations cannot hold a request forever.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	// The whole sign-in goes: the family, the grant it descends from, and every family switched from either.
	ids := []string{requestID}
	var grants []string
	if err := db.Model(&oauthToken{}).Where("request_id = ? AND grant_id <> ''", requestID).Distinct().Pluck("grant_id", &grants).Error; err != nil {
		return mapErr(err)
	}
	for _, g := range grants {
		if g != requestID {
			ids = append(ids, g)
		}
	}
	for range 16 {
		res := db.Where("kind IN ? AND (request_id IN ? OR grant_id IN ?)", []string{kindRefresh, kindAccess}, ids, ids).Delete(&oauthToken{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
	}
	return nil
}

// LockLiveRefreshToken takes the row lock of a live (active) refresh token for the rest of the transaction in ctx,
// so that what the transaction then writes for it (an access token minted for a retry within the reuse interval)
// commits before a concurrent revocation of its family can finish, and is revoked with it. ErrNotFound when the
// token was rotated, revoked or never existed. SQLite needs no lock: a transaction holds its only connection.
func (s *Store) LockLiveRefreshToken(ctx context.Context, signature string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	q := db.Model(&oauthToken{}).Where("kind = ? AND signature = ? AND active = ?", kindRefresh, sigHash(signature), true)
	if s.dialect == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var sigs []string
	if err := q.Pluck("signature", &sigs).Error; err != nil {
		return mapErr(err)
	}
	if len(sigs) == 0 {
		return ErrNotFound
	}
	return nil
}

// RevokeAccessToken deletes every access token of the grant.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	db, _, err := s.scoped(ctx)
	if err != nil {
		return err
	}
	return db.Where("kind = ? AND request_id = ?", kindAccess, requestID).Delete(&oauthToken{}).Error
}

func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.createToken(ctx, kindPKCE, signature, req, fosite.AuthorizeCode)
}

func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.getToken(ctx, kindPKCE, signature, session)
	return req, err
}

func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, kindPKCE, signature)
}

func (s *Store) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	return s.createToken(ctx, kindOIDC, code, req, fosite.AuthorizeCode)
}

// GetOpenIDConnectSession returns the OpenID Connect record of an authorization code. Its session is the
// token request's own (req's), not the one stored at /authorize: the code redemption has already loaded that
// session and brought its claims up to date (membership, roles, profile), and the ID token must carry the same
// claims as the access token minted beside it.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) (fosite.Requester, error) {
	r, _, err := s.getToken(ctx, kindOIDC, code, nil)
	if err != nil {
		if errors.Is(err, fosite.ErrNotFound) {
			return nil, openid.ErrNoSessionFound
		}
		return nil, err
	}
	r.(*fosite.Request).Session = req.GetSession()
	return r, nil
}

func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.deleteToken(ctx, kindOIDC, code)
}
