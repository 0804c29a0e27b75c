// Package emailotp is the email connection kind: passwordless sign-in with one email carrying a single-use link
// and a 6-digit code, both valid for TTL and stored only as keyed hashes (storage.OneTimeSecrets, purpose
// Purpose), bound to the sign-in flow that asked for them.
//
//   - The link (GET /login/<connection>/verify?token=…) signs in only the browser that holds that flow (its flow
//     cookie); another browser is asked to go back to the first one or type the code there. amr ["email"].
//   - The code is typed on the "Check your email" page of the same flow. At most MaxAttempts wrong codes per flow:
//     the fifth kills the secret, and a new email for the flow starts with the attempts already used. amr
//     ["email", "otp"].
//   - Known and unknown addresses get the same page after the same work: a secret is stored for both (bound to no
//     user for an unknown one, so its code proves nothing), and every request that may send waits for the same
//     window (Deps.SendWindow) whether or not an email went out. A send that fails within the window is reported
//     ("We could not send the email"); one still under way then goes on in the background (retried by package
//     mail).
//   - No user is created here: an address without an account cannot sign in by email.
package emailotp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/internal/canon"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/mail"
	"github.com/authio/authio/storage"
)

// Type is the connection type of this kind (storage.ConnectionEmail).
const Type = storage.ConnectionEmail

// Purpose is the storage.OneTimeSecret purpose of sign-in links and codes.
const Purpose = storage.OneTimeEmailSignIn

const (
	// TTL is how long a link and its code work.
	TTL = 10 * time.Minute
	// MaxAttempts is how many wrong codes a flow may type; the last one kills the secret.
	MaxAttempts = 5
	// CodeDigits is the length of the code.
	CodeDigits = 6
)

// VerifyPath is the path of a connection's sign-in link: /login/<connection>/verify?token=….
func VerifyPath(connection string) string { return "/login/" + url.PathEscape(connection) + "/verify" }

// Connection is an opened email connection.
type Connection struct {
	rec storage.Connection
	d   authn.Deps
}

var (
	_ authn.LinkVerifier = (*Connection)(nil)
	_ authn.Templated    = (*Connection)(nil)
	_ authn.AccountNamer = (*Connection)(nil)
	_ authn.Displayed    = (*Connection)(nil)
)

// New is the kind's authn.Factory. The email kind takes no settings.
func New(rec storage.Connection, deps authn.Deps) (authn.Connection, error) {
	if err := authn.NoSettings("email", rec); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.OneTime == nil || deps.Secrets == nil || deps.SendMail == nil || deps.Now == nil || deps.BaseURL == nil {
		return nil, errors.New("emailotp: missing dependencies (store, one-time secrets, secrets, mail, clock, base URL)")
	}
	return &Connection{rec: rec, d: deps}, nil
}

// Type implements authn.Connection.
func (c *Connection) Type() string { return Type }

// Record implements authn.Connection.
func (c *Connection) Record() storage.Connection { return c.rec }

// Template implements authn.Templated: templates/connections/email.html.
func (c *Connection) Template() string { return "email" }

// DisplayName implements authn.Displayed.
func (c *Connection) DisplayName() string { return "Email" }

// Fields implements authn.FormConnection: the answer form's one field (the request form carries the email).
func (c *Connection) Fields() []authn.Field {
	return []authn.Field{{Name: "code", Label: "Code from the email", Type: "text", Autocomplete: "one-time-code"}}
}

// Account implements authn.AccountNamer: the email the form names.
func (c *Connection) Account(form url.Values) string { return form.Get("email") }

// Answered implements authn.Challenger: a form with a code field is an answer.
func (c *Connection) Answered(form url.Values) bool { return form.Has("code") }

// Challenge implements authn.Challenger: it stores a new secret for the flow in ctx and emails its link and
// code to the account form's email names, if there is one. The request then takes SendWindow in every case.
func (c *Connection) Challenge(ctx context.Context, form url.Values) error {
	flowID := authn.FlowFromContext(ctx)
	if flowID == "" {
		return errors.New("emailotp: a challenge outside a sign-in flow")
	}
	if c.d.MailUsable != nil {
		if err := c.d.MailUsable(); err != nil {
			return err // the same for every address: mail cannot be sent at all
		}
	}
	start := time.Now()
	u, err := c.d.Store.GetUserByEmail(ctx, canon.Email(form.Get("email")))
	if errors.Is(err, storage.ErrNotFound) {
		u = storage.User{}
	} else if err != nil {
		return err
	}
	token, code := ids.Random(32), randomCode()
	id := ids.New("ots")
	now := c.d.Now().UTC()
	sec, err := c.d.OneTime.CreateOneTimeSecret(ctx, storage.OneTimeSecret{ID: id, Purpose: Purpose, UserID: u.ID, FlowID: flowID,
		SecretHash: c.tokenHash(token), CodeHash: c.codeHash(id, code), ExpiresAt: now.Add(TTL), CreatedAt: now})
	if err != nil {
		return err
	}
	if sec.Attempts >= MaxAttempts {
		return authn.ErrTooManyAttempts
	}
	done := make(chan error, 1)
	if u.ID != "" {
		link := c.d.BaseURL(ctx) + VerifyPath(c.rec.Name) + "?" + url.Values{"token": {token}}.Encode()
		content := mail.Content{To: u.Email, Link: link, Code: code, Expires: "10 minutes"}
		// Off the request's cancellation: a browser that gives up must not cut a delivery short.
		sendCtx := context.WithoutCancel(ctx)
		go func() { done <- c.d.SendMail(sendCtx, mail.KindMagicLink, content) }()
	}
	window := time.Second
	if c.d.SendWindow != nil {
		window = c.d.SendWindow()
	}
	t := time.NewTimer(window - time.Since(start))
	defer t.Stop()
	<-t.C
	select {
	case err := <-done:
		return err
	default:
		return nil // still sending: it goes on (and is retried) in the background
	}
}

// LinkFlow implements authn.LinkVerifier.
func (c *Connection) LinkFlow(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 128 {
		return "", authn.ErrInvalidCredentials
	}
	sec, err := c.d.OneTime.OneTimeSecretByHash(ctx, Purpose, c.tokenHash(token))
	if errors.Is(err, storage.ErrNotFound) {
		return "", authn.ErrInvalidCredentials
	} else if err != nil {
		return "", err
	}
	if sec.ConsumedAt != nil || !c.d.Now().Before(sec.ExpiresAt) || sec.FlowID == "" {
		return "", authn.ErrInvalidCredentials
	}
	return sec.FlowID, nil
}

// Authenticate implements authn.FormConnection for the flow in ctx: form "code" (typed on the page) or "token"
// (the link, when the caller checked that the browser holds the flow). Either is consumed once; a wrong code
// counts against the flow's MaxAttempts.
func (c *Connection) Authenticate(ctx context.Context, form url.Values) (authn.Identity, error) {
	flowID := authn.FlowFromContext(ctx)
	if flowID == "" {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	now := c.d.Now()
	if form.Has("code") {
		code := strings.Join(strings.Fields(form.Get("code")), "")
		sec, err := c.d.OneTime.OpenOneTimeSecretForFlow(ctx, Purpose, flowID, now)
		if errors.Is(err, storage.ErrNotFound) {
			return authn.Identity{}, authn.ErrInvalidCredentials
		} else if err != nil {
			return authn.Identity{}, err
		}
		if len(code) != CodeDigits || subtle.ConstantTimeCompare([]byte(c.codeHash(sec.ID, code)), []byte(sec.CodeHash)) != 1 {
			if _, err := c.d.OneTime.RecordOneTimeCodeFailure(ctx, sec.ID, MaxAttempts, now); err != nil && !errors.Is(err, storage.ErrAlreadyUsed) {
				return authn.Identity{}, err
			}
			return authn.Identity{}, authn.ErrInvalidCredentials
		}
		if err := c.d.OneTime.ConsumeOneTimeSecretByID(ctx, sec.ID, MaxAttempts, now); errors.Is(err, storage.ErrAlreadyUsed) {
			return authn.Identity{}, authn.ErrInvalidCredentials
		} else if err != nil {
			return authn.Identity{}, err
		}
		return c.identity(ctx, sec, []string{"email", "otp"})
	}
	token := form.Get("token")
	if token == "" || len(token) > 128 {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	sec, err := c.d.OneTime.ConsumeOneTimeSecret(ctx, Purpose, c.tokenHash(token), flowID, now)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return authn.Identity{}, authn.ErrInvalidCredentials
	} else if err != nil {
		return authn.Identity{}, err
	}
	return c.identity(ctx, sec, []string{"email"})
}

// identity is the user a consumed secret proves: none for an address without an account.
func (c *Connection) identity(ctx context.Context, sec storage.OneTimeSecret, amr []string) (authn.Identity, error) {
	if sec.UserID == "" {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	u, err := c.d.Store.GetUser(ctx, sec.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return authn.Identity{}, authn.ErrInvalidCredentials
	} else if err != nil {
		return authn.Identity{}, err
	}
	if !u.EmailVerified {
		if u, err = c.firstProof(ctx, u); err != nil {
			return authn.Identity{}, err
		}
	}
	return authn.Identity{User: u, ConnectionID: c.rec.ID, Subject: u.ID, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, AMR: amr}, nil
}

// firstProof handles the first proof of an account's mailbox: a sign-in by email to an address that was never
// verified. Whoever signed up with it before set its password without proving the mailbox (account
// pre-hijacking), so in one transaction the address becomes verified, every password of the account is removed
// and its other sessions end; the mailbox's owner sets a password again with "Forgot password?". It returns the
// user as stored now.
func (c *Connection) firstProof(ctx context.Context, u storage.User) (storage.User, error) {
	sessions, ok := c.d.Store.(interface {
		DeleteUserSessions(ctx context.Context, userID string) error
	})
	if !ok || c.d.Tx == nil {
		return storage.User{}, errors.New("emailotp: the store cannot end sessions in a transaction")
	}
	err := c.d.Tx(ctx, func(ctx context.Context) error {
		if err := c.d.Store.UpdateUser(ctx, u.ID, func(old storage.User) (storage.User, error) {
			old.EmailVerified = true
			return old, nil
		}); err != nil {
			return err
		}
		creds, err := c.d.Store.ListCredentials(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, cr := range creds {
			if cr.Type == storage.CredentialPassword {
				if err := c.d.Store.SetPasswordCredential(ctx, u.ID, cr.ConnectionID, ""); err != nil {
					return err
				}
			}
		}
		return sessions.DeleteUserSessions(ctx, u.ID)
	})
	if err != nil {
		return storage.User{}, err
	}
	return c.d.Store.GetUser(ctx, u.ID)
}

// tokenHash and codeHash are the keyed hashes stored for a link's token and a secret's code (salted with the
// secret's id, so equal codes of two secrets hash apart).
func (c *Connection) tokenHash(token string) string {
	return c.d.Secrets.TokenHash("email-signin-link:" + token)
}

func (c *Connection) codeHash(id, code string) string {
	return c.d.Secrets.TokenHash("email-signin-code:" + id + ":" + code)
}

// randomCode is a uniformly random CodeDigits-digit code.
func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%0*d", CodeDigits, n.Int64())
}
