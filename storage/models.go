package storage

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"time"
)

// Tenant is an isolated identity namespace: issuer, keys, domains, users, clients.
type Tenant struct {
	ID              string `gorm:"primaryKey"`
	Slug            string
	Name            string
	SigningAlg      string
	SignupEnabled   bool
	AccessTokenTTL  int // seconds; 0 = server default
	RefreshTokenTTL int
	IDTokenTTL      int
	Settings        TenantSettings
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TenantSettings are a tenant's tunable policies, stored as one JSON object. A zero field means the default.
type TenantSettings struct {
	// RefreshTokenReuseInterval is how long, in seconds, a just-rotated refresh token may be presented again and
	// get the same successor back (for clients whose network lost the answer) instead of revoking its whole
	// family as reuse. 0, the default, is strict rotation.
	RefreshTokenReuseInterval int `json:"refresh_token_reuse_interval,omitempty"`

	// Sign-in throttling (authn/signin/throttle.go). BruteForceThreshold failures in a row for one account from one
	// IP block that IP for that account for BruteForceBlockSeconds (default 10 and 3600).
	BruteForceThreshold    int `json:"brute_force_threshold,omitempty"`
	BruteForceBlockSeconds int `json:"brute_force_block_seconds,omitempty"`
	// IPFailureLimit failures from one IP, for any accounts, within IPFailureWindowSeconds refuse that IP for the
	// rest of the window (default 100 per 3600 seconds).
	IPFailureLimit         int `json:"ip_failure_limit,omitempty"`
	IPFailureWindowSeconds int `json:"ip_failure_window_seconds,omitempty"`
	// AccountFailureLimit failures for one account, from any IPs, within AccountFailureWindowSeconds refuse that
	// account for the rest of the window (default 1000 per 3600 seconds).
	AccountFailureLimit         int `json:"account_failure_limit,omitempty"`
	AccountFailureWindowSeconds int `json:"account_failure_window_seconds,omitempty"`

	// PasswordHash chooses how passwords set from now on are hashed; nil for the server's default (bcrypt at
	// AUTHIO_PASSWORD_COST). Existing hashes keep their own cost and still verify.
	PasswordHash *PasswordHashSettings `json:"password_hash,omitempty"`

	// EmailVerification is whether a password sign-in waits for the user's email address to be verified:
	// EmailVerificationOptional ("", the default: sign-up sends a verification email, sign-in does not wait) or
	// EmailVerificationRequired (an unverified user's password sign-in is refused and offered a new email).
	EmailVerification string `json:"email_verification,omitempty"`
	// Email branding (package mail). EmailFrom is the sender of the tenant's email, "Name <address>" or an
	// address ("" for the server's AUTHIO_SMTP_FROM address with the tenant's name); EmailBrandColor the accent
	// color, "#rrggbb"; EmailLogoURL an https URL of the logo shown at the top ("" for the tenant's name).
	EmailFrom       string `json:"email_from,omitempty"`
	EmailBrandColor string `json:"email_brand_color,omitempty"`
	EmailLogoURL    string `json:"email_logo_url,omitempty"`
	// MFA is the second-factor policy: "optional" (the default: users who set up an authenticator app pass it at
	// every sign-in) or "required" (every sign-in passes a second factor; users without one set up an
	// authenticator app at their next sign-in). See package authn/mfa.
	MFA string `json:"mfa,omitempty"`
}

// Values of TenantSettings.EmailVerification.
const (
	EmailVerificationOptional = "optional"
	EmailVerificationRequired = "required"
)

// PasswordHashSettings is a tenant's password hashing algorithm and its work factor.
type PasswordHashSettings struct {
	Algorithm string `json:"algorithm"` // "bcrypt", the only one supported
	Cost      int    `json:"cost"`      // bcrypt cost, 10 to 15: each step doubles the work
}

// Value implements driver.Valuer.
func (ts TenantSettings) Value() (driver.Value, error) {
	b, err := json.Marshal(ts)
	return string(b), err
}

// Scan implements sql.Scanner.
func (ts *TenantSettings) Scan(src any) error {
	*ts = TenantSettings{}
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		return json.Unmarshal([]byte(v), ts)
	case []byte:
		return json.Unmarshal(v, ts)
	}
	return errors.New("storage: TenantSettings: unsupported column type")
}

// TenantDomain is a host name a tenant answers on. Host names are unique across tenants.
type TenantDomain struct {
	Domain    string `gorm:"primaryKey"`
	TenantID  string
	CreatedAt time.Time
}

// SigningKey is one of a tenant's token signing keys. PrivateKey is encrypted by the caller before storage.
type SigningKey struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Alg        string
	PrivateKey []byte
	PublicJWK  string
	Active     bool
	CreatedAt  time.Time
	RetiredAt  *time.Time
	ExpiresAt  *time.Time
}

// Client is an OAuth 2.0 client. SecretHash is a keyed hash of the secret; the secret itself is never stored.
type Client struct {
	ID                     string `gorm:"primaryKey"`
	TenantID               string
	Name                   string
	Type                   string // "public" or "confidential"
	SecretHash             string
	RedirectURIs           StringList
	PostLogoutRedirectURIs StringList
	GrantTypes             StringList
	Scopes                 StringList
	Audiences              StringList
	WebOrigins             StringList
	OrganizationUsage      string // "deny" (default), "allow" or "require"
	// AppType is Auth0's application type: "spa", "native", "regular_web" or "non_interactive"; "" for a client
	// described by its Type alone.
	AppType string
	// TokenEndpointAuthMethod is how the client authenticates at the token endpoint (RFC 7591 §2): "none" for a
	// public client, "client_secret_post" or "client_secret_basic" for a confidential one; "" derives it from Type.
	// A confidential client may use either secret method.
	TokenEndpointAuthMethod string
	// AllowedOrigins are origins allowed to call the tenant from a browser (CORS) besides WebOrigins, Auth0's
	// allowed_origins.
	AllowedOrigins StringList
	// OrganizationRequireBehavior is how a client whose OrganizationUsage is require gets an organization at
	// sign-in, Auth0's organization_require_behavior: "no_prompt" (the client must name it), "post_login_prompt"
	// or "pre_login_prompt" (the user picks one after signing in); "" is post_login_prompt.
	OrganizationRequireBehavior string
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
}

// Client organization usage: whether tokens may (allow), must (require) or must not (deny) name an organization.
const (
	OrgUsageDeny    = "deny"
	OrgUsageAllow   = "allow"
	OrgUsageRequire = "require"
)

// Client types.
const (
	ClientPublic       = "public"
	ClientConfidential = "confidential"
)

// User is one identity in a tenant, keyed by (tenant, email).
type User struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	Email         string
	EmailVerified bool
	Name          string
	// PasswordHash is the user's credential on the tenant's default password connection
	// (DefaultPasswordConnection), "" for none. Reads fill it in; CreateUser and UpdateUser write it to the
	// credentials table, never to users.
	PasswordHash string `gorm:"->"`
	// Blocked users can neither sign in nor obtain tokens (Auth0's "blocked").
	Blocked bool
	// Profile holds the user's other OIDC standard profile claims (column profile, a JSON object).
	Profile UserProfile
	// UserMetadata and AppMetadata are Auth0's user metadata, each a JSON object: what the user may edit about
	// themselves, and what applications keep about the user.
	UserMetadata JSONMap
	AppMetadata  JSONMap
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UserProfile is a user's OpenID Connect standard profile claims (OIDC Core §5.1) other than name, which has a
// column of its own. Empty fields are absent. JSON names are the claim names; the server validates values
// (URLs, birthdate, locale and zoneinfo shapes) before they reach storage.
type UserProfile struct {
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	MiddleName        string `json:"middle_name,omitempty"`
	Nickname          string `json:"nickname,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Profile           string `json:"profile,omitempty"`
	Picture           string `json:"picture,omitempty"`
	Website           string `json:"website,omitempty"`
	Gender            string `json:"gender,omitempty"`
	Birthdate         string `json:"birthdate,omitempty"`
	Zoneinfo          string `json:"zoneinfo,omitempty"`
	Locale            string `json:"locale,omitempty"`
}

// Value implements driver.Valuer.
func (p UserProfile) Value() (driver.Value, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// Scan implements sql.Scanner.
func (p *UserProfile) Scan(src any) error {
	b, err := scanBytes(src)
	*p = UserProfile{}
	if err != nil || len(b) == 0 {
		return err
	}
	return json.Unmarshal(b, p)
}

// LoginSession is a browser session on one tenant. ID is public (the "sid" claim); CookieHash is the hash of the
// secret cookie value.
type LoginSession struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	UserID     string
	CookieHash string
	AuthTime   time.Time
	AMR        StringList
	// ConnectionName is the name of the connection the session signed in through ("" for sessions from before
	// it was recorded).
	ConnectionName string
	ExpiresAt      time.Time
	CreatedAt      time.Time
	// UserAgent is the browser's User-Agent header when the session was opened (at most 512 bytes), shown
	// summarised on the account page's session list.
	UserAgent string
	// LastSeenAt is when the session was last used (nil until its first use after sign-in); TouchSession
	// writes it at most once a minute.
	LastSeenAt *time.Time
}

// oauthToken is one fosite request record: an authorization code, access token, refresh token, PKCE or OIDC
// session, keyed by a hash of the token signature.
type oauthToken struct {
	TenantID    string `gorm:"primaryKey"`
	Kind        string `gorm:"primaryKey"`
	Signature   string `gorm:"primaryKey"`
	RequestID   string
	ClientID    string
	Subject     string
	Active      bool
	RequestedAt time.Time
	ExpiresAt   *time.Time
	Data        []byte
	// RotatedAt and Successor are set on a refresh token when it is rotated: Successor is the new refresh token,
	// encrypted by the caller, which a retry within the tenant's reuse interval gets back.
	RotatedAt *time.Time
	Successor []byte
	// GrantID is the sign-in the record descends from (GrantRooted): its own request id, or for tokens minted by
	// a switch, the grant of the token switched from.
	GrantID string
}

// GrantRooted is implemented by sessions that descend from another grant (a switch of organization): GrantRoot
// names it, and revoking that grant revokes the tokens stored with such a session too. "" for none.
type GrantRooted interface {
	GrantRoot() string
}

func (oauthToken) TableName() string { return "oauth_tokens" }

// StringList is stored as a JSON array in a text column.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return errors.New("storage: StringList: unsupported column type")
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*l = out
	return nil
}

// Has reports whether s is in the list.
func (l StringList) Has(s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
