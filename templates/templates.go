// Package templates holds the HTML of Authio's hosted pages (sign-in, sign-up,
// logout) and the Renderer that serves them. Every page is parsed once at
// start-up together with layout.html, and rendered into a buffer so a template
// failure never leaves a half-written response.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed *.html connections/*.html account/*.html response/*.html
var files embed.FS

// FS is the embedded set of page templates. A development build may pass
// os.DirFS("templates") to New instead, to edit pages without rebuilding.
var FS fs.FS = files

// Names of the pages a Renderer can render.
const (
	PageLogin     = "login"
	PageSignup    = "signup"
	PageLogout    = "logout"
	PageLoggedOut = "logged_out"
	PageError     = "error"
	PageOrgPicker = "org_picker"
	// PageAccount is the signed-in user's account page (/account): one partial per section (account/<name>.html).
	PageAccount = "account"
	// PagePostBinding is the page that carries a form to another site by a browser POST (a SAML request to an
	// identity provider, or a provider's answer posted back to us once more so the browser's cookies come with it).
	PagePostBinding = "post_binding"
	// PageEmailSent is the "Check your email" page of a sign-in by email: the code form (Hidden carries the
	// connection and the email) and a form to send a new email.
	PageEmailSent = "email_sent"
	// PageDevOutbox lists the latest email of the tenant (serve --dev only): Choices are the messages.
	PageDevOutbox = "dev_outbox"
	// PageMFA is the sign-in's second-factor step (Page.MFA says which form it shows).
	PageMFA = "mfa"
	// PagePasskeys offers a signed-in user to add a passkey (right after sign-up); LinkURL is the way on.
	PagePasskeys = "passkeys"
)

// Generic sign-in method partials (files under connections/): ConnectionForm renders a form kind's Fields,
// ConnectionButton a "Continue with …" button for redirect and POST-binding kinds. ConnectionPassword is the
// password kind's own form.
const (
	ConnectionForm     = "form"
	ConnectionButton   = "button"
	ConnectionPassword = "password"
)

// requiredPages are checked at start-up so a missing file fails New rather
// than the first request that needs it.
var requiredPages = []string{PageLogin, PageSignup, PageLogout, PageLoggedOut, PageError, PageOrgPicker, PagePostBinding,
	PageAccount, PageForgot, PageReset, PageVerifyEmail}

// requiredConnections are the partials the sign-in page falls back on.
var requiredConnections = []string{ConnectionForm, ConnectionButton, ConnectionPassword}

// connectionsDir holds one partial per sign-in method template: connections/<name>.html renders one
// Connection on the sign-in page, with that Connection as its data.
const connectionsDir = "connections"

// accountDir holds one partial per account page section: account/<name>.html renders one AccountSection.
const accountDir = "account"

const layoutFile = "layout.html"

// webMessageFile is the authorization response page of response_mode=web_message: a document of its own (no
// layout, no stylesheet, one inline script), since it is shown in a hidden iframe or a closing popup.
const webMessageFile = "response/web_message.html"

// Page is the data every hosted page is rendered with. All string fields are
// escaped by html/template; CSRFField is the only pre-rendered HTML and must
// come from csrf.TemplateField, never from user input.
type Page struct {
	Title         string            // page heading; each page has a default
	TenantName    string            // shown in the header
	CSRFField     template.HTML     // hidden input from gorilla/csrf's csrf.TemplateField(r)
	Error         string            // form-level error text, shown in a role="alert" region
	FieldErrors   map[string]string // per-field error text keyed by input name ("email", "password")
	Email         string            // prefilled email value
	Flow          string            // the sign-in flow's id: hidden input name="state" on the sign-in and sign-up forms
	SignupEnabled bool              // login page links to sign-up
	LoginURL      string            // link from sign-up (and logged-out) back to login, the flow included
	SignupURL     string            // link from login to sign-up, the flow included
	LinkURL       string            // the error page's way on (e.g. start the sign-in again); same-site
	LinkText      string            // the text of LinkURL
	Message       string            // informational text (logout pages, error page detail)
	Action        string            // logout confirm form action (POST); empty posts back to the current URL
	Hidden        map[string]string // extra hidden inputs for the logout confirm form
	RequestID     string            // shown on the error page so users can quote it
	Choices       []Choice          // the organization picker's options
	MFA           *MFA              // the second-factor page's form (PageMFA), nil on other pages
	// Connections are the sign-in page's methods, in order, each rendered by its partial. nil renders the
	// password form alone (FieldErrors applying to it), as the page did before connections; an empty non-nil
	// slice says there is no method to offer.
	Connections []Connection
	// LoginStep is the sign-in page's step, which each connection partial reads to decide what it shows:
	// LoginStepIdentify (no email given yet: only methods that need none, such as upstream buttons and a
	// discoverable passkey) or LoginStepMethods (Email is the address the user gave: every method).
	LoginStep string
	// ReturnTo is where a sign-in without a flow goes once it succeeds: a path of the account page (/account…),
	// carried by the sign-in forms as the hidden input "return_to"; "" for none.
	ReturnTo string
	// Sections are the account page's sections, in order, each rendered by its partial account/<Template>.html.
	Sections []AccountSection
	// Notice is a short confirmation shown in a role="status" region ("Your password has been changed.").
	Notice string
}

// AccountSection is one section of the account page, rendered by account/<Template>.html with this value as its
// data: Data is what the section's Data method returned, Page the page being rendered (CSRF field).
type AccountSection struct {
	Name        string            // the section's id: the page anchor, the prefix of its routes /account/<Name>
	Template    string            // the partial: a file name under account/, without ".html"
	Data        any               // the section's own data
	Error       string            // a section-level error (role="alert" inside the section)
	FieldErrors map[string]string // per-input errors of the section's form, keyed by input name
	Values      map[string]string // the values submitted with the failed form, to show again (never passwords)
	Notice      string            // a confirmation of the section's last change
	Page        *Page             // the page being rendered
}

// AccountSections are the page's Sections with Page set, as the account page ranges over them.
func (p Page) AccountSections() []AccountSection {
	out := make([]AccountSection, len(p.Sections))
	for i, s := range p.Sections {
		s.Page = &p
		out[i] = s
	}
	return out
}

// The steps of the email-first sign-in page (Page.LoginStep).
const (
	LoginStepIdentify = "identify"
	LoginStepMethods  = "methods"
)

// Connection is one sign-in method on the sign-in page, rendered by connections/<Template>.html with this value
// as its data (Page is set to the page being rendered).
type Connection struct {
	Name        string            // the connection's name: the forms' "connection" field, the start URL's segment
	DisplayName string            // what the user reads: "Continue with <DisplayName>"
	Template    string            // the partial that renders it: a file name under connections/, without ".html"
	Default     bool              // the tenant's default password connection: its form posts no "connection" field
	Fields      []Field           // a form kind's inputs, in order
	FieldErrors map[string]string // per-input error text, keyed by Field.Name (only the submitted method has any)
	StartURL    string            // redirect and POST-binding kinds: where the button goes (same-site)
	Method      string            // "get" (a link to StartURL) or "post" (a form posting the flow to StartURL)
	// NeedsEmail: the form kind asks for the email (a field named or typed "email"), so its form shows at the
	// methods step only, carrying Page.Email as a hidden input; a form kind without it shows at both steps.
	NeedsEmail bool
	Page       *Page // the page being rendered: CSRF field, flow id, prefilled email
}

// Field is one input of a form kind's sign-in form.
type Field struct {
	Name, Label, Type, Autocomplete, Value string
}

// InputID is the HTML id of input name: the name itself on the default connection (the ids the page always
// had), prefixed by the connection's name on the others, so two forms on one page never share an id.
func (c Connection) InputID(name string) string {
	if c.Default {
		return name
	}
	return c.Name + "-" + name
}

// LoginConnections are the methods the sign-in page shows: Connections with Page set, or, when Connections is
// nil, the default password form carrying the page's FieldErrors.
func (p Page) LoginConnections() []Connection {
	if p.Connections == nil {
		return []Connection{{Template: ConnectionPassword, Default: true, FieldErrors: p.FieldErrors, Page: &p}}
	}
	out := make([]Connection, len(p.Connections))
	for i, c := range p.Connections {
		c.Page = &p
		out[i] = c
	}
	return out
}

// The forms of the second-factor page (MFA.Mode).
const (
	MFAModeTOTP     = "totp"     // enter a code of the authenticator app
	MFAModeRecovery = "recovery" // enter a recovery code
	MFAModeEnroll   = "enroll"   // set up an authenticator app: QR code, manual key, confirming code
	MFAModeCodes    = "codes"    // the recovery codes just issued, shown once, and the way on
)

// MFA is what the second-factor page shows (templates/mfa.html).
type MFA struct {
	Mode string // one of the MFAMode constants
	// QR is the authenticator app's key as a QR code (MFAModeEnroll): a data:image/png URI made by the server,
	// typed so html/template keeps it in the img src.
	QR template.URL
	// Secret is the key to type into the app by hand, in groups of four (MFAModeEnroll).
	Secret string
	// RecoveryCodes are the codes just issued (MFAModeCodes).
	RecoveryCodes []string
	// OtherURL switches between the code and recovery-code forms (same-site, the flow included).
	OtherURL string
	// ContinueURL is where MFAModeCodes goes on (same-site).
	ContinueURL string
}

// NoMethods reports whether the sign-in page has no method to offer (Connections empty but not nil): the email
// step then says so instead of asking for an email.
func (p Page) NoMethods() bool { return p.Connections != nil && len(p.Connections) == 0 }

// Choice is one option of a picker page: a link the user follows to choose it.
type Choice struct {
	Label  string // main text, e.g. the organization's display name
	Detail string // secondary text, e.g. its name
	URL    string // where choosing it goes (same-site)
}

// Renderer renders the hosted pages. It is safe for concurrent use.
type Renderer struct {
	pages       map[string]*template.Template
	connections map[string]*template.Template
	sections    map[string]*template.Template
	webMessage  *template.Template
}

// New parses layout.html together with each other *.html file in fsys; the
// page name is the file name without ".html". Each page must define a
// "content" template and may define "title".
func New(fsys fs.FS) (*Renderer, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: list pages: %w", err)
	}
	r := &Renderer{pages: make(map[string]*template.Template, len(names)), connections: map[string]*template.Template{},
		sections: map[string]*template.Template{}}
	partials, err := fs.Glob(fsys, connectionsDir+"/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: list connection templates: %w", err)
	}
	for _, file := range partials {
		t, err := template.ParseFS(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", file, err)
		}
		r.connections[strings.TrimSuffix(path.Base(file), ".html")] = t
	}
	sectionFiles, err := fs.Glob(fsys, accountDir+"/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: list account sections: %w", err)
	}
	for _, file := range sectionFiles {
		t, err := template.ParseFS(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", file, err)
		}
		r.sections[strings.TrimSuffix(path.Base(file), ".html")] = t
	}
	funcs := template.FuncMap{"connection": r.renderConnection, "section": r.renderSection}
	for _, file := range names {
		if file == layoutFile {
			continue
		}
		// The layout is parsed first so the page's "title" definition
		// replaces the layout's default block, not the other way round.
		t, err := template.New(layoutFile).Funcs(funcs).ParseFS(fsys, layoutFile, file)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", file, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("templates: %s does not define \"content\"", file)
		}
		r.pages[strings.TrimSuffix(file, path.Ext(file))] = t
	}
	var missing []string
	if _, err := fs.Stat(fsys, webMessageFile); err != nil {
		missing = append(missing, webMessageFile)
	} else if r.webMessage, err = template.ParseFS(fsys, webMessageFile); err != nil {
		return nil, fmt.Errorf("templates: parse %s: %w", webMessageFile, err)
	}
	for _, name := range requiredPages {
		if _, ok := r.pages[name]; !ok {
			missing = append(missing, name+".html")
		}
	}
	for _, name := range requiredConnections {
		if _, ok := r.connections[name]; !ok {
			missing = append(missing, connectionsDir+"/"+name+".html")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("templates: missing page(s): %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// HasConnection reports whether connections/<name>.html was loaded.
func (r *Renderer) HasConnection(name string) bool {
	_, ok := r.connections[name]
	return ok
}

// renderConnection is the pages' "connection" function: it renders c with its partial. The partial is an
// html/template of its own, so its output is escaped in its own context (HTML text, where pages call it).
func (r *Renderer) renderConnection(c Connection) (template.HTML, error) {
	t, ok := r.connections[c.Template]
	if !ok {
		return "", fmt.Errorf("templates: no connection template %q", c.Template)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, c); err != nil {
		return "", fmt.Errorf("templates: render connection %s: %w", c.Template, err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // html/template output, escaped when it was rendered
}

// HasSection reports whether account/<name>.html was loaded.
func (r *Renderer) HasSection(name string) bool {
	_, ok := r.sections[name]
	return ok
}

// renderSection is the account page's "section" function: it renders s with its partial, escaped in its own
// context like renderConnection.
func (r *Renderer) renderSection(s AccountSection) (template.HTML, error) {
	t, ok := r.sections[s.Template]
	if !ok {
		return "", fmt.Errorf("templates: no account section template %q", s.Template)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, s); err != nil {
		return "", fmt.Errorf("templates: render account section %s: %w", s.Template, err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // html/template output, escaped when it was rendered
}

// ErrUnknownPage is returned by Render for a name New did not load.
var ErrUnknownPage = errors.New("templates: unknown page")

// Render executes page name with data (normally a Page or *Page) and writes it
// with the given status. Nothing is written to w when it returns an error, so
// the caller can still answer with an error page or a bare 500.
func (r *Renderer) Render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownPage, name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layoutFile, data); err != nil {
		return fmt.Errorf("templates: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// WebMessage is the data of the web_message authorization response page: its one script posts
// {type: "authorization_response", response: Response} to TargetOrigin, in the window that opened the page (a
// popup's opener) or else its parent (a hidden iframe), as Auth0's SDKs expect.
type WebMessage struct {
	// Nonce is the CSP nonce of the page's script (the caller's Content-Security-Policy names it).
	Nonce string
	// TargetOrigin is the only origin the message may be delivered to: the client's registered web origin that
	// the redirect URI belongs to, never "*".
	TargetOrigin string
	// Response holds the authorization response parameters: code, state, iss — or error, error_description,
	// state, iss.
	Response map[string]string
}

// webMessage is the message the page posts, as its script spells it.
type webMessage struct {
	Type     string            `json:"type"`
	Response map[string]string `json:"response"`
}

// RenderWebMessage writes the web_message page for m with status 200, Content-Type text/html and Cache-Control
// no-store; the caller sets the page's Content-Security-Policy (script nonce, frame-ancestors). The values are
// written as JavaScript literals by html/template, so nothing in them can end the script or change its code.
func (r *Renderer) RenderWebMessage(w http.ResponseWriter, m WebMessage) error {
	if m.Nonce == "" || m.TargetOrigin == "" || m.TargetOrigin == "*" {
		return errors.New("templates: a web message needs a nonce and a target origin")
	}
	var buf bytes.Buffer
	err := r.webMessage.Execute(&buf, struct {
		Nonce        string
		TargetOrigin string
		Message      webMessage
	}{m.Nonce, m.TargetOrigin, webMessage{Type: "authorization_response", Response: m.Response}})
	if err != nil {
		return fmt.Errorf("templates: render %s: %w", webMessageFile, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}
