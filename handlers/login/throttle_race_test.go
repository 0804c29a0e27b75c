package login_test

import (
	"net/http"
	"testing"

	"github.com/authio/authio/internal/testenv"
)

// TestThrottlingHoldsUnderParallelAttempts: attempts are counted before their password is checked, so a burst
// of parallel wrong passwords from one IP for one account gets no more passwords checked than the per-(account,
// IP) threshold (10) — counting after the check let every one of them through — and afterwards the pair is
// blocked, the right password included.
func TestThrottlingHoldsUnderParallelAttempts(t *testing.T) {
	eachThrottleBackend(t, func(t *testing.T, f *throttleFixture) {
		const ip, burst = "203.0.113.9", 30
		page := testenv.Get(t, f.c, f.acme.URL("/login"), testenv.Header("X-Forwarded-For", ip))
		form := testenv.ParseForm(t, page.Body)
		form.Fields.Set("email", f.alice.Email)
		form.Fields.Set("password", "wrong-password-1")
		outs := testenv.Concurrently(burst, func(int) *http.Client { return f.c }, func(int) *http.Request {
			req := testenv.FormRequest(f.acme.URL("/login"), form.Fields)
			req.Header.Set("Origin", f.acme.Issuer)
			req.Header.Set("X-Forwarded-For", ip)
			for _, c := range f.c.Jar.Cookies(req.URL) {
				req.AddCookie(c)
			}
			return req
		})
		checked := 0
		for i, o := range outs {
			switch {
			case o.Err != nil:
				t.Fatal(o.Err)
			case o.Status == http.StatusUnauthorized:
				checked++
			case o.Status == http.StatusTooManyRequests:
			default:
				t.Errorf("attempt %d: status %d", i, o.Status)
			}
		}
		if checked > 10 {
			t.Fatalf("%d of %d parallel wrong passwords were checked, want at most the threshold (10)", checked, burst)
		}
		f.refused(t, ip, f.alice.Email, testenv.Password)
		f.signsIn(t, "203.0.113.10", f.alice.Email, testenv.Password)
	})
}
