package login_test

import (
	"net/http"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestEmailSecretDiesWithTheAddress_attack4: a sign-in link and code prove the mailbox they were sent to. When the
// account's address changes (an administrator moves alice off a mailbox she lost, or that someone else now
// reads), what was mailed to the old address must stop working — as the reset and verification links already do
// (authn/tickets: "the address changed meanwhile: the link went to the old one"). Today the email secret is bound
// to the user id only, and storage.InvalidateOneTimeSecrets is never called: the old mailbox's code and link still
// sign in to the account for their whole 10 minutes after the change.
func TestEmailSecretDiesWithTheAddress_attack4(t *testing.T) {
	f := newEmailFixture(t, testenv.Options{})
	key := f.acme.APIKey(t)
	moveAlice := func(to string) {
		t.Helper()
		r := f.acme.API(t, f.env.Client(testenv.ClientOptions{NoRedirects: true}), "PATCH", "/users/"+f.alice.ID, key,
			map[string]any{"email": to})
		if r.StatusCode != http.StatusOK {
			t.Fatalf("PATCH alice's email: %d %s", r.StatusCode, r.Body)
		}
	}

	t.Run("code", func(t *testing.T) {
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		n := len(f.smtp.Messages())
		sent := f.ask(t, f.browser, f.acme, flow, "alice@acme.test")
		_, code := f.mailTo(t, "alice@acme.test", n)
		moveAlice("alice.new@acme.test")
		r := f.answer(t, f.browser, f.acme, sent, flow, "alice@acme.test", code)
		if setsSession(r) {
			t.Errorf("the code mailed to alice's old address signed in after the address changed: status %d, Location %q",
				r.StatusCode, r.Header.Get("Location"))
		}
	})

	t.Run("link", func(t *testing.T) {
		ar := f.request()
		flow := ar.Flow(t, f.acme, f.browser)
		n := len(f.smtp.Messages())
		f.ask(t, f.browser, f.acme, flow, "alice.new@acme.test")
		link, _ := f.mailTo(t, "alice.new@acme.test", n)
		moveAlice("alice.third@acme.test")
		if r := testenv.Get(t, f.browser, link); setsSession(r) {
			t.Errorf("the link mailed to alice's old address signed in after the address changed: status %d, Location %q",
				r.StatusCode, r.Header.Get("Location"))
		}
	})
}
