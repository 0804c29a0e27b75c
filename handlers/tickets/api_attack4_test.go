package tickets_test

import (
	"net/http"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestTicketTTLOverflow_attack4: ttl_sec is multiplied into a time.Duration before it is checked against the
// 30-day maximum, so a huge value wraps around: 2^55 + 3600 seconds (about a billion years) is accepted as an
// hour's ticket instead of being refused with a 400 like any other ttl_sec above the maximum. The value must be
// checked in seconds, before the conversion.
func TestTicketTTLOverflow_attack4(t *testing.T) {
	f := newFixture(t, testenv.Options{})
	key := f.acme.APIKey(t)
	for _, path := range []string{"/tickets/password-change", "/tickets/email-verification"} {
		r := f.acme.API(t, f.browser(), "POST", path, key,
			`{"user_id": "`+f.alice.ID+`", "ttl_sec": 36028797018967568}`) // 1<<55 + 3600
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s with ttl_sec 2^55+3600: %d %s, want 400 (above the maximum)", path, r.StatusCode, r.Body)
		}
	}
}
