package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

// Branding is how a tenant's email looks: its name (the greeting, the sender's display name), an accent color
// and a logo.
type Branding struct {
	Name string
	// Color is the accent color, "#rrggbb"; anything else is the default.
	Color string
	// LogoURL is an https URL of the logo image; anything else shows none.
	LogoURL string
}

// Content is what a message template is filled with.
type Content struct {
	Branding
	To   string // the recipient's address
	Link string // the message's link (sign in, verify, reset)
	Code string // a one-time code to type instead of following the link ("" for none)
	// Expires says how long the link and code work, for people: "10 minutes".
	Expires string
}

// DefaultColor is the accent color of tenants that chose none.
const DefaultColor = "#2f5bea"

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Templates renders every message kind in plain text and HTML. Build it with NewTemplates; safe for concurrent use.
type Templates struct {
	text map[string]*texttemplate.Template // kind → "subject" and the body
	html map[string]*htmltemplate.Template
}

// NewTemplates parses the embedded templates of every kind: templates/<kind>.txt defines "subject" and the text
// body, templates/<kind>.html the HTML body. It fails only on a broken build.
func NewTemplates() (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, kind := range []string{KindMagicLink, KindVerifyEmail, KindPasswordReset} {
		tt, err := texttemplate.ParseFS(templateFiles, "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: templates of %s: %w", kind, err)
		}
		if tt.Lookup("subject") == nil {
			return nil, fmt.Errorf("mail: templates/%s.txt defines no subject", kind)
		}
		ht, err := htmltemplate.ParseFS(templateFiles, "templates/layout.html", "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: templates of %s: %w", kind, err)
		}
		t.text[kind], t.html[kind] = tt, ht
	}
	return t, nil
}

// Message renders kind with c into a Message to c.To for tenant, from the sender from ("" for the server's).
func (t *Templates) Message(kind string, c Content, tenant, from string) (Message, error) {
	tt, ok := t.text[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown message kind %q", kind)
	}
	if !colorRE.MatchString(c.Color) {
		c.Color = DefaultColor
	}
	if u, err := url.Parse(c.LogoURL); err != nil || u.Scheme != "https" || u.Host == "" {
		c.LogoURL = ""
	}
	if c.Name == "" {
		c.Name = "Authio"
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", c); err != nil {
		return Message{}, fmt.Errorf("mail: subject of %s: %w", kind, err)
	}
	if err := tt.ExecuteTemplate(&text, kind+".txt", c); err != nil {
		return Message{}, fmt.Errorf("mail: text of %s: %w", kind, err)
	}
	if err := t.html[kind].ExecuteTemplate(&html, "layout.html", c); err != nil {
		return Message{}, fmt.Errorf("mail: HTML of %s: %w", kind, err)
	}
	return Message{To: c.To, Subject: strings.TrimSpace(strings.ReplaceAll(subject.String(), "\n", " ")),
		Text: strings.TrimSpace(text.String()) + "\n", HTML: html.String(), Tenant: tenant, Kind: kind, Link: c.Link, From: from}, nil
}
