// Package passkey is the passkey connection kind: WebAuthn (Level 2) credentials, checked with go-webauthn. A
// passkey is registered on, and only usable on, the tenant domain the page is served on (its relying party id);
// sign-in is discoverable (no email typed) or after the email step, always with user verification.
//
// The kind is a form kind with a ceremony (authn.Ceremony): the sign-in page's script gets the options from
// Begin, runs navigator.credentials.get and posts the assertion (JSON) in the form field "credential" to
// /login, where Authenticate checks it against the challenge Begin stored for the flow. Registration, by a
// signed-in user, is BeginRegistration and FinishRegistration, bound to the browser session.
package passkey

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authio/authio/internal/canon"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/tenancy"
)

// Type is the connection type of this kind (storage.ConnectionPasskey).
const Type = storage.ConnectionPasskey

// Field is the sign-in form field that carries the browser's assertion (PublicKeyCredential as JSON, binary
// members base64url).
const Field = "credential"

// ChallengeTTL is how long a ceremony's challenge can be answered.
const ChallengeTTL = 5 * time.Minute

// MaxCredentialJSON bounds the assertion or attestation JSON a browser may post (bytes).
const MaxCredentialJSON = 64 << 10

// MaxNameLength bounds a passkey's name (characters).
const MaxNameLength = 64

// Audit event types of passkey changes by their user.
const (
	EventRegistered = "passkey.registered"
	EventRenamed    = "passkey.renamed"
	EventRemoved    = "passkey.removed"
)

// Reasons a genuine assertion is refused (signin.failed's reason, through authn.RefusedError).
const (
	ReasonSignCount   = "passkey_sign_count_regression"
	ReasonBackupFlags = "passkey_backup_flags_invalid"
)

// Errors of registration.
var (
	// ErrInvalid is a registration the browser's answer does not prove (wrong challenge, origin, signature, no
	// user verification, an expired or used ceremony). It matches authn.ErrInvalidCredentials.
	ErrInvalid = fmt.Errorf("passkey: the registration did not verify: %w", authn.ErrInvalidCredentials)
	// ErrDuplicate is a passkey that is already registered on this domain.
	ErrDuplicate = errors.New("passkey: this passkey is already registered")
)

// nobody is the user id a sign-in challenge records when the email step named no account (or one without
// passkeys here): no passkey can answer it.
const nobody = "-"

// store is what the kind uses of storage.
type store interface {
	storage.Users
	storage.Passkeys
}

// Connection is an opened passkey connection.
type Connection struct {
	rec    storage.Connection
	store  store
	fake   []byte // key of the stand-in credential ids of an email that names nobody
	now    func() time.Time
	audit  func(ctx context.Context, e storage.AuditEvent) error
	tx     func(ctx context.Context, fn func(ctx context.Context) error) error
	fields []authn.Field
}

var (
	_ authn.FormConnection = (*Connection)(nil)
	_ authn.Ceremony       = (*Connection)(nil)
	_ authn.Templated      = (*Connection)(nil)
	_ authn.Enrollable     = (*Connection)(nil)
)

// New is the kind's authn.Factory. Passkey connections take no settings.
func New(rec storage.Connection, deps authn.Deps) (authn.Connection, error) {
	if err := authn.NoSettings("passkey", rec); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Passkeys == nil || deps.Secrets == nil || deps.Audit == nil || deps.Tx == nil {
		return nil, errors.New("passkey: missing dependencies (store, passkeys, secrets, audit, transactions)")
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Connection{rec: rec, store: struct {
		storage.Users
		storage.Passkeys
	}{deps.Store, deps.Passkeys}, fake: deps.Secrets.Derive("passkey-stand-in-ids"), now: now,
		audit: deps.Audit, tx: deps.Tx,
		fields: []authn.Field{{Name: Field, Label: "Passkey", Type: "hidden"}}}, nil
}

// Type implements authn.Connection.
func (c *Connection) Type() string { return Type }

// Record implements authn.Connection.
func (c *Connection) Record() storage.Connection { return c.rec }

// Template implements authn.Templated: templates/connections/passkey.html.
func (c *Connection) Template() string { return "passkey" }

// EnrollPath implements authn.Enrollable: the page where a signed-in user registers passkeys.
func (c *Connection) EnrollPath() string { return "/account/passkeys" }

// Fields implements authn.FormConnection: the hidden field the script fills with the assertion.
func (c *Connection) Fields() []authn.Field { return c.fields }

// RelyingParty is the WebAuthn relying party of the request in ctx: the tenant domain the page is served on.
type RelyingParty struct {
	ID     string // the host name, without port: the RP ID
	Origin string // {scheme}://{host[:port]}: the only origin a ceremony may come from
	Name   string // shown by authenticators: the tenant's name
}

// RelyingPartyOf derives the relying party from ctx's tenancy scope (its host, already resolved to the tenant, and
// its issuer, which carries the configured scheme).
func RelyingPartyOf(ctx context.Context) (RelyingParty, error) {
	sc, ok := tenancy.From(ctx)
	if !ok || sc.Host == "" || sc.Issuer == "" {
		return RelyingParty{}, errors.New("passkey: no tenant domain in the request's scope")
	}
	host := sc.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	name := sc.Slug
	if t, ok := sc.Record.(interface{ StoredTenant() *storage.Tenant }); ok && t.StoredTenant().Name != "" {
		name = t.StoredTenant().Name
	}
	return RelyingParty{ID: host, Origin: strings.TrimSuffix(sc.Issuer, "/"), Name: name}, nil
}

func (rp RelyingParty) webauthn() (*webauthn.WebAuthn, error) {
	return webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: []string{rp.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		},
	})
}

// user is a storage user with the passkeys of one RP ID, as go-webauthn sees it. Its user handle is the user id.
type user struct {
	u     storage.User
	creds []webauthn.Credential
}

func (w *user) WebAuthnID() []byte { return []byte(w.u.ID) }
func (w *user) WebAuthnName() string {
	return w.u.Email
}
func (w *user) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.u.Email
}
func (w *user) WebAuthnCredentials() []webauthn.Credential { return w.creds }

var b64 = base64.RawURLEncoding

// credentialOf is the go-webauthn view of a stored passkey.
func credentialOf(c storage.Credential) (webauthn.Credential, error) {
	id, err := b64.DecodeString(c.CredentialID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %s: credential id: %w", c.ID, err)
	}
	pk, err := b64.DecodeString(str(c.Metadata, "public_key"))
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %s: public key: %w", c.ID, err)
	}
	wc := webauthn.Credential{ID: id, PublicKey: pk, AttestationType: str(c.Metadata, "attestation_type"),
		AttestationFormat: str(c.Metadata, "attestation_format"),
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: true,
			BackupEligible: boolean(c.Metadata, "backup_eligible"), BackupState: boolean(c.Metadata, "backup_state")},
		Authenticator: webauthn.Authenticator{SignCount: uint32(c.SignCount)}}
	for _, t := range Transports(c) {
		wc.Transport = append(wc.Transport, protocol.AuthenticatorTransport(t))
	}
	if a, err := uuid.Parse(str(c.Metadata, "aaguid")); err == nil {
		wc.Authenticator.AAGUID = a[:]
	}
	return wc, nil
}

func str(m storage.JSONMap, k string) string {
	v, _ := m[k].(string)
	return v
}

func boolean(m storage.JSONMap, k string) bool {
	v, _ := m[k].(bool)
	return v
}

// Name is a passkey's name (its metadata "name").
func Name(c storage.Credential) string { return str(c.Metadata, "name") }

// Synced reports whether a passkey may be synced between devices (its authenticator said backup eligible).
func Synced(c storage.Credential) bool { return boolean(c.Metadata, "backup_eligible") }

// Transports are the transports the browser reported for a passkey at registration.
func Transports(c storage.Credential) []string {
	var out []string
	switch ts := c.Metadata["transports"].(type) {
	case []any:
		for _, t := range ts {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = ts
	}
	return out
}

// AMR is what a sign-in with a passkey proved (RFC 8176): "user" (the authenticator verified the user: a PIN or a
// biometric) and "hwk" for a device-bound key, or "swk" for a passkey that may be synced between devices (its
// authenticator reports it backup eligible), whose private key is not confined to one piece of hardware.
func AMR(backupEligible bool) []string {
	if backupEligible {
		return []string{"swk", "user"}
	}
	return []string{"hwk", "user"}
}

// ---- sign-in ----

func flowBinding(flowID string) string { return "flow:" + flowID }

// SessionBinding is the challenge binding of a registration by the browser session sessionID.
func SessionBinding(sessionID string) string { return "session:" + sessionID }

// Begin implements authn.Ceremony: the request options of a sign-in for flow flowID. Without an email the
// ceremony is discoverable (any passkey of this domain). With one, allowCredentials lists that user's passkeys
// on this domain; an email that names nobody (or somebody without passkeys here) gets one stand-in credential id
// derived from the email with a server key, so the answer has the same shape and is the same every time.
func (c *Connection) Begin(ctx context.Context, flowID, email string) (any, error) {
	rp, err := RelyingPartyOf(ctx)
	if err != nil {
		return nil, err
	}
	wa, err := rp.webauthn()
	if err != nil {
		return nil, err
	}
	opts := []webauthn.LoginOption{webauthn.WithUserVerification(protocol.VerificationRequired)}
	userID := ""
	if email = strings.TrimSpace(email); email != "" {
		userID = nobody
		var allow []protocol.CredentialDescriptor
		u, err := c.store.GetUserByEmail(ctx, email)
		switch {
		case err == nil:
			creds, err := c.store.ListPasskeys(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			for _, cr := range creds {
				if cr.RPID != rp.ID {
					continue
				}
				wc, err := credentialOf(cr)
				if err != nil {
					return nil, err
				}
				allow = append(allow, wc.Descriptor())
			}
			if len(allow) > 0 {
				userID = u.ID
			}
		case !errors.Is(err, storage.ErrNotFound):
			return nil, err
		}
		if len(allow) == 0 {
			allow = []protocol.CredentialDescriptor{c.standIn(ctx, rp.ID, email)}
		}
		opts = append(opts, webauthn.WithAllowedCredentials(allow))
	}
	assertion, session, err := wa.BeginDiscoverableLogin(opts...)
	if err != nil {
		return nil, err
	}
	if userID != "" {
		session.UserID = []byte(userID)
	}
	if err := c.storeChallenge(ctx, flowBinding(flowID), storage.PasskeyLogin, rp.ID, userID, session); err != nil {
		return nil, err
	}
	return assertion, nil
}

// standIn is the credential descriptor offered for an email that has no passkey here: an id derived from the
// tenant, the RP ID and the email, shaped like a real one (16 bytes, as most platform authenticators make them).
func (c *Connection) standIn(ctx context.Context, rpID, email string) protocol.CredentialDescriptor {
	tid, _ := storage.TenantFromContext(ctx)
	m := hmac.New(sha256.New, c.fake)
	m.Write([]byte(tid + "\x00" + rpID + "\x00" + canon.Email(email)))
	return protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: m.Sum(nil)[:16],
		Transport: []protocol.AuthenticatorTransport{protocol.Internal, protocol.Hybrid}}
}

func (c *Connection) storeChallenge(ctx context.Context, binding, purpose, rpID, userID string, session *webauthn.SessionData) error {
	data, err := json.Marshal(session)
	if err != nil {
		return err
	}
	now := c.now().UTC()
	return c.store.CreatePasskeyChallenge(ctx, storage.PasskeyChallenge{Binding: binding, Purpose: purpose,
		Challenge: session.Challenge, RPID: rpID, UserID: userID, Session: string(data), CreatedAt: now,
		ExpiresAt: now.Add(ChallengeTTL)})
}

// consume uses the challenge that clientChallenge (from the browser's clientDataJSON) names, once.
// authn.ErrInvalidCredentials when there is no such open challenge for binding on this RP ID.
func (c *Connection) consume(ctx context.Context, binding, purpose, rpID, clientChallenge string) (storage.PasskeyChallenge, webauthn.SessionData, error) {
	var session webauthn.SessionData
	if clientChallenge == "" {
		return storage.PasskeyChallenge{}, session, authn.ErrInvalidCredentials
	}
	ch, err := c.store.ConsumePasskeyChallenge(ctx, binding, purpose, clientChallenge, c.now())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return ch, session, fmt.Errorf("passkey: no open ceremony with this challenge: %w", authn.ErrInvalidCredentials)
	} else if err != nil {
		return ch, session, err
	}
	if ch.RPID != rpID {
		return ch, session, fmt.Errorf("passkey: the ceremony began on another domain: %w", authn.ErrInvalidCredentials)
	}
	if err := json.Unmarshal([]byte(ch.Session), &session); err != nil {
		return ch, session, fmt.Errorf("passkey: stored ceremony: %w", err)
	}
	return ch, session, nil
}

// Authenticate implements authn.FormConnection: it checks the assertion in form field "credential" against the
// challenge Begin stored for the flow in form field "state" (which the pipeline has checked is this browser's
// open flow). The passkey must be registered on this domain; the authenticator must have verified the user; its
// signature counter must go up (when it counts: a counter that stays 0 is allowed) and its backup-eligible flag
// must not change, with backup state only when eligible: a genuine assertion that fails those is refused with
// an authn.RefusedError (audited). The counter and last use are recorded with a conditional write, so of
// parallel assertions carrying the same counter one wins.
func (c *Connection) Authenticate(ctx context.Context, form url.Values) (authn.Identity, error) {
	flowID, raw := form.Get("state"), form.Get(Field)
	if flowID == "" || raw == "" || len(raw) > MaxCredentialJSON {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(raw))
	if err != nil {
		return authn.Identity{}, fmt.Errorf("passkey: unreadable assertion: %w", authn.ErrInvalidCredentials)
	}
	rp, err := RelyingPartyOf(ctx)
	if err != nil {
		return authn.Identity{}, err
	}
	ch, session, err := c.consume(ctx, flowBinding(flowID), storage.PasskeyLogin, rp.ID, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return authn.Identity{}, err
	}
	stored, err := c.store.PasskeyByCredentialID(ctx, rp.ID, b64.EncodeToString(parsed.RawID))
	if errors.Is(err, storage.ErrNotFound) {
		return authn.Identity{}, fmt.Errorf("passkey: unknown on this domain: %w", authn.ErrInvalidCredentials)
	} else if err != nil {
		return authn.Identity{}, err
	}
	if ch.UserID != "" && ch.UserID != stored.UserID {
		return authn.Identity{}, fmt.Errorf("passkey: not one of the named account's: %w", authn.ErrInvalidCredentials)
	}
	u, err := c.store.GetUser(ctx, stored.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return authn.Identity{}, authn.ErrInvalidCredentials
	} else if err != nil {
		return authn.Identity{}, err
	}
	wa, err := rp.webauthn()
	if err != nil {
		return authn.Identity{}, err
	}
	wu := &user{u: u}
	if ch.UserID != "" {
		// After the email step: every passkey of the user on this domain, as the options listed them.
		all, err := c.store.ListPasskeys(ctx, u.ID)
		if err != nil {
			return authn.Identity{}, err
		}
		for _, cr := range all {
			if cr.RPID == rp.ID {
				wc, err := credentialOf(cr)
				if err != nil {
					return authn.Identity{}, err
				}
				wu.creds = append(wu.creds, wc)
			}
		}
	} else {
		wc, err := credentialOf(stored)
		if err != nil {
			return authn.Identity{}, err
		}
		wu.creds = []webauthn.Credential{wc}
	}
	var checked *webauthn.Credential
	if ch.UserID != "" {
		checked, err = wa.ValidateLogin(wu, session, parsed)
	} else {
		checked, err = wa.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, []byte(u.ID)) {
				return nil, errors.New("the user handle is not the passkey's user")
			}
			return wu, nil
		}, session, parsed)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	storedBE := boolean(stored.Metadata, "backup_eligible")
	if err != nil {
		if flags.HasBackupEligible() != storedBE || (flags.HasBackupState() && !flags.HasBackupEligible()) {
			// Refused for its flags: audited as such only when the assertion is otherwise genuine (signed by the
			// passkey, for this challenge, origin and domain), so nobody else can fill the log with it.
			pub, _ := b64.DecodeString(str(stored.Metadata, "public_key"))
			if parsed.Verify(session.Challenge, rp.ID, "", []string{rp.Origin}, nil, nil,
				wa.Config.RPTopOriginVerificationMode, false, true, true, pub, wa.Config.Signature) == nil {
				return authn.Identity{}, &authn.RefusedError{Reason: ReasonBackupFlags, UserID: u.ID}
			}
		}
		return authn.Identity{}, fmt.Errorf("passkey: %v: %w", err, authn.ErrInvalidCredentials)
	}
	if !flags.HasUserVerified() || !bytes.Equal(checked.ID, parsed.RawID) {
		return authn.Identity{}, authn.ErrInvalidCredentials
	}
	from, got := stored.SignCount, int64(parsed.Response.AuthenticatorData.Counter)
	if from != 0 && got != 0 && got <= from {
		return authn.Identity{}, &authn.RefusedError{Reason: ReasonSignCount, UserID: u.ID}
	}
	to := max(from, got)
	md := storage.JSONMap{}
	for k, v := range stored.Metadata {
		md[k] = v
	}
	md["backup_state"] = flags.HasBackupState()
	err = c.store.UsePasskey(ctx, stored.ID, from, to, c.now(), md)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		// Another sign-in with this passkey moved the counter since it was read: the same counter twice.
		return authn.Identity{}, &authn.RefusedError{Reason: ReasonSignCount, UserID: u.ID}
	} else if errors.Is(err, storage.ErrNotFound) {
		return authn.Identity{}, authn.ErrInvalidCredentials // removed meanwhile
	} else if err != nil {
		return authn.Identity{}, err
	}
	return authn.Identity{User: u, Subject: u.ID, Email: u.Email, AMR: AMR(storedBE)}, nil
}

// ---- registration ----

// BeginRegistration returns the creation options for u to register a passkey on the domain of ctx, bound to
// binding (SessionBinding of the browser session): a discoverable credential, user verification required, no
// attestation asked for, and u's passkeys on this domain excluded so an authenticator is not registered twice.
func (c *Connection) BeginRegistration(ctx context.Context, binding string, u storage.User) (any, error) {
	rp, err := RelyingPartyOf(ctx)
	if err != nil {
		return nil, err
	}
	wa, err := rp.webauthn()
	if err != nil {
		return nil, err
	}
	existing, err := c.store.ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, cr := range existing {
		if cr.RPID == rp.ID {
			wc, err := credentialOf(cr)
			if err != nil {
				return nil, err
			}
			exclude = append(exclude, wc.Descriptor())
		}
	}
	creation, session, err := wa.BeginRegistration(&user{u: u}, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, err
	}
	if err := c.storeChallenge(ctx, binding, storage.PasskeyRegister, rp.ID, u.ID, session); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration checks the browser's answer raw (the PublicKeyCredential of navigator.credentials.create as
// JSON) against the challenge BeginRegistration stored for binding and u, stores the passkey as name on this
// domain and records passkey.registered, in one transaction. ErrInvalid when the answer proves nothing,
// ErrDuplicate when that passkey is registered already.
func (c *Connection) FinishRegistration(ctx context.Context, binding string, u storage.User, raw []byte, name string) (storage.Credential, error) {
	if len(raw) == 0 || len(raw) > MaxCredentialJSON {
		return storage.Credential{}, ErrInvalid
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return storage.Credential{}, ErrInvalid
	}
	rp, err := RelyingPartyOf(ctx)
	if err != nil {
		return storage.Credential{}, err
	}
	ch, session, err := c.consume(ctx, binding, storage.PasskeyRegister, rp.ID, parsed.Response.CollectedClientData.Challenge)
	if errors.Is(err, authn.ErrInvalidCredentials) {
		return storage.Credential{}, ErrInvalid
	} else if err != nil {
		return storage.Credential{}, err
	}
	if ch.UserID != u.ID {
		return storage.Credential{}, ErrInvalid
	}
	wa, err := rp.webauthn()
	if err != nil {
		return storage.Credential{}, err
	}
	wc, err := wa.CreateCredential(&user{u: u}, session, parsed)
	if err != nil || !wc.Flags.UserVerified {
		return storage.Credential{}, ErrInvalid
	}
	transports := []string{}
	for _, t := range wc.Transport {
		transports = append(transports, string(t))
	}
	aaguid := ""
	if a, err := uuid.FromBytes(wc.Authenticator.AAGUID); err == nil {
		aaguid = a.String()
	}
	now := c.now().UTC()
	cred := storage.Credential{UserID: u.ID, ConnectionID: c.rec.ID, RPID: rp.ID, CredentialID: b64.EncodeToString(wc.ID),
		SignCount: int64(wc.Authenticator.SignCount), CreatedAt: now, Metadata: storage.JSONMap{
			"name": CleanName(name, now), "public_key": b64.EncodeToString(wc.PublicKey), "transports": transports,
			"aaguid": aaguid, "backup_eligible": wc.Flags.BackupEligible, "backup_state": wc.Flags.BackupState,
			"attestation_type": wc.AttestationType, "attestation_format": wc.AttestationFormat,
			"user_handle": b64.EncodeToString([]byte(u.ID)),
		}}
	err = c.tx(ctx, func(ctx context.Context) error {
		if err := c.store.CreatePasskey(ctx, cred); err != nil {
			return err
		}
		created, err := c.store.PasskeyByCredentialID(ctx, rp.ID, cred.CredentialID)
		if err != nil {
			return err
		}
		cred = created
		return c.audit(ctx, storage.AuditEvent{Type: EventRegistered, UserID: u.ID, Data: storage.JSONMap{
			"credential_id": cred.ID, "name": Name(cred), "rp_id": rp.ID, "connection_id": c.rec.ID,
			"backup_eligible": wc.Flags.BackupEligible}})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return storage.Credential{}, ErrDuplicate
	}
	return cred, err
}

// CleanName is the name a passkey is stored under: name trimmed, control characters dropped, at most
// MaxNameLength characters; "Passkey added <date>" when that leaves nothing.
func CleanName(name string, now time.Time) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if rs := []rune(name); len(rs) > MaxNameLength {
		name = strings.TrimSpace(string(rs[:MaxNameLength]))
	}
	if name == "" {
		name = "Passkey added " + now.UTC().Format("2 Jan 2006")
	}
	return name
}

// Rename names u's passkey id and records passkey.renamed, in one transaction. storage.ErrNotFound when u has
// no such passkey.
func (c *Connection) Rename(ctx context.Context, u storage.User, id, name string) error {
	name = CleanName(name, c.now())
	return c.tx(ctx, func(ctx context.Context) error {
		var old string
		if err := c.store.UpdatePasskey(ctx, u.ID, id, func(md storage.JSONMap) (storage.JSONMap, error) {
			out := storage.JSONMap{}
			for k, v := range md {
				out[k] = v
			}
			old, _ = md["name"].(string)
			out["name"] = name
			return out, nil
		}); err != nil {
			return err
		}
		return c.audit(ctx, storage.AuditEvent{Type: EventRenamed, UserID: u.ID, Data: storage.JSONMap{
			"credential_id": id, "name": name, "previous_name": old}})
	})
}

// Remove deletes u's passkey id and records passkey.removed, in one transaction. storage.ErrNotFound when u has
// no such passkey.
func (c *Connection) Remove(ctx context.Context, u storage.User, id string) error {
	return c.tx(ctx, func(ctx context.Context) error {
		cr, err := c.store.GetPasskey(ctx, u.ID, id)
		if err != nil {
			return err
		}
		if err := c.store.DeletePasskey(ctx, u.ID, id); err != nil {
			return err
		}
		return c.audit(ctx, storage.AuditEvent{Type: EventRemoved, UserID: u.ID, Data: storage.JSONMap{
			"credential_id": id, "name": Name(cr), "rp_id": cr.RPID}})
	})
}

// List returns u's passkeys, oldest first (on every domain of the tenant; each is usable only on its RPID).
func (c *Connection) List(ctx context.Context, u storage.User) ([]storage.Credential, error) {
	return c.store.ListPasskeys(ctx, u.ID)
}
