package tickets

import (
	"fmt"
	"time"
)

// Mail kinds (the mail package's templates: mail.KindVerifyEmail, mail.KindPasswordReset).
const (
	KindVerifyEmail   = "verify_email"
	KindPasswordReset = "password_reset"
)

// Mail is one message to a user, before the mail package renders it with the tenant's templates and branding.
type Mail struct {
	// To is the user's stored address; Kind the template; Link the ticket's link.
	To, Kind, Link string
	// Expires says, for people, how long the link works ("24 hours").
	Expires string
}

// duration says d for people: "30 minutes", "24 hours", "5 days".
func duration(d time.Duration) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return unit(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	}
	return unit(int(d.Round(time.Minute)/time.Minute), "minute")
}
