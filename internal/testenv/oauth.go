package testenv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v3"
)

// Form is an HTML form as a browser would submit it.
type Form struct {
	Action    string
	Method    string
	Fields    url.Values // inputs with a name, values unescaped
	Inputs    map[string]string
	HasSubmit bool // a <button type="submit">
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)
	submitRE = regexp.MustCompile(`(?is)<button\b[^>]*type\s*=\s*"submit"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// ParseForm returns the first form of an HTML page; it fails the test when there is none.
func ParseForm(t testing.TB, page string) Form {
	t.Helper()
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no <form>:\n%s", page)
	}
	return parseForm(m)
}

// ParseFormWith returns the first form of an HTML page that has an input named field (the password form of the
// sign-in page's methods step, say); it fails the test when there is none.
func ParseFormWith(t testing.TB, page, field string) Form {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if f := parseForm(m); f.Fields.Has(field) {
			return f
		}
	}
	t.Fatalf("page has no <form> with an input named %q:\n%s", field, page)
	return Form{}
}

// HasFormWith reports whether an HTML page has a form with an input named field.
func HasFormWith(page, field string) bool {
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if parseForm(m).Fields.Has(field) {
			return true
		}
	}
	return false
}

func parseForm(m []string) Form {
	fa := attrs(m[1])
	f := Form{Action: fa["action"], Method: strings.ToUpper(fa["method"]), Fields: url.Values{}, Inputs: map[string]string{},
		HasSubmit: submitRE.MatchString(m[2])}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if a["name"] == "" {
			continue
		}
		f.Fields.Set(a["name"], a["value"])
		f.Inputs[a["name"]] = a["type"]
	}
	return f
}

var alertRE = regexp.MustCompile(`(?is)role="alert"[^>]*>(.*?)</`)

// Alert returns the text of a page's role="alert" region (the form-level error), or "".
func Alert(page string) string {
	m := alertRE.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(m[1]))
}

// Submit posts a form parsed from a page on tn, as a browser would: same-origin Origin header, fields merged.
func (tn *Tenant) Submit(t testing.TB, c *http.Client, f Form, set url.Values) *Response {
	t.Helper()
	v := url.Values{}
	for k, vs := range f.Fields {
		v[k] = append([]string(nil), vs...)
	}
	for k, vs := range set {
		v[k] = vs
	}
	action := f.Action
	if action == "" {
		t.Fatalf("form without an action")
	}
	return PostForm(t, c, tn.URL(action), v, Header("Origin", tn.URL("")))
}

// SignIn opens the sign-in page (of sign-in flow flowID, when not "") and signs in as a person does: the email
// at the email step, then the password at the methods step (IdentifyStep); when the email step answers
// without a password form, that answer. The client's redirect policy decides whether the password form's 303 is
// followed.
func (tn *Tenant) SignIn(t testing.TB, c *http.Client, email, password, flowID string) *Response {
	t.Helper()
	u := tn.URL("/login")
	if flowID != "" {
		u += "?" + url.Values{"state": {flowID}}.Encode()
	}
	page := Get(t, c, u)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", u, page.StatusCode, page.Body)
	}
	page = tn.IdentifyStep(t, c, page, email)
	if !HasFormWith(page.Body, "password") {
		return page // the email step refused the email (or the page offers no password): its answer
	}
	return tn.Submit(t, c, ParseFormWith(t, page.Body, "password"), url.Values{"password": {password}})
}

// IdentifyStep submits email at the email step when page is the sign-in page's email step, and returns the
// methods step it leads to (the 303 of a flow followed whatever c's redirect policy); any other page is returned
// as it is.
func (tn *Tenant) IdentifyStep(t testing.TB, c *http.Client, page *Response, email string) *Response {
	t.Helper()
	if !strings.Contains(page.Body, `name="step" value="identify"`) {
		return page
	}
	r := tn.Submit(t, c, ParseFormWith(t, page.Body, "step"), url.Values{"email": {email}})
	if r.StatusCode == http.StatusSeeOther {
		r = Get(t, c, tn.URL(r.Location(t).RequestURI()))
	}
	return r
}

// RandomString returns n random bytes, base64url-encoded.
func RandomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthRequest is an authorization request of a client using PKCE S256.
type AuthRequest struct {
	ClientID, RedirectURI, Scope, State, Nonce, Verifier string
	Extra                                                url.Values // prompt, max_age, response_mode, …
}

// NewAuthRequest returns a request with fresh state, nonce and verifier for the openid, email and
// offline_access scopes.
func NewAuthRequest(clientID, redirectURI string) *AuthRequest {
	return &AuthRequest{ClientID: clientID, RedirectURI: redirectURI, Scope: "openid profile email offline_access",
		State: RandomString(12), Nonce: RandomString(12), Verifier: RandomString(32), Extra: url.Values{}}
}

// Challenge is the S256 code challenge of the verifier.
func (a *AuthRequest) Challenge() string {
	sum := sha256.Sum256([]byte(a.Verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Query is the request's query string; Extra values override the defaults, and an empty value removes one.
func (a *AuthRequest) Query() url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.ClientID}, "redirect_uri": {a.RedirectURI}, "scope": {a.Scope},
		"state": {a.State}, "nonce": {a.Nonce}, "code_challenge": {a.Challenge()}, "code_challenge_method": {"S256"},
	}
	for k, v := range a.Extra {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return q
}

// URL is the /authorize URL on tn.
func (a *AuthRequest) URL(tn *Tenant) string { return tn.URL("/authorize?" + a.Query().Encode()) }

// Callback checks that resp redirects to the request's redirect URI with its state and the tenant's iss, and
// returns the query the client received.
func (a *AuthRequest) Callback(t testing.TB, tn *Tenant, resp *Response) url.Values {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("expected a redirect to %s, got status %d\n%s", a.RedirectURI, resp.StatusCode, resp.Body)
	}
	loc := resp.Location(t)
	if !strings.HasPrefix(loc.String(), a.RedirectURI) {
		t.Fatalf("redirected to %s, want the redirect URI %s", loc, a.RedirectURI)
	}
	q := loc.Query()
	if q.Get("state") != a.State {
		t.Errorf("state = %q, want %q", q.Get("state"), a.State)
	}
	if q.Get("iss") != tn.Issuer {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), tn.Issuer)
	}
	return q
}

// Code signs in through the hosted page if asked to and returns the authorization code. c must stop at the
// redirect URI.
func (a *AuthRequest) Code(t testing.TB, tn *Tenant, c *http.Client, email, password string) string {
	t.Helper()
	resp := Get(t, c, a.URL(tn))
	if resp.Request.URL.Path == "/login" && resp.StatusCode == http.StatusOK {
		resp = tn.Submit(t, c, ParseForm(t, resp.Body), url.Values{"email": {email}, "password": {password}})
	}
	q := a.Callback(t, tn, resp)
	if q.Get("code") == "" {
		t.Fatalf("no code in the callback: %v", q)
	}
	return q.Get("code")
}

// Flow opens the request's /authorize URL in browser c, which must not follow redirects, and returns the id of
// the sign-in flow /authorize stored: the state parameter of the sign-in page (or flow step) it redirected to.
func (a *AuthRequest) Flow(t testing.TB, tn *Tenant, c *http.Client) string {
	t.Helper()
	r := Get(t, c, a.URL(tn))
	if r.StatusCode != http.StatusFound {
		t.Fatalf("GET /authorize: status %d, want 302 to a sign-in flow\n%s", r.StatusCode, r.Body)
	}
	loc := r.Location(t)
	id := loc.Query().Get("state")
	if (loc.Path != "/login" && loc.Path != "/authorize/resume") || !strings.HasPrefix(id, "flw_") || len(loc.Query()) != 1 {
		t.Fatalf("/authorize redirected to %s, want /login or /authorize/resume with only state=<flow id>", loc)
	}
	return id
}

// Exchange redeems a code at the token endpoint as a public client.
func (a *AuthRequest) Exchange(t testing.TB, tn *Tenant, c *http.Client, code string) *Response {
	t.Helper()
	return PostForm(t, c, tn.URL("/oauth/token"), url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.RedirectURI},
		"client_id": {a.ClientID}, "code_verifier": {a.Verifier},
	})
}

// Tokens is a successful token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
}

// TokensOf decodes a 200 token response.
func TokensOf(t testing.TB, r *Response) Tokens {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint: status %d\n%s", r.StatusCode, r.Body)
	}
	var tk Tokens
	if err := json.Unmarshal([]byte(r.Body), &tk); err != nil {
		t.Fatalf("token response: %v\n%s", err, r.Body)
	}
	if tk.AccessToken == "" {
		t.Fatalf("token response without access_token: %s", r.Body)
	}
	return tk
}

// DecodeJWT returns a compact JWT's header and claims without verifying it.
func DecodeJWT(t testing.TB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", raw)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// VerifyJWT checks raw's signature against the key its kid names in a JWKS document and returns the kid and
// the claims.
func VerifyJWT(t testing.TB, raw string, jwks []byte) (string, map[string]any) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, jwks)
	}
	jws, err := jose.ParseSigned(raw)
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("JWT has %d signatures", len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q", len(keys), kid)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("JWT signature does not verify with JWKS key %s: %v", kid, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return kid, claims
}

// JWKS fetches the tenant's key set document.
func (tn *Tenant) JWKS(t testing.TB, c *http.Client) []byte {
	t.Helper()
	r := Get(t, c, tn.URL("/.well-known/jwks.json"))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: status %d\n%s", r.StatusCode, r.Body)
	}
	return []byte(r.Body)
}

// KidsOf lists the key ids of a JWKS document.
func KidsOf(t testing.TB, jwks []byte) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// Introspect asks the introspection endpoint about token, authenticated as a confidential client.
func (tn *Tenant) Introspect(t testing.TB, c *http.Client, clientID, secret, token string) map[string]any {
	t.Helper()
	r := PostForm(t, c, tn.URL("/oauth/introspect"), url.Values{"token": {token}}, BasicAuth(clientID, secret))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("introspect: status %d\n%s", r.StatusCode, r.Body)
	}
	return r.JSON(t)
}

// ClientCredentials gets a token for a confidential client with client_secret_basic.
func (tn *Tenant) ClientCredentials(t testing.TB, c *http.Client, clientID, secret string, form url.Values) *Response {
	t.Helper()
	v := url.Values{"grant_type": {"client_credentials"}}
	for k, vs := range form {
		v[k] = vs
	}
	return PostForm(t, c, tn.URL("/oauth/token"), v, BasicAuth(clientID, secret))
}

// OAuthError returns the "error" member of a JSON error body.
func OAuthError(t testing.TB, r *Response) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(string)
	return e
}
