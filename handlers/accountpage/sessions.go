package accountpage

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/authio/authio/storage"
)

// sessionsSection lists the user's browser sessions (device, signed in, last active) and signs out one
// (POST /account/sessions/end, field "session") or every other one (POST /account/sessions/end-others).
type sessionsSection struct{ h *Handler }

type sessionView struct {
	ID, Device            string
	Current               bool
	Created, CreatedISO   string
	LastSeen, LastSeenISO string
}

type sessionsData struct {
	Sessions []sessionView
	Others   bool // there are sessions besides this browser's
}

func (s *sessionsSection) Name() string     { return "sessions" }
func (s *sessionsSection) Template() string { return "sessions" }

func (s *sessionsSection) Data(ctx context.Context, u storage.User, ls storage.LoginSession) (any, error) {
	list, err := s.h.S.UserSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var d sessionsData
	// This browser's session first, then the others newest first.
	for _, cur := range []bool{true, false} {
		for _, x := range list {
			if (x.ID == ls.ID) != cur {
				continue
			}
			v := sessionView{ID: x.ID, Device: DeviceSummary(x.UserAgent), Current: cur,
				Created: humanTime(x.CreatedAt), CreatedISO: x.CreatedAt.UTC().Format(time.RFC3339)}
			if x.LastSeenAt != nil {
				v.LastSeen, v.LastSeenISO = humanTime(*x.LastSeenAt), x.LastSeenAt.UTC().Format(time.RFC3339)
			}
			d.Sessions = append(d.Sessions, v)
			d.Others = d.Others || !cur
		}
	}
	return d, nil
}

func (s *sessionsSection) Notice(key string) string {
	switch key {
	case "ended":
		return "That session has been signed out."
	case "others":
		return "Your other sessions have been signed out."
	}
	return ""
}

func (s *sessionsSection) Mount(r *mux.Router) {
	r.HandleFunc("/end", s.end).Methods(http.MethodPost)
	r.HandleFunc("/end-others", s.endOthers).Methods(http.MethodPost)
}

// end is POST /account/sessions/end: signs out one of the user's other sessions (this browser's own goes through
// the sign-out page, which also tells applications).
func (s *sessionsSection) end(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("session")
	u, ls := AccountUser(r), AccountSession(r)
	if id == "" || id == ls.ID {
		s.h.Refuse(w, r, http.StatusBadRequest, s.Name(), Outcome{Error: "Choose one of your other sessions to sign out; use Sign out for this one."})
		return
	}
	err := s.h.S.EndUserSession(r.Context(), u.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Someone else's, or already gone: the same answer either way.
		s.h.Refuse(w, r, http.StatusNotFound, s.Name(), Outcome{Error: "That session has already ended."})
	case err != nil:
		s.h.Failed(w, r, "account page: ending a session failed", err)
	default:
		s.h.Done(w, r, s.Name(), "ended")
	}
}

// endOthers is POST /account/sessions/end-others.
func (s *sessionsSection) endOthers(w http.ResponseWriter, r *http.Request) {
	if _, err := s.h.S.EndOtherSessions(r.Context(), AccountSession(r)); err != nil {
		s.h.Failed(w, r, "account page: ending the other sessions failed", err)
		return
	}
	s.h.Done(w, r, s.Name(), "others")
}

// humanTime is how the page shows a time: "2 Jan 2006, 15:04 UTC".
func humanTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// DeviceSummary names the browser and system a User-Agent header describes, for people ("Firefox on Windows");
// "Unknown browser" when it says nothing recognisable. It reads the usual tokens only: a summary, not a
// fingerprint.
func DeviceSummary(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chromium/", "Chromium"},
		{"HeadlessChrome/", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"}, {"node", "Node.js"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return "Unknown browser"
}
