package authn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/authio/authio/keys"
	"github.com/authio/authio/mail"
	"github.com/authio/authio/server/memo"
	"github.com/authio/authio/storage"
)

// ErrInvalidCredentials is what a kind answers for credentials that do not prove an identity — an unknown
// account and a wrong secret alike, so that the answer tells an attacker nothing about which accounts exist.
var ErrInvalidCredentials = errors.New("authn: invalid credentials")

// ErrDisabled is returned by Registry.Open for a connection whose Enabled is false: it refuses every sign-in.
var ErrDisabled = errors.New("authn: connection disabled")

// ErrUpstreamUnavailable is wrapped by what an upstream kind answers when its provider cannot be used: discovery,
// key set or token endpoint unreachable, answering 5xx or answering what the kind cannot read. The sign-in
// page says the provider is unreachable (502) and the server logs the detail.
var ErrUpstreamUnavailable = errors.New("authn: the identity provider is unreachable")

// ErrUnknownType is returned by Registry.Open for a connection type no kind is registered for.
var ErrUnknownType = errors.New("authn: no connection kind registered for this type")

// Identity is what a connection proved about the person signing in.
type Identity struct {
	// User is the local user a local kind (password) checked; zero for upstream kinds, whose caller resolves
	// the user from (ConnectionID, Subject) through storage.Identities.
	User storage.User
	// ConnectionID is the storage.Connection the identity was proven through.
	ConnectionID string
	// Subject is the account's stable identifier at the connection (upstream "sub", SAML NameID); for a local
	// kind, the user id.
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Profile carries the upstream claims a kind chooses to keep (stored as storage.Identity.Profile).
	Profile map[string]any
	// AMR are the RFC 8176 authentication method references of this proof ("pwd", "otp", "hwk", "fed").
	AMR []string
}

// Connection is implemented by every kind. A value is opened from one stored connection by its factory and
// serves one tenant; it may be discarded after the request.
type Connection interface {
	// Type is the kind's type, the storage.Connection.Type it was registered under.
	Type() string
	// Record is the stored connection this value was opened from (id, name, settings).
	Record() storage.Connection
}

// Field is one input a FormConnection asks for.
type Field struct {
	Name         string // the form field name the kind reads in Authenticate
	Label        string // shown to the user
	Type         string // the HTML input type: "email", "password", "text"
	Autocomplete string // the HTML autocomplete token, e.g. "username", "current-password", "one-time-code"
}

// FormConnection is a kind that checks fields the user submits on Authio's own page (password, email code).
type FormConnection interface {
	Connection
	// Fields lists the inputs the sign-in page renders for this connection, in order.
	Fields() []Field
	// Authenticate checks a submitted form. ErrInvalidCredentials when the form proves nothing (unknown
	// account, wrong secret); any other error is the infrastructure's and must become a 5xx. Rate limiting is
	// the caller's: Authenticate checks every form it is given.
	Authenticate(ctx context.Context, form url.Values) (Identity, error)
}

// RedirectConnection is a kind that sends the browser to an upstream provider and gets it back on a callback
// (OpenID Connect, OAuth 2.0 social logins).
type RedirectConnection interface {
	Connection
	// LoginURL is where to send the browser. state is the opaque value the callback must carry back (the
	// sign-in flow's id, bound to the browser); callbackURL is Authio's callback for this connection.
	LoginURL(ctx context.Context, state, callbackURL string) (string, error)
	// HandleCallback checks the provider's answer on the callback request (code exchange, ID token
	// validation) and returns who signed in. The caller has already matched the request's state. An answer
	// that proves nobody (the provider's error, a refused code, a bad signature) is ErrInvalidCredentials
	// (wrapped is fine); any other error is the infrastructure's and becomes a 5xx.
	HandleCallback(ctx context.Context, r *http.Request) (Identity, error)
}

// PostBindingConnection is a kind whose provider is reached by a browser POST and answers with one (SAML 2.0
// HTTP-POST binding).
type PostBindingConnection interface {
	Connection
	// POSTData returns the provider URL and the form fields the browser must POST there (an auto-submitting
	// page renders them). requestID is what the answer must name as InResponseTo; state is the opaque value
	// (the sign-in flow's id) the provider must post back unchanged in the field PostStateField; callbackURL
	// is where it posts its answer.
	POSTData(ctx context.Context, requestID, state, callbackURL string) (action string, fields url.Values, err error)
	// HandlePOST checks the provider's POSTed answer, which must be in response to requestID. Errors as for
	// RedirectConnection.HandleCallback.
	HandlePOST(ctx context.Context, r *http.Request, requestID string) (Identity, error)
}

// Templated is implemented by a kind that renders its part of the sign-in page with a template of its own:
// Template names the file templates/connections/<name>.html, which is executed with a templates.Connection.
// Kinds without it get the generic partial: the Fields as a form for form kinds, a "Continue with …" button for
// redirect and POST-binding kinds.
type Templated interface {
	Template() string
}

// Displayed is implemented by a kind whose connections have a name for people ("Acme SSO", from its
// settings); the sign-in page says "Continue with <DisplayName>". Without it, the connection's name is shown.
type Displayed interface {
	DisplayName() string
}

// AccountNamer is implemented by a form kind whose form names an account (an email, a username): sign-in
// throttling then counts failures per account and per (account, IP) as well as per IP. Without it, failures
// count per IP and per connection.
type AccountNamer interface {
	Account(form url.Values) string
}

// Shape names the way a kind proves who signs in, for the sign-in page: "form", "redirect" or "post" (POST
// binding); "" for a Connection that implements none of them.
func Shape(c Connection) string {
	switch c.(type) {
	case FormConnection:
		return "form"
	case RedirectConnection:
		return "redirect"
	case PostBindingConnection:
		return "post"
	}
	return ""
}

// DisplayName is what the sign-in page calls c: its DisplayName when it is Displayed and says something, else
// the stored connection's name.
func DisplayName(c Connection) string {
	if d, ok := c.(Displayed); ok {
		if n := d.DisplayName(); n != "" {
			return n
		}
	}
	return c.Record().Name
}

// Ceremony is implemented by a form kind whose browser needs options from the server before it can fill in the
// form: a WebAuthn sign-in needs a challenge. The sign-in page's script POSTs to /login/{connection}/begin the
// flow id ("state"), the email given so far ("email", may be empty) and the CSRF token; the pipeline checks that
// the flow is this browser's and open, opens the connection (refusing an unknown or disabled one as for every
// step) and answers Begin's value as JSON. The form then posted to /login carries the ceremony's result and the
// same "state", which the pipeline has checked the same way before Authenticate reads it.
type Ceremony interface {
	FormConnection
	// Begin returns the options (JSON-encodable) of a ceremony for the sign-in flow flowID and remembers, bound
	// to that flow, used once and for minutes, what Authenticate needs to check its result. email is "" when
	// the user named no account; an email that names nobody gets options of the same shape as one that names
	// somebody. Errors are the infrastructure's.
	Begin(ctx context.Context, flowID, email string) (any, error)
}

// Enrollable is implemented by a kind whose credentials a signed-in user registers on a page of its own
// (passkeys). After a sign-up, the pipeline sends the browser to EnrollPath (with the flow's "state" when
// there is a flow) instead of the flow's next step; that page offers the registration and continues the flow.
type Enrollable interface {
	EnrollPath() string
}

// RefusedError is an ErrInvalidCredentials (errors.Is matches it) that a kind returns when the proof named an
// account but is refused for a reason a security team should see in the audit log (a passkey whose signature
// counter went back, or whose backup flags are inconsistent). The pipeline records Reason, and UserID as the
// event's user, in its signin.failed event.
type RefusedError struct {
	Reason string // the audit event's reason, snake_case
	UserID string // the account the proof named
}

func (e *RefusedError) Error() string { return "authn: refused: " + e.Reason }

// Is makes a RefusedError match ErrInvalidCredentials.
func (e *RefusedError) Is(target error) bool { return target == ErrInvalidCredentials }

// PostStateField is the form field in which a POST-binding provider posts the state back (SAML's RelayState).
const PostStateField = "RelayState"

// Deps are what a factory may give the connection it opens. Kinds use the narrow parts they need.
type Deps struct {
	// Store is the tenant-scoped storage (the tenant is in each call's context).
	Store interface {
		storage.Users
		storage.Credentials
		storage.Identities
	}
	// Passkeys keeps passkeys and their ceremonies' challenges (the passkey kind), tenant-scoped as Store.
	Passkeys storage.Passkeys
	// PasswordCost is the bcrypt cost for the tenant in ctx (tenant setting password_hash, else the server's).
	PasswordCost func(ctx context.Context) int
	// OneTime stores single-use secrets (emailed links and codes), Secrets hashes them, Now is the server clock.
	OneTime storage.OneTimeSecrets
	Secrets *keys.Secrets
	Now     func() time.Time
	// SendMail renders a message of kind with the branding of the tenant in ctx and sends it to c.To; errors
	// matching mail.ErrNotSent mean it could not be sent (the user is asked to try again).
	SendMail func(ctx context.Context, kind string, c mail.Content) error
	// MailUsable is nil when mail can be sent at all (an SMTP server, or --dev), mail.ErrNotConfigured otherwise.
	MailUsable func() error
	// SendWindow is how long a request that may send an email takes, whether it sends one or not (see
	// authn/emailotp): long enough for a typical first delivery attempt, so known and unknown addresses answer
	// alike.
	SendWindow func() time.Duration
	// BaseURL is {scheme}://{host} of the tenant domain the request in ctx came in on (links in emails).
	BaseURL func(ctx context.Context) string
	// Audit appends an event to the audit log of the tenant in ctx (with a transaction's ctx, it commits with it).
	Audit func(ctx context.Context, e storage.AuditEvent) error
	// Tx runs fn in a transaction that the store calls made with its ctx join (storage.Transactions.InTx).
	Tx func(ctx context.Context, fn func(ctx context.Context) error) error
	// HTTPClient is the client upstream kinds reach their providers with (timeouts set; *.localhost names reach
	// loopback). Nil: http.DefaultClient.
	HTTPClient func() *http.Client
	// Memo is the server's cache (package server/memo): upstream kinds keep their providers' discovery documents
	// and key sets there, per tenant and connection.
	Memo *memo.Memo
}

// ErrTooManyAttempts is what a Challenger answers when the flow has used up its wrong answers: a new secret
// would not help, the user starts the sign-in again.
var ErrTooManyAttempts = errors.New("authn: too many wrong codes in this sign-in")

// Challenger is a form kind that first sends the user a secret (an emailed link and code) and then checks the
// answer with Authenticate. The sign-in page posts one form to ask for the secret (Answered false: Challenge) and
// another with the answer (Answered true: the sign-in pipeline calls Authenticate). Both run with the sign-in
// flow of the request in ctx (WithFlow), to which the secret is bound.
type Challenger interface {
	FormConnection
	// Answered reports whether form carries an answer to check rather than asks for a secret.
	Answered(form url.Values) bool
	// Challenge sends a new secret for the account form names. It does the same work and answers the same for
	// an account that exists and one that does not. Errors: ErrTooManyAttempts; an error matching
	// mail.ErrNotSent when the message could not be sent; the infrastructure's.
	Challenge(ctx context.Context, form url.Values) error
}

// LinkVerifier is a Challenger whose secret can also come back as a link carrying a token.
type LinkVerifier interface {
	Challenger
	// LinkFlow returns the id of the sign-in flow a link's token was sent for, without using the token up.
	// ErrInvalidCredentials when the token is unknown, used or expired. The caller then signs in with
	// Authenticate(ctx, {"token": token}) only when the browser holds that flow.
	LinkFlow(ctx context.Context, token string) (string, error)
}

// CallbackPath is the path of the callback every redirect kind's provider sends the browser back to (on the
// tenant domain the sign-in started on).
const CallbackPath = "/login/callback"

// Client returns d.HTTPClient(), or http.DefaultClient without one.
func (d Deps) Client() *http.Client {
	if d.HTTPClient != nil {
		if c := d.HTTPClient(); c != nil {
			return c
		}
	}
	return http.DefaultClient
}

// Factory opens a stored connection of its type. It validates rec.Settings and returns an error that says what
// is wrong with them (the management API shows it in a 400).
type Factory func(rec storage.Connection, deps Deps) (Connection, error)

// Registry maps connection types to the factories of their kinds. Safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
	secrets   map[string][]string
	deps      Deps
}

// NewRegistry returns an empty registry whose factories get deps.
func NewRegistry(deps Deps) *Registry {
	return &Registry{factories: map[string]Factory{}, secrets: map[string][]string{}, deps: deps}
}

// Register makes typ a connection type, opened by f. secretSettings name the settings of the type that hold
// secrets (an upstream client secret): the connection service stores them sealed (Seal), f gets them in clear,
// and the Management API never shows them. Registering a type twice is a programming error and panics.
func (r *Registry) Register(typ string, f Factory, secretSettings ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.factories[typ]; dup {
		panic(fmt.Sprintf("authn: connection type %q registered twice", typ))
	}
	r.factories[typ] = f
	r.secrets[typ] = secretSettings
}

// SecretSettings are the names of typ's settings that hold secrets (see Register).
func (r *Registry) SecretSettings(typ string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.secrets[typ]
}

// sealedPrefix starts a sealed setting's stored value: the rest is the AES-GCM ciphertext (keys.Secrets),
// base64url-encoded.
const sealedPrefix = "sealed:v1:"

// sealPurpose binds a sealed setting to its connection and name: a value copied into another connection (of
// this tenant or another) or under another name does not open.
func sealPurpose(connectionID, name string) string {
	return "connection-setting/" + connectionID + "/" + name
}

// Seal returns rec with the settings its type registers as secret encrypted with the server's key, ready to be
// stored; a secret setting that is absent or empty is left out. rec.ID must be set. Settings are copied, not
// changed in place.
func (r *Registry) Seal(rec storage.Connection) (storage.Connection, error) {
	names := r.SecretSettings(rec.Type)
	if len(names) == 0 {
		return rec, nil
	}
	out := make(storage.JSONMap, len(rec.Settings))
	for k, v := range rec.Settings {
		out[k] = v
	}
	for _, name := range names {
		v, ok := out[name]
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			return rec, fmt.Errorf("%s must be a string", name)
		}
		if s == "" {
			delete(out, name)
			continue
		}
		ct, err := r.deps.Secrets.Encrypt(sealPurpose(rec.ID, name), []byte(s))
		if err != nil {
			return rec, err
		}
		out[name] = sealedPrefix + base64.RawURLEncoding.EncodeToString(ct)
	}
	rec.Settings = out
	return rec, nil
}

// Unseal returns rec as stored with its secret settings decrypted (the inverse of Seal). A stored secret
// setting that is not sealed, or does not open with this server's key, is an error: a misconfiguration, not a
// credential to use.
func (r *Registry) Unseal(rec storage.Connection) (storage.Connection, error) {
	names := r.SecretSettings(rec.Type)
	if len(names) == 0 {
		return rec, nil
	}
	out := make(storage.JSONMap, len(rec.Settings))
	for k, v := range rec.Settings {
		out[k] = v
	}
	for _, name := range names {
		v, ok := out[name]
		if !ok {
			continue
		}
		s, _ := v.(string)
		enc, sealed := strings.CutPrefix(s, sealedPrefix)
		if !sealed {
			return rec, fmt.Errorf("authn: connection %s: setting %s is stored unsealed", rec.ID, name)
		}
		ct, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			return rec, fmt.Errorf("authn: connection %s: setting %s: %w", rec.ID, name, keys.ErrDecrypt)
		}
		pt, err := r.deps.Secrets.Decrypt(sealPurpose(rec.ID, name), ct)
		if err != nil {
			return rec, fmt.Errorf("authn: connection %s: setting %s: %w", rec.ID, name, err)
		}
		out[name] = string(pt)
	}
	rec.Settings = out
	return rec, nil
}

// Public returns settings without the secret ones of typ: what the Management API shows.
func (r *Registry) Public(typ string, settings storage.JSONMap) storage.JSONMap {
	names := r.SecretSettings(typ)
	if len(names) == 0 {
		return settings
	}
	out := make(storage.JSONMap, len(settings))
	for k, v := range settings {
		out[k] = v
	}
	for _, name := range names {
		delete(out, name)
	}
	return out
}

// Has reports whether a kind is registered for typ.
func (r *Registry) Has(typ string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.factories[typ]
	return ok
}

// Types lists the registered types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.factories))
	for t := range r.factories {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Validate opens rec without regard to Enabled, to check its type and settings before they are stored. Its
// secret settings are in clear (not sealed yet).
func (r *Registry) Validate(rec storage.Connection) error {
	r.mu.RLock()
	f, ok := r.factories[rec.Type]
	r.mu.RUnlock()
	if !ok {
		return ErrUnknownType
	}
	_, err := f(rec, r.deps)
	return err
}

// Open returns the working connection for rec, a stored connection (its secret settings sealed). ErrDisabled
// when rec is disabled, ErrUnknownType when no kind is registered for its type, or the factory's error for
// invalid settings.
func (r *Registry) Open(rec storage.Connection) (Connection, error) {
	if !rec.Enabled {
		return nil, ErrDisabled
	}
	return r.open(rec)
}

func (r *Registry) open(rec storage.Connection) (Connection, error) {
	r.mu.RLock()
	f, ok := r.factories[rec.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, ErrUnknownType
	}
	rec, err := r.Unseal(rec)
	if err != nil {
		return nil, err
	}
	return f(rec, r.deps)
}

// NoSettings is the check of a kind whose connections take no settings: nil for none, else an error naming the
// kind and the keys given (sorted), which the Management API answers as a 400.
func NoSettings(kind string, rec storage.Connection) error {
	if len(rec.Settings) == 0 {
		return nil
	}
	keys := make([]string, 0, len(rec.Settings))
	for k := range rec.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Errorf("%s connections take no settings (got %q)", kind, keys)
}
