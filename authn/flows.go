package authn

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/authio/authio/internal/ids"
	"github.com/authio/authio/keys"
	"github.com/authio/authio/storage"
)

// FlowCookie binds sign-in flows to the browser that started them: a random value per browser (host-only,
// HttpOnly, SameSite=Lax) whose hash each flow stores. Two tabs share it and still get two flows.
const FlowCookie = "authio_flow"

// FlowTTL is how long a sign-in flow stays open after /authorize stored it.
const FlowTTL = 15 * time.Minute

// FlowStep is what a sign-in flow needs next.
type FlowStep string

// The steps of a sign-in flow, in order. Later steps (second factor, an organization's step-up) slot into
// NextFlowStep.
const (
	StepLogin        FlowStep = "login"        // identify and authenticate the user
	StepMFA          FlowStep = "mfa"          // the user passes a second factor (or enrols one)
	StepOrganization FlowStep = "organization" // the user chooses one of their organizations
	StepComplete     FlowStep = "complete"     // everything is satisfied: issue the authorization response
)

// NextFlowStep returns the first step flow f has not satisfied yet. It reads only the flow's state: callers
// clear f.SessionID first when the browser no longer holds that session, and set f.MFARequired once they know
// the user must pass a second factor.
func NextFlowStep(f storage.AuthFlow) FlowStep {
	switch {
	case f.UserID == "" || f.SessionID == "" || f.AuthTime == nil:
		return StepLogin
	case f.MFARequired && !MultiFactor(f.AMR):
		return StepMFA
	case f.OrgRequired && f.OrganizationID == "":
		return StepOrganization
	}
	return StepComplete
}

// FlowGoneError means a flow id cannot be used (any more): unknown on this tenant, another browser's, expired or
// already completed. The user is shown one page for all of these ("This sign-in link has expired").
type FlowGoneError struct {
	// Flow is set when the flow is known and belongs to the presenting browser (it expired or was completed),
	// so the page can offer to start the same authorization request again; nil otherwise.
	Flow *storage.AuthFlow
}

func (e *FlowGoneError) Error() string {
	return "sign-in flow expired, completed, unknown or another browser's"
}

// RestartURL is the same-site /authorize URL that starts gone's authorization request again, "" when the flow
// is not known to be the presenting browser's. The parameters were validated when the flow was stored, and
// /authorize validates them again.
func (e *FlowGoneError) RestartURL() string {
	if e == nil || e.Flow == nil || e.Flow.Params == "" {
		return ""
	}
	if _, err := url.ParseQuery(e.Flow.Params); err != nil {
		return ""
	}
	return "/authorize?" + e.Flow.Params
}

// FlowBrowser returns the browser's flow cookie value from r, and a fresh one (set reports true) when r has
// none; the caller sets it with FlowBrowserCookie.
func FlowBrowser(r *http.Request) (value string, fresh bool) {
	if c, err := r.Cookie(FlowCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 128 {
		return c.Value, false
	}
	return ids.Random(32), true
}

// flowKey is the context key of the flow a request proved it holds.
type flowKey struct{}

// WithFlow returns ctx carrying id, the sign-in flow the request proved it holds (OpenFlow accepted its cookie):
// kinds that bind a secret to a flow (Challenger) read it with FlowFromContext.
func WithFlow(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, flowKey{}, id)
}

// FlowFromContext returns the flow id WithFlow put in ctx, "" when none.
func FlowFromContext(ctx context.Context) string {
	id, _ := ctx.Value(flowKey{}).(string)
	return id
}

// FlowService keeps sign-in flows: authorization requests that need the user, stored server-side while the
// steps (identify, authenticate, choose an organization, and later a second factor or step-up) are satisfied.
// Every method works on the tenant in ctx's tenancy scope.
type FlowService struct {
	store   storage.Flows
	secrets *keys.Secrets
	now     func() time.Time
	secure  bool
}

// NewFlowService returns the flow service over store; now is the server's clock, secure marks the flow cookie
// Secure (https).
func NewFlowService(store storage.Flows, secrets *keys.Secrets, now func() time.Time, secure bool) *FlowService {
	return &FlowService{store: store, secrets: secrets, now: now, secure: secure}
}

// FlowBrowserCookie is the flow cookie carrying value: host-only, HttpOnly, SameSite=Lax, Secure on https,
// ending with the browser session.
func (s *FlowService) FlowBrowserCookie(value string) *http.Cookie {
	return &http.Cookie{Name: FlowCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure}
}

// StartFlow stores f as a new flow of the tenant in ctx, bound to the browser whose flow cookie is browser;
// it sets the id, the binding, the creation time (the server clock, whole seconds, which prompt=login and max_age are
// judged against) and the expiry (FlowTTL later).
func (s *FlowService) StartFlow(ctx context.Context, browser string, f storage.AuthFlow) (storage.AuthFlow, error) {
	now := s.now().UTC().Truncate(time.Second)
	f.ID = ids.New("flw")
	f.BrowserHash = s.secrets.TokenHash("flow-browser:" + browser)
	f.CreatedAt, f.ExpiresAt, f.CompletedAt = now, now.Add(FlowTTL), nil
	if err := s.store.CreateFlow(ctx, f); err != nil {
		return storage.AuthFlow{}, err
	}
	return f, nil
}

// OpenFlow returns the open flow id of the tenant in ctx, when the browser presenting it (r's flow cookie)
// started it. A *FlowGoneError when it is unknown, another browser's, expired or completed; storage errors
// (the database failing) as they are.
func (s *FlowService) OpenFlow(ctx context.Context, r *http.Request, id string) (storage.AuthFlow, error) {
	if id == "" || len(id) > 64 {
		return storage.AuthFlow{}, &FlowGoneError{}
	}
	f, err := s.store.GetFlow(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.AuthFlow{}, &FlowGoneError{}
	} else if err != nil {
		return storage.AuthFlow{}, err
	}
	c, err := r.Cookie(FlowCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(s.secrets.TokenHash("flow-browser:"+c.Value)), []byte(f.BrowserHash)) != 1 {
		return storage.AuthFlow{}, &FlowGoneError{}
	}
	if f.CompletedAt != nil || !s.now().Before(f.ExpiresAt) {
		return storage.AuthFlow{}, &FlowGoneError{Flow: &f}
	}
	return f, nil
}

// AdvanceFlow records a step of open flow f (fn changes what the step satisfied) with a write conditional on the
// flow still being open. A *FlowGoneError when it was completed or expired meanwhile.
func (s *FlowService) AdvanceFlow(ctx context.Context, f storage.AuthFlow, fn func(f storage.AuthFlow) storage.AuthFlow) (storage.AuthFlow, error) {
	var out storage.AuthFlow
	err := s.store.AdvanceFlow(ctx, f.ID, s.now(), func(old storage.AuthFlow) (storage.AuthFlow, error) {
		out = fn(old)
		return out, nil
	})
	if errors.Is(err, storage.ErrAlreadyUsed) || errors.Is(err, storage.ErrNotFound) {
		return storage.AuthFlow{}, &FlowGoneError{Flow: &f}
	}
	return out, err
}

// CompleteFlow completes open flow f: exactly one of several concurrent calls succeeds, on any replica; the
// others get a *FlowGoneError, as does a flow completed or expired before.
func (s *FlowService) CompleteFlow(ctx context.Context, f storage.AuthFlow) error {
	err := s.store.CompleteFlow(ctx, f.ID, s.now())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return &FlowGoneError{Flow: &f}
	}
	return err
}

// MultiFactor reports whether a sign-in's authentication methods (RFC 8176 amr) already make it multi-factor:
// it passed a second factor ("mfa"), or it used a passkey that verified its user ("hwk" or "swk" with "user":
// something held and someone present), which needs no other factor.
func MultiFactor(amr []string) bool {
	has := func(m string) bool {
		for _, v := range amr {
			if v == m {
				return true
			}
		}
		return false
	}
	return has("mfa") || ((has("hwk") || has("swk")) && has("user"))
}
