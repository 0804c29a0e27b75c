package oauth

import (
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/storage"
)

// Session is what fosite stores with every grant: the ID token claims (via openid.DefaultSession) plus what
// the access token JWT carries.
type Session struct {
	openid.DefaultSession
	ClientID     string         `json:"client_id"`
	AccessClaims map[string]any `json:"access_claims,omitempty"`
	// Org is the organization the grant was authorized for (an id; "" for an internal token). The claims builder
	// re-reads the membership at every token and writes the organization claims from it.
	Org string `json:"org,omitempty"`
	// GrantID is the grant (sign-in) a switched session descends from; "" for a session of its own grant.
	// Revoking that grant revokes this session's tokens too (storage.GrantRooted).
	GrantID string `json:"grant_id,omitempty"`

	exchange *exchangeState // set between the two phases of a token exchange; never stored
	refresh  *refreshState  // set between the two phases of a refresh retried within the reuse interval; never stored
}

// GrantRoot implements storage.GrantRooted.
func (s *Session) GrantRoot() string { return s.GrantID }

var (
	_ storage.GrantRooted        = (*Session)(nil)
	_ openid.Session             = (*Session)(nil)
	_ oauth2.JWTSessionContainer = (*Session)(nil)
)

// NewSession returns an empty session for subject (empty for client-credentials grants).
func NewSession(subject, clientID string) *Session {
	return &Session{
		DefaultSession: openid.DefaultSession{
			Claims:  &jwt.IDTokenClaims{Subject: subject, RequestedAt: time.Now().UTC(), Extra: map[string]any{}},
			Headers: &jwt.Headers{},
			Subject: subject,
		},
		ClientID: clientID,
	}
}

// GetJWTClaims builds fresh access-token claims on every call, so a refreshed token gets its own iat and jti
// rather than the first token's.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	extra := map[string]any{}
	for k, v := range s.AccessClaims {
		extra[k] = v
	}
	if s.ClientID != "" {
		extra["client_id"] = s.ClientID
	}
	if sid, ok := s.IDTokenClaims().Extra["sid"]; ok {
		extra["sid"] = sid
	}
	// RFC 9068 §2.2.1: a user's access token says when and how the user signed in in this session, as the ID
	// token does (a second factor passed later in the session is in amr too).
	if c := s.IDTokenClaims(); !c.AuthTime.IsZero() {
		extra["auth_time"] = c.AuthTime.Unix()
		if len(c.AuthenticationMethodsReferences) > 0 {
			extra["amr"] = c.AuthenticationMethodsReferences
		}
	}
	subject := s.Subject
	if subject == "" {
		subject = s.ClientID // RFC 9068: for client-credentials grants sub is the client
	}
	return &jwt.JWTClaims{Subject: subject, Extra: extra}
}

// GetJWTHeader marks access tokens as RFC 9068 JWTs.
func (s *Session) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
}

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(fosite.Session)
}

// OrgID is the organization the session's tokens are for, "" for an internal token. Sessions stored before Org
// existed name it in their access claims only.
func (s *Session) OrgID() string {
	if s.Org != "" {
		return s.Org
	}
	id, _ := s.AccessClaims[ClaimOrgID].(string)
	return id
}

// Permissions are the permissions the session's access tokens carry.
func (s *Session) Permissions() []string { return claimStrings(s.AccessClaims[ClaimPermissions]) }

// Roles are the role names the session's access tokens carry.
func (s *Session) Roles() []string { return claimStrings(s.AccessClaims[ClaimRoles]) }

// claimStrings reads a string-list claim whether it is fresh ([]string) or came back from JSON ([]any).
func claimStrings(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
