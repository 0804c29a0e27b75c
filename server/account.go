package server

import (
	"context"
	"errors"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/storage"
)

// The account page's refusals.
var (
	// ErrNoPassword: the user has no password to change (they sign in another way).
	ErrNoPassword = errors.New("server: the user has no password")
	// ErrLastSignInMethod: unlinking the identity would leave the user no way to sign in (no password, no
	// passkey, no other linked identity).
	ErrLastSignInMethod = errors.New("server: the identity is the user's last way to sign in")
)

// ChangePassword replaces the password of the user signed in with session sessionID, after checking current
// through the tenant's password connection with its sign-in throttling (ip counts as for a sign-in; the check is
// audited as one). The new password must follow the directory's rules (a *directory.ValidationError on
// "password" otherwise). It ends every other session of the user and records user.password_changed, in one
// transaction. Errors: ErrNoPassword; signin.ErrInvalidCredentials for a wrong current password; a
// *signin.ThrottledError; signin.ErrConnectionDisabled when password sign-in is off; storage.ErrCredentialsChanged
// when the password changed meanwhile.
func (s *Server) ChangePassword(ctx context.Context, userID, sessionID, current, next, ip string) error {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return ErrNoPassword
	}
	if err := directory.CheckPasswordPolicy(next); err != nil {
		return err
	}
	if _, err := s.SignIn(ctx, u.Email, current, ip); err != nil {
		return err
	}
	hash, err := s.HashPassword(ctx, next)
	if err != nil {
		return err
	}
	actx := audit.WithActor(ctx, audit.Actor{Kind: "user", ID: userID})
	return s.Store.InTx(actx, func(ctx context.Context) error {
		err := s.Store.UpdateUser(ctx, userID, func(old storage.User) (storage.User, error) {
			if old.PasswordHash != u.PasswordHash {
				return old, storage.ErrCredentialsChanged
			}
			old.PasswordHash = hash
			return old, nil
		})
		if err != nil {
			return err
		}
		n, err := s.Store.DeleteOtherUserSessions(ctx, userID, sessionID)
		if err != nil {
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: audit.EventPasswordChanged, UserID: userID,
			Data: storage.JSONMap{"sessions_ended": n}})
	})
}

// AccountIdentity is one of a user's linked upstream identities as the account page lists it.
type AccountIdentity struct {
	storage.Identity
	// ConnectionName is the connection's name; ConnectionType its type.
	ConnectionName, ConnectionType string
	// Email is the address the provider gave at the last sign-in, when it kept one ("" otherwise).
	Email string
}

// AccountIdentities lists the user's linked upstream identities, oldest first.
func (s *Server) AccountIdentities(ctx context.Context, userID string) ([]AccountIdentity, error) {
	idents, err := s.Store.ListIdentities(ctx, userID)
	if err != nil || len(idents) == 0 {
		return nil, err
	}
	conns, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]storage.Connection, len(conns))
	for _, c := range conns {
		byID[c.ID] = c
	}
	out := make([]AccountIdentity, 0, len(idents))
	for _, i := range idents {
		c := byID[i.ConnectionID]
		email, _ := i.Profile["email"].(string)
		out = append(out, AccountIdentity{Identity: i, ConnectionName: c.Name, ConnectionType: c.Type, Email: email})
	}
	return out, nil
}

// IsSignInCredential reports whether a credential of type typ lets its user sign in by itself (a password, a
// passkey: any credential kind but the second factors, TOTP and recovery codes).
func IsSignInCredential(typ string) bool {
	return typ != storage.CredentialTOTP && typ != storage.CredentialRecoveryCode
}

// UnlinkIdentity removes the user's linked identity id when another way to sign in remains: a sign-in
// credential (IsSignInCredential) or another linked identity; ErrLastSignInMethod otherwise. It records
// user.identity_unlinked with the change. storage.ErrNotFound when the user has no such identity.
func (s *Server) UnlinkIdentity(ctx context.Context, userID, id string) error {
	actx := audit.WithActor(ctx, audit.Actor{Kind: "user", ID: userID})
	return s.Store.InTx(actx, func(ctx context.Context) error {
		removed, err := s.Store.UnlinkIdentity(ctx, userID, id, func(creds []storage.Credential, rest []storage.Identity) error {
			if len(rest) > 0 {
				return nil
			}
			for _, c := range creds {
				if IsSignInCredential(c.Type) {
					return nil
				}
			}
			return ErrLastSignInMethod
		})
		if err != nil {
			return err
		}
		return s.Audit(ctx, storage.AuditEvent{Type: audit.EventIdentityUnlinked, UserID: userID,
			Data: storage.JSONMap{"identity_id": id, "connection_id": removed.ConnectionID}})
	})
}
