package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/authio/authio/audit"
	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/password"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/storage"
	"golang.org/x/text/unicode/norm"
)

// The sign-in pipeline: every connection kind signs a user in through the same steps. The handler opens the
// connection a request names (SignInConnection: unknown → 404, disabled → 403, audited); the kind proves an
// identity inside signInThrough, which throttles, audits and refuses blocked users the same way for every
// kind; an upstream identity becomes a user through ResolveIdentity; the handler then starts the session and
// advances the flow. Only the password kind keeps a path of its own (SignIn), because its throttling keys depend
// on the account's password hash.

var (
	// ErrUnknownConnection answers a sign-in through a connection the tenant does not have, or whose type has no
	// registered kind (another tenant's connection id or name is unknown here).
	ErrUnknownConnection = errors.New("no such sign-in method")
	// ErrIdentityConflict answers a first sign-in through an upstream connection whose email belongs to a user
	// of the tenant while the provider does not vouch for the address: the account is neither taken over nor
	// duplicated.
	ErrIdentityConflict = errors.New("an account with this email already exists")
	// ErrIdentityUnusable answers a first sign-in through an upstream connection that shared no valid email
	// address: there is no user to link it to nor to create.
	ErrIdentityUnusable = errors.New("the identity provider did not share a usable email address")
	// ErrIdentityUnverified answers a first sign-in through an upstream connection whose provider does not vouch
	// for the email it shared: such an identity neither creates nor joins an account, whatever the address, so
	// the answer also tells nobody whether the address has an account.
	ErrIdentityUnverified = errors.New("the identity provider did not verify the email address")
)

// SignInConnection opens the connection of the tenant in ctx that a sign-in names, by name or id ("" names the
// default password connection). ErrUnknownConnection when the tenant has none or no kind is registered for its
// type; ErrConnectionDisabled when it is disabled, recorded as signin.failed (reason connection_disabled) with
// account as the email tried ("" when not known yet).
func (s *SignInService) SignInConnection(ctx context.Context, name, account string) (authn.Connection, error) {
	if name == "" {
		name = storage.DefaultPasswordConnection
	}
	rec, err := s.Store.GetConnection(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnknownConnection
	} else if err != nil {
		return nil, err
	}
	c, err := s.registry.Open(rec)
	switch {
	case errors.Is(err, authn.ErrDisabled):
		if !s.registry.Has(rec.Type) {
			return nil, ErrUnknownConnection
		}
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, "", account, "connection_disabled"); err != nil {
			return nil, err
		}
		return nil, ErrConnectionDisabled
	case errors.Is(err, authn.ErrUnknownType):
		return nil, ErrUnknownConnection
	case err != nil:
		return nil, err // stored settings the kind refuses: a misconfiguration, a 5xx
	}
	return c, nil
}

// LoginConnections returns the connections the sign-in page of the tenant in ctx offers: the enabled ones whose
// type has a registered kind, opened, the default password connection first and the others in creation order.
// The default password connection is listed even when disabled, so the page keeps its form and a submission is
// told that password sign-in is turned off (403). A connection whose stored settings its kind refuses is left
// out and logged.
func (s *SignInService) LoginConnections(ctx context.Context) ([]authn.Connection, error) {
	recs, err := s.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	var out []authn.Connection
	for _, rec := range recs {
		isDefault := rec.Name == storage.DefaultPasswordConnection
		if (!rec.Enabled && !isDefault) || !s.registry.Has(rec.Type) {
			continue
		}
		open := rec
		open.Enabled = true // listing only: SignInConnection refuses the disabled default
		c, err := s.registry.Open(open)
		if err != nil {
			s.logger.Warn("sign-in page: a connection's settings are refused by its kind", "connection_id", rec.ID, "err", err)
			continue
		}
		if isDefault {
			out = append([]authn.Connection{c}, out...)
		} else {
			out = append(out, c)
		}
	}
	return out, nil
}

// SignInForm checks a sign-in form submitted for form connection c, throttled, audited and with blocked users
// refused like every sign-in, and returns the user with the authentication methods (RFC 8176 amr) proven.
// Errors: ErrInvalidCredentials (the form proved nothing), *ThrottledError, ErrUserBlocked,
// ErrIdentityConflict / ErrIdentityUnusable (a form kind proving an upstream identity), or the infrastructure's.
func (s *SignInService) SignInForm(ctx context.Context, c authn.FormConnection, form url.Values, ip string) (storage.User, []string, error) {
	if pc, ok := c.(*password.Connection); ok {
		u, err := s.signInPassword(ctx, pc, form.Get("email"), form.Get("password"), ip)
		return u, []string{"pwd"}, err
	}
	account := ""
	if a, ok := c.(authn.AccountNamer); ok {
		account = a.Account(form)
	}
	return s.signInThrough(ctx, c.Record(), account, ip, func(ctx context.Context) (authn.Identity, error) {
		return c.Authenticate(ctx, form)
	})
}

// SignInUpstream finishes a sign-in through upstream connection c (redirect or POST binding): prove checks the
// provider's answer (HandleCallback or HandlePOST). Throttled per (connection, IP) and per IP, audited, the
// identity resolved to a user by ResolveIdentity; errors as SignInForm's. The sign-in's amr is ["fed"] whatever the
// provider claims (RFC 8176).
func (s *SignInService) SignInUpstream(ctx context.Context, c authn.Connection, ip string, prove func(ctx context.Context) (authn.Identity, error)) (storage.User, []string, error) {
	u, _, err := s.signInThrough(ctx, c.Record(), "", ip, prove)
	if err != nil {
		return u, nil, err
	}
	// RFC 8176: federated through another provider. What the provider says it checked is its claim, not a method
	// Authio saw: an upstream sign-in is "fed" and nothing more, so no organization policy can take a provider's
	// "mfa" for its own.
	return u, []string{"fed"}, nil
}

// FlowRequestID is the request id a POST-binding connection sends its provider for flow flowID (SAML's ID,
// which the answer must name as InResponseTo): derived from the flow id with a server key, so it needs no
// storage and nobody who does not hold the flow id can predict it.
func (s *SignInService) FlowRequestID(flowID string) string {
	m := hmac.New(sha256.New, s.secrets.Derive("flow-request-id"))
	m.Write([]byte(flowID))
	return "_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}

// signInThrough runs one sign-in attempt through rec: throttling (the counts of throttle.go, with the account
// named by account, or by (connection, IP) when it is empty, so failures of an account-less kind never lock
// out other IPs), the proof, the user it names, the blocked check and the audit events.
func (s *SignInService) signInThrough(ctx context.Context, rec storage.Connection, account, ip string, prove func(ctx context.Context) (authn.Identity, error)) (storage.User, []string, error) {
	tid, _ := storage.TenantFromContext(ctx)
	name := "connection:" + rec.ID + "\x00"
	if account != "" {
		name += "account:" + account
	} else {
		name += "ip:" + throttleIP(ip)
	}
	policy := s.throttlePolicyOf(ctx)
	keys := s.throttleKeysFor(tid, name, "", ip)
	if wait, refused, err := s.signInRefused(ctx, keys, policy); err != nil {
		return storage.User{}, nil, err
	} else if refused {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, "", account, "throttled"); err != nil {
			return storage.User{}, nil, err
		}
		return storage.User{}, nil, &ThrottledError{RetryAfter: wait}
	}
	a, over, err := s.reserveSignIn(ctx, keys, policy)
	if err != nil {
		return storage.User{}, nil, err
	} else if over {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, "", account, "throttled"); err != nil {
			return storage.User{}, nil, err
		}
		return storage.User{}, nil, &ThrottledError{RetryAfter: time.Second}
	}
	id, err := prove(ctx)
	if errors.Is(err, authn.ErrInvalidCredentials) {
		if err := a.failed(ctx); err != nil {
			return storage.User{}, nil, err
		}
		reason, userID := "invalid_credentials", ""
		var refused *authn.RefusedError
		if errors.As(err, &refused) {
			reason, userID = refused.Reason, refused.UserID
		}
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, userID, account, reason); err != nil {
			return storage.User{}, nil, err
		}
		return storage.User{}, nil, ErrInvalidCredentials
	} else if err != nil {
		a.takeBack(ctx) // our failure, not the user's
		return storage.User{}, nil, err
	}
	a.succeeded(ctx)
	id.ConnectionID = rec.ID
	u, err := s.ResolveIdentity(ctx, rec, id)
	if errors.Is(err, ErrIdentityConflict) || errors.Is(err, ErrIdentityUnusable) || errors.Is(err, ErrIdentityUnverified) ||
		errors.Is(err, ErrUserBlocked) {
		// ResolveIdentity returns these sentinels as they are.
		reason := map[error]string{ErrIdentityConflict: "identity_conflict", ErrIdentityUnusable: "identity_unusable",
			ErrIdentityUnverified: "identity_unverified", ErrUserBlocked: "blocked"}[err]
		if aerr := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, "", id.Email, reason); aerr != nil {
			return storage.User{}, nil, aerr
		}
		return storage.User{}, nil, err
	} else if err != nil {
		return storage.User{}, nil, err
	}
	if u.Blocked {
		if err := s.auditSignInThrough(ctx, rec, audit.EventSignInFailed, u.ID, u.Email, "blocked"); err != nil {
			return storage.User{}, nil, err
		}
		return storage.User{}, nil, ErrUserBlocked
	}
	if err := s.auditSignInThrough(ctx, rec, audit.EventSignInSucceeded, u.ID, u.Email, ""); err != nil {
		return storage.User{}, nil, err
	}
	amr := id.AMR
	if len(amr) == 0 && id.User.ID == "" {
		amr = []string{"fed"} // RFC 8176: federated through another provider
	}
	return u, amr, nil
}

// ResolveIdentity returns the user of the tenant in ctx whom identity id, proven through connection rec, signs
// in. A local kind names its user (id.User). For an upstream kind, (connection, subject) is looked up in
// storage.Identities; the first sign-in of a subject:
//
//   - needs an email the provider vouches for (id.EmailVerified), else ErrIdentityUnverified — for every address
//     alike, so an unverified identity can neither claim an address before its owner arrives nor tell whether
//     it has an account — and a valid one, else ErrIdentityUnusable;
//   - creates a user with that email (verified, no password) when there is none, and links it;
//   - links it to the existing user with that email only when that user's stored address is the very mailbox the
//     provider verified (equal but for ASCII case: Unicode case folding, which makes "ß" and "ss" one account
//     name, does not make them one mailbox) and the user's own email is verified (else whoever set that
//     account's password would share it with the mailbox's owner); otherwise ErrIdentityConflict;
//   - refuses a blocked user with ErrUserBlocked before anything is stored.
//
// Concurrent first sign-ins of one subject end with one user and one link: the loser of the link's unique
// index reads the winner's.
func (s *SignInService) ResolveIdentity(ctx context.Context, rec storage.Connection, id authn.Identity) (storage.User, error) {
	if id.User.ID != "" {
		return id.User, nil
	}
	if id.Subject == "" {
		return storage.User{}, errors.New("server: connection kind " + rec.Type + " proved an identity without a subject")
	}
	if u, err := s.linkedUser(ctx, rec, id.Subject); !errors.Is(err, storage.ErrNotFound) {
		return u, err
	}
	email, err := directory.NormalizeEmail(id.Email)
	if err != nil {
		return storage.User{}, ErrIdentityUnusable
	}
	if !id.EmailVerified {
		return storage.User{}, ErrIdentityUnverified
	}
	var user storage.User
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		existing, err := s.Store.GetUserByEmail(ctx, email)
		switch {
		case err == nil && !sameMailbox(id.Email, existing.Email):
			return ErrIdentityConflict
		case err == nil && existing.Blocked:
			return ErrUserBlocked
		case err == nil && !existing.EmailVerified:
			return ErrIdentityConflict
		case err == nil:
			user = existing
		case errors.Is(err, storage.ErrNotFound):
			now := s.now().UTC()
			user = storage.User{ID: ids.New("user"), Email: email, EmailVerified: true, Name: id.Name,
				CreatedAt: now, UpdatedAt: now}
			if err := s.Store.CreateUser(ctx, user); err != nil {
				return err
			}
		default:
			return err
		}
		now := s.now().UTC()
		return s.Store.LinkIdentity(ctx, storage.Identity{ConnectionID: rec.ID, Subject: id.Subject, UserID: user.ID,
			Profile: storage.JSONMap(id.Profile), CreatedAt: now, UpdatedAt: now})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		// Another sign-in of the same subject (or of the same new email) won the race: use what it stored.
		u, lerr := s.linkedUser(ctx, rec, id.Subject)
		switch {
		case lerr == nil:
			return u, nil
		case errors.Is(lerr, storage.ErrNotFound): // another subject took the email meanwhile
			return storage.User{}, ErrIdentityConflict
		}
		return storage.User{}, lerr // the database's failure, not a conflict
	} else if err != nil {
		return storage.User{}, err
	}
	return s.Store.GetUser(ctx, user.ID)
}

// sameMailbox reports whether the address a provider verified is the stored one: equal once trimmed, in Unicode
// NFC and with ASCII letters lower-cased. Only ASCII case is ignored, as mail systems do in practice; other case
// and compatibility differences (the Kelvin sign, "ß" and "ss") can name other mailboxes.
func sameMailbox(verified, stored string) bool {
	lower := func(v string) string {
		b := []byte(norm.NFC.String(strings.TrimSpace(v)))
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + ('a' - 'A')
			}
		}
		return string(b)
	}
	return lower(verified) == lower(stored)
}

func (s *SignInService) linkedUser(ctx context.Context, rec storage.Connection, subject string) (storage.User, error) {
	link, err := s.Store.IdentityBySubject(ctx, rec.ID, subject)
	if err != nil {
		return storage.User{}, err
	}
	return s.Store.GetUser(ctx, link.UserID)
}
