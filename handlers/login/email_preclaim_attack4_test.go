package login_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
)

// TestEmailSignInToAPreclaimedAccount_attack4: with sign-up open and email verification optional, Mallory signs
// up with carol's address and a password of her own; the account stays unverified. Carol later signs in with
// the email connection (link or code, which prove her mailbox) and lands in that account — with Mallory's
// password still on it, so Mallory shares every session and token of the account carol now uses. The upstream
// kinds refuse exactly this (ResolveIdentity links a verified mailbox only to a user whose own address is
// verified: "else whoever set that account's password would share it with the mailbox's owner"); the email kind
// does not: it neither refuses the unverified account nor takes the stranger's password off it.
func TestEmailSignInToAPreclaimedAccount_attack4(t *testing.T) {
	f := newEmailFixture(t, testenv.Options{})
	if err := f.env.S.SetSignup(context.Background(), f.acme.ID, true); err != nil {
		t.Fatal(err)
	}
	mallory := f.env.Client(testenv.ClientOptions{NoRedirects: true})
	var page *testenv.Response
	for deadline := time.Now().Add(3 * time.Second); ; {
		page = testenv.Get(t, mallory, f.acme.URL("/signup"))
		if page.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	const malloryPassword = "mallory-knows-this-1"
	if r := f.acme.Submit(t, mallory, testenv.ParseForm(t, page.Body), url.Values{"email": {"carol@acme.test"},
		"password": {malloryPassword}}); r.StatusCode >= 400 {
		t.Fatalf("Mallory's sign-up as carol: %d\n%s", r.StatusCode, r.Body)
	}

	// Carol signs in with a code from her mailbox.
	ar := f.request()
	flow := ar.Flow(t, f.acme, f.browser)
	sent := f.ask(t, f.browser, f.acme, flow, "carol@acme.test")
	code := ""
	for deadline := time.Now().Add(5 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range f.smtp.Messages() {
			if c := codeRE.FindStringSubmatch(m.Text); m.To == "carol@acme.test" && c != nil {
				code = c[1]
			}
		}
	}
	if code == "" {
		t.Fatal("no sign-in code reached carol")
	}
	r := f.answer(t, f.browser, f.acme, sent, flow, "carol@acme.test", code)
	if !setsSession(r) {
		return // refused: the account Mallory made is not carol's to sign in to by email
	}
	// Carol is in. Mallory's password must not still open the account.
	if r := f.acme.SignIn(t, f.env.Client(testenv.ClientOptions{NoRedirects: true}), "carol@acme.test", malloryPassword, ""); setsSession(r) {
		t.Errorf("carol signed in by email to the unverified account Mallory created, and Mallory's password still " +
			"signs in to it: the account is shared with whoever pre-registered the address")
	}
}
