package login_test

import (
	"testing"
	"time"

	"github.com/authio/authio/internal/testenv"
	"github.com/authio/authio/mail/mailtest"
)

// TestEmailStepSameWhileMailFails_attack4: "an unknown email and a known one look the same until a secret is
// proven". While the mail server refuses messages (its quota spent — which anyone can hasten by asking for
// sign-in emails from many IPs —, a relay outage, or a recipient it refuses), the email connection answers a known
// address with 503 "We could not send the email" and an unknown one with 200 "Check your email": no mail is
// attempted for the unknown address, so nothing can fail. Asking for a sign-in email then tells exactly which
// addresses have accounts (reset and verification mail, sent in the background, do not have this problem).
func TestEmailStepSameWhileMailFails_attack4(t *testing.T) {
	f := newEmailFixture(t, testenv.Options{})
	f.env.S.EmailSendWindow = 2 * time.Second
	status := map[string]int{}
	for _, addr := range []string{"alice@acme.test", "nobody@acme.test"} {
		f.smtp.FailNext(mailtest.PermFailure) // the mail server refuses whatever comes next
		flow := f.request().Flow(t, f.acme, f.browser)
		status[addr] = f.ask(t, f.browser, f.acme, flow, addr).StatusCode
	}
	if status["alice@acme.test"] != status["nobody@acme.test"] {
		t.Errorf("while the mail server refuses mail: a known address gets %d, an unknown one %d",
			status["alice@acme.test"], status["nobody@acme.test"])
	}
}
