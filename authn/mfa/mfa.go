// Package mfa keeps users' second factors: an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30-second
// steps, one step of clock skew either way) whose secret is encrypted at rest, and ten single-use recovery codes
// stored as keyed hashes. It enrols (a pending credential that counts only once a code confirms it), checks codes
// (a TOTP step, like a recovery code, is accepted once, by one conditional write), says whether a user must pass a
// second factor (they have one, or the tenant requires one), and lists and removes a user's authentication
// methods for the Management API. Every method works on the tenant in ctx's tenancy scope; every change is
// audited.
package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"sort"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// The tenant setting "mfa" (storage.TenantSettings.MFA).
const (
	// ModeOptional (the default): users who enrolled an authenticator app pass it at every sign-in; the others
	// sign in with one factor.
	ModeOptional = "optional"
	// ModeRequired: every sign-in passes a second factor; a user without one enrols an authenticator app at their
	// next sign-in.
	ModeRequired = "required"
)

// Audit event types of second factors.
const (
	EventTOTPEnrollmentStarted    = "mfa.totp_enrollment_started"
	EventTOTPEnrolled             = "mfa.totp_enrolled"
	EventTOTPRemoved              = "mfa.totp_removed"
	EventRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
	// EventSucceeded and EventFailed record second-factor attempts at sign-in (Data: method "totp" or
	// "recovery_code", and for failures a reason: "invalid_code" or "throttled").
	EventSucceeded = "mfa.succeeded"
	EventFailed    = "mfa.failed"
	// EventMethodDeleted and EventAuthenticatorsReset record the Management API removing a user's methods.
	EventMethodDeleted       = "user.authentication_method_deleted"
	EventAuthenticatorsReset = "user.authenticators_reset"
)

// RecoveryCodeCount is how many recovery codes an enrolment or a regeneration issues.
const RecoveryCodeCount = 10

// TOTP parameters (what every authenticator app assumes).
const (
	period = 30
	skew   = 1
)

var (
	// ErrInvalidCode answers a code that proves nothing: wrong, malformed, already used (a TOTP step accepted
	// before, a used recovery code), or there is nothing to check it against.
	ErrInvalidCode = errors.New("mfa: invalid or already used code")
	// ErrAlreadyEnrolled answers an enrolment for a user whose authenticator app is already confirmed.
	ErrAlreadyEnrolled = errors.New("mfa: an authenticator app is already set up")
	// ErrNotEnrolled answers a change that needs a confirmed authenticator app the user does not have.
	ErrNotEnrolled = errors.New("mfa: no authenticator app is set up")
)

// Store is what the service needs of storage.
type Store interface {
	storage.SecondFactors
	storage.Credentials
	GetUser(ctx context.Context, id string) (storage.User, error)
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Deps are what the service needs from the rest of Authio.
type Deps struct {
	Store   Store
	Secrets *keys.Secrets
	// Now is the server's clock: TOTP steps are computed from it.
	Now func() time.Time
	// Audit appends an event to the tenant's audit log (with the transaction of ctx).
	Audit func(ctx context.Context, e storage.AuditEvent) error
	// Mode is the tenant's "mfa" setting in effect for ctx: ModeOptional or ModeRequired.
	Mode func(ctx context.Context) string
}

// Factors keeps second factors. Build it with New.
type Factors struct {
	store   Store
	secrets *keys.Secrets
	now     func() time.Time
	audit   func(ctx context.Context, e storage.AuditEvent) error
	mode    func(ctx context.Context) string
}

// New returns the second-factor service over d.
func New(d Deps) *Factors {
	return &Factors{store: d.Store, secrets: d.Secrets, now: d.Now, audit: d.Audit, mode: d.Mode}
}

// Status is what a user has of second factors.
type Status struct {
	// TOTP: a confirmed authenticator app; PendingTOTP: one enrolled but not confirmed yet.
	TOTP, PendingTOTP bool
	// TOTPCreatedAt and TOTPLastUsedAt describe the authenticator app (zero and nil without one).
	TOTPCreatedAt  time.Time
	TOTPLastUsedAt *time.Time
	// RecoveryCodesLeft counts the unused recovery codes; RecoveryCodesCreatedAt is when they were issued.
	RecoveryCodesLeft      int
	RecoveryCodesCreatedAt time.Time
}

// MFAStatus returns the second factors of user userID.
func (s *Factors) MFAStatus(ctx context.Context, userID string) (Status, error) {
	cs, err := s.store.ListCredentials(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	var st Status
	for _, c := range cs {
		switch c.Type {
		case storage.CredentialTOTP:
			st.TOTP, st.PendingTOTP = !c.Pending, c.Pending
			st.TOTPCreatedAt, st.TOTPLastUsedAt = c.CreatedAt, c.LastUsedAt
		case storage.CredentialRecoveryCode:
			if c.LastUsedAt == nil {
				st.RecoveryCodesLeft++
			}
			st.RecoveryCodesCreatedAt = c.CreatedAt
		}
	}
	return st, nil
}

// MFARequired reports whether u must pass a second factor to sign in: u has a confirmed authenticator app, or the
// tenant requires a second factor of everyone (then a user without one enrols).
func (s *Factors) MFARequired(ctx context.Context, u storage.User) (bool, error) {
	if s.mode(ctx) == ModeRequired {
		return true, nil
	}
	st, err := s.MFAStatus(ctx, u.ID)
	return st.TOTP, err
}

// Enrollment is an authenticator app being set up: what the user scans or types into the app.
type Enrollment struct {
	// Secret is the manual key: the base32 secret in groups of four characters.
	Secret string
	// URL is the otpauth:// key URI the QR code encodes.
	URL string
	// QR is the key URI as a QR code, a PNG data URI (data:image/png;base64,…).
	QR string
}

// BeginTOTPEnrollment starts setting up an authenticator app for u, named issuer in the app (the tenant's name):
// a pending credential with a fresh secret (audited as EventTOTPEnrollmentStarted), or the user's pending one
// again (a reload shows the same key; nothing is stored). ErrAlreadyEnrolled when u has a confirmed one.
func (s *Factors) BeginTOTPEnrollment(ctx context.Context, u storage.User, issuer string) (Enrollment, error) {
	c, err := s.store.TOTPCredential(ctx, u.ID)
	switch {
	case err == nil && !c.Pending:
		return Enrollment{}, ErrAlreadyEnrolled
	case err == nil:
		secret, err := s.openSecret(ctx, c)
		if err != nil {
			return Enrollment{}, err
		}
		return enrollment(secret, issuer, u.Email)
	case !errors.Is(err, storage.ErrNotFound):
		return Enrollment{}, err
	}
	raw := make([]byte, 20) // 160 bits, RFC 4226's recommendation for SHA-1
	if _, err := rand.Read(raw); err != nil {
		return Enrollment{}, err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	sealed, err := s.secrets.Encrypt(secretPurpose(ctx, u.ID), []byte(secret))
	if err != nil {
		return Enrollment{}, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		c := storage.Credential{UserID: u.ID, Secret: base64.StdEncoding.EncodeToString(sealed), CreatedAt: s.now().UTC()}
		if err := s.store.StartTOTP(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventTOTPEnrollmentStarted, UserID: u.ID})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return Enrollment{}, ErrAlreadyEnrolled
	} else if err != nil {
		return Enrollment{}, err
	}
	return enrollment(secret, issuer, u.Email)
}

// enrollment renders a secret for the user's app.
func enrollment(secret, issuer, account string) (Enrollment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: stored TOTP secret is not base32: %w", err)
	}
	if issuer == "" {
		issuer = "Authio"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Secret: raw, Period: period,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrollment{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return Enrollment{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, err
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return Enrollment{Secret: strings.Join(groups, " "), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTPEnrollment confirms u's pending authenticator app with a code it shows, and returns the recovery
// codes issued with it (shown once: only their hashes are kept). ErrInvalidCode for a wrong code (or a
// confirmation that lost a race), ErrAlreadyEnrolled when the app is already confirmed, ErrNotEnrolled when
// nothing is being set up. Audited as EventTOTPEnrolled.
func (s *Factors) ConfirmTOTPEnrollment(ctx context.Context, u storage.User, code string) ([]string, error) {
	c, err := s.store.TOTPCredential(ctx, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrNotEnrolled
	case err != nil:
		return nil, err
	case !c.Pending:
		return nil, ErrAlreadyEnrolled
	}
	secret, err := s.openSecret(ctx, c)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	step, ok := matchStep(secret, code, now)
	if !ok {
		return nil, ErrInvalidCode
	}
	codes, hashed, err := s.newRecoveryCodes(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.ConfirmTOTP(ctx, u.ID, c.ID, step, now, hashed); err != nil {
			return err
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventTOTPEnrolled, UserID: u.ID,
			Data: storage.JSONMap{"credential_id": c.ID, "recovery_codes": len(codes)}})
	})
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return nil, ErrInvalidCode
	} else if err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckTOTP checks a code of u's confirmed authenticator app and accepts its time step once: ErrInvalidCode for a
// wrong code, a step accepted before (the same code again, or an older one), or no confirmed app.
func (s *Factors) CheckTOTP(ctx context.Context, u storage.User, code string) error {
	c, err := s.store.TOTPCredential(ctx, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrInvalidCode
	case err != nil:
		return err
	case c.Pending:
		return ErrInvalidCode
	}
	secret, err := s.openSecret(ctx, c)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	step, ok := matchStep(secret, code, now)
	if !ok {
		return ErrInvalidCode
	}
	if err := s.store.UseTOTPStep(ctx, u.ID, c.ID, step, now); errors.Is(err, storage.ErrAlreadyUsed) {
		return fmt.Errorf("%w: this code was used already", ErrInvalidCode)
	} else if err != nil {
		return err
	}
	return nil
}

// CheckRecoveryCode consumes one of u's unused recovery codes (typed with or without its hyphen, any case):
// ErrInvalidCode when it is not one, or was used.
func (s *Factors) CheckRecoveryCode(ctx context.Context, u storage.User, code string) error {
	norm := normalizeRecoveryCode(code)
	if len(norm) != recoveryCodeLen {
		return ErrInvalidCode
	}
	err := s.store.UseRecoveryCode(ctx, u.ID, s.recoveryCodeHash(ctx, u.ID, norm), s.now().UTC())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return ErrInvalidCode
	}
	return err
}

// RegenerateRecoveryCodes replaces every recovery code of u with RecoveryCodeCount new ones and returns them
// (shown once). ErrNotEnrolled when u has no confirmed authenticator app. Audited.
func (s *Factors) RegenerateRecoveryCodes(ctx context.Context, u storage.User) ([]string, error) {
	st, err := s.MFAStatus(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !st.TOTP {
		return nil, ErrNotEnrolled
	}
	codes, hashed, err := s.newRecoveryCodes(ctx, u.ID, s.now().UTC())
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, hashed); err != nil {
			return err
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventRecoveryCodesRegenerated, UserID: u.ID,
			Data: storage.JSONMap{"recovery_codes": len(codes)}})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RemoveTOTP removes u's authenticator app, pending or confirmed, with the recovery codes that back it up.
// ErrNotEnrolled when there was none. Audited.
func (s *Factors) RemoveTOTP(ctx context.Context, u storage.User) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		n, err := s.store.DeleteSecondFactors(ctx, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotEnrolled
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventTOTPRemoved, UserID: u.ID, Data: storage.JSONMap{"removed": n}})
	})
}

// AddSessionFactors adds methods (RFC 8176 amr values such as "otp" and "mfa") to browser session ls, once each,
// and returns it as stored.
func (s *Factors) AddSessionFactors(ctx context.Context, ls storage.LoginSession, methods ...string) (storage.LoginSession, error) {
	amr := append(storage.StringList{}, ls.AMR...)
	for _, m := range methods {
		if !amr.Has(m) {
			amr = append(amr, m)
		}
	}
	if err := s.store.SetSessionAMR(ctx, ls.ID, amr); err != nil {
		return ls, err
	}
	ls.AMR = amr
	return ls, nil
}

// matchStep returns the time step (of now's, one before and one after) whose code is code; the latest when
// several match.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	cur := now.Unix() / period
	for d := int64(skew); d >= -skew; d-- {
		step := cur + d
		if step <= 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// secretPurpose is the encryption purpose of a TOTP secret: it binds the ciphertext to its tenant and user, so a
// secret copied onto another user's row does not decrypt.
func secretPurpose(ctx context.Context, userID string) string {
	tid, _ := storage.TenantFromContext(ctx)
	return "totp-secret:" + tid + ":" + userID
}

// openSecret decrypts a TOTP credential's secret.
func (s *Factors) openSecret(ctx context.Context, c storage.Credential) (string, error) {
	sealed, err := base64.StdEncoding.DecodeString(c.Secret)
	if err != nil {
		return "", fmt.Errorf("mfa: stored TOTP secret of %s is not base64: %w", c.ID, err)
	}
	plain, err := s.secrets.Decrypt(secretPurpose(ctx, c.UserID), sealed)
	if err != nil {
		return "", fmt.Errorf("mfa: TOTP secret of %s: %w", c.ID, err)
	}
	return string(plain), nil
}

// Recovery codes: 10 characters of a 31-character alphabet without look-alikes (i, l, o, 0, 1): about 49 bits,
// shown as two groups of five.
const (
	recoveryCodeLen      = 10
	recoveryCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
)

// newRecoveryCodes makes RecoveryCodeCount codes for user userID: the codes to show, and the credentials to store
// (each with the code's keyed hash as its Secret).
func (s *Factors) newRecoveryCodes(ctx context.Context, userID string, now time.Time) ([]string, []storage.Credential, error) {
	codes := make([]string, 0, RecoveryCodeCount)
	creds := make([]storage.Credential, 0, RecoveryCodeCount)
	seen := map[string]bool{}
	for len(codes) < RecoveryCodeCount {
		b := make([]byte, recoveryCodeLen)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		var sb strings.Builder
		for _, x := range b {
			// 256 is not a multiple of 31: the first 8 characters come up slightly more often, which costs under
			// 0.1 bit of the code's ~49.
			sb.WriteByte(recoveryCodeAlphabet[int(x)%len(recoveryCodeAlphabet)])
		}
		norm := sb.String()
		if seen[norm] {
			continue
		}
		seen[norm] = true
		codes = append(codes, norm[:5]+"-"+norm[5:])
		creds = append(creds, storage.Credential{Secret: s.recoveryCodeHash(ctx, userID, norm), CreatedAt: now})
	}
	return codes, creds, nil
}

// recoveryCodeHash is the keyed hash a recovery code is stored as, bound to its tenant and user.
func (s *Factors) recoveryCodeHash(ctx context.Context, userID, norm string) string {
	tid, _ := storage.TenantFromContext(ctx)
	return s.secrets.TokenHash("recovery-code:" + tid + ":" + userID + ":" + norm)
}

// normalizeRecoveryCode lower-cases a typed recovery code and drops spaces and hyphens.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, strings.TrimSpace(code))
}

// Method is one of a user's authentication methods as the Management API lists them (Auth0's shape).
type Method struct {
	// ID is "<type>|<credential id>": "totp|crd_…", "password|crd_…", "passkey|crd_…"; the recovery codes are one
	// method, named by their oldest credential.
	ID string
	// Type is Auth0's name of the method: "password", "totp", "recovery-code" or "passkey".
	Type      string
	Confirmed bool
	// Name is the credential's name when it has one (a passkey's).
	Name       string
	CreatedAt  time.Time
	LastAuthAt *time.Time
}

// methodType is the Auth0 name of a credential type.
func methodType(credType string) string {
	switch credType {
	case storage.CredentialRecoveryCode:
		return "recovery-code"
	case storage.CredentialWebAuthn:
		return "passkey"
	}
	return credType
}

// AuthenticationMethods lists every authentication method of user userID, oldest first: each credential (a
// password, an authenticator app, a passkey), and the recovery codes as one method. A *directory.NotFoundError
// when the tenant has no such user.
func (s *Factors) AuthenticationMethods(ctx context.Context, userID string) ([]Method, error) {
	if _, err := s.store.GetUser(ctx, userID); err != nil {
		return nil, directory.NotFound(err, "user", userID)
	}
	cs, err := s.store.ListCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []Method{}
	recovery := -1
	for _, c := range cs {
		if c.Type == storage.CredentialRecoveryCode {
			if recovery < 0 {
				recovery = len(out)
				out = append(out, Method{ID: "recovery-code|" + c.ID, Type: "recovery-code", Confirmed: true, CreatedAt: c.CreatedAt})
			}
			if m := &out[recovery]; c.LastUsedAt != nil && (m.LastAuthAt == nil || c.LastUsedAt.After(*m.LastAuthAt)) {
				t := *c.LastUsedAt
				m.LastAuthAt = &t
			}
			continue
		}
		m := Method{ID: methodType(c.Type) + "|" + c.ID, Type: methodType(c.Type), Confirmed: !c.Pending,
			CreatedAt: c.CreatedAt, LastAuthAt: c.LastUsedAt}
		if n, ok := c.Metadata["name"].(string); ok {
			m.Name = n
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// DeleteAuthenticationMethod removes one authentication method of user userID by its Method.ID: the recovery-code
// method removes every recovery code, and an authenticator app takes its recovery codes with it. A
// *directory.NotFoundError when the user or the method is unknown (another user's or tenant's included).
// Audited as EventMethodDeleted.
func (s *Factors) DeleteAuthenticationMethod(ctx context.Context, userID, methodID string) error {
	ms, err := s.AuthenticationMethods(ctx, userID)
	if err != nil {
		return err
	}
	var found *Method
	for i := range ms {
		if ms[i].ID == methodID {
			found = &ms[i]
		}
	}
	if found == nil {
		return directory.NotFound(storage.ErrNotFound, "authentication_method", methodID)
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		cs, err := s.store.ListCredentials(ctx, userID)
		if err != nil {
			return err
		}
		_, credID, _ := strings.Cut(found.ID, "|")
		var ids []string
		for _, c := range cs {
			switch {
			case c.ID == credID,
				found.Type == "recovery-code" && c.Type == storage.CredentialRecoveryCode,
				found.Type == "totp" && c.Type == storage.CredentialRecoveryCode:
				ids = append(ids, c.ID)
			}
		}
		if err := s.store.DeleteUserCredentials(ctx, userID, ids); err != nil {
			return directory.NotFound(err, "authentication_method", methodID)
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventMethodDeleted, UserID: userID,
			Data: storage.JSONMap{"method_id": methodID, "type": found.Type, "removed": len(ids)}})
	})
}

// ResetAuthenticators removes every second factor of user userID (authenticator app and recovery codes; passkeys
// stay, as Auth0's reset keeps them: they are a way to sign in, not a second factor). A *directory.NotFoundError
// for an unknown user. Audited as EventAuthenticatorsReset, even when there was nothing to remove.
func (s *Factors) ResetAuthenticators(ctx context.Context, userID string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetUser(ctx, userID); err != nil {
			return directory.NotFound(err, "user", userID)
		}
		n, err := s.store.DeleteSecondFactors(ctx, userID)
		if err != nil {
			return err
		}
		return s.audit(ctx, storage.AuditEvent{Type: EventAuthenticatorsReset, UserID: userID, Data: storage.JSONMap{"removed": n}})
	})
}
