package login

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authio/authio/handlers/oauth"
	"github.com/authio/authio/server"
	"github.com/authio/authio/storage"
	"github.com/authio/authio/templates"
)

// signedInFlow serves a flow whose user signed in already, from a database that fails reading sessions.
type signedInFlow struct {
	Services
	flow storage.AuthFlow
}

func (s signedInFlow) OpenFlow(context.Context, *http.Request, string) (storage.AuthFlow, error) {
	return s.flow, nil
}

func (s signedInFlow) SessionFromCookie(context.Context, string) (storage.LoginSession, storage.User, error) {
	return storage.LoginSession{}, storage.User{}, storage.ErrUnavailable
}

// TestLoginPageReportsSessionReadFailure: going back to the sign-in page of a flow that is past its sign-in step
// reads the browser session to decide where to go; when the database fails that read, the page is a 503, not a
// sign-in form that hides the outage.
func TestLoginPageReportsSessionReadFailure(t *testing.T) {
	pages, err := templates.New(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	h := &Handler{S: signedInFlow{flow: storage.AuthFlow{ID: "flw_1", UserID: "user_1", SessionID: "ses_1", AuthTime: &at}},
		Pages: pages, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
	r := httptest.NewRequest(http.MethodGet, "/login?state=flw_1", nil)
	r = r.WithContext(server.WithTenant(r.Context(), &server.Tenant{Tenant: storage.Tenant{ID: "ten_a", Name: "A"},
		Host: "a.example", Issuer: "https://a.example"}))
	r.AddCookie(&http.Cookie{Name: oauth.SessionCookie, Value: "cookie"})
	w := httptest.NewRecorder()
	h.loginPage(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503 when the session cannot be read", w.Code)
	}
}
