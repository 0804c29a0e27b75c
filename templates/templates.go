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

//go:embed *.html
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
)

// requiredPages are checked at start-up so a missing file fails New rather
// than the first request that needs it.
var requiredPages = []string{PageLogin, PageSignup, PageLogout, PageLoggedOut, PageError, PageOrgPicker}

const layoutFile = "layout.html"

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
}

// Choice is one option of a picker page: a link the user follows to choose it.
type Choice struct {
	Label  string // main text, e.g. the organization's display name
	Detail string // secondary text, e.g. its name
	URL    string // where choosing it goes (same-site)
}

// Renderer renders the hosted pages. It is safe for concurrent use.
type Renderer struct {
	pages map[string]*template.Template
}

// New parses layout.html together with each other *.html file in fsys; the
// page name is the file name without ".html". Each page must define a
// "content" template and may define "title".
func New(fsys fs.FS) (*Renderer, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: list pages: %w", err)
	}
	r := &Renderer{pages: make(map[string]*template.Template, len(names))}
	for _, file := range names {
		if file == layoutFile {
			continue
		}
		// The layout is parsed first so the page's "title" definition
		// replaces the layout's default block, not the other way round.
		t, err := template.New(layoutFile).ParseFS(fsys, layoutFile, file)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", file, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("templates: %s does not define \"content\"", file)
		}
		r.pages[strings.TrimSuffix(file, path.Ext(file))] = t
	}
	var missing []string
	for _, name := range requiredPages {
		if _, ok := r.pages[name]; !ok {
			missing = append(missing, name+".html")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("templates: missing page(s): %s", strings.Join(missing, ", "))
	}
	return r, nil
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
