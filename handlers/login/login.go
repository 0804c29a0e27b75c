// Package login serves a tenant's hosted pages: sign in, sign up and sign out (RP-initiated logout). Pages are
// server-rendered from templates, every form is CSRF-protected, and the browser session is a host-only cookie.
package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/csrf"
	"github.com/gorilla/mux"
	"github.com/ory/fosite/token/jwt"

	"github.com/authio/authio/authn"
	"github.com/authio/authio/authn/signin"
	"github.com/authio/authio/directory"
	"github.com/authio/authio/handlers/accountpage"
	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/httpx"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// Handler serves the hosted pages. Routes must run behind server.ResolveTenant.
type Handler struct {
	S Services
	// IDTokens decodes and verifies ID tokens of the tenant in scope (id_token_hint at sign-out).
	IDTokens TokenDecoder
	// CSRFKey keys the CSRF tokens of every form (32 bytes, derived from AUTHIO_SECRET_KEY).
	CSRFKey []byte
	// Secure marks cookies Secure (AUTHIO_PUBLIC_SCHEME=https).
	Secure bool
	// SessionTTL is the browser session cookie's lifetime.
	SessionTTL time.Duration
	Pages      *templates.Renderer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Sessions opens and ends browser sessions.
type Sessions interface {
	// SessionFromCookie returns the live session and its user for a session cookie value (storage.ErrNotFound
	// when there is none).
	SessionFromCookie(ctx context.Context, cookie string) (storage.LoginSession, storage.User, error)
	// StartSession opens a session for u, who just signed in through the connection named connection with the
	// methods amr (RFC 8176); it returns the cookie value. storage.ErrCredentialsChanged when u's password changed
	// meanwhile.
	StartSession(ctx context.Context, u storage.User, amr []string, connection string) (string, storage.LoginSession, error)
	// EndSession ends a session once (storage.ErrNotFound when it already ended).
	EndSession(ctx context.Context, ls storage.LoginSession) error
}

// Flows reads and advances the sign-in flow a page belongs to.
type Flows interface {
	OpenFlow(ctx context.Context, r *http.Request, id string) (storage.AuthFlow, error)
	AdvanceFlow(ctx context.Context, f storage.AuthFlow, fn func(f storage.AuthFlow) storage.AuthFlow) (storage.AuthFlow, error)
	// FlowRequestID is the request id a POST-binding kind's answer must name for the flow.
	FlowRequestID(flowID string) string
}

// SignIn proves identities through the tenant's connections (throttling, audit, blocked users and identity
// linking included).
type SignIn interface {
	LoginConnections(ctx context.Context) ([]authn.Connection, error)
	SignInConnection(ctx context.Context, name, account string) (authn.Connection, error)
	SignInForm(ctx context.Context, c authn.FormConnection, form url.Values, ip string) (storage.User, []string, error)
	SignInUpstream(ctx context.Context, c authn.Connection, ip string,
		prove func(ctx context.Context) (authn.Identity, error)) (storage.User, []string, error)
	SignUp(ctx context.Context, email, password string) (storage.User, error)
	// StartChallenge asks a Challenger (the email kind) for a new secret, throttled per address and per IP.
	StartChallenge(ctx context.Context, c authn.Challenger, form url.Values, ip string) error
}

// Verification is email verification at sign-up (package authn/tickets).
type Verification interface {
	// EmailVerificationRequired reports whether the tenant refuses password sign-ins of unverified users.
	EmailVerificationRequired(ctx context.Context) bool
	// SendVerification mails u a verification link at u's stored address (flowID: the sign-in flow, or "");
	// an error wrapping tickets.ErrSendFailed when the mail could not be queued.
	SendVerification(ctx context.Context, u storage.User, flowID, source string) error
}

// Services is what the hosted pages use of Authio's services, and nothing more (*server.Server implements it).
type Services interface {
	Sessions
	Flows
	SignIn
	Verification
	SecondFactors
	// Client finds one of the tenant's clients (post-logout redirect URIs).
	Client(ctx context.Context, id string) (storage.Client, error)
	// ClientIP is the request's client address (X-Forwarded-For only from trusted proxies).
	ClientIP(r *http.Request) string
}

// TokenDecoder decodes and verifies a JWT signed by the tenant in scope (keys.Signer).
type TokenDecoder interface {
	Decode(ctx context.Context, token string) (*jwt.Token, error)
}

// Mount registers the pages on r, wrapped in CSRF protection.
func (h *Handler) Mount(r *mux.Router) {
	secure := h.Secure
	protect := csrf.Protect(h.CSRFKey,
		csrf.Secure(secure), csrf.SameSite(csrf.SameSiteLaxMode), csrf.Path("/"), csrf.HttpOnly(true),
		csrf.CookieName("authio_csrf"), csrf.FieldName("csrf_token"),
		csrf.ErrorHandler(http.HandlerFunc(h.csrfFailed)))
	// A POST-binding provider posts its answer from its own site, without our CSRF token: the flow (state and
	// cookie) and the kind's request id check it instead.
	r.HandleFunc(PostCallbackPath, h.postCallback).Methods(http.MethodPost)
	pages := r.NewRoute().Subrouter()
	pages.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !secure {
				r = csrf.PlaintextHTTPRequest(r)
			}
			pageHeaders(w)
			// An RP may POST its logout request (OIDC RP-Initiated Logout §2) from its own site, without our
			// CSRF token. Such a post is treated like a GET: it ends the session only with a valid
			// id_token_hint, and otherwise shows the confirmation form.
			if r.Method == http.MethodPost && isLogoutPath(r.URL.Path) && r.PostFormValue("csrf_token") == "" {
				asGet := r.Clone(r.Context())
				asGet.Method = http.MethodGet
				u := *r.URL
				u.RawQuery = r.Form.Encode() // query and body parameters together
				asGet.URL = &u
				asGet.Body, asGet.ContentLength = http.NoBody, 0
				r = asGet
			}
			protect(next).ServeHTTP(w, r)
		})
	})
	pages.HandleFunc("/login", h.loginPage).Methods(http.MethodGet)
	pages.HandleFunc("/login", h.loginSubmit).Methods(http.MethodPost)
	pages.HandleFunc(CallbackPath, h.callback).Methods(http.MethodGet)
	pages.HandleFunc("/login/{connection}/start", h.startUpstream).Methods(http.MethodGet, http.MethodPost)
	pages.HandleFunc(VerifyLinkPath, h.verifyLink).Methods(http.MethodGet)
	pages.HandleFunc(oauth.MFAPath, h.mfaPage).Methods(http.MethodGet)
	pages.HandleFunc(oauth.MFAPath, h.mfaSubmit).Methods(http.MethodPost)
	pages.HandleFunc(oauth.MFAPath+"/done", h.mfaDone).Methods(http.MethodGet)
	pages.HandleFunc(BeginPath, h.beginCeremony).Methods(http.MethodPost)
	pages.HandleFunc("/signup", h.signupPage).Methods(http.MethodGet)
	pages.HandleFunc("/signup", h.signupSubmit).Methods(http.MethodPost)
	pages.HandleFunc("/oidc/logout", h.logout).Methods(http.MethodGet, http.MethodPost)
	pages.HandleFunc(Auth0LogoutPath, h.logout).Methods(http.MethodGet, http.MethodPost)
}

// pageHeaders sets the security headers of every hosted page.
func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:")
	// same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts, which
	// the CSRF origin check rightly refuses; same-origin still keeps URLs from leaking to other sites.
	w.Header().Set("Referrer-Policy", "same-origin")
}

func isLogoutPath(p string) bool { return p == "/oidc/logout" || p == Auth0LogoutPath }

func (h *Handler) csrfFailed(w http.ResponseWriter, r *http.Request) {
	h.Logger.Info("csrf check failed", "request_id", httpx.RequestIDFromContext(r.Context()), "reason", csrf.FailureReason(r))
	h.errorPage(w, r, http.StatusForbidden, "Your form expired", "Please go back, reload the page and try again.")
}

func (h *Handler) page(r *http.Request, p templates.Page) templates.Page {
	t := server.TenantFromContext(r.Context())
	p.TenantName = t.Name
	p.CSRFField = csrf.TemplateField(r)
	p.SignupEnabled = t.SignupEnabled
	p.RequestID = httpx.RequestIDFromContext(r.Context())
	q := url.Values{}
	if p.Flow != "" {
		q.Set("state", p.Flow)
	} else if p.ReturnTo != "" {
		q.Set("return_to", p.ReturnTo)
	}
	p.SignupURL = "/signup"
	p.LoginURL = "/login"
	if len(q) > 0 {
		p.SignupURL += "?" + q.Encode()
		p.LoginURL += "?" + q.Encode()
	}
	return p
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p templates.Page) {
	if err := h.Pages.Render(w, status, name, h.page(r, p)); err != nil {
		h.Logger.Error("rendering page failed", "page", name, "request_id", httpx.RequestIDFromContext(r.Context()), "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, templates.PageError, templates.Page{Title: title, Message: msg})
}

// openFlow returns the open sign-in flow id names, which must be this browser's. ok=false means it cannot be
// used (the "expired" page) or loading it failed (a 5xx page), and the response has been written.
func (h *Handler) openFlow(w http.ResponseWriter, r *http.Request, id string) (f storage.AuthFlow, ok bool) {
	f, err := h.S.OpenFlow(r.Context(), r, id)
	var gone *authn.FlowGoneError
	switch {
	case errors.As(err, &gone):
		h.flowGone(w, r, gone)
		return f, false
	case err != nil:
		h.failed(w, r, "loading the sign-in flow failed", err)
		return f, false
	}
	return f, true
}

// flowGone shows the "This sign-in link has expired" page (see oauth.FlowGonePage).
func (h *Handler) flowGone(w http.ResponseWriter, r *http.Request, gone *authn.FlowGoneError) {
	status, p := oauth.FlowGonePage(gone)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, templates.PageError, p)
}

// flowPage is the sign-in or sign-up page's data for the flow named by the request's state parameter (the query
// on GET, the form on POST): the flow's id and the request's login_hint. ok=false: the response is written.
//
// The email is the one the user gave at the email step (storage.AuthFlow.LoginEmail), else the request's
// login_hint. Without a flow, a safe return_to (accountpage.SafeReturnTo) is kept for after the sign-in.
func (h *Handler) flowPage(w http.ResponseWriter, r *http.Request) (p templates.Page, flow *storage.AuthFlow, ok bool) {
	id := r.FormValue("state")
	if id == "" {
		if rt := r.FormValue("return_to"); accountpage.SafeReturnTo(rt) {
			p.ReturnTo = rt
		}
		return p, nil, true
	}
	f, ok := h.openFlow(w, r, id)
	if !ok {
		return p, nil, false
	}
	p.Flow = f.ID
	if f.LoginEmail != nil {
		p.Email = *f.LoginEmail
	} else if q, err := url.ParseQuery(f.Params); err == nil {
		p.Email = q.Get("login_hint")
	}
	return p, &f, true
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	p, flow, ok := h.flowPage(w, r)
	if !ok {
		return
	}
	// Back to the sign-in page of a flow this browser already signed in for (the picker's back button, say):
	// the flow's current step is further on, so go there rather than ask for the password again. Only when the
	// browser still holds the flow's session: otherwise the sign-in page is the current step.
	if flow != nil && authn.NextFlowStep(*flow) != authn.StepLogin {
		if c, err := r.Cookie(oauth.SessionCookie); err == nil {
			ls, _, err := h.S.SessionFromCookie(r.Context(), c.Value)
			switch {
			case err == nil && ls.ID == flow.SessionID:
				http.Redirect(w, r, oauth.ResumePath+"?"+url.Values{"state": {flow.ID}}.Encode(), http.StatusSeeOther)
				return
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				h.failed(w, r, "sign-in page: reading the browser session failed", err)
				return
			}
		}
	}
	h.renderLogin(w, r, http.StatusOK, p, nil, nil)
}

// loginSubmit is POST /login: a form kind's submission. The "connection" field names the connection (its name
// or id); without it, the tenant's default password connection.
func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, flow, ok := h.flowPage(w, r)
	if !ok {
		return
	}
	// A post that carries a password signs in whatever its step says: a script (or an older page) may post the
	// email and the password of the email step's form in one go.
	switch step := r.PostFormValue("step"); {
	case r.PostFormValue("password") != "":
	case step == stepIdentify:
		h.identify(w, r, p, flow)
		return
	case step == stepReset:
		h.notYou(w, r, p, flow)
		return
	}
	form := url.Values{}
	for k, v := range r.PostForm {
		form[k] = v
	}
	email := strings.TrimSpace(form.Get("email"))
	if form.Has("email") {
		form.Set("email", email)
		p.Email = email
	}
	conn, err := h.S.SignInConnection(ctx, form.Get("connection"), email)
	switch {
	case errors.Is(err, signin.ErrUnknownConnection):
		h.Logger.Info("sign-in refused: unknown connection", "request_id", httpx.RequestIDFromContext(ctx))
		h.errorPage(w, r, http.StatusNotFound, "This sign-in method is not available", "Go back and choose another way to sign in.")
		return
	case errors.Is(err, signin.ErrConnectionDisabled):
		p.Error = "This sign-in method is turned off here. Contact your administrator."
		if form.Get("connection") == "" || form.Get("connection") == storage.DefaultPasswordConnection {
			p.Error = "Signing in with a password is turned off here. Contact your administrator."
		}
		h.Logger.Info("sign-in refused: connection disabled", "request_id", httpx.RequestIDFromContext(ctx))
		h.renderLogin(w, r, http.StatusForbidden, p, nil, nil)
		return
	case err != nil:
		h.failed(w, r, "opening the sign-in connection failed", err)
		return
	}
	fc, ok := conn.(authn.FormConnection)
	if !ok {
		h.errorPage(w, r, http.StatusBadRequest, "This sign-in method does not take a form", "Go back and use its button instead.")
		return
	}
	if ch, ok := conn.(authn.Challenger); ok {
		h.challenge(w, r, p, flow, ch, form)
		return
	}
	fieldErrors := map[string]string{}
	for _, f := range fc.Fields() {
		if strings.TrimSpace(form.Get(f.Name)) == "" {
			fieldErrors[f.Name] = requiredMessage(f)
		}
	}
	if msg, ok := fieldErrors["email"]; ok && email == "" {
		// The methods step lost its email (a form without it): back to the email step, the error on its field.
		p.LoginStep, p.FieldErrors = templates.LoginStepIdentify, map[string]string{"email": msg}
		h.renderLogin(w, r, http.StatusBadRequest, p, nil, nil)
		return
	}
	if len(fieldErrors) > 0 {
		h.renderLogin(w, r, http.StatusBadRequest, p, conn, fieldErrors)
		return
	}
	user, amr, err := h.S.SignInForm(ctx, fc, form, h.S.ClientIP(r))
	if !h.signInRefused(w, r, p, conn, err) {
		h.startSession(w, r, user, flow, amr, conn)
	}
}

// signInRefused answers a sign-in the pipeline refused (err not nil) on the sign-in page, or reports false.
// conn is the connection tried.
func (h *Handler) signInRefused(w http.ResponseWriter, r *http.Request, p templates.Page, conn authn.Connection, err error) bool {
	ctx := r.Context()
	var throttled *signin.ThrottledError
	switch {
	case err == nil:
		return false
	case errors.As(err, &throttled):
		secs := int(throttled.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p.Error = "Too many failed attempts. Please wait " + strconv.Itoa((secs+59)/60) + " minute(s) and try again."
		h.Logger.Info("sign-in throttled", "request_id", httpx.RequestIDFromContext(ctx))
		h.renderLogin(w, r, http.StatusTooManyRequests, p, nil, nil)
	case errors.Is(err, signin.ErrEmailUnverified):
		// Only the right password gets here: the page may say that the address waits for verification.
		p.Title = "Verify your email address"
		p.Message = "Your email address is not verified yet. Open the link in the email we sent you, or send the email again."
		h.Logger.Info("sign-in refused: email not verified", "request_id", httpx.RequestIDFromContext(ctx))
		h.render(w, r, http.StatusForbidden, templates.PageVerifyEmail, p)
	case errors.Is(err, signin.ErrInvalidCredentials):
		p.Error = "That did not work. Check what you entered and try again."
		if conn.Type() == storage.ConnectionPassword {
			p.Error = "Wrong email or password."
		} else if authn.Shape(conn) != "form" {
			p.Error = "Signing in with " + authn.DisplayName(conn) + " did not work. Please try again."
		}
		h.Logger.Info("sign-in failed", "request_id", httpx.RequestIDFromContext(ctx), "connection", conn.Record().Name)
		h.renderLogin(w, r, http.StatusUnauthorized, p, nil, nil)
	default:
		for _, ref := range refusals {
			if errors.Is(err, ref.err) {
				p.Error = ref.message
				h.Logger.Info("sign-in refused: "+ref.log, "request_id", httpx.RequestIDFromContext(ctx))
				h.renderLogin(w, r, ref.status, p, nil, nil)
				return true
			}
		}
		h.failed(w, r, "sign-in error", err)
	}
	return true
}

// refusals are the sign-in pipeline's refusals that the page answers with a fixed status and message.
var refusals = []struct {
	err     error
	status  int
	message string
	log     string
}{
	{signin.ErrUserBlocked, http.StatusForbidden, "This account is blocked. Contact your administrator.", "user blocked"},
	{signin.ErrIdentityConflict, http.StatusConflict,
		"An account with this email address already exists. Sign in the way you usually do.",
		"the upstream email belongs to another account"},
	{signin.ErrIdentityUnverified, http.StatusForbidden,
		"Your identity provider has not verified your email address. Verify it there, then try again.",
		"the upstream email is not verified"},
	{signin.ErrIdentityUnusable, http.StatusBadRequest,
		"Your identity provider did not share an email address, which this sign-in needs.",
		"the upstream identity has no usable email"},
}

// requiredMessage is the error of an empty required field (the password form's copy for its two fields).
func requiredMessage(f authn.Field) string {
	switch f.Name {
	case "email":
		return "Enter your email address."
	case "password":
		return "Enter your password."
	}
	return "Enter your " + strings.ToLower(f.Label) + "."
}

// renderLogin renders the sign-in page with the tenant's sign-in methods; submitted, when not nil, is the one
// whose fieldErrors (and submitted values) the page shows.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, p templates.Page, submitted authn.Connection, fieldErrors map[string]string) {
	if p.LoginStep == "" {
		p.LoginStep = templates.LoginStepIdentify
		if p.Email != "" {
			p.LoginStep = templates.LoginStepMethods
		}
	}
	conns, err := h.S.LoginConnections(r.Context())
	if err != nil && r.Method == http.MethodGet {
		// The page still works with the password form alone; submitting it answers the outage (5xx) if it lasts.
		h.Logger.Warn("listing the sign-in methods failed: showing the password form only",
			"request_id", httpx.RequestIDFromContext(r.Context()), "err", err)
		h.render(w, r, status, templates.PageLogin, p)
		return
	} else if err != nil {
		h.failed(w, r, "listing the sign-in methods failed", err)
		return
	}
	p.Connections = make([]templates.Connection, 0, len(conns))
	for _, c := range conns {
		shape := authn.Shape(c)
		if p.Flow == "" && shape != "form" {
			continue // an upstream sign-in comes back to a flow; there is none to come back to
		}
		v := h.connectionView(r, c, p)
		if submitted != nil && c.Record().ID == submitted.Record().ID {
			v.FieldErrors = fieldErrors
			for i, f := range v.Fields {
				if f.Type != "password" && r.PostForm.Has(f.Name) {
					v.Fields[i].Value = strings.TrimSpace(r.PostForm.Get(f.Name))
				}
			}
		}
		p.Connections = append(p.Connections, v)
	}
	h.render(w, r, status, templates.PageLogin, p)
}

// connectionView is how the sign-in page shows c: a form of its Fields, or a "Continue with …" button; in the
// kind's own template (authn.Templated) when it names one that exists.
func (h *Handler) connectionView(r *http.Request, c authn.Connection, p templates.Page) templates.Connection {
	rec := c.Record()
	v := templates.Connection{Name: rec.Name, DisplayName: authn.DisplayName(c), Default: rec.Name == storage.DefaultPasswordConnection}
	start := "/login/" + url.PathEscape(rec.Name) + "/start"
	switch k := c.(type) {
	case authn.FormConnection:
		v.Template = templates.ConnectionForm
		for _, f := range k.Fields() {
			tf := templates.Field{Name: f.Name, Label: f.Label, Type: f.Type, Autocomplete: f.Autocomplete}
			if f.Type == "email" || f.Name == "email" {
				tf.Value, v.NeedsEmail = p.Email, true
			}
			v.Fields = append(v.Fields, tf)
		}
	case authn.RedirectConnection:
		v.Template, v.Method, v.StartURL = templates.ConnectionButton, "get", start+"?"+url.Values{"state": {p.Flow}}.Encode()
	case authn.PostBindingConnection:
		v.Template, v.Method, v.StartURL = templates.ConnectionButton, "post", start
	}
	if t, ok := c.(authn.Templated); ok {
		if h.Pages.HasConnection(t.Template()) {
			v.Template = t.Template()
		} else {
			h.Logger.Warn("connection template missing: using the generic one", "template", t.Template(), "type", c.Type())
		}
	}
	return v
}

// startSession opens a session for user, who signed in through conn (nil: sign-up, through the default password
// connection), sets its cookie and continues: with a flow, the flow records that the user signed in (who, which
// session, when, how) and the browser goes on to its next step; without one, a signed-in page.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, user storage.User, flow *storage.AuthFlow, amr []string, conn authn.Connection) {
	h.startSessionTo(w, r, user, flow, amr, conn, "")
}

// startSessionTo is startSession that continues at the same-site path next (with the flow's state when there is a
// flow) instead of the flow's next step or the signed-in page; "" continues as startSession does.
func (h *Handler) startSessionTo(w http.ResponseWriter, r *http.Request, user storage.User, flow *storage.AuthFlow, amr []string, conn authn.Connection, next string) {
	ctx := r.Context()
	connection := storage.DefaultPasswordConnection
	if conn != nil {
		connection = conn.Record().Name
	}
	cookie, ls, err := h.S.StartSession(authn.WithUserAgent(ctx, r.UserAgent()), user, amr, connection)
	if errors.Is(err, storage.ErrCredentialsChanged) {
		// The password changed (or the user was blocked) while this sign-in checked the old one.
		h.Logger.Info("sign-in failed: credentials changed during the sign-in", "request_id", httpx.RequestIDFromContext(ctx))
		p := templates.Page{Error: "Wrong email or password.", LoginStep: templates.LoginStepIdentify}
		if flow != nil {
			p.Flow = flow.ID
		}
		h.render(w, r, http.StatusUnauthorized, templates.PageLogin, p)
		return
	} else if err != nil {
		h.failed(w, r, "starting session failed", err)
		return
	}
	h.Logger.Info("signed in", "request_id", httpx.RequestIDFromContext(ctx), "user_id", user.ID)
	http.SetCookie(w, &http.Cookie{
		Name: oauth.SessionCookie, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.Secure, MaxAge: int(h.SessionTTL.Seconds()),
	})
	if flow == nil {
		if need, err := h.S.MFARequired(ctx, user); err != nil {
			h.failed(w, r, "reading whether the user needs a second factor failed", err)
			return
		} else if need && !authn.MultiFactor(amr) {
			to := oauth.MFAPath
			if rt := r.FormValue("return_to"); accountpage.SafeReturnTo(rt) {
				to += "?" + url.Values{"return_to": {rt}}.Encode()
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if next != "" {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		if rt := r.FormValue("return_to"); accountpage.SafeReturnTo(rt) {
			http.Redirect(w, r, rt, http.StatusSeeOther)
			return
		}
		h.render(w, r, http.StatusOK, templates.PageError, templates.Page{Title: "You are signed in", Message: "You can close this page and return to the application.",
			LinkURL: accountpage.Path, LinkText: "Go to your account"})
		return
	}
	_, err = h.S.AdvanceFlow(ctx, *flow, func(f storage.AuthFlow) storage.AuthFlow {
		at := ls.AuthTime
		f.UserID, f.SessionID, f.AuthTime, f.AMR = ls.UserID, ls.ID, &at, ls.AMR
		f.OrganizationID = "" // a choice made for another account does not carry over
		f.ConnectionID = ""   // the upstream answer is used: replaying the callback finds nothing to finish
		return f
	})
	var gone *authn.FlowGoneError
	if errors.As(err, &gone) {
		h.flowGone(w, r, gone)
		return
	} else if err != nil {
		h.failed(w, r, "recording the sign-in in its flow failed", err)
		return
	}
	if next == "" {
		next = oauth.ResumePath
	}
	http.Redirect(w, r, next+"?"+url.Values{"state": {flow.ID}}.Encode(), http.StatusSeeOther)
}

func (h *Handler) signupPage(w http.ResponseWriter, r *http.Request) {
	if !server.TenantFromContext(r.Context()).SignupEnabled {
		h.errorPage(w, r, http.StatusNotFound, "Sign-up is not available", "Ask your administrator for an account.")
		return
	}
	p, _, ok := h.flowPage(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, templates.PageSignup, p)
}

func (h *Handler) signupSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !server.TenantFromContext(ctx).SignupEnabled {
		h.errorPage(w, r, http.StatusNotFound, "Sign-up is not available", "Ask your administrator for an account.")
		return
	}
	p, flow, ok := h.flowPage(w, r)
	if !ok {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	p.Email, p.FieldErrors = email, map[string]string{}
	user, err := h.S.SignUp(ctx, email, password)
	var verr *directory.ValidationError
	switch {
	case errors.As(err, &verr):
		if verr.Field == "email" && strings.Contains(verr.Message, "already exists") {
			// Do not reveal whether an address has an account.
			p.Error = "We could not create an account with these details. If you already have one, sign in instead."
		} else {
			p.FieldErrors[verr.Field] = strings.ToUpper(verr.Message[:1]) + verr.Message[1:] + "."
		}
		h.render(w, r, http.StatusBadRequest, templates.PageSignup, p)
		return
	case errors.Is(err, signin.ErrSignupDisabled):
		h.errorPage(w, r, http.StatusNotFound, "Sign-up is not available", "Ask your administrator for an account.")
		return
	case err != nil:
		h.failed(w, r, "sign-up error", err)
		return
	}
	h.signedUp(w, r, user, flow)
}
