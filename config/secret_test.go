package config_test

import (
	"strings"
	"testing"

	"github.com/authio/authio/config"
)

// TestValidateSecretKey: a missing secret key is reported as missing, with how to make one and the --dev way
// out; a short one as short; either alongside every other problem.
func TestValidateSecretKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		key     string
		want    []string
		notWant []string
	}{
		{name: "unset", key: "", want: []string{"AUTHIO_SECRET_KEY is not set", "at least 32 characters", "openssl rand", `"authio serve --dev"`},
			notWant: []string{"must be at least"}},
		{name: "short", key: "0123456789", want: []string{"AUTHIO_SECRET_KEY", "must be at least 32 characters"},
			notWant: []string{"not set", "--dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Defaults()
			c.SecretKey, c.PublicScheme = tc.key, "ftp"
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			msg := err.Error()
			for _, w := range append(tc.want, "ftp") { // the other problem is still reported
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("error %q mentions %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Count(msg, ";") != 1 {
				t.Errorf("error %q, want two problems on one line", msg)
			}
		})
	}
}
