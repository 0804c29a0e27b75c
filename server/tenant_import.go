package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/authio/authio/directory"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// Creating tenants: one at a time (CreateTenant) or many (ImportTenants, behind `authio tenant import` and the
// admin API's POST /admin/v1/tenants:import). Either way a tenant is created whole or not at all: the tenant, its
// domains, its password connection, its signing key and the clients asked for commit in one transaction. The
// signing key is taken before that transaction opens (RSA from the key pool while it holds one, else generated),
// and an import creates several tenants at once, so RSA key generation, when needed, runs on every core. The key
// of a tenant that is then not created goes back to the pool: no tenant ever had it.

// TenantSpec is one tenant to create: a line of an import file.
type TenantSpec struct {
	// Slug names the tenant; its default domain is <slug>.<base domain>. 1-63 lower-case letters, digits or
	// hyphens. Required.
	Slug string `json:"slug"`
	// Name is the display name (default: the slug).
	Name string `json:"name,omitempty"`
	// Domains are more host names the tenant answers on, stored canonical (see tenantDomain).
	Domains []string `json:"domains,omitempty"`
	// SigningAlg is RS256 (the default) or ES256.
	SigningAlg string `json:"signing_alg,omitempty"`
	// Signup allows users to sign up on the hosted pages (default false).
	Signup bool `json:"signup,omitempty"`
	// Clients are created with the tenant.
	Clients []ClientImport `json:"clients,omitempty"`
}

// ClientImport is a client to create with an imported tenant; the fields are those of `authio client create`.
type ClientImport struct {
	Name                   string   `json:"name"`
	Type                   string   `json:"type"` // public or confidential
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	Audiences              []string `json:"audiences,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	WebOrigins             []string `json:"web_origins,omitempty"`
	OrganizationUsage      string   `json:"organization_usage,omitempty"` // deny (default), allow or require
}

func (c ClientImport) spec() directory.ClientSpec {
	return directory.ClientSpec{Name: c.Name, Type: c.Type, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, GrantTypes: c.GrantTypes, Audiences: c.Audiences,
		Scopes: c.Scopes, WebOrigins: c.WebOrigins, OrganizationUsage: c.OrganizationUsage}
}

// Outcomes of one import line.
const (
	ImportCreated = "created" // the tenant and everything the line asked for were created
	ImportExists  = "exists"  // a tenant with the slug exists already; nothing was changed
	ImportFailed  = "error"   // nothing was created; Error says why
)

// ImportResult is the outcome of one line of an import, in the order of the input.
type ImportResult struct {
	// Line is the line number in the input (1-based, blank lines counted), or the element's position in a JSON
	// array.
	Line int `json:"line"`
	// Slug is the line's slug, when it could be read.
	Slug   string `json:"slug,omitempty"`
	Status string `json:"status"`
	// Tenant is the created tenant, or the existing one for "exists".
	Tenant *TenantInfo `json:"tenant,omitempty"`
	// Clients are the created clients, in the line's order; secrets of confidential clients appear only here.
	Clients []ImportedClient `json:"clients,omitempty"`
	Error   *ImportError     `json:"error,omitempty"`
}

// ImportedClient is a client created by an import.
type ImportedClient struct {
	Name string `json:"name"`
	directory.CreatedClient
}

// ImportError says why a line created nothing: the field at fault (slug, domain, clients[0].grant, …; empty when
// the line as a whole is) and a message for people.
type ImportError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ImportSummary counts the outcomes of an import.
type ImportSummary struct {
	Created int `json:"created"`
	Exists  int `json:"exists"`
	Failed  int `json:"failed"`
}

// MaxImportLine bounds one line of an import (bytes).
const MaxImportLine = 256 << 10

// preparedTenant is a validated spec, ready to store.
type preparedTenant struct {
	tenant  storage.Tenant
	domains []string
	clients []directory.ClientSpec
	names   []string
}

// prepareTenant validates spec and fills its defaults; errors are ValidationErrors naming the field.
func (s *Server) prepareTenant(spec TenantSpec) (preparedTenant, error) {
	slug := strings.ToLower(strings.TrimSpace(spec.Slug))
	if !slugRE.MatchString(slug) {
		return preparedTenant{}, invalid("slug", "must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen")
	}
	name := strings.TrimSpace(spec.Name)
	if name == "" {
		name = slug
	}
	alg := spec.SigningAlg
	if alg == "" {
		alg = keys.AlgRS256
	}
	if alg != keys.AlgRS256 && alg != keys.AlgES256 {
		return preparedTenant{}, invalid("signing-alg", "must be RS256 or ES256")
	}
	def, err := tenantDomain(slug + "." + s.Config.BaseDomain)
	if err != nil {
		return preparedTenant{}, err
	}
	p := preparedTenant{domains: []string{def}}
	for _, d := range spec.Domains {
		d, err := tenantDomain(d)
		if err != nil {
			return preparedTenant{}, err
		}
		p.domains = append(p.domains, d)
	}
	for i, c := range spec.Clients {
		cs := c.spec()
		if err := directory.CheckClientSpec(cs); err != nil {
			var ve *directory.ValidationError
			if errors.As(err, &ve) {
				return preparedTenant{}, invalid(fmt.Sprintf("clients[%d].%s", i, ve.Field), "%s", ve.Message)
			}
			return preparedTenant{}, err
		}
		p.clients = append(p.clients, cs)
		p.names = append(p.names, strings.TrimSpace(c.Name))
	}
	now := s.Now().UTC()
	p.tenant = storage.Tenant{ID: ids.New("ten"), Slug: slug, Name: name, SigningAlg: alg, SignupEnabled: spec.Signup,
		CreatedAt: now, UpdatedAt: now}
	return p, nil
}

// storeTenant creates p with the signing key priv in one transaction: the tenant, its domains and password
// connection, the key and the clients. storage.ErrAlreadyExists when the slug or a domain is taken.
func (s *Server) storeTenant(ctx context.Context, p preparedTenant, key storage.SigningKey) (TenantInfo, []ImportedClient, error) {
	var created []ImportedClient
	err := s.Store.InTx(ctx, func(tx context.Context) error {
		if err := s.Store.CreateTenant(tx, p.tenant, p.domains); err != nil {
			return err
		}
		tctx := storage.WithTenant(tx, p.tenant.ID)
		if err := s.Store.AddKey(tctx, key, key.CreatedAt); err != nil {
			return err
		}
		created = created[:0]
		for i, cs := range p.clients {
			cc, err := s.CreateClient(tctx, cs)
			if err != nil {
				return err
			}
			created = append(created, ImportedClient{Name: p.names[i], CreatedClient: cc})
		}
		return nil
	})
	if err != nil {
		return TenantInfo{}, nil, err
	}
	return TenantInfo{ID: p.tenant.ID, Slug: p.tenant.Slug, Name: p.tenant.Name, Domains: p.domains}, created, nil
}

// importLine is one line of an import on its way through the workers.
type importLine struct {
	line  int
	slug  string
	p     preparedTenant
	res   chan ImportResult
	after []chan struct{} // closed when the earlier lines with the same slug or a same domain are done
	done  chan struct{}   // closed when this line is done
}

// ImportTenants creates the tenants described by r and hands emit one ImportResult per line, in input order. r
// holds JSON lines (one TenantSpec object per line; blank lines are skipped) or one JSON array of TenantSpec
// objects. Each line is created whole or not at all (see storeTenant): a line whose slug exists reports
// ImportExists and changes nothing, so a failed or interrupted import can be run again; a line that is invalid,
// too long (MaxImportLine) or in conflict (a domain another tenant has) reports ImportFailed with the field. An
// error from emit, ctx ending, input that cannot be read or an array that stops being JSON ends the import (the
// lines already reported stand). Storage failures fail their line with a message that says so and are logged.
//
// Lines are created concurrently, so RSA key generation uses every core: the rate is bounded by the cores for
// RS256 (one key costs 50-100 ms of CPU) and by the database for ES256.
func (s *Server) ImportTenants(ctx context.Context, r io.Reader, emit func(ImportResult) error) (ImportSummary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(max(2*runtime.GOMAXPROCS(0), 4), 16)
	order := make(chan *importLine, 4*workers) // lines in input order, at most this many ahead of emit
	work := make(chan *importLine)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				for _, c := range l.after {
					<-c
				}
				l.res <- s.importOne(ctx, l.line, l.slug, l.p)
				close(l.done)
			}
		}()
	}
	var (
		sum     ImportSummary
		emitErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for l := range order {
			res := <-l.res
			if emitErr != nil {
				continue // drain: the workers finish what they hold
			}
			switch res.Status {
			case ImportCreated:
				sum.Created++
			case ImportExists:
				sum.Exists++
			default:
				sum.Failed++
			}
			if emitErr = emit(res); emitErr != nil {
				cancel()
			}
		}
	}()
	// Lines run concurrently, yet the outcome is that of running them in input order: a line waits for the
	// earlier lines that name its slug or one of its domains.
	last := map[string]chan struct{}{}
	readErr := readImport(ctx, r, func(line int, raw []byte, parseErr *ImportError) {
		l := &importLine{line: line, res: make(chan ImportResult, 1), done: make(chan struct{})}
		select {
		case order <- l:
		case <-ctx.Done():
			return
		}
		if parseErr != nil {
			l.res <- ImportResult{Line: line, Status: ImportFailed, Error: parseErr}
			return
		}
		var err error
		if l.slug, l.p, err = s.parseImportLine(raw); err != nil {
			l.res <- s.importFailure(ctx, line, l.slug, err)
			return
		}
		for _, k := range append([]string{"slug:" + l.p.tenant.Slug}, l.p.domains...) {
			if c, ok := last[k]; ok {
				l.after = append(l.after, c)
			}
			last[k] = l.done
		}
		select {
		case work <- l:
		case <-ctx.Done():
			l.res <- ImportResult{Line: line, Status: ImportFailed, Error: &ImportError{Message: "The import was stopped."}}
			close(l.done) // later lines that wait for this one go on (to be stopped too)
		}
	})
	close(work)
	close(order)
	wg.Wait()
	<-done
	switch {
	case emitErr != nil:
		return sum, emitErr
	case readErr != nil:
		return sum, readErr
	}
	return sum, ctx.Err()
}

// readImport calls line for every line (or array element) of r, with its bytes, or with the reason it cannot be
// read as one. It stops at the end of r, when ctx ends, or when r cannot be read further (the error).
func readImport(ctx context.Context, r io.Reader, line func(n int, raw []byte, err *ImportError)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstByte(br)
	if errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return err
	}
	if first == '[' {
		return readArray(ctx, br, line)
	}
	for n := 1; ctx.Err() == nil; n++ {
		raw, tooLong, err := readLine(br)
		if len(bytes.TrimSpace(raw)) > 0 || tooLong {
			switch {
			case tooLong:
				line(n, nil, &ImportError{Message: fmt.Sprintf("The line is longer than %d bytes.", MaxImportLine)})
			default:
				line(n, raw, nil)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// readLine reads one line without its end of line, bounded by MaxImportLine (the rest of a longer line is
// read and dropped, and tooLong set).
func readLine(br *bufio.Reader) (raw []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(raw)+len(chunk) > MaxImportLine {
				tooLong, raw = true, nil
			} else {
				raw = append(raw, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(raw, "\r\n"), tooLong, err
	}
}

// readArray reads a JSON array of objects, one element at a time.
func readArray(ctx context.Context, br *bufio.Reader, line func(n int, raw []byte, err *ImportError)) error {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // [
		if notJSON(err) {
			return &httpx.BodyError{Message: "The array is not valid JSON."}
		}
		return err
	}
	for n := 1; dec.More(); n++ {
		if ctx.Err() != nil {
			return nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if notJSON(err) {
				return &httpx.BodyError{Message: fmt.Sprintf("Element %d of the array is not valid JSON: the import stops there.", n)}
			}
			return err
		}
		if len(raw) > MaxImportLine {
			line(n, nil, &ImportError{Message: fmt.Sprintf("The element is longer than %d bytes.", MaxImportLine)})
			continue
		}
		line(n, raw, nil)
	}
	if _, err := dec.Token(); err != nil { // ]
		if notJSON(err) {
			return &httpx.BodyError{Message: "The array is not valid JSON."}
		}
		return err
	}
	return nil
}

// notJSON reports whether a decoding error is the input's fault, not the reader's.
func notJSON(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// firstByte peeks at the first byte of r that is not white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, br.UnreadByte()
		}
	}
}

// parseImportLine reads and validates one line: the slug as written (for the result, "" when unreadable) and
// the tenant to create, or a *httpx.BodyError or ValidationError. A line that is an object with a readable slug
// but is refused as a whole (an unknown field, a field of the wrong type) still reports its slug (writtenSlug),
// so the result can be matched to the tenant it meant.
func (s *Server) parseImportLine(raw []byte) (string, preparedTenant, error) {
	var spec TenantSpec
	if err := httpx.DecodeJSONObject(raw, &spec); err != nil {
		return writtenSlug(raw), preparedTenant{}, err
	}
	p, err := s.prepareTenant(spec)
	return reportableSlug(spec.Slug), p, err
}

// reportableSlug is slug, trimmed, as a result line may name it: "" when it holds anything that cannot be what
// the line's author wrote or would see — control or format characters (U+202E, say), or U+FFFD, which JSON
// decoding puts in place of a lone surrogate escape (\ud800) — so that a result never names a slug no line had.
func reportableSlug(slug string) string {
	if strings.ContainsFunc(slug, func(r rune) bool {
		return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) {
		return ""
	}
	return strings.TrimSpace(slug)
}

// writtenSlug is the slug of an import line that was refused as a whole, as written: the string value of its one
// top-level member named exactly "slug" (reportableSlug). "" when the line is not one object, or its slug is
// missing, not a string, given more than once or not valid UTF-8: a result must never name a slug the line did not
// (encoding/json would match "SLUG", keep the last of two and replace invalid bytes).
func writtenSlug(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	var found []json.RawMessage
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			return ""
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if name == "slug" {
			found = append(found, v)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return ""
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) { // nothing after the object
		return ""
	}
	var slug string
	if len(found) != 1 || !utf8.Valid(found[0]) || json.Unmarshal(found[0], &slug) != nil {
		return ""
	}
	return reportableSlug(slug)
}

// importFailure is the result of a line that failed with err.
func (s *Server) importFailure(ctx context.Context, line int, slug string, err error) ImportResult {
	res := ImportResult{Line: line, Slug: slug, Status: ImportFailed}
	var ve *directory.ValidationError
	var be *httpx.BodyError
	switch {
	case errors.As(err, &ve):
		res.Error = &ImportError{Field: importField(ve.Field), Message: ve.Message}
	case errors.As(err, &be):
		res.Error = &ImportError{Message: strings.Replace(be.Message, "The body", "The line", 1)}
	case errors.Is(err, context.Canceled):
		res.Error = &ImportError{Message: "The import was stopped."}
	default:
		// Not the line's fault: say so without the detail, which goes to the log.
		httpx.LogFailure(ctx, s.Logger, fmt.Sprintf("tenant import: creating tenant %q (line %d) failed", slug, line), err)
		res.Error = &ImportError{Message: "The tenant could not be stored (a server or database failure); the line can be imported again."}
	}
	return res
}

// importField spells a validation field (named after the CLI's flags) as an import line does:
// "clients[0].grant" is "clients[0].grant_types".
func importField(f string) string {
	prefix, name := "", f
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		prefix, name = f[:i+1], f[i+1:]
	}
	switch name {
	case "signing-alg":
		name = "signing_alg"
	case "domain":
		name = "domains"
	case "redirect-uri":
		name = "redirect_uris"
	case "post-logout-redirect-uri":
		name = "post_logout_redirect_uris"
	case "grant":
		name = "grant_types"
	case "audience":
		name = "audiences"
	case "scope":
		name = "scopes"
	case "web-origin":
		name = "web_origins"
	}
	return prefix + name
}

// importOne creates the tenant of one valid line, or finds that its slug exists.
func (s *Server) importOne(ctx context.Context, line int, slug string, p preparedTenant) ImportResult {
	res := ImportResult{Line: line, Slug: slug}
	if info, ok, err := s.existingTenant(ctx, p.tenant.Slug); err != nil {
		return s.importFailure(ctx, line, slug, err)
	} else if ok {
		res.Status, res.Tenant = ImportExists, &info
		return res
	}
	key, err := s.KeyPool.Take(ctx, p.tenant.SigningAlg)
	if err != nil {
		return s.importFailure(ctx, line, slug, err)
	}
	info, clients, err := s.storeTenant(ctx, p, key)
	if err != nil {
		s.returnKey(ctx, key, err)
	}
	if errors.Is(err, storage.ErrAlreadyExists) {
		// Another process took the slug meanwhile, or a domain belongs to another tenant.
		if info, ok, lerr := s.existingTenant(ctx, p.tenant.Slug); lerr != nil {
			return s.importFailure(ctx, line, slug, lerr)
		} else if ok {
			res.Status, res.Tenant = ImportExists, &info
			return res
		}
		return s.importFailure(ctx, line, slug, invalid("domains", "a domain of this tenant already belongs to another tenant"))
	} else if err != nil {
		return s.importFailure(ctx, line, slug, err)
	}
	res.Status, res.Tenant, res.Clients = ImportCreated, &info, clients
	return res
}

// returnKey gives key back to the key pool (keys.KeyPool.Return) after the transaction that was to store it failed
// with err, when err proves the key was not stored (keyUnused); otherwise the key is dropped, which costs one key.
// A failure to give it back only costs the key too, and is logged.
func (s *Server) returnKey(ctx context.Context, key storage.SigningKey, err error) {
	if !keyUnused(ctx, err) {
		s.Logger.Warn("a signing key taken from the key pool is dropped: whether its transaction committed is unknown",
			"kid", key.ID, "err", err)
		return
	}
	if _, err := s.KeyPool.Return(context.WithoutCancel(ctx), key); err != nil {
		s.Logger.Warn("returning an unused signing key to the key pool failed", "kid", key.ID, "err", err)
	}
}

// keyUnused reports whether err, from the transaction that was to store a key, proves that it rolled back: the
// database refused one of its statements (a taken slug, kid or domain, a constraint, a missing row) or the
// input was refused before. A failure of the database itself (storage.ErrUnavailable: a lost connection may have
// lost a commit's answer, not the commit) or the end of ctx leaves the outcome unknown.
func keyUnused(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}

// existingTenant returns the tenant with slug and its domains, if there is one.
func (s *Server) existingTenant(ctx context.Context, slug string) (TenantInfo, bool, error) {
	t, err := s.Store.GetTenant(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return TenantInfo{}, false, nil
	} else if err != nil {
		return TenantInfo{}, false, err
	}
	ds, err := s.Store.ListDomains(ctx, t.ID)
	if err != nil {
		return TenantInfo{}, false, err
	}
	return TenantInfo{ID: t.ID, Slug: t.Slug, Name: t.Name, Domains: ds}, true, nil
}
