package storage

import "time"

// DefaultPasswordConnection is the name of the password connection every tenant gets when it is created (and
// every tenant that existed before connections did, by migration 0005). Its name is Auth0's, so scripts that
// pass connection=Username-Password-Authentication keep working.
const DefaultPasswordConnection = "Username-Password-Authentication"

// Connection types (Connection.Type). Only ConnectionPassword has a kind today; the others are reserved.
const (
	ConnectionPassword = "password"
	ConnectionPasskey  = "passkey"
	ConnectionEmail    = "email"
	ConnectionOIDC     = "oidc"
	ConnectionSAML     = "saml"
)

// Credential types (Credential.Type).
const (
	CredentialPassword     = "password"
	CredentialWebAuthn     = "webauthn"
	CredentialTOTP         = "totp"
	CredentialRecoveryCode = "recovery_code"
)

// Connection is one way to sign in to a tenant ("con_…"): a password database, a passkey, an email code, an
// upstream OIDC or SAML provider. Name is unique per tenant; Settings are the kind's own options (package
// authn decodes them). A disabled connection refuses every sign-in through it.
type Connection struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Name      string
	Type      string
	Settings  JSONMap
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Credential is something a user proves a connection with: a password hash, a WebAuthn public key, a TOTP
// secret (encrypted by the caller), a recovery code hash. Secret never holds a secret in clear. A user has at
// most one password credential per connection.
type Credential struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	ConnectionID string
	Type         string
	Secret       string
	Metadata     JSONMap
	CreatedAt    time.Time
	LastUsedAt   *time.Time
	// Pending marks a credential enrolled but not confirmed yet (a TOTP secret whose first code has not been
	// entered): it proves nothing until confirmed. False for every other credential.
	Pending bool
	// OTPStep is, for a TOTP credential, the last RFC 6238 time step (Unix time / 30 s) a code was accepted for:
	// only a code of a later step is accepted (storage.SecondFactors.UseTOTPStep). 0 for other credentials.
	OTPStep int64 `gorm:"column:otp_step"`
	// RPID, CredentialID and SignCount are a passkey's (Type CredentialWebAuthn; empty otherwise): the WebAuthn
	// relying party id it was registered on (the only one it is usable on), its credential id (base64url, unique
	// per tenant and RP ID) and the authenticator's last signature counter.
	RPID         string `gorm:"column:webauthn_rp_id"`
	CredentialID string `gorm:"column:webauthn_credential_id"`
	SignCount    int64  `gorm:"column:webauthn_sign_count"`
}

// Identity links an account at an upstream provider (ConnectionID, Subject: the provider's "sub" or NameID)
// to a user of the tenant. (tenant, connection, subject) is unique: one upstream account is one user.
type Identity struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	ConnectionID string
	Subject      string
	UserID       string
	Profile      JSONMap
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Identities is the table name gorm would pluralise wrongly.
func (Identity) TableName() string { return "identities" }

// UserLink is one of a user's identities as Auth0 lists them: a password credential on a connection, or an
// upstream account linked to the user (Subject set), with the connection's name and type.
type UserLink struct {
	UserID         string
	ConnectionID   string
	ConnectionName string
	ConnectionType string
	// Subject is the upstream account's subject; "" for a credential, whose account is the user itself.
	Subject   string
	CreatedAt time.Time
}
